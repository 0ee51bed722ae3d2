"""Assertions the suite shares: expected errors and JSON-model equality."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

import pytest

from conformance._values import json_equal
from conformance.errors import ImplementationError

if TYPE_CHECKING:
    from collections.abc import Iterator


class ExpectedError:
    """What ``expect_error`` caught, for further checks."""

    error: ImplementationError | None = None


@contextlib.contextmanager
def expect_error(kind: str, doing: str) -> Iterator[ExpectedError]:
    """Assert that the block fails with an implementation error of ``kind``.

    A different kind, or success, fails the test with a message that says what was
    being done; the error must carry a non-empty message (a clear error, not a bare code).
    """
    caught = ExpectedError()
    try:
        yield caught
    except ImplementationError as exc:
        if exc.kind != kind:
            pytest.fail(f"{doing}: expected a {kind!r} error, got {exc.kind!r}: {exc.message}", pytrace=False)
        if not exc.message.strip():
            pytest.fail(f"{doing}: the {kind!r} error carries no message", pytrace=False)
        caught.error = exc
    else:
        pytest.fail(f"{doing}: expected a {kind!r} error, but the operation succeeded", pytrace=False)


#: Caller-supplied ids that every area rejects (HIST-026; STORE and ID follow the same rule).
#: One table, so that the areas cannot drift apart on what "invalid" means.  ``null`` is not
#: here: for STORE and ID it means "mint one"; HIST adds it to its own cases.
INVALID_IDS: dict[str, Any] = {
    "empty": "",
    "257-ascii": "x" * 257,
    "257-astral": "\U0001f600" * 257,
    "nul": "a\u0000b",
    "tab": "a\tb",
    "newline": "a\nb",
    "del": "a\u007fb",
    "c1-control": "a\u0085b",
    "lone-surrogate": "a\ud800b",
    "integer": 42,
    "boolean": True,
    "array": ["a"],
    "object": {"id": "a"},
}


def show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 300 else text[:297] + "..."


def assert_json_equal(actual: Any, expected: Any, doing: str) -> None:
    """Equality under the JSON data model (``true`` is not ``1``; ``1.0`` is ``1``)."""
    if not json_equal(actual, expected):
        pytest.fail(f"{doing}:\n  expected {show(expected)}\n  got      {show(actual)}", pytrace=False)


def item(n: int, **extra: Any) -> dict[str, Any]:
    """A typical history item, numbered so that order is visible in failures."""
    return {"role": "user" if n % 2 else "assistant", "content": f"message {n}", "n": n, **extra}


def items(*numbers: int) -> list[dict[str, Any]]:
    return [item(n) for n in numbers]
