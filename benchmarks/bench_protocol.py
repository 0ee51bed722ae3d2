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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--target", default="reference_impl", help="in-process implementation for the wall-time run")
    parser.add_argument("--runs", type=int, default=2, help="whole-kit runs per side; the fastest counts")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args(argv)

    kit_rps(200)  # warm up: imports, page cache
    # Best of several, alternating, so that a busy machine penalises both sides alike.
    raw = max(raw_rps(options.requests) for _ in range(3))
    kit = max(kit_rps(options.requests) for _ in range(3))
    bridge = "exec:" + shlex.join([sys.executable, "-m", "conformance.serve", options.target])
    runs = [(kit_run(options.target), kit_run(bridge)) for _ in range(options.runs)]
    in_process, in_rc = min(r[0] for r in runs)
    over_protocol, out_rc = min(r[1] for r in runs)
    figures = {
        "requests": options.requests,
        "suite_runs_per_side": options.runs,
        "raw_echo_rps": round(raw),
        "kit_transport_rps": round(kit),
        "rps_ratio_kit_over_raw": round(kit / raw, 3),
        "suite_in_process_s": round(in_process, 2),
        "suite_over_protocol_s": round(over_protocol, 2),
        "wall_ratio_protocol_over_in_process": round(over_protocol / in_process, 3),
        "exit_codes": {"in_process": in_rc, "over_protocol": out_rc},
    }
    print(f"requests/s, raw JSON-line echo:            {raw:9.0f}")
    print(f"requests/s, through the kit's transport:   {kit:9.0f}   ratio {kit / raw:.2f}")
    print(f"whole kit, in process ({options.target}):  {in_process:7.2f} s")
    print(f"whole kit, over the protocol:              {over_protocol:7.2f} s   ratio {over_protocol / in_process:.2f}")
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if in_rc == out_rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
