"""STORE: state values, copies, delete, list, cleanup, close, owners and concurrency (spec/store.md)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from conformance._values import NON_JSON_KINDS, NonJSON
from conformance.areas._facade import UNSET
from conformance.errors import ImplementationError
from conformance.suite._store_support import (
    as_record,
    assert_record_format,
    assert_same_session,
    count_removed,
    ids_of,
)
from conformance.suite._support import (
    COLLIDING_IDS,
    LARGE_STATES,
    accepted,
    assert_json_equal,
    change_in_place,
    expect_error,
)

requirement = pytest.mark.requirement


NOT_OBJECTS: dict[str, Any] = {"string": "state", "array": [1, 2], "number": 5, "boolean": False}


@requirement("STORE-017")
@pytest.mark.parametrize("name", list(NOT_OBJECTS))
def test_state_that_is_not_an_object_is_rejected(store, name):
    with expect_error("invalid_argument", f"create with a {name} state"):
        store.create("s", state=NOT_OBJECTS[name])
    assert store.get("s") is None, f"create with a {name} state left a session behind"
    store.create("s", state={"v": 1})
    with expect_error("invalid_argument", f"update_state with a {name} state"):
        store.update_state("s", NOT_OBJECTS[name])
    with expect_error("invalid_argument", "update_state with a null state"):
        store.update_state("s", None)
    assert_json_equal(store.get("s")["state"], {"v": 1}, "the state after the rejected updates")


@requirement("STORE-017")
@pytest.mark.parametrize("kind", sorted(NON_JSON_KINDS))
@pytest.mark.parametrize("depth", ["top", "nested"])
def test_a_value_json_cannot_express_is_rejected_with_nothing_written(store, kind, depth):
    value = NonJSON(kind) if depth == "top" else {"deep": [1, NonJSON(kind)]}
    with expect_error("invalid_argument", f"create with a {kind} value ({depth})"):
        store.create("s", state={"good": 1, "bad": value})
    assert store.get("s") is None, f"create with a {kind} value left a session behind"
    store.create("s", state={"v": 1})
    with expect_error("invalid_argument", f"update_state with a {kind} value ({depth})"):
        store.update_state("s", {"good": 2, "bad": value})
    assert_json_equal(store.get("s")["state"], {"v": 1}, f"the state after an update with a {kind} value")


@requirement("STORE-008")
@pytest.mark.parametrize("name", list(LARGE_STATES))
def test_a_large_state_given_to_create_is_kept_exactly(store, name):
    if accepted(lambda: store.create("s", state=copy.deepcopy(LARGE_STATES[name]))):
        assert_json_equal(store.get("s")["state"], LARGE_STATES[name], f"the {name} state given to create")


@requirement("STORE-015")
@pytest.mark.parametrize("name", list(LARGE_STATES))
def test_a_large_state_update_is_merged_exactly(store, name):
    store.create("s", state={"kept": 1})
    if accepted(lambda: store.update_state("s", copy.deepcopy(LARGE_STATES[name]))):
        expected = {"kept": 1, **LARGE_STATES[name]}
        assert_json_equal(store.get("s")["state"], expected, f"the state after merging the {name} state")


@requirement("STORE-018")
def test_the_store_keeps_no_reference_to_state_it_was_given(store):
    original: dict[str, Any] = {"tags": ["a"], "meta": {"n": 1}}
    given = copy.deepcopy(original)
    store.create("s", state=given)
    changes = [
        (["state", "tags"], "append", "changed"),
        (["state", "meta", "n"], "set", 2),
        (["state", "extra"], "set", True),
    ]
    change_in_place(store.driver, "args", {"state": given}, changes, relies_on="STORE-008/STORE-015")
    assert_json_equal(store.get("s")["state"], original, "the state after the caller changed what it passed to create")
    update = {"more": {"x": [1]}}
    store.update_state("s", update)
    change_in_place(
        store.driver, "args", {"state": update}, [(["state", "more", "x"], "append", 2)], relies_on="STORE-015"
    )
    assert_json_equal(
        store.get("s")["state"], {**original, "more": {"x": [1]}}, "after changing update_state's argument"
    )


def vandalise(store: Any, record: Any, *at: int) -> None:
    """What a careless caller does to a record it was handed (at ``at`` in a list of them)."""
    changes = [
        ([*at, "state", "tags"], "append", "intruder"),
        ([*at, "state", "meta", "n"], "set", 99),
        ([*at, "state", "new"], "set", True),
        ([*at, "owner"], "set", "mallory"),
        ([*at, "expires_at"], "set", "2099-01-01T00:00:00Z"),
    ]
    change_in_place(store.driver, "result", record, changes, relies_on="STORE-008/STORE-015")


@requirement("STORE-018")
def test_changing_a_returned_record_never_changes_the_store(store):
    original = store.create("s", ttl_seconds=60, state={"tags": ["a"], "meta": {"n": 1}})
    expected = copy.deepcopy(original)
    vandalise(store, original)
    vandalise(store, store.get("s"))
    vandalise(store, store.list(), 0)
    assert_same_session(store.get("s"), expected, "get() after the caller changed records it was handed")
    expected = copy.deepcopy(store.touch("s"))
    vandalise(store, store.touch("s"))
    touched = store.get("s")
    assert_same_session(touched, expected, "get() after the caller changed the record touch() returned")
    expected = copy.deepcopy(store.update_state("s", {"k": 1}))
    vandalise(store, store.update_state("s", {"k": 1}))
    assert_same_session(store.get("s"), expected, "get() after the caller changed the record update_state() returned")


@requirement("STORE-019")
def test_delete_removes_and_is_idempotent(store):
    store.create("s", state={"v": 1})
    store.delete("s")
    assert store.get("s") is None, "the session survived delete()"
    store.delete("s")
    store.delete("never-created")
    if store.ttl:  # a store without expiry has no expired session
        store.create("old", ttl_seconds=1)
        store.advance(2)
        store.delete("old")
    assert ids_of(store.list(), "list() after the deletes") == []
    assert_json_equal(store.create("s")["state"], {}, "a session re-created after delete starts empty")


@requirement("STORE-019")
def test_delete_of_a_session_the_caller_cannot_see_changes_nothing(store):
    mine = store.create("s", owner="alice", ttl_seconds=10, state={"v": 1})
    store.delete("s", owner="bob")
    assert_same_session(store.get("s"), mine, "alice's session after a delete scoped to bob")


@requirement("STORE-020")
def test_list_returns_exactly_the_live_sessions(store):
    created = {
        sid: store.create(sid, owner=owner, ttl_seconds=10)
        for sid, owner in (("a", "alice"), ("b", "bob"), ("c", None), ("a2", "alice"))
    }
    if store.ttl:  # a store without expiry has no expired session to leave out
        store.create("dead", owner="alice", ttl_seconds=1)
    store.create("gone", owner="alice")
    store.delete("gone")
    store.advance(1)
    listed = store.list()
    assert sorted(ids_of(listed, "list()")) == ["a", "a2", "b", "c"]
    for record in listed:
        assert_same_session(record, created[record["id"]], f"the listed record of {record['id']!r}")
    assert sorted(ids_of(store.list(owner="alice"), "list(owner='alice')")) == ["a", "a2"]
    assert ids_of(store.list(owner="bob"), "list(owner='bob')") == ["b"]
    assert ids_of(store.list(owner="carol"), "list(owner='carol')") == []


@requirement("STORE-021")
def test_list_returns_the_oldest_session_first_then_by_id(store):
    store.create("z")
    store.advance(0.25)
    store.create("y")
    store.create("x")
    store.advance(0.25)
    store.create("a")
    assert ids_of(store.list(), "list()") == ["z", "x", "y", "a"]


@requirement("STORE-021")
def test_ids_created_at_one_instant_are_listed_in_code_point_order(store):
    # U+FF41 comes before U+1F600 by code point, after it in UTF-16 (a surrogate pair) and in
    # many collations; "B" comes before "a" by code point, after it case-insensitively.
    ids = ["\U0001f600", "\uff41", "a", "B", "\u00e9"]
    for sid in ids:
        store.create(sid)
    assert ids_of(store.list(), "list()") == sorted(ids), "ids created at one instant are not in code point order"


@requirement("STORE-022")
def test_cleanup_removes_every_expired_session_and_counts_it(store):
    # Expired sessions are absent to every other operation, so what cleanup removed shows in its
    # count alone: the first cleanup counts both, and a second finds nothing left to remove.
    store.create("a", ttl_seconds=1)
    store.create("b", ttl_seconds=2)
    store.create("c", ttl_seconds=5, state={"v": 1})
    store.advance(2)
    removed = count_removed(store, "cleanup() with two expired sessions")
    assert removed == 2, f"cleanup() with two expired sessions returned {removed!r}"
    assert count_removed(store, "a second cleanup()") == 0, "a second cleanup() found more to remove"


@requirement("STORE-038")
def test_cleanup_keeps_every_live_session_and_returns_a_count(store):
    # Two hours of TTL where sessions expire, and an hour idle: cleanup is not an idle timeout.
    kept = {sid: store.create(sid, ttl_seconds=7200, state={"v": sid}) for sid in "abc"}
    removed = store.cleanup()
    assert type(removed) is int, f"cleanup() returned {removed!r}, not an integer"
    assert removed == 0, f"cleanup() with only live sessions says it removed {removed!r}"
    store.advance(3600.5)
    removed = store.cleanup()
    assert type(removed) is int and removed == 0, f"cleanup() with only live sessions returned {removed!r}"
    for sid, record in kept.items():
        assert_same_session(store.get(sid), record, f"session {sid!r} after cleanup()")
    assert sorted(ids_of(store.list(), "list() after cleanup")) == ["a", "b", "c"]


OPERATIONS = {
    "create": lambda s: s.create("new"),
    "get": lambda s: s.get("s"),
    "touch": lambda s: s.touch("s"),
    "update_state": lambda s: s.update_state("s", {"k": 1}),
    "delete": lambda s: s.delete("s"),
    "list": lambda s: s.list(),
    "cleanup": lambda s: s.cleanup(),
}


@requirement("STORE-023")
def test_close_is_idempotent_and_every_later_operation_fails_with_closed(store):
    store.create("s")
    store.close()
    store.close()
    for name, call in OPERATIONS.items():
        with expect_error("closed", f"{name}() after close()"):
            call(store)


@requirement("STORE-024")
def test_a_session_is_absent_to_every_other_owner(store):
    mine = store.create("s", owner="alice", ttl_seconds=10, state={"secret": 1})
    store.create("anon", ttl_seconds=10)
    for sid in ("s", "anon"):
        assert store.get(sid, owner="bob") is None, f"bob can read {sid!r}"
        with expect_error("not_found", f"bob touches {sid!r}"):
            store.touch(sid, owner="bob")
        with expect_error("not_found", f"bob updates {sid!r}"):
            store.update_state(sid, {"secret": 2}, owner="bob")
        store.delete(sid, owner="bob")
    assert ids_of(store.list(owner="bob"), "list(owner='bob')") == []
    assert_same_session(store.get("s", owner="alice"), mine, "alice's session after bob's attempts")
    assert store.get("anon") is not None, "bob deleted an anonymous session"
    assert_same_session(store.get("s"), mine, "alice's session, read unscoped")


@requirement("STORE-024")
@pytest.mark.parametrize("name", list(COLLIDING_IDS))
def test_owners_differing_in_one_code_point_see_only_their_own_session(store, name):
    # Both owners of a pair that a prefix scan, a wildcard match, truncation or a lossy encoding
    # would merge hold a session; a call scoped to one must not see the other's.
    first, second = COLLIDING_IDS[name]
    store.create("one", owner=first)
    store.create("two", owner=second)
    for owner, mine, theirs in ((first, "one", "two"), (second, "two", "one")):
        assert store.get(theirs, owner=owner) is None, f"the {name} owner {owner!r} can read the other's session"
        got = ids_of(store.list(owner=owner), f"list(owner={owner!r})")
        assert got == [mine], f"list() scoped to the {name} owner {owner!r} returned {got}, not only {mine!r}"


#: How a test leaves the owner out of a call: absent, or sent as null (the same, spec/store.md § Operations).
UNSCOPED = {"absent": UNSET, "null": None}


@requirement("STORE-030")
@pytest.mark.parametrize("how", list(UNSCOPED))
def test_a_call_without_an_owner_sees_every_session(store, how):
    owner = UNSCOPED[how]
    created = {
        sid: store.create(sid, owner=who, ttl_seconds=10) for sid, who in (("a", "alice"), ("b", "bob"), ("n", None))
    }
    assert sorted(ids_of(store.list(owner=owner), f"list() with the owner {how}")) == ["a", "b", "n"]
    for sid, record in created.items():
        assert_same_session(store.get(sid, owner=owner), record, f"get({sid!r}) with the owner {how}")
    store.advance(1)
    for sid in created:
        as_record(store.touch(sid, owner=owner), f"touch({sid!r}) with the owner {how}")
        updated = store.update_state(sid, {"seen": sid}, owner=owner)
        assert_json_equal(as_record(updated, f"update_state({sid!r})").get("state"), {"seen": sid}, "its state")
        store.delete(sid, owner=owner)
        assert sid not in ids_of(store.list(), "list()"), (
            f"delete({sid!r}) with the owner {how} left the session in place"
        )


@requirement("STORE-025")
def test_of_concurrent_creates_of_one_id_exactly_one_succeeds(store):
    calls = [store.op("create", id="race", owner=f"o{i}", ttl_seconds=60, state={"n": i}) for i in range(10)]
    results = store.driver.concurrently(calls)
    wins = [r for r in results if not isinstance(r, ImplementationError)]
    losses = [r for r in results if isinstance(r, ImplementationError)]
    assert len(wins) == 1, f"{len(wins)} of 10 concurrent creates of one id succeeded"
    assert all(r.kind == "conflict" for r in losses), f"losers failed as {sorted({r.kind for r in losses})}"
    assert_same_session(store.get("race"), wins[0], "the stored session after the race (the winner's)")


@requirement("STORE-026")
def test_concurrent_state_updates_of_different_keys_lose_nothing(store):
    store.create("shared", state={"base": True})
    results = store.driver.concurrently([store.op("update_state", id="shared", state={f"k{i}": i}) for i in range(20)])
    failed = [r for r in results if isinstance(r, ImplementationError)]
    assert not failed, f"a concurrent update_state failed: {failed[0]}" if failed else ""
    expected = {"base": True, **{f"k{i}": i for i in range(20)}}
    assert_json_equal(store.get("shared")["state"], expected, "the state after 20 concurrent updates")


@requirement("STORE-036")
def test_every_record_matches_the_record_schema_of_the_claims(store):
    def check(record: Any, doing: str) -> None:
        assert_record_format(record, doing, ttl=store.ttl)

    check(store.create("s", owner="alice", ttl_seconds=60.5, state={"k": [1, {"n": None}]}), "create('s')")
    check(store.create(state={"minted": True}), "create() without an id")
    check(store.create("anon", ttl_seconds=60), "create('anon')")
    store.advance(0.1)
    check(store.get("s", owner="alice"), "get('s')")
    check(store.touch("s", owner="alice"), "touch('s')")
    check(store.update_state("s", {"more": "x"}, owner="alice"), "update_state('s')")
    check(store.touch("anon"), "touch('anon')")
    listed = store.list()
    assert isinstance(listed, list), f"list() returned {listed!r}, not an array"
    for record in listed:
        check(record, "a record list() returned")
