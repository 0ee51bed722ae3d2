"""ID, identity lifetimes: the client of an agent service (spec/identity.md).

The agent service itself is remote, and in a conformance run the kit plays it
(``env.agent_service``, spec/identity.md § The remote agent service): it mints service
handles and response ids and performs the units of work.  :class:`AgentService` is the
client an application holds.  It owns the sessions (session id, opaque service handle,
user state), mints session ids and continuation tokens, and checks every argument
*before* it calls the remote service.

Every check runs in the contract's precedence (ID-021): the arguments themselves first
(including whether a continuation token is one this client issued for the named session),
then whether the session is live, then whether its id is taken.

Each identity has its own field and lifetime: the session keeps only what future runs
need; the response id (the service's) and the token (the client's, naming that response)
belong to one operation; per-run arguments such as ``reference_task_ids`` travel with the
run and are never stored in the session.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from reference_impl._ids import (
    Conflict,
    IdentityError,
    InvalidArgument,
    NotFound,
    ServiceClosed,
    check_caller_id,
    check_id_list,
    describe,
    json_copy,
    mint,
)

if TYPE_CHECKING:
    from reference_impl.history import Environment

__all__ = ["MAX_STEPS", "SNAPSHOT_VERSION", "AgentService", "PersistentAgentService", "RemoteError"]

SNAPSHOT_VERSION = 1
SNAPSHOT_MEMBERS = frozenset({"snapshot_version", "session_id", "service_handle", "state"})
TOKEN_KIND = "continuation"  # noqa: S105 - a tag, not a secret
TOKEN_MEMBERS = frozenset({"kind", "session_id", "response_id"})
MAX_STEPS = 100

Response = dict[str, Any]
Record = dict[str, Any]


class RemoteError(IdentityError):
    """The remote agent service could not be reached, or refused a call the client thought valid."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.service_kind = kind  # what the service said (or "unavailable" when it said nothing)
        # No answer, or the service failing inside, is unavailable (ID-027, ID-028); anything else
        # the service refuses is a request this client should never have sent: its own bug.
        self.error_kind = "unavailable" if kind in {"unavailable", "internal"} else "internal"  # type: ignore[misc]


@dataclass
class Session:
    """What future runs need, and nothing else."""

    session_id: str
    service_handle: Any
    state: dict[str, Any] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        view = {"session_id": self.session_id, "service_handle": self.service_handle, "state": self.state}
        return dict(json_copy(view, "session"))


def check_steps(value: object) -> int:
    """``steps`` is an integer (never a bool or a float such as 2.0) from 1 to 100; null means 1."""
    if value is None:
        return 1
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_STEPS:
        return value
    msg = f"steps must be an integer from 1 to {MAX_STEPS}, got {describe(value)}"
    raise InvalidArgument(msg)


class AgentService:
    """The client side of the simulator: sessions, runs, resumes and snapshots."""

    claims: ClassVar[frozenset[str]] = frozenset(
        {"id", "id.structured-handle", "id.handle-chaining", "id.token-expiry"}
    )
    structured_handles: ClassVar[bool] = True

    def __init__(self, remote: Any) -> None:
        self._remote = remote  # the endpoint: call({"method", "params"}) -> {"result"} | {"error"}
        self._sessions: dict[str, Session] = {}
        self._lock = threading.RLock()
        self._closed = False

    @classmethod
    def open(cls, env: Environment) -> AgentService:
        return cls(getattr(env, "agent_service", None))

    def call_remote(self, method: str, **params: Any) -> Any:
        """One remote call; its error reply becomes an exception of the kind it names."""
        if self._remote is None:
            msg = "no agent service in the environment; the kit passes one as env.agent_service"
            raise RemoteError("unavailable", msg)
        reply = self._remote.call({"method": method, "params": params})
        if not isinstance(reply, dict) or ("result" in reply) == ("error" in reply):
            msg = f"the agent service answered {method} with {describe(reply)}"
            raise RemoteError("unavailable", msg)
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            msg = f"the agent service refused {method}: {error.get('message')}"
            if error.get("kind") == "not_found":  # a response past the service's retention (ID-025)
                raise NotFound(msg)
            raise RemoteError(str(error.get("kind")), msg)
        return reply["result"]

    def open_conversation(self) -> Any:
        return self.call_remote("conversations.create")["service_handle"]

    # --- checks (all of them run before any remote call) ----------------------------------

    def _live(self) -> None:
        if self._closed:
            msg = "this agent service is closed; open a new one"
            raise ServiceClosed(msg)

    def _session(self, session_id: object) -> Session:
        check_caller_id(session_id, "session_id")
        session: Session | None = self._sessions.get(session_id)  # type: ignore[call-overload]
        if session is None:
            msg = f"no session {session_id!r}; create it or restore its snapshot first"
            raise NotFound(msg)
        return session

    def check_handle(self, value: object, where: str) -> Any:
        """A handle is a non-empty string, or (structured handles) a JSON object; it is never read."""
        if isinstance(value, str) and value:
            return json_copy(value, where)
        if isinstance(value, dict) and self.structured_handles:
            return json_copy(value, where)
        shapes = "a non-empty string or a JSON object" if self.structured_handles else "a non-empty string"
        msg = f"{where} must be {shapes}, got {describe(value)}"
        raise InvalidArgument(msg)

    def check_input(self, value: object) -> str:
        """A run's input is a JSON string: no lone surrogate, which no request to the service can carry (ID-029)."""
        text: str = json_copy(value, "input", kind=str)
        return text

    def read_token(self, token: object, session_id: str) -> str:
        """Return the response id a token names, or reject a token of another session or shape."""
        if not (isinstance(token, dict) and set(token) == TOKEN_MEMBERS and token.get("kind") == TOKEN_KIND):
            msg = f"continuation_token {describe(token)} was not issued by this service; pass it back unchanged"
            raise InvalidArgument(msg)
        operation_id = token["response_id"]
        if not isinstance(operation_id, str) or not operation_id:
            msg = "continuation_token is damaged: pass it back exactly as it was returned"
            raise InvalidArgument(msg)
        if token["session_id"] != session_id:
            msg = f"this continuation token belongs to another session than {session_id!r}; resume it there"
            raise InvalidArgument(msg)
        return operation_id

    # --- operations ---------------------------------------------------------------------

    def create_session(
        self, session_id: object = None, service_handle: object = None, state: object = None
    ) -> dict[str, Any]:
        with self._lock:
            self._live()
            sid = mint("sess") if session_id is None else check_caller_id(session_id, "session_id")
            handle = None if service_handle is None else self.check_handle(service_handle, "service_handle")
            data = {} if state is None else json_copy(state, "state", kind=dict)
            if sid in self._sessions:
                msg = f"a session {sid!r} already exists; choose another id or omit it"
                raise Conflict(msg)
            if handle is None:
                handle = self.open_conversation()
            session = self._sessions[sid] = Session(sid, handle, data)
            self.saved()
            return session.view()

    def get_session(self, session_id: object) -> dict[str, Any]:
        with self._lock:
            self._live()
            return self._session(session_id).view()

    def set_state(self, session_id: object, state: object) -> None:
        with self._lock:
            self._live()
            data = json_copy(state, "state", kind=dict)
            self._session(session_id).state = data  # _session checks the id first (ID-021)
            self.saved()

    def run(
        self,
        session_id: object,
        input: object,  # noqa: A002 - the wire name of the argument
        *,
        steps: object = 1,
        reference_task_ids: object = None,
    ) -> Response:
        with self._lock:
            self._live()
            text = self.check_input(input)
            count = check_steps(steps)
            references = check_id_list(reference_task_ids, "reference_task_ids")
            session = self._session(session_id)  # checks the id, still before any remote call (ID-016, ID-021)
            if session.service_handle is None:  # restored from a snapshot taken before its first run (ID-023)
                session.service_handle = self.open_conversation()
            record = self.call_remote(
                "responses.create",
                service_handle=session.service_handle,
                input=text,
                steps=count,
                reference_task_ids=references,
            )
            self.adopt_handle(session, record)
            self.saved()
            return self.response(record, session.session_id)

    def resume(self, session_id: object, continuation_token: object) -> Response:
        with self._lock:
            self._live()
            sid = check_caller_id(session_id, "session_id")
            response_id = self.read_token(continuation_token, sid)
            self._session(sid)
            return self.response(self.call_remote("responses.get", response_id=response_id), sid)

    def adopt_handle(self, session: Session, record: Record) -> None:
        """The service names the conversation by the handle its latest response carries (ID-024)."""
        session.service_handle = record["service_handle"]

    def response(self, record: Record, session_id: str) -> Response:
        """The client's response for the service's record: the service's ids, the client's token."""
        done = record["status"] == "completed"
        token = None if done else {"kind": TOKEN_KIND, "session_id": session_id, "response_id": record["response_id"]}
        return {
            "response_id": record["response_id"],
            "session_id": session_id,
            "status": record["status"],
            "continuation_token": token,
            "output": record["output"] if done else None,
            "reference_task_ids": list(record["reference_task_ids"]),
        }

    def snapshot(self, session_id: object) -> dict[str, Any]:
        with self._lock:
            self._live()
            return {"snapshot_version": SNAPSHOT_VERSION, **self._session(session_id).view()}

    def restore(self, snapshot: object) -> dict[str, Any]:
        with self._lock:
            self._live()
            if not isinstance(snapshot, dict):
                msg = f"a snapshot is a JSON object, got {describe(snapshot)}"
                raise InvalidArgument(msg)
            if set(snapshot) != SNAPSHOT_MEMBERS:
                unknown, missing = sorted(set(snapshot) - SNAPSHOT_MEMBERS), sorted(SNAPSHOT_MEMBERS - set(snapshot))
                msg = f"not a version-{SNAPSHOT_VERSION} snapshot: unknown members {unknown}, missing members {missing}"
                raise InvalidArgument(msg)
            version = snapshot["snapshot_version"]
            if type(version) is not int or version != SNAPSHOT_VERSION:
                msg = f"snapshot_version {describe(version)} is not supported; this service reads {SNAPSHOT_VERSION}"
                raise InvalidArgument(msg)
            sid = check_caller_id(snapshot["session_id"], "snapshot session_id")
            handle = snapshot["service_handle"]  # null: the remote service has not assigned one yet (ID-023)
            if handle is not None:
                handle = self.check_handle(handle, "snapshot service_handle")
            data = json_copy(snapshot["state"], "snapshot state", kind=dict)
            if sid in self._sessions:
                msg = f"a session {sid!r} is already live; a snapshot restores a session that is not"
                raise Conflict(msg)
            session = self._sessions[sid] = Session(sid, handle, data)
            self.saved()
            return session.view()

    def saved(self) -> None:
        """Called after every change to the sessions; this client keeps them in memory only."""

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._sessions.clear()


class PersistentAgentService(AgentService):
    """A client that keeps its sessions in its storage directory, so a restart finds them (ID-026).

    The file holds each session's id, handle and state as JSON, rewritten whole (through a
    temporary file and a rename) after every change; tokens need nothing stored, since they
    name the service's response.
    """

    claims: ClassVar[frozenset[str]] = AgentService.claims | {"id.client-persistence"}
    FILE = "agent-sessions.json"

    def __init__(self, remote: Any, path: Path) -> None:
        super().__init__(remote)
        self._path = path
        if path.exists():
            for view in json.loads(path.read_text(encoding="utf-8")):
                self._sessions[view["session_id"]] = Session(view["session_id"], view["service_handle"], view["state"])

    @classmethod
    def open(cls, env: Environment) -> PersistentAgentService:
        return cls(getattr(env, "agent_service", None), Path(env.storage_dir) / cls.FILE)

    def saved(self) -> None:
        text = json.dumps([session.view() for session in self._sessions.values()], ensure_ascii=False)
        partial = self._path.with_suffix(".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(self._path)
