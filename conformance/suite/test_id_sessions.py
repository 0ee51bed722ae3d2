"""ID: minted and caller-supplied session ids, duplicates and unknown sessions (spec/identity.md)."""

from __future__ import annotations

import copy

import pytest

from conformance.areas.id import IdentityClient
from conformance.errors import ImplementationError
from conformance.suite._identity_support import (
    assert_minted,
    assert_random_bits,
    rejected_without_remote_call,
    reported_first,
)
from conformance.suite._support import (
    COLLIDING_IDS,
    INVALID_IDS,
    LARGE_STATES,
    accepted,
    assert_json_equal,
    expect_error,
    not_judged,
)

requirement = pytest.mark.requirement


@requirement("ID-001")
def test_minted_session_ids_are_22_to_128_url_safe_characters(ids):
    minted = [assert_minted(ids.create_session()["session_id"], f"minted session id #{n}") for n in range(8)]
    assert len(set(minted)) == len(minted), f"one client minted the same session id twice: {sorted(minted)}"


@requirement("ID-002")
def test_minted_session_ids_carry_at_least_122_random_bits(ids):
    minted = [ids.create_session()["session_id"] for _ in range(40)]
    assert all(isinstance(i, str) and i for i in minted), f"minted session ids are not all non-empty strings: {minted}"
    assert_random_bits(minted, "minted session ids")


@requirement("ID-002")
def test_two_fresh_clients_never_mint_the_same_session_id(driver_factory):
    seen: list[set[str]] = []
    for _ in range(2):
        ids = IdentityClient(driver_factory())
        seen.append({ids.create_session()["session_id"] for _ in range(5)})
    shared = seen[0] & seen[1]
    assert not shared, f"two independent clients minted the same session ids (a counter?): {sorted(shared)}"


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
    # A changed copy: the snapshot the client gave stays as it was (what it keeps is not this test's).
    snapshot = {**ids.snapshot(ids.create_session("original")["session_id"])}
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
def test_resume_on_a_session_lost_in_a_restart_fails_as_not_found(ids):
    # The only valid token for a session that is not live is one it got before a restart: any
    # other token is a wrong argument, which comes first (ID-021).
    token = ids.run(ids.create_session("gone")["session_id"], "pending", steps=3)["continuation_token"]
    ids.restart()
    try:
        ids.resume("gone", token)
    except ImplementationError as exc:
        if exc.kind == "invalid_argument":
            not_judged("ID-012", f"after a restart the client no longer knows its own token: {exc.message}")
        assert exc.kind == "not_found", f"resume on a session lost in a restart failed as {exc.kind}: {exc.message}"
    else:
        pytest.fail("resume on a session lost in a restart (and never restored) succeeded", pytrace=False)
    with expect_error("not_found", "get_session after that call"):
        ids.get_session("gone")


@requirement("ID-006")
def test_sessions_do_not_survive_a_client_restart_unless_restored(ids):
    ids.create_session("before-restart")
    ids.restart()
    with expect_error("not_found", "get_session of a session created before a restart and never restored"):
        ids.get_session("before-restart")


#: Calls with a wrong argument and an unknown or taken session, each beside the same wrong argument
#: on a live or free session, and the requirement that makes that argument wrong.
SEVERAL_FAULTS = {
    "run-unknown-session-bad-steps": (
        lambda ids, _: ids.run("nobody", steps=0),
        lambda ids, _: ids.run("live", steps=0),
        "ID-016",
    ),
    "run-unknown-session-bad-input": (
        lambda ids, _: ids.run("nobody", 42),
        lambda ids, _: ids.run("live", 42),
        "ID-016",
    ),
    "resume-unknown-session-made-up-token": (
        lambda ids, _: ids.resume("nobody", "opaque-token"),
        lambda ids, _: ids.resume("live", "opaque-token"),
        "ID-013",
    ),
    "create-live-id-bad-handle": (
        lambda ids, _: ids.create_session("live", service_handle=""),
        lambda ids, _: ids.create_session("free", service_handle=""),
        "ID-016",
    ),
    "restore-live-id-unknown-member": (
        lambda ids, snapshot: ids.restore(snapshot | {"future_field": 1}),
        lambda ids, snapshot: ids.restore(snapshot | {"future_field": 1, "session_id": "free"}),
        "ID-018",
    ),
    "set_state-unknown-session-array-state": (
        lambda ids, _: ids.set_state("nobody", ["not", "an", "object"]),
        lambda ids, _: ids.set_state("live", ["not", "an", "object"]),
        "ID-016",
    ),
}


@requirement("ID-021")
@pytest.mark.parametrize("name", list(SEVERAL_FAULTS))
def test_a_wrong_argument_is_reported_before_an_unknown_or_taken_session(ids, name):
    snapshot = ids.snapshot(ids.create_session("live", state={"n": 1})["session_id"])
    several, alone, relies_on = SEVERAL_FAULTS[name]
    reported_first(
        "invalid_argument",
        lambda: several(ids, snapshot),
        lambda: alone(ids, snapshot),
        relies_on,
        f"a call with several faults ({name})",
    )


#: Operations that name a session, each called with a malformed session id (which no live session has).
MALFORMED_ID_CALLS = {
    "get_session": lambda ids, sid: ids.get_session(sid),
    "snapshot": lambda ids, sid: ids.snapshot(sid),
    "set_state": lambda ids, sid: ids.set_state(sid, {"n": 2}),
    "run": lambda ids, sid: ids.run(sid, "hello"),
}


@requirement("ID-021")
@pytest.mark.parametrize("operation", list(MALFORMED_ID_CALLS))
@pytest.mark.parametrize("name", ["empty", "257-ascii", "newline", "del", "c1-control"])
def test_a_malformed_session_id_is_reported_before_the_session_is_not_found(ids, operation, name):
    # A malformed id is an argument fault, and no session is live under it: invalid_argument comes
    # first.  Alone, the same id given to create_session must be refused (ID-004).
    ids.create_session("live", state={"n": 1})
    reported_first(
        "invalid_argument",
        lambda: MALFORMED_ID_CALLS[operation](ids, INVALID_IDS[name]),
        lambda: ids.create_session(INVALID_IDS[name]),
        "ID-004",
        f"{operation} with the {name} session id",
    )


@requirement("ID-022")
def test_a_session_created_without_state_has_the_empty_object(ids):
    for session in (ids.create_session(), ids.create_session("explicit-null", state=None)):
        assert_json_equal(session["state"], {}, f"the state of {session['session_id']!r} at create")
        assert_json_equal(ids.get_session(session["session_id"])["state"], {}, "get_session of it")


@requirement("ID-022")
def test_set_state_replaces_the_state_whole(ids):
    ids.create_session("s", state={"a": 1, "keep": {"x": 1}})
    ids.set_state("s", {"b": 2})
    assert_json_equal(ids.get_session("s")["state"], {"b": 2}, "the state after set_state({'b': 2})")
    ids.set_state("s", {})
    assert_json_equal(ids.get_session("s")["state"], {}, "the state after set_state({})")
    ids.set_state("s", {"b": {"c": [1, 2]}})
    snapshot = ids.snapshot("s")
    ids.set_state("s", {"b": {"d": 3}})
    assert_json_equal(ids.get_session("s")["state"], {"b": {"d": 3}}, "a nested member after set_state")
    ids.restart()
    assert_json_equal(ids.restore(snapshot)["state"], {"b": {"c": [1, 2]}}, "the state restored from a snapshot")


@requirement("ID-003")
@pytest.mark.parametrize("name", list(COLLIDING_IDS))
def test_session_ids_differing_in_one_code_point_are_two_sessions_both_written(ids, name):
    # Both ids of a pair that a prefix scan, a wildcard match, truncation or a lossy encoding would
    # merge are created, then both are read back: each is its own session under exactly its own id.
    first, second = COLLIDING_IDS[name]
    ids.create_session(first, state={"n": 1})
    ids.create_session(second, state={"n": 2})
    for sid, n in ((first, 1), (second, 2)):
        got = ids.get_session(sid)
        assert got["session_id"] == sid, f"get_session() of the {name} id {sid!r}, both created, names {got}"
        assert_json_equal(got["state"], {"n": n}, f"the state of the {name} id {sid!r}, both created")


@requirement("ID-022")
@pytest.mark.parametrize("name", list(LARGE_STATES))
def test_a_large_state_is_kept_exactly_by_every_operation_that_gives_one(ids, name):
    large = LARGE_STATES[name]
    if accepted(lambda: ids.create_session("created", state=copy.deepcopy(large))):
        assert_json_equal(ids.get_session("created")["state"], large, f"the {name} state given to create_session")
    ids.create_session("set")
    if accepted(lambda: ids.set_state("set", copy.deepcopy(large))):
        assert_json_equal(ids.get_session("set")["state"], large, f"the {name} state given to set_state")
        snapshot = ids.snapshot("set")
        ids.restart()
        if accepted(lambda: ids.restore(snapshot)):
            assert_json_equal(ids.get_session("set")["state"], large, f"the {name} state restored from a snapshot")


@requirement("ID-030")
def test_a_closed_client_answers_every_call_with_closed(ids):
    sid = ids.create_session("kept", service_handle="conv-kept", state={"n": 1})["session_id"]
    token = ids.run(sid, "pending", steps=3)["continuation_token"]
    snapshot = ids.snapshot(sid)
    ids.close()
    calls = {
        "create_session of a new id": lambda: ids.create_session("new", service_handle="conv-new"),
        "create_session with a minted id": ids.create_session,
        "get_session of a session it had": lambda: ids.get_session(sid),
        "set_state of a session it had": lambda: ids.set_state(sid, {"n": 2}),
        "run on a session it had": lambda: ids.run(sid, "more"),
        "resume with a token it issued": lambda: ids.resume(sid, token),
        "snapshot of a session it had": lambda: ids.snapshot(sid),
        "restore of a snapshot it took": lambda: ids.restore(snapshot),
        "restore of a snapshot under a new id": lambda: ids.restore(snapshot | {"session_id": "other"}),
        "create_session with an empty id": lambda: ids.create_session(""),
        "get_session with an empty id": lambda: ids.get_session(""),
        "run with steps 0": lambda: ids.run(sid, "more", steps=0),
        "resume with a made-up token": lambda: ids.resume(sid, "opaque-token"),
        "restore of an array": lambda: ids.restore(["not", "a", "snapshot"]),
    }
    for doing, call in calls.items():
        with rejected_without_remote_call(ids, "closed", f"{doing} after close"):
            call()
