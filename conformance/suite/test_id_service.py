"""ID: what the remote agent service the kit plays changes under the client (spec/identity.md).

The kit's service (conformance/agent_service.py) can do two things an agent service does that a
test turns on: give the conversation a new handle with every response (Responses-API chaining,
ID-024) and forget a response past its retention (ID-025).
"""

from __future__ import annotations

import pytest

from conformance.suite._support import assert_json_equal, expect_error

requirement = pytest.mark.requirement


@requirement("ID-024")
def test_the_handle_the_service_gives_with_a_response_is_the_sessions_from_then_on(ids):
    sid = ids.create_session(state={"k": 1})["session_id"]
    ids.service.chaining = True
    for turn in range(3):
        held_before = ids.get_session(sid)["service_handle"]
        ids.run(sid, f"turn {turn}")
        if held_before is not None:  # null before the first run is ID-023's business
            sent = ids.service.sent("responses.create")[-1]["service_handle"]
            assert_json_equal(sent, held_before, f"the handle run {turn} sent: the one the last response gave")
        given = ids.service.handles[-1]
        held = ids.get_session(sid)["service_handle"]
        assert held == given, f"after run {turn} the session's handle is {held!r}; the service gave {given!r}"
        assert_json_equal(ids.snapshot(sid)["service_handle"], given, f"the snapshot's handle after run {turn}")


@requirement("ID-024")
def test_a_long_run_keeps_the_handle_its_start_gave_through_its_resumes(ids):
    sid = ids.create_session()["session_id"]
    ids.service.chaining = True
    started = ids.run(sid, "long", steps=3)
    given = ids.service.handles[-1]
    ids.resume(sid, started["continuation_token"])
    held = ids.get_session(sid)["service_handle"]
    assert held == given, f"after a resume the session's handle is {held!r}; the run's response gave {given!r}"


@requirement("ID-025")
def test_a_token_whose_response_expired_is_not_found_and_changes_nothing(ids):
    sid = ids.create_session()["session_id"]
    ids.run(sid, "kept", steps=3)
    kept = ids.service.created[-1]  # the service's own ids: what the client reports is ID-008's business
    lost = ids.run(sid, "lost", steps=3)
    ids.service.expire(ids.service.created[-1])
    before, kept_before = ids.get_session(sid), ids.service.response(kept)
    with expect_error("not_found", "resuming with a token whose response the service no longer has"):
        ids.resume(sid, lost["continuation_token"])
    assert_json_equal(ids.get_session(sid), before, "the session after the expired token was refused")
    assert_json_equal(ids.service.response(kept), kept_before, "the session's other operation, at the service")


@requirement("ID-026")
def test_a_persistent_client_keeps_its_sessions_across_a_restart(ids):
    named = ids.create_session("support-42", state={"tier": "gold", "type": "session"})
    minted = ids.create_session(service_handle={"context_id": "ctx-1"} if structured(ids) else "conv-given")
    started = ids.run("support-42", "long", steps=2)
    before = {sid: ids.get_session(sid) for sid in ("support-42", minted["session_id"])}
    assert named["state"] == {"tier": "gold", "type": "session"}, f"create_session gave {named}"
    ids.restart_in_place()
    for sid, view in before.items():
        assert_json_equal(ids.get_session(sid), view, f"session {sid!r} after a restart over the same storage")
    done = ids.resume("support-42", started["continuation_token"])
    assert (done["response_id"], done["status"], done["output"]) == (started["response_id"], "completed", "long"), (
        f"resuming after the restart with the token kept by the caller gave {done}"
    )


def _created(ids):
    ids.create_session("s", service_handle="conv_s", state={"k": 1})


def _state_set(ids):
    ids.create_session("s", service_handle="conv_s", state={"k": 1})
    ids.set_state("s", {"k": 2, "note": "set last"})


def _restored(ids):
    snapshot = ids.snapshot(ids.create_session("s", service_handle="conv_s", state={"k": 1})["session_id"])
    ids.restart()  # a client over fresh storage, where "s" is not live
    ids.restore(snapshot | {"state": {"k": 3}})


def _first_run(ids):
    # A session restored without a handle gets one at its first run (ID-023): the run changes it.
    snapshot = ids.snapshot(ids.create_session("s", service_handle="conv_s", state={"k": 1})["session_id"])
    ids.restart()
    ids.restore(snapshot | {"service_handle": None})
    return ids.run("s", "long", steps=2)


#: The changes a client makes to a session, each made last before a restart.
LAST_CHANGES = {"create_session": _created, "set_state": _state_set, "restore": _restored, "run": _first_run}


@requirement("ID-026")
@pytest.mark.parametrize("change", list(LAST_CHANGES))
def test_a_persistent_client_keeps_the_change_made_just_before_a_restart(ids, change):
    started = LAST_CHANGES[change](ids)
    before = ids.get_session("s")
    ids.restart_in_place()
    assert_json_equal(ids.get_session("s"), before, f"the session after {change} and a restart over the same storage")
    if started is not None:
        done = ids.resume("s", started["continuation_token"])
        assert (done["response_id"], done["status"]) == (started["response_id"], "completed"), (
            f"resuming after the restart with the token kept by the caller gave {done}"
        )


def structured(ids):
    return ids.driver.info.claimed("id.structured-handle")


@requirement("ID-024")
def test_a_resume_leaves_the_handle_of_the_latest_run(ids):
    sid = ids.create_session()["session_id"]
    ids.service.chaining = True
    older = ids.run(sid, "older", steps=3)
    ids.run(sid, "newer")
    newest = ids.service.handles[-1]
    ids.resume(sid, older["continuation_token"])  # the service's record names the older run's handle
    held = ids.get_session(sid)["service_handle"]
    assert held == newest, (
        f"after resuming an older run the session's handle is {held!r}; the latest run's response gave {newest!r},"
        " and a resume's record does not replace it"
    )


def unchanged_after_failing_calls(ids, fault: str, set_fault) -> None:
    """Run and resume while the service has ``fault``: each fails with unavailable and changes nothing."""
    sid = ids.create_session(service_handle="conv-given", state={"k": 1})["session_id"]
    started = ids.run(sid, "long", steps=3)
    before, operation = ids.get_session(sid), ids.service.response(started["response_id"])
    set_fault(True)
    with expect_error("unavailable", f"a run while the agent service {fault}"):
        ids.run(sid, "lost")
    with expect_error("unavailable", f"a resume while the agent service {fault}"):
        ids.resume(sid, started["continuation_token"])
    set_fault(False)
    assert_json_equal(ids.get_session(sid), before, f"the session after the calls that found the service {fault}")
    assert_json_equal(ids.service.response(started["response_id"]), operation, "the operation, at the service")


@requirement("ID-027")
def test_a_service_that_cannot_be_reached_is_unavailable(ids):
    def outage(on: bool) -> None:
        ids.service.outage = on

    unchanged_after_failing_calls(ids, "cannot be reached", outage)


@requirement("ID-028")
def test_a_service_that_fails_inside_is_unavailable_not_a_crash_of_the_client(ids):
    def failing(on: bool) -> None:
        ids.service.failing = "internal" if on else None

    unchanged_after_failing_calls(ids, "fails inside", failing)
