"""LIFE variants: the reference's lifecycle client with one upstream SDK's behaviour."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any

from reference_impl.lifecycle import KNOWN_TYPES, LifecycleClient, LifecycleProbe, _Request, event_problem
from tests.variants._base import Variant

_SDK = "https://github.com/github/copilot-sdk"
_PYTHON_CLIENT = f"{_SDK}/blob/main/python/copilot/client.py"


def _rerendered(event: dict[str, Any]) -> dict[str, Any]:
    metadata = event.get("metadata")
    if not isinstance(metadata, dict):
        return event
    out = dict(metadata)
    for key in ("startTime", "modifiedTime"):
        if isinstance(out.get(key), str):
            out[key] = dt.datetime.fromisoformat(out[key]).isoformat(timespec="microseconds")
    return {**event, "metadata": out}


class _TypedProbe(LifecycleProbe):
    def events(self, handler: str | None = None) -> list[dict[str, Any]]:
        got = super().events(handler)
        if handler is None:
            return [{**d, "event": _rerendered(d["event"])} for d in got]
        return [_rerendered(e) for e in got]


class TimestampsRerendered(Variant):
    """Handlers receive envelope timestamps parsed and written back: ``…00.250Z`` as ``…00.250000+00:00``.

    Typed SDKs parse ``metadata.startTime`` into a date-time (github-copilot-sdk's generated types).
    """

    rows = frozenset({"lifecycle.md: timestamp text"})
    # Nothing: LIFE-001 keeps the instant, not its spelling, and every other requirement compares
    # instants too (spec 0.2.0; in 0.1.0 this variant failed LIFE-001). It stays to prove that no
    # LIFE test blames the text of a timestamp.
    fails = frozenset()
    source = "https://github.com/github/copilot-sdk"

    def open_lifecycle_client(self, env: Any) -> Any:
        return _TypedProbe()


def _probe(client: LifecycleClient) -> LifecycleProbe:
    return LifecycleProbe(client=client)


# --- what handlers receive -----------------------------------------------------------------


class _UnknownAsUpdated(LifecycleClient):
    """An event of a type the SDK does not know is dispatched as ``session.updated``."""

    def _dispatch(self, event: dict[str, Any]) -> None:
        if event["type"] not in KNOWN_TYPES:
            event = {**event, "type": "session.updated"}
        super()._dispatch(event)


class UnknownTypeAsUpdated(Variant):
    """An event of an unknown type reaches handlers rewritten as ``session.updated``, typed ones included.

    github-copilot-sdk (Python) parses the type into an enum whose fallback is ``session.updated``.
    """

    rows = frozenset({"lifecycle.md: unknown event type"})
    # LIFE-001: a valid event's `type` is not kept as sent; LIFE-002: it is rewritten and reaches a
    # typed handler; LIFE-020: the model's handlers are owed the event as sent.
    fails = frozenset({"LIFE-001", "LIFE-002", "LIFE-020"})
    source = _PYTHON_CLIENT

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_UnknownAsUpdated())


class _RaisesOnMetadataWithoutTimes(LifecycleClient):
    """Parsing metadata reads startTime and modifiedTime by key: a metadata object without them raises."""

    def deliver(self, message: Any) -> None:
        params = message.get("params") if isinstance(message, dict) and "method" in message else None
        metadata = params.get("metadata") if isinstance(params, dict) else None
        if isinstance(metadata, dict):
            _ = metadata["startTime"], metadata["modifiedTime"]  # KeyError escapes, as upstream
        super().deliver(message)


class MalformedMetadataRaises(Variant):
    """A notification whose metadata lacks its timestamps raises out of the notification handler.

    github-copilot-sdk Python 1.0.27: the lifecycle event parser indexes ``metadata["startTime"]``.
    """

    rows = frozenset({"lifecycle.md: malformed notification"})
    # LIFE-003: the delivering call raises; LIFE-004: the test that counts reports crashes on it.
    fails = frozenset({"LIFE-003", "LIFE-004"})
    source = _PYTHON_CLIENT
    kind = "crashed"

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_RaisesOnMetadataWithoutTimes())


class _MissingIdAsEmpty(LifecycleClient):
    """A lifecycle notification without sessionId is dispatched with sessionId ``""``."""

    def deliver(self, message: Any) -> None:
        params = message.get("params") if isinstance(message, dict) and "method" in message else None
        lifecycle = isinstance(params, dict) and message.get("method") == "session.lifecycle"
        # valid in every other respect: the parser fills in the missing id
        if (
            lifecycle
            and isinstance(params, dict)
            and "sessionId" not in params
            and event_problem({**params, "sessionId": "x"}) is None
        ):
            self._dispatch({**params, "sessionId": ""})
            return
        super().deliver(message)


class MissingSessionIdAsEmpty(Variant):
    """A lifecycle notification without ``sessionId`` reaches handlers with ``sessionId: ""``.

    github-copilot-sdk Python 1.0.27: ``session_id = data.get("sessionId", "")``.
    """

    rows = frozenset({"lifecycle.md: malformed notification"})
    # LIFE-003: a malformed notification is passed to a handler. (LIFE-004 speaks only of messages
    # the client drops; this one is not dropped.)
    fails = frozenset({"LIFE-003"})
    source = _PYTHON_CLIENT

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_MissingIdAsEmpty())


class _TypedFirst(LifecycleClient):
    """Handlers for the event's type run first, then every other handler, each group in subscription order."""

    def _dispatch(self, event: dict[str, Any]) -> None:
        everyone = self._subscriptions
        self._subscriptions = [s for s in everyone if s.event_type is not None] + [
            s for s in everyone if s.event_type is None
        ]
        try:
            super()._dispatch(event)
        finally:
            self._subscriptions = everyone


class TypedHandlersFirst(Variant):
    """Typed handlers are called before wildcard handlers, whatever the subscription order.

    github-copilot-sdk (Python) ``_dispatch_lifecycle_event`` loops over the typed handlers, then
    the wildcard ones.
    """

    rows = frozenset({"lifecycle.md: handler order"})
    fails = frozenset({"LIFE-006"})
    source = _PYTHON_CLIENT

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_TypedFirst())


class _NoClientSessionId(LifecycleClient):
    """The event class has no clientSessionId field, so handlers never see it."""

    def _dispatch(self, event: dict[str, Any]) -> None:
        super()._dispatch({k: v for k, v in event.items() if k != "clientSessionId"})


class ClientSessionIdDropped(Variant):
    """Handlers receive ``session.created`` without its ``clientSessionId``.

    github-copilot-sdk Python 1.0.27 (and Java, which #1452 did not change) has no such field.
    """

    rows = frozenset({"lifecycle.md: `clientSessionId`"})
    # LIFE-001: a member of the envelope is not kept; LIFE-020: the model's handlers are owed the
    # envelope as sent, clientSessionId included.
    fails = frozenset({"LIFE-001", "LIFE-020"})
    source = f"{_SDK}/pull/1452"

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_NoClientSessionId())


# --- registration --------------------------------------------------------------------------


class _CreatedByEvent(LifecycleClient):
    """A server-assigned create succeeds only if the session.created event for its id came first."""

    def __init__(self) -> None:
        super().__init__()
        self._announced: set[str] = set()

    def _dispatch(self, event: dict[str, Any]) -> None:
        if event["type"] == "session.created":
            self._announced.add(event["sessionId"])
        super()._dispatch(event)

    def _on_reply(self, request_id: int, message: dict[str, Any]) -> None:
        request, result = self._pending[request_id], message.get("result")
        named = result.get("sessionId") if isinstance(result, dict) else None
        waiting = request.method == "session.create" and request.session_id is None and "error" not in message
        if waiting and isinstance(named, str) and named and named not in self._announced:
            self._fail(request_id, "failed_precondition", f"session was not registered: {named}")
            return
        super()._on_reply(request_id, message)


class ServerAssignedOnCreatedEvent(Variant):
    """A server-assigned create fails when its reply arrives before the ``session.created`` event.

    github-copilot-sdk PR #1452 (closed unmerged) materialised a cloud session from the event, and
    failed the create ("session was not registered") when the reply came first.
    """

    rows = frozenset({"lifecycle.md: server-assigned create"})
    fails = frozenset({"LIFE-011", "LIFE-012", "LIFE-020"})
    source = f"{_SDK}/pull/1452"

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_CreatedByEvent())


class _CreateReplaces(LifecycleClient):
    """create with a registered id replaces its entry, dropping that session's handlers."""

    def create(self, session_id: str | None = None) -> str:
        if session_id is not None:
            self._unregister(session_id)
        return super().create(session_id)


class CreateReplacesRegistered(Variant):
    """Creating an id that is already registered silently replaces the entry and drops its handlers.

    github-copilot-sdk (Python) ``_register_session`` assigns ``self._sessions[session_id]``
    without a check.
    """

    rows = frozenset({"lifecycle.md: create of a registered id"})
    # LIFE-015; LIFE-020 when the model creates an id it holds (most seeds, not all).
    fails = frozenset({"LIFE-015"})
    may_fail = frozenset({"LIFE-020"})
    source = _PYTHON_CLIENT

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_CreateReplaces())


class _ResumeAttachesAgain(LifecycleClient):
    """Resuming an active session registers it a second time: its handlers are attached twice."""

    def resume(self, session_id: str) -> str:
        again = [s for s in self._subscriptions if s.session_id == session_id and s.session_id in self.sessions]
        self._subscriptions.extend(again)
        return super().resume(session_id)


class ResumeDoublesEvents(Variant):
    """Resuming a session that is already active delivers each of its events twice.

    github-copilot-sdk #742: the resume path registered a second session object without a guard.
    """

    rows = frozenset({"lifecycle.md: resume of an active session"})
    # LIFE-016; LIFE-017 and LIFE-025: a failed resume (refused, timed out, or answered with another
    # id) leaves the session's handlers doubled, not as they were.
    # LIFE-020 when the model resumes an active session and then sends it an event (few seeds).
    fails = frozenset({"LIFE-016", "LIFE-017", "LIFE-025"})
    may_fail = frozenset({"LIFE-020"})
    source = f"{_SDK}/issues/742"

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_ResumeAttachesAgain())


class _BuffersUnknown(LifecycleClient):
    """Events for an unregistered id are kept (128 per id, oldest dropped) and replayed to its first handler."""

    LIMIT = 128

    def __init__(self) -> None:
        super().__init__()
        self._held: dict[str, list[dict[str, Any]]] = {}

    def _dispatch(self, event: dict[str, Any]) -> None:
        if event["sessionId"] not in self.sessions:
            held = self._held.setdefault(event["sessionId"], [])
            held.append(event)
            del held[: -self.LIMIT]
        super()._dispatch(event)

    def on(self, name: str, handler: Any, *, session_id: str | None = None, event_type: str | None = None) -> None:
        super().on(name, handler, session_id=session_id, event_type=event_type)
        for event in self._held.pop(session_id, []) if session_id is not None else []:
            if event_type in (None, event["type"]):
                handler(copy.deepcopy(event))


class EventsBufferedUntilKnown(Variant):
    """Events for a session not yet registered are buffered and replayed to its first session handler.

    github-copilot-sdk #1394–#1399 kept up to 128 early events per session, dropping the oldest.
    """

    rows = frozenset({"lifecycle.md: events before a session is known"})
    # LIFE-020: the model owes a session handler only the events that arrive while the session is
    # registered. (LIFE-008 forbids reaching *other* sessions' handlers; this is the same session.)
    fails = frozenset({"LIFE-020"})
    source = f"{_SDK}/pull/1394"

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_BuffersUnknown())


class _ResumeReplyUnread(LifecycleClient):
    """A resume succeeds under the id it asked for, whatever its result says."""

    def _on_reply(self, request_id: int, message: dict[str, Any]) -> None:
        request = self._pending[request_id]
        if request.method == "session.resume" and "error" not in message:
            self.sessions.add(str(request.session_id))
            self._finish(request_id, str(request.session_id))
            return
        super()._on_reply(request_id, message)


class ResumeResultUnread(Variant):
    """A resume's result is not read: one naming another id, or none, still resumes the requested id.

    github-copilot-sdk (Python) 1.0.27 ``resume_session`` awaits ``session.resume`` and never looks
    at the result's ``sessionId``.
    """

    rows = frozenset({"lifecycle.md: resume result"})
    # LIFE-025 (another id fails, registry unchanged) and LIFE-029 (no id is failed_precondition);
    # LIFE-020 when the model's resume is answered with another id or none.
    fails = frozenset({"LIFE-025", "LIFE-029"})
    may_fail = frozenset({"LIFE-020"})
    source = _PYTHON_CLIENT

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_ResumeReplyUnread())


class _NoIdIsAnotherId(LifecycleClient):
    """A create's result without a session id fails as one naming another id."""

    def _fail(self, request_id: int, kind: str, message: str) -> None:
        request = self._pending[request_id]
        if kind == "failed_precondition" and request.method == "session.create" and request.session_id is not None:
            kind = "conflict" if "carries no sessionId" in message else kind
        super()._fail(request_id, kind, message)


class CreateResultWithoutIdIsConflict(Variant):
    """A create that proposed an id, answered without one, fails as if another id had been named.

    github-copilot-sdk (Python) 1.0.27 ``create_session`` raises one ``RuntimeError`` ("returned
    sessionId … but the caller requested …") for a missing id and for another one.
    """

    rows = frozenset({"lifecycle.md: create result without a session id"})
    fails = frozenset({"LIFE-029"})
    source = _PYTHON_CLIENT

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_NoIdIsAnotherId())


class _DropsSilently(LifecycleClient):
    def deliver(self, message: Any) -> None:
        before = len(self.diagnostics)
        super().deliver(message)
        if isinstance(message, dict) and "method" not in message:
            del self.diagnostics[before:]  # a reply to no pending request is ignored without a word


class UnexpectedReplyIgnoredSilently(Variant):
    """A reply to no pending request (a duplicate, a late one) is ignored and not reported.

    github-copilot-sdk (Python) 1.0.27 ``JsonRpcClient._handle_message`` finds no pending future
    and returns.
    """

    rows = frozenset({"lifecycle.md: unexpected or duplicate reply"})
    fails = frozenset({"LIFE-004"})
    source = f"{_SDK}/blob/main/python/copilot/_jsonrpc.py"

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_DropsSilently())


class _SendsAnyId(LifecycleClient):
    """Sends whatever id it is given; create sends a fresh one for ``""``, an unhashable id raises TypeError."""

    @staticmethod
    def _check_id(session_id: Any) -> str:
        hash(session_id)  # create and resume keep sessions in a dict: an array or object raises TypeError
        return session_id  # type: ignore[no-any-return]

    def create(self, session_id: str | None = None) -> str:
        return super().create(session_id or str(uuid.uuid4()) if session_id is not None else None)

    def delete(self, session_id: str) -> str:
        op = f"delete-{len(self._results) + 1}"  # no check at all: the id goes out as given
        return self._send("session.delete", {"sessionId": session_id}, _Request(op, "session.delete", session_id))


class SessionIdNotChecked(Variant):
    """A session id is sent as given: 42, true, and for resume and delete "" and null.

    github-copilot-sdk (Python) 1.0.27 ``create_session`` puts ``session_id or uuid4()`` in the
    request, ``resume_session`` and ``delete_session`` the id as given; create and resume raise
    ``TypeError`` on an unhashable id before sending.
    """

    rows = frozenset({"lifecycle.md: session id not checked"})
    fails = frozenset({"LIFE-035"})
    source = _PYTHON_CLIENT

    def open_lifecycle_client(self, env: Any) -> Any:
        return _probe(_SendsAnyId())


#: Rows of the upstream table where no upstream project behaves otherwise than the spec, each
#: with the reason: there is no behaviour to swap in.
AGREES: dict[str, str] = {
    "lifecycle.md: reply names another id": (
        "#1479, the one upstream behaviour the row names, fails the create and leaves nothing "
        "registered (its Java test CreateSessionReKeyEntryTest asserts an empty registry), as LIFE-010 asks"
    ),
}
