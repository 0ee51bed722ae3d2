"""HIST-027: random sequences of operations against the model of spec/hist.md §Model.

Hypothesis drives add / get(limit) / pop / clear / restart on a few sessions and
compares every answer with a plain list per session.  On a failure it shrinks the
sequence and prints it as a program of ``state.*`` calls that can be pasted into a
test to replay it.

Only valid calls are made, as HIST-027's sentence says ("any valid limit or none"):
how invalid limits and items are answered is HIST-005, HIST-010, HIST-012 and
HIST-013's business, and a store that answers them wrongly must fail those alone.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from conformance._values import json_equal
from conformance.areas.hist import HistoryClient
from conformance.suite._support import bound, run_model, show

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.driver import Driver

#: What the Hypothesis machine and the seeded walks both draw from: the walks are the same rules
#: with the same arguments, chosen by a seeded ``random.Random`` instead of by Hypothesis.
SESSIONS = ("alpha", "beta", "gamma")
MAX_BATCH = 4
MAX_LIMIT = 8
INTEGERS = (-1000, 1000)
MAX_TEXT = 6
session_ids = st.sampled_from(SESSIONS)
payloads = st.one_of(st.none(), st.booleans(), st.integers(*INTEGERS), st.text(max_size=MAX_TEXT))


class HistoryModel(RuleBasedStateMachine):
    """Compares an implementation with one list per session id."""

    make_driver: Callable[[], Driver]

    def __init__(self) -> None:
        super().__init__()
        self.driver = self.make_driver()
        self.client = HistoryClient(self.driver)
        self.model: dict[str, list[dict[str, Any]]] = {sid: [] for sid in SESSIONS}
        self.handles: dict[str, Any] = {}
        self.counter = 0

    def handle(self, sid: str) -> Any:
        if sid not in self.handles:
            self.handles[sid] = self.client.open(sid)
        return self.handles[sid]

    def new_item(self, payload: Any) -> dict[str, Any]:
        self.counter += 1
        return {"n": self.counter, "payload": payload}

    @initialize()
    def start(self) -> None:
        self.persistent = self.driver.info.claimed("hist.persistent")

    @rule(sid=session_ids, payload_list=st.lists(payloads, max_size=MAX_BATCH))
    def add(self, sid: str, payload_list: list[Any]) -> None:
        batch = [self.new_item(p) for p in payload_list]
        self.handle(sid).add_items(batch)
        self.model[sid].extend(batch)

    @rule(sid=session_ids, limit=st.none() | st.integers(0, MAX_LIMIT))
    def get(self, sid: str, limit: int | None) -> None:
        h = self.handle(sid)
        got = h.get_items() if limit is None else h.get_items(limit=limit)
        history = self.model[sid]
        expected = history if limit is None else history[max(0, len(history) - limit) :] if limit else []
        assert json_equal(got, expected), (
            f"get_items(limit={limit}) of {sid}: expected {show(expected)}, got {show(got)}"
        )

    @rule(sid=session_ids)
    def pop(self, sid: str) -> None:
        got = self.handle(sid).pop_item()
        expected = self.model[sid].pop() if self.model[sid] else None
        assert json_equal(got, expected), f"pop_item() of {sid}: expected {show(expected)}, got {show(got)}"

    @rule(sid=session_ids)
    def clear(self, sid: str) -> None:
        self.handle(sid).clear_session()
        self.model[sid].clear()

    @precondition(lambda self: self.persistent)
    @rule()
    def restart(self) -> None:
        self.client.restart()
        self.handles.clear()

    @invariant()
    def sizes_match(self) -> None:
        # Cheap cross-check on a session that the last rule may not have touched.
        for sid in self.handles:
            got = self.handles[sid].get_items(limit=1)
            expected = self.model[sid][-1:]
            assert json_equal(got, expected), f"newest item of {sid}: expected {show(expected)}, got {show(got)}"

    def teardown(self) -> None:
        self.driver.close()


@pytest.mark.requirement("HIST-027")
def test_any_sequence_of_operations_matches_the_model(driver_factory, hypothesis_settings):
    run_model(HistoryModel, driver_factory, hypothesis_settings)


def _walk_step(machine: HistoryModel, rng: random.Random) -> None:
    """One rule of the machine with arguments drawn from ``rng`` (rules are plain methods too)."""
    sid = rng.choice(SESSIONS)

    def payload() -> Any:
        text = "".join(rng.choice("ab\u00e9\U0001f600") for _ in range(rng.randint(0, MAX_TEXT)))
        return rng.choice([None, True, False, rng.randint(*INTEGERS), text])

    choices: list[Callable[[], None]] = [
        lambda: machine.add(sid, [payload() for _ in range(rng.randint(0, MAX_BATCH))]),
        lambda: machine.get(sid, rng.choice([None, *range(MAX_LIMIT + 1)])),
        lambda: machine.pop(sid),
        lambda: machine.pop(sid),  # twice as likely: pops on empty histories are where counters drift
        lambda: machine.clear(sid),
    ]
    if machine.persistent:
        choices.append(machine.restart)
    rng.choice(choices)()


@pytest.mark.requirement("HIST-027")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_long_seeded_walk_matches_the_model(driver_factory, seed):
    # Hypothesis's programs are short and random; a long walk from a fixed seed reaches deep states
    # and gives the same verdict on every run.
    machine = bound(HistoryModel, driver_factory)()
    rng = random.Random(seed)
    machine.start()
    try:
        for _ in range(300):
            _walk_step(machine, rng)
            machine.sizes_match()
    finally:
        machine.teardown()
