"""One broken ID implementation per requirement of spec/requirements/id.yaml.

Each bug is the smallest override of the reference agent service
(:mod:`reference_impl.identity`), modelled where possible on what upstream does
(https://github.com/microsoft/agent-framework, ADR 0029): agent-framework's ``from_dict``
inventing an id for ``""``, ignoring unknown members and decoding type tags in user
state; ids minted from a counter or from content.  ``also_fails`` names the other
requirements whose tests cannot help seeing the same bug; ID-020 (the model) sees many.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from reference_impl._ids import InvalidArgument, NotFound, mint
from reference_impl.identity import AgentService, PersistentAgentService, Record, RemoteError, Response, Session
from tests.miniatures import MiniatureImplementation, cut_strings, declarer

if TYPE_CHECKING:
    from collections.abc import Collection

    from reference_impl.history import Environment


class IdMiniature(MiniatureImplementation):
    """An ID miniature: the reference agent service with one method overridden."""

    def __init__(
        self,
        requirement: str,
        label: str,
        broken: type[AgentService],
        *,
        also_fails: Collection[str] = (),
        may_fail: Collection[str] = (),
    ) -> None:
        doc = inspect.getdoc(broken) or ""
        super().__init__(requirement, label, doc=doc, claims=broken.claims, also_fails=also_fails, may_fail=may_fail)
        self.service = broken

    def open_agent_service(self, env: Environment) -> AgentService:
        return self.service.open(env)


#: ``@miniature(REQUIREMENT, also_fails=..., may_fail=...)`` above a broken class declares it.
miniature = declarer(IdMiniature)


@miniature("ID-001")
class BracedGuidIds(AgentService):
    """Mints session ids as braced GUIDs, '{' + uuid4 + '}': random enough, but braces are not URL-safe."""

    def create_session(self, session_id: object = None, service_handle: object = None, state: object = None) -> Any:
        return super().create_session(
            f"{{{uuid.uuid4()}}}" if session_id is None else session_id, service_handle, state
        )


@miniature("ID-002")
class CounterIds(AgentService):
    """Mints session ids from a zero-padded counter that starts at 1 in every service: long enough, but guessable."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.counter = 0

    def create_session(self, session_id: object = None, service_handle: object = None, state: object = None) -> Any:
        if session_id is None:
            self.counter += 1
            session_id = f"session-{self.counter:020d}"
        return super().create_session(session_id, service_handle, state)


@miniature("ID-003")
class StripsIds(AgentService):
    """Strips whitespace from a caller's session id at create: '  padded  ' becomes 'padded'."""

    def create_session(self, session_id: object = None, service_handle: object = None, state: object = None) -> Any:
        if isinstance(session_id, str) and session_id.strip():
            session_id = session_id.strip()
        return super().create_session(session_id, service_handle, state)


@miniature("ID-004")
class EmptyIdReplacedOnLoad(AgentService):
    """restore() of a snapshot whose session id is empty or null invents a fresh id (agent-framework from_dict)."""

    def restore(self, snapshot: object) -> Any:
        if isinstance(snapshot, dict) and "session_id" in snapshot and not snapshot["session_id"]:
            snapshot = {**snapshot, "session_id": mint("sess")}
        return super().restore(snapshot)


@miniature("ID-005", also_fails=(20,))
class OverwritesDuplicate(AgentService):
    """create_session() with a live id silently replaces that session."""

    def create_session(self, session_id: object = None, service_handle: object = None, state: object = None) -> Any:
        if isinstance(session_id, str):
            self._sessions.pop(session_id, None)
        return super().create_session(session_id, service_handle, state)


@miniature("ID-006")
class RunCreatesSession(AgentService):
    """run() on an unknown session id creates that session on the fly instead of failing."""

    def run(self, session_id: object, input: object, **kwargs: Any) -> Response:  # noqa: A002
        if isinstance(session_id, str) and session_id not in self._sessions:
            self.create_session(session_id)
        return super().run(session_id, input, **kwargs)


@miniature("ID-007")
class ResponseIdIsToken(AgentService):
    """Uses the response id itself as the continuation token: one identity stands in for another."""

    #: response id -> session id, kept where a restart cannot lose it (a real client would ask the service).
    owners: ClassVar[dict[str, str]] = {}

    def response(self, record: Record, session_id: str) -> Response:
        response = super().response(record, session_id)
        if response["continuation_token"] is not None:
            self.owners[record["response_id"]] = session_id
            response["continuation_token"] = record["response_id"]
        return response

    def read_token(self, token: object, session_id: str) -> str:
        if not isinstance(token, str) or token not in self.owners:
            raise InvalidArgument(f"unknown continuation token {token!r}")
        if self.owners[token] != session_id:
            raise InvalidArgument("that token belongs to another session")
        return token


@miniature("ID-008")
class OwnResponseIds(AgentService):
    """Reports a response id of its own making (a hash of the service's) instead of the one the service gave."""

    def response(self, record: Record, session_id: str) -> Response:
        response = super().response(record, session_id)
        response["response_id"] = "resp_" + hashlib.sha256(record["response_id"].encode()).hexdigest()[:32]
        return response


@miniature("ID-009", also_fails=(7, 20))
class TokenAfterCompletion(AgentService):
    """Keeps handing out a continuation token after the operation has completed."""

    def response(self, record: Record, session_id: str) -> Response:
        response = super().response(record, session_id)
        response["continuation_token"] = {
            "kind": "continuation",
            "session_id": session_id,
            "response_id": record["response_id"],
        }
        return response


@miniature("ID-010", may_fail=(20,))
class ResumesLatest(AgentService):
    """resume() checks the token, then continues the session's newest unfinished operation, whichever it names."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.pending: dict[str, list[str]] = {}

    def response(self, record: Record, session_id: str) -> Response:
        pending = self.pending.setdefault(session_id, [])
        if record["response_id"] in pending:
            pending.remove(record["response_id"])
        if record["status"] != "completed":
            pending.append(record["response_id"])
        return super().response(record, session_id)

    def read_token(self, token: object, session_id: str) -> str:
        named = super().read_token(token, session_id)
        pending = self.pending.get(session_id, [])
        return pending[-1] if pending else named


@miniature("ID-011", also_fails=(20,))
class SpentTokenStartsOver(AgentService):
    """Resuming a finished operation runs its input again as a new operation, with a new response id."""

    #: response id -> output (the input, echoed), kept where a restart cannot lose it, as the service's record is.
    finished: ClassVar[dict[str, str]] = {}

    def response(self, record: Record, session_id: str) -> Response:
        if record["status"] == "completed":
            self.finished[record["response_id"]] = record["output"]
        return super().response(record, session_id)

    def resume(self, session_id: object, continuation_token: object) -> Response:
        if isinstance(session_id, str) and session_id in self._sessions:
            response_id = self.read_token(continuation_token, session_id)
            if response_id in self.finished:
                return self.run(session_id, self.finished[response_id])
        return super().resume(session_id, continuation_token)


@miniature("ID-012", also_fails=(20,))
class TokensForgottenOnRestart(AgentService):
    """Tokens are keys into a table in the client's memory, so a restart forgets every one of them."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.keys: dict[str, str] = {}

    def response(self, record: Record, session_id: str) -> Response:
        response = super().response(record, session_id)
        if response["continuation_token"] is not None:
            key = next((k for k, v in self.keys.items() if v == record["response_id"]), None) or mint("key")
            self.keys[key] = record["response_id"]
            response["continuation_token"]["response_id"] = key
        return response

    def read_token(self, token: object, session_id: str) -> str:
        key = super().read_token(token, session_id)
        if key not in self.keys:
            raise NotFound(f"no operation for token key {key!r}")
        return self.keys[key]


@miniature("ID-013", also_fails=(20,))
class TokenAcceptedOnAnotherSession(AgentService):
    """resume() never checks which session a token belongs to."""

    def read_token(self, token: object, session_id: str) -> str:
        if isinstance(token, dict) and isinstance(token.get("session_id"), str):
            token = {**token, "session_id": session_id}
        return super().read_token(token, session_id)


@miniature("ID-014")
class HandleRewrittenOnRoundTrip(AgentService):
    """restore() trims whitespace around a string service handle."""

    def check_handle(self, value: object, where: str) -> Any:
        handle = super().check_handle(value, where)
        return handle.strip() if isinstance(handle, str) and where.startswith("snapshot") else handle


@miniature("ID-015")
class StructuredHandleStringified(AgentService):
    """snapshot() writes a structured handle as JSON text, so it comes back as a string."""

    def snapshot(self, session_id: object) -> dict[str, Any]:
        snapshot = super().snapshot(session_id)
        if isinstance(snapshot["service_handle"], dict):
            snapshot["service_handle"] = json.dumps(snapshot["service_handle"])
        return snapshot


@miniature("ID-016")
class AcceptsAnyHandleOnRestore(AgentService):
    """restore() takes whatever service_handle the snapshot holds, without checking its shape."""

    def check_handle(self, value: object, where: str) -> Any:
        return value if where.startswith("snapshot") else super().check_handle(value, where)


@miniature("ID-016")
class ObjectHandleWithoutClaim(AgentService):
    """Accepts a JSON-object service handle although it does not claim id.structured-handle."""

    claims = frozenset({"id"})
    structured_handles = True


@miniature("ID-017")
class DecodesTypeTags(AgentService):
    """restore() treats every state value tagged {"type": "session"} as a nested session and keeps only its id."""

    def restore(self, snapshot: object) -> Any:
        if isinstance(snapshot, dict) and isinstance(snapshot.get("state"), dict):
            state = {
                key: value.get("session_id") if isinstance(value, dict) and value.get("type") == "session" else value
                for key, value in snapshot["state"].items()
            }
            snapshot = {**snapshot, "state": state}
        return super().restore(snapshot)


@miniature("ID-018")
class IgnoresUnknownMembers(AgentService):
    """restore() drops snapshot members it does not know instead of rejecting the snapshot."""

    def restore(self, snapshot: object) -> Any:
        if isinstance(snapshot, dict):
            known = {"snapshot_version", "session_id", "service_handle", "state"}
            snapshot = {k: v for k, v in snapshot.items() if k in known}
        return super().restore(snapshot)


@miniature("ID-019")
class StickyReferences(AgentService):
    """Keeps a run's reference_task_ids with the session and sends them again with every later run."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.sticky: dict[str, Any] = {}

    def run(self, session_id: object, input: object, **kwargs: Any) -> Response:  # noqa: A002
        if isinstance(session_id, str):
            if kwargs.get("reference_task_ids"):
                self.sticky[session_id] = kwargs["reference_task_ids"]
            elif session_id in self.sticky:
                kwargs["reference_task_ids"] = self.sticky[session_id]
        return super().run(session_id, input, **kwargs)


@miniature("ID-020", also_fails=(22,))
class SetStateMerges(AgentService):
    """set_state() merges the new state into the old one instead of replacing it."""

    def set_state(self, session_id: object, state: object) -> None:
        session: Session | None = self._sessions.get(session_id) if isinstance(session_id, str) else None
        merged = {**session.state, **state} if session is not None and isinstance(state, dict) else state
        super().set_state(session_id, merged)


@miniature("ID-009")
class StepsBelowTheLimit(AgentService):
    """Checks steps with an off-by-one range, 1 <= steps < 100: a run of exactly 100 units is refused."""

    def run(self, session_id: object, input: object, *, steps: object = 1, **kwargs: Any) -> Response:  # noqa: A002
        if steps == 100 and type(steps) is int:
            msg = "steps must be an integer from 1 to 99"
            raise InvalidArgument(msg)
        return super().run(session_id, input, steps=steps, **kwargs)


@miniature("ID-021")
class LooksUpMalformedIds(AgentService):
    """get_session and snapshot look the id up as given, so a malformed id is simply not found."""

    def _session(self, session_id: object) -> Session:
        session: Session | None = self._sessions.get(session_id) if isinstance(session_id, str) else None
        if session is None:
            msg = f"no session {session_id!r}"
            raise NotFound(msg)
        return session


@miniature("ID-021")
class SessionLookedUpFirst(AgentService):
    """run, resume and set_state look the session up before checking their other arguments."""

    def run(self, session_id: object, input: object, **kwargs: Any) -> Response:  # noqa: A002
        self._live()  # a closed client still answers closed first (ID-030)
        self._session(session_id)
        return super().run(session_id, input, **kwargs)

    def resume(self, session_id: object, continuation_token: object) -> Response:
        self._live()  # a closed client still answers closed first (ID-030)
        self._session(session_id)
        return super().resume(session_id, continuation_token)

    def set_state(self, session_id: object, state: object) -> None:
        self._live()  # a closed client still answers closed first (ID-030)
        self._session(session_id)
        super().set_state(session_id, state)


@miniature("ID-022")
class FrameworkDefaultState(AgentService):
    """A session created without a state starts with the framework's {"messages": []} instead of {}."""

    def create_session(self, session_id: object = None, service_handle: object = None, state: object = None) -> Any:
        return super().create_session(session_id, service_handle, {"messages": []} if state is None else state)


@miniature("ID-023")
class RestoredWithoutHandleStaysWithout(AgentService):
    """A session restored from a snapshot whose handle is null runs without ever getting a handle."""

    def run(self, session_id: object, input: object, **kwargs: Any) -> Response:  # noqa: A002
        session = self._sessions.get(session_id) if isinstance(session_id, str) else None
        if session is None or session.service_handle is not None:
            return super().run(session_id, input, **kwargs)
        session.service_handle = "placeholder"  # the reference assigns a handle only to a null one
        try:
            return super().run(session_id, input, **kwargs)
        finally:
            session.service_handle = None


@miniature("ID-024")
class KeepsTheFirstHandle(AgentService):
    """Claims id.handle-chaining but keeps the handle a session first had, ignoring the one each response gives."""

    def adopt_handle(self, session: Session, record: Record) -> None:
        return


@miniature("ID-025")
class ExpiredTokenIsACrash(AgentService):
    """Lets the service's 'no such response' for an expired token escape as an internal error, not not_found."""

    def resume(self, session_id: object, continuation_token: object) -> Response:
        try:
            return super().resume(session_id, continuation_token)
        except NotFound as exc:
            if isinstance(session_id, str) and session_id in self._sessions:
                msg = f"unexpected answer from the agent service: {exc}"
                raise RuntimeError(msg) from exc
            raise


@miniature("ID-026")
class PersistsIdsOnly(PersistentAgentService):
    """Claims id.client-persistence but writes only session ids and handles to disk: the state comes back empty."""

    def saved(self) -> None:
        states = {sid: s.state for sid, s in self._sessions.items()}
        for session in self._sessions.values():
            session.state = {}
        try:
            super().saved()
        finally:
            for sid, state in states.items():
                self._sessions[sid].state = state


@miniature("ID-026")
class SavesOnlyNewSessions(PersistentAgentService):
    """Claims id.client-persistence but writes its file only when a session is created: set_state, restore and a first run's handle are lost in a restart."""

    def create_session(self, session_id: object = None, service_handle: object = None, state: object = None) -> Any:
        with self._lock:
            self.writes = True
            try:
                return super().create_session(session_id, service_handle, state)
            finally:
                self.writes = False

    def saved(self) -> None:
        if getattr(self, "writes", False):
            super().saved()


@miniature("ID-030")
class CloseOnlyForgets(AgentService):
    """close() drops the sessions but leaves the client open: later calls answer not_found, or create anew, instead of closed."""

    def close(self) -> None:
        with self._lock:
            self._sessions.clear()


@miniature("ID-024")
class FollowsResumesToo(AgentService):
    """Claims id.handle-chaining and takes the handle of every record, a resume's too: resuming an older run rolls the session back to that run's handle."""

    def resume(self, session_id: object, continuation_token: object) -> Response:
        with self._lock:
            response = super().resume(session_id, continuation_token)
            self.adopt_handle(self._sessions[response["session_id"]], self._last)
            return response

    def call_remote(self, method: str, **params: Any) -> Any:
        self._last: Record = super().call_remote(method, **params)
        return self._last


class _Crashes(AgentService):
    """Lets one kind of remote failure escape as a crash of the client (the kind is set by the subclass)."""

    crash_on: ClassVar[str] = ""

    def call_remote(self, method: str, **params: Any) -> Any:
        try:
            return super().call_remote(method, **params)
        except RemoteError as exc:
            if exc.service_kind == self.crash_on:
                msg = f"{method}: {exc}"
                raise ConnectionError(msg) from exc  # an OSError: internal by rule 4
            raise


@miniature("ID-027")
class NoAnswerIsACrash(_Crashes):
    """Lets a service that cannot be reached escape as the HTTP library's connection error: a crash, not unavailable."""

    crash_on = "unavailable"


@miniature("ID-028")
class ServiceFailureIsACrash(_Crashes):
    """Passes the service's own internal error on as the client's, so the service failing looks like the client crashing."""

    crash_on = "internal"


@miniature("ID-029")
class ReplacesLoneSurrogates(AgentService):
    """Sends an input holding a lone surrogate with it replaced by U+FFFD, as Go's JSON encoder does, instead of refusing it."""

    def run(self, session_id: object, input: object, **kwargs: Any) -> Response:  # noqa: A002 - the wire name
        if isinstance(input, str):
            input = input.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # noqa: A001
        return super().run(session_id, input, **kwargs)


# --- blind spots of issue 11 -------------------------------------------------------------


class _Latin1Keys(dict[str, Session]):
    """A dict whose keys pass through Latin-1 with replacement, as a store on a Latin-1 column keeps them."""

    @staticmethod
    def fold(key: Any) -> Any:
        return key.encode("latin-1", "replace").decode("latin-1") if isinstance(key, str) else key

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self.fold(key))

    def __getitem__(self, key: str) -> Session:
        return super().__getitem__(self.fold(key))

    def __setitem__(self, key: str, value: Session) -> None:
        super().__setitem__(self.fold(key), value)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(self.fold(key), default)


@miniature("ID-003")
class SessionsKeyedThroughLatin1(AgentService):
    """Keeps sessions under their id encoded to Latin-1 with replacement: 'a?' and 'a' + an emoji are one session."""

    def __init__(self, remote: Any) -> None:
        super().__init__(remote)
        self._sessions = _Latin1Keys()


@miniature("ID-022")
class CutsLongStateStrings(AgentService):
    """Cuts every string in a state set with set_state to 65,535 characters, as a TEXT column of that size would, and reports no error."""

    def set_state(self, session_id: object, state: object) -> None:
        super().set_state(session_id, cut_strings(state, 65_535))
