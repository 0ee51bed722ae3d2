"""Shared fixtures for the kit's tests of itself."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Sequence

ROOT = Path(__file__).resolve().parents[1]

pytest_plugins = ["pytester"]


class KitRun:
    """The result of running the kit in a pytester sandbox, with its JSON report."""

    def __init__(self, result: pytest.RunResult, report_path: Path) -> None:
        self.result = result
        self.report: dict[str, Any] = json.loads(report_path.read_text()) if report_path.exists() else {}

    @property
    def outcomes(self) -> dict[str, str]:
        return {r["id"]: r["outcome"] for r in self.report.get("requirements", [])}

    def having(self, outcome: str) -> set[str]:
        return {rid for rid, got in self.outcomes.items() if got == outcome}

    def requirement(self, rid: str) -> dict[str, Any]:
        return next(r for r in self.report["requirements"] if r["id"] == rid)


#: Modules an in-process kit run may import once and keep: the kit, its suite, the reference and
#: the miniatures, and Hypothesis.  Pytester would otherwise unload them after every run, and
#: importing the suite again (with pytest's assertion rewriting) costs more than most runs.
#: Modules a test writes itself (``pytester.makepyfile``) are still unloaded: names repeat.
KEPT_MODULES = ("conformance", "reference_impl", "tests", "hypothesis", "_hypothesis", "zope", "readline")


def _kept(name: str) -> bool:
    return name.partition(".")[0] in KEPT_MODULES


def keep_kit_modules(pytester: pytest.Pytester) -> None:
    """Make ``pytester`` keep :data:`KEPT_MODULES` loaded between and after its in-process runs.

    Pytester takes its module snapshots in a private method; where a pytest release renames it,
    runs are slower but still correct.
    """
    from _pytest.pytester import SysModulesSnapshot

    def snapshot() -> SysModulesSnapshot:
        return SysModulesSnapshot(preserve=_kept)

    if hasattr(pytester, "_Pytester__take_sys_modules_snapshot"):
        pytester._Pytester__take_sys_modules_snapshot = snapshot  # type: ignore[attr-defined]
        pytester._sys_modules_snapshot = snapshot()  # type: ignore[attr-defined]


@pytest.fixture
def run_kit(pytester: pytest.Pytester):
    """Run the kit in-process against ``--impl=target`` and read back its report."""
    keep_kit_modules(pytester)

    def run(target: str, *args: str, depth: str = "fast", plugins: Sequence[object] = ()) -> KitRun:
        report = pytester.path / "report.json"
        report.unlink(missing_ok=True)  # a run that writes none must not be read as the last one's
        result = pytester.runpytest_inprocess(
            f"--impl={target}",
            f"--conformance-report={report}",
            f"--conformance-depth={depth}",
            "-p",
            "no:cacheprovider",
            "-q",
            *args,
            plugins=list(plugins),
        )
        return KitRun(result, report)

    pytester.syspathinsert()
    return run


def served(target: str) -> str:
    """The ``--impl`` value that runs ``target`` behind ``conformance.serve``, over the adapter protocol."""
    return "exec:" + shlex.join([sys.executable, "-m", "conformance.serve", target])


@pytest.fixture
def on_path(monkeypatch, pytester):
    """Adapters the kit starts (``conformance.serve``) import this repository's tests and pytester's files."""
    paths = [str(pytester.path), str(ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


def failures(run: KitRun) -> dict[str, list[str]]:
    """Failed and not-testable requirements of a run, with their failure kinds."""
    return {
        r["id"]: r.get("failure_kinds", [])
        for r in run.report["requirements"]
        if r["outcome"] in ("failed", "not-testable")
    }
