"""ID-020: random sequences of runs, resumes, snapshots and restarts against the identity model.

The model (spec/identity.md § Model of the ID area) keeps, per session, its handle and
state, and per operation its session, input, units left and response id.  A handle the
implementation reports as null at create is adopted at the session's first run, when it
has to be there (ID-023), and never changes after that (ID-014).  Tokens are
never modelled: the machine keeps the last token each operation returned, exactly as
a caller would, and hands it back (sometimes after a JSON round trip).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from conformance._values import json_equal
from conformance.areas.id import IdentityClient
from conformance.errors import ImplementationError
from conformance.suite._support import pick, run_model, show

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.driver import Driver

SESSIONS = ("alpha", "beta")
states = st.dictionaries(st.sampled_from(["type", "k", "session_id", "n"]), st.integers(0, 9) | st.text(max_size=3))


@dataclass
class Op:
    session_id: str
    text: str
    remaining: int
    response_id: str
    token: Any


class IdentityModel(RuleBasedStateMachine):
    """Compares an implementation with the ID model."""

    make_driver: Callable[[], Driver]

    def __init__(self) -> None:
        super().__init__()
        self.ids = IdentityClient(self.make_driver())
        self.sessions: dict[str, dict[str, Any]] = {}
        self.snapshots: dict[str, str] = {}
        self.snapshotted: dict[str, dict[str, Any]] = {}
        self.ops: list[Op] = []
        self.response_ids: set[str] = set()
        self.counter = 0

    def check(self, got: Any, op: Op, what: str) -> None:
        done = op.remaining == 0
        expected: dict[str, Any] = {
            "response_id": op.response_id,
            "session_id": op.session_id,
            "status": "completed" if done else "in_progress",
            "output": op.text if done else None,
            "reference_task_ids": [],
        }
        visible = {k: v for k, v in got.items() if k != "continuation_token"}
        assert json_equal(visible, expected), f"{what}: expected {show(expected)}, got {show(got)}"
        assert (got["continuation_token"] is None) == done, f"{what}: token {show(got['continuation_token'])}"

    @rule(sid=st.sampled_from(SESSIONS), state=states)
    def create(self, sid: str, state: dict[str, Any]) -> None:
        if sid in self.sessions:
            try:
                self.ids.create_session(sid, state=state)
            except ImplementationError as exc:
                assert exc.kind == "conflict", f"creating live session {sid} failed as {exc.kind}"
                return
            raise AssertionError(f"creating live session {sid} twice succeeded")
        # The model keeps its own copy: it changes its records, and the client's objects are not its own.
        self.sessions[sid] = json.loads(json.dumps(self.ids.create_session(sid, state=state)))

    @precondition(lambda self: self.sessions)
    @rule(data=st.data(), steps=st.integers(1, 3))
    def run(self, data: st.DataObject, steps: int) -> None:
        sid = pick(data, sorted(self.sessions), "session")
        self.counter += 1
        text = f"input {self.counter}"
        got = self.ids.run(sid, text, steps=steps)
        rid = got["response_id"]
        assert rid not in self.response_ids, f"run on {sid} reused response id {rid!r}"
        self.response_ids.add(rid)
        op = Op(sid, text, steps - 1, rid, None)
        self.check(got, op, f"run({sid}, steps={steps})")
        op.token = got["continuation_token"]
        self.ops.append(op)
        if self.sessions[sid]["service_handle"] is None:
            handle = self.ids.get_session(sid)["service_handle"]
            assert handle is not None, f"{sid} still has no service handle after its first run"
            self.sessions[sid]["service_handle"] = handle

    @precondition(lambda self: any(o.session_id in self.sessions for o in self.ops))
    @rule(data=st.data(), through_json=st.booleans())
    def resume(self, data: st.DataObject, through_json: bool) -> None:
        op = pick(data, [o for o in self.ops if o.session_id in self.sessions], "operation")
        token = json.loads(json.dumps(op.token)) if through_json else op.token
        if token is None:
            return  # a finished operation's caller holds no token
        got = self.ids.resume(op.session_id, token)
        op.remaining = max(0, op.remaining - 1)
        self.check(got, op, f"resume of {op.text!r}")
        if got["continuation_token"] is not None:
            op.token = got["continuation_token"]

    @precondition(lambda self: len(self.sessions) == 2 and any(o.token is not None for o in self.ops))
    @rule(data=st.data())
    def resume_on_the_wrong_session(self, data: st.DataObject) -> None:
        op = pick(data, [o for o in self.ops if o.token is not None], "operation with a token")
        other = next(s for s in self.sessions if s != op.session_id)
        calls = self.ids.remote_calls()
        try:
            self.ids.resume(other, op.token)
        except ImplementationError as exc:
            assert exc.kind == "invalid_argument", f"a token of {op.session_id} on {other} failed as {exc.kind}"
        else:
            raise AssertionError(f"a token of {op.session_id} was accepted on {other}")
        assert self.ids.remote_calls() == calls, "the wrong-session token reached the remote service"

    @precondition(lambda self: self.sessions)
    @rule(data=st.data(), state=states)
    def set_state(self, data: st.DataObject, state: dict[str, Any]) -> None:
        sid = pick(data, sorted(self.sessions), "session")
        self.ids.set_state(sid, state)
        self.sessions[sid]["state"] = json.loads(json.dumps(state))

    @precondition(lambda self: self.sessions)
    @rule()
    def snapshot_everything(self) -> None:
        self.snapshots = {sid: json.dumps(self.ids.snapshot(sid)) for sid in self.sessions}
        self.snapshotted = {sid: json.loads(json.dumps(view)) for sid, view in self.sessions.items()}

    @precondition(lambda self: self.snapshots)
    @rule()
    def restart_and_restore(self) -> None:
        self.ids.restart()
        self.sessions = {}
        for sid, text in self.snapshots.items():
            restored = self.ids.restore(json.loads(text))
            expected = self.snapshotted[sid]
            assert json_equal(restored, expected), f"restored {sid}: {show(restored)}"
            self.sessions[sid] = json.loads(json.dumps(restored))

    @invariant()
    def sessions_match(self) -> None:
        for sid, view in self.sessions.items():
            got = self.ids.get_session(sid)
            assert json_equal(got, view), f"get_session({sid}): expected {show(view)}, got {show(got)}"

    def teardown(self) -> None:
        self.ids.driver.close()


@pytest.mark.requirement("ID-020")
def test_any_sequence_of_identity_operations_matches_the_model(driver_factory, hypothesis_settings):
    run_model(IdentityModel, driver_factory, hypothesis_settings)


@pytest.mark.requirement("ID-020")
def test_set_state_replaces_the_state_through_snapshot_and_restore(driver):
    """One fixed program through the model's state rule, so that a run with few examples still covers it."""
    ids = IdentityClient(driver)
    ids.create_session("s", state={"a": 1, "type": "session"})
    ids.set_state("s", {"b": 2})
    assert json_equal(ids.get_session("s")["state"], {"b": 2}), (
        f"set_state merged or kept old members: {ids.get_session('s')}"
    )
    text = json.dumps(ids.snapshot("s"))
    ids.set_state("s", {})
    ids.restart()
    assert json_equal(ids.restore(json.loads(text))["state"], {"b": 2}), "the snapshot did not keep the replaced state"
