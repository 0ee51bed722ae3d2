"""Values the suite sends that plain JSON cannot carry, and JSON-model equality."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from conformance._traceback import kit_frame
from conformance.errors import KitError

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module


__all__ = [
    "LONE_SURROGATE",
    "NON_JSON_KINDS",
    "STAND_IN_KINDS",
    "NonJSON",
    "apply_change",
    "contains_non_json",
    "depth",
    "json_equal",
    "materialize",
]

#: Each kind of non-JSON value the suite may ask a transport to materialise.
NON_JSON_KINDS: dict[str, Any] = {
    "nan": lambda: math.nan,
    "infinity": lambda: math.inf,
    "negative-infinity": lambda: -math.inf,
    "bytes": lambda: b"\x00\xffbinary",
    "integer-key": lambda: {1: "a map whose key is not a string"},
}

#: The one string with a lone surrogate the suite sends: "a", U+D800, "b".  JSON text can spell it
#: (``"a\\ud800b"``), but parsers disagree on what that means (Go's encoding/json reads U+FFFD,
#: serde_json refuses the line), so over the protocol it travels as a stand-in, never as an escape.
LONE_SURROGATE = "a\ud800b"

#: Every stand-in kind: the values JSON cannot express, and the string common parsers cannot read.
STAND_IN_KINDS: dict[str, Any] = {**NON_JSON_KINDS, "lone-surrogate": lambda: LONE_SURROGATE}


@dataclass(frozen=True)
class NonJSON:
    """A stand-in for a value of the implementation's language that JSON cannot express.

    The in-process transport turns it into the Python value above; the subprocess
    transport sends ``{"$nonjson": kind}`` for the adapter to turn into its own.
    """

    kind: str

    def __post_init__(self) -> None:
        if self.kind not in STAND_IN_KINDS:
            msg = f"unknown non-JSON kind {self.kind!r}; known: {sorted(STAND_IN_KINDS)}"
            raise ValueError(msg)


def contains_non_json(value: Any) -> bool:
    """Whether a :class:`NonJSON` stand-in is anywhere in ``value``.

    Every call of the in-process transport asks it of the arguments, so it walks with a stack
    rather than by recursion, and looks at the common types first.  A cyclic value (never one the
    suite builds) is a kit error rather than a walk without end.
    """
    kind = type(value)
    if kind in _ATOMS:
        return False
    stack = [value]
    budget = _WALK_BUDGET
    while stack:
        budget -= 1
        if not budget:
            msg = f"a value of more than {_WALK_BUDGET} parts (or a cyclic one) to send"
            raise KitError(msg)
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind in _ATOMS:
            continue
        elif isinstance(item, NonJSON):
            return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


_ATOMS = frozenset({str, int, float, bool, type(None)})
#: Parts a value to send may have: far beyond anything the suite sends, short of a hang.
_WALK_BUDGET = 10_000_000


def depth(value: Any) -> int:
    """How deep arrays and objects nest in ``value``: 0 for a scalar, 1 for ``{}`` or ``[1]``.

    An item is counted as level 1, as spec/hist.md's data model counts it.
    """
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def materialize(value: Any) -> Any:
    """Replace every :class:`NonJSON` with a Python value; return ``value`` itself if there is none.

    Returning the very same object matters: HIST-028 checks that an
    implementation does not alias what the caller passed in.
    """
    if not contains_non_json(value):
        return value
    if isinstance(value, NonJSON):
        return STAND_IN_KINDS[value.kind]()
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


#: What ``kit.mutate`` may do at the end of its path (spec/adapter-protocol.md § Mutating what the
#: implementation holds): replace an object member or array element, or append to an array.
CHANGES = ("set", "append")


def apply_change(root: Any, path: list[Any], change: dict[str, Any]) -> None:
    """Change ``root`` in place, at ``path`` (member names and array positions), as a caller would.

    ``{"set": v}`` replaces the member or element the path names; ``{"append": v}`` appends ``v``
    to the array the path names.  Raises ``LookupError`` or ``TypeError`` naming the step that does
    not exist, and ``ValueError`` for a change that is neither.
    """
    if len(change) != 1 or next(iter(change)) not in CHANGES:
        msg = f"a change is one of {{'set': value}} or {{'append': value}}, not {change!r}"
        raise ValueError(msg)
    ((kind, value),) = change.items()
    target = root
    steps = path if kind == "append" else path[:-1]
    for depth, step in enumerate(steps):
        target = _step(target, step, path[: depth + 1])
    if kind == "append":
        if not isinstance(target, list):
            msg = f"{path!r} names a {type(target).__name__}, not an array"
            raise TypeError(msg)
        target.append(value)
        return
    if not path:
        msg = "set needs a path of at least one step"
        raise ValueError(msg)
    last = path[-1]
    settable = (isinstance(target, dict) and isinstance(last, str)) or (
        isinstance(target, list) and type(last) is int and -len(target) <= last < len(target)
    )
    if not settable:
        msg = f"{path!r}: cannot set step {last!r} of a {type(target).__name__}"
        raise LookupError(msg)
    target[last] = value


def _step(value: Any, step: Any, where: list[Any]) -> Any:
    if isinstance(value, dict) and isinstance(step, str) and step in value:
        return value[step]
    if isinstance(value, list) and type(step) is int and -len(value) <= step < len(value):
        return value[step]
    msg = f"{where!r} does not exist in the value ({type(value).__name__})"
    raise LookupError(msg)
