"""LIFE, the client side: a session registry fed by create/resume/delete replies and lifecycle events.

The client speaks JSON-RPC-shaped messages (spec/lifecycle.md § Wire messages) but owns no
transport: requests go to an outbox that the caller drains, and server messages come in
through :meth:`LifecycleClient.deliver`.  Nothing here blocks, sleeps or starts a thread,
so a test can play the server one message at a time.

Registration follows ADR 0007 (register from the reply, #1479 upstream): a caller-chosen id
is registered before its request is sent; a server-assigned id is registered when the reply
names it, never under a provisional alias.  The event handlers of the kit's probe (``record``
and ``raise``) live in :class:`LifecycleProbe` at the end, apart from the client itself.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from reference_impl._errors import InvalidArgument, ReferenceImplError

__all__ = ["KNOWN_TYPES", "LIFE_CLAIMS", "Conflict", "LifecycleClient", "LifecycleProbe", "NotFound", "event_problem"]

#: Event types of spec/lifecycle.md; every other non-empty type string is passed through unchanged.
KNOWN_TYPES = frozenset(
    {"session.created", "session.deleted", "session.updated", "session.foreground", "session.background"}
)
#: What the reference claims for LIFE (spec/requirements/life.yaml).
LIFE_CLAIMS = frozenset({"life", "life.session-handlers", "life.server"})
_WITH_METADATA = KNOWN_TYPES - {"session.deleted"}
#: An RFC 3339 date-time in any form RFC 3339 lets a writer use (spec/contract.md § Instants).
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)


class Conflict(ReferenceImplError):
    """The session id is already registered on this client."""

    error_kind = "conflict"


class NotFound(ReferenceImplError, LookupError):
    """No such session, handler or operation on this client."""

    error_kind = "not_found"


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def event_problem(params: Any) -> str | None:  # noqa: PLR0911 - one return per schema rule, read top down
    """Why ``params`` is not a valid lifecycle event envelope, or None when it is one."""
    if not isinstance(params, dict):
        return "the params of a session.lifecycle notification are not an object"
    kind, metadata = params.get("type"), params.get("metadata")
    if not _nonempty_str(kind):
        return "the event has no type string"
    if not _nonempty_str(params.get("sessionId")):
        return "the event has no sessionId string"
    if "clientSessionId" in params and (kind != "session.created" or not _nonempty_str(params["clientSessionId"])):
        return "clientSessionId appears only on session.created, as a non-empty string"
    if kind == "session.deleted" and "metadata" in params:
        return "session.deleted carries no metadata"
    if kind in _WITH_METADATA or "metadata" in params:
        if not isinstance(metadata, dict):
            return f"{kind} needs a metadata object"
        times = (metadata.get("startTime"), metadata.get("modifiedTime"))
        if not all(isinstance(t, str) and _INSTANT.fullmatch(t) for t in times):
            return "metadata needs startTime and modifiedTime as RFC 3339 date-times"
        if "summary" in metadata and not isinstance(metadata["summary"], str):
            return "metadata.summary is a string when present"
    return None


@dataclass
class _Request:
    """A request in flight: what it was for and how to finish it."""

    op: str
    method: str
    session_id: str | None  # the caller's id (create with an id, resume, delete); None: the server assigns
    was_registered: bool = False  # resume only: the session was active before the resume


@dataclass
class _Subscription:
    handler: Any  # a callable taking the event envelope
    name: str
    session_id: str | None
    event_type: str | None


@dataclass
class LifecycleClient:
    """Keeps the registry of sessions this client can route messages to."""

    sessions: set[str] = field(default_factory=set)
    _pending: dict[int, _Request] = field(default_factory=dict)
    _results: dict[str, dict[str, Any]] = field(default_factory=dict)
    _outbox: list[dict[str, Any]] = field(default_factory=list)
    _subscriptions: list[_Subscription] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    # -- requests ------------------------------------------------------------------------------
    def _send(self, method: str, params: dict[str, Any], request: _Request) -> str:
        request_id = next(self._ids)
        self._pending[request_id] = request
        self._results[request.op] = {"state": "pending"}
        self._outbox.append({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        return request.op

    @staticmethod
    def _check_id(session_id: Any) -> str:
        if not _nonempty_str(session_id):
            raise InvalidArgument(f"a session id is a non-empty string, not {session_id!r}")
        return str(session_id)

    def create(self, session_id: str | None = None) -> str:
        """Start a create; with an id, the session is routable from this moment on."""
        op = f"create-{len(self._results) + 1}"
        if session_id is None:
            return self._send("session.create", {}, _Request(op, "session.create", None))
        sid = self._check_id(session_id)
        if sid in self.sessions:
            raise Conflict(f"session {sid!r} is already registered on this client; resume it instead")
        self.sessions.add(sid)
        return self._send("session.create", {"sessionId": sid}, _Request(op, "session.create", sid))

    def resume(self, session_id: str) -> str:
        sid = self._check_id(session_id)
        request = _Request(f"resume-{len(self._results) + 1}", "session.resume", sid, sid in self.sessions)
        self.sessions.add(sid)  # idempotent: an active session keeps its one entry and its handlers
        return self._send("session.resume", {"sessionId": sid}, request)

    def delete(self, session_id: str) -> str:
        sid = self._check_id(session_id)
        return self._send(
            "session.delete", {"sessionId": sid}, _Request(f"delete-{len(self._results) + 1}", "session.delete", sid)
        )

    def outbox(self) -> list[dict[str, Any]]:
        """The requests sent since the last call, oldest first."""
        sent, self._outbox = self._outbox, []
        return sent

    @staticmethod
    def _check_op(op: Any) -> str:
        if not _nonempty_str(op):
            raise InvalidArgument(f"an operation reference is a non-empty string, not {op!r}")
        return str(op)

    def result(self, op: str) -> dict[str, Any]:
        if self._check_op(op) not in self._results:
            raise NotFound(f"no operation {op!r} was started on this client")
        return dict(self._results[op])

    def timeout(self, op: str) -> None:
        """The request's timer fired: fail it with ``unavailable`` (LIFE-027); a late reply is then ignored."""
        if self._check_op(op) not in self._results:
            raise NotFound(f"no operation {op!r} was started on this client")  # LIFE-037
        for request_id, request in list(self._pending.items()):
            if request.op == op:
                self._fail(request_id, "unavailable", "the server did not answer in time")

    def registry(self) -> dict[str, Any]:
        return {"sessions": sorted(self.sessions), "pending": len(self._pending)}

    # -- replies -------------------------------------------------------------------------------
    def _unregister(self, session_id: str) -> None:
        self.sessions.discard(session_id)
        self._subscriptions = [s for s in self._subscriptions if s.session_id != session_id]

    def _finish(self, request_id: int, session_id: str) -> None:
        request = self._pending.pop(request_id)
        self._results[request.op] = {"state": "ok", "session_id": session_id}

    def _fail(self, request_id: int, kind: str, message: str) -> None:
        request = self._pending.pop(request_id)
        self._results[request.op] = {"state": "failed", "error": kind, "message": message}
        creating = request.method == "session.create"
        if request.session_id is not None and (
            creating or (request.method == "session.resume" and not request.was_registered)
        ):
            self._unregister(request.session_id)

    def _on_reply(self, request_id: int, message: dict[str, Any]) -> None:
        request = self._pending[request_id]
        if "error" in message:
            error = message["error"]
            text = error.get("message") if isinstance(error, dict) else None
            self._fail(  # LIFE-026
                request_id, "failed_precondition", f"the server refused {request.method}: {text or error!r}"
            )
            return
        result = message.get("result")
        if request.method == "session.delete":
            self._finish(request_id, str(request.session_id))
            self._unregister(str(request.session_id))
            return
        named = result.get("sessionId") if isinstance(result, dict) else None
        # The kind of each failure: LIFE-029 (no id), LIFE-028 (another id), LIFE-030 (an id already here).
        if not isinstance(named, str) or not named:
            self._fail(request_id, "failed_precondition", f"the {request.method} reply carries no sessionId")
        elif request.session_id is not None and named != request.session_id:
            self._fail(request_id, "conflict", f"asked for {request.session_id!r}, the server answered {named!r}")
        elif request.session_id is None and named in self.sessions:
            self._fail(request_id, "conflict", f"the server assigned {named!r}, which is already registered here")
        else:
            self.sessions.add(named)
            self._finish(request_id, named)

    # -- incoming messages ---------------------------------------------------------------------
    def deliver(self, message: Any) -> None:
        """Handle one server message; a malformed or unexpected one is dropped and reported, never raised."""
        if not isinstance(message, dict):
            self.diagnostics.append(f"dropped a message that is not an object: {message!r:.80}")
        elif "method" in message:
            if message["method"] != "session.lifecycle":
                self.diagnostics.append(f"dropped a notification of unknown method {message['method']!r:.40}")
                return
            problem = event_problem(message.get("params"))
            if problem:
                self.diagnostics.append(f"dropped a malformed session.lifecycle notification: {problem}")
                return
            self._dispatch(message["params"])
        elif message.get("id") in self._pending and isinstance(message.get("id"), int):
            self._on_reply(message["id"], message)
        else:
            self.diagnostics.append(f"dropped a reply to no pending request (id {message.get('id')!r:.40})")

    def _dispatch(self, event: dict[str, Any]) -> None:
        sid, kind = event["sessionId"], event["type"]
        for sub in list(self._subscriptions):
            if sub.session_id not in (None, sid) or sub.event_type not in (None, kind):
                continue
            try:
                sub.handler(copy.deepcopy(event))
            except Exception as exc:  # one handler's failure is its own; the others still run
                self.diagnostics.append(f"handler {sub.name!r} raised {type(exc).__name__}: {exc}")

    # -- subscriptions -------------------------------------------------------------------------
    def on(self, name: str, handler: Any, *, session_id: str | None = None, event_type: str | None = None) -> None:
        """Subscribe; the faults are checked in contract precedence (LIFE-032): arguments, session, name."""
        for what, value in (("a handler name", name), ("a session id", session_id), ("an event type", event_type)):
            if value is not None and not _nonempty_str(value):
                raise InvalidArgument(f"{what} is a non-empty string, not {value!r}")
        if not _nonempty_str(name):
            raise InvalidArgument("a handler name is a non-empty string, not null")
        if session_id is not None and session_id not in self.sessions:
            raise NotFound(f"session {session_id!r} is not registered on this client; create or resume it first")
        if any(s.name == name for s in self._subscriptions):
            raise Conflict(f"a handler named {name!r} is already subscribed")
        self._subscriptions.append(_Subscription(handler, name, session_id, event_type))

    def off(self, name: str) -> None:
        self._subscriptions = [s for s in self._subscriptions if s.name != name]


class _HandlerFailed(RuntimeError):
    """What a ``raise`` probe handler raises."""


@dataclass
class LifecycleProbe:
    """The kit's view of a client: named handlers that record what they receive, or raise."""

    client: LifecycleClient = field(default_factory=LifecycleClient)
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    BEHAVIOURS: ClassVar[frozenset[str]] = frozenset({"record", "raise"})

    def create(self, session_id: str | None = None) -> str:
        return self.client.create(session_id)

    def resume(self, session_id: str) -> str:
        return self.client.resume(session_id)

    def delete(self, session_id: str) -> str:
        return self.client.delete(session_id)

    def outbox(self) -> list[dict[str, Any]]:
        return self.client.outbox()

    def deliver(self, message: Any) -> None:
        self.client.deliver(message)

    def result(self, op: str) -> dict[str, Any]:
        return self.client.result(op)

    def timeout(self, op: str) -> None:
        self.client.timeout(op)

    def registry(self) -> dict[str, Any]:
        return self.client.registry()

    def diagnostics(self) -> list[str]:
        return list(self.client.diagnostics)

    def subscribe(
        self, handler: str, behaviour: str, session_id: str | None = None, event_type: str | None = None
    ) -> None:
        if behaviour not in self.BEHAVIOURS:
            raise InvalidArgument(f"behaviour is 'record' or 'raise', not {behaviour!r}")

        def receive(event: dict[str, Any]) -> None:
            self.deliveries.append({"handler": handler, "event": event})
            if behaviour == "raise":
                raise _HandlerFailed(f"handler {handler} fails on purpose")

        self.client.on(handler, receive, session_id=session_id, event_type=event_type)

    def unsubscribe(self, handler: str) -> None:
        self.client.off(handler)

    def events(self, handler: str | None = None) -> list[dict[str, Any]]:
        if handler is None:
            return copy.deepcopy(self.deliveries)
        return [copy.deepcopy(d["event"]) for d in self.deliveries if d["handler"] == handler]

    def close(self) -> None:
        """Nothing to release: the client holds no transport and no storage."""
