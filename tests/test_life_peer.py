"""The kit's LIFE stream checker: it passes the reference server's streams and flags bad ones."""

from __future__ import annotations

import pytest

from conformance.contract import ManualClock
from conformance.suite._life_peer import check_event_stream, event, notification
from reference_impl.lifecycle_server import LifecycleServer


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
