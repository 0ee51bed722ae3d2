"""ID and TASK variants: the reference's agent and task services with one upstream behaviour."""

from __future__ import annotations

import uuid
from typing import Any

from reference_impl._ids import FailedPrecondition, InvalidArgument, NotFound, check_caller_id, check_id_list, json_copy
from reference_impl.identity import SNAPSHOT_MEMBERS, AgentService, RemoteError
from reference_impl.tasks import Context, Task, TaskService
from tests.variants._base import Variant

# --- ID: the agent service ------------------------------------------------------------------


class _LazyHandleService(AgentService):
    """No handle until the first run; a snapshot taken before it holds null, and restores as null.

    The reference's run asks the remote service for a handle when the session has none (ID-023).
    """

    def create_session(self, session_id: object = None, service_handle: object = None, state: object = None) -> Any:
        with self._lock:
            view = super().create_session(session_id, service_handle, state)
            if service_handle is None:
                self._sessions[view["session_id"]].service_handle = None
                view = self._sessions[view["session_id"]].view()
            return view


class HandleFilledAtFirstRun(Variant):
    """A session starts with a null service handle; the first run asks the service for one.

    agent-framework ``AgentSession.service_session_id`` is set from the first response.
    """

    # 0.1.0 blamed ID-007, ID-014, ID-016 and ID-020 for this; 0.2.0 allows it (ID-023: null until
    # the first run, then assigned once), so the kit must blame nothing.
    rows = frozenset({"identity.md: service handle before the first run"})
    fails = frozenset()
    source = "https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_agents.py"

    def open_agent_service(self, env: Any) -> Any:
        return _LazyHandleService.open(env)


class _FreshIdForFalsyIdOnLoad(AgentService):
    def restore(self, snapshot: object) -> Any:
        # from_dict passes data["session_id"] to a constructor that does `session_id or uuid4()`.
        if isinstance(snapshot, dict) and "session_id" in snapshot and not snapshot["session_id"]:
            snapshot = {**snapshot, "session_id": str(uuid.uuid4())}
        return super().restore(snapshot)


class EmptySessionIdReplacedOnLoad(Variant):
    """Restoring a snapshot whose session id is empty (or null) gives the session a fresh uuid4 id.

    agent-framework ``AgentSession.from_dict``: ``session_id or str(uuid.uuid4())``.
    """

    rows = frozenset({"identity.md: empty session id on load"})
    fails = frozenset({"ID-004"})
    source = "https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_sessions.py"

    def open_agent_service(self, env: Any) -> Any:
        return _FreshIdForFalsyIdOnLoad.open(env)


class _IgnoresUnknownSnapshotKeys(AgentService):
    def restore(self, snapshot: object) -> Any:
        if isinstance(snapshot, dict):
            snapshot = {k: v for k, v in snapshot.items() if k in SNAPSHOT_MEMBERS}
        return super().restore(snapshot)


class UnknownSnapshotKeysIgnored(Variant):
    """Restoring a snapshot drops the members it does not know instead of refusing the snapshot.

    agent-framework ``AgentSession.from_dict`` reads the keys it knows and ignores the rest.
    """

    rows = frozenset({"identity.md: unknown snapshot keys"})
    fails = frozenset({"ID-018"})
    source = "https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_sessions.py"

    def open_agent_service(self, env: Any) -> Any:
        return _IgnoresUnknownSnapshotKeys.open(env)


class _SubscriptsSessionId(AgentService):
    def restore(self, snapshot: object) -> Any:
        if isinstance(snapshot, dict) and "session_id" not in snapshot:
            raise KeyError("session_id")  # data["session_id"], unguarded
        return super().restore(snapshot)


class MissingSessionIdRaisesKeyError(Variant):
    """Restoring a snapshot without a session id raises a bare ``KeyError('session_id')``.

    agent-framework ``AgentSession.from_dict`` reads ``data["session_id"]`` unguarded.
    """

    # ID-018: a snapshot that lacks a member fails with invalid_argument.  A bare KeyError is a
    # LookupError, which the contract maps to not_found: a wrong answer, not a crash.
    rows = frozenset({"identity.md: missing snapshot key"})
    fails = frozenset({"ID-018"})
    source = "https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_sessions.py"

    def open_agent_service(self, env: Any) -> Any:
        return _SubscriptsSessionId.open(env)


class _DefaultsMissingSnapshotMembers(AgentService):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._handle_absent = False

    def restore(self, snapshot: object) -> Any:
        with self._lock:
            if isinstance(snapshot, dict) and "session_id" in snapshot:
                self._handle_absent = "service_handle" not in snapshot
                snapshot = {"snapshot_version": 1, "service_handle": None, "state": {}, **snapshot}
            try:
                return super().restore(snapshot)
            finally:
                self._handle_absent = False

    def check_handle(self, value: object, where: str) -> Any:
        if value is None and self._handle_absent and where.startswith("snapshot"):
            return None  # data.get("service_session_id"): absent is None, and None is not checked
        return super().check_handle(value, where)


class MissingSnapshotMembersDefaulted(Variant):
    """Restoring a snapshot that lacks its state, handle or format tag fills in ``{}``, null, and no check.

    agent-framework ``AgentSession.from_dict`` reads ``data.get("service_session_id")`` and
    ``data.get("state", {})``, and never reads its own ``"type"`` tag.
    """

    rows = frozenset({"identity.md: missing snapshot key"})
    fails = frozenset({"ID-018"})
    source = "https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_sessions.py"

    def open_agent_service(self, env: Any) -> Any:
        return _DefaultsMissingSnapshotMembers.open(env)


#: The members agent-framework's ``Message.__init__`` takes; ``SerializationMixin.from_dict``
#: passes every member but ``type`` to it as a keyword.
_MESSAGE_PARAMETERS = frozenset(
    {"role", "contents", "text", "author_name", "message_id", "additional_properties", "raw_representation"}
)


def _as_message(value: dict[str, Any]) -> dict[str, Any]:
    """What ``Message.from_dict(value).to_dict()`` gives back: the defaults written, or a TypeError."""
    given = {k: v for k, v in value.items() if k != "type"}
    unexpected = sorted(set(given) - _MESSAGE_PARAMETERS)
    if unexpected or "role" not in given:
        msg = f"Message.__init__() got unexpected or missing arguments: {unexpected or ['role']}"
        raise TypeError(msg)
    contents = list(given.get("contents") or [])
    if given.get("text") is not None:
        contents.append({"type": "text", "text": given["text"]})
    out = {"type": "message", "role": given["role"], "contents": contents}
    for key in ("author_name", "message_id"):
        if given.get(key) is not None:
            out[key] = given[key]
    out["additional_properties"] = given.get("additional_properties") or {}
    return out


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and value.get("type") == "message":
        return _as_message(value)
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    return value


class _DecodesMessageTags(AgentService):
    def restore(self, snapshot: object) -> Any:
        if isinstance(snapshot, dict) and isinstance(snapshot.get("state"), dict):
            # _deserialize_state: each top-level value, and everything nested in it, is decoded.
            snapshot = {**snapshot, "state": {k: _decode(v) for k, v in snapshot["state"].items()}}
        return super().restore(snapshot)


class MessageTagInStateDecoded(Variant):
    """Restoring decodes every state dict tagged ``"type": "message"`` as a framework Message.

    agent-framework ``_deserialize_value`` rebuilds any state dict whose ``type`` is a registered
    type id (``message``): it comes back with the members a Message writes, or fails with TypeError.
    """

    rows = frozenset({"identity.md: user `type` tag in state"})
    fails = frozenset({"ID-017"})
    source = "https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_sessions.py"

    def open_agent_service(self, env: Any) -> Any:
        return _DecodesMessageTags.open(env)


class _OverwritesOnCreate(AgentService):
    def create_session(self, session_id: object = None, service_handle: object = None, state: object = None) -> Any:
        with self._lock:
            if isinstance(session_id, str):
                self._sessions.pop(session_id, None)
            return super().create_session(session_id, service_handle, state)


class DuplicateCreateOverwrites(Variant):
    """Creating a session under a live id replaces that session (an upsert of the stored record).

    a2a-sdk ``InMemoryTaskStore.save`` "saves or updates": a second save of an id replaces the
    first; copilot-sdk's client registry replaces a live entry the same way.
    """

    # ID-005 (a live id fails with conflict), and ID-020: the model's create of a live id is conflict.
    rows = frozenset({"identity.md: duplicate session create"})
    fails = frozenset({"ID-005", "ID-020"})
    source = "https://github.com/a2aproject/a2a-python/blob/main/src/a2a/server/tasks/inmemory_task_store.py"

    def open_agent_service(self, env: Any) -> Any:
        return _OverwritesOnCreate.open(env)


class _RestoreReplacesLive(AgentService):
    def restore(self, snapshot: object) -> Any:
        with self._lock:
            if isinstance(snapshot, dict) and isinstance(snapshot.get("session_id"), str):
                live = self._sessions.pop(snapshot["session_id"], None)
                try:
                    return super().restore(snapshot)
                except Exception:
                    if live is not None:  # a snapshot refused for its shape leaves the live session
                        self._sessions[live.session_id] = live
                    raise
            return super().restore(snapshot)


class RestoreReplacesLiveSession(Variant):
    """Restoring (resuming) a session whose id is live replaces the live one, without a guard.

    copilot-sdk ``resumeSession`` on an already-active session re-registers it (issue #742).
    """

    # ID-005: restore of a live id fails with conflict.  The model restores only after a restart,
    # when no session is live, so ID-020 never meets it.
    rows = frozenset({"identity.md: duplicate session create"})
    fails = frozenset({"ID-005"})
    source = "https://github.com/github/copilot-sdk/issues/742"

    def open_agent_service(self, env: Any) -> Any:
        return _RestoreReplacesLive.open(env)


_AF_SESSIONS = (
    "https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_sessions.py"
)
_AF_AGENTS = "https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_agents.py"


class _MintsForEmptyIdAtCreate(AgentService):
    def create_session(self, session_id: object = None, service_handle: object = None, state: object = None) -> Any:
        # AgentSession.__init__: `session_id or str(uuid.uuid4())`.
        return super().create_session(None if session_id == "" else session_id, service_handle, state)


class EmptySessionIdReplacedAtCreate(Variant):
    """Creating a session with an empty session id gives it a fresh id instead of refusing it.

    agent-framework ``AgentSession.__init__``: ``session_id or str(uuid.uuid4())``.
    """

    rows = frozenset({"identity.md: invalid session id at create"})
    fails = frozenset({"ID-004"})
    source = _AF_SESSIONS

    def open_agent_service(self, env: Any) -> Any:
        return _MintsForEmptyIdAtCreate.open(env)


class _RefusesLongIds(AgentService):
    def _refuse_long(self, session_id: object) -> None:
        if isinstance(session_id, str) and len(session_id) > 128:  # FileSessionStore.MAX_SESSION_ID_LENGTH
            msg = "session_id must be at most 128 characters"
            raise InvalidArgument(msg)

    def create_session(self, session_id: object = None, service_handle: object = None, state: object = None) -> Any:
        self._refuse_long(session_id)
        return super().create_session(session_id, service_handle, state)

    def restore(self, snapshot: object) -> Any:
        if isinstance(snapshot, dict):
            self._refuse_long(snapshot.get("session_id"))
        return super().restore(snapshot)


class LongSessionIdRefused(Variant):
    """A valid session id longer than 128 characters is refused with ``invalid_argument``.

    agent-framework ``FileSessionStore.validate_session_id``: ``MAX_SESSION_ID_LENGTH = 128``.
    """

    rows = frozenset({"identity.md: session id over 128 characters"})
    fails = frozenset({"ID-003"})
    source = _AF_SESSIONS

    def open_agent_service(self, env: Any) -> Any:
        return _RefusesLongIds.open(env)


class _KeepsAnyHandle(AgentService):
    def check_handle(self, value: object, where: str) -> Any:
        try:
            return super().check_handle(value, where)
        except InvalidArgument:
            return json_copy(value, where)  # kept as given; only a value JSON cannot hold still fails


class AnyHandleShapeKept(Variant):
    """A service handle of any JSON shape (empty string, number, array, object) is kept as given.

    agent-framework ``AgentSession.__init__`` and ``from_dict`` assign ``service_session_id``
    without a check; the generic ``Agent`` refuses a mapping only when it runs.
    """

    rows = frozenset({"identity.md: service handle shape"})
    fails = frozenset({"ID-016"})
    source = _AF_SESSIONS

    def open_agent_service(self, env: Any) -> Any:
        return _KeepsAnyHandle.open(env)


class _KeepsAnyState(AgentService):
    def set_state(self, session_id: object, state: object) -> None:
        with self._lock:
            self._live()
            check_caller_id(session_id, "session_id")
            data = json_copy(state, "state")  # AgentSession.state is a plain attribute
            self._session(session_id).state = data
            self.saved()


class StateOfAnyTypeKept(Variant):
    """``set_state`` keeps a state that is not a JSON object (a number, an array) as given.

    agent-framework ``AgentSession.state`` is a plain attribute, and ``SessionStore.set`` stores it.
    """

    rows = frozenset({"identity.md: malformed state or run argument"})
    fails = frozenset({"ID-016"})
    source = _AF_SESSIONS

    def open_agent_service(self, env: Any) -> Any:
        return _KeepsAnyState.open(env)


class _TokenSessionUnchecked(AgentService):
    def read_token(self, token: object, session_id: str) -> str:
        if isinstance(token, dict) and isinstance(token.get("session_id"), str):
            token = {**token, "session_id": session_id}  # which session issued it is never looked at
        return super().read_token(token, session_id)


class ForeignTokenForwarded(Variant):
    """``resume`` with a token issued for another session continues that token's operation.

    agent-framework ``Agent.run`` hands ``options["continuation_token"]`` to the chat client unread.
    """

    rows = frozenset({"identity.md: incompatible continuation"})
    fails = frozenset({"ID-013", "ID-020"})
    source = _AF_AGENTS

    def open_agent_service(self, env: Any) -> Any:
        return _TokenSessionUnchecked.open(env)


class _AnswersAfterClose(AgentService):
    """close() ends nothing: the client keeps its sessions and keeps answering."""

    def close(self) -> None:
        """What ``Agent.close()`` leaves: the agent and its session store still answer."""


class ClosedClientStillAnswers(Variant):
    """After ``close`` the client keeps answering: sessions are read, runs reach the service.

    agent-framework-core 1.23.0 ``Agent.close()`` only closes the chat client and MCP contexts the
    agent manages; ``Agent.run`` still works afterwards, and ``SessionStore`` has no close.
    """

    rows = frozenset({"identity.md: closed client"})
    fails = frozenset({"ID-030"})
    source = _AF_AGENTS

    def open_agent_service(self, env: Any) -> Any:
        return _AnswersAfterClose.open(env)


class _ServiceFailureRaisedAsIs(AgentService):
    def call_remote(self, method: str, **params: Any) -> Any:
        try:
            return super().call_remote(method, **params)
        except RemoteError as exc:
            if exc.service_kind != "internal":
                raise
            # What the chat client raised reaches the caller unchanged: no error the contract knows.
            raise RuntimeError(f"chat client error: {exc}") from None


class ServiceFailurePassesThrough(Variant):
    """A service that fails inside reaches the caller as the chat client's own exception.

    agent-framework-core 1.23.0 ``Agent.run`` lets whatever the chat client raised propagate: it has
    no error of its own for a failed service, so the caller sees an exception no contract names.
    """

    # ID-028: an error reply of kind internal MUST fail with unavailable; an exception that is no
    # error answer is a crash.
    rows = frozenset({"identity.md: service failing inside"})
    fails = frozenset({"ID-028"})
    kind = "crashed"
    source = _AF_AGENTS

    def open_agent_service(self, env: Any) -> Any:
        return _ServiceFailureRaisedAsIs.open(env)


class _ForwardsLoneSurrogates(AgentService):
    def check_input(self, value: object) -> str:
        if isinstance(value, str):
            return value  # to the service as given, lone surrogates included
        return super().check_input(value)


class LoneSurrogateForwarded(Variant):
    """A run's input holding a lone surrogate is sent to the service as given, not refused.

    agent-framework-core 1.23.0 ``Agent.run`` hands its input to the chat client without looking at it.
    """

    # ID-029: a lone surrogate in a run's input MUST be rejected with invalid_argument before any
    # remote call.
    rows = frozenset({"identity.md: lone surrogate in a run's input"})
    fails = frozenset({"ID-029"})
    source = _AF_AGENTS

    def open_agent_service(self, env: Any) -> Any:
        return _ForwardsLoneSurrogates.open(env)


# --- TASK: the task service -----------------------------------------------------------------


class _TerminalIsInvalidParams(TaskService):
    def continue_task(self, task: Task, context_id: str | None) -> None:
        try:
            super().continue_task(task, context_id)
        except FailedPrecondition as exc:
            raise InvalidArgument(str(exc)) from None


class TerminalTaskMessageInvalidParams(Variant):
    """A message to a task in a terminal state fails as invalid params, not as a failed precondition.

    a2a-sdk ``DefaultRequestHandler``: ``InvalidParamsError("Task … is in terminal state")``.
    """

    # TASK-006: a send to a terminal task fails with failed_precondition; TASK-012: so does the
    # model's send to a terminal task.
    rows = frozenset({"identity.md: message to a terminal task"})
    fails = frozenset({"TASK-006", "TASK-012"})
    source = (
        "https://github.com/a2aproject/a2a-python/blob/main/src/a2a/server/request_handlers/default_request_handler.py"
    )

    def open_task_service(self, env: Any) -> Any:
        return _TerminalIsInvalidParams.open(env)


class _ReadsAfterClose(TaskService):
    """Close refuses new work only: get and list still read the tasks."""

    def get(self, task_id: object, owner: object) -> dict[str, Any]:
        closed, self._closed = self._closed, False
        try:
            return super().get(task_id, owner)
        finally:
            self._closed = closed

    def list_tasks(self, context_id: object, owner: object) -> list[dict[str, Any]]:
        closed, self._closed = self._closed, False
        try:
            return super().list_tasks(context_id, owner)
        finally:
            self._closed = closed


class ClosedServiceStillReads(Variant):
    """A closed task service refuses messages and state changes, but get and list still answer.

    a2a-sdk 1.3.0 ``DefaultRequestHandler.aclose()`` closes its ``ActiveTaskRegistry`` (new work
    raises "ActiveTaskRegistry is closed"); ``on_get_task`` and ``on_list_tasks`` read the task
    store, which has no close.
    """

    rows = frozenset({"identity.md: closed task service"})
    fails = frozenset({"TASK-017"})
    source = "https://github.com/a2aproject/a2a-python/blob/main/src/a2a/server/agent_execution/active_task_registry.py"

    def open_task_service(self, env: Any) -> Any:
        return _ReadsAfterClose.open(env)


class _ContextGeneratedForTaskAlone(TaskService):
    def continue_task(self, task: Task, context_id: str | None) -> None:
        super().continue_task(task, context_id)
        if context_id is None:  # no context id in the message: the request context generates one
            self._contexts[task.context_id].task_ids.remove(task.task_id)
            task.context_id = self.new_context(task.owner).context_id
            self._contexts[task.context_id].task_ids.append(task.task_id)


class TaskIdAloneGetsNewContext(Variant):
    """A message naming only a task id continues the task under a newly generated context id.

    a2a-sdk's request context generates a context id when the message has none (issue #1206).
    """

    # TASK-004: the message lands in the task's own context; TASK-012: the model keeps the context.
    rows = frozenset({"identity.md: task id without context id"})
    fails = frozenset({"TASK-004", "TASK-012"})
    source = "https://github.com/a2aproject/a2a-python/issues/1206"

    def open_task_service(self, env: Any) -> Any:
        return _ContextGeneratedForTaskAlone.open(env)


class _AdoptsClientTaskId(TaskService):
    def send(
        self,
        owner: object,
        message: object,
        *,
        context_id: object = None,
        task_id: object = None,
        reference_task_ids: object = None,
    ) -> dict[str, Any]:
        args = {"context_id": context_id, "task_id": task_id, "reference_task_ids": reference_task_ids}
        try:
            return super().send(owner, message, **args)
        except NotFound:
            if not isinstance(owner, str) or not isinstance(task_id, str) or task_id in self._tasks:
                raise
        with self._lock:  # every argument is valid and the task id unknown: a new task under that id
            for reference in check_id_list(reference_task_ids, "reference_task_ids"):
                self.find_task(reference, owner)
            context = self.new_context(owner) if context_id is None else self.find_context(str(context_id), owner)
            self._tasks[task_id] = Task(task_id, context.context_id, owner)
            context.task_ids.append(task_id)
        return super().send(owner, message, **args)


class ClientTaskIdAdopted(Variant):
    """A message naming a task id the server never minted starts a new task under that id.

    a2a-java's request handler did this on every transport (issue #766), as a2a-python did before PR #264.
    """

    rows = frozenset({"identity.md: client-supplied unknown task id"})
    fails = frozenset({"TASK-002"})
    source = "https://github.com/a2aproject/a2a-java/issues/766"

    def open_task_service(self, env: Any) -> Any:
        return _AdoptsClientTaskId.open(env)


class _AdoptsClientContextId(TaskService):
    def find_context(self, context_id: str, owner: str) -> Context:
        if context_id not in self._contexts:  # a context id nobody minted is taken as given
            self._contexts[context_id] = Context(context_id, owner)
        return super().find_context(context_id, owner)


class ClientContextIdAdopted(Variant):
    """A message naming a context id the server never minted starts a task in a context of that id.

    a2a-sdk ``RequestContext`` keeps the message's ``context_id`` and generates one only when absent.
    """

    rows = frozenset({"identity.md: client-supplied unknown context id"})
    fails = frozenset({"TASK-003"})
    source = "https://github.com/a2aproject/a2a-python/blob/main/src/a2a/server/agent_execution/context.py"

    def open_task_service(self, env: Any) -> Any:
        return _AdoptsClientContextId.open(env)


class _ListFilters(TaskService):
    def list_tasks(self, context_id: object, owner: object) -> list[dict[str, Any]]:
        try:
            return super().list_tasks(context_id, owner)
        except NotFound:
            return []  # a filter over the caller's own tasks that matches none


class UnknownContextListsEmpty(Variant):
    """Listing a context id that is unknown, or another owner's, returns an empty list.

    a2a-sdk ``InMemoryTaskStore.list`` filters the caller's own tasks by ``context_id``.
    """

    # TASK-003: list naming a never-minted context fails with not_found; TASK-009: so does list
    # of another owner's context.
    rows = frozenset({"identity.md: client-supplied unknown context id"})
    fails = frozenset({"TASK-003", "TASK-009"})
    source = "https://github.com/a2aproject/a2a-python/blob/main/src/a2a/server/tasks/inmemory_task_store.py"

    def open_task_service(self, env: Any) -> Any:
        return _ListFilters.open(env)


class _ReferencesUnchecked(TaskService):
    def send(self, owner: object, message: object, **kwargs: Any) -> dict[str, Any]:
        references = check_id_list(kwargs.pop("reference_task_ids", None), "reference_task_ids")
        task = super().send(owner, message, **kwargs)
        with self._lock:  # kept on the task as given, none looked up
            kept = self._tasks[task["task_id"]]
            kept.reference_task_ids.extend(r for r in dict.fromkeys(references) if r not in kept.reference_task_ids)
            return kept.view()


class UnknownReferencesAccepted(Variant):
    """Reference task ids are kept as given without checking that they name tasks of the caller.

    a2a-sdk stores ``reference_task_ids`` on the message and, when asked to, drops the ones
    its store cannot find (``SimpleRequestContextBuilder``); it never rejects the message.
    """

    # TASK-010: each reference names a task of the same owner, else not_found; TASK-009: a send
    # whose reference_task_ids name another owner's task fails with not_found.
    rows = frozenset({"identity.md: `referenceTaskIds`"})
    fails = frozenset({"TASK-009", "TASK-010"})
    source = "https://github.com/a2aproject/a2a-python/blob/main/src/a2a/server/agent_execution/simple_request_context_builder.py"

    def open_task_service(self, env: Any) -> Any:
        return _ReferencesUnchecked.open(env)


class _AcceptsUnknownState(TaskService):
    def set_state(self, task_id: object, owner: object, state: object) -> dict[str, Any]:
        if state != "unknown":
            return super().set_state(task_id, owner, state)
        with self._lock:  # TASK_STATE_UNSPECIFIED ("unknown") taken as one more state
            task = self.find_task(str(task_id), str(owner))
            task.state = "unknown"
            return task.view()


class UnknownStateAccepted(Variant):
    """``set_state("unknown")`` is accepted: A2A's ``unknown`` (TASK_STATE_UNSPECIFIED) is taken as a state.

    A2A lists ``unknown`` among its task states; the spec's eight leave it out.
    """

    # TASK-011: a state that is not one of the eight fails with invalid_argument.
    rows = frozenset({"identity.md: task states"})
    fails = frozenset({"TASK-011"})
    source = "https://github.com/a2aproject/A2A/blob/main/specification/a2a.proto"

    def open_task_service(self, env: Any) -> Any:
        return _AcceptsUnknownState.open(env)


class _NewestUpdatedFirst(TaskService):
    def __init__(self) -> None:
        super().__init__()
        self._updated: dict[str, int] = {}
        self._clock = 0

    def _touch(self, view: dict[str, Any]) -> dict[str, Any]:
        self._clock += 1
        self._updated[view["task_id"]] = self._clock
        return view

    def send(self, owner: object, message: object, **kwargs: Any) -> dict[str, Any]:
        return self._touch(super().send(owner, message, **kwargs))

    def set_state(self, task_id: object, owner: object, state: object) -> dict[str, Any]:
        return self._touch(super().set_state(task_id, owner, state))

    def list_tasks(self, context_id: object, owner: object) -> list[dict[str, Any]]:
        listed = super().list_tasks(context_id, owner)
        return sorted(listed, key=lambda t: (self._updated[t["task_id"]], t["task_id"]), reverse=True)


class ListsNewestUpdatedFirst(Variant):
    """Lists tasks by last update, newest first, with or without a context filter.

    a2a-sdk ``InMemoryTaskStore.list`` sorts by status timestamp, descending, then by id.
    """

    # TASK-008 and TASK-013: oldest created first; TASK-012: the model lists a context in creation order.
    rows = frozenset({"identity.md: listing tasks"})
    fails = frozenset({"TASK-008", "TASK-012", "TASK-013"})
    source = "https://github.com/a2aproject/a2a-python/blob/main/src/a2a/server/tasks/inmemory_task_store.py"

    def open_task_service(self, env: Any) -> Any:
        return _NewestUpdatedFirst.open(env)


class _OwnerUnchecked(TaskService):
    def check_owner(self, owner: object) -> str:
        return owner if isinstance(owner, str) else super().check_owner(owner)  # any string, "" included


class OwnerNameUnchecked(Variant):
    """The owner is the caller's user name, whatever it is: ``""`` or a name with a newline is an owner.

    a2a-sdk ``resolve_user_scope`` returns ``context.user.user_name`` unchecked, and
    ``UnauthenticatedUser.user_name`` is ``""``, one owner for every unauthenticated caller.
    """

    # TASK-011: an owner that is not a valid caller-supplied id fails with invalid_argument.  TASK-014
    # on some calls: an empty owner naming an unknown task is then not_found, but its "alone" call
    # (TASK-011's fault) is accepted too, so the kit does not judge the precedence there.
    rows = frozenset({"identity.md: owner"})
    fails = frozenset({"TASK-011"})
    may_fail = frozenset({"TASK-014"})
    source = "https://github.com/a2aproject/a2a-python/blob/v1.3.0/src/a2a/server/owner_resolver.py"

    def open_task_service(self, env: Any) -> Any:
        return _OwnerUnchecked.open(env)


class _EmptyIdIsNone(TaskService):
    def send(self, owner: object, message: object, **kwargs: Any) -> dict[str, Any]:
        for name in ("context_id", "task_id"):
            if kwargs.get(name) == "":
                kwargs[name] = None  # proto3: an empty string is an unset field
        return super().send(owner, message, **kwargs)

    def list_tasks(self, context_id: object, owner: object) -> list[dict[str, Any]]:
        return super().list_tasks(None if context_id == "" else context_id, owner)


class EmptyIdMeansNone(Variant):
    """An empty ``context_id`` or ``task_id`` is taken as none given: a new context, or a new task.

    a2a-sdk's request handler reads ``params.message.context_id or None`` (proto3 strings are never
    absent, only empty).
    """

    rows = frozenset({"identity.md: empty `contextId` or `taskId`"})
    fails = frozenset({"TASK-011"})
    source = (
        "https://github.com/a2aproject/a2a-python/blob/v1.3.0/src/a2a/server/request_handlers/"
        "default_request_handler_v2.py"
    )

    def open_task_service(self, env: Any) -> Any:
        return _EmptyIdIsNone.open(env)


class _AnyJsonMessage(TaskService):
    def send(self, owner: object, message: object, **kwargs: Any) -> dict[str, Any]:
        if isinstance(message, dict) or not isinstance(message, str | list | int | float | bool):
            return super().send(owner, message, **kwargs)
        view = super().send(owner, {}, **kwargs)
        with self._lock:  # a data part holds any JSON value: a string or an array is kept as the message
            task = self._tasks[view["task_id"]]
            history: list[Any] = task.history
            history[-1] = message
            return task.view()


class NonObjectMessageAccepted(Variant):
    """A message that is a JSON string, number or array is accepted and kept as it is.

    A2A 1.x's ``Part.data`` is a ``google.protobuf.Value``: any JSON value, not only an object.
    """

    # TASK-011: a message that is not a JSON object fails with invalid_argument.
    rows = frozenset({"identity.md: message content"})
    fails = frozenset({"TASK-011"})
    source = "https://github.com/a2aproject/A2A/blob/main/specification/a2a.proto"

    def open_task_service(self, env: Any) -> Any:
        return _AnyJsonMessage.open(env)


#: Rows of the upstream table where no upstream project behaves otherwise than the spec, each
#: with the reason: there is no behaviour to swap in.
AGREES: dict[str, str] = {
    "identity.md: continuation token after completion": (
        "agent-framework's ContinuationToken is None once the operation is complete (ADR 0029), as ID-009 asks"
    ),
    "identity.md: who simulates the remote service in tests": (
        "a difference of test harnesses, not of client behaviour: an SDK's own test doubles are replaced by the"
        " kit's service, and no client behaviour changes with it (ADR 0016)"
    ),
    "identity.md: handle replaced on every response": (
        "agent-framework sets service_session_id from each response's conversation id, which is what ID-024 asks"
        " of a client that claims id.handle-chaining; the reference does the same"
    ),
    "identity.md: expired background response": (
        "the service answers 404 and the SDK raises the client library's not-found error, which an adapter"
        " translates to not_found (a translation, not added behaviour): what ID-025 asks"
    ),
    "identity.md: stream position in a token": (
        "not specified in 0.2.0 (ADR 0016, section 5): a token that carries a position passes every ID"
        " requirement, so there is no behaviour to swap in"
    ),
    "identity.md: sessions across a process restart": (
        "a persistent session store keeps sessions (ID-026 under id.client-persistence) and an in-memory one"
        " loses them (ID-006); both references show each side, and no upstream does a third thing"
    ),
    "identity.md: minted id format": (
        "uuid4 with hyphens (36 characters) and uuid4().hex (32) are 22-128 characters of A-Z a-z 0-9 _ - with 122"
        " random bits; the reference minting them for sessions, tasks and contexts fails nothing"
    ),
}
