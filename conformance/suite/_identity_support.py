"""Helpers the ID and TASK tests share: shape checks against the schemas, and id formats."""

from __future__ import annotations

import contextlib
import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from conformance._data import validator_for
from conformance.suite._support import expect_error, show

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conformance.areas.id import IdentityClient

MINTED = re.compile(r"^[!-~]{16,128}$")


def assert_shape(value: Any, schema: str, doing: str) -> Any:
    """Fail unless ``value`` matches ``schemas/<schema>.schema.json``; return it."""
    errors = sorted(validator_for(f"{schema}.schema.json").iter_errors(value), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
        pytest.fail(f"{doing}: {show(value)} is not a valid {schema}: at {where}: {errors[0].message}", pytrace=False)
    return value


def assert_minted(value: Any, what: str) -> str:
    """Fail unless ``value`` has the minted-id format: 16 to 128 visible ASCII characters."""
    if not isinstance(value, str) or not MINTED.match(value):
        pytest.fail(f"{what} {value!r} is not 16 to 128 visible ASCII characters (U+0021-U+007E)", pytrace=False)
    return value


def via_json(value: Any) -> Any:
    """``value`` after a trip through JSON text, as a caller that stores it would hand it back."""
    return json.loads(json.dumps(value))


@contextlib.contextmanager
def rejected_without_remote_call(ids: IdentityClient, kind: str, doing: str) -> Iterator[None]:
    """Assert the block fails with ``kind`` and the simulated remote service saw no call meanwhile."""
    before = ids.remote_calls()
    with expect_error(kind, doing):
        yield
    after = ids.remote_calls()
    if after != before:
        pytest.fail(
            f"{doing}: rejected, but only after {after - before} remote call(s); check arguments first", pytrace=False
        )


def finish(ids: IdentityClient, response: dict[str, Any], *, limit: int = 120) -> dict[str, Any]:
    """Resume an operation until it completes; return the final response."""
    for _ in range(limit):
        if response.get("status") == "completed" or response.get("continuation_token") is None:
            return response
        response = ids.resume(response["session_id"], response["continuation_token"])
    pytest.fail(f"the operation was still unfinished after {limit} resumes: {show(response)}", pytrace=False)
