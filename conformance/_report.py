"""Outcomes per test and per requirement; the JSON report (schemas/report.schema.json)."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance import SPEC_VERSION, __version__
from conformance._requirements import index
from conformance.errors import ImplementationError, ImplementationFault, KitError, NotTestable

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from conformance.driver import ImplementationInfo

REPORT_VERSION = "1"
OUTCOMES = ("passed", "failed", "not-testable", "skipped", "not-tested")


@dataclass
class TestRecord:
    nodeid: str
    ids: list[str]
    outcome: str = "not-tested"  # passed | failed | not-testable | skipped | not-tested
    failure_kind: str | None = None  # wrong-answer | crashed | kit-error | not-testable
    message: str | None = None
    duration_s: float = 0.0

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"nodeid": self.nodeid, "outcome": self.outcome, "duration_s": round(self.duration_s, 6)}
        if self.failure_kind:
            out["failure_kind"] = self.failure_kind
        if self.message:
            out["message"] = self.message
        return out


def failure_kind(exc: BaseException | None) -> str:
    """Which of the four kinds of failure an exception stands for."""
    seen: list[BaseException] = []
    stack = [exc] if exc is not None else []
    while stack:  # look inside exception groups (Hypothesis may raise several)
        current = stack.pop()
        seen.append(current)
        stack.extend(getattr(current, "exceptions", ()))
    for cls, kind in ((KitError, "kit-error"), (ImplementationFault, "crashed"), (NotTestable, "not-testable")):
        if any(isinstance(e, cls) for e in seen):
            return kind
    # An exception the implementation raised that maps to no error kind is a crash, not an answer.
    if any(isinstance(e, ImplementationError) and e.kind == "internal" for e in seen):
        return "crashed"
    return "wrong-answer"


def _short(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) or str(report.longrepr)
    return text if len(text) <= 2000 else text[:1997] + "..."


@dataclass
class Recorder:
    """Watches test reports, applies the outcome rules, and writes the report."""

    info: ImplementationInfo
    strict: bool
    seed: str
    tests: dict[str, TestRecord] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    started_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def collected(self, nodeid: str, ids: list[str]) -> None:
        self.tests[nodeid] = TestRecord(nodeid, ids)

    def observe(self, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
        record = self.tests.get(item.nodeid)
        if record is None or not record.ids:
            return
        record.duration_s += report.duration
        if report.skipped and not hasattr(report, "wasxfail"):
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
            record.outcome, record.message = "skipped", reason.removeprefix("Skipped: ")
            return
        if report.passed and report.when == "call" and record.outcome == "not-tested":
            record.outcome = "passed"
            return
        if not report.failed:
            return
        kind = failure_kind(call.excinfo.value if call.excinfo else None)
        record.outcome = "not-testable" if kind == "not-testable" else "failed"
        record.failure_kind = kind
        record.message = _short(report)
        levels = {index()[i].level for i in record.ids}
        if not self.strict and "MUST" not in levels and kind != "kit-error":
            # SHOULD/MAY: reported as such, but only --conformance-strict fails the run.
            report.outcome = "skipped"
            report.wasxfail = f"{'/'.join(sorted(levels))} not met ({', '.join(record.ids)}): {record.message}"

    # -- per requirement -------------------------------------------------------------
    def requirements(self) -> list[dict[str, Any]]:
        by_id: dict[str, list[TestRecord]] = {}
        for record in self.tests.values():
            for rid in record.ids:
                by_id.setdefault(rid, []).append(record)
        rows = []
        for rid, req in index().items():
            tests = by_id.get(rid, [])
            row: dict[str, Any] = {
                "id": rid,
                "level": req.level,
                "area": req.area,
                "title": req.title,
                "capability": req.capability,
                "anchor": req.anchor,
            }
            outcomes = [t.outcome for t in tests]
            for outcome in ("not-testable", "failed"):
                if outcome in outcomes:
                    row["outcome"] = outcome
                    row["failure_kinds"] = sorted({t.failure_kind for t in tests if t.failure_kind})
                    break
            else:
                if "passed" in outcomes:
                    row["outcome"] = "passed"
                elif "skipped" in outcomes:
                    row["outcome"] = "skipped"
                    row["reason"] = next(t.message for t in tests if t.outcome == "skipped")
                else:
                    row["outcome"] = "not-tested"
                    row["reason"] = "cited by no test" if not tests else "no citing test ran (deselected?)"
            row["tests"] = [t.as_json() for t in tests]
            rows.append(row)
        return rows

    def verdict(self, rows: list[dict[str, Any]]) -> str:
        binding = [r for r in rows if self.strict or r["level"] == "MUST"]
        if any(r["outcome"] in ("failed", "not-testable") for r in binding):
            return "not-conformant"
        if any(r["outcome"] == "not-tested" for r in binding):
            return "incomplete"
        return "conformant"

    def as_json(self) -> dict[str, Any]:
        rows = self.requirements()
        summary = {outcome: sum(r["outcome"] == outcome for r in rows) for outcome in OUTCOMES}
        info = self.info
        return {
            "report_version": REPORT_VERSION,
            "kit": {"name": "agent-session-conformance", "version": __version__},
            "spec_version": SPEC_VERSION,
            "implementation": {
                "name": info.name,
                "version": info.version,
                "spec_version": info.spec_version,
                "claims": sorted(info.claims),
                "target": info.target,
            },
            "run": {
                "started_at": self.started_at,
                "duration_s": round(time.monotonic() - self.started, 3),
                "strict": self.strict,
                "hypothesis_seed": self.seed,
            },
            "summary": {**summary, "verdict": self.verdict(rows)},
            "requirements": rows,
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def markdown(self) -> str:
        """The report as Markdown, for a CI step summary: verdict, counts per area, then every non-pass."""
        data = self.as_json()
        impl, summary, rows = data["implementation"], data["summary"], data["requirements"]
        lines = [
            f"## Conformance: {impl['name']} {impl['version']} — **{summary['verdict']}**",
            "",
            (
                f"Spec {data['spec_version']}, kit {data['kit']['version']}, `--impl={impl['target']}`, "
                f"`--hypothesis-seed={data['run']['hypothesis_seed']}`"
                f"{', strict' if data['run']['strict'] else ''}."
            ),
            "",
            "| area | " + " | ".join(OUTCOMES) + " |",
            "|---|" + "---|" * len(OUTCOMES),
        ]
        for area in sorted({r["area"] for r in rows}):
            counts = [sum(r["outcome"] == o for r in rows if r["area"] == area) for o in OUTCOMES]
            lines.append(f"| {area} | " + " | ".join(map(str, counts)) + " |")
        problems = [r for r in rows if r["outcome"] in ("failed", "not-testable", "not-tested")]
        if problems:
            lines += ["", "| requirement | level | outcome | why |", "|---|---|---|---|"]
            for row in problems:
                why = next((t.get("message", "") for t in row["tests"] if t.get("message")), row.get("reason", ""))
                why = why.splitlines()[0].replace("|", "\\|")[:160] if why else ""
                kinds = f" ({', '.join(row['failure_kinds'])})" if row.get("failure_kinds") else ""
                link = f"[{row['id']}]({row['anchor']}) {row['title']}"
                lines.append(f"| {link} | {row['level']} | {row['outcome']}{kinds} | {why} |")
        return "\n".join(lines) + "\n"

    def summary_lines(self) -> list[str]:
        rows = self.requirements()
        counts = ", ".join(f"{sum(r['outcome'] == o for r in rows)} {o}" for o in OUTCOMES)
        lines = [f"conformance: {len(rows)} requirements: {counts} -> {self.verdict(rows)}"]
        for row in rows:
            if row["outcome"] in ("failed", "not-testable"):
                kinds = ", ".join(row.get("failure_kinds", []))
                lines.append(f"  {row['outcome'].upper():12} {row['level']:6} {row['id']} {row['title']} [{kinds}]")
        return lines
