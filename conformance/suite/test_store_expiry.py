"""STORE: timestamps, expiry, touch and update_state, all on the kit's clock (spec/store.md).

A store that does not claim ``store.ttl`` has no expiry: the tests of requirements about time are
skipped for it, and the others check their expired cases only where sessions can expire.
"""

from __future__ import annotations

import pytest

from conformance.areas.store import RECORD_FIELDS
from conformance.errors import ImplementationError
from conformance.suite._store_support import as_record, assert_same_session, assert_times, count_removed, ids_of
from conformance.suite._support import assert_json_equal, expect_error, not_judged, show

requirement = pytest.mark.requirement


@requirement("STORE-008")
def test_a_new_session_starts_now_with_the_owner_and_state_given(store):
    store.advance(1.5)
    record = as_record(store.create("s", owner="alice", ttl_seconds=0.25, state={"k": [1]}), "create at t=1.5")
    assert_times(record, "create at t=1.5", created=1.5, active=1.5)
    assert_json_equal(
        {k: record.get(k) for k in ("id", "owner", "state")},
        {"id": "s", "owner": "alice", "state": {"k": [1]}},
        "the fields of the new record",
    )
    assert_same_session(store.get("s", owner="alice"), record, "get() right after create")


@requirement("STORE-008")
def test_an_anonymous_session_without_state_has_null_owner_and_empty_state(store):
    record = as_record(store.create("anon", ttl_seconds=90), "create without owner or state")
    assert record.get("owner") is None, f"an anonymous session has owner {record.get('owner')!r}, not null"
    assert_json_equal(record.get("state"), {}, "the state of a session created without one")
    assert_times(record, "create at t=0", created=0, active=0)


@requirement("STORE-008")
def test_a_null_owner_and_a_null_state_mean_what_their_absence_means(store):
    # A store without expiry gets a null TTL too: for it ttl_seconds is optional, and null is absence.
    ttl = 90 if store.ttl else None
    record = as_record(store.create("anon", owner=None, ttl_seconds=ttl, state=None), "create with null owner, state")
    assert record.get("owner") is None, f"create with owner null made a session owned by {record.get('owner')!r}"
    assert_json_equal(record.get("state"), {}, "the state of a session created with state null")
    assert_same_session(store.get("anon"), record, "get() right after create with null owner and state")


@requirement("STORE-035")
def test_a_new_session_expires_its_ttl_after_now(store):
    store.advance(1.5)
    record = as_record(store.create("s", ttl_seconds=0.25, state={"k": [1]}), "create at t=1.5 with ttl 0.25")
    assert_times(record, "create at t=1.5 with ttl 0.25", expires=1.75)
    assert_json_equal(record.get("ttl_seconds"), 0.25, "the ttl_seconds of the new record")
    stored = as_record(store.get("s"), "get() right after create")
    assert_times(stored, "get() right after create at t=1.5 with ttl 0.25", expires=1.75)
    assert_json_equal(stored.get("ttl_seconds"), 0.25, "the stored ttl_seconds")


@requirement("STORE-009")
@pytest.mark.parametrize("ttl", [1, 0.25, 3600])
def test_a_session_is_live_until_just_before_expires_at_and_absent_at_it(store, ttl):
    store.create("s", ttl_seconds=ttl)
    store.advance(ttl - 0.001)
    assert store.get("s") is not None, f"ttl {ttl}: the session is gone 1 ms before expires_at"
    store.advance(0.001)
    assert store.get("s") is None, f"ttl {ttl}: the session is still live at exactly expires_at"


@requirement("STORE-010")
def test_getting_a_missing_or_expired_session_returns_null(store):
    assert store.get("never-created") is None
    if store.ttl:  # a store without expiry has no expired session
        store.create("expires", ttl_seconds=1)
        store.advance(5)
        assert store.get("expires") is None, "get() of an expired session that was never cleaned up"
    store.create("deleted")
    store.delete("deleted")
    assert store.get("deleted") is None, "get() of a deleted session"


@requirement("STORE-011")
def test_every_operation_agrees_at_the_expiry_boundary(store):
    store.create("edge", ttl_seconds=1)
    store.create("live", ttl_seconds=5)
    store.advance(0.999)
    assert sorted(ids_of(store.list(), "list() 1 ms before the boundary")) == ["edge", "live"]
    assert count_removed(store, "cleanup() 1 ms before the boundary") == 0, (
        "cleanup() 1 ms before the boundary removed a live session"
    )
    store.advance(0.001)
    assert ids_of(store.list(), "list() at the boundary") == ["live"]
    # STORE-011 is about the predicate: touch and update_state must not act on the session as a
    # live one. Which answer an absent session gets is STORE-014's and STORE-016's to judge, so a
    # success that hands back no record (it found nothing to change) is not judged here.
    for name, call in (
        ("touch", lambda: store.touch("edge")),
        ("update_state", lambda: store.update_state("edge", {"late": True})),
    ):
        try:
            answer = call()
        except ImplementationError as exc:
            if exc.kind == "internal":
                raise  # a crash is not an answer (spec/contract.md)
            continue
        assert answer is None, f"{name}() at exactly expires_at treated the session as live: it returned {show(answer)}"
    assert ids_of(store.list(), "list() after touch() and update_state() at the boundary") == ["live"], (
        "touch() or update_state() at exactly expires_at brought the session back"
    )
    assert count_removed(store, "cleanup() at the boundary") == 1, (
        "cleanup() at exactly expires_at did not remove the expired session"
    )
    assert store.get("live") is not None


@requirement("STORE-012")
def test_the_id_of_an_expired_session_can_be_created_again_afresh(store):
    store.create("again", owner="alice", ttl_seconds=1, state={"old": True})
    store.advance(1)
    record = as_record(store.create("again", owner="bob", ttl_seconds=5, state={"new": 1}), "create over it")
    assert_times(record, "create over an expired session at t=1", created=1, active=1)
    assert record.get("owner") == "bob", f"the new session's owner is {record.get('owner')!r}"
    assert_json_equal(store.get("again")["state"], {"new": 1}, "the state of the re-created session")


@requirement("STORE-013")
def test_touch_sets_last_active_now_and_expiry_now_plus_ttl_at_full_precision(store):
    store.create("s", ttl_seconds=0.25)
    store.advance(0.1)
    assert_times(store.touch("s"), "touch at t=0.1 with ttl 0.25", expires=0.35)
    assert_times(store.get("s"), "get() after touch at t=0.1 with ttl 0.25", expires=0.35)
    store.advance(0.249)
    assert store.get("s") is not None, "the touched session expired before now + ttl"
    store.advance(0.002)  # past the boundary: what get answers at exactly expires_at is STORE-009's
    assert store.get("s") is None, "the touched session outlived now + ttl"


@requirement("STORE-013")
def test_touch_counts_from_now_not_from_the_old_expiry(store):
    store.create("s", ttl_seconds=90)
    store.advance(30)
    assert_times(store.touch("s"), "touch at t=30 with ttl 90", expires=120)
    assert_times(store.touch("s"), "a second touch at t=30", expires=120)


@requirement("STORE-037")
def test_touch_marks_the_session_active_now_and_changes_nothing_else(store):
    before = as_record(store.create("s", owner="alice", ttl_seconds=90, state={"k": [1]}), "create at t=0")
    store.advance(30.5)
    touched = as_record(store.touch("s", owner="alice"), "touch at t=30.5")
    assert_times(touched, "touch at t=30.5", active=30.5)
    moved = ("last_active_at", "expires_at")  # what touch may change; expires_at is STORE-013's
    expected = {f: touched.get(f) if f in moved else before.get(f) for f in RECORD_FIELDS}
    assert_same_session(touched, expected, "the record touch() returned (only last_active_at and expires_at move)")
    assert_same_session(store.get("s", owner="alice"), touched, "get() after touch (touch returns the updated record)")


@requirement("STORE-014")
def test_touching_a_missing_session_fails_with_not_found(store):
    with expect_error("not_found", "touch() of a session that never existed"):
        store.touch("ghost")
    assert store.get("ghost") is None, "touch() of a missing session created it"


@requirement("STORE-014")
def test_touch_never_revives_an_expired_session(store):
    # A store without expiry has no expired session; a deleted one is absent too, and the
    # sentence's "missing" covers it.  (The delete is STORE-019's; a session it left in place
    # is not judged here.)
    if not store.ttl:
        store.create("s", state={"k": 1})
        store.delete("s")
        if store.get("s") is not None:
            not_judged("STORE-019", "delete() left the session in place")
        with expect_error("not_found", "touch() of a deleted session"):
            store.touch("s")
        assert store.get("s") is None, "touch() revived a deleted session"
        return
    store.create("s", ttl_seconds=1, state={"k": 1})
    store.advance(1)
    with expect_error("not_found", "touch() of an expired session that was not cleaned up"):
        store.touch("s")
    store.advance(0.001)  # past the boundary: what get answers at exactly expires_at is STORE-009's
    assert store.get("s") is None, "touch() revived an expired session"
    assert ids_of(store.list(), "list() after touching an expired session") == []


@requirement("STORE-015")
def test_update_state_merges_top_level_keys_shallowly(store):
    store.create("s", state={"a": 1, "nested": {"x": 1, "y": 2}, "keep": "k"})
    record = store.update_state("s", {"a": 2, "nested": {"x": 9}, "new": None})
    expected = {"a": 2, "nested": {"x": 9}, "keep": "k", "new": None}
    assert_json_equal(record["state"], expected, "the state update_state returned")
    assert_json_equal(store.get("s")["state"], expected, "the stored state after update_state")
    assert_json_equal(store.update_state("s", {})["state"], expected, "update_state with {}")


@requirement("STORE-015")
def test_update_state_fills_an_empty_state_and_changes_nothing_else(store):
    before = as_record(store.create("s", owner="alice", ttl_seconds=10), "create")
    store.advance(0.5)
    record = as_record(store.update_state("s", {"k": 1}), "update_state")
    assert_json_equal(record["state"], {"k": 1}, "update_state on an empty state")
    expected = {**before, "state": {"k": 1}}
    assert_same_session(record, expected, "the record update_state returned (only the state may change)")
    assert_same_session(store.get("s"), expected, "get() after update_state (only the state may change)")


@requirement("STORE-016")
def test_update_state_of_a_missing_session_fails_and_writes_nothing(store):
    with expect_error("not_found", "update_state() of a session that never existed"):
        store.update_state("ghost", {"k": 1})
    assert store.get("ghost") is None, "update_state() of a missing session created it"


@requirement("STORE-016")
def test_update_state_of_an_expired_session_fails_and_writes_nothing(store):
    if not store.ttl:  # no session expires: a deleted one is the missing case (as for STORE-014)
        store.create("s", state={"v": 1})
        store.delete("s")
        if store.get("s") is not None:
            not_judged("STORE-019", "delete() left the session in place")
        with expect_error("not_found", "update_state() of a deleted session"):
            store.update_state("s", {"lost": True})
        assert store.get("s") is None, "update_state() revived a deleted session"
        return
    store.create("s", ttl_seconds=1, state={"v": 1})
    store.advance(1)
    with expect_error("not_found", "update_state() of an expired session"):
        store.update_state("s", {"lost": True})
    store.advance(0.001)  # past the boundary: what get answers at exactly expires_at is STORE-009's
    assert store.get("s") is None, "update_state() revived an expired session"
