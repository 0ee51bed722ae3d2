"""Values the suite sends that plain JSON cannot carry, and JSON-model equality."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from conformance._traceback import kit_frame

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module


__all__ = ["NON_JSON_KINDS", "NonJSON", "contains_non_json", "json_equal", "materialize"]

#: Each kind of non-JSON value the suite may ask a transport to materialise.
NON_JSON_KINDS: dict[str, Any] = {
    "nan": lambda: math.nan,
    "infinity": lambda: math.inf,
    "negative-infinity": lambda: -math.inf,
    "bytes": lambda: b"\x00\xffbinary",
    "integer-key": lambda: {1: "a map whose key is not a string"},
}


@dataclass(frozen=True)
class NonJSON:
    """A stand-in for a value of the implementation's language that JSON cannot express.

    The in-process transport turns it into the Python value above; the subprocess
    transport sends ``{"$nonjson": kind}`` for the adapter to turn into its own.
    """

    kind: str

    def __post_init__(self) -> None:
        if self.kind not in NON_JSON_KINDS:
            msg = f"unknown non-JSON kind {self.kind!r}; known: {sorted(NON_JSON_KINDS)}"
            raise ValueError(msg)


def contains_non_json(value: Any) -> bool:
    if isinstance(value, NonJSON):
        return True
    if isinstance(value, dict):
        return any(contains_non_json(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_non_json(v) for v in value)
    return False


def materialize(value: Any) -> Any:
    """Replace every :class:`NonJSON` with a Python value; return ``value`` itself if there is none.

    Returning the very same object matters: HIST-028 checks that an
    implementation does not alias what the caller passed in.
    """
    if not contains_non_json(value):
        return value
    if isinstance(value, NonJSON):
        return NON_JSON_KINDS[value.kind]()
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    return [materialize(v) for v in value]


def json_equal(a: Any, b: Any) -> bool:  # noqa: PLR0911 - one return per JSON type reads best
    """Equality under the JSON data model.

    Unlike ``==``, ``True`` is not ``1``; unlike JSON text, ``1`` equals ``1.0``
    (RFC 8259 numbers carry no int/float distinction).
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return False
