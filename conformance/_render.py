"""What every page made from a JSON report shares: loading it, and reading it the same way.

The HTML report, the Markdown summary, the badge and the drift matrix are all rendered from the
JSON report alone (``schemas/report.schema.json``), never from the run that wrote it: a report
from another machine, or from another kit release with the same report format, renders the same.
So nothing here imports the recorder, and nothing reads the requirement index except as a
fallback for reports that predate a field.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path  # noqa: TC003  # used at run time by load_report
from typing import Any

__all__ = [
    "OUTCOMES",
    "ReportError",
    "failing_tests",
    "in_scope",
    "load_report",
    "must_score",
    "portable",
    "problems",
    "rerun_command",
    "spec_link",
    "statement",
    "validate",
]

#: The outcomes of a requirement, in the order reports count them (schemas/report.schema.json).
OUTCOMES = ("passed", "failed", "not-testable", "skipped", "not-tested")
FAILING = ("failed", "not-testable")


class ReportError(ValueError):
    """A file that is not a conformance report this kit can render."""


def validate(report: Any, source: str = "report") -> dict[str, Any]:
    """The report, if it is valid against ``schemas/report.schema.json``; :class:`ReportError` otherwise."""
    from conformance._data import validator_for

    errors = sorted(validator_for("report.schema.json").iter_errors(report), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        msg = f"{source} is not a valid conformance report (schemas/report.schema.json) at {where}: {first.message}"
        raise ReportError(msg)
    return report  # type: ignore[no-any-return]


def load_report(path: Path) -> dict[str, Any]:
    """Read and validate one JSON report file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path}: cannot read a JSON report: {exc}"
        raise ReportError(msg) from None
    return validate(data, str(path))


# -- paths of the machine that ran ------------------------------------------------------------

#: Top-level folders of this project (and of a port's checkout of it) that a path is kept from.
_PROJECT_DIRS = ("conformance", "reference_impl", "tests", "examples", "implementations", "spec", "schemas")
_ABSOLUTE = re.compile(
    r"""(?<![\w.~/\\-])"""  # not inside a word or a relative path
    r"""(?:[A-Za-z]:[\\/]|/)"""  # a POSIX root or a Windows drive
    r"""[\w.@+~-]+(?:[\\/][\w.@+~-]+)+"""  # two components at least
)
#: A node id pytest made relative to a rootdir outside the installed package: ../../lib/…/site-packages/
_RELATIVE_PACKAGES = re.compile(r"""(?<![\w.-])(?:\.\.[\\/])+(?:[\w.@+~-]+[\\/])*?(?:site|dist)-packages[\\/]""")
_PACKAGES = re.compile(r"""(?:^|[\\/])(?:site|dist)-packages[\\/]""")


def _portable_path(match: re.Match[str]) -> str:
    path = match.group(0)
    parts = re.split(r"[\\/]", path)
    found = _PACKAGES.search(path)
    if found:
        return path[found.end() :].replace("\\", "/")
    if len(parts) >= 2 and parts[-2] == "bin":  # an interpreter or a tool: what PATH finds it by
        return parts[-1]
    for i, part in enumerate(parts[1:], start=1):
        if part in _PROJECT_DIRS and i < len(parts) - 1:
            return "/".join(parts[i:])
    return "…/" + "/".join(parts[-2:])


def portable(text: str) -> str:
    """``text`` without the absolute paths of the machine that wrote it.

    A path into an installed package loses everything up to ``site-packages/``; a tool under a
    ``bin/`` folder keeps its name; a path into a project checkout keeps the part from its
    top-level folder (``conformance/…``, ``examples/…``); any other absolute path keeps its last
    two components (``…/storage/db.sqlite``).
    """
    if "/" not in text and "\\" not in text:
        return text
    return _RELATIVE_PACKAGES.sub("", _ABSOLUTE.sub(_portable_path, text))


# -- reading a report ---------------------------------------------------------------------------


def statement(row: dict[str, Any]) -> str:
    """The normative sentence of a requirement: from the report, else from this kit's index."""
    if row.get("statement"):
        return str(row["statement"])
    from conformance._requirements import index

    req = index().get(row["id"])
    return req.statement if req is not None and req.title == row["title"] else ""


def spec_link(row: dict[str, Any], spec_url: str | None) -> str | None:
    """Where the requirement's prose is, under ``spec_url`` (the URL of the spec folder); None without one."""
    if not spec_url:
        return None
    return spec_url.rstrip("/") + "/" + str(row["anchor"]).removeprefix("spec/")


def failing_tests(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in row["tests"] if t["outcome"] in FAILING]


def problems(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows worth a reader's attention: failures, and binding requirements in scope not tested."""
    selected = report["run"].get("selected")
    return [
        r
        for r in report["requirements"]
        if r["outcome"] in FAILING or (r["outcome"] == "not-tested" and (selected is None or r["id"] in selected))
    ]


def in_scope(report: dict[str, Any], row: dict[str, Any]) -> bool:
    selected = report["run"].get("selected")
    return selected is None or row["id"] in selected


def must_score(report: dict[str, Any]) -> tuple[int, int]:
    """(passed, total) MUST requirements: those in scope, less those skipped as not claimed."""
    rows = [
        r for r in report["requirements"] if r["level"] == "MUST" and in_scope(report, r) and r["outcome"] != "skipped"
    ]
    return sum(r["outcome"] == "passed" for r in rows), len(rows)


def rerun_command(report: dict[str, Any], row: dict[str, Any], test: dict[str, Any]) -> str:
    """The command that repeats one failing test with the run's seed, machine paths made portable."""
    if test.get("rerun"):
        return portable(str(test["rerun"]))
    run = report["run"]  # a report from before tests carried their command: the same, rebuilt
    args = ["python", "-m", "pytest", f"--impl={report['implementation']['target']}"]
    args.append(f"--hypothesis-seed={run['hypothesis_seed']}")
    if run.get("depth", "quick") != "quick":
        args.append(f"--conformance-depth={run['depth']}")
    if run["strict"]:
        args.append("--conformance-strict")
    args += [f"--requirement={row['id']}", test["nodeid"]]
    return portable(shlex.join(args))


def transport(report: dict[str, Any]) -> str:
    """How the kit talked to the implementation: in process, or over the adapter protocol."""
    recorded = report["run"].get("transport")
    if recorded:
        return str(recorded)
    return "adapter-protocol" if report["implementation"]["target"].strip().startswith("exec:") else "in-process"


def clip_lines(text: str, *, lines: int = 30, width: int = 400) -> str:
    """``text`` cut to ``lines`` lines of at most ``width`` characters, saying what was cut."""
    kept = [line if len(line) <= width else line[: width - 1] + "…" for line in text.splitlines()[:lines]]
    dropped = len(text.splitlines()) - lines
    if dropped > 0:
        kept.append(f"… ({dropped} more line{'s' if dropped > 1 else ''} in the JSON report)")
    return "\n".join(kept)
