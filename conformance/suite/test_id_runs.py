"""ID: responses, response ids, continuation tokens and per-run arguments (spec/identity.md)."""

from __future__ import annotations

import json

import pytest

from conformance._values import NonJSON
from conformance.areas._facade import UNSET
from conformance.suite._identity_support import assert_shape, finish, rejected_without_remote_call, via_json
from conformance.suite._support import assert_json_equal, expect_error, show

requirement = pytest.mark.requirement


@requirement("ID-007")
def test_each_identity_is_its_own_field_and_none_stands_in_for_another(ids):
    sid = ids.create_session()["session_id"]
    ids.run(sid, "first")  # a session without a handle gets one at its first run (ID-023); runs after it change nothing
    handle = ids.get_session(sid)["service_handle"]
    assert handle != sid, "the service handle is the session id"
    before = ids.snapshot(sid)
    started = assert_shape(ids.run(sid, "question", steps=2), "id/response", "run(steps=2)")
    assert started["session_id"] == sid, "the response names another session"
    token = started["continuation_token"]
    distinct = {"session id": sid, "service handle": handle, "response id": started["response_id"], "token": token}
    for i, (a, va) in enumerate(distinct.items()):
        for b, vb in list(distinct.items())[i + 1 :]:
            assert va != vb, f"the {a} stands in for the {b}: both are {json.dumps(va)}"
    done = assert_shape(ids.resume(sid, token), "id/response", "resume()")
    assert done["response_id"] != sid, "the response id is the session id"
    assert_json_equal(ids.snapshot(sid), before, "the session after a run: runs leave its identities as they were")


@requirement("ID-008")
def test_response_ids_are_the_services_across_runs_sessions_and_restarts(ids):
    seen: dict[str, str] = {}

    def record(response, what):
        rid = response["response_id"]
        assert rid not in seen, f"{what} reused the response id {rid!r} of {seen.get(rid)}"
        seen[rid] = what
        given = ids.service.created[-1] if ids.service.created else None
        assert rid == given, f"{what} reports response id {rid!r}; the remote service gave that operation {given!r}"

    ids.create_session("one")
    ids.create_session("two")
    record(ids.run("one", "same words"), "run 1 on one")
    record(ids.run("one", "same words"), "run 2 on one, same input")
    record(ids.run("two", "same words"), "run 1 on two, same input")
    long = ids.run("two", "long", steps=3)
    record(long, "a long run on two")
    final = finish(ids, long)
    assert final["response_id"] == long["response_id"], (
        f"resuming the long run reports response id {final['response_id']!r}; the service gave {long['response_id']!r}"
    )
    snapshot = ids.snapshot("one")
    ids.restart()
    ids.restore(snapshot)
    record(ids.run("one", "same words"), "run 3 on one, after a restart and restore")


#: How a run asks for its units of work, and how many that is: omitted or null means 1, and 100 is
#: the largest count (spec/identity.md § The abstract surface).
STEP_COUNTS = {"omitted": (UNSET, 1), "null": (None, 1), "1": (1, 1), "2": (2, 2), "4": (4, 4), "100": (100, 100)}


@requirement("ID-009")
@pytest.mark.parametrize("name", list(STEP_COUNTS))
def test_token_is_present_exactly_while_the_operation_is_unfinished(ids, name):
    given, steps = STEP_COUNTS[name]
    sid = ids.create_session()["session_id"]
    response = ids.run(sid, "work", steps=given)
    for done in range(1, steps):
        assert response["status"] == "in_progress", f"after {done} of {steps} units the status is {response['status']}"
        assert response["continuation_token"] is not None, f"no token after {done} of {steps} units"
        response = ids.resume(sid, response["continuation_token"])
    assert response["status"] == "completed", f"after all {steps} units the status is {response['status']}"
    assert response["continuation_token"] is None, f"a finished operation carries {response['continuation_token']!r}"
    assert_shape(response, "id/response", "the final response")


@requirement("ID-010")
def test_resuming_continues_the_operation_the_token_names_not_the_latest(ids):
    sid = ids.create_session()["session_id"]
    first = ids.run(sid, "first", steps=3)
    second = ids.run(sid, "second", steps=2)
    step = ids.resume(sid, first["continuation_token"])
    assert (step["response_id"], step["status"]) == (first["response_id"], "in_progress"), (
        f"resuming the older operation (1 of 3 units done) while a newer one waits gave {step}"
    )
    done = ids.resume(sid, second["continuation_token"])
    assert (done["response_id"], done["status"], done["output"]) == (second["response_id"], "completed", "second"), (
        f"resuming the newer operation gave {done}"
    )
    last = ids.resume(sid, step["continuation_token"])
    assert (last["response_id"], last["status"], last["output"]) == (first["response_id"], "completed", "first"), (
        f"the older operation's last unit gave {last}"
    )


@requirement("ID-011")
def test_a_spent_token_returns_the_final_response_again(ids):
    sid = ids.create_session()["session_id"]
    started = ids.run(sid, "once", steps=2)
    final = ids.resume(sid, started["continuation_token"])
    calls, created = ids.remote_calls(), len(ids.service.created)
    again = ids.resume(sid, started["continuation_token"])
    assert_json_equal(again, final, "resuming with the token of an operation that has completed")
    assert len(ids.service.created) == created, "replaying a finished operation asked the service for a new response"
    assert ids.remote_calls() - calls <= 1, "replaying a finished operation made more than one remote call"


@requirement("ID-012")
def test_token_survives_a_json_round_trip_and_a_restart(ids):
    sid = ids.create_session()["session_id"]
    started = ids.run(sid, "durable", steps=3)
    step = ids.resume(sid, via_json(started["continuation_token"]))
    assert (step["response_id"], step["status"]) == (started["response_id"], "in_progress"), f"first resume gave {step}"
    saved_token, saved_snapshot = json.dumps(step["continuation_token"]), json.dumps(ids.snapshot(sid))
    ids.restart()
    ids.restore(json.loads(saved_snapshot))
    last = ids.resume(sid, json.loads(saved_token))
    assert (last["response_id"], last["status"], last["output"]) == (started["response_id"], "completed", "durable"), (
        f"resuming after a restart gave {last}"
    )


@requirement("ID-013")
def test_token_of_another_session_is_rejected_before_any_remote_call(ids):
    mine, theirs = ids.create_session()["session_id"], ids.create_session()["session_id"]
    started = ids.run(theirs, "theirs", steps=2)
    with rejected_without_remote_call(ids, "invalid_argument", "resuming another session's operation"):
        ids.resume(mine, started["continuation_token"])
    done = ids.resume(theirs, started["continuation_token"])
    assert (done["status"], done["output"]) == ("completed", "theirs"), f"the owner's resume afterwards gave {done}"


WRONG_TOKENS = {
    "null": None,
    "empty-string": "",
    "made-up-string": "ct_00000000000000000000000000000000",
    "integer": 42,
    "boolean": True,
    "array": ["token"],
    "empty-object": {},
    "made-up-object": {"operation": "op_1", "session": "s"},
    "not-json": NonJSON("nan"),
}


@requirement("ID-013")
@pytest.mark.parametrize("name", list(WRONG_TOKENS))
def test_token_of_the_wrong_shape_is_rejected_before_any_remote_call(ids, name):
    sid = ids.create_session()["session_id"]
    ids.run(sid, "pending", steps=3)
    with rejected_without_remote_call(ids, "invalid_argument", f"resuming with a {name} token"):
        ids.resume(sid, WRONG_TOKENS[name])


@requirement("ID-019")
def test_reference_task_ids_travel_with_their_run_only(ids):
    sid = ids.create_session(state={"topic": "billing"})["session_id"]
    refs = ["ref-task-7-19f3", "ref-task-9-19f3"]  # values nothing else in a session can hold
    referring = ids.run(sid, "follow-up", steps=2, reference_task_ids=refs)
    assert referring["reference_task_ids"] == refs, f"the run's references arrived as {referring}"
    resumed = ids.resume(sid, referring["continuation_token"])
    assert resumed["reference_task_ids"] == refs, f"the resumed operation lost them: {resumed}"
    # ID-019 forbids the references in the session, not other changes a run may make (a handle
    # the service assigns at the first run is ID-007/ID-014's business), so look only for them.
    for what, value in (("get_session", ids.get_session(sid)), ("snapshot", ids.snapshot(sid))):
        found = [ref for ref in refs if ref in json.dumps(value)]
        assert not found, f"{what} after a run with reference_task_ids holds {found}: {show(value)}"
    sent = [params.get("reference_task_ids") for params in ids.service.sent("responses.create")]
    assert sent[-1] == refs, f"the run with references sent the remote service {sent[-1]!r}, not {refs}"
    plain = ids.run(sid, "unrelated")
    assert plain["reference_task_ids"] == [], f"a later run without references sent {plain['reference_task_ids']}"
    later = ids.service.sent("responses.create")[-1].get("reference_task_ids")
    assert not later, f"a later run without references sent the remote service {later!r}"


@requirement("ID-016")
@pytest.mark.parametrize("bad", [[""], "task-7", [7], {"id": "task-7"}])
def test_invalid_reference_task_ids_are_rejected_before_any_remote_call(ids, bad):
    sid = ids.create_session()["session_id"]
    with rejected_without_remote_call(ids, "invalid_argument", f"run with reference_task_ids={bad!r}"):
        ids.run(sid, reference_task_ids=bad)


@requirement("ID-016")
@pytest.mark.parametrize("steps", [0, -1, 101, True, 1.5, 2.0, "2", [2]])
def test_invalid_step_count_is_rejected_before_any_remote_call(ids, steps):
    sid = ids.create_session()["session_id"]
    with rejected_without_remote_call(ids, "invalid_argument", f"run with steps={steps!r}"):
        ids.run(sid, steps=steps)


@requirement("ID-016")
@pytest.mark.parametrize("state", [["k", "v"], "state", 7, NonJSON("nan")])
def test_state_that_is_not_an_object_is_rejected_before_any_remote_call(ids, state):
    sid = ids.create_session(state={"k": "v"})["session_id"]
    with rejected_without_remote_call(ids, "invalid_argument", f"set_state({state!r})"):
        ids.set_state(sid, state)
    with rejected_without_remote_call(ids, "invalid_argument", f"create_session(state={state!r})"):
        ids.create_session("other", state=state)


@requirement("ID-029")
def test_a_lone_surrogate_is_rejected_before_any_remote_call(ids):
    lone = NonJSON("lone-surrogate")  # the string a, U+D800, b: no JSON text in UTF-8 can carry it
    sid = ids.create_session(service_handle="conv-given")["session_id"]
    before = ids.get_session(sid)
    with rejected_without_remote_call(ids, "invalid_argument", "a run whose input holds a lone surrogate"):
        ids.run(sid, lone)
    with rejected_without_remote_call(ids, "invalid_argument", "set_state with a lone surrogate in the state"):
        ids.set_state(sid, {"note": lone})
    with rejected_without_remote_call(ids, "invalid_argument", "create_session with a lone surrogate in the state"):
        ids.create_session("surrogate-state", service_handle="conv-given", state={"note": lone})
    with rejected_without_remote_call(ids, "invalid_argument", "create_session with a lone surrogate as the handle"):
        ids.create_session("surrogate-handle", service_handle=lone)
    assert_json_equal(ids.get_session(sid), before, "the session after the rejected calls")
    for refused in ("surrogate-state", "surrogate-handle"):
        with expect_error("not_found", f"get_session({refused!r}) after its create was rejected"):
            ids.get_session(refused)


@requirement("ID-013")
@pytest.mark.parametrize("value", ["", 42, None])
def test_an_issued_token_with_one_member_changed_is_rejected_before_any_remote_call(ids, value):
    # A token is opaque, but one that is a JSON object with a member changed is a token the
    # implementation did not issue, whichever member it is.
    sid = ids.create_session()["session_id"]
    token = ids.run(sid, "pending", steps=3)["continuation_token"]
    if not isinstance(token, dict) or not token:
        return  # the changes below apply to an object token only; the other shapes are judged above
    for member in sorted(token):
        changed = {**token, member: value}
        if changed == token:
            continue
        with rejected_without_remote_call(ids, "invalid_argument", f"resuming with member {member!r} set to {value!r}"):
            ids.resume(sid, changed)
