"""What the ID and TASK areas share: their exceptions, minted ids, and argument checks.

Minted ids follow spec/identity.md § Id formats: a short prefix, an underscore and 32
hexadecimal digits from :mod:`secrets` (128 random bits), so every one is 22 to 128
characters of ``A-Z a-z 0-9 _ -`` carrying at least 122 random bits.  Caller-supplied
ids follow the HIST rule: 1 to 256 code points, no control character, no lone surrogate,
used verbatim.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any, ClassVar

from reference_impl._errors import InvalidArgument, ReferenceImplError
from reference_impl.history import check_json, check_session_id, describe

__all__ = [
    "Conflict",
    "FailedPrecondition",
    "IdentityError",
    "InvalidArgument",
    "NotFound",
    "ServiceClosed",
    "check_caller_id",
    "check_id_list",
    "describe",
    "json_copy",
    "mint",
]


class IdentityError(ReferenceImplError):
    """Root of every exception the agent-service and task simulators raise on purpose."""

    error_kind: ClassVar[str]


class NotFound(IdentityError, LookupError):
    """The named session, operation, task or context does not exist for this caller."""

    error_kind = "not_found"


class Conflict(IdentityError):
    """The id is already in use."""

    error_kind = "conflict"


class FailedPrecondition(IdentityError):
    """The arguments are fine, but the state forbids the operation (a finished operation, a terminal task)."""

    error_kind = "failed_precondition"


class ServiceClosed(IdentityError, RuntimeError):
    """The service was closed; open a new one."""

    error_kind = "closed"


def mint(prefix: str) -> str:
    """A fresh id: ``<prefix>_`` and 128 random bits as 32 hexadecimal digits."""
    return f"{prefix}_{secrets.token_hex(16)}"


def check_id_list(value: object, what: str) -> list[str]:
    """Return a copy of a list of ids; ``None`` means an empty list."""
    if value is None:
        return []
    if not isinstance(value, list):
        msg = f"{what} must be an array of ids, got {describe(value)}"
        raise InvalidArgument(msg)
    return [check_caller_id(element, f"{what}[{index}]") for index, element in enumerate(value)]


def check_caller_id(value: object, what: str) -> str:
    """Return ``value`` unchanged if it is a valid caller-supplied id (the HIST rule); never substitute another."""
    return check_session_id(value, what)


def json_copy(value: Any, where: str, *, kind: type | None = None) -> Any:
    """Check that ``value`` is JSON (of ``kind``, if given) and return a deep copy the caller cannot alter."""
    if kind is not None and not isinstance(value, kind):
        msg = f"{where} must be a JSON {'object' if kind is dict else kind.__name__}, got {describe(value)}"
        raise InvalidArgument(msg)
    check_json(value, where)
    return copy.deepcopy(value)
