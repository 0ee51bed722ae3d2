"""HIST: reading the history — limits, default limit, order (spec/hist.md)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.suite._support import assert_json_equal, expect_error, item, items, show

requirement = pytest.mark.requirement

#: The largest integer every JSON reader keeps exactly: the kit sends no valid limit above it.
MAX_EXACT = 2**53 - 1

#: Time that passes between writing and reading in some tests: items never expire in HIST.
DAY = 86_400


@requirement("HIST-001")
def test_reading_without_limit_returns_every_item_oldest_first(hist):
    h = hist.open("reader")
    h.add_items(items(1, 2))
    h.add_items(items(3))
    h.add_items(items(4, 5, 6))
    hist.driver.advance_clock(DAY)  # HIST defines no expiry: an item stays until popped or cleared
    assert_json_equal(h.get_items(), items(1, 2, 3, 4, 5, 6), "get_items() after three batches and a day")
    # A null limit is no limit, exactly as an absent one.
    assert_json_equal(h.get_items(limit=None), items(1, 2, 3, 4, 5, 6), "get_items(limit=null)")


@requirement("HIST-002")
@pytest.mark.parametrize("n", [1, 2, 4, 5])
def test_positive_limit_returns_newest_n_oldest_first(hist, n):
    h = hist.open("window")
    h.add_items(items(1, 2, 3, 4, 5))
    hist.driver.advance_clock(DAY)
    expected = items(*range(6 - n, 6))
    assert_json_equal(h.get_items(limit=n), expected, f"get_items(limit={n}) of 5 items")


@requirement("HIST-003")
def test_limit_zero_returns_nothing_and_changes_nothing(hist):
    h = hist.open("zero")
    assert_json_equal(h.get_items(limit=0), [], "get_items(limit=0) of an empty history")
    h.add_items(items(1, 2, 3))
    before = h.get_items()  # "unchanged" is judged against the store's own answer, not HIST-001's order
    assert_json_equal(h.get_items(limit=0), [], "get_items(limit=0) of 3 items")
    assert_json_equal(h.get_items(), before, "get_items() after get_items(limit=0)")


@requirement("HIST-004")
@pytest.mark.parametrize("limit", [4, 1000, 2**31, MAX_EXACT])
def test_limit_beyond_history_returns_everything(hist, limit):
    h = hist.open("short")
    assert_json_equal(h.get_items(limit=limit), [], f"get_items(limit={limit}) of an empty history")
    h.add_items(items(1, 2, 3))
    hist.driver.advance_clock(DAY)
    assert_json_equal(h.get_items(limit=limit), items(1, 2, 3), f"get_items(limit={limit}) of 3 items")


INVALID_LIMITS = [-1, -100, True, False, 2.5, 2.0, "2", "", [], {}, [2]]


@requirement("HIST-005")
@pytest.mark.parametrize("limit", INVALID_LIMITS, ids=repr)
def test_invalid_limit_is_rejected_without_side_effect(hist, limit):
    h = hist.open("strict")
    h.add_items(items(1, 2, 3))
    before = h.get_items()  # "changes nothing" is judged against the store's own answer, not HIST-001's order
    with expect_error("invalid_argument", f"get_items(limit={limit!r})"):
        h.get_items(limit=limit)
    assert_json_equal(h.get_items(), before, f"get_items() after the rejected get_items(limit={limit!r})")


@requirement("HIST-005")
@pytest.mark.parametrize("limit", INVALID_LIMITS, ids=repr)
def test_invalid_default_limit_is_rejected_at_open(hist, limit):
    with expect_error("invalid_argument", f"opening a session with default_limit={limit!r}"):
        hist.open("strict-default", default_limit=limit)


def _assert_count(got: Any, n: int, doing: str) -> None:
    # HIST-006 is about which limit is used, not which items a window holds (HIST-002): on a
    # history of 5 items, each limit used shows in the number of items returned.
    if not isinstance(got, list) or len(got) != n:
        pytest.fail(f"{doing}: expected {n} items, got {show(got)}", pytrace=False)


@requirement("HIST-006")
def test_default_limit_applies_only_when_no_limit_is_passed(hist):
    h = hist.open("defaults", default_limit=2)
    h.add_items(items(1, 2, 3, 4, 5))
    _assert_count(h.get_items(), 2, "get_items() with default_limit=2")
    _assert_count(h.get_items(limit=None), 2, "get_items(limit=null) with default_limit=2")
    assert_json_equal(h.get_items(), h.get_items(limit=2), "get_items() and get_items(limit=2) with default_limit=2")
    _assert_count(h.get_items(limit=3), 3, "get_items(limit=3) with default_limit=2")
    _assert_count(h.get_items(limit=10), 5, "get_items(limit=10) with default_limit=2")
    assert_json_equal(h.get_items(limit=0), [], "get_items(limit=0) with default_limit=2: an explicit 0 wins")


@requirement("HIST-006")
def test_default_limit_zero_still_yields_to_an_explicit_limit(hist):
    h = hist.open("default-zero", default_limit=0)
    h.add_items(items(1, 2, 3))
    assert_json_equal(h.get_items(), [], "get_items() with default_limit=0")
    _assert_count(h.get_items(limit=2), 2, "get_items(limit=2) with default_limit=0")


@requirement("HIST-006")
def test_default_limit_null_means_no_default(hist):
    h = hist.open("default-null", default_limit=None)
    h.add_items(items(1, 2, 3))
    _assert_count(h.get_items(), 3, "get_items() with default_limit=null")


@requirement("HIST-007")
def test_never_written_session_reads_as_empty(hist):
    h = hist.open("never-written")
    assert_json_equal(h.get_items(), [], "get_items() of a session never written")
    assert_json_equal(h.get_items(limit=3), [], "get_items(limit=3) of a session never written")
    assert h.pop_item() is None, "pop_item() of a session never written must return null"


@requirement("HIST-007")
def test_clear_of_never_written_session_succeeds(hist):
    h = hist.open("never-written-clear")
    # The sentence names clear_session too: it succeeds, not_found included among the failures.
    h.clear_session()
    # "As on an empty history": clearing it leaves an empty history (what a later write does is HIST-019's).
    assert_json_equal(h.get_items(), [], "get_items() after clear_session() of a session never written")


@requirement("HIST-001")
def test_equal_items_added_again_are_each_returned(hist):
    h = hist.open("repeated-items")
    # The same item in two batches and twice in one batch: every item of the history, each time it was added.
    h.add_items(items(1))
    h.add_items(items(1))
    h.add_items([item(1), item(1), {}])
    h.add_items([{}])
    assert_json_equal(h.get_items(), [*items(1, 1, 1, 1), {}, {}], "get_items() after adding equal items again")


@requirement("HIST-008")
def test_items_added_in_one_instant_keep_insertion_order(hist):
    # The kit's clock does not move during this test: every item shares one timestamp.
    h = hist.open("same-instant")
    for n in range(1, 41):
        h.add_items(items(n))
    assert_json_equal(h.get_items(), items(*range(1, 41)), "get_items() after 40 single-item adds in one instant")


@requirement("HIST-008")
def test_order_survives_mixing_batches_and_pops(hist):
    h = hist.open("mixed")
    h.add_items(items(1, 2, 3))
    h.add_items(items(4))
    h.pop_item()
    h.add_items(items(5, 6))
    h.add_items(items(7))
    assert_json_equal(h.get_items(), items(1, 2, 3, 5, 6, 7), "get_items() after adds and a pop")
    assert_json_equal(h.get_items(limit=4), items(3, 5, 6, 7), "get_items(limit=4) after adds and a pop")
