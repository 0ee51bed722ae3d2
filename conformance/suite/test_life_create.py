"""LIFE: creating sessions — caller-chosen and server-assigned ids, faults, concurrency (spec/lifecycle.md)."""

from __future__ import annotations

import pytest

from conformance.suite._life_peer import session_handlers
from conformance.suite._support import assert_events_equal, assert_json_equal, expect_error

requirement = pytest.mark.requirement

EMPTY = {"sessions": [], "pending": 0}


def assert_ok(life, op, session_id, doing):
    got = life.result(op)
    assert_json_equal(got, {"state": "ok", "session_id": session_id}, f"the result of {doing}")


def assert_failed(life, op, doing):
    """Failed, whatever the kind: which kind is LIFE-026 … LIFE-030's question (test_life_failures.py)."""
    got = life.result(op)
    assert got.get("state") == "failed", f"{doing} must fail, but its result is {got}"


@requirement("LIFE-009")
def test_a_caller_chosen_id_is_routable_while_its_create_is_in_flight(life, peer):
    op = life.create("chosen")
    assert_json_equal(
        life.registry(), {"sessions": ["chosen"], "pending": 1}, "the registry right after create('chosen')"
    )
    routed = session_handlers(life)  # without session handlers, being registered is all there is to check
    if routed:
        life.subscribe("session", session_id="chosen")
    request = peer.only()
    assert request["method"] == "session.create", f"create sent {request['method']!r}"
    assert request["params"].get("sessionId") == "chosen", f"create('chosen') sent params {request['params']}"
    early = peer.event("session.updated", "chosen")
    peer.send(peer.created_for(request, "chosen"), early)
    if routed:
        assert len(life.events("session")) == 2, "events for the session that arrive before the reply must reach it"
    assert life.result(op) == {"state": "pending"}, "the create cannot be over before its reply"
    peer.send(peer.ok(request))
    assert_ok(life, op, "chosen", "create('chosen')")
    assert_json_equal(life.registry(), {"sessions": ["chosen"], "pending": 0}, "the registry after the reply")


@requirement("LIFE-010")
@pytest.mark.parametrize("event_first", [True, False], ids=["event-first", "reply-first"])
def test_a_reply_naming_another_id_fails_the_create_and_registers_neither(life, peer, event_first):
    op = life.create("mine")
    request = peer.only()
    messages = [peer.created_for(request, "theirs"), peer.ok(request, "theirs")]
    peer.send(*(messages if event_first else messages[::-1]))
    assert_failed(life, op, "create('mine') answered with sessionId 'theirs'")
    assert_json_equal(life.registry(), EMPTY, "the registry after a create answered with another id")
    for sid in ("mine", "theirs") if session_handlers(life) else ():
        with expect_error("not_found", f"subscribing to session {sid!r} after the create failed"):
            life.subscribe(f"probe-{sid}", session_id=sid)


@requirement("LIFE-011")
def test_a_server_assigned_id_is_registered_from_the_reply_only(life, peer):
    op = life.create()
    request = peer.only()
    assert "sessionId" not in request["params"], f"create() without an id must not propose one: {request['params']}"
    assert_json_equal(life.registry(), {"sessions": [], "pending": 1}, "the registry while create() is in flight")
    peer.send(peer.ok(request, "srv-77"))
    assert_ok(life, op, "srv-77", "create() answered with srv-77")
    assert_json_equal(life.registry(), {"sessions": ["srv-77"], "pending": 0}, "the registry after the reply")
    if session_handlers(life):
        life.subscribe("session", session_id="srv-77")
        update = peer.event("session.updated", "srv-77")
        peer.send(update)
        assert_events_equal(life.events("session"), [update["params"]], "events routed to the server-assigned id")


@requirement("LIFE-012")
@pytest.mark.parametrize("event_first", [True, False], ids=["event-first", "reply-first"])
def test_a_server_assigned_create_ends_the_same_in_either_order(life, peer, event_first):
    life.subscribe("all")
    op = life.create()
    request = peer.only()
    created, reply = peer.created_for(request, "srv-5"), peer.ok(request, "srv-5")
    peer.send(*([created, reply] if event_first else [reply, created]))
    assert_ok(life, op, "srv-5", f"create() with the {'event' if event_first else 'reply'} first")
    assert_json_equal(life.registry(), {"sessions": ["srv-5"], "pending": 0}, "the registry after both arrived")
    assert_events_equal(life.events("all"), [created["params"]], "what a wildcard handler received")


FAULTS = ["error", "no-id", "null-result", "timeout"]


@requirement("LIFE-013")
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("chosen", [True, False], ids=["caller-id", "server-id"])
def test_a_failed_create_leaves_nothing_behind_and_ignores_a_late_reply(life, peer, fault, chosen):
    op = life.create("doomed") if chosen else life.create()
    request = peer.only()
    if fault == "error":
        peer.send(peer.error(request))
    elif fault == "no-id":
        peer.send(peer.reply(request, {}))
    elif fault == "null-result":
        peer.send(peer.reply(request, None))
    else:
        life.timeout(op)
    assert_failed(life, op, f"create ({fault})")
    assert_json_equal(life.registry(), EMPTY, f"the registry after a create that failed ({fault})")
    peer.send(peer.ok(request, "doomed" if chosen else "srv-late"))
    assert_failed(life, op, f"create ({fault}) after a late successful reply")
    assert_json_equal(life.registry(), EMPTY, f"the registry after a late reply to a create that failed ({fault})")


@requirement("LIFE-014")
def test_concurrent_creates_each_take_their_own_reply(life, peer):
    ops = [life.create("a"), life.create(), life.create("b"), life.create()]
    requests = peer.pull()
    assert len(requests) == 4, f"four creates sent {len(requests)} requests"
    ids = [r["id"] for r in requests]
    assert len(set(map(repr, ids))) == 4, f"four requests in flight share ids: {ids}"
    assigned = {1: "srv-x", 3: "srv-y"}
    for index in (3, 0, 1, 2):  # replies in another order than the requests, events interleaved
        request = requests[index]
        sid = assigned.get(index) or request["params"]["sessionId"]
        reply, created = peer.ok(request, sid), peer.created_for(request, sid)
        # A server-assigned create gets its event first: whether a reply may overtake the event is
        # LIFE-012's question, not this one's.
        peer.send(*([created, reply] if index in assigned else [reply, created]))
    for index, expected in enumerate(["a", "srv-x", "b", "srv-y"]):
        assert_ok(life, ops[index], expected, f"create number {index + 1}")
    assert_json_equal(life.registry(), {"sessions": ["a", "b", "srv-x", "srv-y"], "pending": 0}, "the registry")


@requirement("LIFE-015")
def test_creating_a_registered_or_in_flight_id_fails_with_conflict_and_sends_nothing(life, peer):
    life.create("taken")
    peer.serve(peer.only())
    with expect_error("conflict", "create('taken') while 'taken' is registered"):
        life.create("taken")
    life.create("in-flight")
    peer.pull()
    with expect_error("conflict", "create('in-flight') while the first create of it is in flight"):
        life.create("in-flight")  # the call itself fails: no operation is started
    assert peer.pull() == [], "a create refused with conflict must send no request"
    registry = life.registry()
    assert registry["pending"] == 1, f"a create refused with conflict left a pending request: {registry}"
    assert "taken" in registry["sessions"], f"a create refused with conflict unregistered the session: {registry}"
