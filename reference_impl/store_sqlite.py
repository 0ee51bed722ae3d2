"""STORE over an embedded SQLite file: sessions survive a restart, and handles share one backend."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from reference_impl._sqlite import connect
from reference_impl.store import Row, SessionStore

if TYPE_CHECKING:
    import builtins
    from collections.abc import Iterator

    from reference_impl.history import Environment

__all__ = ["NoTTLSQLiteSessionStore", "SQLiteSessionStore"]

# Instants and the TTL are integer microseconds: exact comparisons, no whole-second truncation
# (the Postgres store of mcp-data-platform loses a sub-second TTL that way).
# A store without expiry keeps expires_us and ttl_us NULL, which no cleanup comparison matches.
# The id compares as bytes (SQLite's BINARY collation), so ids stay verbatim.
_SCHEMA = """
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS sessions (
    id         TEXT PRIMARY KEY,
    owner      TEXT,
    created_us INTEGER NOT NULL,
    active_us  INTEGER NOT NULL,
    expires_us INTEGER,
    ttl_us     INTEGER,
    state      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_us);
"""

_COLUMNS = "id, owner, created_us, active_us, expires_us, ttl_us, state"


class SQLiteSessionStore(SessionStore):
    """One connection per handle; every handle over one ``storage_dir`` shares the file."""

    claims = frozenset({"store", "store.ttl", "store.persistent", "store.shared-backend", "store.multi-replica"})
    FILE_NAME = "sessions.sqlite3"

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        # No implicit transactions (_atomic says where each begins), WAL mode; a 10 s busy
        # timeout lets another handle's transaction on the same file finish first.
        self._db = connect(env.storage_dir / self.FILE_NAME, _SCHEMA, timeout=10.0)

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front, so check-then-write (create, touch, merge)
        # is atomic against every other handle on the file, not only this one.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def load(self, session_id: str) -> Row | None:
        found = self._db.execute(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", (session_id,)).fetchone()  # noqa: S608 - constant column list
        return None if found is None else Row(*found)

    def put(self, row: Row) -> None:
        self._db.execute(
            f"INSERT OR REPLACE INTO sessions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608 - constant column list
            (row.id, row.owner, row.created_us, row.active_us, row.expires_us, row.ttl_us, row.state),
        )

    def remove(self, session_id: str) -> None:
        self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def rows(self) -> builtins.list[Row]:
        return [Row(*found) for found in self._db.execute(f"SELECT {_COLUMNS} FROM sessions")]  # noqa: S608 - constant column list

    def remove_expired(self, now_us: int) -> int:
        # The same predicate as Row.live, in SQL: expired from the instant now == expires_at on.
        return self._db.execute("DELETE FROM sessions WHERE expires_us <= ?", (now_us,)).rowcount

    def _release(self) -> None:
        self._db.close()


class NoTTLSQLiteSessionStore(SQLiteSessionStore):
    """The SQLite store without expiry: every session lives until it is deleted (no ``store.ttl``)."""

    claims = SQLiteSessionStore.claims - {"store.ttl"}
    ttl = False
