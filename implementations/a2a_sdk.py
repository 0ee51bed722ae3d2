"""An honest TASK adapter over a2a-sdk 1.3.0's request handler, on two task stores.

Run one with ``pytest --impl=implementations.a2a_sdk:NAME``:

* ``in_memory``: ``DefaultRequestHandler`` over ``InMemoryTaskStore()``.  Claims ``task``.
* ``database_sqlite``: ``DefaultRequestHandler`` over ``DatabaseTaskStore(engine)``, the engine
  ``create_async_engine("sqlite+aiosqlite:///FILE")`` with ``FILE`` =
  ``env.storage_dir / "tasks.sqlite3"``.  Claims ``task``.

Dependencies: ``pip install -e '.[a2a-sdk]'`` (pyproject.toml): ``a2a-sdk[sqlite]==1.3.0``, whose
``sqlite`` extra brings ``sqlalchemy[asyncio,aiosqlite]``.

In a2a-sdk 1.3.0 ``a2a.server.request_handlers.DefaultRequestHandler`` is
``DefaultRequestHandlerV2`` (an ``ActiveTaskRegistry`` runs one producer and one consumer per task);
the handler is called directly, as a JSON-RPC, REST or gRPC route calls it after decoding, so no
HTTP is involved.  Source of every fact below: https://github.com/a2aproject/a2a-python, tag
``v1.3.0``, ``src/a2a/server/``.

*Honest* means the adapter translates shapes, names and errors, and adds no judged behaviour
except what ``adds`` declares.  The mapping, decision by decision:

What is the library's and what is ours
    The request handler, the task stores, the task manager, the id generator (``UUIDGenerator``:
    ``str(uuid.uuid4())``), the owner scoping, the terminal-state checks and list order are the
    library's.  A2A has no agent of its own: the agent is the server author's ``AgentExecutor``.
    The kit's *simulated agent does no work* (spec/identity.md § The abstract surface), so ours is
    the smallest agent the library's documentation shows: on ``execute`` it publishes
    ``new_task_from_user_message(context.message)`` when ``context.current_task`` is ``None``, then
    ``TaskUpdater(event_queue, context.task_id, C).start_work()``, and returns.  ``C`` is
    ``context.current_task.context_id`` when there is a current task, else ``context.context_id``:
    for a message naming only a task id, 1.3.0's ``DefaultRequestHandlerV2._setup_active_task``
    builds the ``RequestContext`` without the task, so ``context.context_id`` is a freshly
    generated id, not the task's; status updates carrying it make the library's own
    ``TaskManager.save_task_event`` refuse a later event ("Context in event doesn't match
    TaskManager") and fail the task.  The agent therefore names the task's own context, as an
    agent that reads ``current_task`` does; the library still decides which context the task is in.
    It keeps that ``TaskUpdater`` (one per task, the one of the latest message) for ``set_state``.
    Its ``cancel`` is never called (the kit has no cancel operation).

Requests are decoded as the library's JSON-RPC route decodes them
    ``JsonRpcDispatcher`` (``src/a2a/server/routes/jsonrpc_dispatcher.py``) turns a request's
    ``params`` into its proto with ``ParseDict(params, Model(), ignore_unknown_fields=True)`` and
    answers ``InvalidParamsError`` when that fails.  The adapter builds the same JSON ``params``
    (A2A 1.x member names) from the kit's arguments and decodes them the same way, so a value of
    the wrong JSON type (a number as ``taskId``, a string as ``referenceTaskIds``) is refused by
    the library's own decoding, as ``invalid_argument``.  An omitted or ``null`` argument is left
    out, the proto's "none given".
``send(owner, message, context_id, task_id, reference_task_ids)``
    ``handler.on_message_send(SendMessageRequest, ServerCallContext(user=Owner(owner)))`` with
    ``params = {"message": {"messageId": <uuid4>, "role": "ROLE_USER", "parts": [{"data":
    message}], "taskId", "contextId", "referenceTaskIds"}}``.  A2A clients mint ``messageId``; the
    adapter is the client, so it mints one per send.  The kit's message, any JSON value, becomes
    one *data part*, A2A's part for structured data (a ``google.protobuf.Value``, which keeps
    numbers as doubles).  The request is blocking (``returnImmediately`` unset); the handler
    answers with the task once our agent's ``execute`` returned, in state ``working``.
``get(task_id, owner)``
    ``handler.on_get_task(GetTaskRequest {"id": task_id}, …)``.
``list_tasks(context_id, owner)``
    ``handler.on_list_tasks(ListTasksRequest {"contextId", "pageToken"}, …)``, following
    ``next_page_token`` until the last page (A2A's pagination, which the kit's ``list`` does not
    have), and returning the tasks in the order the library lists them: newest status timestamp
    first (``InMemoryTaskStore.list``'s ``_list_sort_key``; ``DatabaseTaskStore.list`` orders by
    ``last_updated``).  Nothing is re-sorted.
``set_state(task_id, owner, state)``
    The kit's ``set_state`` stands in for the agent publishing a status update
    (spec/identity.md, TASK).  It is done the A2A way: subscribe to the task
    (``handler.on_subscribe_to_task(SubscribeToTaskRequest {"id": task_id}, …)``, which checks the owner
    and refuses a terminal task), have the agent publish ``TaskUpdater.update_status(S)`` with the
    updater of the task's latest message, read events until that status update is delivered
    (the library's consumer has then stored it), close the subscription, and answer
    ``on_get_task``.  ``S`` is the state's A2A 1.x enum name (below).
Owners
    ``ServerCallContext(user=Owner(owner))``, where ``Owner`` is a ``User`` whose ``user_name`` is
    the owner, unchanged.  Both stores scope tasks by ``resolve_user_scope``, i.e. by
    ``user_name``; the library validates no owner (``UnauthenticatedUser``'s name is ``""``).
Task
    ``{task_id: task.id, context_id: task.context_id, state, history, reference_task_ids}``:
    ``state`` is the kit's name of ``task.status.state`` (the table :data:`STATE_NAMES`; a state
    with no kit name is passed through as the enum's name); ``history`` is the JSON value of the
    data part of each message of ``task.history``, read member by member from the
    ``google.protobuf.Value`` (so a ``NaN`` the library stored comes back as ``NaN``, which the
    kit then sees as a result JSON cannot carry); an A2A message with several parts, or none,
    would be shown as the list of its parts, and ours always have one.  ``reference_task_ids`` is
    computed from the
    history, because A2A keeps ``referenceTaskIds`` on each message, not on the task: see
    ``adds``.
States
    The kit's eight names are A2A 0.3's JSON names; a2a-sdk 1.x names them ``TASK_STATE_*``
    (``submitted`` → ``TASK_STATE_SUBMITTED``, ``input-required`` →
    ``TASK_STATE_INPUT_REQUIRED``, …).  A name outside the table is handed to the library's enum
    unchanged (``TaskState.Value``), which refuses what it does not know with ``ValueError``.
Errors
    ``TaskNotFoundError`` → ``not_found``; ``InvalidParamsError``, and a request the JSON-RPC
    route's decoding refuses (above), → ``invalid_argument``;
    ``UnsupportedOperationError`` whose message says the task "is in terminal state" (how the
    handler refuses a message to, or a subscription on, a terminal task) → ``failed_precondition``;
    the ``RuntimeError`` ``TaskUpdater`` raises once the task "is already in a terminal state" →
    ``failed_precondition``; the ``RuntimeError`` ``ActiveTaskRegistry`` raises once the handler is
    closed ("ActiveTaskRegistry is closed") → ``closed``.  Everything else passes through:
    ``ValueError``/``TypeError`` are ``invalid_argument`` and anything else a crash, by the
    contract's own rule.
``close()``
    ``handler.aclose()``, then, for the database store, ``engine.dispose()``.  The library has a
    close of its own, so the adapter uses it rather than reporting ``close`` unsupported:
    ``DefaultRequestHandler.aclose()`` ("shuts down the handler") marks its ``ActiveTaskRegistry``
    closed and drains the active tasks.  What that close refuses is the library's: a message (and a
    subscription, so ``set_state``) raises "ActiveTaskRegistry is closed", answered as ``closed``;
    ``on_get_task`` and ``on_list_tasks`` read the task store, which has no close, and still answer
    (TASK-017 fails; spec/identity.md § "Differences from upstream", row "closed task service").
    The adapter adds no refusal of its own: a ``closed`` flag guarding every call would be judged
    behaviour the library does not have.
The agent card
    ``AgentCard(name="conformance", version="0", capabilities=AgentCapabilities(streaming=True))``:
    ``streaming`` because ``on_subscribe_to_task`` (``set_state``) refuses without it; nothing
    else is read by the handler, which logs that the card lacks fields a public agent would have.
Threading
    Every method is ``async def``, like the library's; the kit runs them on its loop.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from implementations._common import Closed, FailedPrecondition, InvalidArgument, NotFound, library_version

if TYPE_CHECKING:
    from collections.abc import Collection

    from conformance.contract import Environment

__all__ = ["A2ATasks", "database_sqlite", "in_memory"]

SPEC_VERSION = "0.2.0"
LIBRARY = "a2a-sdk"
FILE_NAME = "tasks.sqlite3"

Kind = Literal["in_memory", "database_sqlite"]
TITLES: dict[Kind, str] = {
    "in_memory": "DefaultRequestHandler over InMemoryTaskStore",
    "database_sqlite": "DefaultRequestHandler over DatabaseTaskStore (sqlite+aiosqlite file)",
}
#: The kit's state names (A2A 0.3's JSON names) and a2a-sdk 1.x's enum names.
STATE_NAMES = {
    "submitted": "TASK_STATE_SUBMITTED",
    "working": "TASK_STATE_WORKING",
    "input-required": "TASK_STATE_INPUT_REQUIRED",
    "auth-required": "TASK_STATE_AUTH_REQUIRED",
    "completed": "TASK_STATE_COMPLETED",
    "failed": "TASK_STATE_FAILED",
    "canceled": "TASK_STATE_CANCELED",
    "rejected": "TASK_STATE_REJECTED",
}
KIT_NAMES = {library: kit for kit, library in STATE_NAMES.items()}
TERMINAL_MARKS = ("is in terminal state", "is already in a terminal state")

ADDS = {
    "TASK-010": (
        "A2A keeps referenceTaskIds on each message, not on the task: the adapter shows a task's "
        "reference_task_ids as the ids of its stored messages' referenceTaskIds, each once, in order of first "
        "appearance."
    ),
}


CLOSED_MARK = "ActiveTaskRegistry is closed"


def _translate(exc: Exception) -> Exception | None:
    """The contract's error for one of the library's, or None to let it through unchanged."""
    from a2a.utils.errors import InvalidParamsError, TaskNotFoundError, UnsupportedOperationError

    said = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, TaskNotFoundError):
        return NotFound(f"a2a-sdk raised {said}")
    if isinstance(exc, InvalidParamsError):
        return InvalidArgument(f"a2a-sdk raised {said}")
    if isinstance(exc, UnsupportedOperationError | RuntimeError) and any(m in str(exc) for m in TERMINAL_MARKS):
        return FailedPrecondition(f"a2a-sdk raised {said}")
    if isinstance(exc, RuntimeError) and CLOSED_MARK in str(exc):
        return Closed(f"a2a-sdk raised {said}")
    return None


def _owner_context(owner: Any) -> Any:
    from a2a.auth.user import User
    from a2a.server.context import ServerCallContext

    class Owner(User):
        @property
        def is_authenticated(self) -> bool:
            return True

        @property
        def user_name(self) -> str:
            return owner  # type: ignore[no-any-return]

    return ServerCallContext(user=Owner())


def _decoded(params: dict[str, Any], request_type: Any) -> Any:
    """The request as a2a-sdk's JSON-RPC route decodes it: ``ParseDict``, any failure invalid params."""
    from google.protobuf import json_format

    try:
        return json_format.ParseDict(params, request_type(), ignore_unknown_fields=True)
    except Exception as exc:
        msg = f"a2a-sdk's JSON-RPC route would answer InvalidParamsError: {type(exc).__name__}: {exc}"
        raise InvalidArgument(msg) from exc


def _json_of(value: Any) -> Any:
    """A ``google.protobuf.Value`` as the JSON value it holds (numbers are doubles, as protobuf keeps them)."""
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return {key: _json_of(item) for key, item in value.struct_value.fields.items()}
    if kind == "list_value":
        return [_json_of(item) for item in value.list_value.values]
    return None if kind in (None, "null_value") else getattr(value, kind)


def _as_kit(task: Any) -> dict[str, Any]:
    from a2a.types.a2a_pb2 import TaskState

    history = []
    references: list[str] = []
    for message in task.history:
        parts = [_json_of(part.data) if part.HasField("data") else None for part in message.parts]
        history.append(parts[0] if len(parts) == 1 else parts)
        references.extend(r for r in message.reference_task_ids if r not in references)
    name = TaskState.Name(task.status.state)
    return {
        "task_id": task.id,
        "context_id": task.context_id,
        "state": KIT_NAMES.get(name, name),
        "history": history,
        "reference_task_ids": references,
    }


class Agent:
    """The simulated agent (an ``AgentExecutor``): it starts work on every message and nothing else."""

    def __init__(self) -> None:
        self.updaters: dict[str, Any] = {}

    async def execute(self, context: Any, event_queue: Any) -> None:
        from a2a.helpers.proto_helpers import new_task_from_user_message
        from a2a.server.tasks import TaskUpdater

        current = context.current_task
        context_id = context.context_id if current is None else current.context_id
        updater = TaskUpdater(event_queue, context.task_id, context_id)
        self.updaters[context.task_id] = updater
        if context.current_task is None:
            await event_queue.enqueue_event(new_task_from_user_message(context.message))
        await updater.start_work()

    async def cancel(self, context: Any, event_queue: Any) -> None:
        from a2a.utils.errors import UnsupportedOperationError

        raise UnsupportedOperationError(message="the kit's simulated agent is never cancelled")


@dataclass
class Service:
    """One request handler over one task store: the kit's TASK backend."""

    handler: Any
    agent: Agent
    engine: Any = None
    closed: bool = field(default=False)

    async def _call(self, coroutine: Any) -> Any:
        try:
            return await coroutine
        except Exception as exc:
            translated = _translate(exc)
            if translated is None:
                raise
            raise translated from exc

    async def send(
        self, owner: Any, message: Any, *, context_id: Any = None, task_id: Any = None, reference_task_ids: Any = None
    ) -> dict[str, Any]:
        from a2a.types.a2a_pb2 import SendMessageRequest

        ids = {"taskId": task_id, "contextId": context_id, "referenceTaskIds": reference_task_ids}
        body = {"messageId": str(uuid.uuid4()), "role": "ROLE_USER", "parts": [{"data": message}]}
        body |= {name: value for name, value in ids.items() if value is not None}
        request = _decoded({"message": body}, SendMessageRequest)
        result = await self._call(self.handler.on_message_send(request, _owner_context(owner)))
        return _as_kit(result)

    async def get(self, task_id: Any, owner: Any) -> dict[str, Any]:
        from a2a.types.a2a_pb2 import GetTaskRequest

        request = _decoded({"id": task_id}, GetTaskRequest)
        return _as_kit(await self._call(self.handler.on_get_task(request, _owner_context(owner))))

    async def list_tasks(self, context_id: Any, owner: Any) -> list[dict[str, Any]]:
        from a2a.types.a2a_pb2 import ListTasksRequest

        context = _owner_context(owner)
        tasks: list[dict[str, Any]] = []
        token = ""
        while True:
            params = {"pageToken": token} | ({} if context_id is None else {"contextId": context_id})
            page = await self._call(self.handler.on_list_tasks(_decoded(params, ListTasksRequest), context))
            tasks.extend(_as_kit(task) for task in page.tasks)
            token = page.next_page_token
            if not token:
                return tasks

    async def set_state(self, task_id: Any, owner: Any, state: Any) -> dict[str, Any]:
        from a2a.types.a2a_pb2 import GetTaskRequest, SubscribeToTaskRequest, TaskState, TaskStatusUpdateEvent

        target = TaskState.Value(STATE_NAMES.get(state, state) if isinstance(state, str) else state)
        context = _owner_context(owner)
        request = _decoded({"id": task_id}, SubscribeToTaskRequest)
        stream = self.handler.on_subscribe_to_task(request, context)
        try:
            await self._call(anext(stream))  # the task as it is: the subscription is in place
            await self._call(self.agent.updaters[task_id].update_status(target))
            async for event in stream:
                if isinstance(event, TaskStatusUpdateEvent) and event.status.state == target:
                    break
        finally:
            await stream.aclose()
        got = self.handler.on_get_task(_decoded({"id": task_id}, GetTaskRequest), context)
        return _as_kit(await self._call(got))

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await self.handler.aclose()
        if self.engine is not None:
            await self.engine.dispose()


class A2ATasks:
    """The implementation object for one a2a-sdk task store."""

    spec_version = SPEC_VERSION
    claims: Collection[str] = frozenset({"task"})
    adds = ADDS

    def __init__(self, kind: Kind) -> None:
        self.kind: Kind = kind
        self.name = f"{LIBRARY} {TITLES[kind]}"

    @property
    def version(self) -> str:
        return library_version(LIBRARY)

    async def open_task_service(self, env: Environment) -> Service:
        from a2a.server.request_handlers import DefaultRequestHandler
        from a2a.server.tasks import InMemoryTaskStore
        from a2a.types.a2a_pb2 import AgentCapabilities, AgentCard

        engine = None
        if self.kind == "in_memory":
            store: Any = InMemoryTaskStore()
        else:
            from a2a.server.tasks import DatabaseTaskStore
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine(f"sqlite+aiosqlite:///{env.storage_dir / FILE_NAME}")
            store = DatabaseTaskStore(engine)
        card = AgentCard(name="conformance", version="0", capabilities=AgentCapabilities(streaming=True))
        agent = Agent()
        handler = DefaultRequestHandler(agent_executor=agent, task_store=store, agent_card=card)  # type: ignore[arg-type]
        return Service(handler, agent, engine)

    def __repr__(self) -> str:
        return f"A2ATasks({self.kind!r})"


in_memory = A2ATasks("in_memory")
database_sqlite = A2ATasks("database_sqlite")
