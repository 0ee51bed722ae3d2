"""TASK, A2A-style tasks and contexts: a task-service simulator (spec/identity.md).

The server mints every task id and context id; a client names only ids it was given.
A task id alone is enough to find its context; a terminal task never changes again, and
a follow-up starts a new task in the same context.  Every lookup is per owner, and a
task of another owner answers exactly as a task that does not exist.  When a call has
several faults, the error reported is the first in the contract's precedence (TASK-014):
the arguments themselves, then existence, then the state of the task.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from reference_impl._ids import (
    FailedPrecondition,
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

__all__ = ["STATES", "TERMINAL_STATES", "TaskService"]

STATES = ("submitted", "working", "input-required", "auth-required", "completed", "failed", "canceled", "rejected")
TERMINAL_STATES = frozenset({"completed", "failed", "canceled", "rejected"})


@dataclass
class Task:
    task_id: str
    context_id: str
    owner: str
    state: str = "working"
    history: list[dict[str, Any]] = field(default_factory=list)
    reference_task_ids: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return json_copy(  # type: ignore[no-any-return]
            {
                "task_id": self.task_id,
                "context_id": self.context_id,
                "state": self.state,
                "history": self.history,
                "reference_task_ids": self.reference_task_ids,
            },
            "task",
        )


@dataclass
class Context:
    context_id: str
    owner: str
    task_ids: list[str] = field(default_factory=list)


def _optional_id(value: object, what: str) -> str | None:
    return None if value is None else check_caller_id(value, what)


class TaskService:
    """Tasks and contexts of every owner, in memory."""

    claims: ClassVar[frozenset[str]] = frozenset({"task"})

    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}
        self._contexts: dict[str, Context] = {}
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, env: Environment) -> TaskService:  # noqa: ARG003 - tasks need no storage or time
        return cls()

    def _live(self) -> None:
        if self._closed:
            msg = "this task service is closed; open a new one"
            raise ServiceClosed(msg)

    def find_task(self, task_id: str, owner: str) -> Task:
        task = self._tasks.get(task_id)
        if task is None or task.owner != owner:  # another owner's task is indistinguishable from none
            msg = f"no task {task_id!r} for this owner; task ids are minted by the server, send without one"
            raise NotFound(msg)
        return task

    def find_context(self, context_id: str, owner: str) -> Context:
        context = self._contexts.get(context_id)
        if context is None or context.owner != owner:
            msg = f"no context {context_id!r} for this owner; context ids are minted by the server"
            raise NotFound(msg)
        return context

    def check_owner(self, owner: object) -> str:
        return check_caller_id(owner, "owner")

    def new_context(self, owner: str) -> Context:
        context = Context(mint("ctx"), owner)
        self._contexts[context.context_id] = context
        return context

    def new_task(self, context: Context, owner: str) -> Task:
        task = Task(mint("task"), context.context_id, owner)
        self._tasks[task.task_id] = task
        context.task_ids.append(task.task_id)
        return task

    def continue_task(self, task: Task, context_id: str | None) -> None:
        """A message for an existing task: a terminal task takes none; an open one goes back to work.

        ``context_id`` has been checked against the task already (:meth:`check_pair`).
        """
        if task.state in TERMINAL_STATES:
            msg = f"task {task.task_id!r} is {task.state}, which is final; send without task_id for a follow-up"
            raise FailedPrecondition(msg)
        task.state = "working"

    def check_pair(self, task: Task | None, context_id: str | None) -> None:
        """A task named with a context id has to be in that context (TASK-005)."""
        if task is not None and context_id is not None and context_id != task.context_id:
            msg = f"task {task.task_id!r} is not in context {context_id!r}; omit context_id or pass its own"
            raise InvalidArgument(msg)

    def lookup_task(self, task_id: str, owner: str) -> Task | None:
        task = self._tasks.get(task_id)
        return task if task is not None and task.owner == owner else None

    def send(
        self,
        owner: object,
        message: object,
        *,
        context_id: object = None,
        task_id: object = None,
        reference_task_ids: object = None,
    ) -> dict[str, Any]:
        with self._lock:
            self._live()
            # invalid_argument: the arguments themselves, then a task named with another context
            who = self.check_owner(owner)
            body = json_copy(message, "message", kind=dict)
            ctx_id = _optional_id(context_id, "context_id")
            tid = _optional_id(task_id, "task_id")
            references = check_id_list(reference_task_ids, "reference_task_ids")
            named = self.lookup_task(tid, who) if tid is not None else None
            self.check_pair(named, ctx_id)
            # not_found: references, the named task, the named context
            for reference in references:
                self.find_task(reference, who)
            if tid is not None:
                task = self.find_task(tid, who)
                self.continue_task(task, ctx_id)  # failed_precondition: a terminal task
            else:
                context = self.find_context(ctx_id, who) if ctx_id is not None else self.new_context(who)
                task = self.new_task(context, who)
            task.history.append(body)
            for reference in references:  # each id once, in the order first given (TASK-010)
                if reference not in task.reference_task_ids:
                    task.reference_task_ids.append(reference)
            return task.view()

    def get(self, task_id: object, owner: object) -> dict[str, Any]:
        with self._lock:
            self._live()
            who = self.check_owner(owner)
            return self.find_task(check_caller_id(task_id, "task_id"), who).view()

    def set_state(self, task_id: object, owner: object, state: object) -> dict[str, Any]:
        with self._lock:
            self._live()
            who = self.check_owner(owner)
            tid = check_caller_id(task_id, "task_id")
            if state not in STATES:
                msg = f"state must be one of {', '.join(STATES)}; got {describe(state)}"
                raise InvalidArgument(msg)
            task = self.find_task(tid, who)
            if task.state in TERMINAL_STATES:
                msg = f"task {tid!r} is {task.state}, which is final; it cannot become {state}"
                raise FailedPrecondition(msg)
            task.state = str(state)
            return task.view()

    def list_tasks(self, context_id: object, owner: object) -> list[dict[str, Any]]:
        """The tasks of one context, or (``context_id`` null or absent) every task of the owner; oldest first."""
        with self._lock:
            self._live()
            who = self.check_owner(owner)
            ctx_id = _optional_id(context_id, "context_id")
            if ctx_id is None:
                return [task.view() for task in self._tasks.values() if task.owner == who]
            context = self.find_context(ctx_id, who)
            return [self._tasks[tid].view() for tid in context.task_ids]

    def close(self) -> None:
        with self._lock:
            self._closed = True
