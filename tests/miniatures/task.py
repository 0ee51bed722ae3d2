"""One broken TASK implementation per requirement of spec/requirements/task.yaml.

Each bug is the smallest override of the reference task service
(:mod:`reference_impl.tasks`), modelled on the A2A rules it breaks
(https://github.com/a2aproject/A2A, the task lifecycle): client-minted ids accepted, a
terminal task reopened, references inferred, owners not checked.  ``also_fails``
names the other requirements whose tests see the same bug; TASK-012 (the model)
sees many.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from reference_impl._ids import NotFound
from reference_impl.tasks import TERMINAL_STATES, Context, Task, TaskService
from tests.miniatures import MiniatureImplementation, declarer

if TYPE_CHECKING:
    from collections.abc import Collection

    from reference_impl.history import Environment


class TaskMiniature(MiniatureImplementation):
    """A TASK miniature: the reference task service with one method overridden."""

    def __init__(
        self,
        requirement: str,
        label: str,
        broken: type[TaskService],
        *,
        also_fails: Collection[str] = (),
        may_fail: Collection[str] = (),
    ) -> None:
        doc = inspect.getdoc(broken) or ""
        super().__init__(
            requirement, label, doc=doc, claims=TaskService.claims, also_fails=also_fails, may_fail=may_fail
        )
        self.service = broken

    def open_task_service(self, env: Environment) -> TaskService:
        return self.service.open(env)


#: ``@miniature(REQUIREMENT, also_fails=..., may_fail=...)`` above a broken class declares it.
miniature = declarer(TaskMiniature)


MODEL = frozenset({"TASK-012"})


@miniature("TASK-001")
class ContextIsTaskId(TaskService):
    """A new task in a new context uses one id for both: the task id stands in for the context id."""

    def new_task(self, context: Context, owner: str) -> Task:
        if context.task_ids:
            return super().new_task(context, owner)
        task = Task(context.context_id, context.context_id, owner)
        self._tasks[task.task_id] = task
        context.task_ids.append(task.task_id)
        return task


@miniature("TASK-002")
class ClientMintedTaskAccepted(TaskService):
    """A message naming a task id the server never minted creates a task with the client's id."""

    def send(self, owner: object, message: object, **kwargs: Any) -> dict[str, Any]:
        task_id, context_id = kwargs.get("task_id"), kwargs.get("context_id")
        if isinstance(task_id, str) and task_id and task_id not in self._tasks and isinstance(owner, str):
            context = self._contexts.get(context_id) if isinstance(context_id, str) else None
            context = context or self.new_context(owner)
            self._tasks[task_id] = Task(task_id, context.context_id, owner)
            context.task_ids.append(task_id)
        return super().send(owner, message, **kwargs)


@miniature("TASK-003")
class ClientMintedContextAccepted(TaskService):
    """A message naming a context id the server never minted opens a context with the client's id."""

    def find_context(self, context_id: str, owner: str) -> Context:
        if context_id not in self._contexts:
            self._contexts[context_id] = Context(context_id, owner)
        return super().find_context(context_id, owner)


@miniature("TASK-004", also_fails=MODEL)
class ContextReMinted(TaskService):
    """A message naming only a task id moves that task into a freshly minted context."""

    def continue_task(self, task: Task, context_id: str | None) -> None:
        super().continue_task(task, context_id)
        if context_id is None:
            self._contexts[task.context_id].task_ids.remove(task.task_id)
            task.context_id = self.new_context(task.owner).context_id
            self._contexts[task.context_id].task_ids.append(task.task_id)


@miniature("TASK-005")
class MismatchIgnored(TaskService):
    """When a message names a task, its context_id is ignored, even if it names another context."""

    def check_pair(self, task: Task | None, context_id: str | None) -> None:
        pass


@miniature("TASK-006", also_fails=MODEL)
class TerminalTaskRestarted(TaskService):
    """A message to a completed, failed, canceled or rejected task puts it back to work."""

    def continue_task(self, task: Task, context_id: str | None) -> None:
        if task.state in TERMINAL_STATES:
            task.state = "working"
        super().continue_task(task, context_id)


@miniature("TASK-007", also_fails=MODEL)
class FollowUpInNewContext(TaskService):
    """A follow-up sent to a context whose latest task has finished lands in a new context."""

    def new_task(self, context: Context, owner: str) -> Task:
        if context.task_ids and self._tasks[context.task_ids[-1]].state in TERMINAL_STATES:
            context = self.new_context(owner)
        return super().new_task(context, owner)


@miniature("TASK-008", also_fails=MODEL)
class ListsLatestOnly(TaskService):
    """list() of a context returns only its newest task, as if a context held one task."""

    def list_tasks(self, context_id: object, owner: object) -> list[dict[str, Any]]:
        listed = super().list_tasks(context_id, owner)
        return listed if context_id is None else listed[-1:]


@miniature("TASK-009")
class GetIgnoresOwner(TaskService):
    """get() finds a task by its id alone, whoever asks."""

    def get(self, task_id: object, owner: object) -> dict[str, Any]:
        task = self._tasks.get(task_id) if isinstance(task_id, str) else None
        return task.view() if task is not None else super().get(task_id, owner)


@miniature("TASK-010", also_fails=MODEL)
class InfersReferences(TaskService):
    """A new task in an existing context refers to the context's previous task without being told to."""

    def new_task(self, context: Context, owner: str) -> Task:
        previous = context.task_ids[-1:]
        task = super().new_task(context, owner)
        task.reference_task_ids.extend(previous)
        return task


@miniature("TASK-011")
class AcceptsEmptyOwner(TaskService):
    """An empty owner is taken as an anonymous owner instead of being rejected."""

    def check_owner(self, owner: object) -> str:
        return "anonymous" if owner == "" else super().check_owner(owner)


@miniature("TASK-011")
class NewContextBeforeChecks(TaskService):
    """A message without ids opens a new context with a new task before it checks that the message is an object."""

    def send(self, owner: object, message: object, **kwargs: Any) -> dict[str, Any]:
        fresh = kwargs.get("task_id") is None and kwargs.get("context_id") is None
        if fresh and isinstance(owner, str) and owner and not isinstance(message, dict):
            with self._lock:
                self.new_task(self.new_context(owner), owner)
        return super().send(owner, message, **kwargs)


@miniature("TASK-012", also_fails=(16,))
class InputRequiredStays(TaskService):
    """A message to a task that is input-required leaves it input-required instead of putting it back to work."""

    def continue_task(self, task: Task, context_id: str | None) -> None:
        waiting = task.state == "input-required"
        super().continue_task(task, context_id)
        if waiting:
            task.state = "input-required"


@miniature("TASK-013", also_fails=MODEL)
class ListAllShowsOpenTasksOnly(TaskService):
    """list() without a context leaves out the tasks that have finished, like an "active tasks" view."""

    def list_tasks(self, context_id: object, owner: object) -> list[dict[str, Any]]:
        listed = super().list_tasks(context_id, owner)
        return [t for t in listed if t["state"] not in TERMINAL_STATES] if context_id is None else listed


@miniature("TASK-014")
class ReferencesLookedUpFirst(TaskService):
    """send looks its reference task ids up before it checks that a named task is in the named context."""

    def send(self, owner: object, message: object, **kwargs: Any) -> dict[str, Any]:
        references = kwargs.get("reference_task_ids")
        if isinstance(owner, str) and isinstance(references, list):
            with self._lock:
                for reference in references:
                    if isinstance(reference, str) and reference:
                        self.find_task(reference, owner)
        return super().send(owner, message, **kwargs)


@miniature("TASK-015", also_fails=(4, 12))
class CreatingMessageNotKept(TaskService):
    """A new task starts with an empty history: the message that created it is not recorded."""

    def send(self, owner: object, message: object, **kwargs: Any) -> dict[str, Any]:
        view = super().send(owner, message, **kwargs)
        if kwargs.get("task_id") is None:
            with self._lock:
                task = self._tasks[view["task_id"]]
                task.history.clear()
                return task.view()
        return view


@miniature("TASK-016", may_fail=MODEL)
class AuthRequiredStays(TaskService):
    """A message to a task that is auth-required leaves it auth-required instead of putting it back to work."""

    def continue_task(self, task: Task, context_id: str | None) -> None:
        waiting = task.state == "auth-required"
        super().continue_task(task, context_id)
        if waiting:
            task.state = "auth-required"


# --- blind spots of issue 11: each caught by its own requirement's tests, not only by the model ----


@miniature("TASK-001", may_fail=MODEL)
class NullTaskIdIsLookedUp(TaskService):
    """A task_id that is present, even as null, names a task to continue: null is looked up and not found.

    The service tests whether the key was sent (a JSON body's ``"task_id" in body``), not whether it holds an id.
    """

    def send(self, owner: object, message: object, **kwargs: Any) -> dict[str, Any]:
        if "task_id" in kwargs and kwargs["task_id"] is None:
            msg = "no task None"
            raise NotFound(msg)
        return super().send(owner, message, **kwargs)


@miniature("TASK-009", may_fail=MODEL)
class StoresReferencesAsItChecksThem(TaskService):
    """A send to an open task records each reference as soon as it has checked it, and fails at the first unknown one.

    The references checked before that stay on the task, although the send failed with not_found.
    """

    def send(self, owner: object, message: object, **kwargs: Any) -> dict[str, Any]:
        task_id, references, context_id = (
            kwargs.get("task_id"),
            kwargs.get("reference_task_ids"),
            kwargs.get("context_id"),
        )
        if not (isinstance(owner, str) and isinstance(task_id, str) and isinstance(references, list)):
            return super().send(owner, message, **kwargs)
        with self._lock:
            task = self.lookup_task(task_id, owner)
            if task is not None and task.state not in TERMINAL_STATES and context_id in (None, task.context_id):
                for reference in references:
                    if not isinstance(reference, str) or self.lookup_task(reference, owner) is None:
                        break
                    if reference not in task.reference_task_ids:
                        task.reference_task_ids.append(reference)
        return super().send(owner, message, **kwargs)


@miniature("TASK-011")
class MessageAsListOfParts(TaskService):
    """A message given as an array is taken as the message's parts and wrapped as ``{"parts": [...]}``, not rejected."""

    def send(self, owner: object, message: object, **kwargs: Any) -> dict[str, Any]:
        if isinstance(message, list):
            message = {"parts": message}
        return super().send(owner, message, **kwargs)
