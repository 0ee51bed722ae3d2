"""Checked by mypy, never run: the reference satisfies the protocols the kit publishes.

If an area protocol in conformance.areas and the reference drift apart, mypy
(nox -s typing) fails here, long before an adapter author notices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import reference_impl
    from conformance.areas.bcast import BroadcasterImplementation
    from conformance.areas.hist import HistoryImplementation
    from conformance.areas.id import AgentServiceImplementation
    from conformance.areas.life import LifecycleImplementation
    from conformance.areas.store import SessionStoreImplementation
    from conformance.areas.task import TaskImplementation
    from conformance.contract import Implementation

    for reference in (reference_impl.implementation, reference_impl.memory):
        identity: Implementation = reference
        history: HistoryImplementation = reference
        store: SessionStoreImplementation = reference
        agents: AgentServiceImplementation = reference
        tasks: TaskImplementation = reference
        lifecycle: LifecycleImplementation = reference
        broadcasts: BroadcasterImplementation = reference
