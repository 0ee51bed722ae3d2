"""A vendor's baseline: the requirements an implementation is known to fail, with reasons.

The file is YAML (JSON is YAML too) and follows ``schemas/baseline.schema.json``::

    implementation: my-sdk            # informative
    spec_version: 0.2.0               # informative
    known_failures:
      - id: HIST-005
        reason: a negative limit returns every item; fix planned for 2.0
        link: https://github.com/example/my-sdk/issues/12

With a baseline, a run is green exactly when every binding failure is listed; a new failure
fails it, and so does a listed requirement that now passes (*stale*: remove it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from conformance._data import validator_for
from conformance._requirements import index

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from conformance.driver import ImplementationInfo

SCHEMA = "baseline.schema.json"


@dataclass(frozen=True)
class KnownFailure:
    id: str
    reason: str
    link: str = ""


@dataclass(frozen=True)
class Baseline:
    path: str
    entries: dict[str, KnownFailure]

    def covers(self, ids: Iterable[str]) -> bool:
        """Whether a failing test citing ``ids`` is known: every binding requirement it cites is listed."""
        ids = list(ids)
        return bool(ids) and all(rid in self.entries for rid in ids)


def load(path: Path, info: ImplementationInfo) -> Baseline:
    """Read and check a baseline file; every problem is a usage error that names the file and the entry."""
    import yaml

    where = f"--conformance-baseline={path}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise pytest.UsageError(f"{where}: cannot read the file ({exc.strerror or exc})") from None
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise pytest.UsageError(f"{where}: not valid YAML: {exc}") from None
    errors = sorted(validator_for(SCHEMA).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        at = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        msg = f"{where}: breaks schemas/{SCHEMA} at {at}: {err.message}"
        raise pytest.UsageError(msg)
    known = index()
    entries: dict[str, KnownFailure] = {}
    for entry in data["known_failures"]:
        rid = entry["id"]
        if rid in entries:
            raise pytest.UsageError(f"{where}: {rid} is listed twice")
        if rid not in known:
            raise pytest.UsageError(f"{where}: {rid} is not a requirement of spec this kit checks")
        capability = known[rid].capability
        if capability not in info.claims:
            msg = (
                f"{where}: {rid} needs capability {capability!r}, which {info.name} does not claim; "
                "an unclaimed requirement is skipped, never failed: remove it from the baseline"
            )
            raise pytest.UsageError(msg)
        entries[rid] = KnownFailure(rid, entry["reason"].strip(), entry.get("link", ""))
    return Baseline(str(path), entries)


def render(info: ImplementationInfo, spec_version: str, failures: dict[str, str]) -> str:
    """A starting baseline listing ``failures`` (id -> first line of its failure), for the vendor to edit."""
    import yaml

    lines = [
        "# Known failures of this implementation (schemas/baseline.schema.json).",
        "# Written by --conformance-write-baseline: replace each reason with why it fails and when it will be fixed.",
        yaml.safe_dump(
            {"implementation": info.name, "spec_version": spec_version}, sort_keys=False, allow_unicode=True
        ).rstrip(),
        "known_failures:" + ("" if failures else " []"),
    ]
    for rid, why in failures.items():
        entry = yaml.safe_dump(
            [{"id": rid, "reason": f"TODO: {why}" if why else "TODO"}], allow_unicode=True, width=1000
        )
        lines.extend("  " + line for line in entry.rstrip().splitlines())
    return "\n".join(lines) + "\n"
