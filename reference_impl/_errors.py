"""The reference implementation's exceptions: one root, one class per failure mode.

Each class names the error kind the conformance kit reads (``error_kind``) and
subclasses the builtin a caller would naturally catch.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["HistoryError", "InvalidArgument", "StoreClosed"]


class HistoryError(Exception):
    """Root of every exception the history store raises on purpose."""

    error_kind: ClassVar[str]


class InvalidArgument(HistoryError, ValueError):
    """An argument is malformed; nothing was changed."""

    error_kind = "invalid_argument"


class StoreClosed(HistoryError, RuntimeError):
    """The handle or the backend was closed."""

    error_kind = "closed"
