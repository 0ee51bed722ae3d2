"""The in-process transport: wire operations become calls on Python objects.

Threading model, stated in spec/contract.md:

* Every call runs on one thread that runs an asyncio event loop while the call lasts, so a
  synchronous implementation always sees the same thread and an asynchronous one always sees
  the same loop.  That thread is the test's own thread when it is the process's main thread
  (the usual case: a call then costs a few microseconds of kit work, not a thread hand-off);
  otherwise it is a dedicated kit thread.
* Inside :meth:`InProcessTransport.concurrently`, synchronous methods run on a thread pool
  (truly in parallel; daemon threads, so that a hung one cannot keep the process alive) and
  coroutines run interleaved on the loop.
* A call that does not return within the timeout is an :class:`ImplementationFault`
  ("hung"); the transport is then unusable and says so on every later call.  On the main
  thread a ``SIGALRM`` timer interrupts the call; on a dedicated thread the call is abandoned.
  An alarm that lands where Python ignores exceptions (a finalizer, a ``gc`` callback) never
  reaches ``sys.unraisablehook``'s owner; the timer fires again until the call ends.
* The first call into each area in a process may take ``startup_timeout`` (the plugin gives it
  three times the timeout): it is where an adapter imports its library and opens its backend,
  which on a loaded machine can take longer than any one operation should
  (spec/contract.md § Timeouts and faults).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import queue
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from conformance._binding import concurrent_calls
from conformance._traceback import kit_frame
from conformance._values import apply_change, materialize
from conformance.areas import BINDINGS
from conformance.errors import ConformanceError, ImplementationError, ImplementationFault, KitError

try:  # ``signal.signal`` converts to and from enums, most of the cost of a call's timer; this does not
    from _signal import signal as _set_handler  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - an interpreter without the C module
    _set_handler = signal.signal

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from conformance._binding import AreaBinding
    from conformance.contract import Environment


class InProcessTransport:
    """Runs operations against a Python implementation object."""

    def __init__(
        self, impl: Any, env: Environment, *, timeout: float = 10.0, startup_timeout: float | None = None
    ) -> None:
        self.impl = impl
        self.env = env
        self.timeout = timeout
        self.startup_timeout = max(timeout, startup_timeout or 0.0)
        self._pool = _DaemonPool(max_workers=16, name="impl")
        self._areas: dict[str, AreaBinding] = {}
        self._broken: str | None = None
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._loop.set_default_executor(_DaemonPool(max_workers=16, name="impl-default"))
        self._owner = threading.get_ident() if _can_run_here() else None
        self._thread: threading.Thread | None = None
        if self._owner is None:
            self._thread = threading.Thread(target=self._loop.run_forever, name="conformance-loop", daemon=True)
            self._thread.start()
        self._armed = False
        self._fired = False
        self._shielded = False
        self._outer_hook: Any = sys.unraisablehook
        #: The arguments the implementation received and the result it returned, for the most
        #: recent operation called alone: what ``mutate`` changes, as a caller would.
        self._last: dict[str, Any] = {}

    def _run(self, coro: Any, what: str, *, areas: Sequence[str] = ()) -> Any:
        if self._broken:
            coro.close()
            raise ImplementationFault(f"the implementation is unusable: {self._broken}")
        cold = [(type(self.impl), area) for area in areas if (type(self.impl), area) not in _STARTED]
        timeout = self.startup_timeout if cold else self.timeout
        try:
            if self._owner is not None:
                result = self._run_here(coro, what, timeout)
            else:
                result = self._run_on_thread(coro, what, timeout)
        except ConformanceError as exc:
            if isinstance(exc, ImplementationError) and not self._broken:
                _STARTED.update(cold)  # it answered: the area has started, whatever the answer
            # Raised in the loop's frames, which are the kit's; the implementation's are in its cause.
            raise exc.with_traceback(None) from exc.__cause__
        _STARTED.update(cold)
        return result

    def _run_on_thread(self, coro: Any, what: str, timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise self._hung(what, timeout) from None

    def _run_here(self, coro: Any, what: str, timeout: float) -> Any:
        if threading.get_ident() != self._owner:
            coro.close()
            msg = "the in-process transport was called from a thread other than the one that opened it"
            raise KitError(msg)
        if timeout >= _NEVER:
            return self._loop.run_until_complete(coro)
        started = time.monotonic()
        self._fired = False
        pending, interval = 0.0, 0.0
        previous = _set_handler(signal.SIGALRM, self._on_alarm)
        self._outer_hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable
        try:
            try:
                self._armed = True  # before the timer starts, and inside the handling of what it raises
                # It fires again every half second until disarmed: a _Hung raised where Python
                # ignores exceptions (a weakref callback, a __del__) must not end the watch.
                pending, interval = signal.setitimer(signal.ITIMER_REAL, timeout, _REFIRE)
                result = self._loop.run_until_complete(coro)
            finally:
                self._armed = False
                signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException:
            if not self._fired:
                raise
            coro.close()  # in case the time ran out before the loop started it
            result = None
        finally:
            _set_handler(signal.SIGALRM, previous)
            sys.unraisablehook = self._outer_hook
            if pending:  # someone else's timer (pytest-timeout, say): give it back what is left of it
                left = pending - (time.monotonic() - started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), interval)
        if self._fired:
            raise self._hung(what, timeout)
        return result

    def _on_alarm(self, signum: int, frame: object) -> None:
        if self._armed:
            self._fired = True
            if not self._shielded:
                raise _Hung

    def _unraisable(self, unraisable: Any) -> None:
        """``sys.unraisablehook`` while a call is timed: the alarm is nobody else's business.

        A ``_Hung`` raised where Python ignores exceptions (a ``__del__``, a weakref or ``gc``
        callback) reaches this hook instead of the call; it is dropped, and the alarm's next
        firing ends the call.  Anything else goes to the hook that was there before (pytest's,
        say), shielded from the alarm: an alarm raised inside that hook would turn the
        implementation's hang into a failure of the hook, reported against whichever test runs.
        """
        self._shielded = True
        try:
            if not isinstance(unraisable.exc_value, _Hung):
                self._outer_hook(unraisable)
        finally:
            self._shielded = False

    def _hung(self, what: str, timeout: float) -> ImplementationFault:
        self._broken = f"{what} hung for more than {timeout:g} s"
        return ImplementationFault(self._broken)

    def _binding(self, area: str) -> AreaBinding:
        binding = self._areas.get(area)
        if binding is None:
            cls = BINDINGS.get(area)
            if cls is None:
                msg = f"the kit has no area {area!r}"
                raise KitError(msg)
            binding = self._areas[area] = cls(self.impl, self.env, self._pool)
        return binding

    async def _dispatch(self, op: str, args: dict[str, Any]) -> Any:
        area, _, name = op.partition(".")
        return await self._binding(area).dispatch(name, args)

    def call(self, op: str, args: dict[str, Any]) -> Any:
        self._last = {}
        args = materialize(args)  # the very objects the caller holds, unless stand-ins were replaced
        result = _json_result(op, self._run(self._dispatch(op, args), op, areas=(op.partition(".")[0],)))
        self._last = {"args": args, "result": result}
        return result

    def mutate(self, of: str, path: list[Any], change: dict[str, Any]) -> None:
        """Change the arguments or the result of the most recent operation, in place, as a caller would.

        In process these are the caller's own objects (the kit passes its objects and gets the
        implementation's back), so this is what a test doing it by hand would do; the subprocess
        bridge uses it for ``kit.mutate``.
        """
        if of not in self._last:
            msg = f"kit.mutate of {of!r}: no operation has completed since the last mutation point"
            raise KitError(msg)
        try:
            apply_change(self._last[of], path, change)
        except (LookupError, TypeError, ValueError) as exc:
            msg = f"kit.mutate of the {of} at {path!r}: {exc}"
            raise KitError(msg) from None

    def concurrently(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        self._last = {}

        async def one(op: str, args: dict[str, Any]) -> Any:
            concurrent_calls.set(True)
            try:
                return await self._dispatch(op, materialize(args))
            except ImplementationError as exc:
                return exc

        async def together() -> list[Any]:
            return list(await asyncio.gather(*(one(op, args) for op, args in calls)))

        areas = sorted({op.partition(".")[0] for op, _ in calls})
        results: list[Any] = self._run(together(), f"{len(calls)} concurrent operations", areas=areas)
        return [
            r if isinstance(r, ImplementationError) else _json_result(op, r)
            for (op, _), r in zip(calls, results, strict=True)
        ]

    def advance_clock(self, seconds: float) -> None:
        advance = getattr(self.env.clock, "advance", None)
        if advance is None:
            msg = "the environment's clock cannot be advanced"
            raise KitError(msg)
        advance(seconds)

    def close(self) -> None:
        """Close every area (the implementation's teardown); calling it again does nothing."""
        if self._closed:
            return
        self._closed = True

        async def close_all() -> None:
            try:
                for binding in self._areas.values():
                    await binding.aclose()
            finally:
                await _finish_leftovers()

        try:
            if not self._broken:
                self._run(close_all(), "teardown")
        finally:
            if self._thread is None:
                if self._broken:  # the interrupted call's task stays pending: that was reported already
                    self._loop.set_exception_handler(lambda _loop, _context: None)
                self._loop.close()
            elif not self._broken:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=self.timeout)
                self._loop.close()
            self._pool.shutdown(wait=not self._broken, cancel_futures=True)
            self._areas.clear()


class _DaemonPool(concurrent.futures.ThreadPoolExecutor):
    """The threads that run synchronous methods in :meth:`InProcessTransport.concurrently`, and the
    loop's default executor (``asyncio.to_thread``, ``run_in_executor(None, …)``).

    A thread pool like :class:`concurrent.futures.ThreadPoolExecutor` (up to ``max_workers``
    threads, started as needed, idle ones reused), except that its threads are daemons. The
    standard pool's threads are joined when the interpreter exits, so a synchronous method that
    never returns (a deadlock between two concurrent calls, a library's SQLite call handed to
    ``asyncio.to_thread`` and waiting on a lock) kept the kit's process alive forever after it had
    reported the hang. A daemon thread is left behind instead, as the hung call already was.

    It derives from ``ThreadPoolExecutor`` only because asyncio accepts nothing else as a default
    executor; none of that class's own machinery is used (``submit`` and ``shutdown`` are these).
    """

    def __init__(self, max_workers: int, name: str) -> None:  # no super().__init__(): see the class docstring
        self._max = max_workers
        self._name = name
        self._work: queue.SimpleQueue[tuple[concurrent.futures.Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._pool_threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._shut = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            if self._shut:
                msg = "the implementation's thread pool is shut down"
                raise RuntimeError(msg)
            self._work.put((future, functools.partial(fn, *args, **kwargs)))
            if not self._idle.acquire(blocking=False) and len(self._pool_threads) < self._max:
                name = f"{self._name}_{len(self._pool_threads)}"
                thread = threading.Thread(target=self._serve, name=name, daemon=True)
                thread.start()
                self._pool_threads.append(thread)
        return future

    def _serve(self) -> None:
        while (work := self._work.get()) is not None:
            future, call = work
            del work
            if future.set_running_or_notify_cancel():
                try:
                    result = call()
                except BaseException as exc:  # the caller's future carries whatever it was
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del future, call
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:  # Executor's signature
        with self._lock:
            self._shut = True
            if cancel_futures:
                while True:
                    try:
                        work = self._work.get_nowait()
                    except queue.Empty:
                        break
                    if work is not None:
                        work[0].cancel()
            for _ in self._pool_threads:
                self._work.put(None)
        if wait:
            for thread in self._pool_threads:
                thread.join()


class _Hung(BaseException):
    """Raised into a call on the main thread when its time is up; never escapes the transport."""


#: A timeout this long (the subprocess bridge's) means "never time out": no timer is set.
_NEVER = 3600.0
#: Seconds between further alarms once an operation's time is up (see _run_here).
_REFIRE = 0.5
#: The (implementation type, area) pairs that have answered a call in this process: warm.
_STARTED: set[tuple[type, str]] = set()


def _can_run_here() -> bool:
    """Whether calls can run on the calling thread, timed by ``SIGALRM`` (the main thread, on POSIX)."""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and asyncio._get_running_loop() is None
    )


async def _finish_leftovers() -> None:
    """Cancel the tasks the implementation left running and close its async generators."""
    current = asyncio.current_task()
    leftovers = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in leftovers:
        task.cancel()
    if leftovers:
        await asyncio.wait(leftovers, timeout=1.0)
    await asyncio.get_running_loop().shutdown_asyncgens()


def _json_result(op: str, result: Any) -> Any:
    """The result itself (not a copy: HIST-028 looks for aliasing), or a crash if JSON cannot carry it.

    The same test as the subprocess bridge's (``json.dumps`` without NaN), so that both transports
    call a set, a datetime or a NaN in a result the same thing: a crash, not a wrong answer.
    """
    if result is None or type(result) in (str, int, bool):
        return result
    try:
        json.dumps(result, allow_nan=False)
    except (TypeError, ValueError) as exc:
        msg = f"{op}: the result is not JSON ({exc}): {type(result).__name__}"
        raise ImplementationFault(msg) from None
    return result
