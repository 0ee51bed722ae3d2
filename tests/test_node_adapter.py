"""The Node.js example adapter (examples/node-adapter/) passes the kit through the adapter protocol.

It is the proof that an SDK port needs no Python: every area — HIST, STORE, ID (a client of the
agent service the kit plays, protocol 1.3), TASK, BCAST and LIFE (client and server) — in Node
20's standard library, tested through ``--impl="exec:node …/adapter.mjs"`` with
``--conformance-debug-protocol``, in one run of the whole suite.  For each area the adapter
claims what the on-disk reference claims, and every claimed requirement passes.
CI has ``node`` on PATH (.ci/run guarantees it); only a machine without it skips.
"""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import NODE_ADAPTER as ADAPTER
from tests.conftest import assert_passes_its_claims

#: The areas the adapter implements; for each, it claims everything the reference claims.
AREAS = ("hist", "store", "id", "task", "bcast", "life")
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not on PATH; install Node.js 20 (CI has it)")


@pytest.mark.heavy
def test_the_node_adapter_passes_every_requirement_it_claims(run_kit):
    run = run_kit(f"exec:{NODE} {ADAPTER}", "--conformance-debug-protocol")
    assert_passes_its_claims(run, AREAS)
