"""Fast feedback without a weaker verdict: order, progress, replay by seed, a pipe that never hangs."""

from __future__ import annotations

import io
import sys
import time

import pytest

from conformance import _runner
from conformance._connection import Connection
from conformance._data import suite_dir
from conformance.errors import ImplementationFault
from conformance.serve import _arrivals

MODEL = "test_hist_model.py::test_any_sequence_of_operations_matches_the_model"  # as the suite names it


def test_plain_tests_run_before_searches(pytester):
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess(
        "--impl=reference_impl:memory", "--collect-only", "-q", "-p", "no:cacheprovider", str(suite_dir())
    )
    ids = [line for line in result.stdout.lines if "::" in line]
    searches = [i for i, nodeid in enumerate(ids) if "_model.py" in nodeid or "any_json_objects" in nodeid]
    assert searches, "no model test collected"
    assert searches == list(range(len(ids) - len(searches), len(ids))), "a search runs before a plain test"


def test_a_long_model_test_says_how_far_it_got(run_kit, monkeypatch):
    monkeypatch.setattr(_runner, "PROGRESS_EVERY", 0.0)
    run = run_kit("reference_impl:memory", MODEL)
    lines = [line for line in run.result.stdout.lines if "programs run in" in line]
    assert lines, run.result.stdout.str()[-2000:]
    assert lines[0].startswith("conformance: ")
    assert MODEL in lines[0]


def test_a_short_test_prints_no_progress(run_kit):
    run = run_kit("reference_impl:memory", MODEL)
    assert not [line for line in run.result.stdout.lines if "programs run in" in line]


def test_while_the_kit_runs_hypothesis_draws_no_constants_from_loaded_project_modules(pytester):
    """Hypothesis mixes constants from loaded project modules into its draws, so a seed's examples
    would depend on what happened to be imported (a full run, a ``rerun:`` line, an xdist worker).
    """
    from hypothesis.internal.conjecture import providers

    from conformance._reproducible import restore, without_local_constants

    if not hasattr(providers, "_get_local_constants"):
        pytest.skip("not claimed: this Hypothesis has no local-constant pool to switch off")
    pytester.syspathinsert()
    pytester.makepyfile(noisy_constants='WORDS = ["quokkanarwhal"]\nNUMBER = 987654321\n')
    without_local_constants()
    try:
        __import__("noisy_constants")
        pool = providers._get_local_constants()
        assert "quokkanarwhal" not in pool.strings
        assert 987654321 not in pool.integers
    finally:
        restore()
    pool = providers._get_local_constants()
    assert "quokkanarwhal" in pool.strings, "restore() did not give Hypothesis its pool back"


def test_requests_that_arrive_together_are_handled_together():
    stream = io.BytesIO(b'{"id": 1}\n{"id": 2}\n')
    assert list(_arrivals(stream)) == [[b'{"id": 1}\n'], [b'{"id": 2}\n']]  # no descriptor: a line at a time


def test_an_adapter_that_stops_reading_its_stdin_times_out_instead_of_blocking_the_kit():
    deaf = Connection([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        started = time.monotonic()
        request = deaf.send("kit.hello", {"padding": "x" * (4 << 20)})  # far more than a pipe holds
        with pytest.raises(ImplementationFault, match=r"did not read request 0 \(kit\.hello\) from its stdin"):
            deaf.wait([request], timeout=0.5)
        assert time.monotonic() - started < 5
        assert not deaf.alive
    finally:
        deaf.close()


def test_an_adapter_that_exits_between_requests_is_noticed_before_the_next():
    brief = Connection([sys.executable, "-c", "import sys; sys.stderr.write('bye\\n')"])
    try:
        brief.proc.wait(10)
        assert not brief.alive
        assert brief.fault is not None
        assert "exited with status 0" in str(brief.fault)
        assert "bye" in str(brief.fault)
    finally:
        brief.close()


@pytest.mark.parametrize(("few", "many"), [(3, 10), (1, 5), (5, 5), (4, 1), (0, 7), (11, 397)])
def test_searches_are_spread_evenly_for_parallel_workers(few, many):
    searches, plain = [f"s{i}" for i in range(few)], [f"p{i}" for i in range(many)]
    order = _runner.spread(searches, plain)
    assert sorted(order) == sorted(searches + plain), "a test was lost or repeated"
    assert [t for t in order if t.startswith("s")] == searches, "searches out of order"
    assert [t for t in order if t.startswith("p")] == plain, "plain tests out of order"
    if few and many >= few:
        halves = order[: len(order) // 2], order[len(order) // 2 :]
        counts = [sum(t.startswith("s") for t in half) for half in halves]
        assert abs(counts[0] - counts[1]) <= 1, f"searches bunched: {counts} in the two halves"
