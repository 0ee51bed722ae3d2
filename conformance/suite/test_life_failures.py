"""LIFE: how operations fail — the error kind of each failure, and calls with several faults (spec/lifecycle.md).

Each test here judges the kind only: what the registry looks like after a failure belongs to
LIFE-010, LIFE-013, LIFE-017, LIFE-025 and LIFE-030.  Where a requirement here speaks of a failure
that another requirement demands (a reply naming another id fails the create: LIFE-010), an
implementation that does not fail at all is not judged here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from conformance.errors import ImplementationError
from conformance.suite._life_peer import session_handlers
from conformance.suite._support import assert_events_equal, assert_json_equal, not_judged, show

if TYPE_CHECKING:
    from collections.abc import Callable

requirement = pytest.mark.requirement


def active(life, peer, session_id):
    """A session created through a healthy server."""
    life.create(session_id)
    peer.serve(peer.only())


#: Operations that can fail, each started on a fresh client: (op, request, what it was).
STARTS: dict[str, Callable[[Any, Any], str]] = {
    "create-with-id": lambda life, peer: life.create("fresh"),
    "create-server-id": lambda life, peer: life.create(),
    "resume-active": lambda life, peer: (active(life, peer, "a"), life.resume("a"))[1],
    "resume-dormant": lambda life, peer: life.resume("dormant"),
    "delete": lambda life, peer: (active(life, peer, "a"), life.delete("a"))[1],
}
PROPOSING = ["create-with-id", "resume-active", "resume-dormant"]
NAMING = ["create-with-id", "create-server-id", "resume-active", "resume-dormant"]


def start(life, peer, what):
    op = STARTS[what](life, peer)
    return op, peer.only()


def assert_kind(life, op, kind, doing, *, relies_on: str | None = None):
    got = life.result(op)
    if got.get("state") != "failed":
        if relies_on is not None:
            not_judged(relies_on, f"{doing} did not fail: {show(got)}")
        pytest.fail(f"{doing} must fail with {kind!r}, but its result is {show(got)}", pytrace=False)
    if got.get("error") != kind:
        pytest.fail(f"{doing} failed with {got.get('error')!r}, not {kind!r}: {show(got)}", pytrace=False)


@requirement("LIFE-026")
@pytest.mark.parametrize("what", list(STARTS))
def test_an_error_reply_fails_the_operation_with_failed_precondition(life, peer, what):
    op, request = start(life, peer, what)
    peer.send(peer.error(request))
    assert_kind(life, op, "failed_precondition", f"{what} answered with an error")


@requirement("LIFE-027")
@pytest.mark.parametrize("what", list(STARTS))
def test_a_timeout_fails_the_operation_with_unavailable(life, peer, what):
    op, _ = start(life, peer, what)
    life.timeout(op)
    assert_kind(life, op, "unavailable", f"{what} whose timer fired")


@requirement("LIFE-028")
@pytest.mark.parametrize("what", PROPOSING)
def test_a_reply_naming_another_id_fails_with_conflict(life, peer, what):
    op, request = start(life, peer, what)
    peer.send(peer.ok(request, "someone-else"))
    relies_on = "LIFE-010" if what.startswith("create") else "LIFE-025"
    assert_kind(life, op, "conflict", f"{what} answered with sessionId 'someone-else'", relies_on=relies_on)


NO_SESSION = {
    "empty result": {},
    "null result": None,
    "result not an object": "fresh",
    "empty sessionId": {"sessionId": ""},
    "sessionId not a string": {"sessionId": 7},
}


@requirement("LIFE-029")
@pytest.mark.parametrize("label", list(NO_SESSION))
@pytest.mark.parametrize("what", NAMING)
def test_a_result_naming_no_session_fails_with_failed_precondition(life, peer, what, label):
    op, request = start(life, peer, what)
    peer.send(peer.reply(request, NO_SESSION[label]))
    assert_kind(life, op, "failed_precondition", f"{what} answered with {label}")


@requirement("LIFE-030")
def test_a_server_assigned_id_already_registered_fails_with_conflict(life, peer):
    active(life, peer, "a")
    routed = session_handlers(life)
    if routed:
        life.subscribe("session-a", session_id="a")
    op = life.create()
    request = peer.only()
    peer.send(peer.ok(request, "a"))
    assert_kind(life, op, "conflict", "create() answered with sessionId 'a', which is registered")
    assert_json_equal(life.registry(), {"sessions": ["a"], "pending": 0}, "the registry after the refused create")
    if routed:
        update = peer.event("session.updated", "a")
        peer.send(update)
        assert_events_equal(life.events("session-a"), [update["params"]], "the registered session's handler afterwards")


def kind_of(call: Callable[[], Any]) -> str | None:
    """The error kind a call fails with, or None when it succeeds; a crash stays a crash."""
    try:
        call()
    except ImplementationError as exc:
        if exc.kind == "internal":
            raise
        return exc.kind
    return None


@requirement("LIFE-032")
def test_a_subscribe_with_several_faults_reports_the_first_in_contract_precedence(life, peer):
    active(life, peer, "a")
    life.subscribe("taken")
    routed = session_handlers(life)  # the not_found cases need a subscription to one session
    alone = {
        "invalid_argument": kind_of(lambda: life.subscribe("fresh-1", "sing")),
        "conflict": kind_of(lambda: life.subscribe("taken")),
    }
    if routed:
        alone["not_found"] = kind_of(lambda: life.subscribe("fresh-2", session_id="nowhere"))
    odd = {expected: got for expected, got in alone.items() if got != expected}
    if odd:
        not_judged("the life.subscribe contract (spec/lifecycle.md § How the kit tests a client)", f"alone: {odd}")
    got = kind_of(lambda: life.subscribe("taken", "sing"))
    assert got == "invalid_argument", f"subscribe with a taken name and an invalid behaviour failed with {got!r}"
    if routed:
        got = kind_of(lambda: life.subscribe("taken", session_id="nowhere"))
        assert got == "not_found", f"subscribe with a taken name to an unregistered session failed with {got!r}"
        got = kind_of(lambda: life.subscribe("taken", "sing", session_id="nowhere"))
        assert got == "invalid_argument", f"subscribe with three faults (behaviour first) failed with {got!r}"


#: Arguments of life.subscribe that are malformed on their own (LIFE-036): each replaces one of handler "h",
#: behaviour "record", no session_id, no event_type.
MALFORMED_SUBSCRIBE: dict[str, dict[str, Any]] = {
    "an empty handler name": {"handler": ""},
    "a numeric handler name": {"handler": 42},
    "a null handler name": {"handler": None},
    "behaviour 'sing'": {"behaviour": "sing"},
    "an empty event_type": {"event_type": ""},
    "a numeric event_type": {"event_type": 7},
}
MALFORMED_SESSION: dict[str, dict[str, Any]] = {
    "an empty session_id": {"session_id": ""},
    "an array as session_id": {"session_id": ["a"]},
}


@requirement("LIFE-036")
@pytest.mark.parametrize("label", [*MALFORMED_SUBSCRIBE, *MALFORMED_SESSION])
def test_a_subscribe_with_a_malformed_argument_fails_with_invalid_argument_and_subscribes_nothing(life, peer, label):
    if label in MALFORMED_SESSION and not session_handlers(life):
        return  # the kit never sends session_id to a client without session handlers (§ Session handlers)
    bad = {**MALFORMED_SUBSCRIBE, **MALFORMED_SESSION}[label]
    args: dict[str, Any] = {"handler": "h", "behaviour": "record", **bad}
    got = kind_of(lambda: life.subscribe(args.pop("handler"), args.pop("behaviour"), **args))
    assert got == "invalid_argument", f"life.subscribe with {label} failed with {got!r}, not 'invalid_argument'"
    peer.send(peer.event("session.updated", "a"))
    assert_json_equal(life.events(), [], f"what any handler received after the refused subscribe with {label}")


@requirement("LIFE-036")
def test_a_subscribe_under_a_taken_name_or_to_an_unregistered_session_is_refused(life, peer):
    life.subscribe("taken")
    got = kind_of(lambda: life.subscribe("taken", "raise"))
    assert got == "conflict", f"a second life.subscribe under the name 'taken' failed with {got!r}, not 'conflict'"
    if session_handlers(life):
        got = kind_of(lambda: life.subscribe("fresh", session_id="nowhere"))
        assert got == "not_found", f"life.subscribe to the unregistered session 'nowhere' failed with {got!r}"
    update = peer.event("session.updated", "nowhere")
    peer.send(update)
    assert_events_equal(life.events(), [{"handler": "taken", "event": update["params"]}], "every delivery")


@requirement("LIFE-037")
@pytest.mark.parametrize("bad", ["", 42, None, ["op"]], ids=["empty", "number", "null", "array"])
def test_result_and_timeout_of_a_malformed_operation_reference_fail_with_invalid_argument(life, peer, bad):
    life.create("a")  # one operation exists
    calls: dict[str, Callable[[], Any]] = {
        "life.result": lambda: life.result(bad),
        "life.timeout": lambda: life.timeout(bad),
    }
    for name, call in calls.items():
        got = kind_of(call)
        assert got == "invalid_argument", f"{name} of the op {bad!r} failed with {got!r}, not 'invalid_argument'"


@requirement("LIFE-037")
@pytest.mark.parametrize("name", ["life.result", "life.timeout"])
def test_an_operation_never_started_is_not_found(life, peer, name):
    op = life.create("a")
    never = f"{op}-never-returned"
    call = {"life.result": life.result, "life.timeout": life.timeout}[name]
    got = kind_of(lambda: call(never))
    assert got == "not_found", f"{name} of an op the client never returned failed with {got!r}, not 'not_found'"
