"""ID, identity lifetimes: an agent-service simulator (spec/identity.md).

Two halves, kept apart on purpose:

* :class:`RemoteService` stands for the agent service across the network.  It mints
  service handles and response ids, runs long operations one unit of work per call,
  and counts its calls.  It outlives a client restart, as a real service outlives
  the caller's process, so it is kept per storage directory.
* :class:`AgentService` is the client an application holds.  It owns the sessions
  (session id, opaque service handle, user state), mints continuation tokens, and
  checks every argument *before* it calls the remote service.

Every check runs in the contract's precedence (ID-021): the arguments themselves first
(including whether a continuation token is one this client issued for the named session),
then whether the session is live, then whether its id is taken.

Each identity has its own field and lifetime: the session keeps only what future runs
need; the response id and the token belong to one operation; per-run arguments such
as ``reference_task_ids`` travel with the run and are never stored in the session.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from reference_impl._ids import (
    Conflict,
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

__all__ = ["MAX_STEPS", "SNAPSHOT_VERSION", "AgentService", "RemoteService"]

SNAPSHOT_VERSION = 1
SNAPSHOT_MEMBERS = frozenset({"snapshot_version", "session_id", "service_handle", "state"})
TOKEN_KIND = "continuation"  # noqa: S105 - a tag, not a secret
TOKEN_MEMBERS = frozenset({"kind", "session_id", "operation_id"})
MAX_STEPS = 100

Response = dict[str, Any]


@dataclass
class Operation:
    """One unit of remote work started by a run: its response id never changes."""

    operation_id: str
    response_id: str
    session_id: str
    input: str
    remaining: int
    reference_task_ids: list[str]


class RemoteService:
    """The simulated remote agent service: it never sees a call the client rejected."""

    def __init__(self) -> None:
        self.calls = 0
        self.operations: dict[str, Operation] = {}
        self.lock = threading.Lock()

    def open_conversation(self) -> str:
        with self.lock:
            self.calls += 1
            return mint("conv")

    def start(self, session_id: str, text: str, steps: int, references: list[str]) -> Operation:
        with self.lock:
            self.calls += 1
            op = Operation(mint("op"), mint("resp"), session_id, text, steps - 1, references)
            self.operations[op.operation_id] = op
            return op

    def poll(self, operation_id: str) -> Operation:
        with self.lock:
            self.calls += 1
            op = self.operations.get(operation_id)
            if op is None:
                msg = f"the service has no operation {operation_id!r}"
                raise NotFound(msg)
            if op.remaining:  # a finished operation answers with its final response again and does no work
                op.remaining -= 1
            return op


# One remote per storage directory: a client restart (a second factory call) finds it again.
_REMOTES: dict[str, RemoteService] = {}
_REMOTES_LOCK = threading.Lock()


def remote_for(env: Environment) -> RemoteService:
    with _REMOTES_LOCK:
        return _REMOTES.setdefault(str(env.storage_dir), RemoteService())


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

    claims: ClassVar[frozenset[str]] = frozenset({"id", "id.structured-handle"})
    structured_handles: ClassVar[bool] = True

    def __init__(self, remote: RemoteService) -> None:
        self._remote = remote
        self._sessions: dict[str, Session] = {}
        self._lock = threading.RLock()
        self._closed = False

    @classmethod
    def open(cls, env: Environment) -> AgentService:
        return cls(remote_for(env))

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

    def read_token(self, token: object, session_id: str) -> str:
        """Return the operation id a token names, or reject a token of another session or shape."""
        if not (isinstance(token, dict) and set(token) == TOKEN_MEMBERS and token.get("kind") == TOKEN_KIND):
            msg = f"continuation_token {describe(token)} was not issued by this service; pass it back unchanged"
            raise InvalidArgument(msg)
        operation_id = token["operation_id"]
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
                handle = self._remote.open_conversation()
            session = self._sessions[sid] = Session(sid, handle, data)
            return session.view()

    def get_session(self, session_id: object) -> dict[str, Any]:
        with self._lock:
            self._live()
            return self._session(session_id).view()

    def set_state(self, session_id: object, state: object) -> None:
        with self._lock:
            self._live()
            check_caller_id(session_id, "session_id")
            data = json_copy(state, "state", kind=dict)
            self._session(session_id).state = data

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
            check_caller_id(session_id, "session_id")
            text = json_copy(input, "input", kind=str)
            count = check_steps(steps)
            references = check_id_list(reference_task_ids, "reference_task_ids")
            session = self._session(session_id)
            if session.service_handle is None:  # restored from a snapshot taken before its first run (ID-023)
                session.service_handle = self._remote.open_conversation()
            op = self._remote.start(session.session_id, text, count, references)
            return self.response(op)

    def resume(self, session_id: object, continuation_token: object) -> Response:
        with self._lock:
            self._live()
            sid = check_caller_id(session_id, "session_id")
            operation_id = self.read_token(continuation_token, sid)
            self._session(sid)
            return self.response(self._remote.poll(operation_id))

    def response(self, op: Operation) -> Response:
        done = op.remaining == 0
        token = None if done else {"kind": TOKEN_KIND, "session_id": op.session_id, "operation_id": op.operation_id}
        return {
            "response_id": op.response_id,
            "session_id": op.session_id,
            "status": "completed" if done else "in_progress",
            "continuation_token": token,
            "output": op.input if done else None,
            "reference_task_ids": list(op.reference_task_ids),
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
            return session.view()

    def remote_calls(self) -> int:
        with self._remote.lock:
            return self._remote.calls

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._sessions.clear()
