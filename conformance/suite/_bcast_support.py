"""Helpers the BCAST tests share: numbered events, and reading a subscription."""

from __future__ import annotations

from typing import Any

import pytest

from conformance._values import json_equal
from conformance.areas.bcast import END_REASONS, BcastClient
from conformance.suite._support import show


@pytest.fixture
def bcast(driver):
    return BcastClient(driver)


@pytest.fixture
def bcast_b(replica):
    """The broadcaster of a second replica: another process over the same storage (``bcast.multi-replica``)."""
    return BcastClient(replica)


def event(n: int, **params: Any) -> dict[str, Any]:
    """A notification numbered ``n``, so that order and identity show in failures."""
    return {"jsonrpc": "2.0", "method": f"notifications/test/{n}", "params": {"n": n, **params}}


def received(bcast: BcastClient, sub: str, doing: str) -> tuple[list[Any], str | None]:
    """``(events, ended)`` from one ``receive``, failing the test when the answer has the wrong shape."""
    answer = bcast.receive(sub)
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("events"), list)
        or "ended" not in answer
        or answer["ended"] not in (None, *END_REASONS)
    ):
        pytest.fail(
            f"{doing}: receive returned {show(answer)}, not "
            '{"events": [...], "ended": null | "dropped" | "cancelled" | "closed"}',
            pytrace=False,
        )
    return answer["events"], answer["ended"]


def holds(events: list[Any], wanted: Any) -> bool:
    """Whether ``events`` holds ``wanted``, equal as JSON."""
    return any(json_equal(got, wanted) for got in events)
