"""ID: minted and caller-supplied session ids, duplicates and unknown sessions (spec/identity.md)."""

from __future__ import annotations

import pytest

from conformance.areas.id import IdentityClient
from conformance.suite._identity_support import assert_minted
from conformance.suite._support import INVALID_IDS, assert_json_equal, expect_error

requirement = pytest.mark.requirement


@requirement("ID-001")
def test_minted_session_and_response_ids_are_visible_ascii_of_16_to_128_characters(ids):
    minted: list[str] = []
    for n in range(8):
        session = ids.create_session()
        minted.append(assert_minted(session["session_id"], f"minted session id #{n}"))
        response = ids.run(session["session_id"], f"turn {n}")
        minted.append(assert_minted(response["response_id"], f"response id #{n}"))
    assert len(set(minted)) == len(minted), f"one service minted the same id twice: {sorted(minted)}"


@requirement("ID-002")
def test_two_fresh_services_never_mint_the_same_id(driver_factory):
    seen: list[set[str]] = []
    for _ in range(2):
        ids = IdentityClient(driver_factory())
        minted = set()
        for n in range(5):
            sid = ids.create_session()["session_id"]
            minted |= {sid, ids.run(sid, f"turn {n}")["response_id"]}
        seen.append(minted)
    shared = seen[0] & seen[1]
    assert not shared, f"two independent services minted the same ids (a counter, not randomness): {sorted(shared)}"


VALID_IDS = {
    "ascii": "session-1",
    "256-ascii": "x" * 256,
    "256-astral": "\U0001f600" * 256,
    "cjk": "会话-一",
    "padded": "  padded  ",
    "json-looking": '{"type": "session", "session_id": ""}',
    "path": "../../etc/passwd",
}


@requirement("ID-003")
@pytest.mark.parametrize("name", list(VALID_IDS))
def test_valid_caller_supplied_session_id_is_kept_verbatim(ids, name):
    sid = VALID_IDS[name]
    assert ids.create_session(sid)["session_id"] == sid, f"create_session({name}) changed the id"
    assert ids.get_session(sid)["session_id"] == sid, f"get_session({name}) changed the id"
    assert ids.run(sid)["session_id"] == sid, f"a run on the {name} session reported another session id"
    assert ids.snapshot(sid)["session_id"] == sid, f"the snapshot of the {name} session holds another id"


@requirement("ID-004")
@pytest.mark.parametrize("name", list(INVALID_IDS))
def test_invalid_session_id_is_rejected_at_create(ids, name):
    with expect_error("invalid_argument", f"create_session with the {name} id"):
        ids.create_session(INVALID_IDS[name])


@requirement("ID-004")
@pytest.mark.parametrize("name", ["empty", "newline", "integer", "null"])
def test_snapshot_with_an_invalid_session_id_is_rejected_not_given_a_new_id(ids, name):
    snapshot = ids.snapshot(ids.create_session("original")["session_id"])
    snapshot["session_id"] = None if name == "null" else INVALID_IDS[name]
    ids.restart()
    with expect_error("invalid_argument", f"restoring a snapshot whose session id is {name}"):
        ids.restore(snapshot)
    with expect_error("not_found", "get_session('original') after the rejected restore"):
        ids.get_session("original")


@requirement("ID-005")
def test_creating_a_live_session_id_again_fails_as_conflict(ids):
    ids.create_session("taken", service_handle="handle-1", state={"n": 1})
    with expect_error("conflict", "create_session('taken') a second time"):
        ids.create_session("taken", service_handle="handle-2", state={"n": 2})
    assert_json_equal(
        ids.get_session("taken"),
        {"session_id": "taken", "service_handle": "handle-1", "state": {"n": 1}},
        "the first session after the rejected duplicate",
    )


@requirement("ID-005")
def test_restoring_a_live_session_id_fails_as_conflict(ids):
    ids.create_session("live", state={"n": 1})
    snapshot = ids.snapshot("live")
    ids.set_state("live", {"n": 2})
    with expect_error("conflict", "restoring a snapshot over a live session"):
        ids.restore(snapshot)
    assert_json_equal(ids.get_session("live")["state"], {"n": 2}, "the live session's state after the rejected restore")


UNKNOWN_SESSION_CALLS = {
    "get_session": lambda ids: ids.get_session("nobody"),
    "set_state": lambda ids: ids.set_state("nobody", {}),
    "run": lambda ids: ids.run("nobody"),
    "resume": lambda ids: ids.resume("nobody", "opaque-token"),
    "snapshot": lambda ids: ids.snapshot("nobody"),
}


@requirement("ID-006")
@pytest.mark.parametrize("operation", list(UNKNOWN_SESSION_CALLS))
def test_operation_on_an_unknown_session_fails_as_not_found(ids, operation):
    ids.create_session("somebody")
    with expect_error("not_found", f"{operation} on a session that was never created"):
        UNKNOWN_SESSION_CALLS[operation](ids)
    with expect_error("not_found", "get_session after that call"):
        ids.get_session("nobody")


@requirement("ID-006")
def test_sessions_do_not_survive_a_client_restart_unless_restored(ids):
    ids.create_session("before-restart")
    ids.restart()
    with expect_error("not_found", "get_session of a session created before a restart and never restored"):
        ids.get_session("before-restart")
