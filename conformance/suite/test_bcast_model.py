"""BCAST-024: random sequences of operations against the model of spec/bcast.md §Model.

Hypothesis drives subscribe / publish / receive / cancel / subscriber_count / close over a
handful of subscriptions with small buffers, and compares every answer with a list of
``{capacity, buffer, ended}`` records.  Subscriptions are drawn by position among those opened
so far, never by the name the implementation's adapter gave them.  Every call is valid and
names its buffer size (the default, BCAST-011, is a SHOULD and not checked); each rule checks
only what the MUST requirements its docstring names say.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from conformance._values import json_equal
from conformance.areas.bcast import BcastClient
from conformance.errors import ImplementationError
from conformance.suite._support import bound, pick, run_model, show

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.driver import Driver

SESSIONS = ("a", "b", "a")
CAPACITIES = (1, 2, 3)
METHODS = ("notifications/tools/list_changed", "notifications/message")


@dataclass
class Sub:
    name: str
    capacity: int
    buffer: list[dict[str, Any]] = field(default_factory=list)
    ended: str | None = None


class BroadcasterModel(RuleBasedStateMachine):
    """Compares an implementation with a list of subscriptions and a closed flag."""

    make_driver: Callable[[], Driver]

    def __init__(self) -> None:
        super().__init__()
        self.driver = self.make_driver()
        self.bcast = BcastClient(self.driver)
        self.subs: list[Sub] = []
        self.closed = False
        self.published = 0

    @rule(session=st.sampled_from(SESSIONS), capacity=st.sampled_from(CAPACITIES))
    def subscribe(self, session: str, capacity: int) -> None:
        """BCAST-001 (active and empty), BCAST-022 (ended as closed after close)."""
        name = self.bcast.subscribe(session, buffer_size=capacity)
        assert isinstance(name, str), f"subscribe returned {show(name)}, not a subscription"
        self.subs.append(Sub(name, capacity, ended="closed" if self.closed else None))

    @rule(method=st.sampled_from(METHODS), with_params=st.booleans())
    def publish(self, method: str, with_params: bool) -> None:
        """BCAST-002, BCAST-009, BCAST-012, BCAST-013, BCAST-014, BCAST-021."""
        self.published += 1
        event: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if with_params:
            event["params"] = {"n": self.published}
        doing = f"publish of event {self.published}"
        if self.closed:
            try:
                self.bcast.publish(event)
            except ImplementationError as exc:
                assert exc.kind == "closed", f"{doing} after close failed as {exc.kind}, expected closed"
                return
            msg = f"{doing} after close succeeded, expected a closed error"
            raise AssertionError(msg)
        answer = self.bcast.publish(event)
        assert answer is None, f"{doing} answered {show(answer)}, expected null"
        for sub in self.subs:
            if sub.ended is not None:
                continue
            if len(sub.buffer) >= sub.capacity:
                sub.ended = "dropped"
            else:
                sub.buffer.append(dict(event))

    @precondition(lambda self: self.subs)
    @rule(data=st.data())
    def receive(self, data: st.DataObject) -> None:
        """BCAST-003, BCAST-004, BCAST-005 (the events, in order, once), BCAST-015 (room freed)."""
        self.receive_from(pick(data, self.subs, "subscription"))

    def receive_from(self, sub: Sub) -> None:
        answer = self.bcast.receive(sub.name)
        want = {"events": sub.buffer, "ended": sub.ended}
        assert json_equal(answer, want), f"receive on {sub.name}: expected {show(want)}, got {show(answer)}"
        sub.buffer = []

    @precondition(lambda self: self.subs)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        """BCAST-016, BCAST-017."""
        self.cancel_sub(pick(data, self.subs, "subscription"))

    def cancel_sub(self, sub: Sub) -> None:
        self.bcast.cancel(sub.name)
        if sub.ended is None:
            sub.ended = "cancelled"

    @rule()
    def close(self) -> None:
        """BCAST-019, BCAST-020."""
        self.bcast.close()
        for sub in self.subs:
            if sub.ended is None:
                sub.ended = "closed"
        self.closed = True

    @invariant()
    def the_count_is_the_active_subscriptions(self) -> None:
        """BCAST-018."""
        got = self.bcast.subscriber_count()
        want = sum(1 for sub in self.subs if sub.ended is None)
        assert got == want, f"subscriber_count() is {show(got)}, expected {want}"

    def teardown(self) -> None:
        self.driver.close()


@pytest.mark.requirement("BCAST-024")
def test_any_sequence_of_operations_matches_the_model(driver_factory, hypothesis_settings):
    run_model(BroadcasterModel, driver_factory, hypothesis_settings)


@pytest.mark.requirement("BCAST-024")
@pytest.mark.parametrize("seed", [1, 2])
def test_a_long_seeded_walk_matches_the_model(driver_factory, seed):
    # Hypothesis's programs are short; a long walk per seed reaches many subscriptions and drops.
    machine = bound(BroadcasterModel, driver_factory)()
    rng = random.Random(seed)
    try:
        for step in range(300):
            choice = rng.random()
            if choice < 0.25 or not machine.subs:
                machine.subscribe(rng.choice(SESSIONS), rng.choice(CAPACITIES))
            elif choice < 0.6:
                machine.publish(rng.choice(METHODS), rng.random() < 0.5)
            elif choice < 0.85:
                machine.receive_from(rng.choice(machine.subs))
            elif choice < 0.995 or step < 200:
                machine.cancel_sub(rng.choice(machine.subs))
            else:
                machine.close()
            machine.the_count_is_the_active_subscriptions()
    finally:
        machine.teardown()
