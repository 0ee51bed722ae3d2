"""Memory and SQLite against PostgreSQL, measured side by side in one run, written as JSON.

    python benchmarks/bench_postgres.py [--json FILE] [--rounds N]

Uses the server ``CONFORMANCE_POSTGRES_URL`` names, or starts a throw-away cluster
(tests/postgres_cluster.py).  Figures, each the median over ``--rounds`` rounds in which the
backends take turns, so that a noisy neighbour slows all of them alike:

``bcast``
    publish→receive latency (one ``publish`` then one ``receive`` on one subscription, per event:
    p50 and p95 in microseconds) and throughput (events per second for a burst of publishes and
    one ``receive`` per 64) for: the memory broadcaster; PostgreSQL, publisher and subscriber on one
    replica; PostgreSQL, publishing on one replica and receiving on another (two connections in this
    process: the server's round trips, without the kit's second process).
``store``
    session-store operations per second (create, get, touch, update_state, delete of 200
    sessions) for SQLite and PostgreSQL, one handle each.

Not a test: the figures depend on the machine; compare the ratios of one run.
"""

# ruff: noqa: INP001, T201 - a script run by path, whose output is its printed figures

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT)]

from conformance.contract import Environment, ManualClock  # noqa: E402 - after the path that finds it
from reference_impl.broadcast import MemoryBroadcaster  # noqa: E402
from reference_impl.broadcast_postgres import PostgresBroadcaster  # noqa: E402
from reference_impl.store_postgres import PostgresSessionStore  # noqa: E402
from reference_impl.store_sqlite import SQLiteSessionStore  # noqa: E402
from tests.postgres_cluster import ENV_VAR, cluster  # noqa: E402

LATENCY_EVENTS = 500
BURST_EVENTS = 2048
SESSIONS = 200


def event(n: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": {"n": n}}


def env() -> Environment:
    return Environment(storage_dir=Path(tempfile.mkdtemp(prefix="bench-")), clock=ManualClock())


def broadcasters(kind: str) -> tuple[Any, Any]:
    """(publisher, subscriber side) of one kind."""
    if kind == "memory":
        one = MemoryBroadcaster()
        return one, one
    where = env()
    first = PostgresBroadcaster.open(where)
    return (first, first) if kind == "postgres" else (first, PostgresBroadcaster.open(where))


def bcast_round(kind: str) -> dict[str, float]:
    publisher, side = broadcasters(kind)
    try:
        sub = side.subscribe("bench", buffer_size=BURST_EVENTS)
        latencies = []
        for n in range(LATENCY_EVENTS):
            start = time.perf_counter()
            publisher.publish(event(n))
            got = sub.receive()["events"]
            latencies.append(time.perf_counter() - start)
            assert len(got) == 1, got
        start = time.perf_counter()
        received = 0
        for n in range(BURST_EVENTS):
            publisher.publish(event(n))
            if n % 64 == 63:
                received += len(sub.receive()["events"])
        received += len(sub.receive()["events"])
        elapsed = time.perf_counter() - start
        assert received == BURST_EVENTS, received
        cuts = statistics.quantiles(latencies, n=20)
        return {
            "latency_p50_us": cuts[9] * 1e6,
            "latency_p95_us": cuts[18] * 1e6,
            "events_per_s": BURST_EVENTS / elapsed,
        }
    finally:
        publisher.close()
        side.close()


def store_round(kind: str) -> dict[str, float]:
    store = (SQLiteSessionStore if kind == "sqlite" else PostgresSessionStore).open(env())
    try:
        start = time.perf_counter()
        for n in range(SESSIONS):
            sid = f"s{n}"
            store.create(session_id=sid, ttl_seconds=60, state={"n": n})
            store.get(sid)
            store.touch(sid)
            store.update_state(sid, {"m": n})
            store.delete(sid)
        return {"ops_per_s": SESSIONS * 5 / (time.perf_counter() - start)}
    finally:
        store.close()


def side_by_side(measure: Any, kinds: list[str], rounds: int) -> dict[str, dict[str, float]]:
    runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    for _ in range(rounds):
        for kind in kinds:
            runs[kind].append(measure(kind))
    return {
        kind: {key: round(statistics.median(r[key] for r in results), 1) for key in results[0]}
        for kind, results in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=ROOT / "reports" / "bench-postgres.json")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = contextlib.nullcontext(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else cluster()
    with server as url:
        os.environ[ENV_VAR] = url
        figures = {
            "bcast": side_by_side(bcast_round, ["memory", "postgres", "postgres-two-replicas"], args.rounds),
            "store": side_by_side(store_round, ["sqlite", "postgres"], args.rounds),
        }
    figures["ratios"] = {
        "bcast_latency_p50_postgres_two_replicas_over_memory": round(
            figures["bcast"]["postgres-two-replicas"]["latency_p50_us"] / figures["bcast"]["memory"]["latency_p50_us"],
            1,
        ),
        "bcast_throughput_memory_over_postgres_two_replicas": round(
            figures["bcast"]["memory"]["events_per_s"] / figures["bcast"]["postgres-two-replicas"]["events_per_s"], 1
        ),
        "store_ops_sqlite_over_postgres": round(
            figures["store"]["sqlite"]["ops_per_s"] / figures["store"]["postgres"]["ops_per_s"], 2
        ),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
