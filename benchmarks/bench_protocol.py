"""How much the adapter protocol costs: requests per second, and the whole kit's wall time.

    python benchmarks/bench_protocol.py [--requests N] [--json FILE]      (or: nox -s benchmark)

Two measurements, in one run, each reported as a ratio:

1. Requests per second through the kit's subprocess transport (``Connection``:
   writer, reader and stderr threads, id matching, JSON encoding and validation of
   replies) against a raw loop that writes a line and reads a line, both talking to
   the same echo subprocess (benchmarks/echo_adapter.py).  The ratio is the
   transport's overhead over the pipe itself.
2. Wall time of the whole conformance run against the reference over the protocol
   (``--impl="exec:python -m conformance.serve reference_impl"``) against in process
   (``--impl=reference_impl``), same seed, each as its own pytest process.

Not part of the pass/fail suite: timings depend on the machine.
"""

# ruff: noqa: INP001, T201 - a script run by path, whose output is its printed figures

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from conformance._connection import Connection
from conformance._protocol import encode_line, hello_args

HERE = Path(__file__).resolve().parent
ECHO = [sys.executable, str(HERE / "echo_adapter.py")]
ARGS = {"handle": "h1", "items": [{"role": "user", "content": "message 1", "n": 1}]}


def raw_rps(requests: int) -> float:
    """A line out, a line back, parsed: the floor any protocol over pipes pays."""
    proc = subprocess.Popen(ECHO, stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # noqa: S603 - our own script
    assert proc.stdin is not None
    assert proc.stdout is not None
    began = time.perf_counter()
    for rid in range(requests):
        proc.stdin.write(encode_line({"id": rid, "op": "hist.add_items", "instance": "i1", "args": ARGS}))
        proc.stdin.flush()
        json.loads(proc.stdout.readline())
    elapsed = time.perf_counter() - began
    proc.stdin.close()
    proc.wait()
    return requests / elapsed


def kit_rps(requests: int) -> float:
    """The same requests through the kit's transport, one at a time as a test sends them."""
    conn = Connection(ECHO)
    conn.wait([conn.send("kit.hello", hello_args())], 30)
    began = time.perf_counter()
    for _ in range(requests):
        conn.wait([conn.send("hist.add_items", ARGS, "i1")], 10)
    elapsed = time.perf_counter() - began
    conn.close()
    return requests / elapsed


def kit_run(impl: str) -> tuple[float, int]:
    command = [sys.executable, "-m", "pytest", f"--impl={impl}", "-q", "-p", "no:cacheprovider", "--hypothesis-seed=1"]
    began = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed command
    return time.perf_counter() - began, result.returncode


def calls_per_run(target: str) -> int:
    """How many operations one suite run sends (a request each, over the protocol), counted in process."""
    import os

    import pytest

    from conformance import driver

    count = 0
    call, concurrently = driver.Driver.call, driver.Driver.concurrently

    def counted_call(self: driver.Driver, op: str, args: dict) -> object:
        nonlocal count
        count += 1
        return call(self, op, args)

    def counted_concurrently(self: driver.Driver, calls: list) -> list:
        nonlocal count
        count += len(calls)
        return concurrently(self, calls)

    driver.Driver.call, driver.Driver.concurrently = counted_call, counted_concurrently  # type: ignore[method-assign]
    saved = sys.stdout
    try:
        with open(os.devnull, "w") as sys.stdout:  # noqa: PTH123
            pytest.main([f"--impl={target}", "-q", "-p", "no:cacheprovider", "--hypothesis-seed=1"])
    finally:
        sys.stdout = saved
        driver.Driver.call, driver.Driver.concurrently = call, concurrently  # type: ignore[method-assign]
    return count


def measure(*, requests: int, target: str, runs: int) -> dict[str, object]:
    """All of this module's figures, measured side by side."""
    kit_rps(200)  # warm up: imports, page cache
    # Best of several, alternating, so that a busy machine penalises both sides alike.
    raw = kit = 0.0
    for _ in range(3):
        raw = max(raw, raw_rps(requests))
        kit = max(kit, kit_rps(requests))
    bridge = "exec:" + shlex.join([sys.executable, "-m", "conformance.serve", target])
    pairs = [(kit_run(target), kit_run(bridge)) for _ in range(runs)]
    in_process, in_rc = min(r[0] for r in pairs)
    over_protocol, out_rc = min(r[1] for r in pairs)
    return {
        "requests": requests,
        "suite_runs_per_side": runs,
        "raw_echo_rps": round(raw),
        "kit_transport_rps": round(kit),
        "rps_ratio_kit_over_raw": round(kit / raw, 3),
        "suite_in_process_s": round(in_process, 2),
        "suite_over_protocol_s": round(over_protocol, 2),
        "wall_ratio_protocol_over_in_process": round(over_protocol / in_process, 3),
        "exit_codes": {"in_process": in_rc, "over_protocol": out_rc},
        "calls_per_suite_run": calls_per_run(target),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--target", default="reference_impl", help="in-process implementation for the wall-time run")
    parser.add_argument("--runs", type=int, default=2, help="whole-kit runs per side; the fastest counts")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args(argv)
    figures = measure(requests=options.requests, target=options.target, runs=options.runs)
    raw, kit = figures["raw_echo_rps"], figures["kit_transport_rps"]
    print(f"requests/s, raw JSON-line echo:            {raw:9}")
    print(f"requests/s, through the kit's transport:   {kit:9}   ratio {figures['rps_ratio_kit_over_raw']}")
    print(f"whole kit, in process ({options.target}):  {figures['suite_in_process_s']:7} s")
    ratio = figures["wall_ratio_protocol_over_in_process"]
    print(f"whole kit, over the protocol:              {figures['suite_over_protocol_s']:7} s   ratio {ratio}")
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2) + "\n")
    codes = figures["exit_codes"]
    assert isinstance(codes, dict)
    return 0 if codes["in_process"] == codes["over_protocol"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
