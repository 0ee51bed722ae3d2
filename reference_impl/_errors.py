"""The reference implementation's exception root and the kinds every area shares.

Each class names the error kind the conformance kit reads (``error_kind``) and
subclasses the builtin a caller would naturally catch.  Areas add their own
classes under :class:`ReferenceImplError` (``IdentityError``, ``SessionStoreError``).
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["HistoryError", "InvalidArgument", "ReferenceImplError", "StoreClosed"]


class ReferenceImplError(Exception):
    """Root of every exception the reference implementation raises on purpose."""

    error_kind: ClassVar[str]


class InvalidArgument(ReferenceImplError, ValueError):
    """An argument is malformed; nothing was changed (shared by every area)."""

    error_kind = "invalid_argument"


class HistoryError(ReferenceImplError):
    """Root of the exceptions only the history store raises."""


class StoreClosed(HistoryError, RuntimeError):
    """The handle or the backend was closed."""

    error_kind = "closed"
