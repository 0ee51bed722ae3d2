"""LIFE-020: random interleavings of creates, resumes, deletes, replies, faults and events, against a model.

The kit plays the server (:class:`~conformance.suite._life_peer.ScriptedPeer`).  Hypothesis starts
operations, answers the requests in flight in any order and with any fault (error, another id,
no id, a timeout, a duplicate), and delivers events for registered and unknown sessions, valid or
malformed.  After every step the client's registry, its pending count and each handler's own list
of events are compared with the model of spec/lifecycle.md § Model (never the order between
handlers: LIFE-006 is a SHOULD; never error kinds: LIFE-026 … LIFE-030 judge them).  One request per session id is in
flight at a time: overlapping operations on one id are outside this version of the spec.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from conformance._values import json_equal
from conformance.areas.life import LifeClient
from conformance.errors import ImplementationError
from conformance.suite._life_peer import ScriptedPeer, notification, session_handlers
from conformance.suite._support import events_equal, run_model, show

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.driver import Driver

POOL = ("a", "b", "c", "d", "e", "f")
session_ids = st.sampled_from(POOL)
event_targets = st.sampled_from((*POOL, "ghost"))
kinds = st.sampled_from(("session.updated", "session.foreground", "session.background", "session.renamed"))
FAULTS = ("ok", "ok", "ok-event-first", "duplicate", "error", "other-id", "no-id", "timeout")


def by_handler(deliveries: Any) -> dict[str, list[Any]]:
    """``{"handler", "event"}`` records grouped by handler name, each group in delivery order."""
    assert isinstance(deliveries, list), f"life.events returned {show(deliveries)}, not an array"
    grouped: dict[str, list[Any]] = {}
    for record in deliveries:
        assert isinstance(record, dict) and set(record) == {"handler", "event"}, f"a delivery record: {show(record)}"
        grouped.setdefault(str(record["handler"]), []).append(record["event"])
    return grouped


@dataclass
class InFlight:
    request: dict[str, Any]
    op: str
    method: str
    session_id: str | None  # None: a create whose id the server assigns
    was_registered: bool = False


class LifecycleModel(RuleBasedStateMachine):
    """A set of registered ids, the requests in flight, and the deliveries each handler is owed."""

    make_driver: Callable[[], Driver]

    def __init__(self) -> None:
        super().__init__()
        self.life = LifeClient(self.make_driver())
        self.peer = ScriptedPeer(self.life)
        self.registered: dict[str, str | None] = {}  # session id -> its session handler's name, if any
        self.routed = session_handlers(self.life)  # without life.session-handlers: no session handlers
        self.inflight: list[InFlight] = []
        self.expected: list[dict[str, Any]] = []
        self.names = itertools.count(1)
        self.life.subscribe("all")

    # -- model helpers ---------------------------------------------------------------------------
    def busy(self, sid: str) -> bool:
        return any(f.session_id == sid for f in self.inflight)

    def register(self, sid: str) -> None:
        name = f"h{next(self.names)}" if self.routed else None
        if name is not None:
            self.life.subscribe(name, session_id=sid)
        self.registered[sid] = name

    def start(self, op: str, method: str, sid: str | None, was: bool = False) -> None:
        self.inflight.append(InFlight(self.peer.only(), op, method, sid, was))

    def deliver_event(self, message: dict[str, Any]) -> None:
        self.peer.send(message)
        params = message["params"]
        self.expected.append({"handler": "all", "event": params})
        handler = self.registered.get(params["sessionId"])
        if handler is not None:
            self.expected.append({"handler": handler, "event": params})

    def expect_result(self, flight: InFlight, session_id: str | None) -> None:
        got = self.life.result(flight.op)
        if session_id is None:
            assert got.get("state") == "failed", f"{flight.method} {flight.session_id!r} must fail, got {show(got)}"
        else:
            expected = {"state": "ok", "session_id": session_id}
            assert json_equal(got, expected), f"{flight.method}: expected {show(expected)}, got {show(got)}"

    # -- rules -----------------------------------------------------------------------------------
    @rule(sid=session_ids)
    def create_with_id(self, sid: str) -> None:
        if self.busy(sid):
            return
        if sid in self.registered:
            try:
                self.life.create(sid)
            except ImplementationError as exc:
                assert exc.kind == "conflict", f"create({sid!r}) of a registered id failed as {exc.kind}"
            else:
                raise AssertionError(f"create({sid!r}) of a registered id was accepted")
            assert self.peer.pull() == [], "a refused create sent a request"
            return
        op = self.life.create(sid)
        self.start(op, "session.create", sid)
        self.register(sid)

    @rule()
    def create_server_assigned(self) -> None:
        self.start(self.life.create(), "session.create", None)

    @rule(sid=session_ids)
    def resume(self, sid: str) -> None:
        if self.busy(sid):
            return
        was = sid in self.registered
        self.start(self.life.resume(sid), "session.resume", sid, was)
        if not was:
            self.register(sid)

    @rule(sid=session_ids)
    def delete(self, sid: str) -> None:
        if not self.busy(sid):
            self.start(self.life.delete(sid), "session.delete", sid)

    @precondition(lambda self: self.inflight)
    @rule(pick=st.integers(0, 7), fault=st.sampled_from(FAULTS))
    def answer(self, pick: int, fault: str) -> None:
        flight = self.inflight.pop(pick % len(self.inflight))
        request, peer = flight.request, self.peer
        assigned = flight.method == "session.create" and flight.session_id is None
        if fault.startswith("ok") or fault == "duplicate" or (fault == "other-id" and assigned):
            sid = flight.session_id if not assigned else peer.mint()
            reply = peer.ok(request, sid)
            event = peer.created_for(request, str(sid)) if flight.method == "session.create" else None
            if event is not None and fault == "ok-event-first":
                self.deliver_event(event)
            peer.send(reply)
            if fault == "duplicate":
                peer.send(reply)
            self.succeed(flight, str(sid))
            if event is not None and fault != "ok-event-first":
                self.deliver_event(event)
            return
        if fault == "timeout":
            self.life.timeout(flight.op)
        elif fault == "other-id":
            peer.send(
                peer.ok(request, f"other-{peer.mint()}") if flight.method != "session.delete" else peer.error(request)
            )
        elif fault == "no-id" and flight.method != "session.delete":
            peer.send(peer.reply(request, {}))
        else:
            peer.send(peer.error(request))
        self.fail(flight)

    def succeed(self, flight: InFlight, sid: str) -> None:
        if flight.method == "session.delete":
            self.unregister(sid)
        elif sid not in self.registered:
            self.register(sid)
        self.expect_result(flight, sid)

    def fail(self, flight: InFlight) -> None:
        sid = flight.session_id
        if sid is not None and (
            flight.method == "session.create" or (flight.method == "session.resume" and not flight.was_registered)
        ):
            self.unregister(sid)
        self.expect_result(flight, None)

    def unregister(self, sid: str) -> None:
        self.registered.pop(sid, None)

    @rule(sid=event_targets, kind=kinds)
    def event(self, sid: str, kind: str) -> None:
        self.deliver_event(self.peer.event(kind, sid))

    @rule(sid=event_targets)
    def malformed_event(self, sid: str) -> None:
        self.peer.send(notification({"type": "session.updated", "sessionId": sid}))

    @rule()
    def stray_reply(self) -> None:
        self.peer.send({"jsonrpc": "2.0", "id": 10**9, "result": {"sessionId": "stray"}})

    # -- invariants ------------------------------------------------------------------------------
    @invariant()
    def registry_matches(self) -> None:
        expected = {"sessions": sorted(self.registered), "pending": len(self.inflight)}
        got = self.life.registry()
        assert json_equal(got, expected), f"registry: expected {show(expected)}, got {show(got)}"

    @invariant()
    def deliveries_match(self) -> None:
        # Each handler's own events, in order; never the order between handlers (LIFE-006 is a SHOULD).
        got, owed = by_handler(self.life.events()), by_handler(self.expected)
        for name in sorted(set(got) | set(owed)):
            mine, expected = got.get(name, []), owed.get(name, [])
            assert events_equal(mine, expected), f"handler {name}: expected {show(expected)}, got {show(mine)}"

    def teardown(self) -> None:
        self.life.driver.close()


@pytest.mark.requirement("LIFE-020")
def test_any_interleaving_matches_the_model(driver_factory, hypothesis_settings):
    run_model(LifecycleModel, driver_factory, hypothesis_settings)
