"""Confirm, without the kit, each a2a-sdk behaviour that the kit reports as a TASK failure.

Every failure the matrix shows for an a2a-sdk target must be the library's own behaviour, not
something the adapter or the kit added.  This script drives the library directly (no adapter, no
pytest, no kit code): a ``DefaultRequestHandler`` over the target's task store, requests decoded
with ``ParseDict`` as the library's JSON-RPC route decodes them, and the smallest agent A2A's
documentation shows (it publishes the task and starts work), which is not the library's but the
server author's part.  ``nox -s matrix`` runs it after the kit; run it alone with
``python -m implementations.a2a_sdk_confirm [TARGET…]``.

Each check names the requirement it explains and the row of spec/identity.md § "Differences from
upstream" that records it.  Exit status 1 when a recorded behaviour is no longer seen: the record
(and the matrix) is then stale, which is as much a finding as a new failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from implementations._confirm import report

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

TARGETS = ("in_memory", "database_sqlite")


class Agent:
    """An ``AgentExecutor``: publish the task on its first message, then start work."""

    async def execute(self, context: Any, event_queue: Any) -> None:
        from a2a.helpers.proto_helpers import new_task_from_user_message
        from a2a.server.tasks import TaskUpdater

        current = context.current_task
        if current is None:
            await event_queue.enqueue_event(new_task_from_user_message(context.message))
        context_id = context.context_id if current is None else current.context_id
        await TaskUpdater(event_queue, context.task_id, context_id).start_work()

    async def cancel(self, context: Any, event_queue: Any) -> None:
        raise NotImplementedError


class Server:
    """One handler over one store, called as the JSON-RPC route calls it."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler

    @staticmethod
    def caller(name: str) -> Any:
        from a2a.auth.user import User
        from a2a.server.context import ServerCallContext

        class Named(User):
            is_authenticated = True
            user_name = name

        return ServerCallContext(user=Named())

    async def send(self, owner: str, data: Any = None, **ids: Any) -> Any:
        from a2a.types.a2a_pb2 import SendMessageRequest
        from google.protobuf import json_format

        message = {"messageId": str(uuid.uuid4()), "role": "ROLE_USER", "parts": [{"data": data or {"n": 1}}], **ids}
        request = json_format.ParseDict({"message": message}, SendMessageRequest(), ignore_unknown_fields=True)
        return await self.handler.on_message_send(request, self.caller(owner))

    async def listed(self, owner: str, context_id: str = "") -> list[str]:
        from a2a.types.a2a_pb2 import ListTasksRequest

        page = await self.handler.on_list_tasks(ListTasksRequest(context_id=context_id), self.caller(owner))
        return [task.id for task in page.tasks]


@contextlib.asynccontextmanager
async def server(target: str, folder: Path) -> AsyncIterator[Server]:
    from a2a.server.request_handlers import DefaultRequestHandler
    from a2a.server.tasks import DatabaseTaskStore, InMemoryTaskStore
    from a2a.types.a2a_pb2 import AgentCard

    engine = None
    if target == "in_memory":
        store: Any = InMemoryTaskStore()
    else:
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(f"sqlite+aiosqlite:///{folder / 'tasks.sqlite3'}")
        store = DatabaseTaskStore(engine)
    handler = DefaultRequestHandler(agent_executor=Agent(), task_store=store, agent_card=AgentCard(name="confirm"))  # type: ignore[arg-type]
    try:
        yield Server(handler)
    finally:
        await handler.aclose()
        if engine is not None:
            await engine.dispose()


@dataclass(frozen=True)
class Check:
    requirement: str
    row: str  # the first cell of its row in spec/identity.md "Differences from upstream"
    what: str
    run: Callable[[Server], Awaitable[bool]]


async def made_up_context_accepted(s: Server) -> bool:
    task = await s.send("alice", contextId="my-own-context")
    return bool(task.context_id == "my-own-context" and await s.listed("alice", "never-minted") == [])


async def other_owners_context_accepted(s: Server) -> bool:
    mine = await s.send("alice")
    theirs = await s.send("bob", contextId=mine.context_id)  # bob's task in alice's context
    return bool(theirs.context_id == mine.context_id and await s.listed("bob", mine.context_id) == [theirs.id])


async def references_unchecked(s: Server) -> bool:
    alices = await s.send("alice")
    made_up = "task_00000000000000000000000000000000"
    by_bob = await s.send("bob", referenceTaskIds=[alices.id, made_up, ""])
    return list(by_bob.history[0].reference_task_ids) == [alices.id, made_up, ""]


async def owner_unchecked(s: Server) -> bool:
    empty = await s.send("")
    newline = await s.send("a\nb")
    return await s.listed("") == [empty.id] and await s.listed("a\nb") == [newline.id]


async def empty_context_is_none(s: Server) -> bool:
    task = await s.send("alice", contextId="")
    return task.context_id != ""


async def any_json_message(s: Server) -> bool:
    text = await s.send("alice", "hello")
    return bool(text.history[0].parts[0].data.string_value == "hello")


async def nan_stored(s: Server) -> bool:
    nan = await s.send("alice", {"n": math.nan})
    return math.isnan(nan.history[0].parts[0].data.struct_value.fields["n"].number_value)


async def nan_crashes_the_store(s: Server) -> bool:
    from google.protobuf.json_format import SerializeToJsonError

    try:
        await s.send("alice", {"n": math.nan})
    except SerializeToJsonError:
        return True  # the store writes the task as JSON and fails: a crash, not invalid params
    return False


async def newest_updated_first(s: Server) -> bool:
    first = await s.send("alice")
    second = await s.send("alice", contextId=first.context_id)
    await s.send("alice", taskId=first.id)  # the first task is updated last
    return await s.listed("alice", first.context_id) == [first.id, second.id] and await s.listed("alice") == [
        first.id,
        second.id,
    ]


async def closed_handler_still_reads(s: Server) -> bool:
    from a2a.types.a2a_pb2 import GetTaskRequest

    task = await s.send("alice")
    await s.handler.aclose()
    try:
        await s.send("alice", taskId=task.id)
    except RuntimeError as exc:
        refused = "ActiveTaskRegistry is closed" in str(exc)
    else:
        return False
    got = await s.handler.on_get_task(GetTaskRequest(id=task.id), s.caller("alice"))
    return refused and got.id == task.id and await s.listed("alice", task.context_id) == [task.id]


LISTING = "listing tasks"
CHECKS = [
    Check(
        "TASK-003",
        "client-supplied unknown context id",
        "a message naming a never-minted contextId starts a task in it; listing one is []",
        made_up_context_accepted,
    ),
    Check(
        "TASK-009",
        "client-supplied unknown context id",
        "another owner's contextId is accepted, and listing it shows only the caller's own tasks",
        other_owners_context_accepted,
    ),
    Check(
        "TASK-009",
        "`referenceTaskIds`",
        "referenceTaskIds naming another owner's task are kept on the message",
        references_unchecked,
    ),
    Check(
        "TASK-010",
        "`referenceTaskIds`",
        "referenceTaskIds naming a never-minted task, or empty, are kept on the message",
        references_unchecked,
    ),
    Check("TASK-011", "owner", 'user names "" and "a\\nb" are owners like any other', owner_unchecked),
    Check("TASK-011", "empty `contextId` or `taskId`", 'contextId "" starts a new context', empty_context_is_none),
    Check("TASK-011", "`referenceTaskIds`", 'an empty reference id "" is kept', references_unchecked),
    Check("TASK-011", "message content", 'a data part "hello" is a message', any_json_message),
    Check("TASK-008", LISTING, "ListTasks of a context: newest updated first", newest_updated_first),
    Check("TASK-012", LISTING, "ListTasks: newest updated first, so the model's lists differ", newest_updated_first),
    Check("TASK-013", LISTING, "ListTasks without a context: newest updated first", newest_updated_first),
    Check(
        "TASK-017",
        "closed task service",
        "after DefaultRequestHandler.aclose() a message raises; GetTask and ListTasks still answer",
        closed_handler_still_reads,
    ),
]


#: NaN in a message: InMemoryTaskStore keeps it; DatabaseTaskStore fails writing it as JSON.
NAN = {
    "in_memory": Check("TASK-011", "message content", "a data part holding NaN is stored", nan_stored),
    "database_sqlite": Check(
        "TASK-011",
        "message content",
        "a data part holding NaN makes DatabaseTaskStore raise SerializeToJsonError",
        nan_crashes_the_store,
    ),
}


def checks_for(target: str) -> list[Check]:
    return [*CHECKS, NAN[target]]


async def confirm(target: str) -> list[tuple[Check, bool | str]]:
    results: list[tuple[Check, bool | str]] = []
    for check in checks_for(target):
        with tempfile.TemporaryDirectory() as folder:
            try:
                async with server(target, Path(folder)) as s:
                    seen: bool | str = await check.run(s)
            except Exception as exc:  # an unexpected exception is reported, not raised
                seen = f"raised {type(exc).__name__}: {exc}"
        results.append((check, seen))
    return results


def main(argv: list[str]) -> int:
    import logging

    logging.getLogger("a2a").setLevel(logging.CRITICAL + 1)  # the library logs what it raises; the checks judge that
    stale = 0
    for target in argv or TARGETS:
        stale += report(target, asyncio.run(confirm(target)))
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
