"""The pytest plugin: options, errors, header, outcome rules and the report file."""

from __future__ import annotations

import sys
import textwrap

import pytest

from conformance import SPEC_VERSION, __version__
from conformance._data import validator_for
from conformance._requirements import index

HIST = {rid for rid in index() if rid.startswith("HIST-")}

# A fake implementation built on the reference, with switches to misbehave.
FAKE = f"""
import time
from reference_impl import memory as _reference

class _Handle:
    def __init__(self, inner, owner):
        self._inner, self._owner, self._closes = inner, owner, 0
    def get_items(self, limit=None):
        if self._owner.crash:
            raise RuntimeError("database exploded")
        if self._owner.hang:
            time.sleep(2)  # far past the 0.2 s timeout the test sets, short enough not to outlive the worker
        return self._inner.get_items(limit)
    def add_items(self, items):
        return self._inner.add_items(items)
    def pop_item(self):
        if self._owner.no_pop:
            raise Unsupported("pop_item is not offered")
        return self._inner.pop_item()
    def clear_session(self):
        if self._owner.clear_not_found:
            raise LookupError("no such session")
        return self._inner.clear_session()
    def close(self):
        self._closes += 1
        if self._closes > 1 and self._owner.close_twice_fails:
            raise RuntimeError("already closed")
        return self._inner.close()

class Unsupported(Exception):
    error_kind = "unsupported"

class _Backend:
    def __init__(self, inner, owner):
        self._inner, self._owner = inner, owner
    def open_session(self, session_id, **kwargs):
        return _Handle(self._inner.open_session(session_id, **kwargs), self._owner)
    def close(self):
        return self._inner.close()

class Fake:
    name = "fake"
    version = "9.9"
    spec_version = "{SPEC_VERSION}"
    def __init__(self, claims=("hist", "hist.shared-handles"), **switches):
        self.claims = frozenset(claims)
        self.crash = switches.get("crash", False)
        self.hang = switches.get("hang", False)
        self.close_twice_fails = switches.get("close_twice_fails", False)
        self.no_pop = switches.get("no_pop", False)
        self.clear_not_found = switches.get("clear_not_found", False)
    def open_history(self, env):
        return _Backend(_reference.open_history(env), self)

class NoFactory:
    name, version, spec_version, claims = "no-factory", "1", "{SPEC_VERSION}", frozenset({{"hist"}})

implementation = Fake()
should_violator = Fake(close_twice_fails=True)
crasher = Fake(crash=True)
hanger = Fake(hang=True)
no_factory = NoFactory()
unsupported_and_wrong = Fake(no_pop=True, clear_not_found=True)

class _AsyncHandle:
    def __init__(self, inner):
        self._inner = inner
    async def get_items(self, limit=None):
        return self._inner.get_items(limit)
    async def add_items(self, items):
        return self._inner.add_items(items)
    async def pop_item(self):
        return self._inner.pop_item()
    async def clear_session(self):
        return self._inner.clear_session()
    async def close(self):
        return self._inner.close()

class _AsyncBackend:
    def __init__(self, inner):
        self._inner = inner
    async def open_session(self, session_id, **kwargs):
        return _AsyncHandle(self._inner.open_session(session_id, **kwargs))
    async def close(self):
        return self._inner.close()

class AsyncFake(Fake):
    async def open_history(self, env):
        return _AsyncBackend(_reference.open_history(env))

async_style = AsyncFake()
not_an_impl = object()
bad_claim = Fake(claims=("hist", "hist.persistant"))

class Adding(Fake):
    adds = {{"HIST-028": "copies items both ways", "HIST-005": "rejects invalid limits"}}

adding = Adding()
adds_unknown = Adding()
adds_unknown.adds = {{"HIST-999": "does something"}}
adds_empty = Adding()
adds_empty.adds = {{"HIST-028": "  "}}
adds_not_a_mapping = Adding()
adds_not_a_mapping.adds = ["HIST-028"]
orphan_claim = Fake(claims=("hist.persistent",))
"""


@pytest.fixture
def fake(pytester):
    pytester.makepyfile(fakeimpl=FAKE)
    pytester.syspathinsert()
    return "fakeimpl"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "--impl is empty"),
        ("no_such_module_xyz", "cannot import module 'no_such_module_xyz'"),
        ("fakeimpl:nope", "has no attribute 'nope'. Implementations found there: fakeimpl:"),
        ("fakeimpl.py", "looks like a file path; give a module name instead: --impl=fakeimpl"),
        ("fakeimpl:a:b", "is not of the form MODULE[:OBJECT]"),
        ("fake impl", "is not of the form MODULE[:OBJECT]"),
        ("fakeimpl:not_an_impl", "object is not an implementation; it lacks name, version, spec_version, claims"),
        ("fakeimpl:bad_claim", "claims 'hist.persistant', which this kit does not know. Known capabilities:"),
        ("fakeimpl:orphan_claim", "claims 'hist.persistent' but not its area 'hist'"),
        ("fakeimpl:adds_unknown", "adds names HIST-999, which this kit's requirement index does not have"),
        ("fakeimpl:adds_empty", "adds must say what the adapter adds for HIST-028; the sentence is empty"),
        ("fakeimpl:adds_not_a_mapping", "adds must map requirement ids to sentences"),
    ],
)
def test_bad_impl_value_is_a_usage_error_that_says_what_is_wrong(pytester, fake, value, message):
    result = pytester.runpytest_inprocess(f"--impl={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("--conformance-depth=huge", "--conformance-depth must be one of quick, deep, fast; got 'huge'"),
        ("--conformance-timeout=-1", "--conformance-timeout must be a positive number of seconds"),
        ("--conformance-timeout=soon", "--conformance-timeout must be a positive number of seconds"),
    ],
)
def test_bad_option_value_is_a_usage_error(pytester, fake, flag, message):
    result = pytester.runpytest_inprocess(f"--impl={fake}", flag)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_suite_without_impl_is_a_usage_error(pytester):
    from conformance._data import suite_dir

    result = pytester.runpytest_inprocess(str(suite_dir()))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*the conformance suite needs an implementation to test: pytest --impl=*"])


def test_header_names_implementation_versions_and_seed(pytester, fake):
    result = pytester.runpytest_inprocess(f"--impl={fake}", "--co", "--hypothesis-seed=1234")
    result.stdout.fnmatch_lines(
        [
            "conformance: implementation fake 9.9 (--impl=fakeimpl)",
            "conformance: claims hist, hist.shared-handles",
            f"conformance: spec {SPEC_VERSION}, kit {__version__}, implementation targets spec {SPEC_VERSION}",
            "conformance: reproduce with --hypothesis-seed=1234",
        ]
    )


def test_seed_is_chosen_and_printed_when_not_given(pytester, fake):
    result = pytester.runpytest_inprocess(f"--impl={fake}", "--co")
    result.stdout.fnmatch_lines(["conformance: reproduce with --hypothesis-seed=[0-9]*"])


def test_ini_twin_selects_the_implementation(pytester, fake):
    pytester.makeini("[pytest]\nconformance_impl = fakeimpl\n")
    result = pytester.runpytest_inprocess("--co")
    result.stdout.fnmatch_lines(["conformance: implementation fake 9.9 (--impl=fakeimpl)"])


def test_command_line_wins_over_the_ini_file(pytester, fake):
    pytester.makeini("[pytest]\nconformance_impl = fakeimpl:not_an_impl\n")
    result = pytester.runpytest_inprocess("--impl=fakeimpl:should_violator", "--co")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["conformance: implementation fake 9.9 (--impl=fakeimpl:should_violator)"])


def test_installed_suite_runs_from_an_empty_directory(run_kit, fake):
    run = run_kit(fake)
    assert run.result.ret == pytest.ExitCode.OK
    assert run.report["summary"]["verdict"] == "conformant"
    assert run.having("passed") == HIST - {"HIST-021"}


def test_async_implementation_is_accepted(run_kit, fake):
    run = run_kit(f"{fake}:async_style")
    assert run.result.ret == pytest.ExitCode.OK
    assert run.having("passed") == HIST - {"HIST-021"}


@pytest.mark.parametrize("served", [False, True], ids=["in-process", "over-serve"])
def test_what_an_adapter_adds_is_in_every_report(run_kit, fake, served):
    target = f"exec:{sys.executable} -m conformance.serve {fake}:adding" if served else f"{fake}:adding"
    run = run_kit(target, "--requirement=HIST-028", "--requirement=HIST-005", "--requirement=HIST-001")
    assert run.report["implementation"]["adds"] == {
        "HIST-005": "rejects invalid limits",
        "HIST-028": "copies items both ways",
    }
    assert run.requirement("HIST-028")["adapter_adds"] == "copies items both ways"
    assert "adapter_adds" not in run.requirement("HIST-001")
    run.result.stdout.fnmatch_lines(
        [
            "*the adapter declares behaviour of its own for 2 requirement(s) (HIST-005, HIST-028)*passed: HIST-005, HIST-028*"
        ]
    )


def test_unclaimed_capability_is_skipped_with_the_reason(run_kit, fake):
    run = run_kit(fake, "-rs")
    row = run.requirement("HIST-021")
    assert row["outcome"] == "skipped"
    assert row["reason"] == "not claimed: hist.persistent"
    run.result.stdout.fnmatch_lines(["*not claimed: hist.persistent*"])


def test_should_failure_is_reported_but_does_not_fail_the_run(run_kit, fake):
    run = run_kit(f"{fake}:should_violator")
    assert run.result.ret == pytest.ExitCode.OK
    counts = run.result.parseoutcomes()
    assert counts["xfailed"] == 1
    assert "failed" not in counts
    assert run.requirement("HIST-024")["outcome"] == "failed"
    assert run.requirement("HIST-024")["level"] == "SHOULD"
    assert run.report["summary"]["verdict"] == "conformant"


def test_should_failure_fails_the_run_under_strict(run_kit, fake):
    run = run_kit(f"{fake}:should_violator", "--conformance-strict")
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    counts = run.result.parseoutcomes()
    assert counts["failed"] == 1
    assert "xfailed" not in counts
    assert run.report["run"]["strict"] is True
    assert run.report["summary"]["verdict"] == "not-conformant"


def test_missing_factory_of_a_claimed_area_is_not_testable_never_skipped(run_kit, fake):
    run = run_kit(f"{fake}:no_factory")
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    claimed = {rid for rid, req in index().items() if req.capability == "hist"}
    assert run.having("skipped") >= set(index()) - HIST, "areas the fake does not claim are skipped"
    assert run.having("not-testable") == claimed
    assert "skipped" not in {run.outcomes[rid] for rid in claimed}
    row = run.requirement("HIST-001")
    assert row["failure_kinds"] == ["not-testable"]
    assert "has no open_history() factory" in row["tests"][0]["message"]


def test_a_failed_test_outranks_a_not_testable_one_of_the_same_requirement(run_kit, fake):
    """HIST-007's pop_item test cannot run (unsupported), its clear_session test fails: the requirement failed.

    spec/README.md § Outcome of a requirement: a demonstrated violation is the finding; what could
    not be exercised stays visible in the failure kinds and in the test's own row.
    """
    run = run_kit(f"{fake}:unsupported_and_wrong", "-k", "never_written")
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    row = run.requirement("HIST-007")
    by_test = {t["nodeid"].rpartition("::")[2]: t["outcome"] for t in row["tests"]}
    assert by_test == {
        "test_never_written_session_reads_as_empty": "not-testable",
        "test_clear_of_never_written_session_succeeds": "failed",
    }
    assert row["outcome"] == "failed"
    assert row["failure_kinds"] == ["not-testable", "wrong-answer"]


def test_exception_of_no_error_kind_is_reported_as_a_crash(run_kit, fake):
    run = run_kit(f"{fake}:crasher")
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    row = run.requirement("HIST-001")
    assert row["outcome"] == "failed"
    assert row["failure_kinds"] == ["crashed"]
    assert "database exploded" in row["tests"][0]["message"]


def test_hanging_implementation_times_out_and_the_run_finishes(run_kit, fake):
    run = run_kit(
        f"{fake}:hanger", "--conformance-timeout=0.2", "-k", "test_reading_without_limit or test_invalid_session_id"
    )
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    row = run.requirement("HIST-001")
    assert row["failure_kinds"] == ["crashed"]
    assert "hung for more than 0.2 s" in row["tests"][0]["message"]
    assert run.requirement("HIST-026")["outcome"] == "passed"  # later tests get a fresh instance


def test_report_is_valid_and_lists_every_requirement(run_kit, fake):
    run = run_kit(f"{fake}:should_violator")
    errors = sorted(validator_for("report.schema.json").iter_errors(run.report), key=str)
    assert not errors, errors[0].message
    assert [r["id"] for r in run.report["requirements"]] == list(index())
    assert run.report["implementation"] == {
        "name": "fake",
        "version": "9.9",
        "spec_version": SPEC_VERSION,
        "claims": ["hist", "hist.shared-handles"],
        "target": "fakeimpl:should_violator",
    }


def test_deselected_requirements_are_not_tested(run_kit, fake):
    run = run_kit(fake, "-k", "test_pop_of_empty_history_returns_null")
    assert run.having("passed") == {"HIST-017"}
    assert run.requirement("HIST-001")["outcome"] == "not-tested"
    assert run.report["summary"]["verdict"] == "incomplete"


def test_test_citing_an_unknown_requirement_is_rejected(pytester, fake):
    pytester.makepyfile(
        test_extra=textwrap.dedent(
            """
            import pytest

            @pytest.mark.requirement("HIST-999")
            def test_made_up():
                pass
            """
        )
    )
    result = pytester.runpytest_inprocess(f"--impl={fake}", "test_extra.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_extra.py::test_made_up cites unknown requirement(s) HIST-999*"])


def test_markdown_summary_lists_verdict_counts_and_each_failure(run_kit, fake, pytester):
    summary = pytester.path / "summary.md"
    run = run_kit(f"{fake}:crasher", f"--conformance-markdown={summary}", "-k", "test_reading_without_limit")
    text = summary.read_text()
    assert text.startswith("## Conformance: fake 9.9 — **not-conformant**")
    assert "| hist | 0 | 1 | 0 |" in text  # area counts: passed, failed, not-testable, ...
    assert "**HIST-001**" in text and "](spec/" not in text  # no relative link: dead outside this repository
    assert "failed (crashed) | " in text and "database exploded" in text
    assert run.report["summary"]["verdict"] == "not-conformant"


def test_junit_records_the_requirements_each_test_checks(pytester, fake):
    import xml.etree.ElementTree as ET

    junit = pytester.path / "junit.xml"
    pytester.runpytest_inprocess(f"--impl={fake}", f"--junitxml={junit}", "-k", "test_pop_of_empty_history")
    case = ET.parse(junit).getroot().find(".//testcase")
    assert case is not None
    props = {(p.get("name"), p.get("value")) for p in case.iter("property")}
    assert props == {("requirement", "HIST-017")}


@pytest.mark.parametrize(
    ("depth", "phases"),
    [
        ("quick", {"shrink"}),  # the default: minimal failures, without Hypothesis's explain phase
        ("deep", {"shrink", "explain"}),
        ("fast", set()),
    ],
)
def test_each_depth_shrinks_and_explains_failures_as_documented(pytester, fake, depth, phases):
    pytester.makepyfile(
        test_phases="""
        def test_phases(hypothesis_settings):
            names = {p.name for p in hypothesis_settings.phases}
            assert {"explicit", "reuse", "generate", "target"} <= names
            print("PHASES", sorted(names & {"shrink", "explain"}))
        """
    )
    result = pytester.runpytest_inprocess(f"--impl={fake}", f"--conformance-depth={depth}", "-s", "test_phases.py")
    result.assert_outcomes(passed=1)
    assert f"PHASES {sorted(phases)}" in result.stdout.str(), result.stdout.str()[-2000:]
