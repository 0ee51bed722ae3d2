"""BCAST: two replicas, each in its own process, over one backend (spec/bcast.md, BCAST-026 … BCAST-029).

``bcast`` is the first replica and ``bcast_b`` the second: the kit runs the second in another process
over the same storage directory (spec/contract.md § Replicas).  Nothing waits: a ``receive`` after a
``publish`` returned on another replica already holds its event (BCAST-026).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.suite._bcast_support import bcast, bcast_b, event, holds, received
from conformance.suite._support import not_judged

__all__ = ["bcast", "bcast_b"]  # the fixtures, imported so that pytest finds them here

requirement = pytest.mark.requirement


def numbers(events):
    return [e.get("params", {}).get("n") if isinstance(e, dict) else e for e in events]


@requirement("BCAST-026")
def test_an_event_published_on_one_replica_reaches_the_other(bcast, bcast_b):
    on_b = bcast_b.subscribe("client-b", buffer_size=8)
    also_b = bcast_b.subscribe("client-c", buffer_size=8)
    bcast.publish(event(1))
    bcast_b.publish(event(2))
    for sub, who in ((on_b, "a subscription"), (also_b, "a second subscription")):
        events, _ = received(bcast_b, sub, f"receive on the second replica, {who}")
        assert holds(events, event(1)), f"{who} on the second replica did not receive the first replica's event"
    on_a = bcast.subscribe("client-a", buffer_size=8)
    bcast_b.publish(event(3))
    events, _ = received(bcast, on_a, "receive on the first replica")
    assert holds(events, event(3)), "a subscription on the first replica did not receive the second replica's event"


@requirement("BCAST-027")
def test_every_subscription_on_every_replica_receives_one_order(bcast, bcast_b):
    subs = [
        (bcast, bcast.subscribe("a", buffer_size=16), "first"),
        (bcast_b, bcast_b.subscribe("b", buffer_size=16), "second"),
    ]
    got: dict[str, list[Any]] = {which: [] for _, _, which in subs}
    for n, publisher in enumerate((bcast, bcast_b, bcast, bcast_b, bcast_b, bcast), start=1):
        publisher.publish(event(n))
        if n % 2 == 0:  # read between publishes too, so that each read catches a different mix
            for replica, sub, which in subs:
                got[which] += received(replica, sub, f"receive on the {which} replica")[0]
    for replica, sub, which in subs:
        got[which] += received(replica, sub, f"receive on the {which} replica")[0]
        seen = numbers(got[which])
        assert seen == sorted(seen), f"the {which} replica's subscription received events {seen}: not in publish order"


@requirement("BCAST-028")
def test_no_event_is_received_twice_across_replicas(bcast, bcast_b):
    subs = [
        (bcast, bcast.subscribe("a", buffer_size=16), "first"),
        (bcast_b, bcast_b.subscribe("b", buffer_size=16), "second"),
    ]
    got: dict[str, list[Any]] = {which: [] for _, _, which in subs}
    for n, publisher in enumerate((bcast, bcast_b, bcast_b, bcast), start=1):
        publisher.publish(event(n))
        for replica, sub, which in subs:
            got[which] += received(replica, sub, f"receive on the {which} replica")[0]
    for which, events in got.items():
        seen = numbers(events)
        twice = sorted({n for n in seen if seen.count(n) > 1})
        assert not twice, f"the {which} replica's subscription received events {twice} more than once: {seen}"


@requirement("BCAST-029")
def test_closing_one_replica_leaves_the_other_working(bcast, bcast_b):
    on_b = bcast_b.subscribe("client-b", buffer_size=8)
    bcast.subscribe("client-a", buffer_size=8)
    bcast.close()
    bcast_b.publish(event(1))
    events, ended = received(bcast_b, on_b, "receive on the second replica after the first closed")
    assert ended is None, f"closing the first replica ended a subscription on the second as {ended!r}"
    if not holds(events, event(1)):
        not_judged("BCAST-002", "a subscription did not receive an event published on its own replica")
    assert bcast_b.subscriber_count() == 1, "closing the first replica changed the second's subscriber count"
    later = bcast_b.subscribe("client-c", buffer_size=8)
    bcast_b.publish(event(2))
    events, ended = received(bcast_b, later, "receive on a subscription opened after the first replica closed")
    assert ended is None and holds(events, event(2)), "the second replica stopped working when the first closed"
