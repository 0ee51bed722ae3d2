"""Confirm, without the kit, each openai-agents behaviour that the kit reports as a failure.

Every failure the matrix shows for an openai-agents backend must be the library's own behaviour,
not something the adapter or the kit added.  This script calls the library directly (no adapter,
no pytest, no kit code) and checks each recorded behaviour.  ``nox -s matrix`` runs it after the
kit; run it alone with ``python -m implementations.openai_agents_confirm [BACKEND…]``.

Each check names the requirement it explains and the row of spec/hist.md § "Differences from
upstream" that records it.  Exit status 1 when a recorded behaviour is no longer seen: the record
(and the matrix) is then stale, which is as much a finding as a new failure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from implementations._confirm import report

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

KEY = "b3BlbmFpLWFnZW50cyBjb25mb3JtYW5jZSBrZXkhISE="  # a Fernet-format key, test data only
BACKENDS = ("sqlite_memory", "sqlite_file", "advanced_sqlite", "sqlalchemy_sqlite", "encrypted_sqlite", "redis")


def open_session(backend: str, session_id: Any, folder: Path, **settings: Any) -> Any:
    """One library session object, built as the library's documentation shows."""
    from agents.memory import SessionSettings, SQLiteSession

    session_settings = SessionSettings(**settings) if settings else None
    path = folder / "history.sqlite3"
    if backend == "sqlite_memory":
        return SQLiteSession(session_id, session_settings=session_settings)
    if backend == "sqlite_file":
        return SQLiteSession(session_id, db_path=path, session_settings=session_settings)
    if backend == "advanced_sqlite":
        from agents.extensions.memory import AdvancedSQLiteSession

        return AdvancedSQLiteSession(
            session_id=session_id, db_path=path, create_tables=True, session_settings=session_settings
        )
    if backend == "sqlalchemy_sqlite":
        from agents.extensions.memory import SQLAlchemySession

        url = f"sqlite+aiosqlite:///{path}"
        return SQLAlchemySession.from_url(session_id, url=url, create_tables=True, session_settings=session_settings)
    if backend == "redis":
        from agents.extensions.memory import RedisSession

        url = os.environ["CONFORMANCE_REDIS_URL"]
        return RedisSession.from_url(
            session_id, url=url, key_prefix=f"confirm:{folder}", session_settings=session_settings
        )
    from agents.extensions.memory import EncryptedSession

    inner = SQLiteSession(session_id, db_path=path, session_settings=session_settings)
    return EncryptedSession(session_id=session_id, underlying_session=inner, encryption_key=KEY)


async def release(session: Any) -> None:
    if hasattr(session, "engine"):  # SQLAlchemySession has no close()
        await session.engine.dispose()
        return
    result = session.close()
    if asyncio.iscoroutine(result):
        await result


@dataclass(frozen=True)
class Check:
    requirement: str
    row: str  # the first cell of its row in a table of spec/hist.md "Differences from upstream"
    what: str
    run: Callable[[str, Path], Awaitable[bool]]


async def _three(backend: str, folder: Path, **settings: Any) -> Any:
    session = open_session(backend, "confirm", folder, **settings)
    await session.add_items([{"n": 1}, {"n": 2}, {"n": 3}])
    return session


async def negative_limit(backend: str, folder: Path) -> bool:
    session = await _three(backend, folder)
    try:
        got = await session.get_items(limit=-1)
    finally:
        await release(session)
    expected = [] if backend == "redis" else [{"n": 1}, {"n": 2}, {"n": 3}]
    return got == expected


async def coerced_default_limit(backend: str, folder: Path) -> bool:
    session = await _three(backend, folder, limit="2")
    try:
        return await session.get_items() == [{"n": 2}, {"n": 3}]
    finally:
        await release(session)


async def nan_stored(backend: str, folder: Path) -> bool:
    session = open_session(backend, "confirm", folder)
    try:
        await session.add_items([{"score": math.nan}])
        return len(await session.get_items()) == 1
    finally:
        await release(session)


async def non_object_stored(backend: str, folder: Path) -> bool:
    session = open_session(backend, "confirm", folder)
    try:
        await session.add_items([[]])  # an empty array where an object belongs: accepted, not rejected
        return len(await session.get_items()) == 1
    finally:
        await release(session)


async def empty_id_accepted(backend: str, folder: Path) -> bool:
    session = open_session(backend, "", folder)
    try:
        await session.add_items([{"n": 1}])
        return await session.get_items() == [{"n": 1}]
    finally:
        await release(session)


async def usable_after_release(backend: str, folder: Path) -> bool:
    session = await _three(backend, folder)
    await release(session)
    try:
        return len(await session.get_items()) == 3
    except RuntimeError:
        return False


async def arguments_before_closed(backend: str, folder: Path) -> bool:
    session = open_session(backend, "confirm", folder)
    await release(session)
    try:
        await session.add_items(["hi"])
    except ValueError:
        return True  # the items were looked at first: an argument error from a closed session
    except RuntimeError:
        return False  # "... is closed": the closed check came first
    return False


CHECKS = [
    Check("HIST-005", "`limit<0`", "get_items(limit=-1) returns every item ([] on Redis)", negative_limit),
    Check(
        "HIST-005",
        'default limit `"2"`, `true` or `2.0`',
        "SessionSettings(limit='2') is coerced to 2",
        coerced_default_limit,
    ),
    Check("HIST-012", "`NaN` or `Infinity` value", "an item holding NaN is stored", nan_stored),
    Check("HIST-013", "non-object item", "add_items([[]]) stores an array as an item", non_object_stored),
    Check("HIST-026", 'empty id `""`', 'session id "" is a session like any other', empty_id_accepted),
]
#: Only SQLAlchemySession has no close(): after the adapter's engine.dispose() it still works.
AFTER_CLOSE = Check("HIST-023", "call after `close()`", "calls after engine.dispose() still work", usable_after_release)


#: Only EncryptedSession looks at the arguments before the wrapped session checks it is closed.
ORDER = Check(
    "HIST-030",
    "invalid call on a closed handle",
    "add_items(['hi']) after close() raises ValueError, not the closed error",
    arguments_before_closed,
)


def checks_for(backend: str) -> list[Check]:
    # The adapter's backend close is the library's session close, for every session it opened
    # (implementations/openai_agents.py), so what a closed session does is also HIST-031's finding.
    extra = {"sqlalchemy_sqlite": [AFTER_CLOSE], "encrypted_sqlite": [ORDER]}.get(backend, [])
    return [*CHECKS, *extra, *(dataclasses.replace(check, requirement="HIST-031") for check in extra)]


async def confirm(backend: str) -> list[tuple[Check, bool | str]]:
    results: list[tuple[Check, bool | str]] = []
    for check in checks_for(backend):
        with tempfile.TemporaryDirectory() as folder:
            try:
                seen: bool | str = await check.run(backend, Path(folder))
            except Exception as exc:  # an unexpected exception is reported, not raised
                seen = f"raised {type(exc).__name__}: {exc}"
        results.append((check, seen))
    return results


def main(argv: list[str]) -> int:
    backends = argv or [b for b in BACKENDS if b != "redis" or os.environ.get("CONFORMANCE_REDIS_URL")]
    stale = 0
    for backend in backends:
        stale += report(backend, asyncio.run(confirm(backend)))
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
