"""The subprocess transport: operations as JSON lines to an adapter in any language.

``--impl="exec:COMMAND"`` starts COMMAND (split like a POSIX shell would, never run
through one) once per pytest process.  Every driver gets its own *instance* in
that process (``kit.begin`` … ``kit.end``), so the per-test isolation of the
in-process path holds, and the Hypothesis state machines can make many cheap
drivers per test.  When the adapter crashes, hangs or breaks the protocol, the
drivers on it fail with :class:`ImplementationFault` and the next driver starts
a new process.  spec/adapter-protocol.md is the full description.
"""

from __future__ import annotations

import itertools
import shlex
import threading
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from conformance._connection import Connection
from conformance._loading import ImplSpecError, info_of
from conformance._protocol import BAD_REQUEST, PROTOCOL_VERSION, encode_values, hello_args, schema_problems
from conformance._traceback import kit_frame
from conformance.errors import ImplementationError, ImplementationFault, KitError, RootCause

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from conformance.agent_service import AgentServiceSim
    from conformance.driver import ImplementationInfo

PREFIX = "exec:"
STARTUP_TIMEOUT = 30.0
#: When the adapter process died in each of this many tests in a row, the kit stops restarting it:
#: every later test would only repeat the crash (and its stderr) once more.  A crash that only some
#: operations cause lets the tests between pass, and the count starts again.
GIVE_UP_AFTER = 3
FORM = 'exec:COMMAND, e.g. --impl="exec:node examples/node-adapter/adapter.mjs"'


def command_of(target: str) -> list[str]:
    """The argv an ``exec:`` target names, or :class:`ImplSpecError` showing the right form."""
    try:
        argv = shlex.split(target.strip().removeprefix(PREFIX))
    except ValueError as exc:
        msg = f"--impl={target!r}: cannot split the command ({exc}); quote it as a shell would: {FORM}"
        raise ImplSpecError(msg) from None
    if not argv:
        msg = f"--impl={target!r} names no command; give {FORM}"
        raise ImplSpecError(msg)
    return argv


class AdapterProcess:
    """The adapter under test: its identity (from the handshake) and its current process."""

    def __init__(
        self, target: str, *, timeout: float, debug: bool = False, startup_timeout: float | None = None
    ) -> None:
        self.target = target
        self.argv = command_of(target)
        self.timeout = timeout
        #: The first area operation of each area in each process may take this long (the adapter
        #: imports its library and opens its backend there; spec/contract.md § Timeouts and faults).
        self.startup_timeout = max(timeout, startup_timeout or 0.0)
        self.debug = debug
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._instances = itertools.count(1)
        self.starts = 0
        self.last_death = ""
        self.dying_tests = 0  # consecutive tests in which the process died
        self._dead_at_start = False
        self._restarts_in_test = 0
        self.info = self._start_checked()

    def _start(self) -> tuple[Connection, dict[str, Any]]:
        try:
            conn = Connection(self.argv, debug=self.debug)
        except OSError as exc:
            msg = f"--impl={self.target}: cannot start {self.argv[0]!r}: {exc.strerror or exc}. Is it on PATH? ({FORM})"
            raise ImplSpecError(msg) from None
        self.starts += 1
        # Starting a runtime (a JVM, .NET) takes longer than answering a request.
        reply = conn.wait([conn.send("kit.hello", hello_args())], max(self.timeout, STARTUP_TIMEOUT))[0]
        problem = _hello_problem(reply)
        if problem:
            conn.die(f"the adapter failed the handshake: {problem}")
            assert conn.fault is not None
            raise conn.fault
        return conn, reply["result"]

    def _start_checked(self) -> ImplementationInfo:
        try:
            conn, hello = self._start()
        except ImplementationFault as exc:
            raise ImplSpecError(f"--impl={self.target}: {exc}") from None
        try:
            info = info_of(SimpleNamespace(**hello["implementation"]), self.target)
        except ImplSpecError:
            conn.close()
            raise
        self._conn = conn
        #: The adapter's protocol MINOR: the kit sends nothing a later MINOR introduced.
        self.minor = _minor(hello["protocol"])
        return info

    def connection(self) -> Connection:
        """The live process, started afresh (and checked to be the same implementation) if the last one died."""
        with self._lock:
            if self._conn is not None and self._conn.alive:
                return self._conn
            if self._conn is not None:
                fault = self._conn.fault
                self.last_death = fault.what.splitlines()[0] if fault is not None else "it exited"
                self._conn.close()
            if self.dying_tests >= GIVE_UP_AFTER:
                msg = (
                    f"the adapter process died in each of {self.dying_tests} tests in a row, so the kit stops "
                    f"restarting it; the last time: {self.last_death}"
                )
                raise RootCause(msg, scope="adapter")
            self._restarts_in_test += 1
            conn, hello = self._start()
            impl = hello["implementation"]
            if (impl["name"], impl["version"], frozenset(impl["claims"])) != (
                self.info.name,
                self.info.version,
                self.info.claims,
            ):
                conn.die(f"the restarted adapter says it is {impl}, not {self.info.name} {self.info.version}")
                assert conn.fault is not None
                raise conn.fault
            self._conn = conn
            return conn

    def begin_test(self) -> None:
        with self._lock:
            self._dead_at_start = self._conn is None or not self._conn.alive
            self._restarts_in_test = 0

    def end_test(self) -> None:
        """Count the test as one in which the process died, or start the count again."""
        with self._lock:
            dead_now = self._conn is None or not self._conn.alive
            died = dead_now or self._restarts_in_test > (1 if self._dead_at_start else 0)
            self.dying_tests = self.dying_tests + 1 if died else 0

    def transport(self, storage_dir: Path, agent_service: AgentServiceSim | None = None) -> SubprocessTransport:
        """A fresh, isolated instance over ``storage_dir`` (and, for ID, the kit's agent service)."""
        conn = self.connection()
        instance = f"i{next(self._instances)}"
        transport = SubprocessTransport(conn, instance, self.timeout, self.minor, self.startup_timeout)
        begin: dict[str, Any] = {"storage_dir": str(storage_dir)}
        if agent_service is not None and self.info.claimed("id") and self.minor >= INTRODUCED_IN["id"]:
            begin["agent_service_url"] = agent_service.url
        transport.kit_op("kit.begin", begin)
        return transport

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()


def _minor(protocol: str) -> int:
    return int(protocol.split(".")[1])


#: The protocol MINOR that introduced each kit operation after 1.0 (spec/adapter-protocol.md § Versions),
#: and each area whose operations need something of a later MINOR: ``id`` needs the kit's agent service,
#: whose address ``kit.begin`` carries from 1.3 (``agent_service_url``).
INTRODUCED_IN = {"kit.mutate": 1, "id": 3}


def _hello_problem(reply: dict[str, Any]) -> str:
    if "error" in reply:
        error = reply["error"]
        return f"it answered kit.hello with {error['code']}: {error['message']}"
    result = reply["result"]
    problems = schema_problems("handshake", result, "hello.result")
    if problems:
        return "its kit.hello result breaks schemas/protocol/handshake.schema.json: " + "; ".join(problems)
    major = result["protocol"].split(".")[0]
    if major != PROTOCOL_VERSION.split(".")[0]:
        return (
            f"it speaks adapter protocol {result['protocol']}, this kit speaks {PROTOCOL_VERSION}; "
            "use a kit and an adapter of the same protocol major version"
        )
    return ""


class SubprocessTransport:
    """One driver's instance inside the adapter process."""

    def __init__(
        self,
        conn: Connection,
        instance: str,
        timeout: float,
        minor: int = _minor(PROTOCOL_VERSION),
        startup_timeout: float | None = None,
    ) -> None:
        self._conn = conn
        self.instance = instance
        self.timeout = timeout
        self.startup_timeout = max(timeout, startup_timeout or 0.0)
        self.minor = minor
        self._closed = False

    def _deadline(self, ops: Sequence[str]) -> tuple[float, set[str]]:
        """The timeout for these area operations, and the areas they are the first call into.

        The first call into an area in an adapter process gets the startup timeout; a process
        started afresh after a death starts its areas afresh too (its ``Connection`` is new).
        """
        cold = {op.partition(".")[0] for op in ops} - self._conn.started_areas
        return (self.startup_timeout if cold else self.timeout), cold

    def _check_alive(self) -> None:
        fault = self._conn.fault
        if fault is not None:
            raise ImplementationFault(f"the adapter is unusable in this test: {fault.what}", fault.detail)

    def _answer(self, op: str, reply: dict[str, Any]) -> Any:
        if "result" in reply:
            return reply["result"]
        error = reply["error"]
        if error["code"] == BAD_REQUEST:
            msg = (
                f"{op}: the adapter says the kit sent a malformed request: {error['message']} "
                "(if --conformance-debug-protocol finds the request valid, the adapter is wrong)"
            )
            raise KitError(msg)
        return ImplementationError(error["code"], error["message"], op=op, exc_type=error.get("type", ""))

    def _send(self, op: str, args: dict[str, Any]) -> Any:
        return self._conn.send(op, encode_values(args, self.minor), self.instance)

    def call(self, op: str, args: dict[str, Any]) -> Any:
        self._check_alive()
        self._check_minor(op)
        timeout, cold = self._deadline([op])
        reply = self._conn.wait([self._send(op, args)], timeout)[0]
        self._conn.started_areas.update(cold)  # it answered: the area has started, whatever the answer
        answer = self._answer(op, reply)
        if isinstance(answer, ImplementationError):
            raise answer
        return answer

    def _check_minor(self, op: str) -> None:
        """An area operation that needs a later protocol MINOR than the adapter's is ``unsupported``."""
        area = op.partition(".")[0]
        if area in INTRODUCED_IN and self.minor < INTRODUCED_IN[area]:
            msg = f"the adapter speaks protocol 1.{self.minor}; the {area} area needs 1.{INTRODUCED_IN[area]}"
            raise ImplementationError("unsupported", msg, op=op)

    def concurrently(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Write every request before reading any reply; the adapter may answer in any order."""
        self._check_alive()
        for op, _ in calls:
            self._check_minor(op)
        timeout, cold = self._deadline([op for op, _ in calls])
        futures = [self._send(op, args) for op, args in calls]
        replies = self._conn.wait(futures, timeout)
        self._conn.started_areas.update(cold)
        return [self._answer(op, reply) for (op, _), reply in zip(calls, replies, strict=True)]

    def mutate(self, of: str, path: list[Any], change: dict[str, Any]) -> None:
        """``kit.mutate``: the adapter changes its own objects of the instance's last area operation.

        An adapter of protocol 1.0 is never sent it: the driver gets ``unsupported``, which makes
        the requirement not-testable, as it does when an adapter answers ``unsupported``; any
        other error is the adapter failing a protocol operation.
        """
        self._check_alive()
        op = "kit.mutate"
        if self.minor < INTRODUCED_IN[op]:
            msg = f"the adapter speaks protocol 1.{self.minor}; {op} needs 1.{INTRODUCED_IN[op]}"
            raise ImplementationError("unsupported", msg, op=op)
        reply = self._conn.wait([self._conn.send(op, {"of": of, "path": path, **change}, self.instance)], self.timeout)
        answer = self._answer(op, reply[0])
        if isinstance(answer, ImplementationError):
            if answer.kind == "unsupported":
                raise answer
            msg = f"the adapter refused {op} ({answer.kind}: {answer.message})"
            raise ImplementationFault(msg)

    def kit_op(self, op: str, args: dict[str, Any]) -> None:
        """A protocol operation: an error answer is the adapter breaking the protocol.

        Except for ``kit.end``: its error is the implementation's own teardown failing,
        an answer like any other (in process, ``backend.close()`` raising).
        """
        self._check_alive()
        reply = self._conn.wait([self._conn.send(op, args, self.instance)], self.timeout)[0]
        if "error" in reply and op == "kit.end":
            raise self._answer(op, reply)
        if "error" in reply:
            error = reply["error"]
            msg = f"the adapter refused {op} ({error['code']}: {error['message']}); every adapter implements it"
            raise ImplementationFault(msg)

    def advance_clock(self, seconds: float) -> None:
        if seconds < 0:
            msg = f"a clock only moves forward; advance_clock({seconds}) would move it back"
            raise KitError(msg)
        self.kit_op("kit.advance_clock", {"seconds": seconds})

    def close(self) -> None:
        """End the instance (the adapter closes everything it opened); nothing to do on a dead process."""
        if self._closed:
            return
        self._closed = True
        if self._conn.alive:
            self.kit_op("kit.end", {})
