"""Make a Hypothesis seed mean the same examples however the run was started.

Recent Hypothesis releases mix constants found in the *local* modules loaded at the time of a
draw (the project's own code, not the standard library or site-packages) into what they
generate.  The examples a seed gives then depend on import history: a full run, one test re-run
by its ``rerun:`` line, and each worker of ``-n 2`` load different modules at different times,
and found different falsifying examples from the same seed.  The kit promises that a seed
replays a run, so while it runs it leaves that pool empty; Hypothesis's own constants (edge
values such as 0, -1 and empty strings) are still drawn.

The pool is internal to Hypothesis; on a release without it there is nothing to switch off.
"""

from __future__ import annotations

from typing import Any

_saved: list[Any] = []


def without_local_constants() -> None:
    """Until :func:`restore`, Hypothesis draws no constants from local modules."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - Hypothesis is a dependency of the kit
        return
    current = getattr(providers, "_get_local_constants", None)
    try:
        sorted_set: Any = getattr(providers, "SortedSet")  # noqa: B009 - not re-exported: mypy's attr check
        constants: Any = getattr(providers, "Constants")  # noqa: B009
        empty = constants(
            integers=sorted_set(),
            floats=sorted_set(key=getattr(providers, "float_to_int")),  # noqa: B009
            bytes=sorted_set(),
            strings=sorted_set(),
        )
    except (AttributeError, TypeError):
        return  # another Hypothesis: no such pool, or another shape of it
    if current is None or _saved:
        return
    _saved.append(current)
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE.cache.clear()


def restore() -> None:
    """Give Hypothesis its pool back (the process may run other tests afterwards)."""
    if not _saved:
        return
    from hypothesis.internal.conjecture import providers

    providers._get_local_constants = _saved.pop()
    providers.CONSTANTS_CACHE.cache.clear()
