"""Outcomes per test and per requirement, the verdict, the exit status, and the report files.

Where each part runs matters under pytest-xdist: :func:`classify` runs in the process that ran
the test (a worker, or the only process) and attaches its result to the test report as
``report.conformance``; xdist carries that attribute to the controller, whose :class:`Recorder`
aggregates.  So the serial and the parallel run see the same data and write the same report.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance import SPEC_VERSION, __version__
from conformance._render import portable
from conformance._requirements import Requirement, index
from conformance.errors import ImplementationError, ImplementationFault, KitError, NotTestable

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from conformance._baseline import Baseline
    from conformance.driver import ImplementationInfo

REPORT_VERSION = "1"
NOT_JUDGED = "not judged: "  # conformance.suite._support.not_judged
OUTCOMES = ("passed", "failed", "not-testable", "skipped", "not-tested")

#: The process exit status for each result of a run (README, spec/README "Exit status").
EXIT_CONFORMANT = 0
EXIT_NOT_CONFORMANT = 1
EXIT_INTERNAL_ERROR = 3  # pytest's own
EXIT_USAGE = 4
EXIT_INCOMPLETE = 6


@dataclass
class TestRecord:
    nodeid: str
    ids: list[str]
    outcome: str = "not-tested"  # passed | failed | not-testable | skipped | not-tested
    failure_kind: str | None = None  # wrong-answer | crashed | kit-error | not-testable
    message: str | None = None
    duration_s: float = 0.0
    known: bool = False  # the failure is listed in the baseline
    rerun: str | None = None  # the command that repeats this failing test with the run's seed

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"nodeid": self.nodeid, "outcome": self.outcome, "duration_s": round(self.duration_s, 6)}
        if self.failure_kind:
            out["failure_kind"] = self.failure_kind
        if self.message:
            out["message"] = self.message
        if self.known:
            out["known"] = True
        if self.rerun and self.outcome in ("failed", "not-testable"):
            out["rerun"] = self.rerun
        return out


def chain(exc: BaseException | None) -> list[BaseException]:
    """The exception, the groups it holds and the causes it was raised from, without repeats."""
    seen: list[BaseException] = []
    stack = [exc] if exc is not None else []
    while stack:
        current = stack.pop()
        if any(current is s for s in seen):
            continue
        seen.append(current)
        stack.extend(getattr(current, "exceptions", ()))
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return seen


def failure_kind(exc: BaseException | None) -> str:
    """Which of the four kinds of failure an exception stands for.

    Causes count too: Hypothesis may wrap an implementation's crash in an error of its own.
    """
    seen = chain(exc)
    for cls, kind in ((KitError, "kit-error"), (ImplementationFault, "crashed"), (NotTestable, "not-testable")):
        if any(isinstance(e, cls) for e in seen):
            return kind
    # An exception the implementation raised that maps to no error kind is a crash, not an answer.
    if any(isinstance(e, ImplementationError) and e.kind == "internal" for e in seen):
        return "crashed"
    return "wrong-answer"


def _clip(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def distinct_failures(exc: BaseException | None) -> str | None:
    """Each failure of an exception group (Hypothesis's "found N distinct failures"), in full.

    pytest's one-line crash message of a group is only its count; a reader needs every failure's
    text and, for a model test, the program that shows it (kept in each exception's notes).
    """
    if not isinstance(exc, BaseExceptionGroup):
        return None
    import traceback

    subs = list(exc.exceptions)
    parts = [f"{exc.message} ({len(subs)} distinct failures)"]
    for n, sub in enumerate(subs[:8], start=1):
        text = "".join(traceback.format_exception_only(sub)).strip()
        parts.append(f"--- failure {n} of {len(subs)} ---\n{_clip(text)}")
    if len(subs) > 8:
        parts.append(f"--- and {len(subs) - 8} more ---")
    return "\n".join(parts)


def short_message(report: pytest.TestReport, exc: BaseException | None = None) -> str:
    """The failure's text for the report: without the machine's absolute paths, each distinct failure."""
    grouped = distinct_failures(exc)
    if grouped is not None:
        return portable(grouped)
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) or str(report.longrepr)
    return _clip(portable(text))


def binding_ids(ids: list[str], *, strict: bool) -> list[str]:
    return [rid for rid in ids if strict or index()[rid].binding]


def classify(
    ids: list[str],
    call: pytest.CallInfo[None],
    report: pytest.TestReport,
    *,
    strict: bool,
    baseline: Baseline | None,
) -> dict[str, Any] | None:
    """What one phase report of a requirement test means, and the outcome rules applied to it.

    A non-binding (SHOULD/MAY) failure, and a failure the baseline lists, become *xfailed* in
    pytest's terms: shown, counted, and not failing pytest's own exit status.  Never a kit error.
    """
    if report.skipped and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = (longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)).removeprefix("Skipped: ")
        if reason.startswith(NOT_JUDGED):  # the test could not judge its requirement: not a skip
            return {"ids": ids, "outcome": "not-tested", "message": reason}
        return {"ids": ids, "outcome": "skipped", "message": reason}
    if report.passed:
        return {"ids": ids, "outcome": "passed"} if report.when == "call" else None
    if not report.failed:
        return None
    kind = failure_kind(call.excinfo.value if call.excinfo else None)
    data: dict[str, Any] = {
        "ids": ids,
        "outcome": "not-testable" if kind == "not-testable" else "failed",
        "failure_kind": kind,
        "message": short_message(report, call.excinfo.value if call.excinfo else None),
    }
    if kind == "kit-error":
        return data
    binding = binding_ids(ids, strict=strict)
    if not binding:
        levels = "/".join(sorted({index()[i].level for i in ids}))
        report.outcome = "skipped"
        report.wasxfail = f"{levels} not met ({', '.join(ids)}): {data['message']}"
    elif baseline is not None and baseline.covers(binding):
        data["known"] = True
        reasons = "; ".join(f"{rid}: {baseline.entries[rid].reason}" for rid in binding)
        report.outcome = "skipped"
        report.wasxfail = f"known failure (baseline {baseline.path}) {reasons}"
    return data


@dataclass
class Gate:
    """What the run means for CI: its verdict, its exit status, and the lines that explain it."""

    verdict: str
    exit_status: int
    lines: list[str]
    known: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


@dataclass
class Recorder:
    """Aggregates classified test reports, applies the verdict rules, and writes the reports."""

    info: ImplementationInfo
    strict: bool
    seed: str
    scope: frozenset[str] | None = None  # --requirement; None is every requirement
    depth: str = "quick"  # --conformance-depth
    baseline: Baseline | None = None
    tests: dict[str, TestRecord] = field(default_factory=dict)
    deselected: set[str] = field(default_factory=set)
    internal_error: str | None = None  # pytest (or the kit inside it) crashed: the run is incomplete
    #: Suite node ids were given and modules they do not name were not collected: an in-scope
    #: requirement cited by no collected test then had its tests deselected, not none at all.
    narrowed: bool = False
    started: float = field(default_factory=time.monotonic)
    started_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    #: Set by :meth:`finish`: the rows and gate every report and the summary share.
    _final: tuple[list[dict[str, Any]], Gate] | None = None

    # -- collecting ----------------------------------------------------------------
    def collected(self, nodeid: str, ids: list[str], *, deselected: bool = False) -> None:
        self.tests.setdefault(nodeid, TestRecord(nodeid, list(ids)))
        if deselected:
            self.deselected.add(nodeid)

    def merge_collection(self, data: dict[str, Any]) -> None:
        """A worker's collection (``{"collected": {nodeid: ids}, "deselected": [...]}``)."""
        for nodeid, ids in data.get("collected", {}).items():
            self.collected(nodeid, ids)
        for nodeid in data.get("deselected", []):
            self.deselected.add(nodeid)
        self.narrowed = self.narrowed or bool(data.get("narrowed"))

    def collection(self) -> dict[str, Any]:
        return {
            "collected": {n: r.ids for n, r in self.tests.items()},
            "deselected": sorted(self.deselected),
            "narrowed": self.narrowed,
        }

    def observe(self, report: pytest.TestReport) -> None:
        data: dict[str, Any] | None = getattr(report, "conformance", None)
        record = self.tests.get(report.nodeid)
        if data is None:
            # A report the kit did not classify: xdist's, for a worker that died inside this test.
            if record is None or not report.failed or not record.ids:
                return
            data = {
                "outcome": "failed",
                "failure_kind": "crashed",
                "message": "the pytest worker running this test died: " + short_message(report),
            }
        if record is None:
            record = self.tests[report.nodeid] = TestRecord(report.nodeid, list(data["ids"]))
        if not record.ids:
            return
        record.duration_s += report.duration
        outcome = data["outcome"]
        if outcome == "skipped":
            record.outcome, record.message = "skipped", data.get("message")
        elif outcome == "not-tested":
            record.message = data.get("message")
        elif outcome == "passed":
            if record.outcome == "not-tested":
                record.outcome = "passed"
        elif record.outcome not in ("failed", "not-testable") or not record.failure_kind:
            record.outcome = outcome
            record.failure_kind = data.get("failure_kind")
            record.message = data.get("message")
            record.known = bool(data.get("known"))
            record.rerun = data.get("rerun")

    # -- per requirement -------------------------------------------------------------
    def _not_tested_reason(self, tests: list[TestRecord]) -> str:
        if not tests:
            return "its tests were deselected (-k, -m or node ids)" if self.narrowed else "cited by no collected test"
        judged = [t.message for t in tests if t.message and t.message.startswith(NOT_JUDGED)]
        if judged:
            return judged[0]
        if all(t.nodeid in self.deselected for t in tests):
            return "its tests were deselected (-k, -m or node ids)"
        return "no citing test ran (the run stopped early?)"

    def finish(self) -> None:
        """The run is over: compute the rows and the gate once, for every report and the summary."""
        self._final = None
        rows = self.requirements()
        self._final = (rows, self.gate(rows))

    def failing_binding(self) -> dict[str, str]:
        """Binding, in-scope requirements that failed or were not testable, each with its first message line."""
        rows = self.requirements()
        return {
            r["id"]: next((t.get("message", "") for t in r["tests"] if t.get("message")), "").partition("\n")[0]
            for r in self._in_scope_binding(rows)
            if r["outcome"] in ("failed", "not-testable")
        }

    def requirements(self) -> list[dict[str, Any]]:
        """One row per requirement of the index, with its outcome and tests (computed once the run is over)."""
        return self._final[0] if self._final is not None else self._rows()

    def _describe(self, req: Requirement) -> dict[str, Any]:
        """What a row says about its requirement before any outcome."""
        row: dict[str, Any] = {
            "id": req.id,
            "level": req.level,
            "area": req.area,
            "title": req.title,
            "capability": req.capability,
            "anchor": req.anchor,
            "introduced": req.introduced,
        }
        if req.statement:
            row["statement"] = req.statement
        if req.changed:
            row["changed"] = req.changed
        if req.id in self.info.adds:
            row["adapter_adds"] = self.info.adds[req.id]
        return row

    def _outcome(self, rid: str, tests: list[TestRecord]) -> dict[str, Any]:
        """A requirement's outcome from its tests: a failed test decides it, then a not-testable one.

        A demonstrated violation outranks what could not be exercised (spec/README.md § Outcome of
        a requirement); the failure kinds still list ``not-testable`` when some test was.
        """
        if self.scope is not None and rid not in self.scope:
            return {"outcome": "not-tested", "reason": "not selected (--requirement)"}
        outcomes = [t.outcome for t in tests]
        for outcome in ("failed", "not-testable"):
            if outcome in outcomes:
                return {"outcome": outcome, "failure_kinds": sorted({t.failure_kind for t in tests if t.failure_kind})}
        if "passed" in outcomes:
            return {"outcome": "passed"}
        if "skipped" in outcomes:
            reason = next(t.message or "skipped" for t in tests if t.outcome == "skipped")
            return {"outcome": "skipped", "reason": reason}
        return {"outcome": "not-tested", "reason": self._not_tested_reason(tests)}

    def _rows(self) -> list[dict[str, Any]]:
        by_id: dict[str, list[TestRecord]] = {}
        # By node id: the order tests ran in (or reached an xdist controller in) is no part of a verdict.
        for record in sorted(self.tests.values(), key=lambda r: r.nodeid):
            for rid in record.ids:
                by_id.setdefault(rid, []).append(record)
        rows = []
        for rid, req in index().items():
            if req.withdrawn:
                continue  # kept in the index so that its id is never reused; nothing to judge
            tests = by_id.get(rid, [])
            row = self._describe(req)
            row.update(self._outcome(rid, tests))
            entry = self.baseline.entries.get(rid) if self.baseline else None
            if entry is not None and row["outcome"] in ("failed", "not-testable"):
                row["known_failure"] = {"reason": entry.reason, **({"link": entry.link} if entry.link else {})}
            row["tests"] = [t.as_json() for t in tests if t.nodeid not in self.deselected]
            rows.append(row)
        return rows

    def _in_scope_binding(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            r for r in rows if (self.strict or r["level"] == "MUST") and (self.scope is None or r["id"] in self.scope)
        ]

    def verdict(self, rows: list[dict[str, Any]]) -> str:
        binding = self._in_scope_binding(rows)
        if self.internal_error is not None:
            return (
                "not-conformant" if any(r["outcome"] in ("failed", "not-testable") for r in binding) else "incomplete"
            )
        if any(r["outcome"] in ("failed", "not-testable") for r in binding):
            return "not-conformant"
        if any(r["outcome"] == "not-tested" for r in binding):
            return "incomplete"
        return "conformant"

    def gate(self, rows: list[dict[str, Any]]) -> Gate:
        """The verdict, and the exit status CI acts on (the baseline turns known failures green)."""
        if self._final is not None and rows is self._final[0]:
            return self._final[1]
        return self._gate(rows)

    def _gate(self, rows: list[dict[str, Any]]) -> Gate:
        verdict = self.verdict(rows)
        binding = self._in_scope_binding(rows)
        failing = [r["id"] for r in binding if r["outcome"] in ("failed", "not-testable")]
        known = [rid for rid in failing if self.baseline and rid in self.baseline.entries]
        # A failure in a known requirement can still be new: a test citing it with an unlisted one.
        new = [rid for rid in failing if rid not in known]
        stale = []
        if self.baseline is not None:
            stale = [r["id"] for r in binding if r["id"] in self.baseline.entries and r["outcome"] == "passed"]
        untested = [r for r in binding if r["outcome"] == "not-tested"]
        lines: list[str] = []
        if self.baseline is not None:
            lines.append(
                f"conformance: baseline {self.baseline.path}: {len(known)} known failure(s), "
                f"{len(new)} new, {len(stale)} stale"
            )
            lines.extend(f"conformance: NEW FAILURE {rid}: not in the baseline" for rid in new)
            lines.extend(f"conformance: STALE {rid} passes now: remove it from the baseline" for rid in stale)
        if untested:
            by_reason: dict[str, list[str]] = {}
            for r in untested:
                by_reason.setdefault(r.get("reason", ""), []).append(r["id"])
            for reason, ids in by_reason.items():
                shown = ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
                lines.append(f"conformance: {len(ids)} requirement(s) not reached ({reason}): {shown}")
        if self.internal_error is not None:
            status = EXIT_INTERNAL_ERROR
            lines.append(
                "conformance: pytest or the kit crashed (INTERNALERROR above); the outcomes cover what ran before"
            )
        elif new or stale:
            status = EXIT_NOT_CONFORMANT
        elif untested:
            status = EXIT_INCOMPLETE
        elif failing and self.baseline is None:
            status = EXIT_NOT_CONFORMANT
        else:
            status = EXIT_CONFORMANT
        return Gate(verdict, status, lines, known, new, stale)

    def as_json(self) -> dict[str, Any]:
        rows = self.requirements()
        gate = self.gate(rows)
        summary = {outcome: sum(r["outcome"] == outcome for r in rows) for outcome in OUTCOMES}
        info = self.info
        run: dict[str, Any] = {
            "started_at": self.started_at,
            "duration_s": round(time.monotonic() - self.started, 3),
            "strict": self.strict,
            "hypothesis_seed": self.seed,
            "depth": self.depth,
            "transport": "adapter-protocol" if info.target.strip().startswith("exec:") else "in-process",
        }
        if self.scope is not None:
            run["selected"] = sorted(self.scope)
        if self.internal_error is not None:
            run["internal_error"] = self.internal_error
        out_summary: dict[str, Any] = {**summary, "verdict": gate.verdict, "exit_status": gate.exit_status}
        if self.baseline is not None:
            out_summary["baseline"] = {
                "path": self.baseline.path,
                "known": gate.known,
                "new": gate.new,
                "stale": gate.stale,
            }
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
                **({"adds": dict(info.adds)} if info.adds else {}),
            },
            "run": run,
            "summary": out_summary,
            "requirements": rows,
        }

    def write(self, path: Path, data: dict[str, Any] | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data if data is not None else self.as_json(), indent=2, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")

    def markdown(self, spec_url: str | None = None) -> str:
        """The report as Markdown, for a CI step summary (rendered from the JSON report alone)."""
        from conformance._markdown import render

        return render(self.as_json(), spec_url=spec_url)

    def summary_lines(self, written: list[str]) -> tuple[list[str], Gate]:
        rows = self.requirements()
        gate = self.gate(rows)
        counts = ", ".join(f"{sum(r['outcome'] == o for r in rows)} {o}" for o in OUTCOMES)
        scope = ""
        if self.scope is not None:
            scope = f" ({len(self.scope)} selected by --requirement)"
        lines = []
        for row in rows:
            if row["outcome"] in ("failed", "not-testable"):
                kinds = ", ".join(row.get("failure_kinds", []))
                known = " (known: in the baseline)" if "known_failure" in row else ""
                lines.append(
                    f"  {row['outcome'].upper():12} {row['level']:6} {row['id']} {row['title']} [{kinds}]{known}"
                )
        lines.extend(gate.lines)
        if self.info.adds:
            relied = [r["id"] for r in rows if "adapter_adds" in r and r["outcome"] == "passed"]
            lines.append(
                f"conformance: the adapter declares behaviour of its own for {len(self.info.adds)} requirement(s)"
                f" ({', '.join(sorted(self.info.adds))}); their verdict is the library's plus the adapter's"
                + (f", passed: {', '.join(relied)}" if relied else "")
            )
        files = f"; wrote {', '.join(written)}" if written else ""
        lines.append(
            f"conformance: {len(rows)} requirements{scope}: {counts} -> {gate.verdict}"
            f" (exit status {gate.exit_status}){files}"
        )
        lines.append(f"conformance: replay this run with --hypothesis-seed={self.seed}")
        return lines, gate
