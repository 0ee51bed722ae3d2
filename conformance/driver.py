"""The one kit-side interface every test talks to.

Tests never touch an implementation directly: they send *operations* (a name
and a JSON object of arguments) through a :class:`Driver`, which hands them to
a transport.  The in-process transport calls Python objects; the subprocess
transport speaks the adapter protocol (spec/adapter-protocol.md).  The suite is
the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from conformance._traceback import kit_frame
from conformance.errors import ImplementationError, NotTestable

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Driver", "ImplementationInfo", "Transport"]


@dataclass(frozen=True)
class ImplementationInfo:
    """Who is under test, as the implementation declares it."""

    name: str
    version: str
    spec_version: str
    claims: frozenset[str]
    target: str  # what the user passed to --impl

    def claimed(self, capability: str) -> bool:
        return capability in self.claims


class Transport(Protocol):
    def call(self, op: str, args: dict[str, Any]) -> Any: ...
    def concurrently(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]: ...
    def advance_clock(self, seconds: float) -> None: ...
    def close(self) -> None: ...


class Driver:
    """Sends operations to the implementation under test; one per test."""

    def __init__(self, info: ImplementationInfo, transport: Transport) -> None:
        self.info = info
        self._transport = transport

    def call(self, op: str, args: dict[str, Any]) -> Any:
        """Run one operation and return its JSON result.

        Raises :class:`ImplementationError` when the implementation answers with
        an error, and :class:`NotTestable` when it answers ``unsupported`` to an
        operation of an area it claims.
        """
        try:
            return self._transport.call(op, args)
        except ImplementationError as exc:
            if exc.kind == "unsupported":
                raise NotTestable(f"{op} is needed by a claimed capability, but: {exc.message}") from exc
            raise

    def concurrently(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Start every operation at once; return each result or :class:`ImplementationError`, in order."""
        results = self._transport.concurrently(calls)
        for (op, _), result in zip(calls, results, strict=True):
            if isinstance(result, ImplementationError) and result.kind == "unsupported":
                raise NotTestable(f"{op} is needed by a claimed capability, but: {result.message}")
        return results

    def advance_clock(self, seconds: float) -> None:
        """Move the implementation's clock forward; nothing ever sleeps."""
        self._transport.advance_clock(seconds)

    def close(self) -> None:
        self._transport.close()
