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
