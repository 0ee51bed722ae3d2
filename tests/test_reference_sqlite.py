"""The reference's SQLite files opened by several handles at the same instant.

Two replicas of the embedded-SQLite store open their file lazily, on their first operation; the
kit's concurrent-create test (STORE-043) makes both do so at once. Switching a file into WAL mode
does not wait on SQLite's busy timeout, so without a retry one of the two opens failed with
"database is locked" about once in twenty tries (CI saw it as a crash of STORE-043/044/029).
"""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from conformance.contract import ManualClock
from reference_impl.history_sqlite import SQLiteHistory
from reference_impl.store_sqlite import SQLiteSessionStore

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

ROUNDS = 60
HANDLES = 4


def _open_together(open_one: Callable[[SimpleNamespace], object], env: SimpleNamespace) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(HANDLES)

    def run() -> None:
        start.wait()
        try:
            open_one(env)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(HANDLES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.parametrize("kind", ["store", "history"])
def test_handles_opening_one_new_file_at_once_all_open(tmp_path: Path, kind: str) -> None:
    for n in range(ROUNDS):
        storage = tmp_path / str(n)
        storage.mkdir()
        env = SimpleNamespace(storage_dir=storage, clock=ManualClock())
        errors = _open_together(SQLiteSessionStore if kind == "store" else SQLiteHistory.open, env)
        assert not errors, f"round {n}: {len(errors)} of {HANDLES} opens of one new file failed: {errors[0]!r}"
