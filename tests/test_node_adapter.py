"""The Node.js example adapter (examples/node-adapter/) passes the kit through the adapter protocol.

It is the proof that an SDK port needs no Python: complete HIST and STORE implementations in
Node 20's standard library, tested through ``--impl="exec:node …/adapter.mjs"``.
CI has ``node`` on PATH (.ci/run guarantees it); only a machine without it skips.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ADAPTER = Path(__file__).resolve().parents[1] / "examples" / "node-adapter" / "adapter.mjs"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not on PATH; install Node.js 20 (CI has it)")


def test_the_node_adapter_passes_every_requirement_it_claims(run_kit):
    run = run_kit(f"exec:{NODE} {ADAPTER}", "--conformance-debug-protocol")
    claims = set(run.report["implementation"]["claims"])
    assert {
        "hist",
        "hist.persistent",
        "hist.shared-handles",
        "store",
        "store.ttl",
        "store.persistent",
        "store.shared-backend",
    } <= claims
    claimed = [r for r in run.report["requirements"] if r["capability"] in claims]
    not_passed = {r["id"]: (r["outcome"], r.get("failure_kinds")) for r in claimed if r["outcome"] != "passed"}
    assert not not_passed, f"{not_passed}\n{run.result.stdout.str()[-3000:]}"
    assert run.result.ret == pytest.ExitCode.OK
    for row in run.report["requirements"]:
        if row["capability"] not in claims:
            assert row["outcome"] == "skipped", row["id"]
            assert row["reason"] == f"not claimed: {row['capability']}"
