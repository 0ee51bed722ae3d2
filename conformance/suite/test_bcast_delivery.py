"""BCAST: subscribing, fan-out, order, copies, buffers and slow subscribers (spec/bcast.md)."""

from __future__ import annotations

import copy

import pytest

from conformance.errors import ImplementationError
from conformance.suite._bcast_support import bcast, event, holds, received
from conformance.suite._support import assert_json_equal, change_in_place, not_judged, show

__all__ = ["bcast"]  # the fixture, imported so that pytest finds it here

requirement = pytest.mark.requirement


@requirement("BCAST-001")
@pytest.mark.parametrize("buffer_size", ["absent", None, 4], ids=["default-buffer", "null-buffer", "buffer-4"])
def test_a_new_subscription_is_active_and_holds_nothing_published_before_it(bcast, buffer_size):
    bcast.subscribe("earlier", buffer_size=4)
    bcast.publish(event(1))
    # An explicit null buffer_size is valid and means what absence means (spec/contract.md).
    sub = bcast.subscribe("s1") if buffer_size == "absent" else bcast.subscribe("s1", buffer_size=buffer_size)
    events, ended = received(bcast, sub, "receive right after subscribe")
    assert ended is None, f"a new subscription has already ended as {ended!r}"
    assert events == [], f"a new subscription holds events published before it: {show(events)}"


@requirement("BCAST-002")
def test_every_active_subscription_receives_each_event_whatever_its_session_id(bcast):
    subs = {name: bcast.subscribe(sid, buffer_size=4) for name, sid in [("a", "a"), ("b", "b"), ("a-again", "a")]}
    bcast.publish(event(1))
    for name, sub in subs.items():
        events, _ = received(bcast, sub, f"receive on the subscription {name!r}")
        assert holds(events, event(1)), f"the subscription {name!r} did not receive the event: {show(events)}"


@requirement("BCAST-003")
def test_a_subscription_receives_events_in_publish_order(bcast):
    sub = bcast.subscribe("s1", buffer_size=8)
    published = [event(n) for n in range(1, 7)]
    seen = []
    for number, e in enumerate(published, start=1):
        bcast.publish(e)
        if number in (2, 5):
            seen += received(bcast, sub, f"receive after {number} events")[0]
    seen += received(bcast, sub, "the last receive")[0]
    # Where each event first arrived: a repeat is BCAST-004's, a missing event BCAST-002's.
    order = []
    for got in seen:
        position = next((i for i, e in enumerate(published) if e == got), None)
        if position is not None and position not in order:
            order.append(position)
    assert order == sorted(order), f"published events 1…6 in order, received them as {show(seen)}"


@requirement("BCAST-004")
def test_no_event_is_received_twice(bcast):
    sub = bcast.subscribe("s1", buffer_size=8)
    seen = []
    for n in range(1, 5):
        bcast.publish(event(n))
        seen += received(bcast, sub, f"receive after event {n}")[0]
    seen += received(bcast, sub, "a receive with nothing new")[0]
    repeated = [e for i, e in enumerate(seen) if e in seen[:i]]
    assert not repeated, f"received {show(repeated)} more than once: {show(seen)}"


EVENTS = {
    "no-params": {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"},
    "empty-params": {"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": {}},
    "nested-params": {
        "jsonrpc": "2.0",
        "method": "notifications/progress",
        "params": {"progressToken": "t-1", "progress": 0.5, "ok": True, "none": None, "list": [1, "two", {"3": []}]},
    },
    "unicode-method": {"jsonrpc": "2.0", "method": "notifications/é/\U0001f600", "params": {"text": "\u2028"}},
}


@requirement("BCAST-005")
def test_an_event_arrives_exactly_as_it_was_published(bcast):
    sub = bcast.subscribe("s1", buffer_size=8)
    for e in EVENTS.values():
        bcast.publish(e)
    events, _ = received(bcast, sub, "receive after publishing the events")
    for name, e in EVENTS.items():
        assert holds(events, e), f"the {name} event {show(e)} did not arrive as published; received {show(events)}"


#: Events of a mebibyte and more: a valid event is delivered whatever its size (BCAST-013), so each
#: has to arrive whole.  Texts mix characters of one to four UTF-8 bytes, so a cut at any count shows.
LARGE_EVENTS = {
    "one-mebibyte-string": {
        "jsonrpc": "2.0",
        "method": "notifications/message",
        "params": {"data": ("a\u00e9\u20ac\U0001f600" * 65_536)[: 2**20]},
    },
    "long-array": {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"rows": list(range(200_000))}},
}


@requirement("BCAST-005")
@pytest.mark.parametrize("name", list(LARGE_EVENTS))
def test_a_large_event_arrives_whole(bcast, name):
    sub = bcast.subscribe("s1", buffer_size=4)
    bcast.publish(copy.deepcopy(LARGE_EVENTS[name]))
    events, _ = received(bcast, sub, f"receive after publishing the {name} event")
    if len(events) != 1:  # that it arrives, once, is BCAST-002's and BCAST-004's; here only how it arrives
        not_judged("BCAST-002/BCAST-004", f"one event published, {len(events)} received")
    assert_json_equal(events[0], LARGE_EVENTS[name], f"the {name} event as received")


@requirement("BCAST-006")
def test_changing_a_published_event_changes_nothing_received(bcast):
    first, second = bcast.subscribe("a", buffer_size=4), bcast.subscribe("b", buffer_size=4)
    published = event(1, tags=["x"])
    bcast.publish(published)
    changes = [(["event", "params", "tags"], "append", "changed"), (["event", "method"], "set", "changed")]
    change_in_place(bcast.driver, "args", {"event": published}, changes, relies_on="BCAST-002")
    events, _ = received(bcast, first, "receive after the publisher changed its event")
    assert holds(events, event(1, tags=["x"])), f"the publisher's change reached a subscriber: {show(events)}"
    if not events or not isinstance(events[0], dict):
        return
    change_in_place(
        bcast.driver, "result", {"events": events}, [(["events", 0, "params", "n"], "set", 99)], "BCAST-005"
    )
    events, _ = received(bcast, second, "receive after another subscriber changed its copy")
    assert holds(events, event(1, tags=["x"])), f"one subscriber's change reached another: {show(events)}"


@requirement("BCAST-009")
@pytest.mark.parametrize("size", [1, 3])
def test_a_subscription_keeps_buffer_size_events_without_ending(bcast, size):
    sub = bcast.subscribe("s1", buffer_size=size)
    for n in range(1, size + 1):
        bcast.publish(event(n))
    events, ended = received(bcast, sub, f"receive after {size} events into a buffer of {size}")
    assert ended is None, f"a buffer of {size} ended as {ended!r} holding {size} events: {show(events)}"


@requirement("BCAST-011")
@pytest.mark.parametrize("given", ["absent", "null"])
def test_the_default_buffer_keeps_32_events(bcast, given):
    sub = bcast.subscribe("s1") if given == "absent" else bcast.subscribe("s1", buffer_size=None)
    for n in range(1, 33):
        bcast.publish(event(n))
    _, ended = received(bcast, sub, f"receive after 32 events into the default buffer (buffer_size {given})")
    assert ended is None, f"the default buffer ended as {ended!r} before it held 32 events"


@requirement("BCAST-012")
def test_a_full_subscription_ends_as_dropped_keeping_what_it_held(bcast):
    sub = bcast.subscribe("slow", buffer_size=2)
    bcast.subscribe("listening", buffer_size=8)
    for n in (1, 2, 3):
        bcast.publish(event(n))
    events, ended = received(bcast, sub, "receive after a third event into a buffer of 2")
    assert ended == "dropped", f"the full subscription's end is {ended!r}, expected 'dropped'"
    assert holds(events, event(1)) and holds(events, event(2)), f"a dropped subscription lost what it held: {events}"
    assert not holds(events, event(3)), f"the event that found the buffer full was delivered: {show(events)}"
    bcast.publish(event(4))
    events, ended = received(bcast, sub, "receive after one more event")
    assert ended == "dropped" and not holds(events, event(4)), f"a dropped subscription got {show(events)}, {ended!r}"


@requirement("BCAST-013")
def test_a_full_subscription_costs_the_others_nothing(bcast):
    bcast.subscribe("slow", buffer_size=1)
    others = [bcast.subscribe("fast", buffer_size=4), bcast.subscribe("fast-2", buffer_size=4)]
    bcast.publish(event(1))
    bcast.publish(event(2))  # finds "slow" full
    for sub in others:
        events, ended = received(bcast, sub, "receive on a subscription with room")
        assert holds(events, event(2)), f"the event that overflowed another subscription missed this one: {events}"
        assert ended is None, f"dropping another subscription ended this one as {ended!r}"


@requirement("BCAST-014")
def test_publish_succeeds_whatever_the_subscribers_do(bcast):
    assert bcast.publish(event(1)) is None, "publish with no subscription did not return null"
    bcast.subscribe("full", buffer_size=1)
    gone = bcast.subscribe("gone", buffer_size=4)
    bcast.cancel(gone)
    answers = [bcast.publish(event(n)) for n in (2, 3, 4)]  # the first fills "full"; the others find it full or ended
    assert answers == [None, None, None], f"publish answered {show(answers)}, expected null each time"


@requirement("BCAST-015")
def test_receive_frees_the_room_its_events_took(bcast):
    sub = bcast.subscribe("s1", buffer_size=2)
    for rounds in range(3):
        bcast.publish(event(2 * rounds + 1))
        bcast.publish(event(2 * rounds + 2))
        _, ended = received(bcast, sub, f"receive in round {rounds + 1}")
        assert ended is None, f"a subscriber that received every 2 events of a buffer of 2 ended as {ended!r}"


@requirement("BCAST-025")
def test_concurrent_publishes_each_reach_every_subscription_once(bcast):
    subs = [bcast.subscribe("a", buffer_size=32), bcast.subscribe("b", buffer_size=32)]
    published = [event(n) for n in range(1, 13)]
    results = bcast.driver.concurrently([("bcast.publish", {"event": e}) for e in published])
    failed = [r for r in results if isinstance(r, ImplementationError)]
    assert not failed, f"a concurrent publish failed: {failed[0]}" if failed else ""
    for number, sub in enumerate(subs, start=1):
        events, _ = received(bcast, sub, f"receive on subscription {number} after 12 concurrent publishes")
        counts = {e["params"]["n"]: sum(1 for got in events if got == e) for e in published}
        wrong = {n: c for n, c in counts.items() if c != 1}
        assert not wrong, f"subscription {number} received these events (n: times) other than once: {wrong}"
