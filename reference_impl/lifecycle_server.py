"""LIFE, the server side: a scripted session server that answers requests and emits lifecycle events.

It answers ``session.create`` / ``session.resume`` / ``session.delete`` (spec/lifecycle.md
§ Wire messages) and returns, for each request, every message it sends in order: the
notifications first, then the reply.  Per session, ``session.created`` comes first and
nothing follows ``session.deleted`` (LIFE-022); a proposed id is used as it is or refused
(LIFE-023); the ids it assigns are minted (LIFE-033).  Times come from the kit's clock.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from reference_impl._errors import InvalidArgument

__all__ = ["LifecycleServer", "mint", "rfc3339"]

#: JSON-RPC error codes the server uses.
INVALID_PARAMS, METHOD_NOT_FOUND, SESSION_EXISTS, SESSION_NOT_FOUND = -32602, -32601, -32010, -32011
_TOUCH_TYPES = frozenset({"session.updated", "session.foreground", "session.background"})


def mint() -> str:
    """A server-assigned id (LIFE-033): ``srv_`` and 128 random bits as 32 hexadecimal digits."""
    return f"srv_{secrets.token_hex(16)}"


def rfc3339(instant: dt.datetime) -> str:
    """UTC, millisecond precision, ``Z`` suffix: ``2026-01-01T00:00:00.250Z``."""
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


@dataclass
class LifecycleServer:
    """Sessions by id, each with its start time; deleted ids are never reused."""

    clock: Any
    _started: dict[str, str] = field(default_factory=dict)
    _retired: set[str] = field(default_factory=set)

    def _event(self, kind: str, session_id: str, **extra: Any) -> dict[str, Any]:
        params: dict[str, Any] = {"type": kind, "sessionId": session_id, **extra}
        if kind != "session.deleted":
            params["metadata"] = {"startTime": self._started[session_id], "modifiedTime": rfc3339(self.clock.now())}
        return {"jsonrpc": "2.0", "method": "session.lifecycle", "params": params}

    @staticmethod
    def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}

    @staticmethod
    def _reply(request_id: Any, result: dict[str, Any]) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    def handle(self, message: Any) -> list[dict[str, Any]]:  # noqa: PLR0911 - one return per refusal
        """Answer one request; return what the server sends, in order."""
        if not isinstance(message, dict) or "id" not in message or not isinstance(message.get("method"), str):
            raise InvalidArgument(f"a request is an object with an id and a method, not {message!r:.80}")
        request_id, method = message["id"], message["method"]
        params = message.get("params", {})
        if not isinstance(params, dict):
            return [self._error(request_id, INVALID_PARAMS, "params is an object")]
        sid = params.get("sessionId")
        if sid is not None and (not isinstance(sid, str) or not sid):
            return [self._error(request_id, INVALID_PARAMS, "sessionId is a non-empty string")]
        if method == "session.create":
            return self._create(request_id, sid)
        if method not in ("session.resume", "session.delete"):
            return [self._error(request_id, METHOD_NOT_FOUND, f"unknown method {method!r}")]
        if sid is None or sid not in self._started:
            return [self._error(request_id, SESSION_NOT_FOUND, f"no session {sid!r}")]
        if method == "session.resume":
            return [self._reply(request_id, {"sessionId": sid})]
        sent = [self._event("session.deleted", sid), self._reply(request_id, {})]
        del self._started[sid]
        self._retired.add(sid)
        return sent

    def _create(self, request_id: Any, proposed: str | None) -> list[dict[str, Any]]:
        if proposed is not None and (proposed in self._started or proposed in self._retired):
            return [self._error(request_id, SESSION_EXISTS, f"session id {proposed!r} is taken; propose another")]
        sid = proposed or self._mint()
        self._started[sid] = rfc3339(self.clock.now())
        extra = {"clientSessionId": proposed} if proposed is not None else {}
        return [self._event("session.created", sid, **extra), self._reply(request_id, {"sessionId": sid})]

    def _mint(self) -> str:
        """A fresh id for a create without one; never one this server has used (LIFE-022, LIFE-033)."""
        sid = mint()
        while sid in self._started or sid in self._retired:  # pragma: no cover - 128 random bits
            sid = mint()
        return sid

    def touch(self, session_id: str, kind: str) -> list[dict[str, Any]]:
        """Emit ``kind`` (updated, foreground, background) for a live session; nothing for any other id."""
        if kind not in _TOUCH_TYPES:
            raise InvalidArgument(f"touch emits one of {sorted(_TOUCH_TYPES)}, not {kind!r}")
        if session_id not in self._started:
            return []
        return [self._event(kind, session_id)]

    def close(self) -> None:
        """Nothing to release."""
