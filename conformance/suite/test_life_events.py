"""LIFE: what handlers receive — the envelope, unknown types, malformed notifications, order (spec/lifecycle.md)."""

from __future__ import annotations

import pytest

from conformance._values import json_equal
from conformance.suite._life_peer import event, notification, session_handlers
from conformance.suite._support import COLLIDING_IDS, assert_events_equal, not_judged

requirement = pytest.mark.requirement

META = {"startTime": "2026-01-01T00:00:00.000Z", "modifiedTime": "2026-01-01T00:00:00.250Z"}


def active(life, peer, session_id):
    """A session created through a healthy server, so that handlers can subscribe to it."""
    life.create(session_id)
    peer.serve(peer.only())


def handlers_of(deliveries):
    return [d["handler"] for d in deliveries]


@requirement("LIFE-001")
def test_handlers_receive_every_event_envelope_unchanged(life, peer):
    life.subscribe("all")
    sent = [
        event("session.created", "a", step=1, clientSessionId="a"),
        event("session.updated", "a", step=2, metadata={**META, "summary": "Refund for order 7"}),
        event("session.foreground", "a", step=3, **{"x-vendor": {"region": ["eu", 1]}}),
        event("session.background", "a", step=4),
        event("session.renamed", "a", step=5),  # an unknown type is a valid event too (LIFE-002)
        event("session.deleted", "a"),
    ]
    for params in sent:
        peer.send(notification(params))
    # The metadata times are compared as instants: LIFE-001 keeps the instant, not its spelling.
    assert_events_equal(life.events("all"), sent, "the envelopes a wildcard handler received")


@requirement("LIFE-002")
def test_an_unknown_event_type_reaches_wildcard_handlers_with_its_own_type(life, peer):
    life.subscribe("all")
    life.subscribe("updates", event_type="session.updated")
    unknown = [
        {"type": "session.renamed", "sessionId": "a", "metadata": META},
        {"type": "session.archived", "sessionId": "a"},
    ]
    for params in unknown:
        peer.send(notification(params))
    assert_events_equal(life.events("all"), unknown, "a wildcard handler after two events of unknown types")
    assert_events_equal(life.events("updates"), [], "a session.updated handler after two events of unknown types")
    peer.send(peer.event("session.updated", "a"))
    assert len(life.events("updates")) == 1, "a known event after unknown ones must still reach its typed handler"


MALFORMED = {
    "not an object": "session.created",
    "params not an object": notification(["session.created", "a"]),
    "no params": {"jsonrpc": "2.0", "method": "session.lifecycle"},
    "no type": notification({"sessionId": "a", "metadata": META}),
    "type not a string": notification({"type": 7, "sessionId": "a", "metadata": META}),
    "no sessionId": notification({"type": "session.updated", "metadata": META}),
    "empty sessionId": notification({"type": "session.updated", "sessionId": "", "metadata": META}),
    "sessionId not a string": notification({"type": "session.updated", "sessionId": 42, "metadata": META}),
    "created without metadata": notification({"type": "session.created", "sessionId": "a"}),
    "metadata without timestamps": notification(
        {"type": "session.updated", "sessionId": "a", "metadata": {"summary": "x"}}
    ),
    "timestamp not RFC 3339": notification(
        {"type": "session.updated", "sessionId": "a", "metadata": {**META, "startTime": "yesterday"}}
    ),
    "summary not a string": notification(
        {"type": "session.updated", "sessionId": "a", "metadata": {**META, "summary": 7}}
    ),
    "deleted with metadata": notification({"type": "session.deleted", "sessionId": "a", "metadata": META}),
    "clientSessionId on updated": notification(
        {"type": "session.updated", "sessionId": "a", "metadata": META, "clientSessionId": "a"}
    ),
}


@requirement("LIFE-003")
@pytest.mark.parametrize("label", list(MALFORMED))
def test_a_malformed_notification_is_dropped_and_the_client_keeps_working(life, peer, label):
    life.subscribe("all")
    peer.send(MALFORMED[label])  # an error raised here is a crash inside the notification handler
    assert_events_equal(life.events("all"), [], f"what a handler received for a malformed notification ({label})")
    good = peer.event("session.updated", "a")
    peer.send(good)
    assert_events_equal(life.events("all"), [good["params"]], f"a valid event delivered after one with {label}")


@requirement("LIFE-004")
def test_every_dropped_notification_is_reported(life, peer):
    life.subscribe("all")
    before = len(life.diagnostics())
    dropped = 0
    for label, message in MALFORMED.items():
        seen = len(life.events("all"))
        peer.send(message)
        if len(life.events("all")) > seen:
            continue  # passed to a handler, not dropped: that is LIFE-003's failure, and no report is owed
        dropped += 1
        reported = len(life.diagnostics()) - before
        assert reported >= dropped, f"{dropped} malformed notifications dropped (last: {label}), {reported} reported"
    if not dropped:
        not_judged("LIFE-003", "the client passed every malformed notification to a handler, so it dropped none")
    text = life.diagnostics()
    assert all(isinstance(line, str) and line.strip() for line in text), f"reports must be non-empty strings: {text}"


@requirement("LIFE-004")
def test_every_dropped_reply_is_reported(life, peer):
    life.create("a")
    first = peer.only()
    peer.send(peer.ok(first))
    registry = life.registry()
    strays = {
        "a duplicate of a reply already handled": peer.ok(first),
        "an error for a request that already succeeded": peer.error(first),
        "a reply to an id never sent": {"jsonrpc": "2.0", "id": 99999, "result": {"sessionId": "stray"}},
        "an error to a string id never sent": {"jsonrpc": "2.0", "id": "nope", "error": {"code": 1, "message": "x"}},
    }
    for label, message in strays.items():
        before = len(life.diagnostics())
        peer.send(message)
        if not json_equal(life.registry(), registry):
            not_judged("LIFE-019", f"the client acted on {label} instead of dropping it")
        assert len(life.diagnostics()) > before, f"the client dropped {label} without reporting it"


@requirement("LIFE-004")
def test_a_dropped_notification_of_an_unknown_method_is_reported(life, peer):
    life.subscribe("all")
    before = len(life.diagnostics())
    peer.send({"jsonrpc": "2.0", "method": "session.renamed", "params": event("session.updated", "a")})
    if life.events("all"):
        return  # acted on, not dropped: no report is owed (what a client does with it is not judged here)
    reported = len(life.diagnostics()) - before
    assert reported > 0, "the client dropped a notification of an unknown method without reporting it"


@requirement("LIFE-005")
def test_a_raising_handler_does_not_stop_the_others(life, peer):
    for name, behaviour in [("first", "raise"), ("second", "record"), ("third", "raise"), ("fourth", "record")]:
        life.subscribe(name, behaviour)
    one, two = peer.event("session.updated", "a"), peer.event("session.background", "a")
    peer.send(one, two)
    for name in ("first", "second", "third", "fourth"):
        assert_events_equal(life.events(name), [one["params"], two["params"]], f"events of handler {name!r}")


@requirement("LIFE-006")
def test_handlers_are_called_in_subscription_order(life, peer):
    active(life, peer, "a")
    life.subscribe("wildcard-1")
    life.subscribe("typed", event_type="session.updated")
    order = ["wildcard-1", "typed", "session-a", "wildcard-2"]
    if session_handlers(life):
        life.subscribe("session-a", session_id="a")
    else:
        order.remove("session-a")
    life.subscribe("wildcard-2")
    peer.send(peer.event("session.updated", "a"))
    assert handlers_of(life.events()) == order, (
        f"one event reached the handlers in the order {handlers_of(life.events())}, not the order they subscribed in"
    )


@requirement("LIFE-007")
def test_an_unsubscribed_handler_receives_nothing_more(life, peer):
    active(life, peer, "a")
    names = ["wildcard", "session-a", "typed"] if session_handlers(life) else ["wildcard", "typed"]
    life.subscribe("wildcard")
    if "session-a" in names:
        life.subscribe("session-a", session_id="a")
    life.subscribe("typed", event_type="session.updated")
    life.subscribe("keeper")
    first, second = peer.event("session.updated", "a"), peer.event("session.updated", "a")
    peer.send(first)
    for name in names:
        life.unsubscribe(name)
    peer.send(second)
    for name in names:
        assert_events_equal(life.events(name), [first["params"]], f"events of {name!r}, unsubscribed after the first")
    assert_events_equal(
        life.events("keeper"), [first["params"], second["params"]], "events of a handler still subscribed"
    )


@requirement("LIFE-008")
def test_events_for_unknown_sessions_reach_no_other_session(life, peer):
    active(life, peer, "a")
    own_handler = session_handlers(life)  # without session handlers, there is none to reach
    if own_handler:
        life.subscribe("session-a", session_id="a")
    life.subscribe("all")
    ghosts = [
        peer.event("session.updated", "ghost"),
        peer.event("session.created", "ghost-2"),
        peer.event("session.deleted", "ghost"),
    ]
    peer.send(*ghosts)
    if own_handler:
        assert_events_equal(life.events("session-a"), [], "a handler of session a after events for unknown sessions")
    assert_events_equal(
        life.events("all"), [g["params"] for g in ghosts], "a wildcard handler receives every valid event"
    )
    assert life.sessions() == ["a"], f"events alone registered sessions: {life.sessions()}"
    if own_handler:
        own = peer.event("session.updated", "a")
        peer.send(own)
        assert_events_equal(life.events("session-a"), [own["params"]], "a handler of session a after an event for a")


@requirement("LIFE-034")
def test_session_handlers_receive_their_own_sessions_events_only(life, peer):
    for sid in ("a", "ab", "b"):
        active(life, peer, sid)
    life.subscribe("a-1", session_id="a")
    life.subscribe("a-2", session_id="a")
    life.subscribe("ab", session_id="ab")
    life.subscribe("b-updates", session_id="b", event_type="session.updated")
    sent = {sid: peer.event("session.updated", sid) for sid in ("a", "ab", "b")}
    peer.send(*sent.values())
    for name, sid in (("a-1", "a"), ("a-2", "a"), ("ab", "ab"), ("b-updates", "b")):
        assert_events_equal(life.events(name), [sent[sid]["params"]], f"the events of {name!r}, subscribed to {sid!r}")


@requirement("LIFE-034")
@pytest.mark.parametrize("name", list(COLLIDING_IDS))
def test_sessions_whose_ids_differ_in_one_code_point_each_get_their_own_events(life, peer, name):
    first, second = COLLIDING_IDS[name]
    # Both sessions registered, a handler on each, an event for each: each handler gets its own only.
    for sid in (first, second):
        active(life, peer, sid)
    life.subscribe("first", session_id=first)
    life.subscribe("second", session_id=second)
    sent = {sid: peer.event("session.updated", sid) for sid in (first, second)}
    peer.send(*sent.values())
    for handler, sid in (("first", first), ("second", second)):
        assert_events_equal(
            life.events(handler),
            [sent[sid]["params"]],
            f"the events of the handler of the {handler} of the {name} pair",
        )
