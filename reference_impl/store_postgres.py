"""STORE over PostgreSQL: every replica (handle, process or host) over one schema shares the sessions.

The rules are :class:`~reference_impl.store.SessionStore`'s; this module stores its rows.  Instants
are integer microseconds read from the environment's clock, exactly as the SQLite store keeps them,
so two replicas on one clock compute the same expiry to the microsecond: the database's own
``now()`` is never used.  Each operation is one transaction that first takes a transaction-level
advisory lock on the schema, so check-then-write (create, touch, merge) is atomic against every
other replica, as ``BEGIN IMMEDIATE`` makes it in SQLite.

A broken connection (a restarted server, a terminated backend) fails the call that meets it with
``unavailable`` when the transaction had begun, since the caller cannot know whether it committed;
when it breaks before anything was sent, the handle reconnects and runs the call once more.  Either
way the next call runs on a new connection.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from reference_impl._postgres import Unavailable, connect, namespace
from reference_impl.store import Row, SessionStore

if TYPE_CHECKING:
    import builtins
    from collections.abc import Iterator

    from reference_impl.history import Environment

__all__ = ["PostgresSessionStore"]

# The same columns as the SQLite store's: the id compares byte for byte (COLLATE "C").
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id         TEXT COLLATE "C" PRIMARY KEY,
    owner      TEXT COLLATE "C",
    created_us BIGINT NOT NULL,
    active_us  BIGINT NOT NULL,
    expires_us BIGINT NOT NULL,
    ttl_us     BIGINT NOT NULL,
    state      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_us);
"""

_COLUMNS = "id, owner, created_us, active_us, expires_us, ttl_us, state"


class PostgresSessionStore(SessionStore):
    """One connection per handle; every handle over one ``storage_dir`` shares one schema."""

    claims = frozenset({"store", "store.ttl", "store.persistent", "store.shared-backend", "store.multi-replica"})

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        self._dir = env.storage_dir
        self._lock_key = namespace(env.storage_dir)
        self._db = connect(self._dir, _SCHEMA)

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        import psycopg

        try:
            self._begin()
        except psycopg.OperationalError:
            self._reconnect()  # nothing was sent on the broken connection: run the call once more
            self._begin()
        try:
            yield
        except psycopg.OperationalError as exc:
            self._reconnect(quietly=True)
            msg = f"the connection to PostgreSQL broke during the call; it may or may not have taken effect: {exc}"
            raise Unavailable(msg) from exc
        except BaseException:
            self._end("ROLLBACK")
            raise
        self._end("COMMIT")

    def _begin(self) -> None:
        self._db.execute("BEGIN")
        self._db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._lock_key,))

    def _end(self, command: str) -> None:
        import psycopg

        try:
            self._db.execute(command)
        except psycopg.OperationalError as exc:
            self._reconnect(quietly=True)
            msg = f"the connection to PostgreSQL broke at {command}; the call may or may not have taken effect: {exc}"
            raise Unavailable(msg) from exc

    def _reconnect(self, *, quietly: bool = False) -> None:
        self._db.close()
        try:
            self._db = connect(self._dir, _SCHEMA)
        except Unavailable:
            if not quietly:
                raise  # otherwise the next call tries again

    def load(self, session_id: str) -> Row | None:
        found = self._db.execute(f"SELECT {_COLUMNS} FROM sessions WHERE id = %s", (session_id,)).fetchone()  # noqa: S608 - constant column list
        return None if found is None else Row(*found)  # type: ignore[arg-type]

    def put(self, row: Row) -> None:
        self._db.execute(
            f"INSERT INTO sessions ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s) "  # noqa: S608 - constant column list
            "ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, created_us = EXCLUDED.created_us, "
            "active_us = EXCLUDED.active_us, expires_us = EXCLUDED.expires_us, ttl_us = EXCLUDED.ttl_us, "
            "state = EXCLUDED.state",
            (row.id, row.owner, row.created_us, row.active_us, row.expires_us, row.ttl_us, row.state),
        )

    def remove(self, session_id: str) -> None:
        self._db.execute("DELETE FROM sessions WHERE id = %s", (session_id,))

    def rows(self) -> builtins.list[Row]:
        return [Row(*found) for found in self._db.execute(f"SELECT {_COLUMNS} FROM sessions")]  # type: ignore[arg-type]  # noqa: S608 - constant column list

    def remove_expired(self, now_us: int) -> int:
        # The same predicate as Row.live, in SQL: expired from the instant now == expires_at on.
        return self._db.execute("DELETE FROM sessions WHERE expires_us <= %s", (now_us,)).rowcount

    def _release(self) -> None:
        self._db.close()
