"""Confirm, without the kit, each google-adk behaviour that the kit reports as a failure.

Every failure the matrix shows for a google-adk session service must be the library's own
behaviour, not something the adapter or the kit added.  This script calls the library directly (no
adapter, no pytest, no kit code) and checks each recorded behaviour.  ``nox -s matrix`` runs it
after the kit; run it alone with ``python -m implementations.google_adk_confirm [SERVICE…]``.

Each check names the requirements it explains; the rows of spec/store.md § "Differences from
upstream" record them.  Exit status 1 when a recorded behaviour is no longer seen: the record (and
the matrix) is then stale, which is as much a finding as a new failure.
"""

from __future__ import annotations

import asyncio
import math
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from implementations._confirm import report

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

SERVICES = ("in_memory", "database_sqlite")
APP = "confirm"


def service(kind: str, folder: Path) -> Any:
    """One session service, built as the library's documentation shows."""
    from google.adk.sessions import DatabaseSessionService, InMemorySessionService

    if kind == "in_memory":
        return InMemorySessionService()
    return DatabaseSessionService(db_url=f"sqlite+aiosqlite:///{folder / 'sessions.sqlite3'}")


async def release(svc: Any) -> None:
    close = getattr(svc, "close", None)
    if close is not None:
        await close()


async def minted_uuid4(kind: str, folder: Path) -> bool:
    """STORE-003: a minted id is a hyphenated uuid4, not 32 lowercase hex digits."""
    svc = service(kind, folder)
    session = await svc.create_session(app_name=APP, user_id="u")
    await release(svc)
    return re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", session.id) is not None


async def strips_ids(kind: str, folder: Path) -> bool:
    """STORE-004: " a" is stored as "a" (InMemorySessionService only)."""
    svc = service(kind, folder)
    session = await svc.create_session(app_name=APP, user_id="u", session_id=" a")
    await release(svc)
    return session.id == "a"


async def empty_id_mints(kind: str, folder: Path) -> bool:
    """STORE-005: create with the id "" mints a fresh one (InMemorySessionService)."""
    svc = service(kind, folder)
    session = await svc.create_session(app_name=APP, user_id="u", session_id="")
    await release(svc)
    return session.id != ""


async def empty_id_kept(kind: str, folder: Path) -> bool:
    """STORE-005: create with the id "" stores a session under the id "" (DatabaseSessionService)."""
    svc = service(kind, folder)
    session = await svc.create_session(app_name=APP, user_id="u", session_id="")
    got = await svc.get_session(app_name=APP, user_id="u", session_id="")
    await release(svc)
    return session.id == "" and got is not None


async def accepts_invalid_ids(kind: str, folder: Path) -> bool:
    """STORE-005: a 257-character id and one with a NUL are accepted."""
    svc = service(kind, folder)
    made = [await svc.create_session(app_name=APP, user_id="u", session_id=sid) for sid in ("x" * 257, "a\x00b")]
    await release(svc)
    return [s.id for s in made] == ["x" * 257, "a\x00b"]


async def same_id_for_two_users(kind: str, folder: Path) -> bool:
    """STORE-006: a second user creates a second session under a live id; no conflict."""
    svc = service(kind, folder)
    await svc.create_session(app_name=APP, user_id="alice", session_id="dup", state={"v": 1})
    await svc.create_session(app_name=APP, user_id="bob", session_id="dup", state={"v": 2})
    listed = await svc.list_sessions(app_name=APP)
    await release(svc)
    return sorted(s.user_id for s in listed.sessions if s.id == "dup") == ["alice", "bob"]


async def concurrent_creates_by_users(kind: str, folder: Path) -> bool:
    """STORE-025: ten concurrent creates of one id, each by another user, all succeed."""
    svc = service(kind, folder)
    await svc.list_sessions(app_name=APP)  # the schema exists before the race (a Database service makes it lazily)
    made = await asyncio.gather(
        *(svc.create_session(app_name=APP, user_id=f"user{n}", session_id="dup") for n in range(10)),
        return_exceptions=True,
    )
    await release(svc)
    return all(not isinstance(m, BaseException) and m.id == "dup" for m in made)


async def keeps_nested_state(kind: str, folder: Path) -> bool:
    """STORE-018: the nested objects of a state given to create stay the caller's (InMemorySessionService)."""
    svc = service(kind, folder)
    given: dict[str, Any] = {"tags": ["a"], "meta": {"n": 1}}
    await svc.create_session(app_name=APP, user_id="u", session_id="s", state=given)
    given["tags"].append("changed")
    given["meta"]["n"] = 2
    got = await svc.get_session(app_name=APP, user_id="u", session_id="s")
    await release(svc)
    return got is not None and got.state == {"tags": ["a", "changed"], "meta": {"n": 2}}


async def no_creation_time(kind: str, folder: Path) -> bool:  # noqa: ARG001 - every check takes both
    """STORE-008, STORE-036 (and the model, STORE-029): a Session has no creation time at all."""
    from google.adk.sessions import Session

    return not any("creat" in name for name in Session.model_fields)


async def state_write_moves_activity(kind: str, folder: Path) -> bool:
    """STORE-015: appending a state delta moves last_update_time."""
    from google.adk.events import Event, EventActions
    from google.adk.platform import time as platform_time

    svc = service(kind, folder)
    platform_time.set_time_provider(lambda: 1_767_225_600.0)
    session = await svc.create_session(app_name=APP, user_id="u", session_id="s")
    platform_time.set_time_provider(lambda: 1_767_225_600.5)
    await svc.append_event(session, Event(author="confirm", actions=EventActions(state_delta={"k": 1})))
    after = await svc.get_session(app_name=APP, user_id="u", session_id="s")
    platform_time.reset_time_provider()
    await release(svc)
    return after is not None and after.state == {"k": 1} and after.last_update_time == 1_767_225_600.5


async def keeps_non_json_state(kind: str, folder: Path) -> bool:
    """STORE-017: a state holding NaN is stored and handed back, not rejected."""
    svc = service(kind, folder)
    try:
        await svc.create_session(app_name=APP, user_id="u", session_id="s", state={"bad": math.nan})
    except (ValueError, TypeError):
        await release(svc)
        return False
    got = await svc.get_session(app_name=APP, user_id="u", session_id="s")
    await release(svc)
    return got is not None and math.isnan(got.state["bad"])


async def array_state_crashes(kind: str, folder: Path) -> bool:
    """STORE-017: a state that is an array is not rejected: create crashes with AttributeError."""
    svc = service(kind, folder)
    try:
        await svc.create_session(app_name=APP, user_id="u", session_id="s", state=["not", "an", "object"])
    except AttributeError:
        return True
    finally:
        await release(svc)
    return False


async def usable_after_close(kind: str, folder: Path) -> bool:
    """STORE-023 (and STORE-032): after close() (Database) or with no close at all (InMemory), calls still work."""
    svc = service(kind, folder)
    await svc.create_session(app_name=APP, user_id="u", session_id="s")
    await release(svc)
    return await svc.get_session(app_name=APP, user_id="u", session_id="s") is not None


async def accepts_invalid_owner(kind: str, folder: Path) -> bool:
    """STORE-031: a user id of 257 characters is accepted."""
    svc = service(kind, folder)
    session = await svc.create_session(app_name=APP, user_id="o" * 257, session_id="s")
    await release(svc)
    return session.user_id == "o" * 257


async def no_touch(kind: str, folder: Path) -> bool:
    """STORE-014, STORE-018, STORE-024, STORE-030, STORE-033, STORE-034, STORE-037 not testable: no touch call."""
    svc = service(kind, folder)
    await release(svc)
    return not any(hasattr(svc, name) for name in ("touch", "touch_session", "refresh_session"))


async def two_services_race_on_a_new_file(kind: str, folder: Path) -> bool:
    """STORE-028: two services opening one new SQLite file at once both try to create the schema."""
    first, second = service(kind, folder), service(kind, folder)
    results = await asyncio.gather(
        first.create_session(app_name=APP, user_id="u", session_id="a"),
        second.create_session(app_name=APP, user_id="u", session_id="b"),
        return_exceptions=True,
    )
    await release(first)
    await release(second)
    return any("already exists" in str(r) for r in results if isinstance(r, Exception))


@dataclass(frozen=True)
class Check:
    requirement: str
    row: str  # the first cell of its row in spec/store.md "Differences from upstream"
    what: str
    run: Callable[[str, Path], Awaitable[bool]]
    services: tuple[str, ...] = SERVICES


MINTED = "ADK: minted id"
SPACES = "ADK: id with surrounding spaces"
EMPTY_ID = "ADK: empty id at create"
INVALID_ID = "ADK: invalid id"
INVALID_OWNER = "ADK: invalid owner"
OTHER_USER = "ADK: live id, another user"
CREATED = "ADK: creation time"
STATE = "ADK: state update"
NOT_JSON = "ADK: state JSON cannot express"
CLOSE = "ADK: call after close"
TOUCH = "ADK: `touch`"
SCHEMA_RACE = "ADK: two services, one new file"
NESTED_STATE = "ADK: state given to create"

#: What ``touch`` would have shown: each requirement whose test touches a session is not-testable.
TOUCHING = (
    "STORE-014",
    "STORE-018",
    "STORE-024",
    "STORE-027",
    "STORE-028",
    "STORE-030",
    "STORE-033",
    "STORE-034",
    "STORE-037",
)

CHECKS = [
    Check("STORE-003", MINTED, "create without an id mints a hyphenated uuid4", minted_uuid4),
    Check("STORE-004", SPACES, 'create with the id " a" stores "a"', strips_ids, ("in_memory",)),
    Check("STORE-005", EMPTY_ID, 'create with the id "" mints a fresh id', empty_id_mints, ("in_memory",)),
    Check("STORE-005", EMPTY_ID, 'create with the id "" stores the id ""', empty_id_kept, ("database_sqlite",)),
    Check("STORE-005", INVALID_ID, "create accepts a 257-character id and an id holding NUL", accepts_invalid_ids),
    Check("STORE-006", OTHER_USER, "a second user's create of a live id makes a second session", same_id_for_two_users),
    Check("STORE-025", OTHER_USER, "ten concurrent creates of one id by ten users all succeed",
          concurrent_creates_by_users),
    Check("STORE-008", CREATED, "a Session has no creation time: created_at is null", no_creation_time),
    Check("STORE-036", CREATED, "a Session has no creation time: created_at null is no instant", no_creation_time),
    Check("STORE-029", CREATED, "the model reads created_at (STORE-008): null in every record", no_creation_time),
    Check("STORE-015", STATE, "append_event of a state delta moves last_update_time", state_write_moves_activity),
    Check("STORE-018", NESTED_STATE, "changing a list inside a state given to create changes the session",
          keeps_nested_state, ("in_memory",)),
    Check("STORE-017", NOT_JSON, "create stores a state holding NaN", keeps_non_json_state),
    Check("STORE-017", NOT_JSON, "create with an array state crashes (AttributeError)", array_state_crashes),
    Check("STORE-023", CLOSE, "calls after close() are answered", usable_after_close),
    Check("STORE-032", CLOSE, "calls after close() are answered", usable_after_close),
    Check("STORE-031", INVALID_OWNER, "create accepts a 257-character user id", accepts_invalid_owner),
    *(Check(rid, TOUCH, "has no touch: the adapter answers unsupported", no_touch) for rid in TOUCHING),
    Check("STORE-028", SCHEMA_RACE, "two services opening one new SQLite file at once: one fails creating the schema",
          two_services_race_on_a_new_file, ("database_sqlite",)),
]  # fmt: skip


def checks_for(target: str) -> list[Check]:
    """The checks that explain the failures of one target (``in_memory`` or ``database_sqlite``)."""
    return [check for check in CHECKS if target in check.services]


async def confirm(target: str) -> list[tuple[Check, bool | str]]:
    found: list[tuple[Check, bool | str]] = []
    for check in checks_for(target):
        with tempfile.TemporaryDirectory() as folder:
            try:
                seen: bool | str = await check.run(target, Path(folder))
            except Exception as exc:  # an unexpected exception is reported, not raised
                seen = f"raised {type(exc).__name__}: {exc}"
        found.append((check, seen))
    return found


def main(argv: list[str]) -> int:
    stale = 0
    for target in argv or SERVICES:
        stale += report(f"google-adk {target}", asyncio.run(confirm(target)))
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
