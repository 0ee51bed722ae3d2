"""The real-library matrix: its page is generated from its reports, and every failure is explained."""

from __future__ import annotations

import copy
import importlib
import json
import re

import pytest

from conformance._report import OUTCOMES
from conformance._requirements import index
from implementations import render_matrix
from implementations.libraries import LIBRARIES
from tests.conftest import ROOT


def test_the_committed_page_is_what_the_committed_reports_say():
    assert render_matrix.main(["--check"]) == 0


@pytest.mark.parametrize("key", sorted(render_matrix.load()))
def test_a_failure_no_confirmation_explains_is_refused(key):
    report = copy.deepcopy(render_matrix.load()[key])
    row = next(r for r in report["requirements"] if r["outcome"] == "passed")
    row["outcome"] = "failed"
    _, unexplained = render_matrix.render({key: report})
    assert unexplained == [f"{key} {row['id']} failed: no confirmation check explains it"]


def test_every_failure_line_names_its_confirmation_and_its_table_row():
    page, unexplained = render_matrix.render(render_matrix.load())
    assert unexplained == []
    lines = [line for line in page.splitlines() if line.startswith("| ") and "#differences-from-upstream)" in line]
    assert lines
    assert all(re.search(r"\| `implementations\.\w+\.\w+` \|$", line.rstrip()) for line in lines)


def test_every_library_in_the_table_has_committed_results_for_each_target():
    committed = render_matrix.load()
    missing = [lib.key(t) for lib in LIBRARIES.values() for t in lib.targets if lib.key(t) not in committed]
    assert not missing, f"targets with no committed report (run their nox -s matrix session): {missing}"


@pytest.mark.parametrize("key", sorted(render_matrix.load()))
def test_every_committed_report_counts_every_requirement_of_the_index(key):
    """A requirement added since the last ``nox -t matrix`` shows here, not only in CI's matrix diff.

    The committed summary keeps the rows of the requirements a target was judged on, and counts
    the rest as skipped; together they are the index, no more and no less.
    """
    report = render_matrix.load()[key]
    summary = report["summary"]
    counted = sum(summary[k] for k in OUTCOMES)
    ids = {row["id"] for row in report["requirements"]}
    assert counted == len(index()) and ids <= set(index()), (
        f"{key}: the committed report counts {counted} requirements, the index has {len(index())}"
        f" (rows the index lacks: {sorted(ids - set(index()))}); run `nox -t matrix` and commit"
        " implementations/matrix.json and spec/implementations.md"
    )
    assert len(ids) == counted - summary["skipped"], f"{key}: {len(ids)} rows for {counted - summary['skipped']} judged"


@pytest.mark.parametrize("name", sorted(LIBRARIES))
def test_a_library_is_an_adapter_module_a_confirmation_module_and_a_recorded_table(name):
    """Each entry names modules that import without the library, and checks citing rows its document has."""
    library = LIBRARIES[name]
    adapter = importlib.import_module(library.module)
    rows = render_matrix.recorded_rows(library.document)
    for target in library.targets:
        implementation = getattr(adapter, target)
        assert implementation.spec_version
        for check in render_matrix.checks_for(library, target):
            assert check.row in rows, f"{name} {target}: {check.row!r} is no row of spec/{library.document}"
            assert re.fullmatch(r"[A-Z]+-\d{3}", check.requirement)
    assert library.extra in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_a_library_whose_reports_are_absent_keeps_its_committed_columns(tmp_path):
    committed = render_matrix.load()
    first, *_ = LIBRARIES.values()
    key = first.key(first.targets[0])
    fresh = copy.deepcopy(committed[key])
    fresh["summary"] = {"passed": -1}  # recognisably not the committed entry
    (tmp_path / first.name).mkdir()
    report = {**fresh, "requirements": [{**r, "tests": []} for r in fresh["requirements"]]}
    (tmp_path / first.name / f"{first.targets[0]}.json").write_text(json.dumps(report), encoding="utf-8")
    collected = render_matrix.collect(tmp_path, committed)
    assert collected[key]["summary"] == {"passed": -1}
    others = {k for k in committed if not k.startswith(f"{first.name}/")}
    assert {k: collected[k] for k in others} == {k: committed[k] for k in others}
    assert not {k for k in committed if k.startswith(f"{first.name}/") and k != key} & set(collected), (
        "a library that ran keeps only the reports of this run"
    )


def test_a_claimed_requirement_left_untested_is_not_shown_as_unclaimed():
    """``·`` (claimed, not judged) and ``–`` (not claimed) are different facts; condensing keeps them apart."""
    key = next(iter(render_matrix.load()))
    report = copy.deepcopy(render_matrix.load()[key])
    full = {**report, "requirements": [{**r, "tests": []} for r in report["requirements"]]}
    full["requirements"][0]["outcome"] = "not-tested"
    full["requirements"].append({"id": "ZZZ-999", "title": "t", "outcome": "skipped", "tests": []})
    condensed = render_matrix.condense(full)
    assert condensed["requirements"][0]["outcome"] == "not-tested"
    assert "ZZZ-999" not in {r["id"] for r in condensed["requirements"]}
    page, _ = render_matrix.render({key: condensed})
    rid = condensed["requirements"][0]["id"]
    assert any(line.startswith(f"| {rid} ") and "| · |" in line for line in page.splitlines())
