"""An honest LIFE adapter over github-copilot-sdk 1.0.27's Python client, against the kit's scripted peer.

Run it with ``pytest --impl=implementations.copilot_sdk:client``.  Claims ``life`` only: the Python
SDK has a client-level lifecycle callback (``CopilotClient.on_lifecycle``) and no per-session one,
so ``life.session-handlers`` is not claimed (spec/lifecycle.md § Session handlers).

Dependencies: ``pip install -e '.[copilot-sdk]'`` (pyproject.toml): ``github-copilot-sdk==1.0.27``.
No Copilot CLI, no runtime binary and no network are involved.  Source of every fact below:
https://github.com/github/copilot-sdk, ``python/copilot/client.py`` and ``python/copilot/_jsonrpc.py``
at the 1.0.27 release.

The seam, and what is library code and what is ours
    ``CopilotClient`` reaches its runtime through ``JsonRpcClient(process)``, which reads
    Content-Length frames from ``process.stdout`` on a reader thread and writes them to
    ``process.stdin``.  The client spawns that process in ``CopilotClient._start_cli_server``; the
    adapter's client is a subclass that overrides exactly that one method, and installs an
    in-memory stand-in for the process (:class:`RuntimePipe`: two byte streams, ``poll()`` always
    "running").  The constructor gets ``RuntimeConnection.for_stdio(path=NO_RUNTIME)``: an explicit
    path, because without one it downloads the runtime binary; nothing ever runs it.  Everything
    else runs as shipped: ``start()`` with ``_connect_via_stdio`` (the
    ``JsonRpcClient``, its reader thread and notification handler) and ``_verify_protocol_version``;
    ``create_session``, ``resume_session``, ``delete_session``; the session map ``_sessions``; the
    ``session.lifecycle`` notification handler; ``_session_lifecycle_event_from_dict``;
    ``_dispatch_lifecycle_event``; ``on_lifecycle`` and the unsubscribe function it returns.

    Ours is the other end of the pipe, the runtime's side, which only relays: every
    ``session.create``, ``session.resume`` and ``session.delete`` the client writes goes to
    ``life.outbox`` as written (the SDK's extra ``params`` members included; the kit ignores them),
    and every message the kit hands to ``life.deliver`` is written to the client as one frame.  The
    runtime's side answers, itself, only what is not LIFE: the ``connect`` handshake of ``start()``
    (``{"ok": true, "protocolVersion": <the SDK's own version>, "version": "in-memory"}``) and any
    other request (``{}``), so that the scripted peer sees only lifecycle requests.
Wire shapes
    Copilot's ``session.delete`` result is ``{"success": true}`` or ``{"success": false, "error"}``;
    LIFE's is ``{}``.  A result the kit delivers for a pending ``session.delete`` is written as
    ``{"success": true}`` plus the kit's members; every other message is written unchanged.
``create(session_id?)``
    ``create_session(session_id=ID)`` with a caller-chosen id.  Without one,
    ``create_session(cloud=CloudSessionOptions())``: the SDK's only path on which the server assigns
    the id (without ``cloud`` it mints a uuid4 itself and sends it as the caller's).  The call runs
    as an asyncio task (the op); ``create`` returns once its request has been written, or once the
    task has ended without writing one.  The SDK checks nothing before sending: the adapter adds no
    ``conflict`` of its own for a registered or in-flight id.
``resume(session_id)``, ``delete(session_id)``
    ``resume_session(session_id)`` and ``delete_session(session_id)``, as tasks, likewise.
``result(op)``
    ``pending`` while the task runs; ``ok`` with the session's ``session_id`` (delete: the id it
    named) when it returns.  Errors, by what the SDK raises: ``JsonRpcError`` (the server answered
    with an error) → ``failed_precondition``; the ``RuntimeError`` "session.create response did not
    include a sessionId" → ``failed_precondition``; "returned sessionId … but the caller requested"
    → ``conflict``; "Failed to delete session" (a delete result without ``success``) →
    ``failed_precondition``; the cancellation ``timeout`` caused → ``unavailable``; anything else
    ``internal``.  An op that is not a non-empty string is ``invalid_argument``, one this client never
    returned ``not_found`` (LIFE-037: the op is this adapter's own reference, not the SDK's).
``timeout(op)``
    The SDK's ``create_session``, ``resume_session`` and ``delete_session`` take no timeout (its
    ``JsonRpcClient.request`` waits for ever unless given one); a Python caller bounds them with
    ``asyncio.wait_for`` or ``asyncio.timeout``, which cancel the awaiting task.  ``timeout``
    cancels the op's task the same way; what the SDK does on cancellation (it unregisters a
    pre-registered session) is its own.
``registry()``
    ``{"sessions": sorted(client._sessions), "pending": len(client._client.pending_requests)}``:
    the client's own session map, which the lifecycle notification handler never changes, and its
    own count of requests awaiting a reply.  Both are private attributes; the SDK has no public
    accessor (``list_sessions`` asks the server).
``subscribe``, ``unsubscribe``, ``events``
    ``client.on_lifecycle(handler)``, or ``client.on_lifecycle(event_type, handler)`` for a typed
    subscription, and the function it returns to unsubscribe.  The probe handler records the event
    it receives, then raises for ``raise``.  The SDK hands handlers a typed event
    (``SessionCreatedEvent`` …, with ``session_id`` and ``metadata``); the record is its envelope
    ``{"type", "sessionId", "metadata"?}`` with ``startTime`` and ``modifiedTime`` written by
    ``datetime.isoformat()`` and ``summary`` when it is not ``None``.  What the SDK does not keep
    (``clientSessionId``, unknown members, the original type of an unknown event) cannot be shown.
    The names, the ``record``/``raise`` behaviours and their argument checks are the probe's,
    not the SDK's (the SDK has no named handlers): see ``adds``.
``diagnostics()``
    What the SDK logged at WARNING or above on its ``copilot`` loggers since the client was opened
    (for example "Failed to parse incoming JSON-RPC message"): the SDK's way of reporting a message
    it could not handle.
``deliver(message)``
    Writes the frame and returns once the reader thread has come back for the next frame (or has
    ended) and the event loop has run what it scheduled, so every lifecycle handler owed the
    message has been called; then lets the ops' tasks run until none can move further.
``close()``
    ``client.force_stop()``, then the pipe's end of stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from typing import TYPE_CHECKING, Any

from implementations._common import Conflict, InvalidArgument, NotFound, Unsupported, library_version

if TYPE_CHECKING:
    from collections.abc import Collection

    from conformance.contract import Environment

__all__ = ["CopilotLifecycle", "client"]

SPEC_VERSION = "0.2.0"
LIBRARY = "github-copilot-sdk"
#: The runtime path handed to the SDK; ``_start_cli_server`` is overridden, so nothing runs it.
NO_RUNTIME = "no-copilot-runtime:the-in-memory-pipe-stands-in"
LIFE_METHODS = frozenset({"session.create", "session.resume", "session.delete"})
BEHAVIOURS = frozenset({"record", "raise"})
ADDS = {
    "LIFE-032": (
        "life.subscribe's named probe handlers, their record/raise behaviours and the checks of those arguments "
        "are the adapter's: the SDK's on_lifecycle takes a bare callable."
    ),
}


class HandlerFailed(RuntimeError):
    """What a ``raise`` probe handler raises."""


class RuntimePipe:
    """The runtime process's two byte streams, in memory: what the SDK writes, and what it will read."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._incoming = bytearray()
        self._closed = False
        self._partial = bytearray()
        self.reads = 0  # how often the reader thread has asked for the next frame
        self.requests: list[dict[str, Any]] = []  # LIFE requests, for life.outbox
        self.methods: dict[Any, str] = {}  # request id -> method, for the wire shapes
        self.writes = 0
        self.stdin = _Writer(self)
        self.stdout = _Reader(self)
        self.stderr = None
        self.returncode: int | None = None
        self.pid = 0

    # -- the process protocol JsonRpcClient and force_stop use -----------------------------------
    def poll(self) -> int | None:
        return self.returncode

    def kill(self) -> None:
        self.close()

    terminate = kill

    def wait(self, timeout: float | None = None) -> int:
        self.close()
        return 0

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self.returncode = 0
            self._cond.notify_all()

    # -- the runtime's side ---------------------------------------------------------------------
    def feed(self, message: Any) -> None:
        body = json.dumps(message, separators=(",", ":")).encode("utf-8")
        with self._cond:
            self._incoming += f"Content-Length: {len(body)}\r\n\r\n".encode() + body
            self._cond.notify_all()

    def received(self, message: Any) -> None:
        """One message the SDK wrote (called on the SDK's writer thread)."""
        with self._cond:
            self.writes += 1
            self._cond.notify_all()
        if not isinstance(message, dict) or "id" not in message or "method" not in message:
            return
        if message["method"] in LIFE_METHODS:
            with self._cond:
                self.methods[message["id"]] = message["method"]
                self.requests.append(message)
            return
        if message["method"] == "connect":
            from copilot._sdk_protocol_version import get_sdk_protocol_version

            version = {"ok": True, "protocolVersion": get_sdk_protocol_version(), "version": "in-memory"}
            self.feed({"jsonrpc": "2.0", "id": message["id"], "result": version})
            return
        self.feed({"jsonrpc": "2.0", "id": message["id"], "result": {}})

    def wait_for_write(self, writes: int, stop: threading.Event) -> None:
        """Block until the SDK has written more than ``writes`` messages, or ``stop`` is set."""
        with self._cond:
            while self.writes <= writes and not stop.is_set():
                self._cond.wait(0.01)

    def wait_for_reader(self, reads: int, reader: threading.Thread | None) -> None:
        """Block until the reader thread asks for a frame after ``reads`` requests, or has ended."""
        with self._cond:
            while self.reads <= reads and not self._closed:
                if reader is not None and not reader.is_alive():
                    return
                self._cond.wait(0.01)


class _Writer:
    def __init__(self, pipe: RuntimePipe) -> None:
        self.pipe = pipe

    def write(self, data: bytes) -> int:
        buffer = self.pipe._partial
        buffer += data
        while True:
            head, sep, rest = bytes(buffer).partition(b"\r\n\r\n")
            if not sep:
                return len(data)
            length = int(head.split(b":", 1)[1])
            if len(rest) < length:
                return len(data)
            message = json.loads(rest[:length])
            del buffer[: len(head) + len(sep) + length]
            self.pipe.received(message)

    def flush(self) -> None:
        return None


class _Reader:
    def __init__(self, pipe: RuntimePipe) -> None:
        self.pipe = pipe

    def readline(self) -> bytes:
        pipe = self.pipe
        with pipe._cond:
            if not pipe._partial_header:
                pipe.reads += 1
                pipe._cond.notify_all()
            while b"\n" not in pipe._incoming and not pipe._closed:
                pipe._cond.wait()
            if b"\n" not in pipe._incoming:
                return b""
            end = pipe._incoming.index(b"\n") + 1
            line = bytes(pipe._incoming[:end])
            del pipe._incoming[:end]
            pipe._partial_header = line.startswith(b"Content-Length")
            return line

    def read(self, size: int) -> bytes:
        pipe = self.pipe
        with pipe._cond:
            while not pipe._incoming and not pipe._closed:
                pipe._cond.wait()
            chunk = bytes(pipe._incoming[:size])
            del pipe._incoming[: len(chunk)]
            return chunk


RuntimePipe._partial_header = False  # type: ignore[attr-defined]


class _Diagnostics(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.lines.append(f"{record.name}: {text}")


def _envelope(event: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = {"type": event.type, "sessionId": event.session_id}
    meta = event.metadata
    if meta is not None:
        envelope["metadata"] = {
            "startTime": meta.start_time.isoformat(),
            "modifiedTime": meta.modified_time.isoformat(),
        }
        if meta.summary is not None:
            envelope["metadata"]["summary"] = meta.summary
    return envelope


def _outcome(task: asyncio.Task[Any], named: str | None) -> dict[str, Any]:
    from copilot._jsonrpc import JsonRpcError

    if not task.done():
        return {"state": "pending"}
    if task.cancelled():
        return {
            "state": "failed",
            "error": "unavailable",
            "message": "the caller's timer fired: the task was cancelled",
        }
    exc = task.exception()
    if exc is None:
        session = task.result()
        return {"state": "ok", "session_id": named if session is None else session.session_id}
    said = f"{type(exc).__name__}: {exc}"
    kind = "internal"
    if isinstance(exc, JsonRpcError):
        kind = "failed_precondition"
    elif isinstance(exc, RuntimeError) and "but the caller requested" in str(exc):
        kind = "conflict"
    elif isinstance(exc, RuntimeError) and (
        "did not include a sessionId" in str(exc) or str(exc).startswith("Failed to delete session")
    ):
        kind = "failed_precondition"
    return {"state": "failed", "error": kind, "message": said}


class Client:
    """The kit's LIFE client: one CopilotClient on an in-memory runtime pipe, and the probe's handlers."""

    def __init__(self, sdk: Any, pipe: RuntimePipe, diagnostics: _Diagnostics) -> None:
        self.sdk = sdk
        self.pipe = pipe
        self._diagnostics = diagnostics
        self._ops: dict[str, tuple[asyncio.Task[Any], str | None]] = {}
        self._handlers: dict[str, Any] = {}
        self._deliveries: list[dict[str, Any]] = []
        self._sent = 0

    # -- operations -----------------------------------------------------------------------------
    async def _start(self, coroutine: Any, named: str | None) -> str:
        before = self.pipe.writes
        task = asyncio.ensure_future(coroutine)
        op = f"op-{len(self._ops) + 1}"
        self._ops[op] = (task, named)
        stop = threading.Event()  # the SDK writes on an executor thread: wait for that write, or the task's end
        written = asyncio.get_running_loop().run_in_executor(None, self.pipe.wait_for_write, before, stop)
        await asyncio.wait({task, written}, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        await written
        return op

    async def create(self, session_id: Any = None) -> str:
        if session_id is None:
            from copilot.client import CloudSessionOptions

            return await self._start(self.sdk.create_session(cloud=CloudSessionOptions()), None)
        return await self._start(self.sdk.create_session(session_id=session_id), session_id)

    async def resume(self, session_id: Any) -> str:
        return await self._start(self.sdk.resume_session(session_id), session_id)

    async def delete(self, session_id: Any) -> str:
        return await self._start(self.sdk.delete_session(session_id), session_id)

    def outbox(self) -> list[Any]:
        with self.pipe._cond:
            sent = self.pipe.requests[self._sent :]
            self._sent = len(self.pipe.requests)
        return [json.loads(json.dumps(r)) for r in sent]

    async def deliver(self, message: Any) -> None:
        answers_delete = isinstance(message, dict) and self.pipe.methods.get(message.get("id")) == "session.delete"
        if answers_delete and isinstance(message.get("result"), dict):
            message = {**message, "result": {"success": True, **message["result"]}}
        reader = self.sdk._client._read_thread
        reads = self.pipe.reads
        self.pipe.feed(message)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.pipe.wait_for_reader, reads, reader)
        await self._settle()

    async def _settle(self) -> None:
        """Let the ops run until none moves: each is done, or waits for a reply."""
        for _ in range(1000):
            writes = self.pipe.writes
            for _ in range(20):
                await asyncio.sleep(0)
            await asyncio.sleep(0.002)  # a write the SDK started is on an executor thread
            if self.pipe.writes == writes:
                return

    @staticmethod
    def _check_op(op: Any) -> None:
        """An op is this adapter's own reference: one that is not a non-empty string is refused first (LIFE-037)."""
        if not (isinstance(op, str) and op):
            raise InvalidArgument(f"an operation reference is a non-empty string, not {op!r}")

    def result(self, op: Any) -> dict[str, Any]:
        self._check_op(op)
        if op not in self._ops:
            raise NotFound(f"no operation {op!r} on this client")
        task, named = self._ops[op]
        return _outcome(task, named)

    async def timeout(self, op: Any) -> None:
        self._check_op(op)
        if op not in self._ops:
            raise NotFound(f"no operation {op!r} on this client")
        task, _ = self._ops[op]
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await self._settle()

    def registry(self) -> dict[str, Any]:
        with self.sdk._sessions_lock:
            sessions = sorted(self.sdk._sessions)
        return {"sessions": sessions, "pending": len(self.sdk._client.pending_requests)}

    # -- the probe's handlers -------------------------------------------------------------------
    def subscribe(self, handler: Any, behaviour: Any, session_id: Any = None, event_type: Any = None) -> None:
        for what, value in (("a handler name", handler), ("an event type", event_type)):
            if value is not None and not (isinstance(value, str) and value):
                raise InvalidArgument(f"{what} is a non-empty string, not {value!r}")
        if handler is None:
            raise InvalidArgument("a handler name is a non-empty string, not null")
        if behaviour not in BEHAVIOURS:
            raise InvalidArgument(f"behaviour is 'record' or 'raise', not {behaviour!r}")
        if session_id is not None:
            raise Unsupported("the Python SDK has no per-session lifecycle handler (life.session-handlers)")
        if handler in self._handlers:
            raise Conflict(f"a handler named {handler!r} is already subscribed")

        def receive(event: Any) -> None:
            self._deliveries.append({"handler": handler, "event": _envelope(event)})
            if behaviour == "raise":
                raise HandlerFailed(f"handler {handler} fails on purpose")

        unsubscribe = (
            self.sdk.on_lifecycle(receive) if event_type is None else self.sdk.on_lifecycle(event_type, receive)
        )
        self._handlers[handler] = unsubscribe

    def unsubscribe(self, handler: Any) -> None:
        unsubscribe = self._handlers.pop(handler, None)
        if unsubscribe is not None:
            unsubscribe()

    def events(self, handler: Any = None) -> list[Any]:
        chosen = (
            self._deliveries if handler is None else [d["event"] for d in self._deliveries if d["handler"] == handler]
        )
        return json.loads(json.dumps(chosen))

    def diagnostics(self) -> list[str]:
        return list(self._diagnostics.lines)

    async def close(self) -> None:
        for task, _ in self._ops.values():
            task.cancel()
        with contextlib.suppress(Exception):
            await self.sdk.force_stop()
        self.pipe.close()
        logging.getLogger("copilot").removeHandler(self._diagnostics)


class CopilotLifecycle:
    """The implementation object: the Python SDK's client, for LIFE."""

    spec_version = SPEC_VERSION
    claims: Collection[str] = frozenset({"life"})
    adds = ADDS
    name = f"{LIBRARY} CopilotClient (Python) over an in-memory runtime pipe"

    @property
    def version(self) -> str:
        return library_version(LIBRARY)

    async def open_lifecycle_client(self, env: Environment) -> Client:
        import copilot.generated.session_events
        import copilot.session  # noqa: F401 - imported now, not inside the first create_session
        from copilot import CopilotClient
        from copilot.client import RuntimeConnection

        pipe = RuntimePipe()

        class PipedClient(CopilotClient):  # type: ignore[misc]
            async def _start_cli_server(self) -> None:
                self._process = pipe  # the one override: the runtime is the in-memory pipe

        diagnostics = _Diagnostics()
        logging.getLogger("copilot").addHandler(diagnostics)
        # An explicit runtime path, never executed: without one the constructor downloads the runtime.
        sdk = PipedClient(connection=RuntimeConnection.for_stdio(path=NO_RUNTIME))
        await sdk.start()
        return Client(sdk, pipe, diagnostics)

    def __repr__(self) -> str:
        return "CopilotLifecycle()"


client = CopilotLifecycle()
