"""Which frames a failure shows: the test's and the implementation's, not the kit's plumbing.

Kit modules set ``__tracebackhide__ = kit_frame`` at module level; pytest asks it about each of
their frames.  ``--tb=long`` (or ``--full-trace``) shows them again, for reporting a kit bug.
"""

from __future__ import annotations

from typing import Any

_show = False


def show_kit_frames(show: bool) -> None:
    global _show  # noqa: PLW0603 - one switch for the whole process, set once per run
    _show = show


def kit_frame(excinfo: Any = None) -> bool:  # noqa: ARG001 - the protocol passes it
    """Whether to hide a frame of a kit module (pytest's ``__tracebackhide__`` protocol)."""
    return not _show
