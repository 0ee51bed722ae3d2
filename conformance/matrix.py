"""The drift matrix: several JSON reports side by side, one column per implementation.

``python -m conformance.matrix REPORT.json… --html OUT --markdown OUT``

Rows are requirements, columns are implementations (name, version, transport); a cell is the
outcome, linking to the failure's text.  A requirement on which the implementations *disagree*
(some passed it, some failed it) is highlighted: that is where a port drifts.  Skipped (not
claimed) and not tested are no verdict, so they never make a disagreement.  Every report is
validated against ``schemas/report.schema.json`` and rendered from its JSON alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from conformance._html import chip, esc, failure_block, filter_bar, page, sentence_html
from conformance._render import (
    ReportError,
    clip_lines,
    failing_tests,
    in_scope,
    load_report,
    must_score,
    portable,
    spec_link,
    statement,
    transport,
)

__all__ = ["differs", "main", "render_html", "render_markdown"]

FAILING = ("failed", "not-testable")
SHORT = {
    "passed": "pass",
    "failed": "FAIL",
    "not-testable": "FAIL (not testable)",
    "skipped": "skip",
    "not-tested": "—",
}


def verdict_class(outcome: str) -> str | None:
    """What an outcome says about behaviour: pass, fail, or nothing (skipped, not tested)."""
    if outcome == "passed":
        return "pass"
    if outcome in FAILING:
        return "fail"
    return None


def _rows_by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in report["requirements"]}


def requirement_ids(reports: list[dict[str, Any]]) -> list[str]:
    """Every requirement some report has in scope (a run with --requirement has the others out of it)."""
    ids: set[str] = set()
    for report in reports:
        ids.update(r["id"] for r in report["requirements"] if in_scope(report, r))
    return sorted(ids, key=lambda rid: (rid.partition("-")[0], rid))


def differs(reports: list[dict[str, Any]], rid: str) -> bool:
    """Whether some implementation passed ``rid`` and another failed it."""
    classes = set()
    for report in reports:
        row = _rows_by_id(report).get(rid)
        if row is not None and (cls := verdict_class(row["outcome"])) is not None:
            classes.add(cls)
    return len(classes) > 1


def column_name(report: dict[str, Any]) -> str:
    impl = report["implementation"]
    return f"{impl['name']} {impl['version']}"


def _any_row(reports: list[dict[str, Any]], rid: str) -> dict[str, Any]:
    return next(r for report in reports if (r := _rows_by_id(report).get(rid)) is not None)


# -- Markdown ----------------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _md_cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "n/a"
    text = SHORT[row["outcome"]]
    if "known_failure" in row:
        text += " (known)"
    return f"**{text}**" if row["outcome"] in FAILING else text


def render_markdown(reports: list[dict[str, Any]], *, spec_url: str | None = None) -> str:
    ids = requirement_ids(reports)
    drift = [rid for rid in ids if differs(reports, rid)]
    lines = [
        f"## Drift matrix: {len(reports)} implementations, {len(ids)} requirements, {len(drift)} where they disagree",
        "",
        "| # | implementation | version | transport | spec | verdict | MUST passed |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, report in enumerate(reports, start=1):
        impl, (passed, total) = report["implementation"], must_score(report)
        lines.append(
            f"| {n} | {_md(impl['name'])} (`{_md(portable(impl['target']))}`) | {_md(impl['version'])} | "
            f"{transport(report)} | {report['spec_version']} | {report['summary']['verdict']} | {passed}/{total} |"
        )
    header = "| requirement | level | " + " | ".join(str(n) for n in range(1, len(reports) + 1)) + " |"
    rule = "|---|---|" + "---|" * len(reports)

    def table(rids: list[str]) -> list[str]:
        out = [header, rule]
        for rid in rids:
            row = _any_row(reports, rid)
            link = spec_link(row, spec_url)
            name = f"[{rid}]({link})" if link else rid
            cells = [_md_cell(_rows_by_id(report).get(rid)) for report in reports]
            out.append(f"| {name} {_md(row['title'])} | {row['level']} | " + " | ".join(cells) + " |")
        return out

    lines += ["", "### Where they disagree", ""]
    lines += table(drift) if drift else ["Nowhere: every requirement some of them judged, they judged alike."]
    for rid in drift:
        row = _any_row(reports, rid)
        sentence = statement(row)
        lines += ["", f"#### {rid} ({row['level']}): {_md(row['title'])}", ""]
        if sentence:
            lines += [f"> {_md(' '.join(sentence.split()))}", ""]
        for n, report in enumerate(reports, start=1):
            got = _rows_by_id(report).get(rid)
            if got is None or got["outcome"] not in FAILING:
                continue
            tests = failing_tests(got)
            first = tests[0] if tests else None
            lines.append(f"- **{n}** {_md(column_name(report))}: {got['outcome']} ({', '.join(got['failure_kinds'])})")
            if first is not None and first.get("message"):
                text = clip_lines(portable(first["message"]), lines=6, width=200)
                lines += ["", "  ```text", *[f"  {line}" for line in text.splitlines()], "  ```", ""]
    lines += ["", "<details><summary>Every requirement</summary>", "", *table(ids), "", "</details>"]
    return "\n".join(lines) + "\n"


# -- HTML --------------------------------------------------------------------------------------


def _cell(col: int, row: dict[str, Any] | None) -> str:
    if row is None:
        return '<td class="small">n/a</td>'
    known = "known_failure" in row
    label = chip(row["outcome"], known=known)
    if row["outcome"] in FAILING:
        kinds = ", ".join(row.get("failure_kinds", []))
        return f'<td><a href="#d{col}-{esc(row["id"])}" title="{esc(kinds)}">{label}</a></td>'
    reason = row.get("reason", "")
    return f'<td title="{esc(portable(reason))}">{label}</td>'


def render_html(reports: list[dict[str, Any]], *, spec_url: str | None = None) -> str:
    ids = requirement_ids(reports)
    drift = {rid for rid in ids if differs(reports, rid)}
    columns = []
    for n, report in enumerate(reports, start=1):
        impl, (passed, total) = report["implementation"], must_score(report)
        verdict = report["summary"]["verdict"]
        columns.append(
            f"<tr><th>{n}</th><td>{esc(impl['name'])}</td><td>{esc(impl['version'])}</td>"
            f"<td>{esc(transport(report))}</td><td><code>{esc(portable(impl['target']))}</code></td>"
            f"<td>{esc(report['spec_version'])}</td>"
            f'<td><span class="verdict v-{esc(verdict)}" style="font-size:.8rem">{esc(verdict)}</span></td>'
            f"<td>{passed}/{total}</td></tr>"
        )
    heads = "".join(
        f'<th scope="col">{n}. {esc(r["implementation"]["name"])}<br><span class="small">'
        f"{esc(r['implementation']['version'])} · {esc(transport(r))}</span></th>"
        for n, r in enumerate(reports, start=1)
    )
    body = []
    area = None
    for rid in ids:
        row = _any_row(reports, rid)
        if row["area"] != area:
            area = row["area"]
            body.append(
                f'<tr class="area-row" data-group><th class="rid" colspan="2">{esc(str(area).upper())}</th>'
                f'<td colspan="{len(reports)}"></td></tr>'
            )
        worst = (
            "failed"
            if any((r := _rows_by_id(rep).get(rid)) is not None and r["outcome"] in FAILING for rep in reports)
            else "passed"
        )
        is_drift = rid in drift
        link = spec_link(row, spec_url)
        name = f'<a href="{esc(link)}">{esc(rid)}</a>' if link else esc(rid)
        mark = ' <strong title="the implementations disagree">≠ differs</strong>' if is_drift else ""
        cells = "".join(_cell(col, _rows_by_id(rep).get(rid)) for col, rep in enumerate(reports, start=1))
        body.append(
            f'<tr id="{esc(rid)}" class="{"differs" if is_drift else ""}" data-outcome="{worst}" '
            f'data-differs="{"1" if is_drift else "0"}" data-known="0" '
            f'data-text="{esc((rid + " " + row["title"]).lower())}">'
            f'<th class="rid" scope="row"><code>{name}</code>{mark}<br>'
            f'<span class="small">{esc(row["title"])}</span></th>'
            f"<td>{esc(row['level'])}</td>{cells}</tr>"
        )
    details = []
    for col, report in enumerate(reports, start=1):
        for row in report["requirements"]:
            if row["outcome"] not in FAILING:
                continue
            sentence = statement(row)
            blocks = "".join(
                failure_block(report, row, test, f"rerun{col}-{row['id']}-{k}")
                for k, test in enumerate(failing_tests(row)[:5])
            )
            more = len(failing_tests(row)) - 5
            details.append(
                f'<section class="req o-failed" id="d{col}-{esc(row["id"])}"><div class="body">'
                f"<h3>{col}. {esc(column_name(report))}: <code>{esc(row['id'])}</code> {esc(row['title'])} "
                f"{chip(row['outcome'], known='known_failure' in row)}</h3>"
                + (f'<blockquote class="statement">{sentence_html(sentence)}</blockquote>' if sentence else "")
                + blocks
                + (f'<p class="small">… and {more} more failing test(s) in the report.</p>' if more > 0 else "")
                + f'<p class="small"><a href="#{esc(row["id"])}">back to the matrix</a></p></div></section>'
            )
    summary = (
        f"<header><h1>Drift matrix</h1><p>{len(reports)} implementations, {len(ids)} requirements; "
        f'<strong id="drift-count">{len(drift)}</strong> where they disagree (some passed, some failed), '
        "highlighted.</p>"
        '<div class="table-wrap"><table id="columns"><thead><tr><th>#</th><th>implementation</th><th>version</th>'
        "<th>transport</th><th>--impl</th><th>spec</th><th>verdict</th><th>MUST passed</th></tr></thead>"
        f"<tbody>{''.join(columns)}</tbody></table></div></header>"
    )
    failing_rows = sum(
        any((r := _rows_by_id(rep).get(rid)) is not None and r["outcome"] in FAILING for rep in reports) for rid in ids
    )
    bar = filter_bar(
        [
            ("all", "All", len(ids)),
            ("differs", "Where they disagree", len(drift)),
            ("failed", "Any failed", failing_rows),
        ],
        "Filter by id or title",
    )
    table = (
        f'<div class="table-wrap"><table id="matrix"><thead><tr><th class="rid">requirement</th><th>level</th>{heads}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
    failures = f'<h2 id="failures">Failures</h2>{"".join(details)}' if details else ""
    content = summary + bar + "<main>" + table + failures + "</main>"
    return page(f"Drift matrix: {len(reports)} implementations", content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.matrix",
        description="Render JSON conformance reports side by side: where do the implementations disagree?",
    )
    parser.add_argument("reports", nargs="+", type=Path, help="JSON reports (--conformance-report), one per column")
    parser.add_argument("--html", type=Path, help="write the matrix as one self-contained HTML file")
    parser.add_argument("--markdown", type=Path, help="write the matrix as Markdown (e.g. $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--spec-url", help="URL of the spec folder: requirement ids link there")
    args = parser.parse_args(argv)
    if not args.html and not args.markdown:
        parser.error("give --html OUT and/or --markdown OUT")
    try:
        reports = [load_report(path) for path in args.reports]
    except ReportError as exc:
        sys.stderr.write(f"conformance.matrix: {exc}\n")
        return 2
    for target, render in ((args.html, render_html), (args.markdown, render_markdown)):
        if target:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render(reports, spec_url=args.spec_url), encoding="utf-8")
    drift = [rid for rid in requirement_ids(reports) if differs(reports, rid)]
    sys.stdout.write(
        f"conformance.matrix: {len(reports)} reports, {len(drift)} requirement(s) where they disagree: "
        f"{', '.join(drift) or 'none'}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
