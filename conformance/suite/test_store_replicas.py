"""STORE: two replicas, each in its own process, over one backend (spec/store.md, STORE-040 … STORE-044).

``store`` is the first replica and ``store_b`` the second: the kit runs the second in another
process over the same storage directory, and moves both clocks together (spec/contract.md § Replicas).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from conformance.errors import ImplementationError
from conformance.suite._store_support import assert_same_session, ids_of
from conformance.suite._support import expect_error, not_judged

if TYPE_CHECKING:
    from conformance.areas.store import StoreClient

requirement = pytest.mark.requirement


def advance(seconds: float, *replicas: StoreClient) -> None:
    """Move every replica's clock: they stand for servers that read one time."""
    for replica in replicas:
        replica.advance(seconds)


@requirement("STORE-040")
def test_what_one_replica_writes_the_other_reads(store, store_b):
    created = store.create("s", owner="alice", ttl_seconds=60, state={"v": 1})
    assert_same_session(store_b.get("s"), created, "the second replica reads a session the first created")
    updated = store_b.update_state("s", {"w": [1, 2]}, owner="alice")
    assert_same_session(store.get("s"), updated, "the first replica reads the second's update")
    advance(0.25, store, store_b)
    touched = store.touch("s")
    assert_same_session(store_b.get("s", owner="alice"), touched, "the second replica reads the first's touch")
    minted = store_b.create(ttl_seconds=30, state={"minted": True})
    assert_same_session(store.get(minted["id"]), minted, "the first replica reads a session the second minted")
    for replica, which in ((store, "first"), (store_b, "second")):
        assert sorted(ids_of(replica.list(), f"list() on the {which} replica")) == sorted(["s", minted["id"]])


@requirement("STORE-041")
def test_a_session_deleted_on_one_replica_is_gone_on_the_other(store, store_b):
    store.create("gone", ttl_seconds=60, state={"v": 1})
    store.create("kept", ttl_seconds=60)
    if store_b.get("gone") is None:
        not_judged("STORE-040", "the second replica does not read a session the first created")
    store_b.delete("gone")
    assert store.get("gone") is None, "the first replica still reads a session the second deleted"
    assert ids_of(store.list(), "list() on the first replica") == ["kept"]
    again = store.create("gone", ttl_seconds=60, state={"v": 2})
    assert_same_session(store_b.get("gone"), again, "the id of a deleted session, created anew, read on the other")


@requirement("STORE-042")
def test_replicas_agree_on_expiry_at_the_same_instants(store, store_b):
    if not store.ttl:  # without store.ttl no session expires: both replicas keep every session
        store.create("edge", ttl_seconds=1)
        if store_b.get("edge") is None:
            not_judged("STORE-040", "the second replica does not read a session the first created")
        advance(10 * 365 * 86400, store, store_b)
        assert store.get("edge") is not None, "the first replica expired a session in a store without expiry"
        assert store_b.get("edge") is not None, "the second replica expired a session in a store without expiry"
        return
    store.create("edge", ttl_seconds=1)
    store_b.create("long", ttl_seconds=5)
    advance(0.5, store, store_b)
    if store_b.get("edge") is None:
        not_judged("STORE-040", "the second replica does not read a session the first created")
    store_b.touch("edge")  # expires at 1.5 s now, on every replica
    advance(0.999999, store, store_b)
    assert store.get("edge") is not None, "the first replica expired a session the second touched, before its expiry"
    assert store_b.get("edge") is not None, "the session expired early on the replica that touched it"
    advance(0.000001, store, store_b)
    assert store.get("edge") is None, "the first replica still reads a session at its expiry instant"
    assert store_b.get("edge") is None, "the second replica still reads a session at its expiry instant"
    with expect_error("not_found", "touch() on the first replica of a session expired by the second's touch"):
        store.touch("edge")
    assert ids_of(store.list(), "list() on the first") == ids_of(store_b.list(), "list() on the second") == ["long"]
    assert store_b.cleanup() == 1, "cleanup() on the second replica did not remove the one expired session"
    assert store.cleanup() == 0, "cleanup() on the first replica found what the second already removed"


@requirement("STORE-043")
def test_an_id_held_on_one_replica_conflicts_on_the_other(store, store_b):
    store.create("held", ttl_seconds=60, state={"by": "first"})
    with expect_error("conflict", "create() on the second replica of an id the first holds"):
        store_b.create("held", ttl_seconds=60, state={"by": "second"})
    assert store.get("held")["state"] == {"by": "first"}, "a conflicting create on the other replica changed it"


@requirement("STORE-043")
def test_concurrent_creates_on_two_replicas_have_one_winner(store, store_b):
    def calls(replica):
        return [replica.op("create", id="race", ttl_seconds=60, state={"n": i}) for i in range(5)]

    results_b: list = []
    other = threading.Thread(target=lambda: results_b.extend(store_b.driver.concurrently(calls(store_b))))
    other.start()
    try:
        results = store.driver.concurrently(calls(store))
    finally:
        other.join()
    outcomes = results + results_b
    wins = [r for r in outcomes if not isinstance(r, ImplementationError)]
    assert len(wins) == 1, f"{len(wins)} of 10 creates of one id on two replicas succeeded"
    assert all(r.kind == "conflict" for r in outcomes if isinstance(r, ImplementationError))
    assert_same_session(store.get("race"), wins[0], "the winner, read on the first replica")


@requirement("STORE-044")
def test_closing_and_restarting_one_replica_changes_nothing_on_the_other(store, store_b):
    a = store.create("a", ttl_seconds=60, state={"v": 1})
    b = store_b.create("b", ttl_seconds=60, state={"v": 2})
    if store_b.get("a") is None:
        not_judged("STORE-040", "the second replica does not read a session the first created")
    store.close()
    store.reopen()
    for record, doing in ((a, "a session the restarted replica created"), (b, "the second replica's own session")):
        assert_same_session(
            store_b.get(record["id"]), record, f"the second replica after the first's restart reads {doing}"
        )
    c = store_b.create("c", ttl_seconds=60)  # what the replicas tell each other is STORE-040's
    assert_same_session(store_b.get("c"), c, "the second replica works on after the first's restart")
