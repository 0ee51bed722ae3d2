"""What every real-library adapter shares: the contract's error kinds as exceptions, and the version.

An adapter translates a library's errors into the contract's kinds (spec/contract.md § Errors);
the kit reads the kind from an exception's ``error_kind`` attribute.  One class per kind, here, so
that five adapters do not each define the same five classes.  Kept free of any library import.
"""

from __future__ import annotations

import importlib.metadata
from typing import ClassVar

__all__ = [
    "AdapterError",
    "Closed",
    "Conflict",
    "FailedPrecondition",
    "InvalidArgument",
    "NotFound",
    "Unsupported",
    "library_version",
]


class AdapterError(Exception):
    """An error of one contract kind, raised by an adapter where its library signals that kind."""

    error_kind: ClassVar[str] = "internal"


class InvalidArgument(AdapterError):
    error_kind = "invalid_argument"


class NotFound(AdapterError):
    error_kind = "not_found"


class Conflict(AdapterError):
    error_kind = "conflict"


class Closed(AdapterError):
    error_kind = "closed"


class FailedPrecondition(AdapterError):
    error_kind = "failed_precondition"


class Unsupported(AdapterError):
    error_kind = "unsupported"


def library_version(distribution: str) -> str:
    """The installed version of the library an adapter drives, or ``"not installed"``."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
