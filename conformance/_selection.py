"""Which requirements a run covers (``--requirement``) and node ids given as printed in reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from conformance._requirements import index

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path


def parse_requirements(values: Iterable[str]) -> frozenset[str] | None:
    """``--requirement`` values (repeatable, comma lists, area prefixes) as a set of IDs; None selects all.

    An unknown ID or area is a usage error that lists what exists.
    """
    known = index()
    areas = {req.area.upper(): req.area for req in known.values()}
    chosen: set[str] = set()
    seen_any = False
    for value in values:
        for raw in str(value).split(","):
            token = raw.strip().upper()
            if not token:
                continue
            seen_any = True
            if token in known:
                chosen.add(token)
            elif token in areas:
                chosen.update(rid for rid, req in known.items() if req.area == areas[token])
            else:
                near = sorted(rid for rid in known if rid.split("-")[0] == token.split("-")[0])
                hint = f" {token.split('-')[0]} has {near[0]} to {near[-1]}." if near else ""
                msg = (
                    f"--requirement={raw.strip()}: no such requirement or area.{hint} "
                    f"Give IDs such as HIST-002, comma lists, or an area: {', '.join(sorted(areas))}"
                )
                raise pytest.UsageError(msg)
    if not seen_any:
        return None
    return frozenset(chosen)


def resolve_suite_args(args: list[str], invocation_dir: Path, suite: Path) -> tuple[list[str], list[str]]:
    """Let node ids as reports print them (``test_hist_reads.py::test_x``) name tests of the installed suite.

    An argument whose file part exists relative to the invocation directory is left alone.  One that
    exists only in the suite becomes a filter over the whole suite (returned second), so that the
    collected node ids stay exactly the ones the report printed and can be given again.
    """
    out: list[str] = []
    wanted: list[str] = []
    for arg in args:
        path = arg.partition("::")[0]
        if path and not (invocation_dir / path).exists() and (suite / path).exists():
            wanted.append(arg)
            if str(suite) not in out:
                out.append(str(suite))
        else:
            out.append(arg)
    return out, wanted


def matches(nodeid: str, wanted: Iterable[str]) -> bool:
    """Whether ``nodeid`` is one of ``wanted`` or inside one (a file, a class, a parametrized family)."""
    return any(nodeid == w or nodeid.startswith((w + "::", w + "[")) for w in wanted)
