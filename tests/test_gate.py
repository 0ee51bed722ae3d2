"""The kit as a CI gate: exit statuses, claims checks, baselines, selection, reruns, one root cause.

Each test here fails without the behaviour it names (issue 9 lists them); the fakes are the
reference implementation with one switch, built in ``tests/test_plugin.py``'s style.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import textwrap
from pathlib import Path

import pytest

from conformance import SPEC_VERSION, __version__
from conformance._data import suite_dir, validator_for
from conformance._report import EXIT_INCOMPLETE
from conformance._requirements import index

ROOT = Path(__file__).resolve().parents[1]
HIST = {rid for rid in index() if rid.startswith("HIST-")}
MAJOR, MINOR, _ = SPEC_VERSION.split(".")
#: How many requirements a report has a row for: every one of the index but the withdrawn.
JUDGED = sum(not r.withdrawn for r in index().values())

FAKES = f"""
from reference_impl import memory as _reference
from reference_impl.history import MemoryHistory

class Base:
    name, version, spec_version = "gate-fake", "1.0", "{SPEC_VERSION}"
    claims = frozenset({{"hist", "hist.shared-handles"}})
    def open_history(self, env):
        return _reference.open_history(env)

class NewestFirst(MemoryHistory):
    # reads return the newest item first: fails HIST-001 (and the order-dependent ones)
    def load(self, session_id, limit):
        return super().load(session_id, limit)[::-1]

class Reversed(Base):
    def open_history(self, env):
        return NewestFirst.open(env)

class Raising(Base):
    def open_history(self, env):
        raise RuntimeError("database exploded")

class ReturnsNone(Base):
    def open_history(self, env):
        return None

class Patch(Base):
    spec_version = "{MAJOR}.{MINOR}.99"

class NextMinor(Base):
    spec_version = "{MAJOR}.{int(MINOR) + 1}.0"

class Empty(Base):
    claims = frozenset()

implementation = Base()
reversed_reads = Reversed()
raising = Raising()
returns_none = ReturnsNone()
patch = Patch()
next_minor = NextMinor()
empty = Empty()
"""


@pytest.fixture
def fakes(pytester):
    pytester.makepyfile(gatefakes=FAKES)
    pytester.syspathinsert()
    return "gatefakes"


def reversed_failures(run) -> set[str]:
    return run.having("failed") | run.having("not-testable")


# -- exit statuses -----------------------------------------------------------------


def test_conformant_exits_0(run_kit, fakes):
    run = run_kit(fakes)
    assert run.report["summary"]["verdict"] == "conformant"
    assert run.result.ret == 0


def test_not_conformant_exits_1(run_kit, fakes):
    run = run_kit(f"{fakes}:reversed_reads")
    assert run.report["summary"]["verdict"] == "not-conformant"
    assert run.result.ret == 1
    assert run.report["summary"]["exit_status"] == 1


def test_incomplete_exits_nonzero_and_says_what_was_not_reached(run_kit, fakes):
    run = run_kit(fakes, "-k", "test_pop_of_empty_history_returns_null")
    assert run.report["summary"]["verdict"] == "incomplete"
    assert run.result.ret == EXIT_INCOMPLETE != 0
    first = min(index())  # the list is in id order
    run.result.stdout.fnmatch_lines(
        [f"conformance: * requirement(s) not reached (its tests were deselected*): {first}, *"]
    )


def test_claims_of_nothing_are_a_usage_error(pytester, fakes):
    result = pytester.runpytest_inprocess(f"--impl={fakes}:empty")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "claims nothing, so every requirement would be skipped" in result.stderr.str()


def test_a_spec_version_of_another_minor_is_a_usage_error_naming_both_and_the_kit_to_install(pytester, fakes):
    result = pytester.runpytest_inprocess(f"--impl={fakes}:next_minor")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    wanted = f"{MAJOR}.{int(MINOR) + 1}"
    assert f"targets spec {wanted}.0, but this kit ({__version__}) checks spec {SPEC_VERSION}" in err
    assert f"install agent-session-conformance=={wanted}.*" in err


def test_a_patch_difference_is_a_header_note(pytester, fakes):
    result = pytester.runpytest_inprocess(f"--impl={fakes}:patch", "--co")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([f"conformance: note: the implementation targets spec {MAJOR}.{MINOR}.99*"])


def test_kit_version_follows_the_spec_major_minor():
    assert __version__.split(".")[:2] == SPEC_VERSION.split(".")[:2]


def test_verdict_seed_and_report_files_are_printed_under_quiet(pytester, fakes):
    report = pytester.path / "out.json"
    result = pytester.runpytest_inprocess(
        f"--impl={fakes}", "-qq", "--hypothesis-seed=77", f"--conformance-report={report}", "-k", "test_pop_of_empty"
    )
    out = result.stdout.str()
    assert re.search(
        rf"^conformance: {JUDGED} requirements: .* -> incomplete \(exit status 6\); wrote .*out\.json$",
        out,
        re.MULTILINE,
    )
    assert "conformance: replay this run with --hypothesis-seed=77" in out


# -- parallel runs -------------------------------------------------------------------


def _comparable(report: dict) -> dict:
    rows = {}
    for row in report["requirements"]:
        tests = sorted((t["nodeid"], t["outcome"], t.get("failure_kind"), t.get("message")) for t in row["tests"])
        rows[row["id"]] = (row["outcome"], row.get("failure_kinds"), row.get("reason"), tests)
    summary = dict(report["summary"])
    return {"rows": rows, "summary": summary, "implementation": report["implementation"]}


def _junit(path: Path) -> set:
    import xml.etree.ElementTree as ET

    cases = set()
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")), "passed")
        props = tuple(sorted((p.get("name"), p.get("value")) for p in case.iter("property")))
        cases.add((case.get("classname"), case.get("name"), outcome, props))
    return cases


def _summary(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(("conformance: ", "  FAILED", "  NOT-TESTABLE"))]


@pytest.mark.heavy
@pytest.mark.parametrize("target", ["reference_impl:memory", "tests.miniatures.hist:limit_oldest"])
def test_parallel_run_reports_what_the_serial_run_reports(pytester, monkeypatch, target):
    """Every outcome, the summary lines and the JSON, Markdown and JUnit reports, serial against ``-n 2``."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    runs = {}
    for mode in ("serial", "parallel"):
        files = {k: pytester.path / f"{mode}.{k}" for k in ("json", "md", "xml")}
        result = pytester.runpytest_subprocess(
            f"--impl={target}",
            "--conformance-depth=fast",
            "--hypothesis-seed=4242",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            f"--conformance-report={files['json']}",
            f"--conformance-markdown={files['md']}",
            f"--junitxml={files['xml']}",
            *(["-n", "2"] if mode == "parallel" else ["-p", "no:xdist"]),
        )
        report = json.loads(files["json"].read_text())
        assert report["summary"]["verdict"] != "incomplete", result.stdout.str()[-3000:]
        lines = [
            line.replace(str(files["json"]), "REPORT").replace(str(files["md"]), "MD")
            for line in _summary(result.stdout.str())
        ]
        runs[mode] = (result.ret, _comparable(report), files["md"].read_text(), _junit(files["xml"]), lines)
    serial, parallel = runs["serial"], runs["parallel"]
    assert parallel[0] == serial[0], "exit status"
    assert parallel[1] == serial[1], "JSON report"
    assert parallel[2] == serial[2], "Markdown report"
    assert parallel[3] == serial[3], "JUnit report"
    assert [ln for ln in parallel[4] if "root cause" not in ln] == [ln for ln in serial[4] if "root cause" not in ln]


def test_parallel_workers_use_the_seed_the_controller_prints(pytester, monkeypatch, fakes):
    pytester.makepyfile(
        test_seed=textwrap.dedent(
            """
            import os, pathlib, pytest

            @pytest.mark.requirement("HIST-001")
            @pytest.mark.parametrize("n", range(4))
            def test_seed(request, n):
                seed = request.config.getoption("hypothesis_seed")
                pathlib.Path(f"seed-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{n}").write_text(str(seed))
            """
        )
    )
    pytester.makepyfile(
        controller_probe=textwrap.dedent(
            """
            import pathlib, sys

            def pytest_xdist_setupnodes(config, specs):
                pathlib.Path("controller-imported-hypothesis").write_text(str("hypothesis" in sys.modules))
            """
        )
    )
    monkeypatch.setenv("PYTHONPATH", str(pytester.path) + os.pathsep + str(ROOT))
    result = pytester.runpytest_subprocess(
        f"--impl={fakes}", "-n", "2", "test_seed.py", "-p", "no:cacheprovider", "-p", "controller_probe"
    )
    printed = re.search(r"--hypothesis-seed=(\d+)", result.stdout.str())
    assert printed, result.stdout.str()
    seeds = {p.read_text() for p in pytester.path.glob("seed-gw*")}
    assert seeds == {printed.group(1)}
    # The controller runs no test: it has no use for Hypothesis, whose import costs 0.2 s before any worker starts
    # (Hypothesis's own plugin imports it for the terminal summary, after the workers are done).
    assert (pytester.path / "controller-imported-hypothesis").read_text() == "False"


# -- baseline ------------------------------------------------------------------------


def _failures_of_reversed(run_kit, fakes) -> set[str]:
    run = run_kit(f"{fakes}:reversed_reads")
    failing = reversed_failures(run)
    assert "HIST-001" in failing
    return failing


def write_baseline(path: Path, entries: dict[str, str]) -> Path:
    lines = ["known_failures:"] + [f"  - id: {rid}\n    reason: {why}" for rid, why in entries.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_baseline_listing_every_failure_is_green_and_shows_them_as_known(run_kit, fakes, pytester):
    failing = _failures_of_reversed(run_kit, fakes)
    base = write_baseline(pytester.path / "base.yaml", dict.fromkeys(sorted(failing), "reads come back reversed"))
    md = pytester.path / "s.md"
    run = run_kit(f"{fakes}:reversed_reads", f"--conformance-baseline={base}", f"--conformance-markdown={md}")
    assert run.result.ret == 0, run.result.stdout.str()[-2000:]
    summary = run.report["summary"]
    assert summary["verdict"] == "not-conformant"  # the truth is not hidden
    assert set(summary["baseline"]["known"]) == failing
    assert summary["baseline"]["new"] == summary["baseline"]["stale"] == []
    assert run.requirement("HIST-001")["known_failure"] == {"reason": "reads come back reversed"}
    assert "known (baseline)" in md.read_text()
    run.result.stdout.fnmatch_lines(["*FAILED*HIST-001*(known: in the baseline)*"])
    errors = list(validator_for("report.schema.json").iter_errors(run.report))
    assert not errors, errors[0].message


def test_a_failure_not_in_the_baseline_fails_the_run(run_kit, fakes, pytester):
    failing = sorted(_failures_of_reversed(run_kit, fakes))
    base = write_baseline(pytester.path / "base.yaml", dict.fromkeys(failing[1:], "known"))
    run = run_kit(f"{fakes}:reversed_reads", f"--conformance-baseline={base}")
    assert run.result.ret == 1
    assert failing[0] in run.report["summary"]["baseline"]["new"]
    run.result.stdout.fnmatch_lines([f"conformance: NEW FAILURE {failing[0]}: not in the baseline"])


def test_a_listed_requirement_that_passes_is_stale_and_fails_the_run(run_kit, fakes, pytester):
    base = write_baseline(pytester.path / "base.yaml", {"HIST-017": "pop was broken"})
    run = run_kit(fakes, f"--conformance-baseline={base}")
    assert run.result.ret == 1
    assert run.report["summary"]["baseline"]["stale"] == ["HIST-017"]
    run.result.stdout.fnmatch_lines(["conformance: STALE HIST-017 passes now: remove it from the baseline"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("known_failures:\n  - id: HIST-999\n    reason: x\n", "HIST-999 is not a requirement"),
        (
            "known_failures:\n  - id: STORE-001\n    reason: x\n",
            "STORE-001 needs capability 'store', which gate-fake does not claim",
        ),
        ("known_failures:\n  - id: HIST-001\n", "'reason' is a required property"),
        ("known_failures:\n  - {id: HIST-001, reason: a}\n  - {id: HIST-001, reason: b}\n", "HIST-001 is listed twice"),
        ("known_failures: [\n", "not valid YAML"),
        ("known: []\n", "breaks schemas/baseline.schema.json"),
    ],
)
def test_a_bad_baseline_is_a_usage_error(pytester, fakes, content, message):
    base = pytester.path / "base.yaml"
    base.write_text(content)
    result = pytester.runpytest_inprocess(f"--impl={fakes}", f"--conformance-baseline={base}", "--co")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_a_missing_baseline_file_is_a_usage_error(pytester, fakes):
    result = pytester.runpytest_inprocess(f"--impl={fakes}", "--conformance-baseline=nope.yaml", "--co")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--conformance-baseline=nope.yaml: cannot read the file" in result.stderr.str()


def test_written_baseline_lists_the_failures_and_makes_the_next_run_green(run_kit, fakes, pytester):
    out = pytester.path / "written.yaml"
    first = run_kit(f"{fakes}:reversed_reads", f"--conformance-write-baseline={out}")
    assert first.result.ret == 1
    import yaml

    data = yaml.safe_load(out.read_text())
    assert not list(validator_for("baseline.schema.json").iter_errors(data))
    assert {e["id"] for e in data["known_failures"]} == reversed_failures(first)
    assert all(e["reason"].startswith("TODO") for e in data["known_failures"])
    second = run_kit(f"{fakes}:reversed_reads", f"--conformance-baseline={out}")
    assert second.result.ret == 0


def test_baseline_schema_is_documented_with_the_other_schemas():
    schema = json.loads((ROOT / "schemas" / "baseline.schema.json").read_text())
    assert schema["$schema"].endswith("2020-12/schema")
    assert "baseline.schema.json" in (ROOT / "README.md").read_text()


# -- selecting and rerunning by requirement -----------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--requirement=HIST-002"], {"HIST-002"}),
        (["--requirement=HIST-002,HIST-017"], {"HIST-002", "HIST-017"}),
        (["--requirement=HIST-002", "--requirement=hist-017"], {"HIST-002", "HIST-017"}),
        (["--requirement=HIST"], HIST - {"HIST-021"}),
    ],
)
def test_requirement_option_runs_only_the_tests_citing_the_selection(run_kit, fakes, args, expected):
    run = run_kit(fakes, *args)
    ran = {rid for r in run.report["requirements"] for rid in [r["id"]] if r["outcome"] in ("passed", "failed")}
    assert ran == expected
    assert run.result.ret == 0
    assert run.report["summary"]["verdict"] == "conformant"
    assert sorted(run.report["run"]["selected"]) == sorted(expected | ({"HIST-021"} if len(expected) > 2 else set()))


LAST_HIST = max(rid for rid in index() if rid.startswith("HIST-"))


@pytest.mark.parametrize(("value", "message"), [("HIST-999", f"HIST has HIST-001 to {LAST_HIST}"), ("NOPE", "no such")])
def test_unknown_requirement_selection_is_a_usage_error(pytester, fakes, value, message):
    result = pytester.runpytest_inprocess(f"--impl={fakes}", f"--requirement={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_selecting_only_unclaimed_requirements_is_a_usage_error(pytester, fakes):
    result = pytester.runpytest_inprocess(f"--impl={fakes}", "--requirement=HIST-021")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "does not claim (hist.persistent)" in result.stderr.str()


def test_dash_k_with_a_requirement_id_selects_its_tests(run_kit, fakes):
    run = run_kit(fakes, "-k", "HIST-002")
    assert run.having("passed") == {"HIST-002"}


def test_failure_block_names_the_requirement_and_ends_with_a_rerun_that_reproduces_it(run_kit, fakes, pytester):
    run = run_kit(f"{fakes}:reversed_reads", "--requirement=HIST-001", "--hypothesis-seed=99", "--tb=short")
    out = run.result.stdout.str()
    req = index()["HIST-001"]
    block = out[out.index("= FAILURES =") :]
    first = block.splitlines()[2:5]
    assert first[0] == f"HIST-001 (MUST) {req.title}"
    assert first[1] == f"  > {req.statement}"
    assert first[2].startswith("  spec: spec/hist.md#hist-001-")
    reruns = re.findall(r"^rerun: (.*)$", block, re.MULTILINE)
    assert reruns, block
    argv = shlex.split(reruns[0])
    assert argv[:3] == ["python", "-m", "pytest"]
    assert "--hypothesis-seed=99" in argv
    again = pytester.runpytest_inprocess(*argv[3:], "-p", "no:cacheprovider")
    assert again.ret == 1
    again.stdout.fnmatch_lines(["*1 failed*"])
    assert argv[-1] in again.stdout.str()


def test_node_ids_in_the_report_are_rerunnable_as_printed(run_kit, fakes, pytester):
    run = run_kit(fakes, "--requirement=HIST-017")
    nodeids = [t["nodeid"] for t in run.requirement("HIST-017")["tests"]]
    assert nodeids and all(n.startswith("test_") for n in nodeids)  # relative to the suite, not this machine
    again = pytester.runpytest_inprocess(
        f"--impl={fakes}", "--requirement=HIST-017", *nodeids, "-p", "no:cacheprovider"
    )
    assert again.ret == 0
    again.stdout.fnmatch_lines([f"*{len(nodeids)} passed*"])


# -- one root cause, said once -------------------------------------------------------------


def test_a_factory_that_always_raises_is_said_once(pytester, fakes):
    result = pytester.runpytest_inprocess(f"--impl={fakes}:raising", "-p", "no:cacheprovider")
    out = result.stdout.str()
    assert result.ret == 1
    assert len(out.splitlines()) < 300, out
    # The traceback once (source line, message, Hypothesis's copy of it), the summary and root-cause
    # lines: a handful, where 0.1.0 printed it once per test (hundreds).
    assert out.count("database exploded") < 10, out
    result.stdout.fnmatch_lines(
        ["conformance: root cause for hist, said once at *: open_history(env) raised RuntimeError*"]
    )
    assert re.search(r"\d+ crashed", out.splitlines()[-1])


def test_a_factory_returning_none_is_a_crash_named_as_such(run_kit, fakes):
    run = run_kit(f"{fakes}:returns_none")
    row = run.requirement("HIST-001")
    assert row["failure_kinds"] == ["crashed"]
    assert "open_history(env) returned None" in row["tests"][0]["message"]
    assert "AttributeError" not in run.result.stdout.str()


def test_an_adapter_that_keeps_dying_is_said_once(pytester):
    fake = ROOT / "tests" / "fake_adapters" / "misbehave.py"
    target = "exec:" + shlex.join([sys.executable, str(fake), "die-after-3"])
    result = pytester.runpytest_inprocess(f"--impl={target}", "-p", "no:cacheprovider")
    out = result.stdout.str()
    assert result.ret == 1
    assert len(out.splitlines()) < 500, out
    result.stdout.fnmatch_lines(
        ["conformance: root cause for adapter, said once at *: the adapter process died in each of 3 tests*"]
    )


def test_kit_frames_are_hidden_unless_tb_long(pytester, fakes):
    args = (f"--impl={fakes}:raising", "--requirement=HIST-001", "-p", "no:cacheprovider")
    short = pytester.runpytest_inprocess(*args).stdout.str()
    assert "database exploded" in short  # the implementation's frame is shown
    assert "gatefakes.py" in short
    for kit_module in ("conformance/driver.py", "conformance/areas/hist.py", "conformance/_inprocess.py"):
        assert kit_module not in short
    long = pytester.runpytest_inprocess(*args, "--tb=long").stdout.str()
    assert "conformance/driver.py" in long
    assert "conformance/_inprocess.py" in long


# -- unimportable modules and runs that are not conformance runs -------------------------------


def test_import_hint_shows_forms_that_work(pytester, monkeypatch):
    adapter_dir = pytester.mkdir("adapters")
    (adapter_dir / "localimpl.py").write_text(FAKES)
    result = pytester.runpytest_inprocess("--impl=localimpl", "--co")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "-o pythonpath=DIR" in err and "python -m pytest --impl=localimpl" in err
    assert "--pythonpath" not in err
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    works = pytester.runpytest_subprocess("--impl=localimpl", "-o", f"pythonpath={adapter_dir}", "--co", "-q")
    assert works.ret == 0, works.stderr.str()


def test_vendor_tests_with_the_impl_configured_print_no_conformance_summary(pytester, fakes):
    pytester.makeini(f"[pytest]\nconformance_impl = {fakes}\n")
    pytester.makepyfile(test_vendor="def test_own():\n    assert 1 + 1 == 2\n")
    report = pytester.path / "r.json"
    result = pytester.runpytest_inprocess("test_vendor.py", f"--conformance-report={report}")
    assert result.ret == 0
    assert f"conformance: {JUDGED} requirements" not in result.stdout.str()
    assert not report.exists()


def test_collect_only_prints_no_summary_and_writes_no_report(pytester, fakes):
    report = pytester.path / "r.json"
    result = pytester.runpytest_inprocess(f"--impl={fakes}", "--co", f"--conformance-report={report}")
    assert result.ret == 0
    assert "requirements:" not in result.stdout.str()
    assert not report.exists()


def test_installed_suite_node_ids_resolve_only_when_not_local(tmp_path):
    from conformance._selection import resolve_suite_args

    (tmp_path / "test_local.py").write_text("")
    args, wanted = resolve_suite_args(["test_local.py", "test_hist_reads.py::x"], tmp_path, suite_dir())
    assert args == ["test_local.py", str(suite_dir())]
    assert wanted == ["test_hist_reads.py::x"]


def test_a_crash_of_pytest_or_the_kit_still_leaves_a_report_that_says_so(pytester, fakes):
    pytester.makepyfile(
        crashplugin=textwrap.dedent(
            """
            def pytest_runtest_logfinish(nodeid, location):
                if "test_pop_of_empty_history_returns_null" in nodeid:
                    raise RuntimeError("a plugin fell over")
            """
        )
    )
    report = pytester.path / "r.json"
    result = pytester.runpytest_inprocess(
        f"--impl={fakes}", f"--conformance-report={report}", "--requirement=HIST", "-p", "crashplugin"
    )
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    data = json.loads(report.read_text())
    assert "a plugin fell over" in data["run"]["internal_error"]
    assert data["summary"]["verdict"] == "incomplete"
    assert data["summary"]["exit_status"] == 3
    assert not list(validator_for("report.schema.json").iter_errors(data))


class _Collected:
    """A pytest plugin keeping the node ids a run collected, and their requirement ids."""

    def __init__(self) -> None:
        self.items: dict[str, list[str]] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from conformance._runner import requirement_ids

        self.items = {item.nodeid: requirement_ids(item) for item in session.items}


def test_every_suite_module_holds_only_the_tests_of_the_area_it_is_named_for(pytester):
    """What lets a run of one area leave the other areas' modules unimported (KitPlugin.pytest_ignore_collect)."""
    from conformance._runner import suite_module_area

    seen = _Collected()
    pytester.runpytest_inprocess("--impl=reference_impl:memory", "--collect-only", "-q", plugins=[seen])
    assert len(seen.items) > 500, "the whole suite was not collected"
    wrong = {
        nodeid: ids
        for nodeid, ids in seen.items.items()
        if {rid.partition("-")[0] for rid in ids} != {suite_module_area(Path(nodeid.partition("::")[0]))}
    }
    assert not wrong, f"tests outside the area their module is named for: {wrong}"


def test_a_run_of_node_ids_or_one_area_imports_only_the_modules_it_can_run(run_kit, fakes, pytester):
    from conformance._runner import suite_module_area

    seen = _Collected()
    run = run_kit(
        fakes, "--requirement=HIST", "test_hist_sessions.py::test_pop_of_empty_history_returns_null", plugins=[seen]
    )
    assert run.having("passed") == {"HIST-017"}
    assert {n.partition("::")[0] for n in seen.items} == {"test_hist_sessions.py"}, sorted(seen.items)[:5]
    # A requirement whose tests sit in modules the node ids did not name reads as deselected, as before.
    hist_001 = run.requirement("HIST-001")
    assert hist_001["outcome"] == "not-tested"
    assert hist_001["reason"] == "its tests were deselected (-k, -m or node ids)"
    assert run.requirement("STORE-001")["reason"] == "not selected (--requirement)"
    assert run.report["summary"]["verdict"] == "incomplete"
    # Under xdist the workers collect and the controller reports: it must say the same.
    report = pytester.path / "parallel.json"
    pytester.runpytest_subprocess(
        f"--impl={fakes}",
        "-n",
        "2",
        "--requirement=HIST",
        "test_hist_sessions.py::test_pop_of_empty_history_returns_null",
        f"--conformance-report={report}",
        "-p",
        "no:cacheprovider",
    )
    parallel = {r["id"]: r for r in json.loads(report.read_text())["requirements"]}
    assert parallel["HIST-001"]["reason"] == "its tests were deselected (-k, -m or node ids)"
    assert parallel["HIST-017"]["outcome"] == "passed"

    seen = _Collected()
    run_kit(fakes, "--requirement=HIST-017,HIST-002", plugins=[seen])
    assert seen.items, "nothing collected"
    areas = {suite_module_area(Path(n.partition("::")[0])) for n in seen.items}
    assert areas == {"HIST"}, sorted(seen.items)[:5]
