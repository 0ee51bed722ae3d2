"""HIST over an embedded SQLite file: the history survives a restart."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Self

from reference_impl._sqlite import connect
from reference_impl.history import HistoryStore

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator
    from pathlib import Path

    from reference_impl.history import Environment

__all__ = ["SQLiteHistory"]

# WAL with synchronous=NORMAL: a commit survives the process ending (a restart); only a power
# cut may lose the last few, and commits skip an fsync each.
# The sequence number, never a timestamp, orders items: many items share one instant.
# AUTOINCREMENT keeps a popped item's number from being handed out again.
_SCHEMA = """
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS items (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    item       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_session ON items (session_id, seq);
"""

_NEWEST_OLDEST_FIRST = """
SELECT item FROM (
    SELECT seq, item FROM items WHERE session_id = ? ORDER BY seq DESC LIMIT ?
) ORDER BY seq
"""

#: SQLite's ``LIMIT -1`` means "no limit"; only validated limits (>= 0) ever reach it otherwise.
_NO_LIMIT = -1
_MAX_SQLITE_INT = 2**63 - 1


class SQLiteHistory(HistoryStore):
    """Items as JSON text in one SQLite table, one connection per store guarded by the store's lock."""

    claims = frozenset({"hist", "hist.persistent", "hist.shared-handles"})
    FILE_NAME = "history.sqlite3"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        # No implicit transactions (we say where each one begins), WAL mode; a 5 s busy timeout
        # lets another process's store on the same file finish first.
        self._db = connect(path, _SCHEMA, timeout=5.0)

    @classmethod
    def open(cls, env: Environment) -> Self:
        return cls(env.storage_dir / cls.FILE_NAME)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so a read-then-write (pop) is atomic
        # even against another connection to the same file.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def load(self, session_id: str, limit: int | None) -> list[str]:
        bound = _NO_LIMIT if limit is None else min(limit, _MAX_SQLITE_INT)
        with self.locked():
            rows = self._db.execute(_NEWEST_OLDEST_FIRST, (session_id, bound)).fetchall()
        return [text for (text,) in rows]

    def append(self, session_id: str, texts: list[str]) -> None:
        with self.locked(), self._transaction() as db:
            db.executemany("INSERT INTO items (session_id, item) VALUES (?, ?)", [(session_id, t) for t in texts])

    def pop(self, session_id: str) -> str | None:
        with self.locked(), self._transaction() as db:
            row = db.execute(
                "SELECT seq, item FROM items WHERE session_id = ? ORDER BY seq DESC LIMIT 1", (session_id,)
            ).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM items WHERE seq = ?", (row[0],))
            text: str = row[1]
            return text

    def clear(self, session_id: str) -> None:
        with self.locked(), self._transaction() as db:
            db.execute("DELETE FROM items WHERE session_id = ?", (session_id,))

    def _release(self) -> None:
        self._db.close()
