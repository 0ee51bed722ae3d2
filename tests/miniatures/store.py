"""One broken STORE implementation per requirement of spec/requirements/store.yaml.

Each bug is the smallest override of the reference (:mod:`reference_impl.store`),
modelled where possible on a behaviour seen upstream: mcp-data-platform's memory and
Postgres stores (https://github.com/txn2/mcp-data-platform, ``pkg/session``), a2a-sdk's
database task store, agent-framework, google-adk.  ``also_fails`` names
the other requirements whose tests cannot help seeing the same bug; STORE-029
(the model-based test) sees most of them.
"""

from __future__ import annotations

import fnmatch
import inspect
import json
import secrets
import threading
import time
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from reference_impl._errors import InvalidArgument
from reference_impl.history import check_session_id
from reference_impl.store import (
    MemorySessionStore,
    NoTTLMemorySessionStore,
    Row,
    SessionExists,
    SessionNotFound,
    SessionStore,
    SessionStoreError,
)
from reference_impl.store_sqlite import SQLiteSessionStore
from tests.miniatures import MiniatureImplementation, cut_strings, declarer

if TYPE_CHECKING:
    from collections.abc import Collection

    from reference_impl.history import Environment


class StoreMiniature(MiniatureImplementation):
    """A STORE miniature: ``broken`` is a store class; it claims what that class claims."""

    def __init__(
        self,
        requirement: str,
        label: str,
        broken: type[SessionStore],
        *,
        also_fails: Collection[str] = (),
        may_fail: Collection[str] = (),
    ) -> None:
        doc = inspect.getdoc(broken) or ""
        super().__init__(requirement, label, doc=doc, claims=broken.claims, also_fails=also_fails, may_fail=may_fail)
        self.store = broken

    def open_session_store(self, env: Environment) -> SessionStore:
        return self.store.open(env)


#: ``@miniature(REQUIREMENT, also_fails=..., may_fail=...)`` above a broken class declares it.
miniature = declarer(StoreMiniature)


# --- ids ---------------------------------------------------------------------------------


@miniature("STORE-001", also_fails=(2, 3))
class MintsShortIds(MemorySessionStore):
    """Mints 16 hex digits (64 random bits), too short for the 22-character minimum."""

    def _mint(self, now: int) -> str:
        return secrets.token_hex(8)


@miniature("STORE-002")
class MintsCounterIds(MemorySessionStore):
    """Mints ids from a counter that starts again at 1 in every store: well-formed, but guessable."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        self._counter = 0

    def _mint(self, now: int) -> str:
        self._counter += 1
        return f"{self._counter:032x}"


@miniature("STORE-003")
class MintsHyphenatedUuids(MemorySessionStore):
    """Mints str(uuid4()): 36 characters with hyphens, as google-adk and agent-framework do."""

    def _mint(self, now: int) -> str:
        return str(uuid.uuid4())


@miniature("STORE-003")
class MintsPrefixedIds(MemorySessionStore):
    """Mints "session_" + 32 random hex digits: 40 characters, 128 random bits, and not the recommended form.

    Everything else is right, so the kit fails STORE-003 (a SHOULD) and nothing else: its entropy
    check for STORE-002 judges the varying positions only and lets a constant prefix through.
    """

    def _mint(self, now: int) -> str:
        return f"session_{secrets.token_hex(16)}"


@miniature("STORE-004")
class StripsIds(MemorySessionStore):
    """Trims whitespace from caller-supplied ids, so " a" and "a " both become "a"."""

    def create(self, *, session_id: object = None, **kwargs: Any) -> dict[str, Any]:
        if isinstance(session_id, str) and session_id.strip():
            session_id = session_id.strip()
        return super().create(session_id=session_id, **kwargs)


@miniature("STORE-005")
class EmptyIdMints(MemorySessionStore):
    """Treats an empty id in create as "mint one", as agent-framework's from_dict does."""

    def create(self, *, session_id: object = None, **kwargs: Any) -> dict[str, Any]:
        return super().create(session_id=session_id or None, **kwargs)


@miniature("STORE-006", also_fails=(25, 29))
class DuplicateCreateReplaces(MemorySessionStore):
    """Create on a live id silently replaces the session (mcp-data-platform's MemoryStore and Postgres upsert)."""

    def create(self, *, session_id: object = None, **kwargs: Any) -> dict[str, Any]:
        if isinstance(session_id, str):
            with self.transaction():
                self.remove(session_id)
        return super().create(session_id=session_id, **kwargs)


@miniature("STORE-006", also_fails=(25, 29))
class OtherOwnerTakesOver(MemorySessionStore):
    """Create by a different owner replaces the live session: the primary key ignores the owner (a2a-sdk)."""

    def create(self, *, session_id: object = None, owner: object = None, **kwargs: Any) -> dict[str, Any]:
        if isinstance(session_id, str):
            with self.transaction():
                held = self.load(session_id)
                if held is not None and held.owner != owner:
                    self.remove(session_id)
        return super().create(session_id=session_id, owner=owner, **kwargs)


@miniature("STORE-007")
class CoercesTtl(MemorySessionStore):
    """Passes ttl_seconds through float(), so "60" and True are accepted as TTLs."""

    def create(self, *, ttl_seconds: object = None, **kwargs: Any) -> dict[str, Any]:
        if isinstance(ttl_seconds, (str, bool)):
            ttl_seconds = float(ttl_seconds)
        return super().create(ttl_seconds=ttl_seconds, **kwargs)


_NO_STATE: Any = object()


@miniature("STORE-008")
class NullStateRejected(MemorySessionStore):
    """Tells a state passed as None from one left out: create(state=None) fails with invalid_argument, not {}."""

    def create(self, *, state: object = _NO_STATE, **kwargs: Any) -> dict[str, Any]:
        if state is None:
            msg = "state must be a JSON object; leave it out for {}"
            raise InvalidArgument(msg)
        return super().create(state=None if state is _NO_STATE else state, **kwargs)


# --- time --------------------------------------------------------------------------------


@miniature("STORE-008", also_fails=(21, 29))
class WholeSecondCreatedAt(MemorySessionStore):
    """Stores created_at in whole seconds (a DATETIME column without fractions)."""

    def put(self, row: Row) -> None:
        super().put(replace(row, created_us=row.created_us // 1_000_000 * 1_000_000))

    def create(self, **kwargs: Any) -> dict[str, Any]:
        record = super().create(**kwargs)
        found = self.get(record["id"])
        return record if found is None else found


@miniature("STORE-009", also_fails=(11, 12, 14, 16, 20, 22, 29))
class LiveAtExpiry(MemorySessionStore):
    """A session is still live at exactly expires_at: `now > expires_at` means expired (Go's time.After)."""

    def is_live(self, row: Row, now_us: int) -> bool:
        return row.expires_us is None or now_us <= row.expires_us


# STORE-031 and STORE-039 since the store.ttl split: the test of an invalid owner at create moved
# from STORE-007 to STORE-031, and the restart's expiry test from STORE-027 (not claimed here) to
# STORE-039; both read the session back with get, as the other tests listed do.
@miniature("STORE-010", also_fails=(7, 9, 13, 14, 16, 17, 19, 24, 29, 31, 39))
class GetRaisesWhenMissing(MemorySessionStore):
    """get of a missing or expired session raises SessionNotFound instead of returning None."""

    def get(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:
        found = super().get(session_id, owner=owner)
        if found is None:
            raise SessionNotFound(f"no session {session_id!r}")
        return found


@miniature("STORE-011", also_fails=(22, 29))
class CleanupKeepsTheBoundary(MemorySessionStore):
    """cleanup removes a session only once now is past expires_at, while get already hides it (MemoryStore)."""

    def remove_expired(self, now_us: int) -> int:
        dead = [row.id for row in self.rows() if row.expires_us is not None and now_us > row.expires_us]
        for sid in dead:
            self.remove(sid)
        return len(dead)


@miniature("STORE-012", also_fails=(29,))
class ExpiredIdConflicts(MemorySessionStore):
    """create refuses an id while an expired session still holds it and cleanup has not run yet."""

    def holds(self, row: Row, now_us: int) -> bool:
        return True


@miniature("STORE-013", also_fails=(29,))
class TouchTruncatesTtl(MemorySessionStore):
    """touch extends by the TTL truncated to whole seconds, so a 0.25 s TTL expires at once (Postgres store)."""

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        record = super().touch(session_id, owner=owner)
        with self.transaction():
            row = self.load(record["id"])
            if row is None:
                return record
            row = replace(row, expires_us=row.active_us + (row.ttl_us or 0) // 1_000_000 * 1_000_000)
            self.put(row)
        return row.record()


@miniature("STORE-014", also_fails=(11, 29))
class TouchRevives(MemorySessionStore):
    """touch of an expired session that cleanup has not removed yet brings it back (MemoryStore)."""

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        with self.transaction() as now:
            row = self.load(session_id) if isinstance(session_id, str) else None
            if row is not None and not self.is_live(row, now):
                self.put(replace(row, expires_us=now + 1))
        return super().touch(session_id, owner=owner)


# --- state -------------------------------------------------------------------------------


@miniature("STORE-015", also_fails=(18, 26, 29))
class UpdateReplaces(MemorySessionStore):
    """update_state replaces the whole state instead of merging into it."""

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any]:
        self._check_open()
        text = self.encode_state(state)
        with self._visible_row(session_id, owner) as (row, _):
            fresh = replace(row, state=text)
            self.put(fresh)
            return fresh.record()


@miniature("STORE-016", also_fails=(24, 29))
class UpdateMissingSucceeds(MemorySessionStore):
    """update_state of a missing or expired session returns None: a 0-row UPDATE is not an error (both Go stores)."""

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any] | None:  # type: ignore[override]
        try:
            return super().update_state(session_id, state, owner=owner)
        except SessionNotFound:
            return None


@miniature("STORE-017")
class LenientState(MemorySessionStore):
    """Serialises state with json.dumps(default=str): NaN is kept, bytes and non-string keys are stringified."""

    def encode_state(self, state: object) -> str:
        if not isinstance(state, dict):
            return super().encode_state(state)
        return json.dumps(state, default=str)


@miniature("STORE-018")
class HandsOutStoredRecord(MemorySessionStore):
    """get returns the record object it keeps for the session, so a caller's edits change the store (MemoryStore)."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        self._records: dict[str, tuple[Row, dict[str, Any]]] = {}

    def get(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:
        row = self._visible(session_id, owner, required=False)
        if row is None:
            return None
        kept = self._records.get(row.id)
        if kept is None or kept[0] is not row:
            kept = (row, row.record())
            self._records[row.id] = kept
        return kept[1]


# --- delete, list, cleanup, close -------------------------------------------------------


@miniature("STORE-019", also_fails=(24, 29))
class DeleteMissingRaises(MemorySessionStore):
    """delete of a missing, expired or invisible session raises SessionNotFound."""

    def delete(self, session_id: object, *, owner: object = None) -> None:
        self._visible(session_id, owner, required=True)
        super().delete(session_id, owner=owner)


@miniature("STORE-020", also_fails=(11, 14, 29))
class ListIncludesExpired(MemorySessionStore):
    """list returns every stored session, including expired ones cleanup has not removed yet."""

    def list(self, *, owner: object = None) -> list[dict[str, Any]]:
        super().list(owner=owner)  # validates the owner
        with self.transaction():
            rows = [r for r in self.rows() if owner is None or r.owner == owner]
        return [r.record() for r in sorted(rows, key=lambda r: (r.created_us, r.id))]


@miniature("STORE-021")
class ListById(MemorySessionStore):
    """list orders sessions by id, not by creation time."""

    def list(self, *, owner: object = None) -> list[dict[str, Any]]:
        return sorted(super().list(owner=owner), key=lambda r: r["id"])


# Until 0.2.0 this was STORE-022's miniature, also failing STORE-011: the integer count is
# STORE-038's since the store.ttl split, and the tests of STORE-011 and STORE-022, which read the
# count, do not judge a count that is no integer.
@miniature("STORE-038", also_fails=(29,))
class CleanupCountsNothing(MemorySessionStore):
    """cleanup removes the expired sessions but returns None, like Go's Cleanup(ctx) error."""

    def cleanup(self) -> int:
        super().cleanup()
        return None  # type: ignore[return-value]


@miniature("STORE-022", also_fails=(29,))
class CleanupRemovesOneAtATime(MemorySessionStore):
    """cleanup removes at most one expired session per call and counts it (a DELETE … LIMIT 1 kept short)."""

    def remove_expired(self, now_us: int) -> int:
        dead = [row.id for row in self.rows() if not self.is_live(row, now_us)][:1]
        for sid in dead:
            self.remove(sid)
        return len(dead)


@miniature("STORE-038")
class CleanupDropsIdleSessions(MemorySessionStore):
    """cleanup also removes live sessions idle for an hour, an idle timeout of its own beside the TTL."""

    def remove_expired(self, now_us: int) -> int:
        dead = [r.id for r in self.rows() if not self.is_live(r, now_us) or now_us - r.active_us >= 3_600_000_000]
        for sid in dead:
            self.remove(sid)
        return len(dead)


@miniature("STORE-023")
class CloseOnlyStopsCleanup(MemorySessionStore):
    """close only stops a background cleanup routine; every operation keeps working afterwards."""

    def close(self) -> None:
        pass  # the routine it would stop was never started


@miniature("STORE-024", also_fails=(19, 29))
class OwnerIgnored(MemorySessionStore):
    """Ignores the owner of a call once validated: every caller sees every session, as the Go Store interface does."""

    def is_visible(self, row: Row, owner: str | None) -> bool:
        return True

    def list(self, *, owner: object = None) -> list[dict[str, Any]]:
        return [r for r in super().list(owner=owner) if owner is None or r["owner"] == owner]  # list alone filters


# --- concurrency -------------------------------------------------------------------------


@miniature("STORE-025")
class CheckThenCreate(MemorySessionStore):
    """create checks for the id and inserts in two steps, so concurrent creates of one id all succeed."""

    def create(self, *, session_id: object = None, **kwargs: Any) -> dict[str, Any]:
        if isinstance(session_id, str) and self.get(session_id) is None:
            time.sleep(0.01)  # widens the race window; the kit's clock is not involved
            with self.transaction():
                self.remove(session_id)  # "insert or replace", believing the id free
        return super().create(session_id=session_id, **kwargs)


@miniature("STORE-026")
class ReadThenWriteState(MemorySessionStore):
    """update_state reads the state, merges outside any lock, then writes it back: concurrent updates lose keys."""

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any]:
        self._check_open()
        self.encode_state(state)
        before = self.get(session_id, owner=owner)
        time.sleep(0.01)  # widens the race window; the kit's clock is not involved
        if before is None or not isinstance(state, dict):
            return super().update_state(session_id, state, owner=owner)
        with self.transaction():
            row = self.load(before["id"])
            if row is not None:
                self.put(replace(row, state="{}"))
        return super().update_state(session_id, {**before["state"], **state}, owner=owner)


# --- backends ----------------------------------------------------------------------------


@miniature("STORE-027", also_fails=(29,))
class PersistentInNameOnly(MemorySessionStore):
    """Claims store.persistent but keeps its sessions in process memory, so a restart loses them."""

    claims: ClassVar[frozenset[str]] = MemorySessionStore.claims | {"store.persistent"}


@miniature("STORE-028")
class SnapshotAtOpen(SQLiteSessionStore):
    """Reads come from a snapshot of the file taken when the handle opened; writes go through to the file.

    One handle is consistent and survives restarts, but two handles never see each other's writes.
    It does not claim ``store.multi-replica``: two replicas are two handles in two processes, so
    the bug would fail STORE-040 … STORE-043 as well, and this miniature is about one process.
    """

    claims = SQLiteSessionStore.claims - {"store.multi-replica"}

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        self._snapshot: dict[str, Row] = {}
        self._snapshot_lock = threading.Lock()
        with self._snapshot_lock:
            self._snapshot = {row.id: row for row in super().rows()}

    def load(self, session_id: str) -> Row | None:
        return self._snapshot.get(session_id)

    def rows(self) -> list[Row]:
        return list(self._snapshot.values())

    def put(self, row: Row) -> None:
        super().put(row)
        self._snapshot[row.id] = row

    def remove(self, session_id: str) -> None:
        super().remove(session_id)
        self._snapshot.pop(session_id, None)

    def remove_expired(self, now_us: int) -> int:
        super().remove_expired(now_us)
        dead = [sid for sid, row in self._snapshot.items() if not self.is_live(row, now_us)]
        for sid in dead:
            del self._snapshot[sid]
        return len(dead)


# --- added in 0.2.0: owners, handles, errors, restarts ------------------------------------


# Not STORE-008 since the store.ttl split: its test reads the new session back scoped to its owner,
# so this bug, an unscoped call's, no longer shows there.
@miniature("STORE-030", also_fails=(6, 12, 15, 19, 20, 24, 25, 29))
class NullOwnerMeansAnonymous(MemorySessionStore):
    """A call without an owner sees only anonymous sessions: WHERE owner IS NULL instead of no condition."""

    def is_visible(self, row: Row, owner: str | None) -> bool:
        return row.owner == owner


@miniature("STORE-031")
class ScopedOwnerNotValidated(MemorySessionStore):
    """Validates the owner at create only: a scoped call with owner "" or 7 simply finds no session."""

    def get(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:
        if owner is not None and not _valid_owner(owner):
            super().get(session_id)  # the id is still checked
            return None
        return super().get(session_id, owner=owner)

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        if owner is not None and not _valid_owner(owner):
            raise self._not_found(str(session_id))
        return super().touch(session_id, owner=owner)

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any]:
        if owner is not None and not _valid_owner(owner):
            self.encode_state(state)
            raise self._not_found(str(session_id))
        return super().update_state(session_id, state, owner=owner)

    def delete(self, session_id: object, *, owner: object = None) -> None:
        if owner is not None and not _valid_owner(owner):
            return
        super().delete(session_id, owner=owner)

    def list(self, *, owner: object = None) -> list[dict[str, Any]]:
        if owner is not None and not _valid_owner(owner):
            return []
        return super().list(owner=owner)


def _valid_owner(owner: object) -> bool:
    try:
        check_session_id(owner)
    except InvalidArgument:
        return False
    return True


#: Every handle opened over each storage directory, as CloseClosesTheBackend shares them.
_HANDLES: dict[Any, list[SQLiteSessionStore]] = {}


@miniature("STORE-032")
class CloseClosesTheBackend(SQLiteSessionStore):
    """Closing one handle closes every handle over its storage, as a pool shared by all handles and closed by the first."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        handles = _HANDLES.setdefault(env.storage_dir, [])
        handles[:] = [h for h in handles if not h._closed]
        handles.append(self)
        self._pool = handles

    def close(self) -> None:
        for handle in list(self._pool):
            SQLiteSessionStore.close(handle)


@miniature("STORE-033")
class ConflictBeforeValidation(MemorySessionStore):
    """create of a live id answers conflict before validating the rest: the unique index fires first."""

    def create(self, *, session_id: object = None, **kwargs: Any) -> dict[str, Any]:
        if isinstance(session_id, str) and self.get(session_id) is not None:
            msg = f"session {session_id!r} already exists"
            raise SessionExists(msg)
        return super().create(session_id=session_id, **kwargs)


#: Storage directories whose lock file a StorageLockedAfterClose store left behind.
_LOCKED: set[Any] = set()


@miniature("STORE-034", also_fails=(2,))
class StorageLockedAfterClose(MemorySessionStore):
    """Locks its storage directory on open and never releases it, so opening again after a restart fails."""

    def __init__(self, env: Environment) -> None:
        if env.storage_dir in _LOCKED:
            msg = f"{env.storage_dir} is locked by another store (a stale lock file)"
            raise StorageLocked(msg)
        _LOCKED.add(env.storage_dir)
        super().__init__(env)


class StorageLocked(SessionStoreError):
    """The storage is held by another store."""

    error_kind = "unavailable"


# --- added in 0.2.0: what store.ttl split off --------------------------------------------


class _EveryRecord(MemorySessionStore):
    """Passes every record an operation returns through :meth:`shown` before it leaves the store."""

    def shown(self, record: dict[str, Any]) -> dict[str, Any]:
        return record

    def create(self, **kwargs: Any) -> dict[str, Any]:
        return self.shown(super().create(**kwargs))

    def get(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:
        found = super().get(session_id, owner=owner)
        return None if found is None else self.shown(found)

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        return self.shown(super().touch(session_id, owner=owner))

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any]:
        return self.shown(super().update_state(session_id, state, owner=owner))

    def list(self, *, owner: object = None) -> list[dict[str, Any]]:
        return [self.shown(r) for r in super().list(owner=owner)]


@miniature("STORE-035")
class TtlInMilliseconds(_EveryRecord):
    """Reports ttl_seconds in milliseconds (its TTL column, returned unscaled); it expires on time."""

    def shown(self, record: dict[str, Any]) -> dict[str, Any]:
        return {**record, "ttl_seconds": round(record["ttl_seconds"] * 1000)}


@miniature("STORE-036")
class InstantsWithOffset(_EveryRecord):
    """Writes instants with "+00:00" instead of "Z" (Python's isoformat): the same instants, not the record's form."""

    def shown(self, record: dict[str, Any]) -> dict[str, Any]:
        instants = ("created_at", "last_active_at", "expires_at")
        return {k: v.replace("Z", "+00:00") if k in instants else v for k, v in record.items()}


@miniature("STORE-036")
class NeverExpiresSentinel(NoTTLMemorySessionStore, _EveryRecord):
    """A store without expiry that writes expires_at as 9999-12-31T23:59:59Z, a far future meaning "never"."""

    def shown(self, record: dict[str, Any]) -> dict[str, Any]:
        return {**record, "expires_at": "9999-12-31T23:59:59Z"}


@miniature("STORE-037", also_fails=(29,))
class TouchMovesExpiryOnly(MemorySessionStore):
    """touch re-arms the expiry but leaves last_active_at as it was, as a cache's EXPIRE does."""

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        with self._visible_row(session_id, owner) as (row, now):
            fresh = replace(row, expires_us=now + (row.ttl_us or 0))
            self.put(fresh)
            return fresh.record()


@miniature("STORE-039", also_fails=(29,))
class RearmsTtlOnRestart(SQLiteSessionStore):
    """A restart re-arms every session's full TTL from the instant it opens; the records still show the old expires_at.

    It does not claim ``store.multi-replica``: a second replica opening would re-arm too, which is
    STORE-042's concern; this miniature is about one store restarting.
    """

    claims = SQLiteSessionStore.claims - {"store.multi-replica"}

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        now = self._now_us()
        self._rearmed = {row.id: now + (row.ttl_us or 0) for row in self.rows()}

    def is_live(self, row: Row, now_us: int) -> bool:
        return now_us < self._rearmed.get(row.id, row.expires_us or 0)

    def put(self, row: Row) -> None:
        self._rearmed.pop(row.id, None)
        super().put(row)


# --- the model ---------------------------------------------------------------------------


@miniature("STORE-029")
class SoftDelete(MemorySessionStore):
    """delete only marks the row deleted; creating the id again revives that row, keeping its old created_at."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        self._tombstones: dict[str, Row] = {}

    def delete(self, session_id: object, *, owner: object = None) -> None:
        row = self.load(session_id) if isinstance(session_id, str) else None
        super().delete(session_id, owner=owner)
        if row is not None and self.load(row.id) is None:
            self._tombstones[row.id] = row

    def create(self, **kwargs: Any) -> dict[str, Any]:
        record = super().create(**kwargs)
        old = self._tombstones.pop(record["id"], None)
        if old is None:
            return record
        with self.transaction():
            row = self.load(record["id"])
            if row is None:
                return record
            row = replace(row, created_us=old.created_us)
            self.put(row)
        return row.record()


@miniature("STORE-029")
class TouchByOwner(MemorySessionStore):
    """touch extends every live session of the touched session's owner: WHERE owner = ? instead of WHERE id = ?."""

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        record = super().touch(session_id, owner=owner)
        with self.transaction() as now:
            for row in self.rows():
                if row.id != record["id"] and row.owner == record["owner"] and self.is_live(row, now):
                    self.put(row.touched(now))
        return record


# --- replicas in separate processes --------------------------------------------------------
#
# Each keeps something in its process's memory that belongs in the shared database. Handles in
# one process share it, so every single-process requirement (STORE-028 included) still passes;
# only a second replica, in a process of its own, sees the difference.

#: (storage directory, session id) -> what one process remembers of it, per miniature.
_PER_PROCESS: dict[str, dict[tuple[str, str], Any]] = {}


class _ReplicaMemory(SQLiteSessionStore):
    """An SQLite store with a per-process memory, keyed by storage directory and session id."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        self._where = str(env.storage_dir)
        self._memory = _PER_PROCESS.setdefault(type(self).__name__, {})

    def key(self, session_id: str) -> tuple[str, str]:
        return (self._where, session_id)


@miniature("STORE-040")
class StateCachedPerReplica(_ReplicaMemory):
    """Answers each session's state from a per-process cache its own reads and writes fill: another replica's update never shows."""

    def load(self, session_id: str) -> Row | None:
        row = super().load(session_id)
        if row is None:
            return None
        cached = self._memory.setdefault(self.key(session_id), row.state)
        return replace(row, state=cached)

    def put(self, row: Row) -> None:
        super().put(row)
        self._memory[self.key(row.id)] = row.state

    def remove(self, session_id: str) -> None:
        super().remove(session_id)
        self._memory.pop(self.key(session_id), None)


@miniature("STORE-041")
class DeletesOnClose(_ReplicaMemory):
    """Write-behind deletes: hides a deleted session in its own process at once, removes the row only at close."""

    def load(self, session_id: str) -> Row | None:
        return None if self.key(session_id) in self._memory else super().load(session_id)

    def rows(self) -> list[Row]:
        return [row for row in super().rows() if self.key(row.id) not in self._memory]

    def put(self, row: Row) -> None:
        self._memory.pop(self.key(row.id), None)
        super().put(row)

    def remove(self, session_id: str) -> None:
        self._memory[self.key(session_id)] = True

    def remove_expired(self, now_us: int) -> int:
        self._flush()
        return super().remove_expired(now_us)

    def _flush(self) -> None:
        for where, sid in [k for k in self._memory if k[0] == self._where]:
            self._db.execute("DELETE FROM sessions WHERE id = ?", (sid,))
            del self._memory[(where, sid)]

    def _release(self) -> None:
        self._flush()
        super()._release()


@miniature("STORE-042")
class ExpiryCachedPerReplica(_ReplicaMemory):
    """Judges expiry by the expires_at its own process last wrote, so another replica's touch does not extend a session here."""

    def put(self, row: Row) -> None:
        super().put(row)
        self._memory[self.key(row.id)] = row.expires_us

    def is_live(self, row: Row, now_us: int) -> bool:
        cached = self._memory.get(self.key(row.id), row.expires_us)
        return cached is None or now_us < int(cached)  # None: a store without expiry (store.ttl)


@miniature("STORE-043")
class UniqueIdsPerProcess(_ReplicaMemory):
    """Checks an id against the ids its own process created, then writes INSERT OR REPLACE: another replica's live session is overwritten."""

    def holds(self, row: Row, now_us: int) -> bool:
        return self.key(row.id) in self._memory and super().holds(row, now_us)

    def put(self, row: Row) -> None:
        super().put(row)
        self._memory[self.key(row.id)] = True


@miniature("STORE-044", also_fails=(27, 29))
class DeletesOwnSessionsOnClose(_ReplicaMemory):
    """At shutdown, deletes every session this handle created, as a single-process server tidying up after itself would."""

    def create(self, **kwargs: Any) -> dict[str, Any]:
        record = super().create(**kwargs)
        self.__dict__.setdefault("created", []).append(record["id"])
        return record

    def _release(self) -> None:
        for sid in self.__dict__.get("created", []):
            self._db.execute("DELETE FROM sessions WHERE id = ?", (sid,))
        super()._release()


# --- blind spots of issue 11 -------------------------------------------------------------


@miniature("STORE-004")
class KeysIdsByTheir128FirstCharacters(MemorySessionStore):
    """Keys sessions by the first 128 characters of their id, as a VARCHAR(128) key column with truncation would: the record keeps the whole id."""

    def load(self, session_id: str) -> Row | None:
        return self._rows.get(session_id[:128])

    def put(self, row: Row) -> None:
        self._rows[row.id[:128]] = row

    def remove(self, session_id: str) -> None:
        self._rows.pop(session_id[:128], None)


@miniature("STORE-024")
class MatchesOwnersAsGlobs(MemorySessionStore):
    """Matches a scoped call's owner against a session's owner as a glob pattern, as a Redis SCAN MATCH on owner keys would: owner "a*" sees "ab"'s sessions."""

    def is_visible(self, row: Row, owner: str | None) -> bool:
        return owner is None or fnmatch.fnmatchcase(row.owner or "", owner)


@miniature("STORE-008", also_fails=(15,))
class CutsLongStateStrings(MemorySessionStore):
    """Cuts every string in a state to 65,535 characters, as a TEXT column of that size would, and reports no error."""

    def encode_state(self, state: object) -> str:
        return super().encode_state(cut_strings(state, 65_535))


@miniature("STORE-028", may_fail=(29,))
class ExpiryCachedPerHandle(SQLiteSessionStore):
    """Judges expiry by the expires_at this handle last wrote, so a touch through another handle over the same file does not extend a session here.

    It does not claim ``store.multi-replica``: across processes the same cache is STORE-042's bug.
    The model (STORE-029) opens a second handle under ``store.shared-backend`` and meets it on some
    seeds only (one run of the whole selection did).
    """

    claims = SQLiteSessionStore.claims - {"store.multi-replica"}

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        self._written: dict[str, int | None] = {}

    def put(self, row: Row) -> None:
        super().put(row)
        self._written[row.id] = row.expires_us

    def is_live(self, row: Row, now_us: int) -> bool:
        expires = self._written.get(row.id, row.expires_us)
        return expires is None or now_us < expires
