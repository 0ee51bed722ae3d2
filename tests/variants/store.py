"""STORE variants: the reference's session store with one upstream store's behaviour.

The upstream is txn2/mcp-data-platform ``pkg/session``: ``memory.go`` (MemoryStore) and
``postgres/store.go`` (the Postgres store); its peers are agent-framework and a2a-sdk.  Each
variant swaps exactly one of their behaviours into the in-memory reference.
"""

from __future__ import annotations

import copy
import json
import math
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from reference_impl.store import MemorySessionStore, Row, SessionNotFound, SessionStore
from reference_impl.store_sqlite import _SCHEMA, SQLiteSessionStore
from tests.miniatures.store import CloseOnlyStopsCleanup as _CloseDoesNothing
from tests.miniatures.store import MintsHyphenatedUuids as _MintsUuid4
from tests.miniatures.store import StripsIds as _StripsIds
from tests.miniatures.store import TouchTruncatesTtl as _TouchWholeSeconds
from tests.variants._base import Variant

if TYPE_CHECKING:
    import builtins
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["AGREES", "Variant"]

_MDP = "https://github.com/txn2/mcp-data-platform/blob/main/pkg/session"
_MEMORY = f"{_MDP}/memory.go"
_POSTGRES = f"{_MDP}/postgres/store.go"

_ROW_GET_BOUNDARY = "store.md: `get` at exactly `expires_at`"
_ROW_CLEANUP_BOUNDARY = "store.md: `cleanup` at exactly `expires_at`"
_ROW_TOUCH_EXPIRED = "store.md: `touch` on expired, not cleaned"
_ROW_TOUCH_SUBSECOND = "store.md: `touch` with TTL < 1 s"
_ROW_ON_MISSING = "store.md: `touch` / `update_state` on missing"
_ROW_UPDATE_EXPIRED = "store.md: `update_state` on expired"
_ROW_CREATE_EXISTING = "store.md: `create` on existing id"
_ROW_GET_RESULT = "store.md: `get` result"
_ROW_OWNER = "store.md: owner"
_ROW_ADK_MINTED = "store.md: ADK: minted id"
_ROW_ADK_SPACES = "store.md: ADK: id with surrounding spaces"
_ROW_ADK_EMPTY_ID = "store.md: ADK: empty id at create"
_ROW_ADK_CREATED = "store.md: ADK: creation time"
_ROW_ADK_STATE = "store.md: ADK: state update"
_ROW_ADK_CLOSE = "store.md: ADK: call after close"
_ROW_ADK_INVALID_ID = "store.md: ADK: invalid id"
_ROW_ADK_INVALID_OWNER = "store.md: ADK: invalid owner"
_ROW_ADK_OTHER_USER = "store.md: ADK: live id, another user"
_ROW_ADK_NOT_JSON = "store.md: ADK: state JSON cannot express"
_ROW_ADK_TOUCH = "store.md: ADK: `touch`"
_ROW_ADK_SCHEMA_RACE = "store.md: ADK: two services, one new file"
_ROW_ADK_NESTED_STATE = "store.md: ADK: state given to create"

_ADK = "https://github.com/google/adk-python/blob/main/src/google/adk/sessions"


# --- expiry at the boundary ----------------------------------------------------------------


class _GetLiveAtExpiry(MemorySessionStore):
    """get keeps a session at exactly expires_at (``now.After(expires)``); nothing else changes."""

    def get(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:
        found = super().get(session_id, owner=owner)  # validates the id and the owner
        if found is not None or not isinstance(session_id, str):
            return found
        with self.transaction() as now:
            row = self.load(session_id)
        if row is not None and row.expires_us == now and row.visible_to(owner if isinstance(owner, str) else None):
            return row.record()
        return None


class GetLiveAtExpiry(Variant):
    """``get`` still returns a session at the exact instant ``now == expires_at``.

    mcp-data-platform MemoryStore: ``Get`` tests ``time.Now().After(sess.ExpiresAt)``.
    """

    rows = frozenset({_ROW_GET_BOUNDARY})
    # STORE-009: the session is not absent to get from the instant now equals expires_at.
    # STORE-029: the model's get answers null there.
    fails = frozenset({"STORE-009", "STORE-029"})
    source = _MEMORY

    def open_session_store(self, env: Any) -> Any:
        return _GetLiveAtExpiry.open(env)


class _CleanupKeepsBoundary(MemorySessionStore):
    """cleanup removes a session only once now is past expires_at (``now.After(expires)``)."""

    def remove_expired(self, now_us: int) -> int:
        dead = [row.id for row in self.rows() if row.expires_us is not None and now_us > row.expires_us]
        for sid in dead:
            self.remove(sid)
        return len(dead)


class CleanupKeepsTheBoundary(Variant):
    """``cleanup`` keeps a session at the exact instant ``now == expires_at`` and does not count it.

    mcp-data-platform MemoryStore: ``Cleanup`` deletes only when ``now.After(sess.ExpiresAt)``.
    """

    rows = frozenset({_ROW_CLEANUP_BOUNDARY})
    # STORE-011: cleanup treats the session at the boundary as live; STORE-022: that expired
    # session is not removed (nor counted); STORE-029: the model's cleanup counts it.
    fails = frozenset({"STORE-011", "STORE-022", "STORE-029"})
    source = _MEMORY

    def open_session_store(self, env: Any) -> Any:
        return _CleanupKeepsBoundary.open(env)


# --- touch ---------------------------------------------------------------------------------


class _TouchRevives(MemorySessionStore):
    """touch of an expired session that is still stored refreshes it: Touch never checks expiry."""

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        try:
            return super().touch(session_id, owner=owner)
        except SessionNotFound:
            with self.transaction() as now:
                row = self.load(session_id) if isinstance(session_id, str) else None
                if row is None or not row.visible_to(owner if isinstance(owner, str) else None):
                    raise
                fresh = row.touched(now)
                self.put(fresh)
                return fresh.record()


class TouchRevivesExpired(Variant):
    """``touch`` of an expired session that cleanup has not removed yet brings it back to life.

    mcp-data-platform MemoryStore: ``Touch`` looks the id up in the map and never checks ``ExpiresAt``.
    """

    rows = frozenset({_ROW_TOUCH_EXPIRED})
    # STORE-011: touch treats a session at (and past) expires_at as live; STORE-014: touch of an
    # expired session succeeds and leaves it live; STORE-029: the model answers not_found.
    fails = frozenset({"STORE-011", "STORE-014", "STORE-029"})
    source = _MEMORY

    def open_session_store(self, env: Any) -> Any:
        return _TouchRevives.open(env)


class _TouchExpiredNoOp(MemorySessionStore):
    """touch of an expired session that is still stored does nothing and reports no error."""

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:  # type: ignore[override]
        try:
            return super().touch(session_id, owner=owner)
        except SessionNotFound:
            with self.transaction():
                row = self.load(session_id) if isinstance(session_id, str) else None
            if row is None or not row.visible_to(owner if isinstance(owner, str) else None):
                raise
            return None


class TouchExpiredSucceeds(Variant):
    """``touch`` of an expired session that cleanup has not removed yet succeeds and changes nothing.

    mcp-data-platform Postgres store: ``UPDATE … WHERE id = $1 AND expires_at > NOW()`` matches no
    row, and a 0-row ``UPDATE`` is no error.
    """

    rows = frozenset({_ROW_TOUCH_EXPIRED})
    # STORE-014: touch of an expired session must fail with not_found; STORE-029: the model's
    # touch answers not_found there.
    fails = frozenset({"STORE-014", "STORE-029"})
    source = _POSTGRES

    def open_session_store(self, env: Any) -> Any:
        return _TouchExpiredNoOp.open(env)


class TouchTruncatesTtl(Variant):
    """``touch`` extends by the TTL in whole seconds, so a 0.25 s TTL expires the session at once.

    mcp-data-platform Postgres store: ``expires_at = NOW() + '<int(ttl.Seconds())> seconds'::interval``.
    """

    rows = frozenset({_ROW_TOUCH_SUBSECOND})
    # STORE-013: expires_at is not now + ttl_seconds at full precision; STORE-029: the model's
    # touch keeps the fraction.
    fails = frozenset({"STORE-013", "STORE-029"})
    source = _POSTGRES

    def open_session_store(self, env: Any) -> Any:
        return _TouchWholeSeconds.open(env)  # the STORE-013 miniature's store: the same behaviour


class _TouchMissingSucceeds(MemorySessionStore):
    """touch of an id that is not stored at all returns nothing and reports no error."""

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:  # type: ignore[override]
        try:
            return super().touch(session_id, owner=owner)
        except SessionNotFound:
            with self.transaction():
                stored = self.load(session_id) if isinstance(session_id, str) else None
            if stored is not None:
                raise
            return None


class TouchMissingSucceeds(Variant):
    """``touch`` of a missing session succeeds (returns nothing) instead of failing with ``not_found``.

    mcp-data-platform MemoryStore: ``Touch`` returns nil when the id is not in the map (the Postgres
    store's 0-row ``UPDATE`` does the same).
    """

    rows = frozenset({_ROW_ON_MISSING})
    # STORE-014: touch of a missing session must fail with not_found; STORE-029: the model's
    # touch answers not_found for an id never created or deleted.
    fails = frozenset({"STORE-014", "STORE-029"})
    source = _MEMORY

    def open_session_store(self, env: Any) -> Any:
        return _TouchMissingSucceeds.open(env)


# --- update_state --------------------------------------------------------------------------


class _UpdateMissingSucceeds(MemorySessionStore):
    """update_state of an id that is not stored at all returns nothing and reports no error."""

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any] | None:  # type: ignore[override]
        try:
            return super().update_state(session_id, state, owner=owner)
        except SessionNotFound:
            with self.transaction():
                stored = self.load(session_id) if isinstance(session_id, str) else None
            if stored is not None:
                raise
            return None


class UpdateMissingSucceeds(Variant):
    """``update_state`` of a missing session succeeds (returns nothing) instead of failing with ``not_found``.

    mcp-data-platform Postgres store: ``UPDATE sessions SET state = state || $2 WHERE id = $1``
    matching no row is no error (MemoryStore returns nil for an id not in the map too).
    """

    rows = frozenset({_ROW_ON_MISSING})
    # STORE-016: update_state of a missing session must fail with not_found; STORE-029: the
    # model's update_state answers not_found.
    fails = frozenset({"STORE-016", "STORE-029"})
    source = _POSTGRES

    def open_session_store(self, env: Any) -> Any:
        return _UpdateMissingSucceeds.open(env)


class _UpdateExpiredApplied(MemorySessionStore):
    """update_state merges into an expired session that is still stored (no expiry check)."""

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any]:
        try:
            return super().update_state(session_id, state, owner=owner)
        except SessionNotFound:
            text = self.encode_state(state)
            with self.transaction():
                row = self.load(session_id) if isinstance(session_id, str) else None
                if row is None or not row.visible_to(owner if isinstance(owner, str) else None):
                    raise
                merged = json.loads(row.state) | json.loads(text)
                fresh = replace(row, state=json.dumps(merged, ensure_ascii=False))
                self.put(fresh)
                return fresh.record()


class UpdateExpiredApplied(Variant):
    """``update_state`` of an expired session that cleanup has not removed yet merges the state.

    mcp-data-platform: the Postgres ``UPDATE … WHERE id = $1`` has no expiry condition, and
    MemoryStore's ``UpdateState`` never checks ``ExpiresAt``.
    """

    rows = frozenset({_ROW_UPDATE_EXPIRED})
    # STORE-011: update_state treats a session at expires_at as live; STORE-016: update_state of
    # an expired session must fail with not_found and write nothing; STORE-029: the model agrees.
    fails = frozenset({"STORE-011", "STORE-016", "STORE-029"})
    source = _POSTGRES

    def open_session_store(self, env: Any) -> Any:
        return _UpdateExpiredApplied.open(env)


# --- create --------------------------------------------------------------------------------


class _CreateReplaces(MemorySessionStore):
    """create of an id a live session holds replaces that session (map assignment; upsert)."""

    def create(self, *, session_id: object = None, **kwargs: Any) -> dict[str, Any]:
        if isinstance(session_id, str) and session_id:
            with self.transaction():
                self.remove(session_id)
        return super().create(session_id=session_id, **kwargs)


class CreateReplacesLiveSession(Variant):
    """``create`` with the id of a live session silently replaces it instead of failing with ``conflict``.

    mcp-data-platform: MemoryStore assigns ``sessions[id]``; the Postgres store upserts
    (``ON CONFLICT (id) DO UPDATE``); agent-framework's ``SessionStore.set`` overwrites too.
    """

    rows = frozenset({_ROW_CREATE_EXISTING})
    # STORE-006: the create succeeds and the first session is gone; STORE-025: every concurrent
    # create of one id succeeds; STORE-029: the model's create answers conflict.
    fails = frozenset({"STORE-006", "STORE-025", "STORE-029"})
    source = _POSTGRES

    def open_session_store(self, env: Any) -> Any:
        return _CreateReplaces.open(env)


class _OtherOwnerTakesOver(MemorySessionStore):
    """A create naming another owner than the live session's replaces it: the key is the id alone."""

    def create(self, *, session_id: object = None, owner: object = None, **kwargs: Any) -> dict[str, Any]:
        if isinstance(session_id, str) and session_id:
            with self.transaction():
                held = self.load(session_id)
                if held is not None and held.owner != owner:
                    self.remove(session_id)
        return super().create(session_id=session_id, owner=owner, **kwargs)


class OtherOwnerTakesOver(Variant):
    """A second owner creating a live session's id takes the session over from its first owner.

    a2a-sdk ``DatabaseTaskStore.save`` merges by the task id alone, so another owner's save
    replaces the row (its ``InMemoryTaskStore`` keeps owners apart).
    """

    rows = frozenset({_ROW_CREATE_EXISTING})  # the closest row: the peer a2a-sdk, same cell
    # STORE-006 ("whichever owner either call names"); STORE-025 (the racing creates name ten
    # owners, so all succeed); STORE-029 (the model's create answers conflict whoever calls).
    fails = frozenset({"STORE-006", "STORE-025", "STORE-029"})
    source = "https://github.com/a2aproject/a2a-python/blob/main/src/a2a/server/tasks/database_task_store.py"

    def open_session_store(self, env: Any) -> Any:
        return _OtherOwnerTakesOver.open(env)


class _EmptyIdMints(MemorySessionStore):
    """create with the id ``""`` mints a fresh id, as if none had been given."""

    def create(self, *, session_id: object = None, **kwargs: Any) -> dict[str, Any]:
        return super().create(session_id=None if session_id == "" else session_id, **kwargs)


class EmptyIdMintsOne(Variant):
    """``create`` with the empty id ``""`` creates a session under a freshly minted id.

    agent-framework: an empty session id is replaced by a new uuid.
    """

    rows = frozenset({_ROW_CREATE_EXISTING, _ROW_ADK_EMPTY_ID})  # google-adk's InMemorySessionService too
    # STORE-005: create with an invalid id must fail with invalid_argument and change nothing.
    fails = frozenset({"STORE-005"})
    source = "https://github.com/microsoft/agent-framework"

    def open_session_store(self, env: Any) -> Any:
        return _EmptyIdMints.open(env)


# --- copies and owners ---------------------------------------------------------------------


class _HandsOutStoredRecord(MemorySessionStore):
    """get hands out one record object per stored row, and reads it back: edits to it leak in."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._handed: dict[str, tuple[Any, dict[str, Any]]] = {}

    def get(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:
        found = super().get(session_id, owner=owner)
        if found is None:
            return None
        with self.transaction():
            row = self.load(found["id"])
        kept = self._handed.get(found["id"])
        if kept is None or kept[0] is not row:
            kept = (row, found)
            self._handed[found["id"]] = kept
        return kept[1]


class GetHandsOutStoredSession(Variant):
    """``get`` returns the very object the store keeps, so a caller's edits change what it holds.

    mcp-data-platform MemoryStore: ``Get`` returns the stored ``*Session`` pointer.
    """

    rows = frozenset({_ROW_GET_RESULT})
    fails = frozenset({"STORE-018"})
    source = _MEMORY

    def open_session_store(self, env: Any) -> Any:
        return _HandsOutStoredRecord.open(env)


class _OwnerNotEnforced(MemorySessionStore):
    """Every call sees every session: the owner of a call is ignored (it is still stored)."""

    def get(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:
        self.list(owner=owner)  # validates the owner as before
        return super().get(session_id)

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        self.list(owner=owner)
        return super().touch(session_id)

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any]:
        self.list(owner=owner)
        return super().update_state(session_id, state)

    def delete(self, session_id: object, *, owner: object = None) -> None:
        self.list(owner=owner)
        super().delete(session_id)

    def list(self, *, owner: object = None) -> builtins.list[dict[str, Any]]:
        super().list(owner=owner)
        return super().list()


class OwnerNotEnforced(Variant):
    """Calls scoped to an owner see, change and delete every owner's sessions.

    mcp-data-platform: the ``Store`` interface takes no owner; only its HTTP handler compares
    ``UserID`` (403), so every other caller of the store sees every session.
    """

    rows = frozenset({_ROW_OWNER})
    fails = frozenset({"STORE-019", "STORE-020", "STORE-024", "STORE-029"})
    source = f"{_MDP}/session.go"

    def open_session_store(self, env: Any) -> Any:
        return _OwnerNotEnforced.open(env)


# --- google-adk's session services ---------------------------------------------------------


class MintsHyphenatedUuid4(Variant):
    """``create`` without an id mints ``str(uuid4())``: 36 characters with hyphens.

    google-adk: both session services mint with ``platform_uuid.new_uuid()``.
    """

    rows = frozenset({_ROW_ADK_MINTED})
    fails = frozenset({"STORE-003"})  # a SHOULD: the recommended form is 32 lowercase hex digits
    source = f"{_ADK}/in_memory_session_service.py"

    def open_session_store(self, env: Any) -> Any:
        return _MintsUuid4.open(env)  # the STORE-003 miniature's store: the same behaviour


class StripsIdWhitespace(Variant):
    """``create`` strips whitespace around a caller's id, so ``" a"`` is stored as ``"a"``.

    google-adk ``InMemorySessionService``: ``session_id = session_id.strip() if session_id else None``.
    """

    rows = frozenset({_ROW_ADK_SPACES})
    fails = frozenset({"STORE-004"})
    source = f"{_ADK}/in_memory_session_service.py"

    def open_session_store(self, env: Any) -> Any:
        return _StripsIds.open(env)  # the STORE-004 miniature's store: the same behaviour


class _NoCreationTime(MemorySessionStore):
    """Every record says null for created_at: the store keeps no creation time."""

    def create(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().create(**kwargs), "created_at": None}

    def get(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:
        found = super().get(session_id, owner=owner)
        return None if found is None else {**found, "created_at": None}

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        return {**super().touch(session_id, owner=owner), "created_at": None}

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any]:
        return {**super().update_state(session_id, state, owner=owner), "created_at": None}

    def list(self, *, owner: object = None) -> builtins.list[dict[str, Any]]:
        return [{**r, "created_at": None} for r in super().list(owner=owner)]


class NoCreationTime(Variant):
    """Records carry no creation time: ``created_at`` is null.

    google-adk: ``Session`` has ``last_update_time`` and no creation time.
    """

    rows = frozenset({_ROW_ADK_CREATED})
    # STORE-008: created_at is not now; STORE-036: null is not an instant; STORE-029: the model
    # compares created_at; STORE-012 reads created_at to see that the session is a fresh one.
    fails = frozenset({"STORE-008", "STORE-012", "STORE-029", "STORE-036"})
    source = f"{_ADK}/session.py"

    def open_session_store(self, env: Any) -> Any:
        return _NoCreationTime.open(env)


class _StateWriteIsActivity(MemorySessionStore):
    """update_state also sets last_active_at to now, as appending an event does."""

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any]:
        record = super().update_state(session_id, state, owner=owner)
        with self.transaction() as now:
            row = self.load(record["id"])
            if row is None:
                return record
            row = replace(row, active_us=now)
            self.put(row)
        return row.record()


class StateWriteIsActivity(Variant):
    """``update_state`` moves ``last_active_at`` to now.

    google-adk: state changes only through ``append_event``, which sets ``last_update_time``.
    """

    rows = frozenset({_ROW_ADK_STATE})
    # STORE-015: update_state changes no field but the state; STORE-029: the model agrees.
    fails = frozenset({"STORE-015", "STORE-029"})
    source = f"{_ADK}/base_session_service.py"

    def open_session_store(self, env: Any) -> Any:
        return _StateWriteIsActivity.open(env)


class CloseChangesNothing(Variant):
    """``close`` leaves the handle working: every later call is answered as before.

    google-adk: ``InMemorySessionService`` has no ``close``; ``DatabaseSessionService.close()``
    disposes its engine, and the next call opens a new connection.
    """

    rows = frozenset({_ROW_ADK_CLOSE})
    fails = frozenset({"STORE-023"})
    source = f"{_ADK}/database_session_service.py"

    def open_session_store(self, env: Any) -> Any:
        return _CloseDoesNothing.open(env)  # the STORE-023 miniature's store: the same behaviour


class _AnyStringId(MemorySessionStore):
    """Every string is an id: no length, character or emptiness check (other values are still refused)."""

    def check_id(self, session_id: object) -> str:
        return session_id if isinstance(session_id, str) else super().check_id(session_id)


class AnyStringIsAnId(Variant):
    """Any string is a session id: 257 characters, NUL, tab and ``""`` are accepted by every operation.

    google-adk: neither session service checks a ``session_id`` beyond its type.
    """

    rows = frozenset({_ROW_ADK_INVALID_ID})
    fails = frozenset({"STORE-005"})
    source = f"{_ADK}/database_session_service.py"

    def open_session_store(self, env: Any) -> Any:
        return _AnyStringId.open(env)


class _AnyStringOwner(MemorySessionStore):
    """Every string is an owner: no length, character or emptiness check (other values are still refused)."""

    def check_owner(self, owner: object) -> str | None:
        return owner if isinstance(owner, str) else super().check_owner(owner)


class AnyStringIsAnOwner(Variant):
    """Any string is an owner: ``""``, 257 characters and NUL are accepted, and a scoped call with one finds nothing.

    google-adk: neither session service checks a ``user_id`` beyond its type.
    """

    rows = frozenset({_ROW_ADK_INVALID_OWNER})
    fails = frozenset({"STORE-031"})
    source = f"{_ADK}/in_memory_session_service.py"

    def open_session_store(self, env: Any) -> Any:
        return _AnyStringOwner.open(env)


class _KeyedByOwner(MemorySessionStore):
    """Sessions are keyed by (owner, id): another owner's create of a live id makes a second session.

    A scoped call (and every create, whose owner is the session's) reads the owner's own session;
    an unscoped one the first stored under the id, as the adapter's lookup over ADK's listing does
    (a live one before an expired one: ADK has no expiry to order them by).
    """

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._keyed: dict[tuple[str | None, str], Row] = {}
        self._scope = threading.local()

    @contextmanager
    def _as(self, scoped: bool, owner: object) -> Iterator[None]:
        self._scope.key = (scoped, owner)
        try:
            yield
        finally:
            self._scope.key = (False, None)

    def load(self, session_id: str) -> Row | None:
        scoped, owner = getattr(self._scope, "key", (False, None))
        if scoped:
            return self._keyed.get((owner, session_id))
        held = [row for (_, sid), row in self._keyed.items() if sid == session_id]
        now = self._now_us()  # ADK has no expiry; with the reference's, a live session comes first
        return next((row for row in held if self.is_live(row, now)), held[0] if held else None)

    def put(self, row: Row) -> None:
        self._keyed[(row.owner, row.id)] = row

    def remove(self, session_id: str) -> None:
        row = self.load(session_id)
        if row is not None:
            del self._keyed[(row.owner, row.id)]

    def rows(self) -> builtins.list[Row]:
        return list(self._keyed.values())

    def remove_expired(self, now_us: int) -> int:
        dead = [key for key, row in self._keyed.items() if not self.is_live(row, now_us)]
        for key in dead:
            del self._keyed[key]
        return len(dead)

    def _release(self) -> None:
        self._keyed.clear()

    def create(self, *, owner: object = None, **kwargs: Any) -> dict[str, Any]:
        with self._as(True, owner):
            return super().create(owner=owner, **kwargs)

    def get(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:
        with self._as(owner is not None, owner):
            return super().get(session_id, owner=owner)

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        with self._as(owner is not None, owner):
            return super().touch(session_id, owner=owner)

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any]:
        with self._as(owner is not None, owner):
            return super().update_state(session_id, state, owner=owner)

    def delete(self, session_id: object, *, owner: object = None) -> None:
        with self._as(owner is not None, owner):
            super().delete(session_id, owner=owner)


class SessionsKeyedByOwner(Variant):
    """Another owner's ``create`` of a live id makes a second session under it instead of failing with ``conflict``.

    google-adk: sessions are keyed by app, user and id (the Database service's primary key, the
    InMemory service's nested dicts), so only the same user's create of a live id conflicts.
    """

    rows = frozenset({_ROW_ADK_OTHER_USER})
    # STORE-006 ("whichever owner either call names"); STORE-025 (the racing creates name ten
    # owners, so all succeed); STORE-029 (the model's create answers conflict whoever calls).
    fails = frozenset({"STORE-006", "STORE-025", "STORE-029"})
    source = f"{_ADK}/database_session_service.py"

    def open_session_store(self, env: Any) -> Any:
        return _KeyedByOwner.open(env)


class _KeepsNonFinite(MemorySessionStore):
    """A state holding NaN or ±Infinity is stored and handed back as it was given."""

    def encode_state(self, state: object) -> str:
        text = super().encode_state(_finite(state))  # everything else is checked as before
        return text if _finite(state) is state else json.dumps(state, ensure_ascii=False)


def _finite(value: Any) -> Any:
    """``value`` with every NaN and ±Infinity replaced by 0, or ``value`` itself when it holds none."""
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    if isinstance(value, dict):
        done = {k: _finite(v) for k, v in value.items()}
        return value if all(done[k] is value[k] for k in value) else done
    if isinstance(value, list):
        items = [_finite(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


class KeepsNonFiniteNumbers(Variant):
    """A state holding NaN or ±Infinity is stored and handed back instead of failing with ``invalid_argument``.

    google-adk: both session services store such a state and hand the values back.
    """

    rows = frozenset({_ROW_ADK_NOT_JSON})
    fails = frozenset({"STORE-017"})
    source = f"{_ADK}/database_session_service.py"
    # The record it returns holds NaN, which is not JSON: the kit reports that result as a crash.
    kind = "crashed"

    def open_session_store(self, env: Any) -> Any:
        return _KeepsNonFinite.open(env)


class _NoTouch(MemorySessionStore):
    """The store has no touch: every call answers unsupported."""

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        msg = "this store has no touch"
        raise _Unsupported(msg)


class _Unsupported(Exception):
    error_kind = "unsupported"


class HasNoTouch(Variant):
    """There is no ``touch``: the kit must report what needs it as not-testable and fail nothing.

    google-adk: neither session service can mark a session active without appending an event.
    """

    rows = frozenset({_ROW_ADK_TOUCH})
    # Not violated but not-testable (which blame counts beside failures): every requirement one of
    # whose tests touches a session, and nothing else; none of them is failed.
    fails = frozenset({
        "STORE-005", "STORE-011", "STORE-013", "STORE-014", "STORE-018", "STORE-023", "STORE-024",
        "STORE-029", "STORE-030", "STORE-031", "STORE-033", "STORE-034", "STORE-036", "STORE-037",
    })  # fmt: skip
    source = f"{_ADK}/base_session_service.py"
    kind = "not-testable"

    def open_session_store(self, env: Any) -> Any:
        return _NoTouch.open(env)


class _CrashesOnNonObjectState(MemorySessionStore):
    """A state that is not an object reaches code that calls ``.keys()`` on it, and crashes."""

    def encode_state(self, state: object) -> str:
        if not isinstance(state, dict):
            state.keys()  # type: ignore[attr-defined]  # AttributeError, as ADK's create raises
        return super().encode_state(state)


class CrashesOnNonObjectState(Variant):
    """create and update_state with an array, a number or a string state crash (``AttributeError``).

    google-adk: both session services call ``.keys()`` on the state given to create. The crash is
    STORE-017's alone: STORE-033's precedence test makes the single-fault call first to learn
    whether the store sees the fault at all, and a crash there is not a precedence answer.
    """

    rows = frozenset({_ROW_ADK_NOT_JSON})
    fails = frozenset({"STORE-017"})
    source = f"{_ADK}/in_memory_session_service.py"
    kind = "crashed"

    def open_session_store(self, env: Any) -> Any:
        return _CrashesOnNonObjectState.open(env)


class _SchemaOnFirstCall(SQLiteSessionStore):
    """Each handle creates the schema on its first call, after checking that it is absent, without a lock between handles."""

    #: The open handles of this process on each file.  The wait between check and create is what
    #: lets two handles meet there; a handle alone on its file has nobody to meet, so it does not
    #: wait (a replay opens a new file for each of a hundred tests: 50 ms each was 8 s a replay).
    _handles: ClassVar[dict[Path, weakref.WeakSet[_SchemaOnFirstCall]]] = {}

    def __init__(self, env: Any) -> None:
        SessionStore.__init__(self, env)  # the file is opened, its schema not made
        self._file = (env.storage_dir / self.FILE_NAME).resolve()
        self._db = sqlite3.connect(self._file, isolation_level=None, check_same_thread=False, timeout=10.0)
        self._prepared = False
        self._handles.setdefault(self._file, weakref.WeakSet()).add(self)

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        if not self._prepared:  # under this handle's lock (transaction() holds it), not the backend's
            if self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sessions'").fetchone() is None:
                if any(h is not self and not h._closed for h in list(self._handles[self._file])):
                    time.sleep(0.05)  # the awaits between ADK's check and its CREATE TABLE
                self._db.executescript(_SCHEMA.replace("IF NOT EXISTS ", ""))
            self._prepared = True
        with super()._atomic():
            yield


class SchemaRaceOnANewFile(Variant):
    """Two handles whose first calls meet on a new file both create the schema, and one fails.

    google-adk ``DatabaseSessionService`` creates its tables on its first call; two services on one
    new SQLite file race, and the loser raises ``table ... already exists``.
    """

    rows = frozenset({_ROW_ADK_SCHEMA_RACE})
    fails = frozenset({"STORE-028"})
    #: Two replicas opening one new file race the same way, on whichever seed meets it first.
    may_fail = frozenset({"STORE-043"})
    source = f"{_ADK}/database_session_service.py"
    kind = "crashed"  # an exception that is no error answer
    reference = "sqlite"  # two handles over one backend: only the on-disk reference claims it

    def open_session_store(self, env: Any) -> Any:
        return _SchemaOnFirstCall.open(env)


class _SharesNestedState(MemorySessionStore):
    """create keeps a top-level copy of the state it was given: the objects inside stay the caller's."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._held: dict[str, dict[str, Any]] = {}

    def _as_held(self, record: dict[str, Any] | None) -> dict[str, Any] | None:
        if record is None or record["id"] not in self._held:
            return record
        return {**record, "state": copy.deepcopy(self._held[record["id"]])}

    def create(self, *, state: object = None, **kwargs: Any) -> dict[str, Any]:
        record = super().create(state=state, **kwargs)
        self._held[record["id"]] = dict(state) if isinstance(state, dict) else {}
        return record

    def get(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:
        return self._as_held(super().get(session_id, owner=owner))

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        return self._as_held(super().touch(session_id, owner=owner)) or {}

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any]:
        record = super().update_state(session_id, state, owner=owner)
        if record["id"] in self._held and isinstance(state, dict):
            self._held[record["id"]].update(copy.deepcopy(state))
        return self._as_held(record) or {}

    def delete(self, session_id: object, *, owner: object = None) -> None:
        super().delete(session_id, owner=owner)
        if isinstance(session_id, str) and super().get(session_id) is None:
            self._held.pop(session_id, None)

    def list(self, *, owner: object = None) -> builtins.list[dict[str, Any]]:
        return [self._as_held(r) or {} for r in super().list(owner=owner)]


class CreateSharesNestedState(Variant):
    """``create`` copies the state it was given one level deep, so a caller changing a list inside it changes the session.

    google-adk ``InMemorySessionService``: the ``Session`` it stores holds a shallow copy of the state.
    """

    rows = frozenset({_ROW_ADK_NESTED_STATE})
    fails = frozenset({"STORE-018"})
    source = f"{_ADK}/in_memory_session_service.py"

    def open_session_store(self, env: Any) -> Any:
        return _SharesNestedState.open(env)


#: Rows of store.md's upstream table where no upstream store behaves otherwise than STORE.
AGREES: dict[str, str] = {}
