"""The kit's LIFE stream checker: it passes the reference server's streams and flags bad ones."""

from __future__ import annotations

import pytest

import reference_impl
from conformance.contract import ManualClock
from conformance.suite._life_peer import check_event_stream, event, notification
from reference_impl.lifecycle import LifecycleProbe
from reference_impl.lifecycle_server import LifecycleServer
from tests.conftest import failures


def request(number, method, session_id=None):
    params = {} if session_id is None else {"sessionId": session_id}
    return {"jsonrpc": "2.0", "id": number, "method": method, "params": params}


def reference_stream():
    clock = ManualClock()
    server = LifecycleServer(clock)
    sent = []
    sent += server.handle(request(1, "session.create", "chosen"))
    clock.advance(0.25)
    sent += server.handle(request(2, "session.create"))
    sent += server.touch("chosen", "session.updated")
    sent += server.handle(request(3, "session.resume", "chosen"))
    sent += server.handle(request(4, "session.delete", "chosen"))
    sent += server.touch("chosen", "session.updated")
    sent += server.handle(request(5, "session.delete", "chosen"))
    sent += server.handle(request(6, "session.create", "chosen"))
    return sent


def test_the_reference_server_stream_has_no_problems():
    stream = reference_stream()
    assert check_event_stream(stream) == []
    types = [m["params"]["type"] for m in stream if "method" in m]
    assert types == ["session.created", "session.created", "session.updated", "session.deleted"]
    assert stream[0]["params"]["clientSessionId"] == "chosen"
    assert "clientSessionId" not in stream[2]["params"]


def note(kind, sid, **extra: object):
    return notification(event(kind, sid, **extra))


BAD = {
    "update before created": ([note("session.updated", "a")], "before its session.created"),
    "created twice": ([note("session.created", "a"), note("session.created", "a")], "second session.created"),
    "event after deleted": (
        [note("session.created", "a"), note("session.deleted", "a"), note("session.background", "a")],
        "after its session.deleted",
    ),
    "metadata on deleted": (
        [
            note("session.created", "a"),
            notification(
                {"type": "session.deleted", "sessionId": "a", "metadata": event("session.updated", "a")["metadata"]}
            ),
        ],
        "(notification)",
    ),
    "no metadata on updated": (
        [note("session.created", "a"), notification({"type": "session.updated", "sessionId": "a"})],
        "(notification)",
    ),
    "clientSessionId on updated": (
        [note("session.created", "a"), note("session.updated", "a", clientSessionId="a")],
        "(notification)",
    ),
    "bad timestamp": (
        [
            notification(
                {"type": "session.created", "sessionId": "a", "metadata": {"startTime": "now", "modifiedTime": "now"}}
            )
        ],
        "(notification)",
    ),
    "reply with result and error": (
        [{"jsonrpc": "2.0", "id": 1, "result": {}, "error": {"code": 1, "message": "x"}}],
        "(reply)",
    ),
    "reply without id": ([{"jsonrpc": "2.0", "result": {"sessionId": "a"}}], "(reply)"),
    "empty session id in result": ([{"jsonrpc": "2.0", "id": 1, "result": {"sessionId": ""}}], "(reply)"),
}


@pytest.mark.parametrize("label", list(BAD))
def test_a_bad_stream_is_flagged(label):
    stream, expected = BAD[label]
    problems = check_event_stream(stream)
    assert any(expected in p for p in problems), f"{label}: {problems}"


def test_an_unknown_event_type_after_created_is_fine():
    stream = [note("session.created", "a"), notification({"type": "session.renamed", "sessionId": "a"})]
    assert check_event_stream(stream) == []


class _UnsupportedCall(Exception):
    error_kind = "unsupported"


class _ClientLevelProbe(LifecycleProbe):
    """A client with one client-level lifecycle callback and no session handlers (github-copilot-sdk Python)."""

    def subscribe(self, handler, behaviour, session_id=None, event_type=None):
        if session_id is not None:
            raise _UnsupportedCall("this client has no per-session lifecycle handlers")
        super().subscribe(handler, behaviour, event_type=event_type)


class ClientLevelOnly:
    """The reference client without session handlers: claims ``life`` and ``life.server`` only."""

    name = "client-level lifecycle handlers only"
    version = reference_impl.__version__
    spec_version = reference_impl.SPEC_VERSION
    claims = frozenset({"life", "life.server"})

    def open_lifecycle_client(self, env):
        return _ClientLevelProbe()

    def open_lifecycle_server(self, env):
        return LifecycleServer(env.clock)


client_level_only = ClientLevelOnly()


def test_a_client_without_session_handlers_is_judged_on_every_other_requirement(run_kit, on_path):
    """Without life.session-handlers the kit never subscribes to one session, and every life requirement passes."""
    run = run_kit("tests.test_life_peer:client_level_only", "--requirement=life")
    assert failures(run) == {}, failures(run)
    life = {rid: got for rid, got in run.outcomes.items() if rid.startswith("LIFE-")}
    assert life.pop("LIFE-034") == "skipped"
    assert set(life.values()) == {"passed"}, life
