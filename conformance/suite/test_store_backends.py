"""STORE: what survives a restart, and two handles over one shared backend (spec/store.md)."""

from __future__ import annotations

import pytest

from conformance.errors import ImplementationError
from conformance.suite._store_support import as_record, assert_same_session, count_removed, ids_of, restart
from conformance.suite._support import expect_error

requirement = pytest.mark.requirement


@requirement("STORE-027")
def test_sessions_survive_a_restart_unchanged(store):
    store.create("a", owner="alice", ttl_seconds=10, state={"v": 1})
    store.advance(0.25)
    store.touch("a")
    a = store.update_state("a", {"w": [1, 2]})
    minted = store.create(state={"minted": True})
    store.reopen()
    assert_same_session(store.get("a"), a, "session 'a' after a restart")
    assert_same_session(store.get(minted["id"]), minted, "a session with a minted id after a restart")
    assert sorted(ids_of(store.list(), "list() after a restart")) == sorted(["a", minted["id"]])


@requirement("STORE-039")
def test_sessions_still_expire_on_time_after_a_restart(store):
    # Whatever the store still holds after the restart (a store without store.persistent may hold
    # nothing) expires at the instant recorded before it: 1 s and 5 s, not 1 s and 5 s after the
    # restart at t=0.5.
    store.create("short", ttl_seconds=1)
    store.create("long", ttl_seconds=5)
    store.advance(0.5)
    restart(store)
    store.advance(0.5)
    assert store.get("short") is None, "a session outlived its expires_at across a restart"
    assert "short" not in ids_of(store.list(), "list() at t=1"), "list() shows a session past its expires_at"
    restart(store)
    store.advance(4)
    assert store.get("long") is None, "a session outlived its expires_at across two restarts"
    assert ids_of(store.list(), "list() at t=5") == [], "list() shows a session past its expires_at"


@requirement("STORE-027")
def test_an_id_held_before_a_restart_still_conflicts_after_it(store):
    store.create("held", ttl_seconds=60)
    store.reopen()
    with expect_error("conflict", "create() of an id created before the restart"):
        store.create("held")


@requirement("STORE-028")
def test_two_handles_see_each_others_writes(store):
    other = store.open_handle()
    created = store.create("s", owner="alice", ttl_seconds=10, state={"v": 1})
    assert_same_session(other.get("s"), created, "the second handle reads a session the first created")
    updated = other.update_state("s", {"w": 2})
    assert_same_session(store.get("s"), updated, "the first handle reads the second's update")
    store.advance(1)
    touched = store.touch("s")
    assert_same_session(other.get("s", owner="alice"), touched, "the second handle reads the first's touch")
    with expect_error("conflict", "create() on the second handle of an id the first created"):
        other.create("s")
    assert other.get("s", owner="bob") is None, "an owner binding that holds on one handle leaks on the other"
    other.delete("s")
    assert store.get("s") is None, "the first handle still reads a session the second deleted"


@requirement("STORE-028")
def test_two_handles_agree_on_expiry_and_cleanup(store):
    other = store.open_handle()
    store.create("edge", ttl_seconds=1)
    other.create("live", ttl_seconds=5)
    store.advance(1)
    if not store.ttl:  # nothing expires: the handles agree on what a clock that moved leaves
        assert_same_session(other.get("edge"), store.get("edge"), "'edge' read through each handle")
        assert sorted(ids_of(other.list(), "list() on the second handle")) == sorted(
            ids_of(store.list(), "list() on the first")
        ), "the handles list different sessions"
        return
    assert other.get("edge") is None and store.get("edge") is None, "the handles disagree at the boundary"
    with expect_error("not_found", "touch() of an expired session through the other handle"):
        other.touch("edge")
    assert (
        ids_of(other.list(), "list() on the second handle") == ids_of(store.list(), "list() on the first") == ["live"]
    )
    assert count_removed(other, "cleanup() on the second handle") == 1, "cleanup() on the second handle"
    assert count_removed(store, "cleanup() on the first handle") == 0, (
        "cleanup() on the first handle found what the second already removed"
    )


@requirement("STORE-028")
def test_a_touch_on_one_handle_keeps_the_session_live_on_the_other(store):
    # Act on one handle, move the clock, observe on the other: a handle that judges expiry by what
    # it last wrote itself would drop the session at t=2.5 although the other handle's touch at
    # t=1.5 moved its expiry to t=3.5.
    other = store.open_handle()
    if store.ttl:
        store.create("s", ttl_seconds=2)
    else:
        store.create("s")
    store.advance(1.5)
    other.touch("s")
    store.advance(1)
    assert store.get("s") is not None, "the first handle lost a session the second touched"
    assert ids_of(store.list(), "list() on the first handle") == ["s"], "the first handle does not list it"
    assert count_removed(store, "cleanup() on the first handle") == 0, "cleanup() on the first handle removed it"
    store.touch("s")


@requirement("STORE-028")
def test_concurrent_creates_through_two_handles_have_one_winner(store):
    other = store.open_handle()
    calls = [h.op("create", id="race", ttl_seconds=60, state={"n": i}) for i in range(5) for h in (store, other)]
    results = store.driver.concurrently(calls)
    wins = [r for r in results if not isinstance(r, ImplementationError)]
    assert len(wins) == 1, f"{len(wins)} of 10 creates of one id through two handles succeeded"
    assert all(r.kind == "conflict" for r in results if isinstance(r, ImplementationError))
    assert_same_session(other.get("race"), wins[0], "the winner, read through the second handle")


@requirement("STORE-032")
def test_closing_one_handle_leaves_the_other_open(store):
    other = store.open_handle()
    store.create("s")
    other.close()
    assert store.get("s") is not None, "closing the second handle closed the first, or lost its data"
    with expect_error("closed", "get() on the closed second handle"):
        other.get("s")


@requirement("STORE-034")
def test_a_restart_opens_a_working_store(store):
    # What survives a restart is STORE-027's, for a persistent store only, and what each answer
    # holds is the requirement about that operation's: this test reads no session created before
    # the restart, and asks only that every operation is accepted after it.
    store.create("before", ttl_seconds=60)
    store.close()
    store.reopen()
    as_record(store.create("after", ttl_seconds=10), "create() after the restart")
    assert store.get("after") is not None, "get() after the restart does not find the session just created"
    store.list()
    store.advance(1)
    store.touch("after")
    store.update_state("after", {"k": 1})
    store.delete("after")
    store.cleanup()
    as_record(store.create(ttl_seconds=10), "create() without an id after the restart")
