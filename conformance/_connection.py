"""One adapter process, its three pipes, and the requests waiting for replies.

The kit never blocks on the adapter, and a request costs what the pipe costs:

* the thread that waits for a reply does the reading and writing itself, with ``poll`` (and
  ``select`` while a write is pending) on non-blocking pipes: no hand-off to another thread per
  request, and a full stdin pipe (an adapter that stopped reading) or a silent stdout is a
  timeout, never a hang;
* the requests a test sends together (a concurrency test) go out in one write;
* one daemon thread reads stderr continuously into a bounded tail, so a flood cannot fill the
  pipe and stall the adapter, and a crash can be shown with its last words.

The first thing that goes wrong — an exit, a line that is not a reply, an unknown
id, a timeout — kills the process and fails every waiting request with the same
:class:`ImplementationFault`; the connection is then *dead* and says why on every use.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import os
import select
import subprocess
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from conformance._protocol import (
    ProtocolViolation,
    check_reply,
    decode_line,
    duplicate_member,
    encode_line,
    request_bound_problem,
    schema_problems,
)
from conformance._traceback import kit_frame
from conformance.errors import ImplementationFault, KitError

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_LINE = 64 * 1024 * 1024  # a reply longer than this is a protocol error, not an out-of-memory
TAIL_BYTES = 8192
TAIL_LINES = 30
CHUNK = 1 << 16


class _Tail:
    """The last bytes written to stderr; older bytes are counted, not kept."""

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self.total = 0
        self._lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self._lock:
            self.total += len(chunk)
            self._chunks.append(chunk)
            self._size += len(chunk)
            while self._size - len(self._chunks[0]) >= TAIL_BYTES:
                self._size -= len(self._chunks.popleft())

    def text(self) -> str:
        with self._lock:
            data = b"".join(self._chunks)[-TAIL_BYTES:]
            total = self.total
        if not total:
            return "(the adapter wrote nothing to stderr)"
        lines = data.decode("utf-8", "replace").splitlines()[-TAIL_LINES:]
        dropped = "" if total <= len(data) else f" of {total} bytes"
        return f"adapter stderr (last {len(lines)} lines{dropped}):\n" + "\n".join("  | " + ln for ln in lines)


class Connection:
    """A running adapter process with request/reply matching by id."""

    def __init__(self, argv: Sequence[str], *, debug: bool = False) -> None:
        self.argv = list(argv)
        self.debug = debug
        self.proc = subprocess.Popen(  # noqa: S603 - the user names the command to test on purpose
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.fault: ImplementationFault | None = None
        self.trace: list[tuple[str, bytes]] | None = None  # ("->"|"<-", line) when someone wants a transcript
        #: Areas (``hist``, ``store``, ...) this process has answered an operation of: the first
        #: call into any other gets the startup timeout (spec/contract.md § Timeouts and faults).
        self.started_areas: set[str] = set()
        self._pending: dict[int, tuple[str, concurrent.futures.Future[dict[str, Any]]]] = {}
        self._lock = threading.Lock()  # the pending requests and the outgoing bytes
        self._io = threading.Lock()  # one thread at a time reads and writes the pipes
        self._ids = itertools.count(0)
        self._tail = _Tail()
        self._stdin = self.proc.stdin.fileno()
        self._stdout = self.proc.stdout.fileno()
        os.set_blocking(self._stdin, False)
        os.set_blocking(self._stdout, False)
        self._replies = select.poll()  # stdout only: one registration, not a descriptor set per wait
        self._replies.register(self._stdout, select.POLLIN | select.POLLHUP | select.POLLERR)
        self._outgoing = bytearray()  # request lines not yet taken by the pipe
        self._incoming = bytearray()  # the start of a reply line not yet complete
        self._drainer = threading.Thread(target=self._drain, name=f"adapter-stderr-{self.proc.pid}", daemon=True)
        self._drainer.start()

    # -- sending -------------------------------------------------------------------
    def send(self, op: str, args: dict[str, Any], instance: str | None = None) -> concurrent.futures.Future[Any]:
        """Queue one request; :meth:`wait` writes it (with any others queued) and reads its reply.

        The future resolves to the reply object or an :class:`ImplementationFault`.
        """
        future: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        with self._lock:
            rid = next(self._ids)
            message: dict[str, Any] = {"id": rid, "op": op}
            if instance is not None:
                message["instance"] = instance
            message["args"] = args
            try:
                line = encode_line(message)
            except (TypeError, ValueError) as exc:
                msg = f"the kit cannot encode {op} as JSON: {exc}"
                raise KitError(msg) from None
            if self.debug:
                problems = schema_problems("request", message)
                if problems:
                    msg = f"the kit built a request that breaks schemas/protocol/request.schema.json: {problems}"
                    raise KitError(msg)
                bound = request_bound_problem(line, message)
                if bound:
                    msg = f"the kit built {op} request beyond the protocol's bounds: {bound}"
                    raise KitError(msg)
            if self.fault is not None:
                future.set_exception(self.fault)
                return future
            self._pending[rid] = (op, future)
            self._outgoing += line
            if self.trace is not None:
                self.trace.append(("->", line))
        return future

    def wait(self, futures: Sequence[concurrent.futures.Future[Any]], timeout: float) -> list[dict[str, Any]]:
        """Every reply, in order; a timeout kills the adapter and raises its fault."""
        deadline = time.monotonic() + timeout
        with self._io:
            while self.fault is None and not all(f.done() for f in futures):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._pump(left)
        not_done = [f for f in futures if not f.done()]
        if not_done:
            with self._lock:
                late = [f"{rid} ({op})" for rid, (op, fut) in self._pending.items() if fut in not_done]
            if self._outgoing:
                what = f"the adapter did not read request {', '.join(late)} from its stdin within {timeout:g} s"
            else:
                what = f"the adapter did not answer request {', '.join(late)} within {timeout:g} s"
            self.die(f"{what} (--conformance-timeout)")
        return [future.result() for future in futures]

    # -- the pipes -------------------------------------------------------------------
    def _pump(self, timeout: float) -> None:
        """Write what is queued and read what has come, waiting at most ``timeout`` for either."""
        self._write()
        if not self._outgoing:  # the usual case: the request went out whole, wait for the reply
            try:
                ready = self._replies.poll(max(1, int(timeout * 1000)))
            except (OSError, ValueError):
                ready = [(self._stdout, select.POLLIN)]
            if ready:
                self._read()
            return
        try:
            readable, writable, _ = select.select([self._stdout], [self._stdin], [], timeout)
        except (OSError, ValueError):
            readable, writable = [self._stdout], []
        if writable:
            self._write()
        if readable:
            self._read()

    def _write(self) -> None:
        if not self._outgoing:
            return
        try:
            written = os.write(self._stdin, self._outgoing)
        except BlockingIOError:
            return  # the pipe is full: the adapter is busy, or stopped reading (a timeout says which)
        except OSError:
            # Its stdin is closed: the adapter is gone or going; reading its stdout says how.
            self._outgoing.clear()
            return
        del self._outgoing[:written]

    def _read(self) -> bool:
        """Read what stdout has now and act on each complete line; whether there may be more."""
        try:
            chunk = os.read(self._stdout, CHUNK)
        except BlockingIOError:
            return False
        except OSError:
            chunk = b""
        if not chunk:
            if self._incoming:
                partial = _show(bytes(self._incoming))
                self.die(f"the adapter wrote a partial line on stdout and then closed it: {partial}")
            else:
                self._exited()
            return False
        self._incoming += chunk
        while self.fault is None:
            end = self._incoming.find(b"\n")
            if end < 0:
                if len(self._incoming) >= MAX_LINE:
                    self.die(f"the adapter wrote a line longer than {MAX_LINE} bytes on stdout")
                break
            line = bytes(self._incoming[: end + 1])
            del self._incoming[: end + 1]
            self._line(line)
        return self.fault is None

    def _line(self, line: bytes) -> None:
        if self.trace is not None:
            self.trace.append(("<-", line))
        if not line.strip():
            return  # blank lines are tolerated
        try:
            self._deliver(decode_line(line), line)
        except ProtocolViolation as exc:
            hint = " (stdout carries protocol messages only; write logs to stderr)" if exc.not_json else ""
            self.die(f"the adapter broke the protocol on stdout: {exc}: {_show(line)}{hint}")

    def _drain(self) -> None:
        stderr = self.proc.stderr
        assert stderr is not None
        fd = stderr.fileno()
        with contextlib.suppress(OSError, ValueError):
            while chunk := os.read(fd, CHUNK):
                self._tail.add(chunk)

    def _deliver(self, message: dict[str, Any], line: bytes) -> None:
        check_reply(message)
        if self.debug:
            problems = schema_problems("reply", message)
            if problems:
                msg = f"the reply breaks schemas/protocol/reply.schema.json: {problems}"
                raise ProtocolViolation(msg)
            if name := duplicate_member(line):
                msg = f"an object in the reply has two members named {name!r}; JSON readers disagree on which counts"
                raise ProtocolViolation(msg)
        with self._lock:
            entry = self._pending.pop(message["id"], None)
            known = sorted(self._pending)
        if entry is None:
            msg = f"reply to id {message['id']}, which no request waiting for a reply has (waiting: {known or 'none'})"
            raise ProtocolViolation(msg)
        entry[1].set_result(message)

    def _exited(self) -> None:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.die("the adapter closed its stdout but kept running")
            return
        self._drainer.join(timeout=2)  # let stderr drain so the tail holds the last words
        with self._lock:
            waiting = [f"{rid} ({op})" for rid, (op, _) in self._pending.items()]
        during = f" while request {', '.join(waiting)} waited for a reply" if waiting else ""
        self.die(f"the adapter exited with {_status(code)}{during}")

    # -- the end -------------------------------------------------------------------
    def die(self, what: str) -> None:
        """Record the first fault, kill the process, and fail every waiting request with it."""
        with self._lock:
            first = self.fault is None
            if first:
                self.fault = ImplementationFault(f"{what} [adapter: {' '.join(self.argv)}]")
            self._outgoing.clear()
        if first:
            self._kill()
            self._drainer.join(timeout=2)
            assert self.fault is not None
            self.fault.detail = self._tail.text()
            self.fault.args = (f"{self.fault.what}\n{self.fault.detail}",)
        with self._lock:
            pending, self._pending = self._pending, {}
        for _, future in pending.values():
            if not future.done():
                future.set_exception(self.fault)

    def _kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    @property
    def alive(self) -> bool:
        """Whether the adapter still runs and has said nothing wrong; an exit between requests counts."""
        with self._io:
            exited = self.fault is None and self.proc.poll() is not None
            while self._read():  # what it wrote since the last reply: a stray line, or its last words
                pass
            if exited and self.fault is None:  # gone, though something else holds its stdout open
                self._exited()
        return self.fault is None

    def close(self, grace: float = 3.0) -> None:
        """End the process politely (stdin closed), then firmly; never raises."""
        if self.fault is None:
            with self._lock:
                self.fault = ImplementationFault("the kit closed the adapter")
            with contextlib.suppress(OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()  # the adapter's signal to exit
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=grace)
        self._kill()
        self._drainer.join(timeout=2)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()


def _show(line: bytes) -> str:
    text = line[:200].decode("utf-8", "replace").rstrip("\n")
    return repr(text) + ("..." if len(line) > 200 else "")


def _status(code: int) -> str:
    if code < 0:
        try:
            import signal

            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"status {code}"
