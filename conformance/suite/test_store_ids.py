"""STORE: session ids — minted and caller-supplied — and what create accepts (spec/store.md)."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import TYPE_CHECKING, Any

import pytest

from conformance._values import NonJSON
from conformance.suite._store_support import assert_record, assert_same_session, ids_of, instant
from conformance.suite._support import INVALID_IDS, assert_json_equal, expect_error

if TYPE_CHECKING:
    from conformance.areas.store import StoreClient

requirement = pytest.mark.requirement

MINTED = re.compile(r"[A-Za-z0-9_-]{22,64}")


def mint(store: StoreClient, n: int) -> list[str]:
    return [assert_record(store.create(ttl_seconds=600), "create without an id")["id"] for _ in range(n)]


@requirement("STORE-001")
def test_minted_ids_are_22_to_64_url_safe_characters(store):
    for sid in mint(store, 20):
        assert isinstance(sid, str), f"a minted id is {sid!r}, not a string"
        assert MINTED.fullmatch(sid), f"minted id {sid!r} is not 22 to 64 characters of A-Z a-z 0-9 _ -"
        assert store.get(sid) is not None, f"the minted id {sid!r} does not name the session just created"


@requirement("STORE-001")
def test_a_null_id_is_minted_like_an_absent_one(store):
    sid = assert_record(store.create(None, ttl_seconds=600), "create with id null")["id"]
    assert MINTED.fullmatch(sid), f"create with id null minted {sid!r}"


def _capacity_bits(ids: list[str]) -> float:
    """Bits each id could carry: its length (hyphens aside) times log2 of the alphabet seen."""
    alphabet = {c for sid in ids for c in sid} - {"-"}
    shortest = min(len(sid.replace("-", "")) for sid in ids)
    return shortest * math.log2(max(len(alphabet), 2))


@requirement("STORE-002")
def test_minted_ids_never_repeat_and_share_no_prefix_or_suffix(store):
    ids = mint(store, 200)
    assert len(set(ids)) == len(ids), "two minted ids are equal"
    for part, cut in (("prefix", lambda s: s[:8]), ("suffix", lambda s: s[-8:])):
        parts = [cut(sid) for sid in ids]
        assert len(set(parts)) == len(parts), (
            f"two minted ids share an 8-character {part}: counters or clocks, not randomness"
        )
    bits = _capacity_bits(ids)
    assert bits >= 122, f"minted ids like {ids[0]!r} can carry at most {bits:.0f} random bits; 122 are required"


@requirement("STORE-002")
def test_minted_ids_never_repeat_across_a_restart(store):
    before = set(mint(store, 50))
    store.reopen()
    after = set(mint(store, 50))
    assert not before & after, f"after a restart the store minted again: {sorted(before & after)[:3]}"


@requirement("STORE-003")
def test_minted_ids_are_32_lowercase_hex_digits(store):
    for sid in mint(store, 10):
        assert re.fullmatch(r"[0-9a-f]{32}", sid), f"minted id {sid!r} is not 32 lowercase hex digits"


VALID_IDS: dict[str, str] = {
    "one-char": "a",
    "leading-space": " a",
    "trailing-space": "a ",
    "upper": "User-1",
    "lower": "user-1",
    "nfc": unicodedata.normalize("NFC", "caf\u00e9"),
    "nfd": unicodedata.normalize("NFD", "caf\u00e9"),
    "emoji-256": "\U0001f600" * 256,
    "ascii-256": "x" * 256,
    "percent": "a%2Fb",
    "dot-dot": "a/../b",
    "uuid-shaped": "123e4567-e89b-12d3-a456-426614174000",
}


@requirement("STORE-004")
def test_valid_caller_ids_are_kept_verbatim_and_distinct(store):
    for name, sid in VALID_IDS.items():
        record = assert_record(store.create(sid, state={"name": name}), f"create({name})")
        assert record["id"] == sid, f"create({name}): id {sid!r} came back as {record['id']!r}"
    for name, sid in VALID_IDS.items():
        got = store.get(sid)
        assert got is not None and got["id"] == sid, f"get({name}) returned {got!r}"
        assert_json_equal(got["state"], {"name": name}, f"the state of session {name} (ids must not merge)")
    assert sorted(ids_of(store.list(), "list()")) == sorted(VALID_IDS.values())


@requirement("STORE-005")
@pytest.mark.parametrize("name", list(INVALID_IDS))
def test_create_rejects_an_invalid_id_and_creates_nothing(store, name):
    with expect_error("invalid_argument", f"create with a {name} id"):
        store.create(INVALID_IDS[name])
    assert ids_of(store.list(), "list() after the rejected create") == []


@requirement("STORE-005")
@pytest.mark.parametrize("name", ["empty", "257-ascii", "nul", "integer"])
def test_every_operation_rejects_an_invalid_id(store, name):
    bad = INVALID_IDS[name]
    store.create("real")
    with expect_error("invalid_argument", f"get with a {name} id"):
        store.get(bad)
    with expect_error("invalid_argument", f"touch with a {name} id"):
        store.touch(bad)
    with expect_error("invalid_argument", f"update_state with a {name} id"):
        store.update_state(bad, {"k": 1})
    with expect_error("invalid_argument", f"delete with a {name} id"):
        store.delete(bad)
    assert ids_of(store.list(), "list()") == ["real"]


@requirement("STORE-006")
def test_creating_a_live_id_again_fails_and_changes_nothing(store):
    first = store.create("dup", owner="alice", ttl_seconds=60, state={"v": 1})
    store.advance(10)
    for owner in ("alice", "bob", None):
        with expect_error("conflict", f"create('dup') again with owner {owner!r}"):
            store.create("dup", owner=owner, ttl_seconds=600, state={"v": 2})
    assert_same_session(store.get("dup"), first, "the session after three refused creates")


BAD_TTLS: dict[str, Any] = {
    "zero": 0,
    "negative": -1,
    "negative-fraction": -0.25,
    "nan": NonJSON("nan"),
    "infinity": NonJSON("infinity"),
    "string": "60",
    "boolean": True,
    "null": None,
    "array": [60],
}
BAD_OWNERS: dict[str, Any] = {"empty": "", "nul": "a\x00", "257-chars": "o" * 257, "number": 7, "array": ["alice"]}


@requirement("STORE-007")
@pytest.mark.parametrize("name", list(BAD_TTLS))
def test_an_invalid_ttl_is_rejected(store, name):
    with expect_error("invalid_argument", f"create with a {name} ttl_seconds"):
        store.create("s", ttl_seconds=BAD_TTLS[name])
    assert store.get("s") is None, f"create with a {name} ttl_seconds left a session behind"


@requirement("STORE-007")
@pytest.mark.parametrize("name", list(BAD_OWNERS))
def test_an_invalid_owner_is_rejected(store, name):
    with expect_error("invalid_argument", f"create with a {name} owner"):
        store.create("s", owner=BAD_OWNERS[name])
    assert store.get("s") is None, f"create with a {name} owner left a session behind"


@requirement("STORE-007")
def test_a_fractional_ttl_is_valid(store):
    record = store.create("short", ttl_seconds=0.25)
    assert (instant(record, "expires_at") - instant(record, "created_at")).total_seconds() == 0.25
