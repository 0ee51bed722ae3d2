"""What the ID and TASK areas share: their exceptions, minted ids, and argument checks.

Minted ids follow spec/identity.md § Id formats: a short prefix, an underscore and 32
hexadecimal digits from :mod:`secrets` (128 random bits), so every one is visible ASCII
of 16 to 128 characters.  Caller-supplied ids follow the HIST rule: 1 to 256 code
points, no control character, no lone surrogate, used verbatim.
"""

from __future__ import annotations

import copy
import math
import re
import secrets
from typing import Any, ClassVar

__all__ = [
    "Conflict",
    "FailedPrecondition",
    "IdentityError",
    "InvalidArgument",
    "NotFound",
    "ServiceClosed",
    "check_caller_id",
    "check_id_list",
    "json_copy",
    "mint",
]

MAX_CALLER_ID_LENGTH = 256
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class IdentityError(Exception):
    """Root of every exception the agent-service and task simulators raise on purpose."""

    error_kind: ClassVar[str]


class InvalidArgument(IdentityError, ValueError):
    """An argument is malformed; nothing was changed and no remote call was made."""

    error_kind = "invalid_argument"


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


def describe(value: object) -> str:
    text = repr(value)
    return f"{text if len(text) <= 60 else text[:57] + '...'} ({type(value).__name__})"


def mint(prefix: str) -> str:
    """A fresh id: ``<prefix>_`` and 128 random bits as 32 hexadecimal digits."""
    return f"{prefix}_{secrets.token_hex(16)}"


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        msg = f"{where} contains a lone surrogate U+{ord(text[exc.start]):04X}; only Unicode text is accepted"
        raise InvalidArgument(msg) from None


def check_caller_id(value: object, what: str) -> str:
    """Return ``value`` unchanged if it is a valid caller-supplied id; never substitute another."""
    if not isinstance(value, str):
        msg = f"{what} must be a string, got {describe(value)}"
        raise InvalidArgument(msg)
    if not value:
        msg = f"{what} must not be empty; pass 1 to {MAX_CALLER_ID_LENGTH} characters, or omit it to have one minted"
        raise InvalidArgument(msg)
    if len(value) > MAX_CALLER_ID_LENGTH:
        msg = f"{what} has {len(value)} characters; shorten it to at most {MAX_CALLER_ID_LENGTH}"
        raise InvalidArgument(msg)
    if match := _CONTROL.search(value):
        msg = f"{what} contains control character U+{ord(match.group()):04X} at index {match.start()}; remove it"
        raise InvalidArgument(msg)
    _check_text(value, what)
    return value


def check_id_list(value: object, what: str) -> list[str]:
    """Return a copy of a list of ids; ``None`` means an empty list."""
    if value is None:
        return []
    if not isinstance(value, list):
        msg = f"{what} must be an array of ids, got {describe(value)}"
        raise InvalidArgument(msg)
    return [check_caller_id(element, f"{what}[{index}]") for index, element in enumerate(value)]


def _check_json(value: object, where: str) -> None:
    if value is None or isinstance(value, (bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"{where} is {value!r}, which JSON cannot express"
            raise InvalidArgument(msg)
    elif isinstance(value, str):
        _check_text(value, where)
    elif isinstance(value, list):
        for index, element in enumerate(value):
            _check_json(element, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, element in value.items():
            if not isinstance(key, str):
                msg = f"{where} has the key {describe(key)}; JSON object keys are strings"
                raise InvalidArgument(msg)
            _check_text(key, f"a key of {where}")
            _check_json(element, f"{where}[{key!r}]")
    else:
        msg = f"{where} is {describe(value)}, which is not JSON"
        raise InvalidArgument(msg)


def json_copy(value: Any, where: str, *, kind: type | None = None) -> Any:
    """Check that ``value`` is JSON (of ``kind``, if given) and return a deep copy the caller cannot alter."""
    if kind is not None and not isinstance(value, kind):
        msg = f"{where} must be a JSON {'object' if kind is dict else kind.__name__}, got {describe(value)}"
        raise InvalidArgument(msg)
    _check_json(value, where)
    return copy.deepcopy(value)
