"""TASK: server-minted task and context ids, terminal states, follow-ups and owners (spec/identity.md)."""

from __future__ import annotations

import pytest

from conformance._values import NonJSON
from conformance.areas.task import STATES, TERMINAL_STATES
from conformance.suite._identity_support import assert_minted, assert_random_bits, assert_shape, reported_first
from conformance.suite._support import assert_json_equal, expect_error, not_judged

requirement = pytest.mark.requirement

MADE_UP_TASK = "task_00000000000000000000000000000000"
MADE_UP_CONTEXT = "ctx_00000000000000000000000000000000"


def message(n: int) -> dict:
    return {"role": "user", "text": f"message {n}"}


@requirement("TASK-001")
def test_message_without_ids_starts_a_new_task_in_a_new_context(tasks):
    first = assert_shape(tasks.send(message(1)), "task/task", "send without ids")
    second = tasks.send(message(2))
    for task in (first, second):
        assert_minted(task["task_id"], "a minted task id")
        assert_minted(task["context_id"], "a minted context id")
        assert task["task_id"] != task["context_id"], f"the task id stands in for the context id: {task}"
        assert task["state"] == "working", f"a new task is {task['state']!r}, not 'working'"
    assert first["task_id"] != second["task_id"], "two new tasks got one task id"
    assert first["context_id"] != second["context_id"], "two messages without a context id share a context"


@requirement("TASK-001")
def test_explicit_null_ids_start_a_new_task_as_absent_ones_do(tasks):
    earlier = tasks.send(message(1))
    # null means exactly what absence means (spec/contract.md § Values every area shares).
    task = tasks.send(message(2), task_id=None, context_id=None, reference_task_ids=None)
    assert_minted(task["task_id"], "the task id of a send with null ids")
    assert_minted(task["context_id"], "the context id of a send with null ids")
    assert task["state"] == "working", f"a new task is {task['state']!r}, not 'working'"
    assert task["task_id"] != earlier["task_id"], "a send with null ids reused an earlier task id"
    assert task["context_id"] != earlier["context_id"], "a send with null ids joined an earlier context"
    assert task["task_id"] != task["context_id"], f"the task id stands in for the context id: {task}"


@requirement("TASK-001")
@pytest.mark.parametrize("kind", ["task_id", "context_id"])
def test_minted_task_and_context_ids_carry_at_least_122_random_bits(tasks, kind):
    minted = [tasks.send(message(n))[kind] for n in range(40)]
    for value in minted:
        assert_minted(value, f"a minted {kind}")
    assert_random_bits(minted, f"minted {kind}s")


@requirement("TASK-002")
@pytest.mark.parametrize("task_id", [MADE_UP_TASK, "my-own-task-id"])
def test_task_id_the_server_did_not_mint_is_not_found(tasks, task_id):
    context = tasks.send(message(1))["context_id"]
    with expect_error("not_found", f"send with the client-made task id {task_id!r}"):
        tasks.send(message(2), task_id=task_id)
    with expect_error("not_found", f"send with the client-made task id {task_id!r} in a real context"):
        tasks.send(message(3), task_id=task_id, context_id=context)
    with expect_error("not_found", f"get({task_id!r}) after the rejected sends"):
        tasks.get(task_id)
    assert len(tasks.list(context)) == 1, "a rejected send added a task to the context"


@requirement("TASK-003")
@pytest.mark.parametrize("context_id", [MADE_UP_CONTEXT, "my-own-context"])
def test_context_id_the_server_did_not_mint_is_not_found(tasks, context_id):
    tasks.send(message(0))
    before = tasks.list()
    with expect_error("not_found", f"send with the client-made context id {context_id!r}"):
        tasks.send(message(1), context_id=context_id)
    with expect_error("not_found", f"list({context_id!r}) after the rejected send"):
        tasks.list(context_id)
    assert_json_equal(tasks.list(), before, "every task of the owner after the rejected send")


@requirement("TASK-004")
def test_task_id_alone_continues_that_task_in_its_own_context(tasks):
    task = tasks.send(message(1))
    tasks.send(message(9))  # another context, created later
    again = tasks.send(message(2), task_id=task["task_id"])
    assert (again["task_id"], again["context_id"]) == (task["task_id"], task["context_id"]), (
        f"a message naming only the task id landed in {again}"
    )
    assert_json_equal(again["history"], [message(1), message(2)], "the task's history after the second message")
    assert_json_equal(tasks.get(task["task_id"]), again, "get() of the continued task")
    assert [t["task_id"] for t in tasks.list(task["context_id"])] == [task["task_id"]], "the context gained a task"


@requirement("TASK-005")
def test_mismatched_task_and_context_pair_is_rejected(tasks):
    task, other = tasks.send(message(1)), tasks.send(message(2))
    with expect_error("invalid_argument", "send naming a task with another task's context"):
        tasks.send(message(3), task_id=task["task_id"], context_id=other["context_id"])
    assert_json_equal(tasks.get(task["task_id"]), task, "the named task after the rejected send")
    assert_json_equal(tasks.list(other["context_id"]), [other], "the named context after the rejected send")
    matched = tasks.send(message(4), task_id=task["task_id"], context_id=task["context_id"])
    assert matched["task_id"] == task["task_id"], "a matching pair was not accepted"


@requirement("TASK-005")
@pytest.mark.parametrize("context_id", [MADE_UP_CONTEXT, "my-own-context"])
def test_task_named_with_a_context_the_server_never_minted_is_a_mismatch(tasks, context_id):
    task = tasks.send(message(1))
    with expect_error("invalid_argument", f"send naming a real task with the never-minted context {context_id!r}"):
        tasks.send(message(2), task_id=task["task_id"], context_id=context_id)
    assert_json_equal(tasks.get(task["task_id"]), task, "the named task after the rejected send")


@requirement("TASK-006")
@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATES))
def test_terminal_state_is_final(tasks, terminal):
    task = tasks.send(message(1))
    final = tasks.set_state(task["task_id"], terminal)
    assert final["state"] == terminal, f"set_state({terminal!r}) left the task {final['state']!r}"
    with expect_error("failed_precondition", f"send to a {terminal} task"):
        tasks.send(message(2), task_id=task["task_id"])
    for state in ("working", "input-required", "completed", "failed"):
        with expect_error("failed_precondition", f"set_state({state!r}) on a {terminal} task"):
            tasks.set_state(task["task_id"], state)
    assert_json_equal(tasks.get(task["task_id"]), final, f"the {terminal} task after the refused changes")


@requirement("TASK-007")
@pytest.mark.parametrize("terminal", ["completed", "failed"])
def test_follow_up_to_a_finished_task_is_a_new_task_in_the_same_context(tasks, terminal):
    task = tasks.send(message(1))
    tasks.set_state(task["task_id"], terminal)
    follow_up = tasks.send(message(2), context_id=task["context_id"])
    assert follow_up["context_id"] == task["context_id"], "the follow-up left the context"
    assert follow_up["task_id"] != task["task_id"], "the follow-up reused the finished task's id"
    assert follow_up["state"] == "working", f"the follow-up task is {follow_up['state']!r}"
    assert tasks.get(task["task_id"])["state"] == terminal, "the finished task changed"


@requirement("TASK-008")
def test_one_context_holds_many_tasks_in_creation_order(tasks):
    first = tasks.send(message(1))
    context = first["context_id"]
    second = tasks.send(message(2), context_id=context)  # the first is still working: a second task beside it
    second = tasks.set_state(second["task_id"], "canceled")
    third = tasks.send(message(3), context_id=context)
    first = tasks.send(message(4), task_id=first["task_id"])
    listed = tasks.list(context)
    for t in listed:
        assert_shape(t, "task/task", "a listed task")
    got = [(t["task_id"], t["state"], len(t["history"])) for t in listed]
    # Which context a send puts a task in is TASK-004's and TASK-007's business, not this one's:
    # the tasks of the context are those whose latest answer names it, in creation order.
    stayed = [t for t in (first, second, third) if t["context_id"] == context]
    if len(stayed) < 2:
        not_judged("TASK-004/TASK-007", f"only {len(stayed)} of the three tasks sent to the context stayed in it")
    expected = [(t["task_id"], t["state"], len(t["history"])) for t in stayed]
    assert got == expected, f"list(context): expected {expected}, got {got}"


OTHER_OWNER_CALLS = {
    "get": lambda bob, task: bob.get(task["task_id"]),
    "send-to-task": lambda bob, task: bob.send(message(9), task_id=task["task_id"]),
    "send-to-context": lambda bob, task: bob.send(message(9), context_id=task["context_id"]),
    "set_state": lambda bob, task: bob.set_state(task["task_id"], "canceled"),
    "list": lambda bob, task: bob.list(task["context_id"]),
    "reference": lambda bob, task: bob.send(message(9), reference_task_ids=[task["task_id"]]),
}


@requirement("TASK-009")
@pytest.mark.parametrize("operation", list(OTHER_OWNER_CALLS))
def test_tasks_of_one_owner_are_invisible_to_another(tasks, operation):
    task = tasks.send(message(1))
    bob = tasks.as_owner("bob")
    with expect_error("not_found", f"{operation} by another owner"):
        OTHER_OWNER_CALLS[operation](bob, task)
    assert_json_equal(tasks.get(task["task_id"]), task, "the owner's task after another owner's attempt")


@requirement("TASK-010")
def test_reference_task_ids_are_kept_as_given_and_never_inferred(tasks):
    first = tasks.send(message(1))
    tasks.set_state(first["task_id"], "completed")
    follow_up = tasks.send(message(2), context_id=first["context_id"])
    assert follow_up["reference_task_ids"] == [], f"an unreferenced follow-up got {follow_up['reference_task_ids']}"
    referring = tasks.send(message(3), context_id=first["context_id"], reference_task_ids=[first["task_id"]])
    assert referring["reference_task_ids"] == [first["task_id"]], f"references given as [first]: {referring}"
    elsewhere = tasks.send(message(4), reference_task_ids=[follow_up["task_id"], first["task_id"]])
    assert elsewhere["reference_task_ids"] == [follow_up["task_id"], first["task_id"]], f"order lost: {elsewhere}"
    assert elsewhere["context_id"] != first["context_id"], "a reference pulled the new task into the referenced context"


@requirement("TASK-010")
def test_a_repeated_reference_is_kept_once_in_the_order_first_given(tasks):
    a, b, c = (tasks.send(message(n))["task_id"] for n in range(3))
    task = tasks.send(message(3), reference_task_ids=[a, b, a])
    assert task["reference_task_ids"] == [a, b], f"references given as [a, b, a]: {task['reference_task_ids']}"
    again = tasks.send(message(4), task_id=task["task_id"], reference_task_ids=[b, c, b])
    assert again["reference_task_ids"] == [a, b, c], f"then [b, c, b] to the same task: {again['reference_task_ids']}"
    assert tasks.get(task["task_id"])["reference_task_ids"] == [a, b, c], "get() of the task disagrees"


@requirement("TASK-010")
def test_reference_to_an_unknown_task_is_not_found(tasks):
    with expect_error("not_found", "send referring to a task id the server never minted"):
        tasks.send(message(1), reference_task_ids=[MADE_UP_TASK])


@requirement("TASK-009")
def test_a_send_to_ones_own_task_naming_anothers_task_as_reference_changes_nothing(tasks):
    mine, kept = tasks.send(message(1)), tasks.send(message(2))
    bob = tasks.as_owner("bob")
    theirs = bob.send(message(3))
    before, bobs = tasks.list(), bob.list()
    # A valid reference first, bob's task second: a store that stores as it checks would keep the first.
    with expect_error("not_found", "a send to one's own task naming another owner's task as a reference"):
        tasks.send(message(4), task_id=mine["task_id"], reference_task_ids=[kept["task_id"], theirs["task_id"]])
    assert_json_equal(tasks.list(), before, "every task of the owner after the rejected send")
    assert_json_equal(tasks.get(mine["task_id"]), mine, "the task the rejected send named")
    assert_json_equal(bob.list(), bobs, "every task of the other owner after the rejected send")


INVALID_CALLS = {
    "empty-owner": lambda t: t.as_owner("").send(message(1)),
    "owner-with-newline": lambda t: t.as_owner("a\nb").send(message(1)),
    "message-not-object": lambda t: t.send("hello"),
    "message-not-json": lambda t: t.send({"n": NonJSON("nan")}),
    "task-id-not-string": lambda t: t.send(message(1), task_id=7),
    "context-id-empty": lambda t: t.send(message(1), context_id=""),
    "references-not-array": lambda t: t.send(message(1), reference_task_ids="task_1"),
    "references-with-empty-id": lambda t: t.send(message(1), reference_task_ids=[""]),
    "get-with-integer-task-id": lambda t: t.get(7),
    "list-with-integer-context-id": lambda t: t.list(7),
    "list-with-empty-owner": lambda t: t.as_owner("").list(),
    "set_state-with-array-task-id": lambda t: t.set_state([MADE_UP_TASK], "completed"),
    # A wrong type in every field: numbers and booleans where strings are, arrays and null where objects are.
    "owner-integer": lambda t: t.as_owner(7).send(message(1)),
    "owner-boolean": lambda t: t.as_owner(True).send(message(1)),
    "owner-null": lambda t: t.as_owner(None).send(message(1)),
    "message-array-of-parts": lambda t: t.send([{"kind": "text", "text": "hi"}]),
    "message-empty-array": lambda t: t.send([]),
    "message-null": lambda t: t.send(None),
    "message-number": lambda t: t.send(3),
    "task-id-boolean": lambda t: t.send(message(1), task_id=True),
    "context-id-integer": lambda t: t.send(message(1), context_id=7),
    "context-id-object": lambda t: t.send(message(1), context_id={"id": "c"}),
    "references-with-integer": lambda t: t.send(message(1), reference_task_ids=[7]),
    "references-with-boolean": lambda t: t.send(message(1), reference_task_ids=[True]),
    "references-object": lambda t: t.send(message(1), reference_task_ids={"a": MADE_UP_TASK}),
    "get-with-boolean-task-id": lambda t: t.get(True),
    "list-with-boolean-context-id": lambda t: t.list(True),
    "set_state-with-integer-task-id": lambda t: t.set_state(7, "completed"),
}


def everything(tasks) -> list:
    """Every task of the owner: what a rejected call has to leave as it was (TASK-011), seen through TASK-013."""
    found: list = tasks.list()
    return found


@requirement("TASK-011")
@pytest.mark.parametrize("name", list(INVALID_CALLS))
def test_invalid_arguments_are_rejected(tasks, name):
    tasks.send(message(0))
    before = everything(tasks)
    with expect_error("invalid_argument", f"a call with {name}"):
        INVALID_CALLS[name](tasks)
    assert_json_equal(everything(tasks), before, f"every task of the owner after the call with {name}")


@requirement("TASK-011")
@pytest.mark.parametrize("state", ["unknown", "done", "COMPLETED", "input_required", "", None, 3, True, ["working"]])
def test_unknown_state_is_rejected(tasks, state):
    task = tasks.send(message(1))
    before = everything(tasks)
    with expect_error("invalid_argument", f"set_state({state!r})"):
        tasks.set_state(task["task_id"], state)
    assert_json_equal(everything(tasks), before, f"every task of the owner after set_state({state!r})")


@requirement("TASK-013")
def test_list_without_a_context_holds_every_task_of_the_owner_oldest_first(tasks):
    first = tasks.send(message(1))
    second = tasks.send(message(2))
    third = tasks.send(message(3), context_id=first["context_id"])
    bob = tasks.as_owner("bob")
    bobs = bob.send(message(4))
    second = tasks.set_state(second["task_id"], "completed")  # changed last, but not created last
    expected = [first, second, third]
    for listed in (tasks.list(), tasks.list(None)):
        for task in listed:
            assert_shape(task, "task/task", "a listed task")
        assert_json_equal(listed, expected, "list() without a context: every task of the owner, oldest created first")
    assert_json_equal(bob.list(), [bobs], "list() without a context by another owner, who has one task")


@requirement("TASK-013")
def test_list_without_a_context_of_a_new_owner_is_empty(tasks):
    tasks.send(message(1))
    assert_json_equal(tasks.as_owner("carol").list(), [], "list() of an owner that has sent nothing")


#: Calls with several faults, the kind they fail with, the same call with only the fault that kind
#: stands for, and the requirement that makes that fault an error.  ``o`` is an open task of the
#: owner, ``d`` a completed one.
SEVERAL_FAULTS = {
    "empty-owner-unknown-task": (
        lambda t, o, d: t.as_owner("").get(MADE_UP_TASK),
        "invalid_argument",
        lambda t, o, d: t.as_owner("").get(o),
        "TASK-011",
    ),
    "other-owners-task-message-not-object": (
        lambda t, o, d: t.as_owner("bob").send("hi", task_id=o),
        "invalid_argument",
        lambda t, o, d: t.send("hi", task_id=o),
        "TASK-011",
    ),
    "unknown-task-bad-state": (
        lambda t, o, d: t.set_state(MADE_UP_TASK, "done"),
        "invalid_argument",
        lambda t, o, d: t.set_state(o, "done"),
        "TASK-011",
    ),
    "terminal-task-bad-state": (
        lambda t, o, d: t.set_state(d, "done"),
        "invalid_argument",
        lambda t, o, d: t.set_state(o, "done"),
        "TASK-011",
    ),
    "terminal-task-mismatched-context": (
        lambda t, o, d: t.send(message(9), task_id=d, context_id=MADE_UP_CONTEXT),
        "invalid_argument",
        lambda t, o, d: t.send(message(9), task_id=o, context_id=MADE_UP_CONTEXT),
        "TASK-005",
    ),
    "mismatched-context-unknown-reference": (
        lambda t, o, d: t.send(message(9), task_id=o, context_id=MADE_UP_CONTEXT, reference_task_ids=[MADE_UP_TASK]),
        "invalid_argument",
        lambda t, o, d: t.send(message(9), task_id=o, context_id=MADE_UP_CONTEXT),
        "TASK-005",
    ),
    "terminal-task-unknown-reference": (
        lambda t, o, d: t.send(message(9), task_id=d, reference_task_ids=[MADE_UP_TASK]),
        "not_found",
        lambda t, o, d: t.send(message(9), reference_task_ids=[MADE_UP_TASK]),
        "TASK-010",
    ),
    "terminal-task-of-another-owner": (
        lambda t, o, d: t.as_owner("bob").set_state(d, "working"),
        "not_found",
        lambda t, o, d: t.as_owner("bob").set_state(o, "working"),
        "TASK-009",
    ),
}


@requirement("TASK-014")
@pytest.mark.parametrize("name", list(SEVERAL_FAULTS))
def test_several_faults_report_the_first_in_contract_precedence(tasks, name):
    open_task = tasks.send(message(1))["task_id"]
    done = tasks.send(message(2))["task_id"]
    tasks.set_state(done, "completed")
    several, kind, alone, relies_on = SEVERAL_FAULTS[name]
    reported_first(
        kind,
        lambda: several(tasks, open_task, done),
        lambda: alone(tasks, open_task, done),
        relies_on,
        f"a call with several faults ({name})",
    )


@requirement("TASK-015")
def test_history_is_the_messages_sent_to_the_task_in_order(tasks):
    first = tasks.send(message(1))
    assert_json_equal(first["history"], [message(1)], "the history of a new task")
    follow_up = tasks.send(message(2), context_id=first["context_id"])
    assert_json_equal(follow_up["history"], [message(2)], "the history of a new task in an existing context")
    tasks.send(message(3), task_id=first["task_id"])
    tasks.set_state(first["task_id"], "input-required")
    tasks.send(message(4), task_id=first["task_id"])
    assert_json_equal(tasks.get(first["task_id"])["history"], [message(1), message(3), message(4)], "the history")
    assert_json_equal(tasks.get(follow_up["task_id"])["history"], [message(2)], "the other task's history")


OPEN_STATES = [s for s in STATES if s not in TERMINAL_STATES]


@requirement("TASK-016")
@pytest.mark.parametrize("state", OPEN_STATES)
def test_an_open_task_takes_any_state_and_a_message_puts_it_to_work(tasks, state):
    task = tasks.send(message(1))
    for then in [state, *OPEN_STATES, state]:
        assert tasks.set_state(task["task_id"], then)["state"] == then, f"set_state({then!r}) on an open task"
        assert tasks.get(task["task_id"])["state"] == then, f"get() after set_state({then!r})"
    answered = tasks.send(message(2), task_id=task["task_id"])
    assert answered["state"] == "working", f"a message to a {state} task left it {answered['state']!r}"
    assert tasks.get(task["task_id"])["state"] == "working", f"get() after a message to a {state} task"
    for terminal in sorted(TERMINAL_STATES):
        other = tasks.send(message(3))
        tasks.set_state(other["task_id"], state)
        assert tasks.set_state(other["task_id"], terminal)["state"] == terminal, f"{state} -> {terminal} was refused"
