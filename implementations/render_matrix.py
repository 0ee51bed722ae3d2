"""Write spec/implementations.md from the matrix reports: real libraries × requirements.

``nox -s matrix`` runs the kit against each target of each library in
:data:`implementations.libraries.LIBRARIES` and keeps one JSON report per target in
``reports/matrix/<library>/<target>.json`` (not committed: each is some 260 KB); this script keeps
what the page needs of them in ``implementations/matrix.json`` (committed) and renders the page from
that, so the page is never edited by hand.  A library whose reports are absent (its session did not
run this time) keeps its entries from the committed summary, so that one library's session updates
its own columns only.  ``python -m implementations.render_matrix --check`` fails when the committed
page is not what the committed summary says (the kit's own tests run that check).

Every failed or not-testable requirement must be explained by a direct confirmation (a check of the
library's confirmation module naming that requirement), which says what the library does and which
row of the area's "Differences from upstream" table records it.  A failure without one is either a
kit bug or an unrecorded difference; the script refuses to write the page until someone decides which.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from implementations.libraries import LIBRARIES, Library

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports" / "matrix"
SUMMARY = ROOT / "implementations" / "matrix.json"
PAGE = ROOT / "spec" / "implementations.md"
SHORT = {"passed": "pass", "failed": "FAIL", "not-testable": "n/t", "skipped": "–", "not-tested": "·"}


def condense(report: dict[str, Any]) -> dict[str, Any]:
    """What the page needs of one report: who ran, the counts, and each claimed requirement's outcome."""
    return {
        "implementation": report["implementation"],
        "kit": report["kit"],
        "summary": report["summary"],
        "requirements": [
            {"id": r["id"], "title": r["title"], "outcome": r["outcome"], "failure_kinds": r.get("failure_kinds", [])}
            for r in report["requirements"]
            if r["outcome"] != "skipped"  # not claimed: the page leaves those out
        ],
    }


def library_of(key: str) -> tuple[Library, str]:
    """The library and target a report key (``library/target``) names."""
    name, _, target = key.partition("/")
    if name not in LIBRARIES or target not in LIBRARIES[name].targets:
        msg = f"{key!r} names no target of implementations/libraries.py"
        raise KeyError(msg)
    return LIBRARIES[name], target


def collect(folder: Path = REPORTS, committed: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The condensed reports of the last run of each library, in the table's order.

    A library with at least one report in ``folder`` is taken from there; any other keeps its
    entries from ``committed`` (by default the committed summary).
    """
    kept = load() if committed is None else committed
    reports: dict[str, dict[str, Any]] = {}
    for library in LIBRARIES.values():
        found = {t: folder / library.name / f"{t}.json" for t in library.targets}
        ran = any(path.is_file() for path in found.values())
        for target, path in found.items():
            key = library.key(target)
            if ran and path.is_file():
                reports[key] = condense(json.loads(path.read_text(encoding="utf-8")))
            elif not ran and key in kept:
                reports[key] = kept[key]
    return reports


def load(path: Path = SUMMARY) -> dict[str, dict[str, Any]]:
    """The committed summary of the last matrix run."""
    if not path.is_file():
        return {}
    loaded: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def recorded_rows(document: str) -> set[str]:
    """The first cell of every table row under the document's "Differences from upstream" heading."""
    text = (ROOT / "spec" / document).read_text(encoding="utf-8")
    section = text.split("## Differences from upstream", 1)[-1].split("\n## ", 1)[0]
    return {
        line.split("|")[1].strip()
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("|---")
    }


def checks_for(library: Library, target: str) -> list[Any]:
    """The library's direct confirmations for one target (its confirmation module imports no library)."""
    checks: list[Any] = importlib.import_module(library.confirm).checks_for(target)
    return checks


def _explain(reports: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """One line per failed or not-testable requirement and confirmation; and what nothing explains."""
    unexplained: list[str] = []
    lines: list[str] = []
    for key, report in reports.items():
        library, target = library_of(key)
        checks = checks_for(library, target)
        rows = recorded_rows(library.document)
        anchor = f"{library.document}#differences-from-upstream"
        for req in report["requirements"]:
            if req["outcome"] not in ("failed", "not-testable"):
                continue
            mine = [c for c in checks if c.requirement == req["id"]]
            if not mine:
                unexplained.append(f"{key} {req['id']} {req['outcome']}: no confirmation check explains it")
            unexplained.extend(
                f"{key} {req['id']}: spec/{library.document} records no row {check.row!r}"
                for check in mine
                if check.row not in rows
            )
            lines.extend(
                f"| {library.name} | {target} | {req['id']} | {check.what} | "
                f"{check.row} ([spec/{library.document}]({anchor})) | `{library.confirm}.{check.run.__name__}` |"
                for check in mine
            )
    return lines, unexplained


def _outcomes(library: Library, reports: dict[str, dict[str, Any]]) -> list[str]:
    columns = [t for t in library.targets if library.key(t) in reports]
    rows: dict[str, dict[str, str]] = {}
    titles: dict[str, str] = {}
    for target in columns:
        for req in reports[library.key(target)]["requirements"]:
            rows.setdefault(req["id"], {})[target] = req["outcome"]
            titles[req["id"]] = req["title"]
    out = [
        "",
        f"### {library.name}",
        "",
        "| requirement | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    shown = 0
    for rid in sorted(rows):
        outcomes = [rows[rid].get(target, "skipped") for target in columns]  # absent: not claimed there
        if all(o in ("passed", "skipped") for o in outcomes):
            continue
        shown += 1
        out.append(f"| {rid} {titles[rid]} | " + " | ".join(SHORT.get(o, o) for o in outcomes) + " |")
    if not shown:
        out[3:] = ["Every target passes every requirement it claims."]
    return out


def render(reports: dict[str, dict[str, Any]]) -> tuple[str, list[str]]:
    """The page, and the failures nothing explains."""
    explanations, unexplained = _explain(reports)
    page = [
        "# Real libraries through the kit",
        "",
        "Generated by `python -m implementations.render_matrix` from the reports of `nox -s matrix`",
        "(`reports/matrix/<library>/<target>.json`); do not edit by hand. Each target is run through an",
        "honest adapter (`implementations/`), which translates names, shapes and exceptions; whatever an",
        "adapter adds is declared in its `adds` and listed in the last column.",
        "",
        "## Targets",
        "",
        (
            "| library | target | implementation | library version | spec | claims | passed | failed | not-testable "
            "| adapter adds |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, report in reports.items():
        library, target = library_of(key)
        impl, counts = report["implementation"], report["summary"]
        claims = ", ".join(sorted(impl.get("claims", [])))
        adds = ", ".join(sorted(impl.get("adds", {}))) or "nothing"
        page.append(
            f"| {library.name} | {target} | {impl['name']} | {impl['version']} | {impl['spec_version']} | {claims} "
            f"| {counts.get('passed', 0)} | {counts.get('failed', 0)} | {counts.get('not-testable', 0)} | {adds} |"
        )
    page += [
        "",
        "## Outcomes",
        "",
        "One table per library. Requirements every target passes are left out. `pass` passed, `FAIL` failed,",
        "`n/t` not-testable, `·` not tested (claimed, but no test in the run exercised it), `–` skipped",
        "(capability not claimed).",
    ]
    for library in LIBRARIES.values():
        if any(library.key(t) in reports for t in library.targets):
            page += _outcomes(library, reports)
    page += [
        "",
        "## Why each failure is the library's",
        "",
        "Each line is confirmed by a direct call of the library, without the kit or the adapter, in the",
        "function named, which `nox -s matrix` runs after the kit.",
        "",
        "| library | target | requirement | what the library does | recorded in | confirmed by |",
        "|---|---|---|---|---|---|",
        *explanations,
        "",
    ]
    return "\n".join(page), unexplained


def main(argv: list[str]) -> int:
    checking = "--check" in argv
    reports = load() if checking else collect()
    if not reports:
        where = SUMMARY if checking else REPORTS
        print(f"nothing in {where.relative_to(ROOT)}; run `nox -s matrix` first")  # noqa: T201
        return 1
    page, unexplained = render(reports)
    for line in unexplained:
        print(line)  # noqa: T201
    if checking:
        if PAGE.read_text(encoding="utf-8") != page:
            print(f"{PAGE.name} is not what the reports say: run python -m implementations.render_matrix")  # noqa: T201
            return 1
        return 1 if unexplained else 0
    if unexplained:
        return 1
    SUMMARY.write_text(json.dumps(reports, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {SUMMARY.relative_to(ROOT)} and {PAGE.relative_to(ROOT)} from {len(reports)} report(s)")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
