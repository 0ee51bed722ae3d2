"""Assertions the suite shares: expected errors and JSON-model equality."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import re
import string
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import pytest

from conformance._values import NonJSON, json_equal
from conformance.errors import ImplementationError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

T = TypeVar("T")
M = TypeVar("M")


class ExpectedError:
    """What ``expect_error`` caught, for further checks."""

    error: ImplementationError | None = None


@contextlib.contextmanager
def expect_error(kind: str, doing: str) -> Iterator[ExpectedError]:
    """Assert that the block fails with an implementation error of ``kind``.

    A different kind, or success, fails the test with a message that says what was
    being done. The error's message is shown, never judged (spec/contract.md § Errors).
    """
    caught = ExpectedError()
    try:
        yield caught
    except ImplementationError as exc:
        if exc.kind == "internal":
            raise  # a crash is not an answer, here or anywhere (spec/contract.md)
        if exc.kind != kind:
            pytest.fail(f"{doing}: expected a {kind!r} error, got {exc.kind!r}: {exc.message}", pytrace=False)
        caught.error = exc
    else:
        pytest.fail(f"{doing}: expected a {kind!r} error, but the operation succeeded", pytrace=False)


def pick(data: Any, seen: Sequence[T], label: str) -> T:
    """One of ``seen``, chosen by position.

    Models draw a position, never the value: values an implementation minted (task ids, tokens)
    differ from run to run, and a strategy built over them (``sampled_from(ids)``) differs too,
    which Hypothesis reports as ``FlakyStrategyDefinition`` instead of replaying the failure.
    """
    from hypothesis import strategies as st

    position: int = data.draw(st.integers(0, len(seen) - 1), label=label)
    return seen[position]


def bound(machine: type[M], driver_factory: Callable[[], Any]) -> type[M]:
    """``machine`` with this test's driver factory: state machines cannot take pytest fixtures."""
    return type(f"{machine.__name__}Run", (machine,), {"make_driver": staticmethod(driver_factory)})


def run_model(machine: type, driver_factory: Callable[[], Any], settings: Any) -> None:
    """Run a model's state machine as this test, at the run's Hypothesis settings."""
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(bound(machine, driver_factory), settings=settings)


NOT_JUDGED = "not judged: "


def not_judged(relies_on: str, why: str) -> NoReturn:
    """End a test that cannot judge its requirement because another requirement's behaviour is missing.

    A test of R asserts only what R says (spec/README, "Blame"); when the observation it needs
    depends on behaviour that R does not demand (a rejection that R only describes the effect of),
    and the implementation lacks it, R is not judged by this test.  The report shows the test as
    not-tested with this reason; the requirement relied on fails on its own tests.
    """
    pytest.skip(f"{NOT_JUDGED}relies on {relies_on}: {why}")


def change_in_place(
    driver: Any, of: str, seen: Any, changes: Sequence[tuple[Sequence[Any], str, Any]], relies_on: str
) -> None:
    """Change the last call's arguments or result in place, where the implementation can see it.

    ``changes`` are ``(path, "set" | "append", value)``, applied by ``Driver.mutate`` to the very
    objects the implementation received or returned (over the adapter protocol, the adapter's).
    ``seen`` is the value as the test got it: a path it lacks means the answer was already wrong
    in a way another requirement (``relies_on``) judges, so the test does not judge its own.
    """
    for path, how, value in changes:
        if not _has_path(seen, path[:-1] if how == "set" else path):
            not_judged(relies_on, f"the {of} lacks {list(path)!r}: {show(seen)}")
        driver.mutate(of, path, **{how: value})


def _has_path(value: Any, path: Sequence[Any]) -> bool:
    for step in path:
        in_object = isinstance(value, dict) and isinstance(step, str) and step in value
        in_array = isinstance(value, list) and type(step) is int and -len(value) <= step < len(value)
        if not (in_object or in_array):
            return False
        value = value[step]
    return True


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
    "lone-surrogate": NonJSON("lone-surrogate"),  # "a\ud800b"; a stand-in on the wire
    "integer": 42,
    "boolean": True,
    "array": ["a"],
    "object": {"id": "a"},
}


#: Pairs of valid ids that differ only where a store that cuts, folds, pattern-matches or re-encodes ids loses the
#: difference: after a common prefix, in a LIKE or glob wildcard, past position 128, in the last of 256
#: code points, in an astral character, or in a character Latin-1 with replacement turns into "?".
#: A test writes *both* ids of a pair and reads both back (HIST-025, LIFE-034; STORE and ID can reuse it).
COLLIDING_IDS = {
    "prefix": ("chat", "chat-2"),
    "percent": ("a%", "ab"),
    "underscore": ("a_c", "abc"),
    "star": ("a*", "ab"),
    "question-mark": ("a?", "ab"),
    "past-128": ("x" * 128 + "a", "x" * 128 + "b"),
    "last-of-256": ("y" * 255 + "a", "y" * 255 + "b"),
    "astral": ("a\U0001f600", "a\U0001f601"),
    "latin-1-replacement": ("a?", "a\U0001f600"),
}


#: JSON objects of a mebibyte and more, for the states of STORE and ID: each text mixes characters
#: of one to four UTF-8 bytes, so that a cut at any byte, character or unit count shows.
LARGE_STATES: dict[str, Any] = {
    "one-mebibyte-string": {"text": ("a\u00e9\u20ac\U0001f600" * 65_536)[: 2**20]},
    "many-large-members": {f"part{n}": "z" * 100_000 + str(n) for n in range(12)},
}


def accepted(call: Any) -> bool:
    """Whether a call with a very large value succeeded; refusing it is allowed, crashing is not."""
    try:
        call()
    except ImplementationError as exc:
        if exc.kind == "internal":
            raise
        return False
    return True


def show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 300 else text[:297] + "..."


def assert_json_equal(actual: Any, expected: Any, doing: str) -> None:
    """Equality under the JSON data model (``true`` is not ``1``; ``1.0`` is ``1``)."""
    if not json_equal(actual, expected):
        pytest.fail(f"{doing}:\n  expected {show(expected)}\n  got      {show(actual)}", pytrace=False)


def assert_same_items(actual: Any, expected: list[Any], doing: str) -> None:
    """The same items, each as often as expected, in any order: for requirements that are not about order."""
    left = list(actual) if isinstance(actual, list) else None
    for wanted in expected:
        match = next((i for i, got in enumerate(left or []) if json_equal(got, wanted)), None)
        if left is None or match is None:
            break
        left.pop(match)
    else:
        if left == []:
            return
    pytest.fail(f"{doing}, in any order:\n  expected {show(expected)}\n  got      {show(actual)}", pytrace=False)


_TIMESTAMPS = ("startTime", "modifiedTime")


def _instants_as_instants(envelope: Any) -> Any:
    """An event envelope with its metadata timestamps replaced by the UTC instants they denote."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("metadata"), dict):
        return envelope
    metadata = dict(envelope["metadata"])
    for key in _TIMESTAMPS:
        text = metadata.get(key)
        if isinstance(text, str):
            try:
                instant = dt.datetime.fromisoformat(text.replace("z", "Z"))
            except ValueError:
                continue
            if instant.tzinfo is not None:
                metadata[key] = {"instant": instant.astimezone(dt.UTC).isoformat()}
    return {**envelope, "metadata": metadata}


def events_equal(actual: Any, expected: Any) -> bool:
    """Envelopes (an envelope, a list of them, or of ``{"handler", "event"}`` records) equal as events."""

    def norm(value: Any) -> Any:
        if isinstance(value, list):
            return [norm(v) for v in value]
        if isinstance(value, dict) and set(value) == {"handler", "event"}:
            return {"handler": value["handler"], "event": _instants_as_instants(value["event"])}
        return _instants_as_instants(value)

    return json_equal(norm(actual), norm(expected))


def assert_events_equal(actual: Any, expected: Any, doing: str) -> None:
    """Envelopes equal under JSON, with timestamps compared as instants.

    For requirements that are about which events arrive, not how their timestamps are written:
    a typed SDK that parses ``…00.250Z`` and writes back ``…00.250000+00:00`` delivers the same
    event (only LIFE-001 is about the envelope kept as it was sent).
    """

    if not events_equal(actual, expected):
        pytest.fail(f"{doing}:\n  expected {show(expected)}\n  got      {show(actual)}", pytrace=False)


def item(n: int, **extra: Any) -> dict[str, Any]:
    """A typical history item, numbered so that order is visible in failures."""
    return {"role": "user" if n % 2 else "assistant", "content": f"message {n}", "n": n, **extra}


def items(*numbers: int) -> list[dict[str, Any]]:
    return [item(n) for n in numbers]


#: The minted-id format every area shares (spec/contract.md § Values every area shares).
MINTED = re.compile(r"[A-Za-z0-9_-]{22,128}")

#: The standard alphabets an id's characters come from, smallest first: binary, decimal, hex
#: (either case), base32 (RFC 4648's, base32hex and Crockford's, either case), base36, base62 and
#: base64url.  A varying position counts log2 of the smallest one holding every character seen there.
_ALPHABETS: tuple[tuple[int, frozenset[str]], ...] = tuple(
    (len(chars), frozenset(chars))
    for chars in (
        "01",
        string.digits,
        string.digits + "abcdef",
        string.digits + "ABCDEF",
        string.ascii_uppercase + "234567",
        string.ascii_lowercase + "234567",
        string.digits + "ABCDEFGHIJKLMNOPQRSTUV",
        string.digits + "abcdefghijklmnopqrstuv",
        string.digits + "ABCDEFGHJKMNPQRSTVWXYZ",
        string.digits + "abcdefghjkmnpqrstvwxyz",
        string.digits + string.ascii_lowercase,
        string.digits + string.ascii_uppercase,
        string.digits + string.ascii_letters,
        string.digits + string.ascii_letters + "-_",
    )
)


def minted_bits(ids: Sequence[str]) -> float:
    """The random bits a sample of minted ids can carry, judging the varying positions only.

    Per position of the shortest id: nothing when every id has the same character there (a
    constant prefix such as ``session_``, a UUID's hyphens and version digit), else log2 of the
    smallest standard alphabet covering the characters seen there.  One estimate for every area
    that mints ids (STORE-002, ID-002, TASK-001, LIFE-033), as the contract has one rule.
    """
    bits = 0.0
    for position in range(min(len(sid) for sid in ids)):
        seen = {sid[position] for sid in ids}
        if len(seen) > 1:
            bits += math.log2(min((n for n, chars in _ALPHABETS if seen <= chars), default=64))
    return bits
