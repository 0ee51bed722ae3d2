"""TASK-012: random sequences of task operations against the task model (spec/identity.md § Model of the TASK area).

Two owners send messages (new, to a task, to a context), move tasks through their
states, read and list them, and poke at each other's tasks; every answer is compared
with a plain model of contexts and tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from conformance._values import json_equal
from conformance.areas.task import STATES, TERMINAL_STATES, TaskClient
from conformance.errors import ImplementationError
from conformance.suite._support import pick, run_model, show

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.driver import Driver

OWNERS = ("alice", "bob")
# Mostly the owner itself, so that tasks get far enough for their states to matter.
strangers = st.sampled_from([False, False, False, True])
states = st.sampled_from(["input-required", "input-required", *STATES])


@dataclass
class ModelTask:
    task_id: str
    context_id: str
    owner: str
    state: str = "working"
    history: list[dict[str, Any]] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "context_id": self.context_id,
            "state": self.state,
            "history": self.history,
            "reference_task_ids": [],
        }


class TaskModel(RuleBasedStateMachine):
    """Compares an implementation with the TASK model."""

    make_driver: Callable[[], Driver]

    def __init__(self) -> None:
        super().__init__()
        self.driver = self.make_driver()
        self.tasks: dict[str, ModelTask] = {}
        self.contexts: dict[str, tuple[str, list[str]]] = {}  # context id -> (owner, task ids)
        self.counter = 0
        self.touched: list[str] = []  # ids of the tasks the last rule named
        self.turn = 0

    def client(self, owner: str) -> TaskClient:
        return TaskClient(self.driver, owner)

    def message(self) -> dict[str, Any]:
        self.counter += 1
        return {"n": self.counter}

    def expect(self, kind: str, what: str, call: Callable[[], Any]) -> None:
        try:
            call()
        except ImplementationError as exc:
            assert exc.kind == kind, f"{what}: expected {kind}, got {exc.kind}: {exc.message}"
        else:
            raise AssertionError(f"{what}: expected {kind}, but it succeeded")

    def compare(self, got: Any, task: ModelTask, what: str) -> None:
        assert json_equal(got, task.view()), f"{what}: expected {show(task.view())}, got {show(got)}"

    @rule(owner=st.sampled_from(OWNERS))
    def send_new(self, owner: str) -> None:
        body = self.message()
        got = self.client(owner).send(body)
        assert got["task_id"] not in self.tasks, f"new task reused id {got['task_id']}"
        assert got["context_id"] not in self.contexts, f"new context reused id {got['context_id']}"
        task = ModelTask(got["task_id"], got["context_id"], owner, history=[body])
        self.tasks[task.task_id] = task
        self.contexts[task.context_id] = (owner, [task.task_id])
        self.touched.append(task.task_id)
        self.compare(got, task, "send without ids")

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), with_context=st.booleans(), stranger=strangers)
    def send_to_task(self, data: st.DataObject, with_context: bool, stranger: bool) -> None:
        task = self.tasks[pick(data, list(self.tasks), "task")]
        self.touched.append(task.task_id)
        owner = next(o for o in OWNERS if o != task.owner) if stranger else task.owner
        body = self.message()
        extra = {"context_id": task.context_id} if with_context else {}
        call = lambda: self.client(owner).send(body, task_id=task.task_id, **extra)  # noqa: E731
        if owner != task.owner:
            self.expect("not_found", "send to another owner's task", call)
        elif task.state in TERMINAL_STATES:
            self.expect("failed_precondition", f"send to a {task.state} task", call)
        else:
            got = call()
            task.history.append(body)
            task.state = "working"
            self.compare(got, task, "send to a task")

    @precondition(lambda self: self.contexts)
    @rule(data=st.data(), stranger=strangers)
    def send_to_context(self, data: st.DataObject, stranger: bool) -> None:
        context_id = pick(data, list(self.contexts), "context")
        context_owner, task_ids = self.contexts[context_id]
        owner = next(o for o in OWNERS if o != context_owner) if stranger else context_owner
        body = self.message()
        if owner != context_owner:
            self.expect(
                "not_found",
                "send to another owner's context",
                lambda: self.client(owner).send(body, context_id=context_id),
            )
            return
        got = self.client(owner).send(body, context_id=context_id)
        assert got["task_id"] not in self.tasks, f"a follow-up reused task id {got['task_id']}"
        task = ModelTask(got["task_id"], context_id, owner, history=[body])
        self.tasks[task.task_id] = task
        task_ids.append(task.task_id)
        self.touched.append(task.task_id)
        self.compare(got, task, "send to a context")

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), state=states, stranger=strangers)
    def set_state(self, data: st.DataObject, state: str, stranger: bool) -> None:
        task = self.tasks[pick(data, list(self.tasks), "task")]
        self.touched.append(task.task_id)
        owner = next(o for o in OWNERS if o != task.owner) if stranger else task.owner
        call = lambda: self.client(owner).set_state(task.task_id, state)  # noqa: E731
        if owner != task.owner:
            self.expect("not_found", "set_state on another owner's task", call)
        elif task.state in TERMINAL_STATES:
            self.expect("failed_precondition", f"set_state({state}) on a {task.state} task", call)
        else:
            got = call()
            task.state = state
            self.compare(got, task, f"set_state({state})")

    @invariant()
    def tasks_and_contexts_match(self) -> None:
        # The task the last rule named, and its context, are read back at once; so are the next
        # task and context in turn, so that a change to one no rule named shows within a few steps.
        # Re-reading everything after every step would make a step cost O(tasks) calls, which a
        # store taking milliseconds per call cannot afford within the model's budget.
        self.turn += 1
        task_ids = [t for t in self.touched if t in self.tasks]
        contexts = list(self.contexts)
        if self.tasks:
            task_ids.append(list(self.tasks)[self.turn % len(self.tasks)])
        checked_contexts = [self.tasks[t].context_id for t in task_ids]
        if contexts:
            checked_contexts.append(contexts[self.turn % len(contexts)])
        self.touched.clear()
        for task in (self.tasks[t] for t in dict.fromkeys(task_ids)):
            self.compare(self.client(task.owner).get(task.task_id), task, f"get({task.task_id})")
        for context_id in dict.fromkeys(checked_contexts):
            owner, listed = self.contexts[context_id]
            got = [t["task_id"] for t in self.client(owner).list(context_id)]
            assert got == listed, f"list({context_id}): expected {listed}, got {got}"
        owner = OWNERS[self.turn % len(OWNERS)]  # every task of one owner, each owner in turn
        mine = [t.task_id for t in self.tasks.values() if t.owner == owner]
        got = [t["task_id"] for t in self.client(owner).list()]
        assert got == mine, f"list() by {owner}: expected {mine}, got {got}"

    def teardown(self) -> None:
        self.driver.close()


@pytest.mark.requirement("TASK-012")
def test_any_sequence_of_task_operations_matches_the_model(driver_factory, hypothesis_settings):
    run_model(TaskModel, driver_factory, hypothesis_settings)


@pytest.mark.requirement("TASK-012")
def test_a_message_puts_an_input_required_task_back_to_working(driver):
    """One fixed program through the model's transitions, so that a run with few examples still covers them."""
    alice = TaskClient(driver, "alice")
    task = alice.send({"n": 1})
    assert alice.set_state(task["task_id"], "input-required")["state"] == "input-required"
    answered = alice.send({"n": 2}, task_id=task["task_id"])
    assert answered["state"] == "working", f"a message to an input-required task left it {answered['state']!r}"
    assert alice.set_state(task["task_id"], "input-required")["state"] == "input-required"
    assert alice.set_state(task["task_id"], "working")["state"] == "working", "input-required -> working was refused"
    assert alice.set_state(task["task_id"], "completed")["state"] == "completed"
    assert json_equal(alice.get(task["task_id"])["history"], [{"n": 1}, {"n": 2}]), "the history changed"
