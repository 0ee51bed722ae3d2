"""The Markdown summary of one report, for a CI step summary (``--conformance-markdown``).

Rendered from the JSON report alone.  Outside this repository a relative link is dead, so each
problem embeds its requirement's normative sentence, and links to the spec only under a base URL
the user gave (``--conformance-spec-url``).  Nothing in it depends on timing, so a serial and a
parallel run of the same seed write the same file.
"""

from __future__ import annotations

import re
from typing import Any

from conformance._render import (
    OUTCOMES,
    clip_lines,
    failing_tests,
    must_score,
    portable,
    problems,
    rerun_command,
    spec_link,
    statement,
    transport,
)

#: Failing tests shown in full per requirement; the rest are counted.
SHOWN_TESTS = 3
#: How Hypothesis introduces the minimal example it found (a state machine program, or arguments).
PROGRAM = r"Failing test case:|Falsifying example:|distinct failures"


def _cell(text: str, width: int = 160) -> str:
    line = text.splitlines()[0] if text else ""
    if len(line) > width:
        line = line[: width - 1] + "…"
    return _inline(line).replace("|", "\\|")


def _inline(text: str) -> str:
    """Text that Markdown (and GitHub's HTML filter) shows as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fence(text: str, lang: str = "text") -> list[str]:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", text, fence]


def _why(row: dict[str, Any]) -> str:
    return str(next((t["message"] for t in row["tests"] if t.get("message")), row.get("reason", "")))


def render(report: dict[str, Any], *, spec_url: str | None = None) -> str:
    impl, summary, rows, run = report["implementation"], report["summary"], report["requirements"], report["run"]
    selected = run.get("selected")
    passed, total = must_score(report)
    lines = [
        f"## Conformance: {impl['name']} {impl['version']} — **{summary['verdict']}**",
        "",
        (
            f"Spec {report['spec_version']}, kit {report['kit']['version']}, `--impl={portable(impl['target'])}` "
            f"({transport(report)}), `--hypothesis-seed={run['hypothesis_seed']}`"
            f"{', strict' if run['strict'] else ''}"
            f"{f', selected: {len(selected)} requirement(s)' if selected is not None else ''}. "
            f"MUST requirements passed: {passed}/{total}."
        ),
        "",
        "| area | " + " | ".join(OUTCOMES) + " |",
        "|---|" + "---|" * len(OUTCOMES),
    ]
    for area in sorted({r["area"] for r in rows if selected is None or r["id"] in selected}):
        counts = [sum(r["outcome"] == o for r in rows if r["area"] == area) for o in OUTCOMES]
        lines.append(f"| {area} | " + " | ".join(map(str, counts)) + " |")
    if "baseline" in summary:
        base = summary["baseline"]
        new, stale = ", ".join(base["new"]) or "none", ", ".join(base["stale"]) or "none"
        lines += [
            "",
            (
                f"Baseline `{portable(base['path'])}`: {len(base['known'])} known, {len(base['new'])} new ({new}), "
                f"{len(base['stale'])} stale ({stale})."
            ),
        ]
    if run.get("internal_error"):
        lines += ["", "pytest or the kit crashed during the run; the outcomes cover what ran before:", ""]
        lines += _fence(clip_lines(portable(run["internal_error"]), lines=12))
    shown = problems(report)
    if not shown:
        return "\n".join(lines) + "\n"
    lines += ["", "| requirement | level | outcome | why |", "|---|---|---|---|"]
    for row in shown:
        kinds = f" ({', '.join(row['failure_kinds'])})" if row.get("failure_kinds") else ""
        known = " — known (baseline)" if "known_failure" in row else ""
        link = spec_link(row, spec_url)
        name = f"[{row['id']}]({link})" if link else f"**{row['id']}**"
        why = _cell(portable(_why(row)))
        lines.append(f"| {name} {_cell(row['title'])} | {row['level']} | {row['outcome']}{kinds}{known} | {why} |")
    for row in shown:
        if row["outcome"] not in ("failed", "not-testable"):
            continue
        lines += _details(report, row, spec_url)
    return "\n".join(lines) + "\n"


def _details(report: dict[str, Any], row: dict[str, Any], spec_url: str | None) -> list[str]:
    kinds = ", ".join(row.get("failure_kinds", []))
    out = ["", f"### {row['id']} ({row['level']}): {_inline(row['title'])} — {row['outcome']} ({kinds})", ""]
    sentence = statement(row)
    if sentence:
        out += [f"> {_inline(' '.join(sentence.split()))}", ""]
    link = spec_link(row, spec_url)
    if link:
        out += [f"Spec: <{link}>", ""]
    if "known_failure" in row:
        known = row["known_failure"]
        more = f" ({known['link']})" if known.get("link") else ""
        out += [f"Known failure (baseline): {_inline(portable(known['reason']))}{more}", ""]
    # A model test's shrunk program explains the most: shown first, the rest in node id order.
    tests = sorted(failing_tests(row), key=lambda t: not re.search(PROGRAM, t.get("message", "")))
    for test in tests[:SHOWN_TESTS]:
        out += [f"`{portable(test['nodeid'])}` — {test.get('failure_kind', test['outcome'])}", ""]
        if test.get("message"):
            out += [*_fence(clip_lines(portable(test["message"]))), ""]
        out += ["Rerun:", "", *_fence(rerun_command(report, row, test), "bash"), ""]
    if len(tests) > SHOWN_TESTS:
        rest = len(tests) - SHOWN_TESTS
        out += [f"… and {rest} more failing test{'s' if rest > 1 else ''} (in the JSON and HTML reports)."]
    return out
