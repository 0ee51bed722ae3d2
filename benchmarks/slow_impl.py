"""The reference implementation, slowed down: every call into it first waits a fixed delay.

    pytest --impl=benchmarks/slow_impl.py:slow_memory      (5 ms per operation)

Stands in for a slow real backend (a database across a network) when the benchmark measures
what the model tests cost: a budget that holds for a store taking 5 ms per operation holds for
any faster one.  Every method of every object the implementation hands out is wrapped; values
that JSON can carry are passed through unchanged.
"""

# ruff: noqa: INP001 - a module loaded by path, not a package module

from __future__ import annotations

import functools
import inspect
import time
from typing import Any

import reference_impl

DELAY = 0.005
_PLAIN = (type(None), bool, int, float, str, list, dict, tuple, bytes)


class Slow:
    """A proxy that delays each method call of the object it wraps by ``delay`` seconds."""

    def __init__(self, inner: Any, delay: float = DELAY) -> None:
        self._inner = inner
        self._delay = delay

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if not callable(value) or isinstance(value, type):
            return value
        return _slowed(value, self._delay)

    def __repr__(self) -> str:
        return f"<slow {self._inner!r}>"


def _wrap(value: Any, delay: float) -> Any:
    return value if isinstance(value, (*_PLAIN, BaseException)) else Slow(value, delay)


def _slowed(method: Any, delay: float) -> Any:
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def slow_async(*args: Any, **kwargs: Any) -> Any:
            time.sleep(delay)  # noqa: ASYNC251 - a backend that blocks is what this stands for
            return _wrap(await method(*args, **kwargs), delay)

        return slow_async

    @functools.wraps(method)
    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(delay)
        return _wrap(method(*args, **kwargs), delay)

    return slow


class SlowImplementation(Slow):
    """The implementation object itself: its identity and claims are the reference's."""

    def __init__(self, inner: Any, delay: float = DELAY) -> None:
        super().__init__(inner, delay)
        self.name = f"{inner.name} (slowed by {delay * 1000:g} ms per call)"
        self.version = inner.version
        self.spec_version = inner.spec_version
        self.claims = inner.claims


slow_memory = SlowImplementation(reference_impl.memory)
