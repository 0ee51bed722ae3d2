"""STORE: session ids — minted and caller-supplied — and what create accepts (spec/store.md)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import TYPE_CHECKING, Any

import pytest

from conformance._values import NonJSON
from conformance.errors import ImplementationError
from conformance.suite._store_support import T0, assert_same_session, id_of, ids_of, instant
from conformance.suite._support import (
    COLLIDING_IDS,
    INVALID_IDS,
    MINTED,
    assert_json_equal,
    expect_error,
    minted_bits,
    not_judged,
)

if TYPE_CHECKING:
    from conformance.areas.store import StoreClient

requirement = pytest.mark.requirement


def mint(store: StoreClient, n: int) -> list[str]:
    return [id_of(store.create(ttl_seconds=600), "create without an id") for _ in range(n)]


@requirement("STORE-001")
def test_minted_ids_are_22_to_128_url_safe_characters(store):
    for sid in mint(store, 20):
        assert isinstance(sid, str), f"a minted id is {sid!r}, not a string"
        assert MINTED.fullmatch(sid), f"minted id {sid!r} is not 22 to 128 characters of A-Z a-z 0-9 _ -"
        assert store.get(sid) is not None, f"the minted id {sid!r} does not name the session just created"


@requirement("STORE-001")
def test_a_null_id_is_minted_like_an_absent_one(store):
    sid = id_of(store.create(None, ttl_seconds=600), "create with id null")
    assert MINTED.fullmatch(sid), f"create with id null minted {sid!r}"


@requirement("STORE-002")
def test_minted_ids_never_repeat_and_vary_in_122_bits(store):
    ids = mint(store, 200)
    assert len(set(ids)) == len(ids), "two minted ids are equal"
    bits = minted_bits(ids)
    assert bits >= 122, (
        f"200 minted ids like {ids[0]!r} and {ids[-1]!r} vary in positions that can carry at most {bits:.0f}"
        " bits (a constant prefix counts nothing): a counter, a clock or too short a random part, not 122 random bits"
    )


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
        got = id_of(store.create(sid, state={"name": name}), f"create({name})")
        assert got == sid, f"create({name}): id {sid!r} came back as {got!r}"
    for name, sid in VALID_IDS.items():
        got = store.get(sid)
        assert got is not None and got["id"] == sid, f"get({name}) returned {got!r}"
        assert_json_equal(got["state"], {"name": name}, f"the state of session {name} (ids must not merge)")
    assert sorted(ids_of(store.list(), "list()")) == sorted(VALID_IDS.values())


@requirement("STORE-004")
@pytest.mark.parametrize("name", list(COLLIDING_IDS))
def test_ids_differing_in_one_code_point_are_two_sessions_both_written(store, name):
    # Both ids of a pair that a prefix scan, a wildcard match, truncation or a lossy encoding would
    # merge are created, then both are read back: each must be its own session under its own id.
    first, second = COLLIDING_IDS[name]
    store.create(first, state={"n": 1})
    store.create(second, state={"n": 2})
    for sid, n in ((first, 1), (second, 2)):
        got = store.get(sid)
        assert got is not None and got["id"] == sid, f"get() of the {name} id {sid!r}, both created, returned {got!r}"
        assert_json_equal(got["state"], {"n": n}, f"the state of the {name} id {sid!r}, both created")
    assert sorted(ids_of(store.list(), "list()")) == sorted((first, second)), f"list() after creating the {name} pair"


@requirement("STORE-005")
@pytest.mark.parametrize("name", list(INVALID_IDS))
def test_create_rejects_an_invalid_id_and_creates_nothing(store, name):
    with expect_error("invalid_argument", f"create with a {name} id"):
        store.create(INVALID_IDS[name])
    assert ids_of(store.list(), "list() after the rejected create") == []


#: Outside create the id is required, so null is as invalid as 42 (spec/store.md § Operations).
REQUIRED_ID_INVALID: dict[str, Any] = {**INVALID_IDS, "null": None}


@requirement("STORE-005")
@pytest.mark.parametrize("name", ["empty", "257-ascii", "nul", "integer", "null"])
def test_every_operation_rejects_an_invalid_id(store, name):
    bad = REQUIRED_ID_INVALID[name]
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
    "below-half-a-microsecond": 0.0000004,
    "over-100-years": 3_153_600_001,
    "huge": 1e300,
    "nan": NonJSON("nan"),
    "infinity": NonJSON("infinity"),
    "string": "60",
    "boolean": True,
    "null": None,
    "array": [60],
}
BAD_OWNERS: dict[str, Any] = {
    "empty": "",
    "nul": "a\x00",
    "257-chars": "o" * 257,
    "lone-surrogate": NonJSON("lone-surrogate"),
    "number": 7,
    "boolean": False,
    "array": ["alice"],
    "object": {"owner": "alice"},
}


@requirement("STORE-007")
@pytest.mark.parametrize("name", list(BAD_TTLS))
def test_an_invalid_ttl_is_rejected(store, name):
    with expect_error("invalid_argument", f"create with a {name} ttl_seconds"):
        store.create("s", ttl_seconds=BAD_TTLS[name])
    assert store.get("s") is None, f"create with a {name} ttl_seconds left a session behind"


@requirement("STORE-031")
@pytest.mark.parametrize("name", list(BAD_OWNERS))
def test_create_rejects_an_invalid_owner(store, name):
    with expect_error("invalid_argument", f"create with a {name} owner"):
        store.create("s", owner=BAD_OWNERS[name])
    assert store.get("s") is None, f"create with a {name} owner left a session behind"


def lifetime(record: Any) -> dt.timedelta:
    """How long a session created at the clock's start lives (its created_at is STORE-008's, not read)."""
    return instant(record, "expires_at") - T0


@requirement("STORE-007")
@pytest.mark.parametrize(
    ("ttl", "micros"),
    [
        (0.25, 250_000),
        (0.000001, 1),
        (0.0000006, 1),
        (0.0000014, 1),
        (0.0000016, 2),
        (3_153_600_000, 3_153_600_000 * 10**6),
    ],
)
def test_a_ttl_counts_in_whole_microseconds_from_one_to_100_years(store, ttl, micros):
    # The lifetime a record shows is STORE-035's (expires_at = now + the TTL); a store that gets a
    # plain one-second TTL wrong fails there, and this test does not judge the rounding.
    if lifetime(store.create("probe", ttl_seconds=1)) != dt.timedelta(seconds=1):
        not_judged("STORE-035", "a session created with ttl_seconds 1 does not live exactly one second")
    record = store.create("s", ttl_seconds=ttl)
    got = lifetime(record)
    assert got == dt.timedelta(microseconds=micros), (
        f"create with ttl_seconds {ttl}: the session lives {got}, not {micros} whole microseconds"
    )


@requirement("STORE-031")
@pytest.mark.parametrize("name", list(BAD_OWNERS))
def test_every_scoped_operation_rejects_an_invalid_owner(store, name):
    bad = BAD_OWNERS[name]
    before = store.create("s", ttl_seconds=60, state={"v": 1})
    with expect_error("invalid_argument", f"get with a {name} owner"):
        store.get("s", owner=bad)
    with expect_error("invalid_argument", f"touch with a {name} owner"):
        store.touch("s", owner=bad)
    with expect_error("invalid_argument", f"update_state with a {name} owner"):
        store.update_state("s", {"v": 2}, owner=bad)
    with expect_error("invalid_argument", f"delete with a {name} owner"):
        store.delete("s", owner=bad)
    with expect_error("invalid_argument", f"list with a {name} owner"):
        store.list(owner=bad)
    store.advance(1)
    assert_same_session(store.get("s"), before, f"the session after calls with a {name} owner")


#: Calls that meet two error conditions, the first in precedence invalid_argument, each with a probe:
#: the invalid argument alone, whose answer the requirement named beside it judges.
SEVERAL_FAULTS: dict[str, tuple[Any, Any, str]] = {
    "create: bad ttl, live id": (
        lambda s: s.create("held", ttl_seconds=0),
        lambda s: s.create("free", ttl_seconds=0),
        "STORE-007",
    ),
    "create: bad owner, live id": (
        lambda s: s.create("held", owner=""),
        lambda s: s.create("free", owner=""),
        "STORE-031",
    ),
    "create: bad state, live id": (
        lambda s: s.create("held", state=[1]),
        lambda s: s.create("free", state=[1]),
        "STORE-017",
    ),
    "update_state: bad state, missing id": (
        lambda s: s.update_state("ghost", "text"),
        lambda s: s.update_state("held", "text"),
        "STORE-017",
    ),
}


def probe(store: Any, call: Any, kind: str, relies_on: str, doing: str) -> None:
    """Judge nothing unless ``call`` alone fails with ``kind``, as ``relies_on`` demands (spec/README, "Blame").

    A crash of the single-fault call is ``relies_on``'s too: that call is not the one STORE-033
    judges, and ``relies_on``'s own tests make the crash a red line of its own (as ID's and HIST's
    precedence tests do).
    """
    try:
        call(store)
    except ImplementationError as exc:
        if exc.kind == kind:
            return
        not_judged(relies_on, f"{doing} alone failed with {exc.kind!r}, not {kind!r}: {exc.message}")
    not_judged(relies_on, f"{doing} alone succeeded instead of failing with {kind!r}")


@requirement("STORE-033")
@pytest.mark.parametrize("name", list(SEVERAL_FAULTS))
def test_of_several_errors_the_first_in_precedence_is_reported(store, name):
    call, alone, relies_on = SEVERAL_FAULTS[name]
    if relies_on == "STORE-007" and not store.ttl:
        not_judged("STORE-007", "the store does not claim store.ttl, so the kit sends it no TTL to get wrong")
    store.create("held", owner="alice")
    probe(store, alone, "invalid_argument", relies_on, "the invalid argument")
    with expect_error("invalid_argument", name):
        call(store)


#: Calls with one fault each, made on a closed handle: (the call, the kind it gets on an open one,
#: and the requirement that says so).
AFTER_CLOSE: dict[str, tuple[Any, str, str]] = {
    "create: bad owner": (lambda s: s.create("new", owner=""), "invalid_argument", "STORE-031"),
    "create: live id": (lambda s: s.create("held"), "conflict", "STORE-006"),
    "get: bad id": (lambda s: s.get(""), "invalid_argument", "STORE-005"),
    "touch: missing id": (lambda s: s.touch("ghost"), "not_found", "STORE-014"),
    "touch: bad owner": (lambda s: s.touch("held", owner=""), "invalid_argument", "STORE-031"),
    "update_state: bad state": (lambda s: s.update_state("held", None), "invalid_argument", "STORE-017"),
    "delete: bad id": (lambda s: s.delete(42), "invalid_argument", "STORE-005"),
    "list: bad owner": (lambda s: s.list(owner=""), "invalid_argument", "STORE-031"),
}


@requirement("STORE-033")
@pytest.mark.parametrize("name", list(AFTER_CLOSE))
def test_a_closed_handle_answers_closed_whatever_else_is_wrong(store, name):
    call, kind, relies_on = AFTER_CLOSE[name]
    store.create("held", owner="alice")
    probe(store, call, kind, relies_on, f"{name}, on an open handle,")
    store.close()
    probe(store, lambda s: s.get("held"), "closed", "STORE-023", "get() after close()")
    with expect_error("closed", f"{name}, after close()"):
        call(store)
