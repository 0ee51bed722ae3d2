"""TASK — A2A-style tasks and contexts (spec/identity.md).

An implementation of this area is a task service: the server side of A2A's
``message/send`` and ``tasks/get``, reduced to identities and states.  The kit drives the
state machine itself with ``task.set_state`` (the simulated agent does no work of its
own), so every transition is scripted and deterministic.

Wire operations: one table each in spec/identity.md § Operations, the source of truth that
``conformance.tools.optables`` holds these protocols to.

A task is ``{task_id, context_id, state, history, reference_task_ids}``
(schemas/task/task.schema.json); ``history`` holds the messages sent to it, in order.
States: the open ``submitted``, ``working``, ``input-required``, ``auth-required`` and
the terminal ``completed``, ``failed``, ``canceled``, ``rejected``.  An absent or null
``context_id``, ``task_id`` or ``reference_task_ids`` means "none given"; ``list``
without a context lists every task of the owner.  Lists are oldest created first.
Every operation's arguments and result: schemas/task/operations.schema.json.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from conformance._binding import AreaBinding
from conformance._traceback import kit_frame
from conformance.areas._facade import UNSET, Answer, passed

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from conformance.contract import Environment
    from conformance.driver import Driver

AREA = "task"

JSONObject = dict[str, Any]
STATES = ("submitted", "working", "input-required", "auth-required", "completed", "failed", "canceled", "rejected")
TERMINAL_STATES = frozenset({"completed", "failed", "canceled", "rejected"})


class TaskService(Protocol):
    """The server's tasks and contexts, as every owner sees its own."""

    def send(
        self, owner: Any, message: Any, *, context_id: Any = None, task_id: Any = None, reference_task_ids: Any = None
    ) -> JSONObject | Awaitable[JSONObject]: ...
    def get(self, task_id: Any, owner: Any) -> JSONObject | Awaitable[JSONObject]: ...
    def set_state(self, task_id: Any, owner: Any, state: Any) -> JSONObject | Awaitable[JSONObject]: ...
    def list_tasks(self, context_id: Any, owner: Any) -> list[JSONObject] | Awaitable[list[JSONObject]]:
        """The tasks of ``context_id``, or of every context of the owner when it is None."""
        ...

    def close(self) -> None | Awaitable[None]:
        """Every later send, get, set_state and list fails with ``closed`` (TASK-017); a second close does nothing."""
        ...


class TaskImplementation(Protocol):
    """An implementation that claims ``task`` has this factory."""

    def open_task_service(self, env: Environment) -> TaskService | Awaitable[TaskService]: ...


class InProcessTask(AreaBinding):
    """Carries TASK operations to Python objects."""

    area = AREA
    factory_name = "open_task_service"

    async def op_send(self, args: dict[str, Any]) -> Any:
        svc = await self.root()
        optional = {k: args[k] for k in ("context_id", "task_id", "reference_task_ids") if k in args}
        return await self.invoke(svc.send, args.get("owner"), args.get("message"), **optional)

    async def op_get(self, args: dict[str, Any]) -> Any:
        return await self.invoke((await self.root()).get, args.get("task_id"), args.get("owner"))

    async def op_set_state(self, args: dict[str, Any]) -> Any:
        svc = await self.root()
        return await self.invoke(svc.set_state, args.get("task_id"), args.get("owner"), args.get("state"))

    async def op_list(self, args: dict[str, Any]) -> Any:
        return await self.invoke((await self.root()).list_tasks, args.get("context_id"), args.get("owner"))

    async def op_close(self, args: dict[str, Any]) -> None:
        await self.invoke((await self.root()).close)


class TaskClient:
    """The suite's view of a TASK implementation, speaking for one owner at a time."""

    def __init__(self, driver: Driver, owner: str = "owner-a") -> None:
        self.driver = driver
        self.owner = owner

    def as_owner(self, owner: str) -> TaskClient:
        return TaskClient(self.driver, owner)

    def _call(self, op: str, **args: Any) -> Answer:
        return self.driver.call(f"task.{op}", {"owner": self.owner} | passed(**args))

    def send(
        self,
        message: Any = UNSET,
        *,
        context_id: Any = UNSET,
        task_id: Any = UNSET,
        reference_task_ids: Any = UNSET,
    ) -> Answer:
        body = {"role": "user", "text": "hello"} if message is UNSET else message
        return self._call(
            "send", message=body, context_id=context_id, task_id=task_id, reference_task_ids=reference_task_ids
        )

    def get(self, task_id: Any) -> Answer:
        return self._call("get", task_id=task_id)

    def set_state(self, task_id: Any, state: Any) -> Answer:
        return self._call("set_state", task_id=task_id, state=state)

    def list(self, context_id: Any = UNSET) -> Answer:
        """The tasks of one context; without one (or with null), every task of this owner."""
        return self._call("list", context_id=context_id)

    def close(self) -> None:
        """Close the task service (TASK-017); the kit's teardown may close it again."""
        self.driver.call(f"{AREA}.close", {})
