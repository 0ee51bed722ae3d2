"""The kit's exceptions: one root, one class per way a check can go wrong.

The report keeps these apart, because they call for different people:
an :class:`ImplementationError` is an *answer* (right or wrong, the test decides),
an :class:`ImplementationFault` means the implementation crashed, hung or broke the
protocol, :class:`NotTestable` means a claimed capability could not be exercised,
and :class:`KitError` is a bug in the kit itself.
"""

from __future__ import annotations

__all__ = [
    "ConformanceError",
    "ImplementationError",
    "ImplementationFault",
    "KitError",
    "NotTestable",
    "RootCause",
]


class ConformanceError(Exception):
    """Root of every exception the kit raises."""


class ImplementationError(ConformanceError):
    """The implementation answered an operation with an error of a given kind."""

    def __init__(self, kind: str, message: str, *, op: str = "", exc_type: str = "") -> None:
        self.kind = kind
        self.message = message
        self.op = op
        self.exc_type = exc_type
        where = f"{op}: " if op else ""
        raised = f" (raised {exc_type})" if exc_type else ""
        super().__init__(f"{where}{kind}: {message}{raised}")


class ImplementationFault(ConformanceError):
    """The implementation crashed, hung, or broke the transport protocol.

    ``detail`` carries what the kit saw (for a subprocess, the tail of its stderr).
    """

    def __init__(self, what: str, detail: str = "") -> None:
        self.what = what
        self.detail = detail
        super().__init__(f"{what}\n{detail}" if detail else what)


class RootCause(ImplementationFault):
    """A crash that every later test of its area (``scope``) would repeat: said once, in full.

    Raised when an area's factory raises or returns no object on a test's first call, and when an
    adapter process keeps dying.  The kit reports the first occurrence with its traceback; later
    tests of the same scope fail at once with a one-line reference to it (``repeated``).
    """

    def __init__(self, summary: str, detail: str = "", *, scope: str | None = None, repeated: bool = False) -> None:
        self.summary = summary
        self.scope = scope
        self.repeated = repeated
        super().__init__(summary, detail)


class NotTestable(ConformanceError):
    """A claimed capability could not be exercised: a failure, never a skip."""

    def __init__(self, message: str) -> None:
        super().__init__(f"not testable: {message}")


class KitError(ConformanceError):
    """The kit itself misbehaved (a bug to report against the kit, not the implementation)."""
