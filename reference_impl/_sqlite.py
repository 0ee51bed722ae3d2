"""Opening an SQLite file that several handles, threads or processes open at once."""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["connect"]

_RETRY_SECONDS = 0.005


def connect(path: Path, schema: str, *, timeout: float) -> sqlite3.Connection:
    """A connection in WAL mode with ``schema`` applied, waiting up to ``timeout`` seconds for others.

    Switching a file into WAL mode does not wait on SQLite's busy handler: when two connections
    open a new file at the same instant, one of them gets "database is locked" at once (SQLite
    3.40, about one open in twenty under contention). The switch is idempotent, so it is retried
    here until the same deadline the busy timeout gives every other statement.
    """
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                db.close()
                raise
            time.sleep(_RETRY_SECONDS)
    db.executescript(schema)
    return db
