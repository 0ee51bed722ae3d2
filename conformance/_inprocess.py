"""The in-process transport: wire operations become calls on Python objects.

Threading model, stated in spec/contract.md:

* Every call runs on one dedicated kit thread that also runs an asyncio event
  loop, so a synchronous implementation always sees the same thread and an
  asynchronous one always sees the same loop.
* Inside :meth:`InProcessTransport.concurrently`, synchronous methods run on a
  thread pool (truly in parallel) and coroutines run interleaved on the loop.
* A call that does not return within the timeout is an :class:`ImplementationFault`
  ("hung"); the transport is then unusable and says so on every later call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
import json
import threading
from typing import TYPE_CHECKING, Any, ClassVar

from conformance._traceback import kit_frame
from conformance._values import materialize
from conformance.contract import error_kind_of
from conformance.errors import ConformanceError, ImplementationError, ImplementationFault, KitError, RootCause

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from conformance.contract import Environment

_concurrent: contextvars.ContextVar[bool] = contextvars.ContextVar("concurrent", default=False)


class AreaBinding:
    """Base of each area's in-process operations (``op_<name>`` coroutines)."""

    area: ClassVar[str]
    factory_name: ClassVar[str]

    def __init__(self, impl: Any, env: Environment, pool: concurrent.futures.Executor) -> None:
        self.impl = impl
        self.env = env
        self._pool = pool
        self._root: Any = None
        self._opened: set[str] = set()

    async def invoke(self, fn: Callable[..., Any], *args: Any, answers: bool = True, **kwargs: Any) -> Any:
        """Call an implementation method, await it if needed, and translate what it raises.

        An ``Exception`` is an answer of the kind it maps to (spec/contract.md), unless the
        operation has no error answers (``answers=False``): then, like anything derived only from
        ``BaseException``, it is a crash.
        """
        op = getattr(fn, "__qualname__", repr(fn))
        try:
            if _concurrent.get() and not inspect.iscoroutinefunction(fn):
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))
            else:
                result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except (KeyboardInterrupt, asyncio.CancelledError):
            raise
        except Exception as exc:  # the implementation's own error: translate it to a kind
            if not answers:
                msg = f"{op} raised {type(exc).__name__}: {exc}; this operation has no error answers"
                raise ImplementationFault(msg) from exc
            raise ImplementationError(
                error_kind_of(exc), str(exc) or "(empty message)", op=op, exc_type=type(exc).__name__
            ) from exc
        except BaseException as exc:
            msg = f"{op} raised {type(exc).__name__}, which derives only from BaseException: not an answer"
            raise ImplementationFault(msg) from exc
        return result

    async def call_factory(self) -> Any:
        return await self.open_factory(self.factory_name)

    async def open_factory(self, factory_name: str) -> Any:
        """Call one of the implementation's factories for this area.

        On a test's first call, a factory that raises, or returns null, fails every test of the
        area the same way: that is a :class:`RootCause`, reported once.  Later calls (a restart)
        fail only the test that made them.
        """
        factory = getattr(self.impl, factory_name, None)
        if factory is None:
            msg = (
                f"the implementation claims {self.area!r} but has no {factory_name}() factory; "
                f"add `def {factory_name}(self, env): ...` (see conformance.areas.{self.area})"
            )
            raise ImplementationError("unsupported", msg, op=f"{self.area}.{factory_name}")
        first = factory_name not in self._opened
        self._opened.add(factory_name)
        call = f"{factory_name}(env)"
        try:
            result = await self.invoke(factory, self.env)
        except ImplementationError as exc:
            if not first or exc.kind == "unsupported":
                raise
            cause = f"{call} raised {exc.exc_type or exc.kind}: {exc.message}"
            raise RootCause(cause, scope=self.area) from exc.__cause__
        if result is None:
            msg = f"{call} returned None; it must return the object the {self.area} area works on"
            if first:
                raise RootCause(msg, scope=self.area)
            raise ImplementationFault(msg)
        return result

    @staticmethod
    def lookup(table: dict[str, Any], args: dict[str, Any], key: str) -> Any:
        try:
            return table[args[key]]
        except (KeyError, TypeError):
            msg = f"the kit referred to unknown {key} {args.get(key)!r}"
            raise KitError(msg) from None

    async def dispatch(self, name: str, args: dict[str, Any]) -> Any:
        handler = getattr(self, f"op_{name}", None)
        if handler is None:
            msg = f"no in-process operation {self.area}.{name}"
            raise KitError(msg)
        return await handler(args)

    async def root(self) -> Any:
        """The object the area's factory returned for this test, made on first use."""
        if self._root is None:
            self._root = await self.call_factory()
        return self._root

    async def aclose(self) -> None:
        """Close the factory's object (the test is over, or a restart); the next ``root()`` makes a new one."""
        root, self._root = self._root, None
        if root is not None:
            await self.invoke(root.close)


def _bindings() -> dict[str, type[AreaBinding]]:
    from conformance.areas import in_process_bindings

    return in_process_bindings()


class InProcessTransport:
    """Runs operations against a Python implementation object."""

    def __init__(self, impl: Any, env: Environment, *, timeout: float = 10.0) -> None:
        self.impl = impl
        self.env = env
        self.timeout = timeout
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="impl")
        self._areas: dict[str, AreaBinding] = {}
        self._broken: str | None = None
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="conformance-loop", daemon=True)
        self._thread.start()

    def _run(self, coro: Any, what: str) -> Any:
        if self._broken:
            coro.close()
            raise ImplementationFault(f"the implementation is unusable: {self._broken}")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(self.timeout)
        except ConformanceError as exc:
            # Raised on the loop thread: its frames there are the kit's; the implementation's are in its cause.
            raise exc.with_traceback(None) from exc.__cause__
        except concurrent.futures.TimeoutError:
            future.cancel()
            self._broken = f"{what} hung for more than {self.timeout:g} s"
            raise ImplementationFault(self._broken) from None

    def _binding(self, area: str) -> AreaBinding:
        binding = self._areas.get(area)
        if binding is None:
            cls = _bindings().get(area)
            if cls is None:
                msg = f"the kit has no area {area!r}"
                raise KitError(msg)
            binding = self._areas[area] = cls(self.impl, self.env, self._pool)
        return binding

    async def _dispatch(self, op: str, args: dict[str, Any]) -> Any:
        area, _, name = op.partition(".")
        return await self._binding(area).dispatch(name, materialize(args))

    def call(self, op: str, args: dict[str, Any]) -> Any:
        return _json_result(op, self._run(self._dispatch(op, args), op))

    def concurrently(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        async def one(op: str, args: dict[str, Any]) -> Any:
            _concurrent.set(True)
            try:
                return await self._dispatch(op, args)
            except ImplementationError as exc:
                return exc

        async def together() -> list[Any]:
            return list(await asyncio.gather(*(one(op, args) for op, args in calls)))

        results: list[Any] = self._run(together(), f"{len(calls)} concurrent operations")
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
            if not self._broken:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=self.timeout)
                self._loop.close()
            self._pool.shutdown(wait=not self._broken, cancel_futures=True)
            self._areas.clear()


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
