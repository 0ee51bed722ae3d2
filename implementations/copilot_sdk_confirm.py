"""Confirm, without the kit, each github-copilot-sdk behaviour that the kit reports as a LIFE failure.

Every failure the matrix shows for the Python Copilot SDK must be the library's own behaviour, not
something the adapter or the kit added.  This script drives ``CopilotClient`` directly: no adapter
code, no pytest, no kit.  The only thing it borrows is the runtime's stand-in,
:class:`implementations.copilot_sdk.RuntimePipe` (two in-memory byte streams where the runtime
process would be), because the SDK cannot run without a runtime; the client is given it by the
same one-method override of ``_start_cli_server``.  Messages are written to the client as a server
would write them, and what the SDK does is read from its own objects: the typed events its
``on_lifecycle`` handlers receive, its ``_sessions`` map, what ``create_session`` and
``resume_session`` return or raise.  ``nox -s matrix`` runs it after the kit; run it alone with
``python -m implementations.copilot_sdk_confirm``.

Each check names the requirement it explains and the row of spec/lifecycle.md § "Differences from
upstream" that records it.  Exit status 1 when a recorded behaviour is no longer seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from implementations._confirm import report

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

TARGETS = ("client",)
META = {"startTime": "2026-01-01T00:00:00.000Z", "modifiedTime": "2026-01-01T00:00:00.250Z"}


class Sdk:
    """One CopilotClient over the runtime's in-memory stand-in, and what its handlers received."""

    def __init__(self, client: Any, pipe: Any) -> None:
        self.client = client
        self.pipe = pipe
        self.received: list[tuple[str, Any]] = []

    def on(self, name: str, event_type: str | None = None) -> None:
        def handler(event: Any) -> None:
            self.received.append((name, event))

        if event_type is None:
            self.client.on_lifecycle(handler)
        else:
            self.client.on_lifecycle(event_type, handler)

    async def server_sends(self, message: Any) -> None:
        reads = self.pipe.reads
        self.pipe.feed(message)
        reader = self.client._client._read_thread
        await asyncio.get_running_loop().run_in_executor(None, self.pipe.wait_for_reader, reads, reader)
        for _ in range(50):
            await asyncio.sleep(0)

    async def request(self, call: Awaitable[Any]) -> tuple[asyncio.Future[Any], dict[str, Any]]:
        """Start a call; return it and the request it wrote."""
        before = self.pipe.writes
        task = asyncio.ensure_future(call)
        stop = threading.Event()  # the SDK writes on an executor thread: wait for the write, or the call's end
        written = asyncio.get_running_loop().run_in_executor(None, self.pipe.wait_for_write, before, stop)
        await asyncio.wait({task, written}, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        await written
        return task, self.pipe.requests[-1]

    async def answer(self, task: asyncio.Future[Any], request: dict[str, Any], result: Any) -> Any:
        await self.server_sends({"jsonrpc": "2.0", "id": request["id"], "result": result})
        return await asyncio.wait_for(task, 10)

    def sessions(self) -> list[str]:
        return sorted(self.client._sessions)


@contextlib.asynccontextmanager
async def sdk() -> AsyncIterator[Sdk]:
    from copilot import CopilotClient
    from copilot.client import RuntimeConnection

    from implementations.copilot_sdk import NO_RUNTIME, RuntimePipe

    pipe = RuntimePipe()

    class Piped(CopilotClient):  # type: ignore[misc]
        async def _start_cli_server(self) -> None:
            self._process = pipe

    client = Piped(connection=RuntimeConnection.for_stdio(path=NO_RUNTIME))
    await client.start()
    try:
        yield Sdk(client, pipe)
    finally:
        with contextlib.suppress(Exception):
            await client.force_stop()
        pipe.close()


def lifecycle(params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "session.lifecycle", "params": params}


@dataclass(frozen=True)
class Check:
    requirement: str
    row: str  # the first cell of its row in spec/lifecycle.md "Differences from upstream"
    what: str
    run: Callable[[Sdk], Awaitable[bool]]


async def client_session_id_dropped(s: Sdk) -> bool:
    s.on("all")
    await s.server_sends(
        lifecycle({"type": "session.created", "sessionId": "a", "clientSessionId": "a", "metadata": META})
    )
    (_, event), *_ = s.received
    return not hasattr(event, "client_session_id") and event.session_id == "a"


async def unknown_type_as_updated(s: Sdk) -> bool:
    s.on("all")
    await s.server_sends(lifecycle({"type": "session.renamed", "sessionId": "a", "metadata": META}))
    return [e.type for _, e in s.received] == ["session.updated"]


async def malformed_delivered(s: Sdk) -> bool:
    s.on("all")
    await s.server_sends(lifecycle({"type": "session.updated", "metadata": META}))  # no sessionId
    await s.server_sends(lifecycle({"type": "session.created", "sessionId": "a"}))  # created without metadata
    return [(e.type, e.session_id) for _, e in s.received] == [("session.updated", ""), ("session.created", "a")]


async def array_and_duplicate_ignored_silently(s: Sdk) -> bool:
    import logging

    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    logging.getLogger("copilot").addHandler(handler)
    try:
        task, request = await s.request(s.client.create_session(session_id="a"))
        await s.answer(task, request, {"sessionId": "a"})
        await s.server_sends({"jsonrpc": "2.0", "id": request["id"], "result": {"sessionId": "a"}})  # duplicate
        await s.server_sends([1, 2])  # a message that is an array
    finally:
        logging.getLogger("copilot").removeHandler(handler)
    return not [r for r in seen if r.levelno >= logging.WARNING]


async def typed_before_wildcard(s: Sdk) -> bool:
    s.on("wildcard")
    s.on("typed", "session.updated")
    await s.server_sends(lifecycle({"type": "session.updated", "sessionId": "a", "metadata": META}))
    return [name for name, _ in s.received] == ["typed", "wildcard"]


async def create_replaces(s: Sdk) -> bool:
    task, request = await s.request(s.client.create_session(session_id="taken"))
    first = await s.answer(task, request, {"sessionId": "taken"})
    task, request = await s.request(s.client.create_session(session_id="taken"))  # sent, no conflict
    second = await s.answer(task, request, {"sessionId": "taken"})
    return second is not first and s.client._sessions["taken"] is second


async def server_assigned_replaces(s: Sdk) -> bool:
    from copilot.client import CloudSessionOptions

    task, request = await s.request(s.client.create_session(session_id="a"))
    first = await s.answer(task, request, {"sessionId": "a"})
    task, request = await s.request(s.client.create_session(cloud=CloudSessionOptions()))
    second = await s.answer(task, request, {"sessionId": "a"})  # the server assigns an id already here
    return second is not first and s.sessions() == ["a"]


async def resume_result_unread(s: Sdk) -> bool:
    outcomes = []
    for result in ({"sessionId": "other"}, {}):
        task, request = await s.request(s.client.resume_session("a"))
        session = await s.answer(task, request, result)
        outcomes.append(session.session_id)
    return outcomes == ["a", "a"] and s.sessions() == ["a"]


async def create_without_id_is_another_id(s: Sdk) -> bool:
    task, request = await s.request(s.client.create_session(session_id="fresh"))
    try:
        await s.answer(task, request, {})
    except RuntimeError as exc:
        said = str(exc)
    else:
        return False
    task, request = await s.request(s.client.create_session(session_id="fresh"))
    try:
        await s.answer(task, request, None)
    except AttributeError:
        return "returned sessionId None but the caller requested fresh" in said
    return False


#: What LIFE-035 refuses: ids that are not a non-empty string (``None`` too, for resume and delete).
SCALARS: list[Any] = ["", 42, True]
CONTAINERS: list[Any] = [["a"], {"a": 1}]


async def _sent(make: Callable[[Sdk], Awaitable[Any]]) -> dict[str, Any] | str:
    """What the call wrote, on a client of its own, left unanswered; or what it raised before writing."""
    async with sdk() as s:
        task = asyncio.ensure_future(make(s))
        for _ in range(200):  # the SDK writes on an executor thread
            if s.pipe.requests or task.done():
                break
            await asyncio.sleep(0.01)
        if task.done() and not s.pipe.requests:
            exc = task.exception()
            return f"{type(exc).__name__}: {exc}"
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        return dict(s.pipe.requests[-1])


async def _each_sent_as_is(method: str, make: Callable[[Sdk, Any], Awaitable[Any]], ids: list[Any]) -> bool:
    for bad in ids:
        request = await _sent(lambda s, bad=bad: make(s, bad))
        if not isinstance(request, dict) or request.get("method") != method:
            return False
        sent = request.get("params", {}).get("sessionId", ...)
        if sent != bad or type(sent) is not type(bad):
            return False
    return True


async def _each_unhashable(make: Callable[[Sdk, Any], Awaitable[Any]]) -> bool:
    for bad in CONTAINERS:
        raised = await _sent(lambda s, bad=bad: make(s, bad))
        if not (isinstance(raised, str) and raised.startswith("TypeError: unhashable type")):
            return False
    return True


def _create(s: Sdk, session_id: Any) -> Awaitable[Any]:
    return s.client.create_session(session_id=session_id)


def _resume(s: Sdk, session_id: Any) -> Awaitable[Any]:
    return s.client.resume_session(session_id)


async def create_sends_any_id(s: Sdk) -> bool:  # noqa: ARG001 - each id on a client of its own
    if not await _each_sent_as_is("session.create", _create, SCALARS[1:]):
        return False
    request = await _sent(lambda c: _create(c, ""))  # "" is falsy: a fresh uuid is sent instead
    if not isinstance(request, dict) or request.get("method") != "session.create":
        return False
    sent = request.get("params", {}).get("sessionId")
    return isinstance(sent, str) and sent != "" and await _each_unhashable(_create)


async def resume_sends_any_id(s: Sdk) -> bool:  # noqa: ARG001
    return await _each_sent_as_is("session.resume", _resume, [*SCALARS, None]) and await _each_unhashable(_resume)


async def delete_sends_any_id(s: Sdk) -> bool:  # noqa: ARG001
    return await _each_sent_as_is(
        "session.delete", lambda c, bad: c.client.delete_session(bad), [*SCALARS, *CONTAINERS, None]
    )


CHECKS = [
    Check(
        "LIFE-001", "`clientSessionId`", "handlers get a typed event without clientSessionId", client_session_id_dropped
    ),
    Check(
        "LIFE-002", "unknown event type", "session.renamed reaches handlers as session.updated", unknown_type_as_updated
    ),
    Check(
        "LIFE-003",
        "malformed notification",
        'an event without sessionId is delivered with session_id "", created without metadata is delivered',
        malformed_delivered,
    ),
    Check(
        "LIFE-004",
        "unexpected or duplicate reply",
        "a duplicate reply and a JSON array are ignored without a log line",
        array_and_duplicate_ignored_silently,
    ),
    Check("LIFE-006", "handler order", "a typed handler runs before an earlier wildcard one", typed_before_wildcard),
    Check(
        "LIFE-015", "create of a registered id", "create_session of a registered id sends and replaces", create_replaces
    ),
    # LIFE-020's model meets several of these behaviours; which one a run reports first depends on
    # its seed, so each is a confirmed explanation.
    Check(
        "LIFE-020",
        "malformed notification",
        "the model drops a malformed notification; the SDK hands it to handlers",
        malformed_delivered,
    ),
    Check(
        "LIFE-020",
        "create of a registered id",
        "the model's create of a registered id is sent and replaces the entry",
        create_replaces,
    ),
    Check(
        "LIFE-020",
        "resume result",
        "the model's resume answered with another id, or none, succeeds",
        resume_result_unread,
    ),
    Check(
        "LIFE-030",
        "create of a registered id",
        "a server-assigned id already registered replaces the entry",
        server_assigned_replaces,
    ),
    Check(
        "LIFE-025",
        "resume result",
        "resume_session answered with another id, or none, returns the requested session",
        resume_result_unread,
    ),
    Check(
        "LIFE-029",
        "resume result",
        "resume_session answered without a sessionId succeeds",
        resume_result_unread,
    ),
    Check(
        "LIFE-029",
        "create result without a session id",
        "create_session answered without an id raises the another-id RuntimeError; a null result AttributeError",
        create_without_id_is_another_id,
    ),
    Check(
        "LIFE-035",
        "session id not checked",
        'create_session sends 42 and true as sessionId, "" as a fresh uuid; an array or object raises TypeError',
        create_sends_any_id,
    ),
    Check(
        "LIFE-035",
        "session id not checked",
        'resume_session sends "", 42, true, null as sessionId; an array or object raises TypeError',
        resume_sends_any_id,
    ),
    Check(
        "LIFE-035",
        "session id not checked",
        'delete_session sends "", 42, true, an array, an object, null as sessionId',
        delete_sends_any_id,
    ),
]


def checks_for(target: str) -> list[Check]:  # noqa: ARG001 - one target
    return list(CHECKS)


async def confirm(target: str) -> list[tuple[Check, bool | str]]:
    results: list[tuple[Check, bool | str]] = []
    for check in checks_for(target):
        try:
            async with sdk() as s:
                seen: bool | str = await asyncio.wait_for(check.run(s), 30)
        except Exception as exc:  # an unexpected exception is reported, not raised
            seen = f"raised {type(exc).__name__}: {exc}"
        results.append((check, seen))
    return results


def main(argv: list[str]) -> int:
    import logging

    quiet = logging.getLogger("copilot")  # what the SDK logs is judged by the checks, not printed
    quiet.propagate = False
    quiet.addHandler(logging.NullHandler())
    stale = 0
    for target in argv or TARGETS:
        stale += report(target, asyncio.run(confirm(target)))
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
