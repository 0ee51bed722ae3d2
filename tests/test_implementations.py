"""The real-library matrix: its page is generated from its reports, and every failure is explained."""

from __future__ import annotations

import copy

from implementations import render_matrix


def test_the_committed_page_is_what_the_committed_reports_say():
    assert render_matrix.main(["--check"]) == 0


def test_a_failure_no_confirmation_explains_is_refused():
    reports = render_matrix.load()
    name = next(iter(reports))
    report = copy.deepcopy(reports[name])
    row = next(r for r in report["requirements"] if r["id"] == "HIST-001")
    row["outcome"] = "failed"
    _, unexplained = render_matrix.render({name: report})
    assert unexplained == [f"{name} HIST-001 failed: no confirmation check explains it"]


def test_every_failure_line_names_its_confirmation_and_its_table_row():
    page, unexplained = render_matrix.render(render_matrix.load())
    assert unexplained == []
    lines = [
        line for line in page.splitlines() if line.startswith("| ") and "hist.md#differences-from-upstream" in line
    ]
    assert lines
    assert all(line.rstrip().endswith("` |") for line in lines)
