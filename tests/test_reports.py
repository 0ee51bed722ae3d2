"""The pages people read, rendered from a JSON report alone: HTML, Markdown, badge, drift matrix.

Each is checked on a known report (built here, valid against schemas/report.schema.json): what it
must show, what it must not (a machine's absolute paths, a relative link that is dead outside this
repository, an external asset), and one real run of the kit writing them all.
tests/test_browser.py opens the HTML pages in a real browser.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance import SPEC_VERSION, _badge, _html, _markdown, matrix
from conformance._data import validator_for
from conformance._render import ReportError, load_report, must_score, portable, validate
from conformance._report import distinct_failures
from conformance._requirements import index

ROOT = Path(__file__).resolve().parents[1]

EXPECTED_GOT = (
    "Failed: get_items(limit=1) of 5 items:\n"
    '  expected [{"role": "user", "content": "message 5", "n": 5}]\n'
    '  got      [{"role": "user", "content": "message 1", "n": 1}]'
)
MODEL_FAILURE = (
    "Hypothesis found 2 distinct failures. (2 distinct failures)\n"
    "--- failure 1 of 2 ---\n"
    "AssertionError: newest item of alpha: expected [2], got [1]\n"
    "Failing test case: <state machine>\nstate = HistoryModelRun()\nstate.add(payload_list=[None], sid='alpha')\n"
    "--- failure 2 of 2 ---\n"
    "AssertionError: pop of beta: expected 3, got null\n"
    "Failing test case: <state machine>\nstate = HistoryModelRun()\nstate.pop(sid='beta')\n"
    "Explanation:\n    /home/ci/.venv/lib/python3.11/site-packages/conformance/_values.py:76"
)
#: Paths of "the machine that ran it": none may reach a page.
MACHINE_PATHS = ("/home/ci", str(ROOT), "/usr/lib/python3", ".venv/lib")


def _row(rid: str, outcome: str, **extra: Any) -> dict[str, Any]:
    req = index()[rid]
    row: dict[str, Any] = {
        "id": rid,
        "level": req.level,
        "area": req.area,
        "title": req.title,
        "capability": req.capability,
        "anchor": req.anchor,
        "statement": req.statement,
        "introduced": req.introduced,
        "outcome": outcome,
        "tests": [],
    }
    if outcome in ("skipped", "not-tested"):
        row["reason"] = "not claimed: store" if outcome == "skipped" else "cited by no collected test"
    row.update(extra)
    return row


def _test(nodeid: str, outcome: str = "passed", **extra: Any) -> dict[str, Any]:
    return {"nodeid": nodeid, "outcome": outcome, "duration_s": 0.01, **extra}


def _rerun(rid: str, nodeid: str) -> str:
    return f"python -m pytest --impl=my_port --hypothesis-seed=42 --requirement={rid} '{nodeid}'"


def known_report(name: str = "my-port", *, failing: bool = True) -> dict[str, Any]:
    """A report with a failure (expected/got), a model failure (two programs), a known failure,
    a pass, a skip and an untested requirement; its messages carry a CI machine's paths."""
    n2 = "conformance/suite/test_hist_reads.py::test_positive_limit_returns_newest_n_oldest_first[1]"
    n27 = "conformance/suite/test_hist_model.py::test_any_sequence_of_operations_matches_the_model"
    n5 = "conformance/suite/test_hist_reads.py::test_invalid_limit_is_rejected_without_side_effect[-1]"
    if failing:
        hist2 = _row(
            "HIST-002",
            "failed",
            failure_kinds=["wrong-answer"],
            tests=[
                _test(n2, "failed", failure_kind="wrong-answer", message=EXPECTED_GOT, rerun=_rerun("HIST-002", n2))
            ],
        )
        hist27 = _row(
            "HIST-027",
            "failed",
            failure_kinds=["wrong-answer"],
            tests=[_test(n27, "failed", failure_kind="wrong-answer", message=MODEL_FAILURE)],  # no rerun: rebuilt
        )
        hist5 = _row(
            "HIST-005",
            "failed",
            failure_kinds=["crashed"],
            known_failure={"reason": "negative limits return everything", "link": "https://example.org/issues/12"},
            tests=[
                _test(
                    n5,
                    "failed",
                    failure_kind="crashed",
                    known=True,
                    message="ImplementationError: internal (raised at /home/ci/src/my_port/store.py:12)",
                    rerun=_rerun("HIST-005", n5).replace("my_port", "'exec:/usr/bin/node /home/ci/src/adapter.mjs'"),
                )
            ],
        )
    else:
        hist2 = _row("HIST-002", "passed", tests=[_test(n2)])
        hist27 = _row("HIST-027", "passed", tests=[_test(n27)])
        hist5 = _row("HIST-005", "passed", tests=[_test(n5)])
    rows = [
        _row("HIST-001", "passed", tests=[_test("conformance/suite/test_hist_reads.py::test_reading_without_limit")]),
        hist2,
        hist5,
        hist27,
        _row("STORE-001", "skipped"),
    ]
    counts = {o: sum(r["outcome"] == o for r in rows) for o in ("passed", "failed", "not-testable", "skipped")}
    report = {
        "report_version": "1",
        "kit": {"name": "agent-session-conformance", "version": "0.2.0"},
        "spec_version": SPEC_VERSION,
        "implementation": {
            "name": name,
            "version": "1.4.0",
            "spec_version": SPEC_VERSION,
            "claims": ["hist"],
            "target": "my_port",
        },
        "run": {
            "started_at": "2026-11-27T10:00:00+00:00",
            "duration_s": 3.5,
            "strict": False,
            "hypothesis_seed": "42",
            "depth": "quick",
            "transport": "in-process",
        },
        "summary": {
            **counts,
            "not-tested": 0,
            "verdict": "not-conformant" if failing else "conformant",
            "exit_status": 1 if failing else 0,
        },
        "requirements": rows,
    }
    return validate(report)


# -- paths ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/home/ci/.venv/lib/python3.11/site-packages/conformance/_values.py:76", "conformance/_values.py:76"),
        (r"C:\Users\ci\venv\Lib\site-packages\hypothesis\core.py", "hypothesis/core.py"),
        ("/srv/ci/checkout/examples/node-adapter/adapter.mjs", "examples/node-adapter/adapter.mjs"),
        ("exec:/usr/bin/node /srv/ci/checkout/examples/x.mjs", "exec:node examples/x.mjs"),
        (f"{ROOT}/conformance/suite/test_hist_reads.py:12", "conformance/suite/test_hist_reads.py:12"),
        ("db at /tmp/pytest-of-root/pytest-3/storage/db.sqlite", "db at …/storage/db.sqlite"),
        ("../../usr/lib/python3/dist-packages/conformance/suite/t.py::x", "conformance/suite/t.py::x"),
        ("see https://example.org/a/b and a/b/c", "see https://example.org/a/b and a/b/c"),
        ("limit=-1: expected 'invalid_argument'", "limit=-1: expected 'invalid_argument'"),
    ],
)
def test_portable_removes_the_machines_absolute_paths(text, expected):
    assert portable(text) == expected


def test_distinct_failures_of_a_model_test_are_each_in_the_message():
    first, second = AssertionError("expected [2], got [1]"), AssertionError("pop: expected 3, got null")
    first.add_note("Failing test case: <state machine>\nstate.add(sid='alpha')")
    second.add_note("Failing test case: <state machine>\nstate.pop(sid='beta')")
    text = distinct_failures(ExceptionGroup("Hypothesis found 2 distinct failures.", [first, second]))
    assert text is not None
    assert "failure 1 of 2" in text and "failure 2 of 2" in text
    assert "state.add(sid='alpha')" in text and "state.pop(sid='beta')" in text
    assert "expected [2], got [1]" in text and "expected 3, got null" in text
    assert distinct_failures(AssertionError("one")) is None


# -- Markdown ------------------------------------------------------------------------------------


def test_markdown_keeps_expected_and_got_and_embeds_the_normative_sentence():
    text = _markdown.render(known_report())
    assert text.startswith("## Conformance: my-port 1.4.0 — **not-conformant**")
    assert '  expected [{"role": "user", "content": "message 5", "n": 5}]' in text
    assert '  got      [{"role": "user", "content": "message 1", "n": 1}]' in text
    statement = " ".join(index()["HIST-002"].statement.split())
    assert "> " + _markdown._inline(statement) in text
    assert "](spec/" not in text, "a relative link to the spec is dead outside this repository"
    assert "state.add(payload_list=[None], sid='alpha')" in text and "state.pop(sid='beta')" in text
    assert _rerun("HIST-002", "x").split("'x'")[0] in text
    assert "known (baseline)" in text and "negative limits return everything" in text
    for path in MACHINE_PATHS:
        assert path not in text


def test_markdown_links_to_the_spec_only_under_a_configured_url():
    text = _markdown.render(known_report(), spec_url="https://example.org/spec/v0.2/")
    assert "[HIST-002](https://example.org/spec/v0.2/hist.md#hist-002-" in text
    assert "](spec/" not in text


def test_markdown_fences_survive_backticks_in_a_message():
    report = known_report()
    report["requirements"][1]["tests"][0]["message"] = "got ```x``` back"
    text = _markdown.render(report)
    assert "````text\ngot ```x``` back\n````" in text


# -- HTML ----------------------------------------------------------------------------------------


def test_html_shows_verdict_counts_each_failure_and_its_rerun_command():
    report = known_report()
    page = _html.render(report)
    assert '<p id="verdict" class="verdict v-not-conformant">not conformant</p>' in page
    assert "<b>3</b> failed" in page and "<b>1</b> passed" in page and "<b>1</b> skipped" in page
    passed, total = must_score(report)
    assert f"<b>{passed}/{total}</b> MUST passed" in page
    for rid in ("HIST-002", "HIST-005", "HIST-027"):
        assert f'id="{rid}" data-outcome="failed"' in page
        assert f'<a href="#{rid}">' in page
    assert "  expected [{&quot;role&quot;: &quot;user&quot;, &quot;content&quot;: &quot;message 5&quot;" in page
    assert "state.pop(sid=&#x27;beta&#x27;)" in page  # the second distinct failure's program
    rebuilt = "python -m pytest --impl=my_port --hypothesis-seed=42 --requirement=HIST-027 conformance/suite/"
    assert rebuilt in page, "a report without the rerun command gets it rebuilt"
    assert "exec:node src/adapter.mjs" not in page and "…/src/adapter.mjs" in page
    assert 'class="req o-failed known"' in page and "Known failure (baseline)" in page
    assert _html.sentence_html(index()["HIST-027"].statement) in page
    assert "<strong>MUST</strong>" in page and "**" not in page


def test_html_is_one_file_without_external_assets_or_machine_paths():
    page = _html.render(known_report())
    assert not re.search(r"""<(?:script|img|iframe)[^>]+src=|<link[^>]+stylesheet|url\(\s*['"]?http|@import""", page)
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert all(h.startswith(("#", "data:", "https://example.org/issues/")) for h in hrefs), hrefs
    for path in MACHINE_PATHS:
        assert path not in page


def test_html_links_each_requirement_to_the_spec_under_a_configured_url():
    page = _html.render(known_report(), spec_url="https://example.org/spec")
    assert 'href="https://example.org/spec/hist.md#hist-002-' in page


# -- badge ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failing", "colour", "score"), [(True, "#e05d44", "1/4 MUST"), (False, "#44cc11", "4/4 MUST")]
)
def test_badge_shows_spec_version_must_score_and_the_verdicts_colour(failing, colour, score):
    svg = _badge.render(known_report(failing=failing))
    root = ET.fromstring(svg)  # well-formed SVG
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert f"conformance · spec {SPEC_VERSION}" in texts and score in texts
    assert f'fill="{colour}"' in svg
    assert int(root.get("width", "0")) > 100


def test_must_score_leaves_out_what_is_not_claimed_and_counts_untested():
    report = known_report(failing=False)
    assert must_score(report) == (4, 4)  # STORE-001 skipped: not claimed
    report["requirements"][0]["outcome"] = "not-tested"
    report["requirements"][0]["reason"] = "deselected"
    assert must_score(report) == (3, 4)


# -- drift matrix --------------------------------------------------------------------------------


def _matrix_reports() -> list[dict[str, Any]]:
    good = known_report("python-sdk", failing=False)
    bad = known_report("go-port", failing=True)
    other = copy.deepcopy(good)
    other["implementation"]["name"] = "node-port"
    other["run"]["transport"] = "adapter-protocol"
    # Not claimed here, passed elsewhere: no verdict, so no disagreement.
    other["requirements"][3] = _row("HIST-027", "skipped")
    return [good, bad, validate(other)]


def test_matrix_highlights_exactly_where_implementations_disagree():
    reports = _matrix_reports()
    drift = {rid for rid in matrix.requirement_ids(reports) if matrix.differs(reports, rid)}
    assert drift == {"HIST-002", "HIST-005", "HIST-027"}
    assert not matrix.differs(reports[::2], "HIST-027"), "passed against skipped is no disagreement"
    page = matrix.render_html(reports)
    highlighted = set(re.findall(r'<tr id="([A-Z]+-\d{3})" class="differs"', page))
    assert highlighted == drift
    for col, name in enumerate(("python-sdk", "go-port", "node-port"), start=1):
        assert f"{col}. {name}<br>" in page
    assert "adapter-protocol" in page and "in-process" in page
    assert '<a href="#d2-HIST-002"' in page and 'id="d2-HIST-002"' in page  # a cell links to its failure text


def test_matrix_markdown_lists_the_disagreements_first():
    text = matrix.render_markdown(_matrix_reports())
    assert text.startswith("## Drift matrix: 3 implementations, 5 requirements, 3 where they disagree")
    disagree = text.split("### Where they disagree")[1].split("<details>")[0]
    rows = re.findall(r"^\| ([A-Z]+-\d{3}) ", disagree, re.MULTILINE)
    assert rows == ["HIST-002", "HIST-005", "HIST-027"]
    assert "| HIST-002 A positive limit returns the newest N items, oldest first | MUST | pass | **FAIL** | pass |" in (
        text
    )
    assert "expected [{" in disagree


def test_matrix_and_report_commands_render_from_json_files_alone(tmp_path):
    paths = []
    for n, report in enumerate(_matrix_reports()):
        paths.append(tmp_path / f"r{n}.json")
        paths[-1].write_text(json.dumps(report))
    html, md = tmp_path / "m.html", tmp_path / "m.md"
    cmd = [sys.executable, "-m", "conformance.matrix", *map(str, paths), "--html", str(html), "--markdown", str(md)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, check=False)  # noqa: S603
    assert done.returncode == 0, done.stderr
    assert "3 requirement(s) where they disagree: HIST-002, HIST-005, HIST-027" in done.stdout
    assert html.read_text().startswith("<!DOCTYPE html>") and md.read_text().startswith("## Drift matrix")
    one = tmp_path / "one.html"
    cmd = [
        sys.executable,
        "-m",
        "conformance.report",
        str(paths[1]),
        "--html",
        str(one),
        "--badge",
        str(tmp_path / "b.svg"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, check=False)  # noqa: S603
    assert done.returncode == 0, done.stderr
    assert one.read_text() == _html.render(load_report(paths[1]))


def test_a_file_that_is_not_a_valid_report_is_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**known_report(), "summary": {"verdict": "fine"}}))
    with pytest.raises(ReportError, match="not a valid conformance report"):
        load_report(bad)
    cmd = [sys.executable, "-m", "conformance.matrix", str(bad), "--html", str(tmp_path / "x.html")]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    assert done.returncode == 2 and "not a valid conformance report" in done.stderr


# -- a real run writes them all ------------------------------------------------------------------


def test_a_run_writes_html_markdown_and_badge_from_its_report(run_kit, pytester):
    files = {k: pytester.path / f"out.{k}" for k in ("html", "md", "svg")}
    run = run_kit(
        "tests.miniatures.hist:limit_oldest",
        "--requirement=HIST-002",
        "--hypothesis-seed=7",
        f"--conformance-html={files['html']}",
        f"--conformance-markdown={files['md']}",
        f"--conformance-badge={files['svg']}",
        "--conformance-spec-url=https://example.org/spec",
    )
    assert run.result.ret == 1
    assert not list(validator_for("report.schema.json").iter_errors(run.report))
    assert run.report["run"]["transport"] == "in-process" and run.report["run"]["depth"] == "fast"
    row = run.requirement("HIST-002")
    assert row["statement"] == index()["HIST-002"].statement
    failed = [t for t in row["tests"] if t["outcome"] == "failed"]
    assert failed and all(t["rerun"].endswith(t["nodeid"]) or t["nodeid"] in t["rerun"] for t in failed)
    printed = [ln.removeprefix("rerun: ") for ln in run.result.outlines if ln.startswith("rerun: ")]
    assert {t["rerun"] for t in failed} <= set(printed), "the report's rerun commands are the ones pytest printed"
    assert files["html"].read_text() == _html.render(run.report, spec_url="https://example.org/spec")
    assert files["md"].read_text() == _markdown.render(run.report, spec_url="https://example.org/spec")
    assert files["svg"].read_text() == _badge.render(run.report)
    assert "expected [" in files["md"].read_text()
    assert str(ROOT) not in files["html"].read_text() + files["md"].read_text()
