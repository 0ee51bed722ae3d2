"""The kit's side of LIFE: a scripted server peer for clients, and a stream checker for servers.

:class:`ScriptedPeer` reads the requests a client under test has sent (``life.outbox``),
composes the server's answers and hands them over (``life.deliver``) one at a time, so a
test decides every interleaving: an event before or after the reply, a reply dropped,
duplicated, refused, carrying another id or none.  The peer keeps no threads and no clock
of its own beyond a counter for the timestamps it writes.

:func:`check_event_stream` is the other direction: given what a server sent, in order, it
returns every problem with the schemas (``schemas/life/``) and the ordering rules of
spec/lifecycle.md (LIFE-021, LIFE-022).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance._data import validator_for
from conformance._traceback import kit_frame
from conformance.suite._support import MINTED, minted_bits

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Iterable

    from conformance.areas._facade import Answer
    from conformance.areas.life import LifeClient

__all__ = [
    "KNOWN_TYPES",
    "MINTED",
    "ScriptedClient",
    "ScriptedPeer",
    "check_event_stream",
    "event",
    "minted_bits",
    "notification",
    "session_handlers",
]

KNOWN_TYPES = ("session.created", "session.deleted", "session.updated", "session.foreground", "session.background")
_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _instant(step: int) -> str:
    at = _EPOCH + dt.timedelta(milliseconds=250 * step)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def session_handlers(life: LifeClient) -> bool:
    """Whether the client lets handlers subscribe to one session (capability ``life.session-handlers``).

    Without it the kit never sends ``life.subscribe`` with a ``session_id``: what a ``life``
    requirement says about session handlers holds for a client that has none, and the tests check
    the rest (spec/lifecycle.md § Session handlers).
    """
    return life.driver.info.claimed("life.session-handlers")


def event(kind: str, session_id: str, *, step: int = 0, **extra: Any) -> dict[str, Any]:
    """A valid event envelope: metadata on every type but ``session.deleted``."""
    params: dict[str, Any] = {"type": kind, "sessionId": session_id}
    if kind != "session.deleted":
        params["metadata"] = {"startTime": _instant(0), "modifiedTime": _instant(step)}
    params.update(extra)
    return params


def notification(params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "session.lifecycle", "params": params}


@dataclass
class ScriptedPeer:
    """Plays the server for one client under test; every delivery is explicit."""

    client: LifeClient
    requests: list[dict[str, Any]] = field(default_factory=list)
    _minted: Any = field(default_factory=lambda: itertools.count(1))
    _steps: Any = field(default_factory=lambda: itertools.count(1))

    def pull(self) -> list[dict[str, Any]]:
        """The requests the client sent since the last pull (also kept in ``requests``)."""
        sent = self.client.outbox()
        assert isinstance(sent, list), f"life.outbox returned {sent!r}, not an array of requests"
        problems = [p for message in sent for p in _schema_problems("life/request.schema.json", message)]
        assert not problems, f"the client sent a malformed request: {problems[0]}"
        self.requests.extend(sent)
        return sent

    def only(self) -> dict[str, Any]:
        """Pull, and insist that exactly one request was sent."""
        sent = self.pull()
        assert len(sent) == 1, f"expected the client to send one request, it sent {len(sent)}: {sent}"
        return sent[0]

    def mint(self) -> str:
        return f"srv-{next(self._minted)}"

    # -- composing messages --------------------------------------------------------------------
    @staticmethod
    def reply(request: dict[str, Any], result: Any) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": request["id"], "result": result}

    def ok(self, request: dict[str, Any], session_id: str | None = None) -> dict[str, Any]:
        """The normal reply: delete gets ``{}``; create and resume name the session."""
        if request["method"] == "session.delete":
            return self.reply(request, {})
        sid = session_id or request["params"].get("sessionId") or self.mint()
        return self.reply(request, {"sessionId": sid})

    @staticmethod
    def error(request: dict[str, Any], message: str = "refused by the scripted server") -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32000, "message": message}}

    def event(self, kind: str, session_id: str, **extra: Any) -> dict[str, Any]:
        return notification(event(kind, session_id, step=next(self._steps), **extra))

    def created_for(self, request: dict[str, Any], session_id: str) -> dict[str, Any]:
        """The created event a server emits for a create, with clientSessionId when one was proposed."""
        proposed = request["params"].get("sessionId")
        return self.event("session.created", session_id, **({"clientSessionId": proposed} if proposed else {}))

    # -- delivering ----------------------------------------------------------------------------
    def send(self, *messages: Any) -> None:
        for message in messages:
            self.client.deliver(message)

    def serve(self, request: dict[str, Any], *, event_first: bool = True) -> str:
        """Answer like a healthy server (event and reply, in the order asked); return the session id."""
        answer = self.ok(request)
        named = request["params"] if request["method"] == "session.delete" else answer["result"]
        sid = str(named["sessionId"])
        events: list[dict[str, Any]] = []
        if request["method"] == "session.create":
            events = [self.created_for(request, sid)]
        elif request["method"] == "session.delete":
            events = [self.event("session.deleted", sid)]
        self.send(*([*events, answer] if event_first else [answer, *events]))
        return sid


def _schema_problems(schema: str, message: Any) -> list[str]:
    validator = validator_for(schema)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(message)]


def check_event_stream(messages: Iterable[Any]) -> list[str]:
    """Every problem in what a server sent, in order: schema violations and ordering faults.

    Notifications must match ``life/notification.schema.json`` and replies
    ``life/reply.schema.json``.  Per session id, ``session.created`` comes before any
    other event and comes once, and nothing follows ``session.deleted``.
    """
    problems: list[str] = []
    created: set[str] = set()
    deleted: set[str] = set()
    for number, message in enumerate(messages):
        where = f"message {number}"
        if isinstance(message, dict) and "method" in message:
            found = _schema_problems("life/notification.schema.json", message)
            problems.extend(f"{where} (notification): {p}" for p in found)
            if found:
                continue
            params = message["params"]
            sid, kind = params["sessionId"], params["type"]
            if sid in deleted:
                problems.append(f"{where}: {kind} for session {sid!r} after its session.deleted")
            elif kind == "session.created":
                if sid in created:
                    problems.append(f"{where}: a second session.created for session {sid!r}")
                created.add(sid)
            elif sid not in created:
                problems.append(f"{where}: {kind} for session {sid!r} before its session.created")
            if kind == "session.deleted":
                deleted.add(sid)
        else:
            problems.extend(f"{where} (reply): {p}" for p in _schema_problems("life/reply.schema.json", message))
    return problems


class ScriptedClient:
    """The kit playing the client of a lifecycle server.

    Sends requests to the server under test and keeps every message it sent back, in order.
    """

    def __init__(self, life: LifeClient) -> None:
        self.life = life
        self.stream: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def request(self, method: str, session_id: str | None = None) -> Answer:
        params = {} if session_id is None else {"sessionId": session_id}
        message = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        sent = self.life.server_handle(message)
        replies = [m for m in sent if isinstance(m, dict) and "id" in m and "method" not in m]
        assert len(replies) == 1, f"{method} {params} got {len(replies)} replies, not one: {sent}"
        assert replies[0]["id"] == message["id"], (
            f"the reply to request {message['id']} carries id {replies[0]['id']!r}"
        )
        self.stream.extend(sent)
        return sent

    def touch(self, session_id: str, kind: str) -> Answer:
        sent = self.life.server_touch(session_id, kind)
        self.stream.extend(sent)
        return sent

    def created_id(self, sent: list[dict[str, Any]]) -> str:
        reply = next(m for m in sent if "id" in m)
        assert "result" in reply, f"a plain create was refused: {reply}"
        return str(reply["result"]["sessionId"])
