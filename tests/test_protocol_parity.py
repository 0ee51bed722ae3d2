"""The adapter protocol changes nothing: the reference gives the same outcomes through it as in process.

``python -m conformance.serve`` serves any in-process implementation over the
protocol, so running the whole suite against the reference both ways, with one
Hypothesis seed, compares the transports requirement by requirement and test by
test, for every area the kit has.  The in-process run is also the reference's
own check (it passes every requirement it claims), with a new seed every time:
what a search has not found yet, another run may.
"""

from __future__ import annotations

import random
import shlex

import pytest

from tests.conftest import assert_passes_every_claimed_requirement, serve_command


def outcomes_by_requirement(run) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {r["id"]: (r["outcome"], tuple(r.get("failure_kinds", ()))) for r in run.report["requirements"]}


def outcomes_by_test(run) -> dict[str, str]:
    return {t["nodeid"]: t["outcome"] for r in run.report["requirements"] for t in r["tests"]}


# Every message is validated against schemas/protocol/ on one backend; once is enough to prove
# conformance.serve speaks the schema, and validation doubles the run's time.
@pytest.mark.heavy
@pytest.mark.parametrize(
    ("target", "checked"), [("reference_impl", ()), ("reference_impl:memory", ("--conformance-debug-protocol",))]
)
def test_the_reference_has_the_same_outcome_for_every_requirement_through_the_protocol(run_kit, target, checked):
    seed = str(random.SystemRandom().randrange(10**9))
    in_process = run_kit(target, f"--hypothesis-seed={seed}")
    command = shlex.join(serve_command(target))
    over_protocol = run_kit(f"exec:{command}", f"--hypothesis-seed={seed}", *checked)

    rerun = f"rerun: python -m pytest --impl={target} --hypothesis-seed={seed}"
    assert_passes_every_claimed_requirement(in_process, rerun)
    assert over_protocol.report["implementation"]["claims"] == in_process.report["implementation"]["claims"]
    expected, got = outcomes_by_requirement(in_process), outcomes_by_requirement(over_protocol)
    differ = {rid: (expected[rid], got.get(rid)) for rid in expected if expected[rid] != got.get(rid)}
    assert not differ, f"requirement: (in process, over the protocol): {differ}\n{rerun}"
    assert outcomes_by_test(over_protocol) == outcomes_by_test(in_process), rerun
    assert over_protocol.report["summary"] == in_process.report["summary"], rerun
