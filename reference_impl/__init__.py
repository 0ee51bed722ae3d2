"""The reference implementation: the smallest thing that conforms to the spec.

``implementation`` (SQLite, persistent) is what ``--impl=reference_impl`` tests;
``memory`` (``--impl=reference_impl:memory``) keeps everything in process memory;
``postgres`` (``--impl=reference_impl:postgres``) provides STORE and BCAST over the PostgreSQL
server that ``CONFORMANCE_POSTGRES_URL`` names, for several replicas at once.
``nottl`` and ``memory_nottl`` are the SQLite and memory references with a session store that has no expiry (they
do not claim ``store.ttl``): the proof that such a store passes every STORE requirement not
about time.
Each area lives in its own modules; this class only picks the backend and names
one factory per area.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

from reference_impl._postgres import dsn
from reference_impl.broadcast import MemoryBroadcaster
from reference_impl.broadcast_postgres import PostgresBroadcaster
from reference_impl.history import MemoryHistory
from reference_impl.history_sqlite import SQLiteHistory
from reference_impl.identity import AgentService, PersistentAgentService
from reference_impl.lifecycle import LIFE_CLAIMS, LifecycleProbe
from reference_impl.lifecycle_server import LifecycleServer
from reference_impl.store import MemorySessionStore, NoTTLMemorySessionStore
from reference_impl.store_postgres import PostgresSessionStore
from reference_impl.store_sqlite import NoTTLSQLiteSessionStore, SQLiteSessionStore
from reference_impl.tasks import TaskService

if TYPE_CHECKING:
    from collections.abc import Collection

    from reference_impl.history import Environment, HistoryStore
    from reference_impl.store import SessionStore

__all__ = [
    "SPEC_VERSION",
    "PostgresReference",
    "ReferenceImplementation",
    "__version__",
    "implementation",
    "memory",
    "memory_nottl",
    "nottl",
    "postgres",
]

__version__ = "0.2.0"
SPEC_VERSION = "0.2.0"

Backend = Literal["sqlite", "memory"]

_HISTORY: dict[Backend, type[HistoryStore]] = {"sqlite": SQLiteHistory, "memory": MemoryHistory}
_STORE: dict[Backend, type[SessionStore]] = {"sqlite": SQLiteSessionStore, "memory": MemorySessionStore}
#: The on-disk reference keeps ID sessions across a restart (id.client-persistence); the memory one does not.
_AGENT: dict[Backend, type[AgentService]] = {"sqlite": PersistentAgentService, "memory": AgentService}
_STORE_NO_TTL: dict[Backend, type[SessionStore]] = {
    "sqlite": NoTTLSQLiteSessionStore,
    "memory": NoTTLMemorySessionStore,
}


class ReferenceImplementation:
    """The reference implementation over one kind of storage."""

    version = __version__
    spec_version = SPEC_VERSION

    def __init__(self, backend: Backend = "sqlite", *, ttl: bool = True) -> None:
        if backend not in get_args(Backend):
            msg = f"unknown backend {backend!r}; choose one of {', '.join(get_args(Backend))}"
            raise ValueError(msg)
        self.backend: Backend = backend
        self.ttl = ttl
        self._store = (_STORE if ttl else _STORE_NO_TTL)[backend]
        self.name = f"reference_impl ({backend})" if ttl else f"reference_impl ({backend}, no store.ttl)"
        # A frozenset, typed as the kit's Implementation protocol declares it.
        self.claims: Collection[str] = (
            _HISTORY[backend].claims
            | self._store.claims
            | _AGENT[backend].claims
            | TaskService.claims
            | LIFE_CLAIMS
            | MemoryBroadcaster.claims
        )

    def open_history(self, env: Environment) -> HistoryStore:
        return _HISTORY[self.backend].open(env)

    def open_session_store(self, env: Environment) -> SessionStore:
        return self._store.open(env)

    def open_broadcaster(self, env: Environment) -> MemoryBroadcaster:
        return MemoryBroadcaster.open(env)  # both backends: a broadcaster lives in its process

    def open_agent_service(self, env: Environment) -> AgentService:
        return _AGENT[self.backend].open(env)

    def open_task_service(self, env: Environment) -> TaskService:
        return TaskService.open(env)

    def open_lifecycle_client(self, env: Environment) -> LifecycleProbe:
        return LifecycleProbe()  # both backends: a client keeps its registry in memory

    def open_lifecycle_server(self, env: Environment) -> LifecycleServer:
        return LifecycleServer(env.clock)

    def __repr__(self) -> str:
        return f"ReferenceImplementation(backend={self.backend!r}, ttl={self.ttl!r})"


implementation = ReferenceImplementation(backend="sqlite")
memory = ReferenceImplementation(backend="memory")
nottl = ReferenceImplementation(backend="sqlite", ttl=False)
memory_nottl = ReferenceImplementation(backend="memory", ttl=False)


class PostgresReference:
    """STORE and BCAST over one PostgreSQL server: what several replicas of a service share."""

    name = "reference_impl (postgres)"
    version = __version__
    spec_version = SPEC_VERSION
    claims: Collection[str] = PostgresSessionStore.claims | PostgresBroadcaster.claims

    def open_session_store(self, env: Environment) -> SessionStore:
        return PostgresSessionStore.open(env)

    def open_broadcaster(self, env: Environment) -> PostgresBroadcaster:
        return PostgresBroadcaster.open(env)

    def __repr__(self) -> str:
        return "PostgresReference()"


def postgres() -> PostgresReference:
    """``--impl=reference_impl:postgres``: fails with what to set when no server is named."""
    dsn()
    return PostgresReference()
