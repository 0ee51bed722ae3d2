"""The reference implementation: the smallest thing that conforms to the spec.

``implementation`` (SQLite, persistent) is what ``--impl=reference_impl`` tests;
``memory`` (``--impl=reference_impl:memory``) keeps everything in process memory.
Each area lives in its own modules; this class only picks the backend and names
one factory per area.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

from reference_impl.history import MemoryHistory
from reference_impl.history_sqlite import SQLiteHistory

if TYPE_CHECKING:
    from collections.abc import Collection

    from reference_impl.history import Environment, HistoryStore

__all__ = ["SPEC_VERSION", "ReferenceImplementation", "__version__", "implementation", "memory"]

__version__ = "0.1.0"
SPEC_VERSION = "0.1.0"

Backend = Literal["sqlite", "memory"]

_HISTORY: dict[Backend, type[HistoryStore]] = {"sqlite": SQLiteHistory, "memory": MemoryHistory}


class ReferenceImplementation:
    """The reference implementation over one kind of storage."""

    version = __version__
    spec_version = SPEC_VERSION

    def __init__(self, backend: Backend = "sqlite") -> None:
        if backend not in get_args(Backend):
            msg = f"unknown backend {backend!r}; choose one of {', '.join(get_args(Backend))}"
            raise ValueError(msg)
        self.backend: Backend = backend
        self.name = f"reference_impl ({backend})"
        # A frozenset, typed as the kit's Implementation protocol declares it.
        self.claims: Collection[str] = _HISTORY[backend].claims

    def open_history(self, env: Environment) -> HistoryStore:
        return _HISTORY[self.backend].open(env)

    def __repr__(self) -> str:
        return f"ReferenceImplementation(backend={self.backend!r})"


implementation = ReferenceImplementation(backend="sqlite")
memory = ReferenceImplementation(backend="memory")
