"""HIST: writing the history — batches, JSON values, round trips (spec/hist.md)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance._values import NON_JSON_KINDS, NonJSON, depth, json_equal
from conformance.errors import ImplementationError
from conformance.suite._support import (
    assert_json_equal,
    assert_same_items,
    change_in_place,
    expect_error,
    item,
    items,
    not_judged,
    show,
)

requirement = pytest.mark.requirement


@requirement("HIST-009")
def test_concurrent_batches_stay_contiguous_and_complete(hist):
    h = hist.open("concurrent-batches")
    batches = [[item(100 * b + k, batch=b) for k in range(5)] for b in range(20)]
    results = hist.driver.concurrently([h.add_items_op(batch) for batch in batches])
    failed = [r for r in results if isinstance(r, ImplementationError)]
    assert not failed, f"concurrent add_items failed: {failed[0]}" if failed else ""
    stored = h.get_items()
    assert len(stored) == 100, f"20 concurrent batches of 5 left {len(stored)} items, expected 100"
    # Walk the history: each batch must appear as one run, in its own order.
    runs = [stored[i : i + 5] for i in range(0, 100, 5)]
    seen = set()
    for run in runs:
        batch_no = run[0].get("batch")
        assert_json_equal(run, batches[batch_no], f"the run of batch {batch_no} in the stored history")
        seen.add(batch_no)
    assert seen == set(range(20)), f"batches missing from the history: {sorted(set(range(20)) - seen)}"


BAD_ITEMS: dict[str, Any] = {
    "nan": {"value": NonJSON("nan")},
    "not-an-object": "a bare string",
    "nested-bytes": {"a": {"b": [1, NonJSON("bytes")]}},
}


@requirement("HIST-010")
@pytest.mark.parametrize("bad", list(BAD_ITEMS), ids=str)
@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_rejected_batch_stores_nothing(hist, bad, position):
    h = hist.open("atomic")
    h.add_items(items(1, 2))
    before = h.get_items()  # "stores nothing" is judged against the store's own answer, not HIST-001's order
    batch = items(3, 4, 5)
    batch.insert({"first": 0, "middle": 2, "last": 3}[position], BAD_ITEMS[bad])
    try:
        h.add_items(batch)
    except ImplementationError as exc:
        if exc.kind == "internal":
            raise  # a crash is not a rejection
    else:
        # HIST-010 is about batches that fail; that this one must fail is HIST-012/013's to judge.
        not_judged("HIST-012/HIST-013", f"add_items accepted a batch with a {bad} item in {position} place")
    assert_json_equal(h.get_items(), before, "the history after the rejected batch")


@requirement("HIST-011")
def test_empty_batch_is_a_no_op(hist):
    h = hist.open("empty-batch")
    h.add_items([])
    assert_json_equal(h.get_items(), [], "get_items() after adding an empty batch to an empty history")
    h.add_items(items(1))
    h.add_items([])
    assert_json_equal(h.get_items(), items(1), "get_items() after adding an empty batch")


@requirement("HIST-012")
@pytest.mark.parametrize("kind", sorted(NON_JSON_KINDS))
@pytest.mark.parametrize("where", ["top", "nested"])
def test_value_json_cannot_express_is_rejected(hist, kind, where):
    h = hist.open("non-json")
    value = NonJSON(kind)
    bad = {"role": "user", "content": value} if where == "top" else {"role": "user", "parts": [{"data": [1, value]}]}
    with expect_error("invalid_argument", f"add_items with a {kind} value ({where})"):
        h.add_items([bad])
    assert_json_equal(h.get_items(), [], f"the history after rejecting a {kind} value")


@requirement("HIST-013")
@pytest.mark.parametrize("bad", [[1, 2], "text", 3, 2.5, True, None, []], ids=repr)
def test_item_that_is_not_an_object_is_rejected(hist, bad):
    h = hist.open("not-object")
    with expect_error("invalid_argument", f"add_items([{show(bad)}])"):
        h.add_items([bad])
    assert_json_equal(h.get_items(), [], f"the history after rejecting the item {show(bad)}")


@requirement("HIST-013")
#: Empty ones too: a store that iterates whatever it is given finds nothing to reject in "" or {}.
@pytest.mark.parametrize("bad", [{"role": "user"}, "items", 7, None, True, "", {}], ids=repr)
def test_batch_that_is_not_an_array_is_rejected(hist, bad):
    h = hist.open("not-array")
    with expect_error("invalid_argument", f"add_items({show(bad)})"):
        h.add_items(bad)
    assert_json_equal(h.get_items(), [], f"the history after rejecting add_items({show(bad)})")


def _nested(levels: int) -> dict:
    """An item whose arrays and objects nest exactly ``levels`` deep, the item itself being level 1."""
    value: object = "bottom"
    for level in range(levels - 1):
        value = {"level": level, "down": value} if level % 2 else [value]
    return {"deep": value}


#: The deepest nesting the data model guarantees a store keeps (spec/hist.md, "Data model").
MAX_DEPTH = 64


def _add_valid(h: Any, batch: list[Any], what: str) -> None:
    """Add a batch of valid items; a store that refuses it cannot be judged on what it returns."""
    try:
        h.add_items(batch)
    except ImplementationError as exc:
        if exc.kind != "invalid_argument":
            raise
        # HIST-014 is about the items a store returns; that it must accept these is HIST-029's.
        not_judged("HIST-029", f"add_items refused {what} with {exc}")


ROUND_TRIP: dict[str, Any] = {
    "unicode": {"text": "héllo wörld — 汉字 😀 \U0001f9ea", "key-é": "ключ", "": "empty key"},
    "escapes": {"quote": '"', "backslash": "\\", "controls": "\u0000\t\n\r\u001f", "separators": "\u2028\u2029"},
    "integers": {"zero": 0, "neg": -1, "max": 2**53 - 1, "min": -(2**53 - 1), "list": [1, 10, 100]},
    "floats": {"tenth": 0.1, "big": 1e308, "max": 1.7976931348623157e308, "tiny": 5e-324, "neg": -2.5},
    "empties": {"obj": {}, "arr": [], "str": "", "nested": [{}, [], [[]]]},
    "literals": {"null": None, "true": True, "false": False, "mixed": [None, True, False, 0, 1, ""]},
    "nesting": _nested(MAX_DEPTH),
    "openai-shape": {
        "type": "function_call",
        "call_id": "call_1",
        "arguments": '{"city": "Paris"}',
        "output": [{"type": "output_text", "text": "ok", "annotations": []}],
    },
}


@requirement("HIST-014")
@pytest.mark.parametrize("name", list(ROUND_TRIP))
def test_item_round_trips_unchanged(hist, name):
    h = hist.open(f"round-trip-{name}")
    _add_valid(h, [ROUND_TRIP[name], item(1)], f"the {name} item")
    # HIST-014 is about values, not their order (HIST-001, HIST-016 judge that).
    assert_same_items(h.get_items(), [ROUND_TRIP[name], item(1)], f"get_items() of the {name} item")
    assert_same_items([h.pop_item(), h.pop_item()], [ROUND_TRIP[name], item(1)], f"two pop_item() of the {name} item")


#: Items of a mebibyte and more, beyond what a store has to accept (HIST-029): each text mixes
#: characters of one to four UTF-8 bytes so that a cut at any byte, character or unit count shows.
LARGE = {
    "one-mebibyte-string": {"role": "tool", "output": ("a\u00e9\u20ac\U0001f600" * 65_536)[: 2**20]},
    "many-large-members": {f"part{n}": "z" * 100_000 + str(n) for n in range(12)},
    "long-array": {"rows": [[n, "x" * 50] for n in range(25_000)]},
}


@requirement("HIST-014")
@pytest.mark.parametrize("name", list(LARGE))
def test_large_item_comes_back_exactly_or_not_at_all(hist, name):
    h = hist.open(f"large-{name}")
    h.add_items(items(1))
    try:
        h.add_items([copy.deepcopy(LARGE[name])])
    except ImplementationError as exc:
        if exc.kind == "internal":
            raise
        return  # a store is free to refuse an item this large; what it returns is what HIST-014 judges
    # Which items come back, not in which order (HIST-001's, HIST-016's).
    assert_same_items(h.get_items(), [item(1), LARGE[name]], f"get_items() with the {name} item")
    assert_same_items([h.pop_item(), h.pop_item()], [item(1), LARGE[name]], f"two pop_item() with the {name} item")


_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8"), max_size=20)
)
_keys = st.text(st.characters(codec="utf-8"), max_size=8)
_json = st.recursive(
    _json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=20,
)
#: Objects within the data model's guarantees (HIST-029), so that a store is free to refuse none.
_objects = st.dictionaries(_keys, _json, max_size=5).filter(lambda o: depth(o) <= MAX_DEPTH)


@requirement("HIST-014")
def test_any_json_objects_round_trip(hist, hypothesis_settings):
    @hypothesis_settings
    @given(batch=st.lists(_objects, min_size=1, max_size=4))
    def round_trip(batch):
        h = hist.open(f"property-{uuid.uuid4().hex}")
        _add_valid(h, batch, "generated JSON objects")
        assert_same_items(h.get_items(), batch, "get_items() of generated JSON objects")

    round_trip()


def _arrays(levels: int) -> dict:
    """An item, then arrays only, ``levels`` deep in all."""
    value: object = 0
    for _ in range(levels - 1):
        value = [value]
    return {"a": value}


def _objects_deep(levels: int) -> dict:
    """Objects only, ``levels`` deep, the item included."""
    value: dict = {}
    for level in range(levels - 1):
        value = {f"o{level}": value}
    return value


#: Batches within the data model's guarantees (spec/hist.md, "What a store accepts"), each
#: near one edge of them.  Large strings use only characters JSON writes unescaped, so their
#: size is the same however a store escapes text.
ACCEPTED: dict[str, list[Any]] = {
    "deepest-mixed": [_nested(MAX_DEPTH)],
    "deepest-arrays": [_arrays(MAX_DEPTH)],
    "deepest-objects": [_objects_deep(MAX_DEPTH)],
    "member-names": [
        {"": 1, ".": 2, "a.b": 3, "$set": 4, "$": 5, "_id": 6, "__proto__": {"x": 7}, "constructor": 8, " ": 9}
    ],
    "control-characters": [{"text": "a\u0000b\u001f\u007f", "\u0000": "NUL as a name", "\t": "\n"}],
    "unusual-code-points": [{"text": "\u2028\u2029\ufeff\uffff\U0010ffff e\u0301", "rtl": "\u05e9\u05dc\u05d5\u05dd"}],
    "numbers-at-the-edges": [
        {"max": 2**53 - 1, "min": -(2**53 - 1), "tiny": 5e-324, "huge": 1.7976931348623157e308, "zero": -0.0}
    ],
    "empty-values": [{}, {"": ""}, {"a": [], "o": {}, "s": ""}],
    "large-item": [{"text": "\U0001f600" * 7_000 + "\u00e9" * 7_000 + "a" * 10_000}],  # 52 000 bytes of UTF-8
    "largest-batch": [{"n": n, "text": "x" * 60_000} for n in range(20)],
}


@requirement("HIST-029")
@pytest.mark.parametrize("name", list(ACCEPTED))
def test_batch_within_the_guarantees_is_accepted(hist, name):
    h = hist.open(f"accepts-{name}")
    try:
        h.add_items(copy.deepcopy(ACCEPTED[name]))
    except ImplementationError as exc:
        if exc.kind == "internal":
            raise  # a crash stays a crash
        pytest.fail(
            f"add_items refused the {name} batch, which is within the data model's guarantees: {exc}", pytrace=False
        )


BIG = {"above": 2**53 + 1, "u64": 2**64 + 1, "below": -(2**63) - 1}


@requirement("HIST-015")
def test_integers_beyond_interoperable_range_are_exact_or_rejected(hist):
    h = hist.open("big-integers")
    h.add_items(items(1))
    try:
        h.add_items([{"role": "tool", "numbers": dict(BIG)}])
    except ImplementationError as exc:
        assert exc.kind == "invalid_argument", f"rejecting big integers must be invalid_argument, got {exc}"
        assert_json_equal(h.get_items(), items(1), "the history after rejecting big integers")
        return
    stored = next((i["numbers"] for i in h.get_items() if isinstance(i, dict) and "numbers" in i), None)
    if not isinstance(stored, dict):
        not_judged("HIST-014", "the accepted item with big integers did not come back")
    for key, value in BIG.items():
        got = stored.get(key)
        assert type(got) is int and got == value, f"{key}: stored {value}, read back {got!r} (silently altered)"


@requirement("HIST-028")
def test_store_does_not_alias_values_it_was_given(hist):
    h = hist.open("alias-in")
    original: dict[str, Any] = {"role": "user", "content": "keep me", "meta": {"tags": ["a"]}}
    given = [copy.deepcopy(original)]
    h.add_items(given)
    changes = [(["items", 0, "content"], "set", "changed after add"), (["items", 0, "meta", "tags"], "append", "b")]
    change_in_place(hist.driver, "args", {"items": given}, changes, relies_on="HIST-001")
    assert_json_equal(h.get_items(), [original], "get_items() after the caller changed the item it added")


@requirement("HIST-028")
def test_store_does_not_alias_values_it_returns(hist):
    h = hist.open("alias-out")
    original: dict[str, Any] = {"role": "user", "content": "keep me", "meta": {"tags": ["a"]}}
    h.add_items([copy.deepcopy(original)])
    returned = h.get_items()
    changes = [
        ([0, "content"], "set", "changed by the caller"),
        ([0, "meta", "tags", 0], "set", "changed too"),
        ([], "append", {"role": "intruder"}),
    ]
    change_in_place(hist.driver, "result", returned, changes, relies_on="HIST-001")
    assert_json_equal(h.get_items(), [original], "get_items() after the caller changed a returned list")
    h.add_items(items(2))
    popped = h.pop_item()
    # What is left is judged by what was popped, not by which item HIST-016 says that must be.
    left = [i for i in [original, item(2)] if not json_equal(i, popped)]
    if len(left) != 1:
        not_judged("HIST-016", f"pop_item() returned {show(popped)}, neither item of the history")
    change_in_place(hist.driver, "result", popped, [(["content"], "set", "changed after pop")], relies_on="HIST-016")
    assert_json_equal(h.get_items(), left, "get_items() after the caller changed a popped item")
