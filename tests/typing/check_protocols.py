"""Checked by mypy, never run: the reference satisfies the protocols the kit publishes.

If an area protocol in conformance.areas and the reference drift apart, mypy
(nox -s typing) fails here, long before an adapter author notices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import reference_impl
    from conformance.areas.hist import HistoryImplementation
    from conformance.contract import Implementation

    sqlite_identity: Implementation = reference_impl.implementation
    memory_identity: Implementation = reference_impl.memory
    sqlite_history: HistoryImplementation = reference_impl.implementation
    memory_history: HistoryImplementation = reference_impl.memory
