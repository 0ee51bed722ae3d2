"""LIFE: resume, delete, and replies that match nothing (spec/lifecycle.md)."""

from __future__ import annotations

import pytest

from conformance.suite._life_peer import session_handlers
from conformance.suite._support import assert_events_equal, assert_json_equal, events_equal, expect_error

requirement = pytest.mark.requirement


def active(life, peer, session_id):
    """Create ``session_id`` through a healthy server and subscribe a handler named ``session-<id>`` to it.

    Without ``life.session-handlers`` nothing is subscribed, and the tests leave out what they would
    have observed through that handler (a client without session handlers has none to get wrong).
    """
    op = life.create(session_id)
    peer.serve(peer.only())
    assert life.result(op).get("state") == "ok", f"create({session_id!r}) served normally: {life.result(op)}"
    if session_handlers(life):
        life.subscribe(f"session-{session_id}", session_id=session_id)


@requirement("LIFE-016")
def test_resuming_an_active_session_keeps_one_entry_and_single_delivery(life, peer):
    active(life, peer, "a")
    for attempt in (1, 2):
        op = life.resume("a")
        request = peer.only()
        assert request["method"] == "session.resume", f"resume sent {request['method']!r}"
        assert request["params"].get("sessionId") == "a", f"resume('a') sent params {request['params']}"
        during = peer.event("session.updated", "a")
        peer.send(during, peer.ok(request))
        assert_json_equal(life.result(op), {"state": "ok", "session_id": "a"}, f"resume number {attempt}")
    after = peer.event("session.background", "a")
    peer.send(after)
    if session_handlers(life):
        got = life.events("session-a")
        assert len(got) == 3, f"three events after two resumes reached the session's handler {len(got)} times: {got}"
    assert_json_equal(life.registry(), {"sessions": ["a"], "pending": 0}, "the registry after two resumes")


@requirement("LIFE-017")
@pytest.mark.parametrize("fault", ["error", "timeout"])
def test_a_failed_resume_leaves_the_registry_as_it_was(life, peer, fault):
    active(life, peer, "a")
    op_active, op_dormant = life.resume("a"), life.resume("dormant")
    requests = peer.pull()
    for request, op in zip(requests, (op_active, op_dormant), strict=True):
        if fault == "error":
            peer.send(peer.error(request, "no such session on this server"))
        else:
            life.timeout(op)
        assert life.result(op).get("state") == "failed", f"resume ({fault}) must fail: {life.result(op)}"
    assert_json_equal(
        life.registry(), {"sessions": ["a"], "pending": 0}, f"the registry after two failed resumes ({fault})"
    )
    if session_handlers(life):
        update = peer.event("session.updated", "a")
        peer.send(update)
        assert_events_equal(
            life.events("session-a"), [update["params"]], "the active session's handler after its failed resume"
        )


@requirement("LIFE-018")
def test_delete_removes_the_entry_only_when_the_server_confirms(life, peer):
    active(life, peer, "a")
    life.subscribe("all")
    refused = life.delete("a")
    request = peer.only()
    assert (request["method"], request["params"].get("sessionId")) == ("session.delete", "a"), f"delete sent {request}"
    assert life.sessions() == ["a"], "a session stays registered while its delete is in flight"
    peer.send(peer.event("session.updated", "a"), peer.error(request))
    assert life.result(refused).get("state") == "failed", f"a refused delete must fail: {life.result(refused)}"
    assert life.sessions() == ["a"], "a session stays registered when the server refuses to delete it"
    routed = session_handlers(life)
    assert not routed or len(life.events("session-a")) == 1, "events still reach a session whose delete is in flight"
    confirmed = life.delete("a")
    request = peer.only()
    peer.send(peer.event("session.deleted", "a"))
    assert life.sessions() == ["a"], "the deleted event alone does not end the entry; the reply does"
    peer.send(peer.ok(request))
    assert_json_equal(life.result(confirmed), {"state": "ok", "session_id": "a"}, "the result of a confirmed delete")
    assert_json_equal(life.registry(), {"sessions": [], "pending": 0}, "the registry after a confirmed delete")
    late = peer.event("session.updated", "a")
    peer.send(late)
    assert not routed or len(life.events("session-a")) == 2, "nothing reaches a deleted session's handler"
    assert events_equal(life.events("all")[-1], late["params"]), (
        "a wildcard handler still sees events for the deleted id"
    )


@requirement("LIFE-019")
def test_duplicate_and_unexpected_replies_change_nothing(life, peer):
    life.create("a")
    first = peer.only()
    ok = peer.ok(first)
    peer.send(ok)
    delete_op = life.delete("a")
    delete_request = peer.only()
    peer.send(peer.error(delete_request))
    strays = [
        ok,  # a duplicate of a reply already handled
        peer.error(first),  # an error for a request that already succeeded
        peer.ok(delete_request),  # a success for a request that already failed
        {"jsonrpc": "2.0", "id": 99999, "result": {"sessionId": "stray"}},
        {"jsonrpc": "2.0", "id": "no-such-request", "error": {"code": 1, "message": "stray"}},
        {"jsonrpc": "2.0", "id": None, "result": {"sessionId": "stray"}},
    ]
    peer.send(*strays)
    assert life.result(delete_op).get("state") == "failed", "a late success does not revive a failed delete"
    assert_json_equal(life.registry(), {"sessions": ["a"], "pending": 0}, "the registry after stray replies")
    op = life.create()
    request = peer.only()
    peer.send(peer.ok(request, "srv-9"))
    # How the first reply ends the create is LIFE-011's and LIFE-012's; the second must change nothing.
    result, registry = life.result(op), life.registry()
    peer.send(peer.ok(request, "srv-10"))
    assert_json_equal(life.result(op), result, "a create answered twice keeps the result of the first reply")
    assert_json_equal(life.registry(), registry, "the registry after a duplicated reply")


@requirement("LIFE-024")
def test_resuming_an_unregistered_id_registers_it_while_in_flight(life, peer):
    op = life.resume("dormant")
    assert_json_equal(
        life.registry(), {"sessions": ["dormant"], "pending": 1}, "the registry right after resume('dormant')"
    )
    routed = session_handlers(life)
    if routed:
        life.subscribe("session", session_id="dormant")
    request = peer.only()
    assert (request["method"], request["params"].get("sessionId")) == ("session.resume", "dormant"), (
        f"resume('dormant') sent {request}"
    )
    early = peer.event("session.updated", "dormant")
    peer.send(early)
    if routed:
        assert_events_equal(life.events("session"), [early["params"]], "an event for the session before the reply")
    peer.send(peer.ok(request))
    assert_json_equal(life.result(op), {"state": "ok", "session_id": "dormant"}, "the result of resume('dormant')")
    assert_json_equal(life.registry(), {"sessions": ["dormant"], "pending": 0}, "the registry after the reply")


@requirement("LIFE-025")
def test_a_resume_answered_with_another_id_fails_and_leaves_the_registry_as_it_was(life, peer):
    active(life, peer, "a")
    op_active, op_dormant = life.resume("a"), life.resume("dormant")
    for request in peer.pull():
        peer.send(peer.ok(request, "someone-else"))
    for op, doing in ((op_active, "resume('a')"), (op_dormant, "resume('dormant')")):
        got = life.result(op)
        assert got.get("state") == "failed", f"{doing} answered with another id must fail: {got}"
    assert_json_equal(
        life.registry(), {"sessions": ["a"], "pending": 0}, "the registry after two resumes answered with another id"
    )
    if session_handlers(life):
        update = peer.event("session.updated", "a")
        peer.send(update)
        assert_events_equal(life.events("session-a"), [update["params"]], "the active session's handler afterwards")


@requirement("LIFE-031")
@pytest.mark.parametrize("answer", ["ok", "error"])
def test_deleting_an_unregistered_id_sends_the_request_and_registers_nothing(life, peer, answer):
    op = life.delete("elsewhere")
    request = peer.only()
    assert (request["method"], request["params"].get("sessionId")) == ("session.delete", "elsewhere"), (
        f"delete('elsewhere') sent {request}"
    )
    assert_json_equal(life.registry(), {"sessions": [], "pending": 1}, "the registry while the delete is in flight")
    peer.send(peer.ok(request) if answer == "ok" else peer.error(request))
    got = life.result(op)
    if answer == "ok":
        assert_json_equal(got, {"state": "ok", "session_id": "elsewhere"}, "the result of a confirmed delete")
    else:
        assert got.get("state") == "failed", f"a refused delete must fail: {got}"
    assert_json_equal(life.registry(), {"sessions": [], "pending": 0}, f"the registry after the {answer} reply")


NOT_A_SESSION_ID = {"empty": "", "integer": 42, "boolean": True, "array": ["a"], "object": {"sessionId": "a"}}
#: ``null`` is "none given" for create (the server assigns the id), and not an id for resume and delete.
MALFORMED_ID_CALLS = [
    (op, bad)
    for op in ("create", "resume", "delete")
    for bad in [*NOT_A_SESSION_ID, "null"]
    if (op, bad) != ("create", "null")
]


@requirement("LIFE-035")
@pytest.mark.parametrize(("op", "bad"), MALFORMED_ID_CALLS, ids=[f"{op}-{bad}" for op, bad in MALFORMED_ID_CALLS])
def test_a_session_id_that_is_not_a_non_empty_string_is_rejected_before_anything_is_sent(life, peer, op, bad):
    value = None if bad == "null" else NOT_A_SESSION_ID[bad]
    before = life.registry()
    with expect_error("invalid_argument", f"life.{op} with session_id {value!r}"):
        getattr(life, op)(value)
    sent = peer.pull()
    assert sent == [], f"life.{op} with session_id {value!r} was refused, but only after sending {sent}"
    assert_json_equal(life.registry(), before, f"the registry after life.{op} with session_id {value!r}")
