"""One broken LIFE implementation per requirement of spec/requirements/life.yaml.

Each bug is the smallest override of the reference client (:mod:`reference_impl.lifecycle`)
or server (:mod:`reference_impl.lifecycle_server`), modelled where possible on a bug or a
design seen upstream in github/copilot-sdk (https://github.com/github/copilot-sdk).
``also_fails`` names the other requirements whose tests cannot help seeing the same bug;
LIFE-020 (the model-based test) sees most client bugs.
"""

from __future__ import annotations

import copy
import fnmatch
import inspect
from typing import TYPE_CHECKING, Any, ClassVar

from reference_impl.lifecycle import KNOWN_TYPES, LIFE_CLAIMS, Conflict, LifecycleClient, LifecycleProbe, NotFound
from reference_impl.lifecycle_server import LifecycleServer
from tests.miniatures import MiniatureImplementation, declarer

if TYPE_CHECKING:
    from collections.abc import Collection

    from reference_impl.history import Environment


class LifeMiniature(MiniatureImplementation):
    """A LIFE miniature: ``broken`` is a client class or a server class; the other side is the reference."""

    def __init__(
        self,
        requirement: str,
        label: str,
        broken: type[LifecycleClient | LifecycleServer],
        *,
        also_fails: Collection[str] = (),
        may_fail: Collection[str] = (),
    ) -> None:
        super().__init__(
            requirement,
            label,
            doc=inspect.getdoc(broken) or "",
            claims=LIFE_CLAIMS,
            also_fails=also_fails,
            may_fail=may_fail,
        )
        self.broken = broken

    def open_lifecycle_client(self, env: Environment) -> LifecycleProbe:
        client = self.broken() if issubclass(self.broken, LifecycleClient) else LifecycleClient()
        return LifecycleProbe(client=client)

    def open_lifecycle_server(self, env: Environment) -> LifecycleServer:
        server_class = self.broken if issubclass(self.broken, LifecycleServer) else LifecycleServer
        return server_class(env.clock)


#: ``@miniature(REQUIREMENT, also_fails=..., may_fail=...)`` above a broken class declares it.
miniature = declarer(LifeMiniature)


def _is_reply(message: Any) -> bool:
    return isinstance(message, dict) and "method" not in message


# --- what handlers receive ---------------------------------------------------------------------


@miniature("LIFE-001", also_fails=(20,))
class DropsClientSessionId(LifecycleClient):
    """Handlers never see clientSessionId: the event type has no such field (copilot-sdk Python 1.0.27)."""

    def _dispatch(self, event: dict[str, Any]) -> None:
        super()._dispatch({k: v for k, v in event.items() if k != "clientSessionId"})


@miniature("LIFE-002", also_fails=(1, 20))
class CrashesOnUnknownType(LifecycleClient):
    """An event of an unknown type raises KeyError inside the notification handler (a closed enum lookup)."""

    _CODES: ClassVar[dict[str, int]] = {kind: number for number, kind in enumerate(sorted(KNOWN_TYPES))}

    def _dispatch(self, event: dict[str, Any]) -> None:
        _ = self._CODES[event["type"]]
        super()._dispatch(event)


@miniature("LIFE-003", also_fails=(4,))
class RaisesOnMetadataWithoutTimes(LifecycleClient):
    """Metadata without startTime raises KeyError inside the notification handler (copilot-sdk Python 1.0.27)."""

    def deliver(self, message: Any) -> None:
        params = message.get("params") if isinstance(message, dict) else None
        if isinstance(params, dict) and isinstance(params.get("metadata"), dict):
            _ = params["metadata"]["startTime"]
        super().deliver(message)


@miniature("LIFE-004")
class DropsSilently(LifecycleClient):
    """A malformed notification is dropped without a word: nothing reaches the diagnostics."""

    def deliver(self, message: Any) -> None:
        before = len(self.diagnostics)
        super().deliver(message)
        del self.diagnostics[before:]


@miniature("LIFE-005")
class StopsAtFirstRaise(LifecycleClient):
    """The handler loop sits inside one try block: the first handler that raises ends delivery of that event."""

    def _dispatch(self, event: dict[str, Any]) -> None:
        sid, kind = event["sessionId"], event["type"]
        try:
            for sub in list(self._subscriptions):
                if sub.session_id in (None, sid) and sub.event_type in (None, kind):
                    sub.handler(dict(event))
        except Exception as exc:
            self.diagnostics.append(f"a handler raised {exc}")


@miniature("LIFE-006")
class TypedBeforeWildcard(LifecycleClient):
    """Typed handlers run before every other handler, whatever the subscription order (copilot-sdk Python)."""

    def _dispatch(self, event: dict[str, Any]) -> None:
        self._subscriptions.sort(key=lambda sub: sub.event_type is None)
        super()._dispatch(event)


@miniature("LIFE-006")
class SessionHandlersFirst(LifecycleClient):
    """A session's own handlers run before every wildcard and typed handler, whatever the subscription order.

    The order between handlers is a SHOULD: this client fails LIFE-006 and nothing else (the model of
    LIFE-020 compares each handler's own events only).
    """

    def _dispatch(self, event: dict[str, Any]) -> None:
        everyone = self._subscriptions
        self._subscriptions = [s for s in everyone if s.session_id is not None] + [
            s for s in everyone if s.session_id is None
        ]
        try:
            super()._dispatch(event)
        finally:
            self._subscriptions = everyone


@miniature("LIFE-007")
class UnsubscribesWildcardOnly(LifecycleClient):
    """Unsubscribe looks only in the wildcard list: typed and session handlers stay subscribed."""

    def off(self, name: str) -> None:
        self._subscriptions = [
            s for s in self._subscriptions if not (s.name == name and s.session_id is None and s.event_type is None)
        ]


@miniature("LIFE-008", also_fails=(20,))
class BroadcastsUnknownIds(LifecycleClient):
    """An event for an unregistered id is handed to every session's handlers (a 'fallback' route)."""

    def _dispatch(self, event: dict[str, Any]) -> None:
        if event["sessionId"] in self.sessions:
            super()._dispatch(event)
            return
        for sub in list(self._subscriptions):
            if sub.event_type in (None, event["type"]):
                try:
                    sub.handler(dict(event))
                except Exception as exc:
                    self.diagnostics.append(f"handler {sub.name!r} raised {exc}")


# --- creating ----------------------------------------------------------------------------------


@miniature("LIFE-009", also_fails=(20,))
class RegistersAfterReply(LifecycleClient):
    """A caller-chosen id is registered only when the reply arrives: early events and requests find no session."""

    def create(self, session_id: str | None = None) -> str:
        taken = session_id in self.sessions or any(r.session_id == session_id for r in self._pending.values())
        if session_id is not None and taken:
            raise Conflict(f"session {session_id!r} is taken")
        op = super().create(session_id)
        if session_id is not None:
            self.sessions.discard(session_id)
        return op


@miniature("LIFE-010", may_fail=(20,))
class ReKeysOnOtherId(LifecycleClient):
    """A reply naming another id re-keys the session to that id instead of failing the create."""

    def _on_reply(self, request_id: int, message: dict[str, Any]) -> None:
        request = self._pending[request_id]
        result = message.get("result")
        sid = result.get("sessionId") if isinstance(result, dict) else None
        creating = request.method == "session.create" and request.session_id is not None
        if creating and isinstance(sid, str) and sid and sid != request.session_id:
            self._unregister(str(request.session_id))
            self.sessions.add(sid)
            self._finish(request_id, sid)
            return
        super()._on_reply(request_id, message)


@miniature("LIFE-011", also_fails=(20,))
class ProvisionalAlias(LifecycleClient):
    """A create without an id registers a provisional client-side id at once and re-keys it when the reply comes."""

    def create(self, session_id: str | None = None) -> str:
        op = super().create(session_id)
        if session_id is None:
            self.sessions.add(f"provisional-{op}")
        return op

    def _on_reply(self, request_id: int, message: dict[str, Any]) -> None:
        self.sessions.discard(f"provisional-{self._pending[request_id].op}")
        super()._on_reply(request_id, message)

    def timeout(self, op: str) -> None:
        self.sessions.discard(f"provisional-{op}")
        super().timeout(op)


@miniature("LIFE-012", also_fails=(11, 20, 30))
class LazyOnCreatedEvent(LifecycleClient):
    """A server-assigned session is materialised by its session.created event (copilot-sdk PR #1452).

    When the reply comes before the event, the create fails with "session was not registered".
    """

    def _dispatch(self, event: dict[str, Any]) -> None:
        waiting = any(r.method == "session.create" and r.session_id is None for r in self._pending.values())
        if event["type"] == "session.created" and waiting and event["sessionId"] not in self.sessions:
            self.sessions.add(event["sessionId"])
        super()._dispatch(event)

    def _on_reply(self, request_id: int, message: dict[str, Any]) -> None:
        request, result = self._pending[request_id], message.get("result")
        sid = result.get("sessionId") if isinstance(result, dict) else None
        if request.session_id is None and "error" not in message and isinstance(sid, str) and sid:
            if sid in self.sessions:
                self._finish(request_id, sid)
            else:
                self._fail(request_id, "failed_precondition", f"session was not registered: {sid}")
            return
        super()._on_reply(request_id, message)


@miniature("LIFE-013", also_fails=(20,))
class LeaksAfterError(LifecycleClient):
    """An error reply fails the create but leaves its pending request and its caller-chosen entry behind."""

    def _on_reply(self, request_id: int, message: dict[str, Any]) -> None:
        request = self._pending[request_id]
        if "error" in message and request.method == "session.create":
            self._results[request.op] = {"state": "failed", "error": "failed_precondition", "message": "refused"}
            return
        super()._on_reply(request_id, message)


@miniature("LIFE-014", also_fails=(20,))
class CorrelatesFirstInFirstOut(LifecycleClient):
    """A create reply is matched to the oldest create in flight, not by its id: replies out of order cross over."""

    def deliver(self, message: Any) -> None:
        if _is_reply(message) and message.get("id") in self._pending:
            creates = [i for i, r in self._pending.items() if r.method == "session.create"]
            if self._pending[message["id"]].method == "session.create":
                message = {**message, "id": min(creates)}
        super().deliver(message)


@miniature("LIFE-015", may_fail=(20,))
class ReplacesSilently(LifecycleClient):
    """Creating an id that is registered replaces the entry silently (copilot-sdk Python ``_register_session``)."""

    def create(self, session_id: str | None = None) -> str:
        if session_id is not None:
            self._unregister(session_id)
        return super().create(session_id)


# --- resume, delete, stray replies -------------------------------------------------------------


@miniature("LIFE-016", also_fails=(17, 25), may_fail=(20,))
class DoublesOnResume(LifecycleClient):
    """Resuming an active session attaches its handlers a second time, so every event arrives twice (#742)."""

    def resume(self, session_id: str) -> str:
        again = [s for s in self._subscriptions if s.session_id == session_id]
        self._subscriptions.extend(again)
        return super().resume(session_id)


@miniature("LIFE-017", also_fails=(25,), may_fail=(20,))
class ForgetsOnFailedResume(LifecycleClient):
    """A failed resume removes the entry, even when the session was active before the resume."""

    def resume(self, session_id: str) -> str:
        op = super().resume(session_id)
        for request in self._pending.values():
            if request.op == op:
                request.was_registered = False
        return op


@miniature("LIFE-018", also_fails=(19,), may_fail=(20,))
class DeletesOptimistically(LifecycleClient):
    """Delete removes the entry when the request is sent, before the server has confirmed anything."""

    def delete(self, session_id: str) -> str:
        op = super().delete(session_id)
        self._unregister(session_id)
        return op


@miniature("LIFE-019", also_fails=(4, 13, 20))
class CrashesOnStrayReply(LifecycleClient):
    """A reply to no pending request raises KeyError from the pending-request map."""

    def deliver(self, message: Any) -> None:
        if _is_reply(message) and message.get("id") not in self._pending:
            _ = self._pending[message.get("id")]
        super().deliver(message)


@miniature("LIFE-020")
class RegistryFirstPage(LifecycleClient):
    """The registry lists only its first page of four sessions; a fifth registered session is invisible."""

    def registry(self) -> dict[str, Any]:
        listing = super().registry()
        return {**listing, "sessions": listing["sessions"][:4]}


@miniature("LIFE-024", may_fail=(20,))
class ResumeRegistersOnReply(LifecycleClient):
    """A resume of an unregistered id registers it only when the reply arrives: early events find no session."""

    def resume(self, session_id: str) -> str:
        was = session_id in self.sessions
        op = super().resume(session_id)
        if not was:
            self.sessions.discard(session_id)
        return op


@miniature("LIFE-025", may_fail=(20,))
class ResumeAdoptsOtherId(LifecycleClient):
    """A resume answered with another id succeeds under that id and registers it (re-keying, as for creates)."""

    def _on_reply(self, request_id: int, message: dict[str, Any]) -> None:
        request, result = self._pending[request_id], message.get("result")
        named = result.get("sessionId") if isinstance(result, dict) else None
        if request.method == "session.resume" and isinstance(named, str) and named and named != request.session_id:
            if not request.was_registered:
                self._unregister(str(request.session_id))
            self.sessions.add(named)
            self._finish(request_id, named)
            return
        super()._on_reply(request_id, message)


# --- how operations fail -----------------------------------------------------------------------


@miniature("LIFE-026")
class ErrorReplyAsNotFound(LifecycleClient):
    """Every error reply fails the operation with not_found, as if the server always meant "no such session"."""

    def _fail(self, request_id: int, kind: str, message: str) -> None:
        refused = message.startswith("the server refused")
        super()._fail(request_id, "not_found" if refused else kind, message)


@miniature("LIFE-027")
class TimeoutAsFailedPrecondition(LifecycleClient):
    """A timeout fails the operation with failed_precondition, like a refusal (the reference of spec 0.1.0)."""

    def _fail(self, request_id: int, kind: str, message: str) -> None:
        super()._fail(request_id, "failed_precondition" if kind == "unavailable" else kind, message)


@miniature("LIFE-028")
class OtherIdAsFailedPrecondition(LifecycleClient):
    """A reply naming another id fails the operation with failed_precondition instead of conflict."""

    def _fail(self, request_id: int, kind: str, message: str) -> None:
        other = message.startswith("asked for")
        super()._fail(request_id, "failed_precondition" if other else kind, message)


@miniature("LIFE-029")
class NoIdAsUnavailable(LifecycleClient):
    """A result that names no session fails the operation with unavailable, as if the server had not answered."""

    def _fail(self, request_id: int, kind: str, message: str) -> None:
        super()._fail(request_id, "unavailable" if message.endswith("carries no sessionId") else kind, message)


@miniature("LIFE-030")
class AssignedIdReplacesEntry(LifecycleClient):
    """A server-assigned id that is already registered replaces the entry, dropping its handlers (``_register_session``)."""

    def _on_reply(self, request_id: int, message: dict[str, Any]) -> None:
        request, result = self._pending[request_id], message.get("result")
        named = result.get("sessionId") if isinstance(result, dict) else None
        if request.method == "session.create" and request.session_id is None and named in self.sessions:
            self._unregister(str(named))
        super()._on_reply(request_id, message)


@miniature("LIFE-031", may_fail=(20,))
class DeleteUnknownLocally(LifecycleClient):
    """Deleting an id that is not registered fails at once with not_found; the server is never asked."""

    def delete(self, session_id: str) -> str:
        if self._check_id(session_id) not in self.sessions:
            raise NotFound(f"session {session_id!r} is not registered on this client")
        return super().delete(session_id)


@miniature("LIFE-032")
class NameBeforeSession(LifecycleClient):
    """Subscribe checks the handler name before the session: a taken name to an unknown session is conflict."""

    def on(self, name: str, handler: Any, *, session_id: str | None = None, event_type: str | None = None) -> None:
        if any(s.name == name for s in self._subscriptions):
            raise Conflict(f"a handler named {name!r} is already subscribed")
        super().on(name, handler, session_id=session_id, event_type=event_type)


@miniature("LIFE-034")
class RoutesByPrefix(LifecycleClient):
    """A session handler receives the events of every session whose id starts with its own (``a`` gets ``ab``'s)."""

    def _dispatch(self, event: dict[str, Any]) -> None:
        sid, kind = event["sessionId"], event["type"]
        for sub in list(self._subscriptions):
            if sub.session_id is not None and not str(sid).startswith(sub.session_id):
                continue
            if sub.event_type in (None, kind):
                try:
                    sub.handler(dict(event))
                except Exception as exc:  # one handler's failure is its own
                    self.diagnostics.append(f"handler {sub.name!r} raised {exc}")


# --- the server side ---------------------------------------------------------------------------


@miniature("LIFE-021")
class MetadataOnDeleted(LifecycleServer):
    """The server puts metadata on session.deleted too, where the envelope has none."""

    def _event(self, kind: str, session_id: str, **extra: Any) -> dict[str, Any]:
        message = super()._event(kind, session_id, **extra)
        if kind == "session.deleted":
            message["params"]["metadata"] = {
                "startTime": "2026-01-01T00:00:00.000Z",
                "modifiedTime": "2026-01-01T00:00:00.000Z",
            }
        return message


@miniature("LIFE-022")
class KeepsDeletedRecord(LifecycleServer):
    """Delete emits session.deleted but keeps the record, so the session goes on emitting events afterwards."""

    def handle(self, message: Any) -> list[dict[str, Any]]:
        started = dict(self._started)
        sent = super().handle(message)
        self._started.update(started)
        self._retired.clear()
        return sent


@miniature("LIFE-023")
class IgnoresProposedId(LifecycleServer):
    """The server mints its own id even when the create proposes one (the cloud runtime's habit, #1493)."""

    def _create(self, request_id: Any, proposed: str | None) -> list[dict[str, Any]]:
        sent = super()._create(request_id, None)
        if proposed is not None:
            sent[0]["params"]["clientSessionId"] = proposed
        return sent


@miniature("LIFE-033")
class CountingServer(LifecycleServer):
    """The server assigns ``srv-1``, ``srv-2``, …: a counter anyone can guess (the reference of spec 0.1.0)."""

    def _mint(self) -> str:
        self._count = getattr(self, "_count", 0) + 1
        return f"srv-{self._count}"


# --- blind spots of issue 11: each caught by its own requirement's tests, not only by the model ----


@miniature("LIFE-034", may_fail=(20,))
class GlobSessionHandlers(LifecycleClient):
    """Matches a session handler's id against an event's sessionId as a glob pattern, so "a*" also hears "ab".

    Routing reuses the wildcard matcher written for topic subscriptions; ids without "*", "?" or "[" route exactly.
    """

    def _dispatch(self, event: dict[str, Any]) -> None:
        sid, kind = event["sessionId"], event["type"]
        for sub in list(self._subscriptions):
            if sub.session_id is not None and not fnmatch.fnmatchcase(sid, sub.session_id):
                continue
            if sub.event_type not in (None, kind):
                continue
            try:
                sub.handler(copy.deepcopy(event))
            except Exception as exc:
                self.diagnostics.append(f"handler {sub.name!r} raised {type(exc).__name__}: {exc}")


@miniature("LIFE-035")
class SendsAnyId(LifecycleClient):
    """Checks session ids only for being hashable and sends whatever it got as sessionId, '' and 42 included."""

    @staticmethod
    def _check_id(session_id: Any) -> str:
        hash(session_id)  # an array or object still fails, with TypeError: invalid_argument
        return session_id  # type: ignore[no-any-return]


# --- issue 11, mutation testing: survivors of the LIFE mutants, each a realistic bug ----------------


@miniature("LIFE-004")
class SilentOnUnknownMethod(LifecycleClient):
    """Reports malformed lifecycle notifications, but ignores a notification of any other method without a word.

    The client's message switch has a branch for session.lifecycle and falls through for every other method.
    """

    def deliver(self, message: Any) -> None:
        if isinstance(message, dict) and "method" in message and message["method"] != "session.lifecycle":
            return
        super().deliver(message)


@miniature("LIFE-036", may_fail=(32,))
class AcceptsTakenNames(LifecycleClient):
    """Keeps handlers in a list and never checks a name: a second subscribe under a taken name adds a second handler."""

    def on(self, name: str, handler: Any, *, session_id: str | None = None, event_type: str | None = None) -> None:
        if any(s.name == name for s in self._subscriptions):
            self._subscriptions.append(type(self._subscriptions[0])(handler, name, session_id, event_type))
            return
        super().on(name, handler, session_id=session_id, event_type=event_type)


@miniature("LIFE-037")
class PendingForAnyOp(LifecycleClient):
    """Looks a result up with a default: an op never returned, or not a string at all, reads as still pending.

    Its timeout likewise does nothing for a reference it does not know.
    """

    def result(self, op: str) -> dict[str, Any]:
        try:
            return dict(self._results.get(op, {"state": "pending"}))
        except TypeError:  # an unhashable reference: still "pending"
            return {"state": "pending"}

    def timeout(self, op: str) -> None:
        for request_id, request in list(self._pending.items()):
            if request.op == op:
                self._fail(request_id, "unavailable", "the server did not answer in time")


@miniature("LIFE-037")
class TimerOfAnyOp(LifecycleClient):
    """Fires the timer of whatever request an op names and answers null when it names none.

    A reference the client never returned reads as a request already finished.  This kit's
    reference did this until LIFE-037 settled the case on 2026-11-29.
    """

    def timeout(self, op: str) -> None:
        self._check_op(op)
        for request_id, request in list(self._pending.items()):
            if request.op == op:
                self._fail(request_id, "unavailable", "the server did not answer in time")


@miniature("LIFE-038")
class EmptyIdAssigns(LifecycleServer):
    """Reads sessionId with `or`: an empty proposal counts as none, so create {"sessionId": ""} mints an id."""

    def handle(self, message: Any) -> list[dict[str, Any]]:
        if isinstance(message, dict) and isinstance(message.get("params"), dict):
            params = message["params"]
            if params.get("sessionId") == "":
                message = {**message, "params": {k: v for k, v in params.items() if k != "sessionId"}}
        return super().handle(message)


@miniature("LIFE-021")
class ResumeAnsweredEmpty(LifecycleServer):
    """Answers a resume with the empty result of a delete: the reply has the schema's shape, not its method's."""

    def handle(self, message: Any) -> list[dict[str, Any]]:
        sent = super().handle(message)
        if isinstance(message, dict) and message.get("method") == "session.resume":
            return [{**m, "result": {}} if "result" in m else m for m in sent]
        return sent
