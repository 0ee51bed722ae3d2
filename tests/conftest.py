"""Shared fixtures for the kit's tests of itself."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

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


@pytest.fixture
def run_kit(pytester: pytest.Pytester):
    """Run the kit in-process against ``--impl=target`` and read back its report."""

    def run(target: str, *args: str, depth: str = "fast") -> KitRun:
        report = pytester.path / "report.json"
        result = pytester.runpytest_inprocess(
            f"--impl={target}",
            f"--conformance-report={report}",
            f"--conformance-depth={depth}",
            "-p",
            "no:cacheprovider",
            "-q",
            *args,
        )
        return KitRun(result, report)

    pytester.syspathinsert()
    return run
