"""ID: service handles and session snapshots (spec/identity.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from conformance._values import NonJSON
from conformance.suite._identity_support import assert_shape, finish, rejected_without_remote_call, via_json
from conformance.suite._support import assert_json_equal, expect_error, not_judged, show

if TYPE_CHECKING:
    from conformance.areas._facade import Answer
    from conformance.areas.id import IdentityClient

requirement = pytest.mark.requirement


def round_trip(ids: IdentityClient, session_id: str) -> Answer:
    """Snapshot a session, restart the client, restore the snapshot from JSON text; return the restored view."""
    text = json.dumps(ids.snapshot(session_id))
    ids.restart()
    return ids.restore(json.loads(text))


STRING_HANDLES = {
    "plain": "conv_123",
    "padded": "  conv 123  ",
    "unicode": "会话 \U0001f600 e\u0301",
    "json-text": '{"context_id": "c", "task_id": "t"}',
    "type-tag": "session",
    "long": "h" * 4096,
}


@requirement("ID-014")
@pytest.mark.parametrize("name", list(STRING_HANDLES))
def test_string_handle_round_trips_unchanged(ids, name):
    handle = STRING_HANDLES[name]
    sid = ids.create_session("s", service_handle=handle)["session_id"]
    finish(ids, ids.run(sid, "turn", steps=2))
    assert ids.get_session(sid)["service_handle"] == handle, f"the {name} handle changed after a run"
    assert ids.snapshot(sid)["service_handle"] == handle, f"the snapshot rewrote the {name} handle"
    assert round_trip(ids, sid)["service_handle"] == handle, f"the {name} handle changed across snapshot and restore"
    assert ids.get_session(sid)["service_handle"] == handle, f"get_session after the restore rewrote the {name} handle"


@requirement("ID-014")
def test_assigned_handle_round_trips_unchanged(ids):
    sid = ids.create_session()["session_id"]
    ids.run(sid, "first")  # by now the remote service has assigned the handle (ID-023)
    session = ids.get_session(sid)
    if session["service_handle"] is None:
        not_judged("ID-023", "the session still has no service handle after its first run")
    finish(ids, ids.run(sid, "second", steps=2))
    assert_json_equal(ids.get_session(sid), session, "the session after a later run and resume")
    assert_json_equal(round_trip(ids, sid), session, "the session after a snapshot round trip")


STRUCTURED_HANDLES = {
    "a2a": {"context_id": "ctx-1", "task_id": "task-1", "task_state": "input-required"},
    "type-tags": {"type": "session", "$type": "AgentSession", "__class__": "dict", "session_id": "someone-else"},
    "nested": {"conversation": {"id": "c", "turns": [1, 2.5, None, True, {"deep": []}]}, "empty": {}},
    "empty": {},
}


@requirement("ID-015")
@pytest.mark.parametrize("name", list(STRUCTURED_HANDLES))
def test_structured_handle_round_trips_unchanged(ids, name):
    handle = STRUCTURED_HANDLES[name]
    sid = ids.create_session("s", service_handle=handle)["session_id"]
    finish(ids, ids.run(sid, "turn", steps=2))
    assert_json_equal(ids.get_session(sid)["service_handle"], handle, f"the {name} handle after a run")
    assert_json_equal(ids.snapshot(sid)["service_handle"], handle, f"the {name} handle in the snapshot")
    assert_json_equal(round_trip(ids, sid)["service_handle"], handle, f"the {name} handle after a restore")


WRONG_HANDLES = {
    "empty-string": "",
    "integer": 42,
    "boolean": True,
    "array": ["conv_1"],
    "not-json": {"ratio": NonJSON("nan")},
}


@requirement("ID-016")
@pytest.mark.parametrize("name", list(WRONG_HANDLES))
def test_handle_of_the_wrong_shape_is_rejected_at_create(ids, name):
    with rejected_without_remote_call(ids, "invalid_argument", f"create_session with a {name} handle"):
        ids.create_session("s", service_handle=WRONG_HANDLES[name])
    with expect_error("not_found", "get_session after the rejected create"):
        ids.get_session("s")


@requirement("ID-016")
@pytest.mark.parametrize("name", list(WRONG_HANDLES))
def test_handle_of_the_wrong_shape_is_rejected_at_restore(ids, name):
    snapshot = ids.snapshot(ids.create_session("s", service_handle="conv_s")["session_id"])
    ids.restart()
    snapshot = {**snapshot, "service_handle": WRONG_HANDLES[name]}  # a changed copy, not the client's object
    with rejected_without_remote_call(ids, "invalid_argument", f"restoring a snapshot with a {name} handle"):
        ids.restore(snapshot)
    with expect_error("not_found", "get_session after the rejected restore"):
        ids.get_session("s")


@requirement("ID-016")
@pytest.mark.parametrize("where", ["create", "restore"])
def test_object_handle_is_rejected_without_the_structured_handle_claim(ids, where):
    if ids.driver.info.claimed("id.structured-handle"):
        return  # under the claim an object handle is valid (ID-015): there is no wrong shape to send
    snapshot = ids.snapshot(ids.create_session("s", service_handle="conv_s")["session_id"])
    ids.restart()
    with rejected_without_remote_call(
        ids, "invalid_argument", f"an object handle at {where}, id.structured-handle not claimed"
    ):
        if where == "create":
            ids.create_session("s", service_handle={"context_id": "c"})
        else:
            ids.restore(snapshot | {"service_handle": {"context_id": "c"}})
    with expect_error("not_found", "get_session after the rejected call"):
        ids.get_session("s")


@requirement("ID-016")
@pytest.mark.parametrize("text", [42, None, ["hi"], NonJSON("bytes")])
def test_run_input_that_is_not_a_string_is_rejected_before_any_remote_call(ids, text):
    sid = ids.create_session()["session_id"]
    with rejected_without_remote_call(ids, "invalid_argument", f"run with input={text!r}"):
        ids.run(sid, text)


LOOKALIKE_STATE = {
    "type": "session",
    "session_id": "not-this-session",
    "service_session_id": "not-this-handle",
    "snapshot_version": 99,
    "memory": {"type": "session", "session_id": "", "state": {"type": "message", "role": "user"}},
    "$type": "AgentSession",
    "items": [{"type": "session"}, {"__class__": "AgentSession"}, {"$nonjson": "nan"}],
    "text": "e\u0301 \U0001f600 \u2028",
    "numbers": [0, -1, 9007199254740991, 0.1, 5e-324, 1.7976931348623157e308],
    "empties": {"": "", "list": [], "object": {}, "null": None, "false": False},
}


@requirement("ID-017")
def test_snapshot_round_trip_keeps_id_handle_and_state_exactly(ids):
    session = ids.create_session("keeper", service_handle="conv_keeper", state=LOOKALIKE_STATE)
    snapshot = assert_shape(ids.snapshot("keeper"), "id/session-snapshot", "snapshot('keeper')")
    restored = round_trip(ids, "keeper")
    assert_json_equal(restored, session, "the session restored from its snapshot's JSON text")
    assert_json_equal(ids.get_session("keeper"), session, "get_session after the restore")
    assert_json_equal(ids.snapshot("keeper"), snapshot, "a second snapshot of the restored session")
    assert ids.run("keeper", "after")["output"] == "after", "the restored session cannot run"


@requirement("ID-017")
def test_a_snapshot_in_state_is_data_not_a_session(ids):
    inner = ids.snapshot(ids.create_session("inner", service_handle="conv_inner")["session_id"])
    outer = ids.create_session("outer", state={"saved": inner, "saved_text": json.dumps(inner)})
    assert_json_equal(round_trip(ids, "outer"), outer, "a session whose state holds another session's snapshot")
    with expect_error("not_found", "get_session('inner'): restoring outer must not restore the snapshot in its state"):
        ids.get_session("inner")


@requirement("ID-018")
@pytest.mark.parametrize(
    "change",
    [
        "unknown-member",
        "missing-session-id",
        "missing-state",
        "missing-handle",
        "missing-version",
        "version-2",
        "version-as-text",
        "version-1.0",
        "state-not-object",
        "not-an-object",
    ],
)
def test_malformed_snapshot_is_rejected(ids, change):
    good = via_json(ids.snapshot(ids.create_session("s", state={"k": "v"})["session_id"]))
    ids.restart()
    edits = {
        "unknown-member": lambda s: s | {"future_field": {"x": 1}},
        "missing-session-id": lambda s: {k: v for k, v in s.items() if k != "session_id"},
        "missing-state": lambda s: {k: v for k, v in s.items() if k != "state"},
        "missing-handle": lambda s: {k: v for k, v in s.items() if k != "service_handle"},
        "missing-version": lambda s: {k: v for k, v in s.items() if k != "snapshot_version"},
        "version-2": lambda s: s | {"snapshot_version": 2},
        "version-as-text": lambda s: s | {"snapshot_version": "1"},
        "version-1.0": lambda s: s | {"snapshot_version": 1.0},
        "state-not-object": lambda s: s | {"state": [["k", "v"]]},
        "not-an-object": lambda s: json.dumps(s),  # noqa: PLW0108 - same shape as its neighbours
    }
    with expect_error("invalid_argument", f"restoring a snapshot with {change}"):
        ids.restore(edits[change](good))
    with expect_error("not_found", "get_session after the rejected restore"):
        ids.get_session("s")
    assert_json_equal(ids.restore(good)["state"], {"k": "v"}, "the unmodified snapshot afterwards")


@requirement("ID-023")
def test_a_session_created_without_a_handle_has_one_after_its_first_run(ids):
    sid = ids.create_session()["session_id"]
    before = ids.get_session(sid)["service_handle"]
    if before is not None:
        assert_shape(before, "id/service-handle", "the handle before the first run")
    ids.run(sid, "first")
    after = ids.get_session(sid)["service_handle"]
    assert after is not None, "the session still has no service handle after its first run returned"
    assert_shape(after, "id/service-handle", "the handle after the first run")
    assert_issued(ids, after, "the handle after the first run")
    if before is not None:
        assert_issued(ids, before, "the handle before the first run")


@requirement("ID-023")
def test_a_snapshot_without_a_handle_restores_and_gets_one_at_its_first_run(ids):
    snapshot = ids.snapshot(ids.create_session("s", service_handle="conv_s", state={"k": 1})["session_id"])
    ids.restart()
    restored = ids.restore(snapshot | {"service_handle": None})
    assert restored["session_id"] == "s", f"the restored session is {restored}"
    ids.run("s", "first after restore")
    handle = ids.get_session("s")["service_handle"]
    assert handle is not None, "a session restored without a handle still has none after its first run"
    assert_shape(handle, "id/service-handle", "the handle assigned after the restore")
    assert_issued(ids, handle, "the handle assigned after the restore")


def assert_issued(ids, handle, what):
    """ID-023 says the remote service assigns the handle: it is one the kit's service issued."""
    assert handle in ids.service.handles, (
        f"{what} is {show(handle)}, which the remote service never issued (it issued {ids.service.handles})"
    )
