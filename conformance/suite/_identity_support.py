"""Helpers the ID and TASK tests share: shape checks against the schemas, and id formats."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

import pytest

from conformance._data import validator_for
from conformance.errors import ImplementationError
from conformance.suite._support import MINTED, expect_error, minted_bits, not_judged, show

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from conformance.areas.id import IdentityClient


#: The standard alphabets a position of a minted id is judged by (spec/identity.md, ID-002):
def assert_shape(value: Any, schema: str, doing: str) -> Any:
    """Fail unless ``value`` matches ``schemas/<schema>.schema.json``; return it."""
    errors = sorted(validator_for(f"{schema}.schema.json").iter_errors(value), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
        pytest.fail(f"{doing}: {show(value)} is not a valid {schema}: at {where}: {errors[0].message}", pytrace=False)
    return value


def assert_minted(value: Any, what: str) -> str:
    """Fail unless ``value`` has the minted-id format: 22 to 128 characters of A-Z a-z 0-9 _ -."""
    if not isinstance(value, str) or not MINTED.fullmatch(value):
        pytest.fail(f"{what} {value!r} is not 22 to 128 characters of A-Z a-z 0-9 _ -", pytrace=False)
    return value


def assert_random_bits(ids: list[str], what: str) -> None:
    """Fail unless a sample of ids is all distinct and shows at least 122 random bits."""
    if len(set(ids)) != len(ids):
        pytest.fail(f"two {what} are equal: {sorted(i for i in ids if ids.count(i) > 1)[:2]}", pytrace=False)
    bits = minted_bits(ids)
    if bits < 122:
        pytest.fail(
            f"{len(ids)} {what} like {ids[0]!r} and {ids[1]!r} vary in positions worth {bits:.0f} bits;"
            " a minted id carries at least 122 random bits (a constant prefix counts nothing)",
            pytrace=False,
        )


def via_json(value: Any) -> Any:
    """``value`` after a trip through JSON text, as a caller that stores it would hand it back."""
    return json.loads(json.dumps(value))


@contextlib.contextmanager
def rejected_without_remote_call(ids: IdentityClient, kind: str, doing: str) -> Iterator[None]:
    """Assert the block fails with ``kind`` and the kit's remote service received no request meanwhile."""
    before = ids.remote_calls()
    with expect_error(kind, doing):
        yield
    after = ids.remote_calls()
    if after != before:
        methods = [r.get("method") for r in ids.service.requests[before:after] if isinstance(r, dict)]
        pytest.fail(
            f"{doing}: rejected, but only after sending the remote service {after - before} request(s) {methods};"
            " check arguments first",
            pytrace=False,
        )


def finish(ids: IdentityClient, response: dict[str, Any], *, limit: int = 120) -> dict[str, Any]:
    """Resume an operation until it completes; return the final response."""
    for _ in range(limit):
        if response.get("status") == "completed" or response.get("continuation_token") is None:
            return response
        response = ids.resume(response["session_id"], response["continuation_token"])
    pytest.fail(f"the operation was still unfinished after {limit} resumes: {show(response)}", pytrace=False)


def reported_first(kind: str, several: Callable[[], Any], alone: Callable[[], Any], relies_on: str, doing: str) -> None:
    """Assert that a call with several faults fails with ``kind``, the first in contract precedence.

    When it fails otherwise, ``alone`` makes the call with only the fault that ``kind`` stands
    for: if that is not answered with ``kind`` either, the implementation does not see the fault
    at all, which is ``relies_on``'s failure, not one of precedence (spec/README, "Blame").
    """
    try:
        several()
    except ImplementationError as exc:
        if exc.kind == kind:
            return
        got = f"failed with {exc.kind}: {exc.message}"
    else:
        got = "succeeded"
    try:
        alone()
    except ImplementationError as exc:
        if exc.kind != kind:
            not_judged(relies_on, f"with that fault alone the call fails with {exc.kind}, not {kind}")
    else:
        not_judged(relies_on, f"with that fault alone the call succeeds instead of failing with {kind}")
    pytest.fail(f"{doing}: expected {kind}, the first that applies in contract precedence, but it {got}", pytrace=False)
