"""The one kit-side interface every test talks to.

Tests never touch an implementation directly: they send *operations* (a name
and a JSON object of arguments) through a :class:`Driver`, which hands them to
a transport.  The in-process transport calls Python objects; the subprocess
transport speaks the adapter protocol (spec/adapter-protocol.md).  The suite is
the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from conformance._traceback import kit_frame
from conformance._values import CHANGES
from conformance.errors import ImplementationError, KitError, NotTestable

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["Driver", "ImplementationInfo", "Transport"]


@dataclass(frozen=True)
class ImplementationInfo:
    """Who is under test, as the implementation declares it."""

    name: str
    version: str
    spec_version: str
    claims: frozenset[str]
    target: str  # what the user passed to --impl
    #: requirement id -> what the adapter adds for it that the implementation lacks (spec/contract.md)
    adds: Mapping[str, str] = field(default_factory=dict)

    def claimed(self, capability: str) -> bool:
        return capability in self.claims


class Transport(Protocol):
    def call(self, op: str, args: dict[str, Any]) -> Any: ...
    def mutate(self, of: str, path: list[Any], change: dict[str, Any]) -> None: ...
    def concurrently(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]: ...
    def advance_clock(self, seconds: float) -> None: ...
    def close(self) -> None: ...


class Driver:
    """Sends operations to the implementation under test; one per test."""

    def __init__(self, info: ImplementationInfo, transport: Transport, agent_service: Any = None) -> None:
        self.info = info
        self._transport = transport
        #: The remote agent service the kit plays for this test (ID area), or None.
        self.agent_service = agent_service
        #: Makes a driver over a fresh storage directory sharing this one's agent service (set by the plugin).
        self.elsewhere: Callable[[], Driver] | None = None
        self._siblings: list[Driver] = []

    def sibling(self) -> Driver:
        """A new instance of the implementation over fresh, empty storage, talking to the same agent service.

        What a client that keeps its sessions on disk (``id.client-persistence``) sees when its
        process starts again on another machine: its configuration, but none of its storage.
        Closed together with this driver.
        """
        if self.elsewhere is None:
            msg = "this driver cannot make a sibling over fresh storage (it was not made by the plugin)"
            raise KitError(msg)
        made = self.elsewhere()
        self._siblings.append(made)
        return made

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

    def mutate(self, of: str, path: Sequence[str | int], **change: Any) -> None:
        """Change, in place, the arguments (``of="args"``) or the result (``of="result"``) of the last call.

        What a careless caller does to values it passed or got back, done where the implementation
        can see it: in process on the very objects exchanged, over the adapter protocol by
        ``kit.mutate`` on the adapter's own objects (spec/adapter-protocol.md).  ``change`` is
        ``set=value`` (replace the member or element at ``path``) or ``append=value`` (append to
        the array at ``path``).  Requirements on copying (HIST-028, STORE-018) use it.
        """
        if of not in ("args", "result") or len(change) != 1 or next(iter(change)) not in CHANGES:
            msg = f"mutate(of={of!r}, ...) takes of='args' or 'result' and one of set=/append=, got {sorted(change)}"
            raise KitError(msg)
        try:
            self._transport.mutate(of, list(path), change)
        except ImplementationError as exc:
            if exc.kind == "unsupported":
                msg = (
                    f"kit.mutate is needed to see whether the implementation shares values with its caller, "
                    f"but: {exc.message}"
                )
                raise NotTestable(msg) from exc
            raise

    def concurrently(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Start every operation at once; return each result or :class:`ImplementationError`, in order."""
        results = self._transport.concurrently(calls)
        for (op, _), result in zip(calls, results, strict=True):
            if isinstance(result, ImplementationError) and result.kind == "unsupported":
                raise NotTestable(f"{op} is needed by a claimed capability, but: {result.message}")
        for result in results:
            if isinstance(result, ImplementationError) and result.kind == "internal":
                raise result  # a crash is not an answer, among concurrent calls as anywhere (spec/contract.md)
        return results

    def advance_clock(self, seconds: float) -> None:
        """Move the implementation's clock forward; nothing ever sleeps."""
        self._transport.advance_clock(seconds)

    def close(self) -> None:
        if getattr(self, "_closed", False):
            return
        self._closed = True
        try:
            self._transport.close()
        finally:
            for made in self._siblings:
                made.close()
