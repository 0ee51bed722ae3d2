"""What every direct confirmation script prints: one line per check, and whether any was not seen.

The scripts (``implementations/*_confirm.py``) differ in how they call their library; how they
report is one rule, kept here so that ``nox -s matrix`` reads every library's output the same way.
"""

from __future__ import annotations

from typing import Any

__all__ = ["report"]


def report(label: str, results: list[tuple[Any, bool | str]]) -> int:
    """Print each check of one target as confirmed or NOT SEEN; return how many were not seen."""
    stale = 0
    width = max((len(check.row) for check, _ in results), default=0)
    for check, seen in results:
        mark = "confirmed" if seen is True else f"NOT SEEN ({seen})" if seen is not False else "NOT SEEN"
        stale += seen is not True
        print(f"{label:18} {check.requirement}  {check.row:{width}} {mark}: {check.what}")  # noqa: T201
    return stale
