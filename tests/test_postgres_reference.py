"""The PostgreSQL reference: a replica whose connection is killed (``pg_terminate_backend``), and large events.

What spec/bcast.md § Replicas and a broken connection describes, checked on the reference itself
(the kit cannot kill an arbitrary implementation's connection): the broken replica's subscriptions
end as ``dropped`` and the call that meets the break fails with ``unavailable`` or, for a
subscriber, reads ``dropped``; the next call reconnects; the healthy replica loses nothing
published after a successful ``publish`` and nobody receives an event twice.  A store replica
whose connection was killed between calls reconnects without the caller noticing.
"""

from __future__ import annotations

import psycopg
import pytest

from conformance.contract import Environment, ManualClock
from reference_impl.broadcast_postgres import PostgresBroadcaster
from reference_impl.store_postgres import PostgresSessionStore


def kill(url, replica):
    """Terminate the server process behind ``replica``'s connection, as an operator or a failover would."""
    pid = replica._db.info.backend_pid
    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
    return pid


def event(n):
    return {"jsonrpc": "2.0", "method": "notifications/test", "params": {"n": n}}


def ns(answer):
    return [e["params"]["n"] for e in answer["events"]]


@pytest.fixture
def env(tmp_path):
    return Environment(storage_dir=tmp_path, clock=ManualClock())


@pytest.fixture
def replicas(postgres, env):
    a, b = PostgresBroadcaster.open(env), PostgresBroadcaster.open(env)
    yield a, b
    a.close()
    b.close()


def test_a_subscriber_on_the_broken_replica_reads_dropped_and_the_healthy_replica_loses_nothing(postgres, replicas):
    a, b = replicas
    on_a, on_b = a.subscribe("a", buffer_size=8), b.subscribe("b", buffer_size=8)
    a.publish(event(1))
    kill(postgres, a)
    b.publish(event(2))  # published after a successful return: every live subscriber on b gets it
    assert on_a.receive() == {"events": [event(1)], "ended": "dropped"}, "what the broken replica's subscriber reads"
    assert a.subscriber_count() == 0
    a.publish(event(3))  # the next call reconnects
    later = a.subscribe("a2", buffer_size=8)
    b.publish(event(4))
    assert ns(on_b.receive()) == [1, 2, 3, 4], "the healthy replica's subscriber lost or repeated an event"
    assert later.receive() == {"events": [event(4)], "ended": None}, "a subscription after the reconnect"


def test_a_publish_that_meets_the_break_fails_with_unavailable_and_publishes_nothing(postgres, replicas):
    a, b = replicas
    on_a, on_b = a.subscribe("a", buffer_size=8), b.subscribe("b", buffer_size=8)
    kill(postgres, a)
    with pytest.raises(Exception) as caught:
        a.publish(event(1))
    assert getattr(caught.value, "error_kind", None) == "unavailable", repr(caught.value)
    assert on_a.receive()["ended"] == "dropped"
    a.publish(event(2))
    assert ns(on_b.receive()) == [2], "the failed publish reached the other replica, or the next was lost"


def test_killing_both_connections_in_turn_never_delivers_twice(postgres, replicas):
    a, b = replicas
    on_b = b.subscribe("b", buffer_size=64)
    for n in range(1, 21):
        if n % 5 == 0:
            kill(postgres, a)
            with pytest.raises(Exception, match="broke"):
                a.publish(event(n))
            continue
        a.publish(event(n))
    assert ns(on_b.receive()) == [n for n in range(1, 21) if n % 5], "events lost or repeated across breaks"


def test_a_store_replica_reconnects_when_its_backend_was_killed_between_calls(postgres, env):
    a, b = PostgresSessionStore.open(env), PostgresSessionStore.open(env)
    try:
        created = a.create(session_id="s", ttl_seconds=60, state={"v": 1})
        before = kill(postgres, a)
        assert a.get("s") == created, "the call after the break"
        assert a._db.info.backend_pid != before
        assert b.update_state("s", {"w": 2})["state"] == {"v": 1, "w": 2}
        assert a.get("s")["state"] == {"v": 1, "w": 2}
    finally:
        a.close()
        b.close()


def test_an_event_larger_than_a_notify_payload_reaches_every_replica(replicas):
    a, b = replicas
    on_a, on_b = a.subscribe("a", buffer_size=8), b.subscribe("b", buffer_size=8)
    big = {"jsonrpc": "2.0", "method": "notifications/big", "params": {"text": "é" * 9000}}
    a.publish(event(1))
    a.publish(big)
    b.publish(event(2))
    for sub in (on_a, on_b):
        assert sub.receive() == {"events": [event(1), big, event(2)], "ended": None}


def test_without_postgresql_the_cluster_says_how_to_install_it(monkeypatch, tmp_path):
    import tests.postgres_cluster as pg

    monkeypatch.setattr(pg, "DEBIAN", tmp_path)
    monkeypatch.setattr(pg.shutil, "which", lambda name: None)
    with pytest.raises(pg.NoPostgres, match="apt-get install postgresql"), pg.cluster():
        pytest.fail("a cluster started without binaries")
