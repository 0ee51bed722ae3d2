"""The base of every area's in-process binding: wire operations become calls on Python objects.

An area module (``conformance.areas.<area>``) subclasses :class:`AreaBinding` with one
``op_<name>`` coroutine per wire operation; ``conformance.areas.BINDINGS`` lists them; the
in-process transport (``conformance._inprocess``) dispatches to them.  Kept apart from the
transport so that the areas and the transport do not import each other.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from typing import TYPE_CHECKING, Any, ClassVar

from conformance._traceback import kit_frame
from conformance.contract import error_kind_of
from conformance.errors import ImplementationError, ImplementationFault, KitError, RootCause

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    import concurrent.futures
    from collections.abc import Callable

    from conformance.contract import Environment

#: Set inside ``InProcessTransport.concurrently``: synchronous methods then run on the thread pool.
concurrent_calls: contextvars.ContextVar[bool] = contextvars.ContextVar("concurrent", default=False)


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
            if concurrent_calls.get() and not inspect.iscoroutinefunction(fn):
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))
            else:
                result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except (KeyboardInterrupt, GeneratorExit, asyncio.CancelledError):  # the kit stopping the call
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
