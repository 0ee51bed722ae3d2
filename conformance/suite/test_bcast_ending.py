"""BCAST: cancel, subscriber_count and close (spec/bcast.md)."""

from __future__ import annotations

import pytest

from conformance.suite._bcast_support import bcast, event, holds, received
from conformance.suite._support import expect_error, not_judged, show

__all__ = ["bcast"]  # the fixture, imported so that pytest finds it here

requirement = pytest.mark.requirement


@requirement("BCAST-016")
def test_cancel_ends_a_subscription_that_then_receives_nothing(bcast):
    sub = bcast.subscribe("s1", buffer_size=4)
    bcast.subscribe("listening", buffer_size=4)
    bcast.cancel(sub)
    bcast.publish(event(1))
    events, ended = received(bcast, sub, "receive after cancel and a publish")
    assert ended == "cancelled", f"a cancelled subscription's end is {ended!r}, expected 'cancelled'"
    assert not holds(events, event(1)), f"an event published after cancel reached the subscription: {show(events)}"


@requirement("BCAST-017")
def test_cancel_of_an_ended_subscription_succeeds_and_keeps_its_reason(bcast):
    subs = {"cancelled": bcast.subscribe("a", buffer_size=4), "dropped": bcast.subscribe("b", buffer_size=1)}
    bcast.cancel(subs["cancelled"])
    bcast.publish(event(1))
    bcast.publish(event(2))  # finds "b" full
    ends = {name: received(bcast, sub, f"receive on the {name} subscription")[1] for name, sub in subs.items()}
    for sub in subs.values():
        bcast.cancel(sub)
    after = {
        name: received(bcast, sub, f"receive on the {name} subscription after cancel")[1] for name, sub in subs.items()
    }
    subs["closed"] = bcast.subscribe("c", buffer_size=4)
    bcast.close()
    ends["closed"] = received(bcast, subs["closed"], "receive on a subscription after close")[1]
    bcast.cancel(subs["closed"])
    after["closed"] = received(bcast, subs["closed"], "receive on the closed subscription after cancel")[1]
    # A subscription that had not ended the way the test set up is BCAST-012's, -016's or -019's to judge.
    judged = [name for name, end in ends.items() if end == name]
    if not judged:
        not_judged("BCAST-012, BCAST-016 and BCAST-019", f"no subscription ended as set up: {show(ends)}")
    for name in judged:
        assert after[name] == name, f"cancel changed the end of a {name} subscription to {after[name]!r}"


@requirement("BCAST-018")
def test_subscriber_count_counts_the_subscriptions_that_have_not_ended(bcast):
    """After each step the count is compared with the subscriptions the implementation itself says
    have not ended: whether a cancel, a full buffer or close ends one is BCAST-016/012/019's business,
    not this count's (a store that keeps a full subscriber counts it, rightly)."""
    subs: list[str] = []
    seen: list[tuple[str, int, int]] = []

    def check(step: str) -> None:
        active = sum(received(bcast, sub, f"receive after {step}")[1] is None for sub in subs)
        seen.append((step, bcast.subscriber_count(), active))

    check("nothing")
    subs.extend(bcast.subscribe(f"s{n}", buffer_size=1 if n == 3 else 4) for n in (1, 2, 3))
    check("3 subscribes")
    bcast.cancel(subs[0])
    check("a cancel")
    bcast.publish(event(1))
    bcast.publish(event(2))  # fills, then overfills, the third subscription's buffer of 1
    check("two publishes")
    bcast.close()
    check("close")
    wrong = [f"after {step}: {count} counted, {active} not ended" for step, count, active in seen if count != active]
    assert not wrong, "subscriber_count differs from the subscriptions that have not ended: " + "; ".join(wrong)


@requirement("BCAST-019")
def test_close_ends_every_subscription_keeping_what_each_holds(bcast):
    holding = bcast.subscribe("a", buffer_size=4)
    bcast.publish(event(1))
    bcast.publish(event(2))
    empty = bcast.subscribe("b", buffer_size=4)
    bcast.close()
    events, ended = received(bcast, holding, "receive after close on a subscription holding two events")
    assert ended == "closed", f"after close a subscription's end is {ended!r}, expected 'closed'"
    assert holds(events, event(1)) and holds(events, event(2)), f"close lost events it held: {show(events)}"
    _, ended = received(bcast, empty, "receive after close on an empty subscription")
    assert ended == "closed", f"after close an empty subscription's end is {ended!r}, expected 'closed'"


@requirement("BCAST-020")
def test_a_second_close_succeeds(bcast):
    bcast.close()
    bcast.close()


@requirement("BCAST-021")
def test_publish_after_close_fails_with_closed(bcast):
    bcast.close()
    with expect_error("closed", "publish after close"):
        bcast.publish(event(1))


@requirement("BCAST-022")
def test_subscribe_after_close_returns_a_subscription_that_has_ended(bcast):
    bcast.close()
    sub = bcast.subscribe("late", buffer_size=4)
    events, ended = received(bcast, sub, "receive on a subscription opened after close")
    assert ended == "closed", f"a subscription opened after close has end {ended!r}, expected 'closed'"
    assert events == [], f"a subscription opened after close holds {show(events)}"


@requirement("BCAST-023")
@pytest.mark.parametrize("invalid", [{"jsonrpc": "2.0", "method": ""}, "not an event"], ids=["empty-method", "string"])
def test_publish_of_an_invalid_event_after_close_fails_with_closed(bcast, invalid):
    bcast.close()
    with expect_error("closed", f"publish of the invalid event {show(invalid)} after close"):
        bcast.publish(invalid)
