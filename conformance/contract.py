"""The contract an implementation meets to be tested by the kit.

This module is what an adapter author imports.  It has no dependencies beyond
the standard library, so importing it never pulls in pytest or Hypothesis.

An *implementation* is any object (or zero-argument callable returning one)
with the attributes of :class:`Implementation`.  For every area it claims it
also has that area's factory method, e.g. ``open_history`` for ``hist``; the
area modules under :mod:`conformance.areas` define those protocols.

Methods may be plain or ``async``: the kit awaits whatever is awaitable.

Errors: an implementation signals a *kind* of error (see :data:`ERROR_KINDS`)
either by raising an exception with a string attribute ``error_kind``, or by
raising a builtin the kind maps to (``ValueError``/``TypeError`` for
``invalid_argument``, ``LookupError`` for ``not_found``).  Any other exception
is reported as ``internal``: the implementation crashed.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Collection
    from pathlib import Path

__all__ = [
    "ERROR_KINDS",
    "Clock",
    "Environment",
    "Implementation",
    "ManualClock",
    "error_kind_of",
]

#: Error kinds shared by every area and every transport.
ERROR_KINDS: frozenset[str] = frozenset(
    {
        "invalid_argument",  # the input is malformed; nothing was changed
        "not_found",  # the named thing does not exist (or is invisible to the caller)
        "conflict",  # the operation clashes with existing state (e.g. duplicate id)
        "closed",  # the handle or store was closed
        "failed_precondition",  # valid input, but the state forbids it (e.g. terminal task)
        "unavailable",  # a peer or remote service did not answer in time or could not be reached
        "unsupported",  # the implementation does not offer this operation
        "internal",  # anything else: the implementation crashed
    }
)


class Clock(Protocol):
    """A source of the current time, owned by the kit during a test."""

    def now(self) -> dt.datetime:
        """Return the current time as an aware UTC datetime (microsecond precision)."""
        ...


class ManualClock:
    """A clock that moves only when told to; tests never sleep to make time pass.

    Thread-safe: implementations may read it from any thread.
    """

    #: Where every manual clock starts unless told otherwise: a fixed instant, so runs repeat.
    EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def __init__(self, start: dt.datetime | None = None) -> None:
        start = start or self.EPOCH
        if start.tzinfo is None:
            msg = f"ManualClock needs an aware datetime, got naive {start!r}; add tzinfo=datetime.UTC"
            raise ValueError(msg)
        self._now = start.astimezone(dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> dt.datetime:
        """Move the clock forward by ``seconds`` (which may be fractional) and return the new time."""
        if seconds < 0:
            msg = f"a clock only moves forward; advance({seconds}) would move it back"
            raise ValueError(msg)
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)
            return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self.now().isoformat()})"


@dataclass(frozen=True)
class Environment:
    """What the kit hands an area factory.

    ``storage_dir`` is a fresh, empty directory per test.  Calling a factory twice
    with the same environment means "the process restarted over the same
    storage": a persistent implementation must see its earlier data there.
    """

    storage_dir: Path
    clock: Clock = field(default_factory=ManualClock)
    #: The remote agent service the kit plays for the ID area: ``call(request) -> reply``
    #: (conformance/agent_service.py, spec/identity.md § The remote agent service).  The same
    #: service is handed to every factory call of one test, so it outlives a restart.
    agent_service: Any = None


@runtime_checkable
class Implementation(Protocol):
    """The identity and claims of an implementation under test.

    ``claims`` is explicit and never guessed from code: an area (``"hist"``) or
    an optional capability (``"hist.persistent"``) that is not listed is "not
    claimed", and the requirements that need it are skipped with that reason.
    """

    name: str
    version: str
    spec_version: str
    claims: Collection[str]


def error_kind_of(exc: BaseException) -> str:
    """Return the error kind an exception raised by an implementation stands for."""
    kind = getattr(exc, "error_kind", None)
    if isinstance(kind, str) and kind in ERROR_KINDS:
        return kind
    if isinstance(exc, (ValueError, TypeError)):
        return "invalid_argument"
    if isinstance(exc, LookupError):
        return "not_found"
    return "internal"


def describe(value: Any) -> str:
    """A short, safe repr for error messages."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
