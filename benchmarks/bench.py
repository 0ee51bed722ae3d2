"""Every speed figure the project tracks, measured side by side in one run, written as JSON.

    python benchmarks/bench.py [--json FILE] [--skip SECTION ...]      (or: nox -s benchmark -- --json FILE)

Sections (each a key of the JSON):

``protocol``
    Requests per second through the kit's subprocess transport against a raw JSON-line echo
    on the same pipe, and the whole kit over the protocol against in process
    (benchmarks/bench_protocol.py).  Also the pipe's floor: the raw echo's round trip times the
    number of calls one suite run makes, as a share of the in-process run.
``catch``
    For every miniature (tests/miniatures/), seconds of kit work from the start of its run to the
    first failing test of the requirement it breaks, with the suite and the implementation loaded
    once in this process (the way an editor's test runner or a watch loop keeps them).
``model_budget``
    Each model test (and seeded walk) at the default depth against the reference slowed to 5 ms
    per call (benchmarks/slow_impl.py): seconds, and whether it stays within 30 s.
``xdist``
    ``pytest --impl=reference_impl`` serial and with ``-n 2``, wall time, best of two each, with
    the CPU seconds each run used (its processes and theirs) and the speedup that CPU allows on
    this machine's cores: what ``-n 2`` could reach if its work were spread without a gap.
``judging``
    The kit's own tests of miniatures and variants (tests/test_miniatures.py, tests/test_blame.py),
    serially, on a sample (every ``--judging-every``-th test): each judged by replay (what runs
    by default, tests/_replay.py) and by its whole area (``CONFORMANCE_SELF_TEST_WHOLE=1``, as
    before the replay), side by side in one run; the median seconds per miniature and variant,
    the totals, and the ratio.
``self_tests``
    The kit's own tests (``pytest tests -n auto --dist loadgroup``, as ``nox -s tests``), wall time.
``readme_command``
    The README's test command, ``python3 -m nox`` (every default session), from a warm
    environment: ``nox --install-only`` runs first, untimed, so that what is timed is the command
    a developer types again, not the installation.  Wall time, and each session's result.

Not part of the pass/fail suite: timings depend on the machine, so ratios measured in one run
are what to compare.
"""

# ruff: noqa: INP001, T201 - a script run by path, whose output is its printed figures

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import bench_protocol  # noqa: E402 - after the path that finds it

SEED = "20261127"
SECTIONS = ("protocol", "catch", "model_budget", "xdist", "judging", "self_tests", "readme_command")


# -- catch -------------------------------------------------------------------------------------
class _Catch:
    """Notes when the first failing test of ``requirement`` reports, then ends the run."""

    def __init__(self, requirement: str, started: float) -> None:
        self.requirement = requirement
        self.started = started
        self.caught: float | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        cites = ("requirement", self.requirement) in report.user_properties  # the kit puts them there
        failed = report.failed or hasattr(report, "wasxfail")  # a SHOULD's failure reports as xfailed
        if self.caught is None and failed and cites:
            self.caught = time.perf_counter() - self.started

    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        if self.caught is not None:
            item.session.shouldstop = f"{self.requirement} caught"


def catch_times() -> dict[str, Any]:
    from tests.miniatures import all_miniatures

    quiet = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", f"--hypothesis-seed={SEED}"]
    times: dict[str, float | None] = {}
    with open(os.devnull, "w") as sink:  # noqa: PTH123 - a stream for redirect_stdout
        saved = sys.stdout
        sys.stdout = sink
        try:
            for mini in all_miniatures():
                started = time.perf_counter()
                probe = _Catch(mini.requirement, started)
                pytest.main([f"--impl={mini.target}", *quiet], plugins=[probe])
                times[mini.target] = None if probe.caught is None else round(probe.caught, 3)
                sys.stderr.write(f"  {mini.target}: {times[mini.target]} s ({time.perf_counter() - started:.1f} s)\n")
        finally:
            sys.stdout = saved
    caught = sorted(t for t in times.values() if t is not None)
    first, *rest = times.values()  # the first run also imports the suite
    later = [t for t in rest if t is not None]
    return {
        "miniatures": len(times),
        "caught": len(caught),
        "median_s": round(statistics.median(caught), 3) if caught else None,
        "p90_s": round(caught[int(len(caught) * 0.9)], 3) if caught else None,
        "max_s": max(caught, default=None),
        "first_run_s (imports the suite)": first,
        "median_of_the_rest_s": round(statistics.median(later), 3) if later else None,
        "not_caught": sorted(k for k, t in times.items() if t is None),
        "per_miniature_s": times,
    }


# -- model budget ------------------------------------------------------------------------------
class _Durations:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.failed: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.seconds[report.nodeid.split("::", 1)[1]] = round(report.duration, 2)
            if report.failed:
                self.failed.append(report.nodeid)


def model_budget(budget: float = 30.0) -> dict[str, Any]:
    durations = _Durations()
    target = "--impl=slow_impl:slow_memory"  # benchmarks/ is on sys.path
    args = [target, "-q", "-p", "no:cacheprovider", f"--hypothesis-seed={SEED}", "-k", "model or seeded_walk"]
    with open(os.devnull, "w") as sink:  # noqa: PTH123
        saved = sys.stdout
        sys.stdout = sink
        try:
            pytest.main(args, plugins=[durations])
        finally:
            sys.stdout = saved
    slowest = max(durations.seconds.values(), default=0.0)
    return {
        "delay_per_call_ms": 5,
        "depth": "quick (the default)",
        "budget_s": budget,
        "slowest_s": slowest,
        "within_budget": bool(durations.seconds) and slowest <= budget and not durations.failed,
        "failed": durations.failed,
        "per_test_s": durations.seconds,
    }


# -- xdist -------------------------------------------------------------------------------------
def _wall(args: list[str]) -> tuple[float, float]:
    """Wall seconds of one kit run, and the CPU seconds it used (its xdist workers' included)."""
    import resource

    command = [sys.executable, "-m", "pytest", "--impl=reference_impl", "-q", "-p", "no:cacheprovider", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False, cwd=ROOT)  # noqa: S603 - fixed command
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def xdist_speedup() -> dict[str, Any]:
    serial, parallel = [], []
    for _ in range(2):  # alternating, so that a busy machine penalises both alike
        serial.append(_wall([f"--hypothesis-seed={SEED}"]))
        parallel.append(_wall([f"--hypothesis-seed={SEED}", "-n", "2"]))
    (serial_s, serial_cpu), (n2_s, n2_cpu) = min(serial), min(parallel)
    cores = min(2, os.cpu_count() or 1)
    return {
        "serial_s": round(serial_s, 2),
        "n2_s": round(n2_s, 2),
        "speedup": round(serial_s / n2_s, 3),
        "serial_cpu_s": round(serial_cpu, 2),
        "n2_cpu_s": round(n2_cpu, 2),
        # -n 2 cannot finish before its CPU seconds, spread over the cores it has, are spent.
        "speedup_its_cpu_allows": round(serial_s / (n2_cpu / cores), 3) if n2_cpu else None,
    }


# -- judging miniatures and variants -----------------------------------------------------------
def _judging_run(node_ids: list[str], *, whole: bool, junit: Path) -> dict[str, float]:
    """Seconds per test (setup, call and teardown) of one serial pytest run of ``node_ids``."""
    import xml.etree.ElementTree as ET

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}
    env.pop("CONFORMANCE_SELF_TEST_WHOLE", None)
    if whole:
        env["CONFORMANCE_SELF_TEST_WHOLE"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *node_ids]
    subprocess.run(command, capture_output=True, check=False, cwd=ROOT, env=env)  # noqa: S603 - fixed command
    seconds: dict[str, float] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314 - written by this run
        failed = case.find("failure") is not None or case.find("error") is not None
        seconds[case.get("name", "") + (" (failed)" if failed else "")] = float(case.get("time", 0))
    return seconds


def judging(every: int) -> dict[str, Any]:
    from tests.miniatures import all_miniatures
    from tests.variants import VARIANTS

    test = "tests/test_miniatures.py::test_kit_fails_the_miniature_on_its_requirement"
    minis = [f"{test}[{m.requirement}-{m.target.rsplit(':', 1)[1]}]" for m in all_miniatures()]
    variants = [
        f"tests/test_blame.py::test_a_variant_fails_exactly_what_its_behaviour_violates[{transport}-{name}]"
        for name in sorted(VARIANTS)
        for transport in ("in-process", "serve")
    ]
    sample = minis[::every] + variants[::every]
    figures: dict[str, Any] = {"sampled": len(sample), "of": len(minis) + len(variants), "every": every}
    junit = Path(tempfile.gettempdir()) / f"bench-judging-{os.getpid()}.xml"
    for mode in ("replay", "whole"):  # the replay pays for recording its bases inside its own run
        started = time.perf_counter()
        seconds = _judging_run(sample, whole=mode == "whole", junit=junit)
        wall = time.perf_counter() - started
        mini = [t for k, t in seconds.items() if k.startswith("test_kit_fails")]
        var = [t for k, t in seconds.items() if k.startswith("test_a_variant")]
        figures[mode] = {
            "wall_s": round(wall, 1),
            "tests_s": round(sum(seconds.values()), 1),
            "per_miniature_median_s": round(statistics.median(mini), 2) if mini else None,
            "per_variant_run_median_s": round(statistics.median(var), 2) if var else None,
            "failed": sorted(k for k in seconds if k.endswith("(failed)")),
        }
    junit.unlink(missing_ok=True)
    figures["whole_over_replay"] = round(figures["whole"]["tests_s"] / max(figures["replay"]["tests_s"], 1e-9), 2)
    return figures


# -- the kit's own tests -----------------------------------------------------------------------
def self_tests() -> dict[str, Any]:
    # As `nox -s tests` runs them: each area's miniatures and variants are one xdist group.
    command = [sys.executable, "-m", "pytest", "tests", "-n", "auto", "--dist", "loadgroup", "-q"]
    command += ["-p", "no:cacheprovider"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)  # noqa: S603
    elapsed = time.perf_counter() - started
    return {"wall_s": round(elapsed, 1), "exit_code": result.returncode, "summary": result.stdout.strip()[-200:]}


def readme_command() -> dict[str, Any]:
    nox = shutil.which("nox")
    if nox is None:
        return {"error": "nox is not installed where this runs (python3 -m pip install nox)"}
    # Run from inside `nox -s benchmark`, the nested nox must not see this session's environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOX_") and k != "VIRTUAL_ENV"}
    if sys.prefix != sys.base_prefix:  # a virtual environment's bin directory, not the system's
        venv_bin = str(Path(sys.executable).parent)
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    warm = subprocess.run([nox, "--install-only"], capture_output=True, text=True, check=False, cwd=ROOT, env=env)  # noqa: S603
    if warm.returncode != 0:
        return {"error": "nox --install-only failed", "output": (warm.stdout + warm.stderr)[-1000:]}
    started = time.perf_counter()
    result = subprocess.run([nox], capture_output=True, text=True, check=False, cwd=ROOT, env=env)  # noqa: S603
    elapsed = time.perf_counter() - started
    # nox's closing lines: "nox > * tests-3.11: success, took 5 minutes" (it rounds to minutes).
    sessions: dict[str, str] = {}
    for line in (result.stdout + result.stderr).splitlines():
        head, _, rest = line.partition("nox > * ")
        if rest and ": " in rest and not head.strip():
            name, _, outcome = rest.partition(": ")
            sessions[name] = outcome
    wall = round(elapsed, 1)
    # The `nox` script PATH finds is the one `python3 -m pip install nox` puts there: `python3 -m nox`.
    return {"command": nox, "wall_s": wall, "exit_code": result.returncode, "sessions": sessions}


def protocol(requests: int) -> dict[str, Any]:
    figures = bench_protocol.measure(requests=requests, target="reference_impl", runs=2)
    calls = figures.pop("calls_per_suite_run")
    floor = calls / figures["raw_echo_rps"]
    figures["pipe_floor_s"] = round(floor, 2)
    figures["pipe_floor_share_of_in_process"] = round(floor / figures["suite_in_process_s"], 3)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--skip", nargs="*", default=[], choices=SECTIONS, help="sections not to measure")
    parser.add_argument("--requests", type=int, default=5000, help="requests per transport measurement")
    parser.add_argument("--judging-every", type=int, default=4, help="judge every N-th miniature and variant test")
    options = parser.parse_args(argv)
    os.chdir(ROOT)
    figures: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    measures = {
        "protocol": lambda: protocol(options.requests),
        "xdist": xdist_speedup,
        "model_budget": model_budget,
        "catch": catch_times,
        "judging": lambda: judging(options.judging_every),
        "self_tests": self_tests,
        "readme_command": readme_command,
    }
    for name, measure in measures.items():
        if name in options.skip:
            continue
        started = time.perf_counter()
        figures[name] = measure()
        print(f"{name} ({time.perf_counter() - started:.0f} s): {json.dumps(_headline(figures[name]))}", flush=True)
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"wrote {options.json}")
    return 0


def _headline(section: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in section.items() if not isinstance(v, (dict, list))}


if __name__ == "__main__":
    sys.exit(main())
