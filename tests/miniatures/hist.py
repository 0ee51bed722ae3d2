"""One broken HIST implementation per requirement of spec/requirements/hist.yaml.

Each bug is the smallest override of the reference implementation
(:mod:`reference_impl.history`), modelled where possible on a bug seen upstream
(openai/openai-agents-python, ``src/agents/memory/``: https://github.com/openai/openai-agents-python).  ``also_fails`` names the other
requirements whose tests cannot help seeing the same bug; HIST-027 (the model-based
test) sees most of them.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import random
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import reference_impl
from conformance._values import depth
from reference_impl._errors import HistoryError, InvalidArgument, StoreClosed
from reference_impl.history import (
    HistorySession,
    HistoryStore,
    MemoryHistory,
    check_limit,
    encode_batch,
    encode_item,
)
from reference_impl.history_sqlite import SQLiteHistory
from tests.miniatures import MiniatureImplementation, declarer

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from reference_impl.history import Environment, Item


class HistMiniature(MiniatureImplementation):
    """A HIST miniature: ``broken`` is a store class, or a handle class to put on ``base``."""

    def __init__(
        self,
        requirement: str,
        label: str,
        broken: type[HistoryStore | HistorySession],
        *,
        base: type[HistoryStore] = MemoryHistory,
        claims: Collection[str] = reference_impl.memory.claims,
        also_fails: Collection[str] = (),
        may_fail: Collection[str] = (),
    ) -> None:
        # Only HIST claims: the reference also claims other areas, which a HIST miniature does not open.
        claims = [c for c in claims if c.partition(".")[0] == "hist"]
        super().__init__(
            requirement,
            label,
            doc=inspect.getdoc(broken) or "",
            claims=claims,
            also_fails=also_fails,
            may_fail=may_fail,
        )
        if issubclass(broken, HistorySession):
            self.store: type[HistoryStore] = type(f"{broken.__name__}Store", (base,), {"session_class": broken})
        else:
            self.store = broken

    def open_history(self, env: Environment) -> HistoryStore:
        return self.store.open(env)


#: ``@miniature(REQUIREMENT, also_fails=..., may_fail=...)`` above a broken class declares it.
miniature = declarer(HistMiniature)


def _map_numbers(value: Any, change: Callable[[Any], Any]) -> Any:
    if isinstance(value, dict):
        return {key: _map_numbers(element, change) for key, element in value.items()}
    if isinstance(value, list):
        return [_map_numbers(element, change) for element in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return change(value)
    return value


# --- reading -----------------------------------------------------------------------------


@miniature("HIST-001", also_fails=(8, 9, 16, 18, 27))
class NewestFirst(MemoryHistory):
    """get_items() without a limit returns every item newest first (ORDER BY id DESC, never re-reversed)."""

    def load(self, session_id: str, limit: int | None) -> list[str]:
        rows = super().load(session_id, limit)
        return rows[::-1] if limit is None else rows


@miniature("HIST-002", also_fails=(8, 27))
class LimitOldest(MemoryHistory):
    """get_items(limit=N) returns the oldest N items instead of the newest N."""

    def load(self, session_id: str, limit: int | None) -> list[str]:
        rows = super().load(session_id, None)
        return rows if limit is None else rows[:limit]


@miniature("HIST-003", also_fails=(6, 27))
class LimitZeroReturnsAll(MemoryHistory):
    """get_items(limit=0) returns every item: the store tests the limit for truthiness (`if limit:`)."""

    def load(self, session_id: str, limit: int | None) -> list[str]:
        return super().load(session_id, limit or None)


@miniature("HIST-004", also_fails=(6, 7, 27))
class LimitBeyondRaises(MemoryHistory):
    """get_items(limit=N) raises IndexError when N exceeds the number of stored items."""

    def load(self, session_id: str, limit: int | None) -> list[str]:
        rows = super().load(session_id, None)
        if limit is not None and limit > len(rows):
            msg = f"limit {limit} is beyond the {len(rows)} items stored"
            raise IndexError(msg)
        return super().load(session_id, limit)


@miniature("HIST-005", base=SQLiteHistory)
class NegativeLimitReturnsAll(HistorySession):
    """A negative limit is handed to SQLite unchecked, where LIMIT -1 means "no limit": every item comes back.

    openai-agents keeps this on purpose for its SQLite sessions (#4994).
    """

    def get_items(self, limit: object = None) -> list[Item]:
        if isinstance(limit, int) and not isinstance(limit, bool) and limit < 0:
            self._check_open()
            return [json.loads(text) for text in self._store.load(self.session_id, limit)]
        return super().get_items(limit)


@miniature("HIST-006")
class ExplicitZeroYieldsToDefault(HistorySession):
    """An explicit get_items(limit=0) falls back to the default limit, as `limit or default_limit` does."""

    def get_items(self, limit: object = None) -> list[Item]:
        if limit == 0 and type(limit) is int and self.default_limit is not None:
            limit = None
        return super().get_items(limit)


@miniature("HIST-007", also_fails=(17, 19, 27))
class PopUnknownRaises(MemoryHistory):
    """pop_item() on a session id that was never written (or was cleared) raises KeyError instead of returning None."""

    def pop(self, session_id: str) -> str | None:
        with self.locked():
            rows = self._sessions[session_id]
            return rows.pop() if rows else None


@miniature("HIST-008", also_fails=(1, 2, 4, 9, 16, 18, 27))
class SameInstantShuffled(MemoryHistory):
    """Orders items by the clock's timestamp, ties broken by a random uuid4 (google-adk, openai-agents #1900).

    The kit's clock stands still during a test, so items come back shuffled.  The uuids come from a
    generator seeded per store, so that the shuffle, and what the kit catches, is the same every run.
    """

    clock: Any  # the kit's clock, from env.clock

    @classmethod
    def open(cls, env: Environment) -> SameInstantShuffled:
        store = cls()
        store.clock = env.clock
        return store

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, list[tuple[Any, str]]] = {}
        self._uuids = random.Random(1900)

    def append(self, session_id: str, texts: list[str]) -> None:
        with self.locked():
            now = self.clock.now()
            rows = list(zip(self._keys.get(session_id, []), self._sessions.get(session_id, []), strict=True))
            rows += [((now, uuid.UUID(int=self._uuids.getrandbits(128), version=4).hex), text) for text in texts]
            rows.sort(key=lambda row: row[0])
            self._keys[session_id] = [key for key, _ in rows]
            self._sessions[session_id] = [text for _, text in rows]

    def pop(self, session_id: str) -> str | None:
        with self.locked():
            rows = self._sessions.get(session_id)
            if not rows:
                return None
            self._keys[session_id].pop()
            return rows.pop()

    def clear(self, session_id: str) -> None:
        super().clear(session_id)
        with self.locked():
            self._keys.pop(session_id, None)


# --- writing -----------------------------------------------------------------------------


@miniature("HIST-009")
class BatchesInterleave(MemoryHistory):
    """add_items() appends one item at a time, releasing the lock between items (RPUSH without MULTI).

    Concurrent batches interleave.
    """

    def append(self, session_id: str, texts: list[str]) -> None:
        for text in texts:
            with self.locked():
                self._sessions.setdefault(session_id, []).append(text)
            time.sleep(0.001)


@miniature("HIST-010")
class StoresValidPrefix(HistorySession):
    """add_items() validates and stores one item at a time, so a bad item leaves the items before it stored."""

    def add_items(self, items: object) -> None:
        if not isinstance(items, list):
            super().add_items(items)
            return
        self._check_open()
        for index, item in enumerate(items):
            self._store.append(self.session_id, [encode_item(item, f"items[{index}]")])


@miniature("HIST-011", also_fails=(27,))
class EmptyBatchRaises(HistorySession):
    """add_items([]) raises InvalidArgument instead of doing nothing."""

    def add_items(self, items: object) -> None:
        self._check_open()
        if items == []:
            raise InvalidArgument("add_items needs at least one item")
        super().add_items(items)


@miniature("HIST-012")
class StringifiesNonJSON(HistorySession):
    """Writes items with json.dumps(default=str), allowing NaN: bytes and other objects are stored as strings.

    openai-agents' EncryptedSession does this.
    """

    def add_items(self, items: object) -> None:
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            super().add_items(items)  # the shape of the batch is still checked
            return
        self._check_open()
        self._store.append(self.session_id, [json.dumps(item, default=str) for item in items])


@miniature("HIST-013")
class AcceptsAnyValue(HistorySession):
    """Accepts any JSON value as an item (a string, a number, an array, null), not only JSON objects."""

    def add_items(self, items: object) -> None:
        if not isinstance(items, list):
            super().add_items(items)
            return
        self._check_open()
        for index, item in enumerate(items):
            encode_item({"item": item}, f"items[{index}]")  # the values are checked, the object shape is not
        self._store.append(self.session_id, [json.dumps(item) for item in items])


@miniature("HIST-014")
class RoundsFloats(HistorySession):
    """Stores every float rounded to 6 decimal places (like ujson's double_precision): 5e-324 comes back as 0.0."""

    def add_items(self, items: object) -> None:
        if isinstance(items, list):
            items = [_map_numbers(item, lambda n: round(n, 6) if isinstance(n, float) else n) for item in items]
        super().add_items(items)


def _as_double(number: float) -> float:
    return float(number) if isinstance(number, int) and abs(number) > 2**53 - 1 else number


@miniature("HIST-015")
class BigIntegersAsDoubles(HistorySession):
    """Stores integers beyond +/-(2**53 - 1) as the nearest double, as a JavaScript store would.

    2**53 + 1 reads back as 9007199254740992.0.
    """

    def add_items(self, items: object) -> None:
        if isinstance(items, list):
            items = [_map_numbers(item, _as_double) for item in items]
        super().add_items(items)


#: Firestore's limit on nested maps and arrays (https://firebase.google.com/docs/firestore/quotas).
_FIRESTORE_MAX_DEPTH = 20


@miniature("HIST-029")
class RejectsDeepItems(HistorySession):
    """Refuses items nested deeper than 20 levels with InvalidArgument, Firestore's limit for maps and arrays.

    A store that maps items member for member onto Firestore documents inherits it; the data model
    guarantees 64 levels.
    """

    def add_items(self, items: object) -> None:
        if isinstance(items, list):
            for index, item in enumerate(items):
                if depth(item) > _FIRESTORE_MAX_DEPTH:
                    self._check_open()
                    msg = f"items[{index}] is nested deeper than {_FIRESTORE_MAX_DEPTH} levels"
                    raise InvalidArgument(msg)
        super().add_items(items)


# --- pop and clear -----------------------------------------------------------------------


@miniature("HIST-016", also_fails=(8, 18, 27))
class PopOldest(MemoryHistory):
    """pop_item() removes and returns the oldest item instead of the newest."""

    def pop(self, session_id: str) -> str | None:
        with self.locked():
            rows = self._sessions.get(session_id)
            return rows.pop(0) if rows else None


@miniature("HIST-017", also_fails=(18, 27))
class PopEmptiedRaises(MemoryHistory):
    """pop_item() raises IndexError (list.pop on an empty list) once pops have emptied a session it knows.

    A session it never saw still pops None.
    """

    def pop(self, session_id: str) -> str | None:
        with self.locked():
            if session_id not in self._sessions:
                return None
            return self._sessions[session_id].pop()


@miniature("HIST-018")
class PopRace(MemoryHistory):
    """pop_item() reads the newest item, lets go of the lock, then deletes it by identity.

    Concurrent pops return the same item (openai-agents #4202).
    """

    def pop(self, session_id: str) -> str | None:
        with self.locked():
            rows = self._sessions.get(session_id)
            newest = rows[-1] if rows else None
        if newest is None:
            return None
        time.sleep(0.005)  # the window in which another pop reads the same row
        with self.locked():
            rows = self._sessions.get(session_id)
            if rows and rows[-1] is newest:  # DELETE ... WHERE id = ?: a second delete finds nothing
                rows.pop()
        return newest


@miniature("HIST-019", also_fails=(27,))
class ClearDeletesSession(MemoryHistory):
    """clear_session() deletes the session itself along with its items; later add_items() raise KeyError."""

    def __init__(self) -> None:
        super().__init__()
        self._deleted: set[str] = set()

    def clear(self, session_id: str) -> None:
        super().clear(session_id)
        with self.locked():
            self._deleted.add(session_id)

    def append(self, session_id: str, texts: list[str]) -> None:
        if session_id in self._deleted:
            msg = f"session {session_id!r} does not exist"
            raise KeyError(msg)
        super().append(session_id, texts)


@miniature("HIST-020", also_fails=(14, 19, 25, 27))
class IgnoresSessionId(MemoryHistory):
    """Keeps one history for the whole backend: every session id reads and writes the same list."""

    def load(self, session_id: str, limit: int | None) -> list[str]:
        return super().load("", limit)

    def append(self, session_id: str, texts: list[str]) -> None:
        super().append("", texts)

    def pop(self, session_id: str) -> str | None:
        return super().pop("")

    def clear(self, session_id: str) -> None:
        super().clear("")


# --- persistence and handles -------------------------------------------------------------


@miniature("HIST-021", claims=reference_impl.implementation.claims, also_fails=(27,))
class ForgetsOnRestart(MemoryHistory):
    """Claims hist.persistent but keeps its history in process memory, so a restart loses everything."""


@miniature("HIST-022")
class PrivateCopy(HistorySession):
    """Each handle loads the session when opened and answers reads from that private copy.

    Writes go to the store and the copy, so two handles on one id never see each other's writes.
    """

    def __init__(self, store: HistoryStore, session_id: str, default_limit: int | None) -> None:
        super().__init__(store, session_id, default_limit)
        self._copy = store.load(session_id, None)
        self._copy_lock = threading.Lock()

    def get_items(self, limit: object = None) -> list[Item]:
        self._check_open()
        checked = check_limit(limit)
        checked = self.default_limit if checked is None else checked
        with self._copy_lock:
            rows = self._copy if checked is None else self._copy[max(0, len(self._copy) - checked) :]
            return [json.loads(text) for text in rows]

    def add_items(self, items: object) -> None:
        with self._copy_lock:
            super().add_items(items)
            self._copy.extend(encode_batch(items))

    def pop_item(self) -> Item | None:
        with self._copy_lock:
            if self._copy:
                self._copy.pop()
            return super().pop_item()

    def clear_session(self) -> None:
        with self._copy_lock:
            super().clear_session()
            self._copy.clear()


@miniature("HIST-023")
class ClosedAcceptsEmptyAdd(HistorySession):
    """A closed handle still accepts add_items([]): an empty batch returns before the closed check.

    openai-agents #4231.
    """

    def add_items(self, items: object) -> None:
        if items == []:
            return
        super().add_items(items)


@miniature("HIST-024")
class SecondCloseRaises(HistorySession):
    """close() on an already closed handle raises StoreClosed."""

    def close(self) -> None:
        if self.closed:
            raise StoreClosed("the handle is already closed")
        super().close()


@miniature("HIST-030")
class ValidatesBeforeClosedCheck(HistorySession):
    """Checks the arguments before the handle: an invalid limit or batch on a closed handle fails as invalid_argument.

    Every valid call on a closed handle still fails as closed.
    """

    def get_items(self, limit: object = None) -> list[Item]:
        check_limit(limit)
        return super().get_items(limit)

    def add_items(self, items: object) -> None:
        encode_batch(items)
        super().add_items(items)


# --- session ids -------------------------------------------------------------------------


@miniature("HIST-025")
class StripsSessionIds(MemoryHistory):
    """Strips surrounding whitespace from session ids, so " a" and "a" are one session.

    google-adk's in-memory and SQLite services do this.
    """

    def open_session(self, session_id: object, *, default_limit: object = None) -> HistorySession:
        if isinstance(session_id, str):
            session_id = session_id.strip()
        return super().open_session(session_id, default_limit=default_limit)


@miniature("HIST-026")
class EmptyIdBecomesUuid(MemoryHistory):
    """Replaces an empty session id with a fresh uuid4 instead of rejecting it (agent-framework's from_dict)."""

    def open_session(self, session_id: object, *, default_limit: object = None) -> HistorySession:
        if session_id == "":
            session_id = str(uuid.uuid4())
        return super().open_session(session_id, default_limit=default_limit)


# --- sequences and aliasing --------------------------------------------------------------


@miniature("HIST-027")
class CountDriftsOnEmptyPop(MemoryHistory):
    """Windows limited reads with a running count that pop_item() decrements even when nothing was popped.

    After a pop of an empty session and then an add, get_items(limit=N) computes its window from a count
    that is one short and misses the newest item.  Only a sequence (pop on empty, add, limited get) shows it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._counts: dict[str, int] = {}

    def load(self, session_id: str, limit: int | None) -> list[str]:
        if limit is None:
            return super().load(session_id, None)
        with self.locked():
            count = self._counts.get(session_id, 0)
            return self._sessions.get(session_id, [])[max(0, count - limit) : max(0, count)]

    def append(self, session_id: str, texts: list[str]) -> None:
        with self.locked():
            self._sessions.setdefault(session_id, []).extend(texts)
            self._counts[session_id] = self._counts.get(session_id, 0) + len(texts)

    def pop(self, session_id: str) -> str | None:
        with self.locked():
            self._counts[session_id] = self._counts.get(session_id, 0) - 1
            rows = self._sessions.get(session_id)
            return rows.pop() if rows else None

    def clear(self, session_id: str) -> None:
        with self.locked():
            self._sessions.pop(session_id, None)
            self._counts.pop(session_id, None)


@miniature("HIST-028")
class KeepsCallerObjects(HistorySession):
    """Stores the very dicts add_items() was given and returns its own dicts from get_items() and pop_item().

    A caller's later edits change the stored history.
    """

    def add_items(self, items: object) -> None:
        self._check_open()
        encode_batch(items)  # validated, then the text is thrown away
        self._store.append(self.session_id, items)  # type: ignore[arg-type]

    def get_items(self, limit: object = None) -> list[Item]:
        self._check_open()
        checked = check_limit(limit)
        return self._store.load(self.session_id, self.default_limit if checked is None else checked)  # type: ignore[return-value]

    def pop_item(self) -> Item | None:
        self._check_open()
        return self._store.pop(self.session_id)  # type: ignore[return-value]


# --- blind spots of issue 11: each caught by its own requirement's tests, not only by the model ----


@miniature("HIST-025")
class IdsCutAt128(MemoryHistory):
    """Keys each history by the first 128 code points of its id, as a VARCHAR(128) column silently truncating would.

    Ids of up to 256 code points open and work one at a time; two that differ only past position 128
    share one history.
    """

    def load(self, session_id: str, limit: int | None) -> list[str]:
        return super().load(session_id[:128], limit)

    def append(self, session_id: str, texts: list[str]) -> None:
        super().append(session_id[:128], texts)

    def pop(self, session_id: str) -> str | None:
        return super().pop(session_id[:128])

    def clear(self, session_id: str) -> None:
        super().clear(session_id[:128])


def _latin1(session_id: str) -> str:
    return session_id.encode("latin-1", "replace").decode("latin-1")


@miniature("HIST-025")
class IdsThroughLatin1(MemoryHistory):
    """Keys each history by its id encoded as Latin-1 with replacement: every character beyond U+00FF becomes "?".

    A MySQL latin1 column does this to whatever it is given; "a😀", "a😁" and "a?" share one history.
    """

    def load(self, session_id: str, limit: int | None) -> list[str]:
        return super().load(_latin1(session_id), limit)

    def append(self, session_id: str, texts: list[str]) -> None:
        super().append(_latin1(session_id), texts)

    def pop(self, session_id: str) -> str | None:
        return super().pop(_latin1(session_id))

    def clear(self, session_id: str) -> None:
        super().clear(_latin1(session_id))


def _cut_strings(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _cut_strings(element) for key, element in value.items()}
    if isinstance(value, list):
        return [_cut_strings(element) for element in value]
    return value[:65_535] if isinstance(value, str) else value


@miniature("HIST-014")
class CutsLongStrings(MemoryHistory):
    """Keeps at most 65 535 characters of each string, as a TEXT column in a non-strict MySQL does, without an error.

    Every item within the data model's guarantees comes back whole; a one-mebibyte tool output comes back cut.
    """

    def append(self, session_id: str, texts: list[str]) -> None:
        cut = [json.dumps(_cut_strings(json.loads(text)), ensure_ascii=False) for text in texts]
        super().append(session_id, cut)


class SessionNotFound(HistoryError):
    error_kind = "not_found"


@miniature("HIST-007", also_fails=(27,))
class ClearOfUnknownSessionFails(MemoryHistory):
    """clear_session() fails with not_found for an id that was never written: it deletes the session's row first.

    Sessions live in a table of their own, created by the first add_items() and kept by clear_session().
    """

    def __init__(self) -> None:
        super().__init__()
        self._known: set[str] = set()

    def append(self, session_id: str, texts: list[str]) -> None:
        super().append(session_id, texts)
        with self.locked():
            self._known.add(session_id)

    def clear(self, session_id: str) -> None:
        with self.locked():
            if session_id not in self._known:
                msg = f"no session {session_id!r}"
                raise SessionNotFound(msg)
        super().clear(session_id)


@miniature("HIST-022", may_fail=(27,))
class RemembersEmpty(HistorySession):
    """A handle that saw its history empty (a pop of nothing, its own clear) answers pops with null from memory.

    Only its own add_items() makes it look again, so another handle's write stays invisible to its pops.
    """

    def __init__(self, store: HistoryStore, session_id: str, default_limit: int | None) -> None:
        super().__init__(store, session_id, default_limit)
        self._empty = False

    def pop_item(self) -> Item | None:
        self._check_open()
        if self._empty:
            return None
        popped = super().pop_item()
        self._empty = popped is None
        return popped

    def clear_session(self) -> None:
        super().clear_session()
        self._empty = True

    def add_items(self, items: object) -> None:
        super().add_items(items)
        self._empty = False


@miniature("HIST-023")
class ClosedHandleStillWrites(HistorySession):
    """add_items() on a closed handle writes a valid batch and only then raises closed: the check follows the write."""

    def add_items(self, items: object) -> None:
        if self.closed:
            with contextlib.suppress(InvalidArgument):
                self._store.append(self.session_id, encode_batch(items))
        super().add_items(items)


@miniature("HIST-001", also_fails=(14,), may_fail=(27,))
class DropsRepeatedItems(MemoryHistory):
    """add_items() skips an item equal to one the history already holds, as an upsert keyed by the item's content would."""

    def append(self, session_id: str, texts: list[str]) -> None:
        with self.locked():
            held = set(self._sessions.get(session_id, []))
        fresh: list[str] = []
        for text in texts:
            if text not in held:
                held.add(text)
                fresh.append(text)
        super().append(session_id, fresh)


@miniature("HIST-021", claims=reference_impl.implementation.claims)
class ExpiresOnReopen(SQLiteHistory):
    """On reopening, deletes every session last written more than ten minutes ago by the clock.

    Like EncryptedSession's ``ttl=600``, but applied only when the store is opened, so nothing expires
    while it runs; a restart at the instant of the last write loses nothing.
    """

    TTL = 600

    def __init__(self, path: Any, clock: Any) -> None:
        super().__init__(path)
        self.clock = clock
        self._db.execute("CREATE TABLE IF NOT EXISTS written (session_id TEXT PRIMARY KEY, at REAL NOT NULL)")
        cutoff = clock.now().timestamp() - self.TTL
        stale = [sid for (sid,) in self._db.execute("SELECT session_id FROM written WHERE at < ?", (cutoff,))]
        for sid in stale:
            self._db.execute("DELETE FROM items WHERE session_id = ?", (sid,))
            self._db.execute("DELETE FROM written WHERE session_id = ?", (sid,))

    @classmethod
    def open(cls, env: Environment) -> ExpiresOnReopen:
        return cls(env.storage_dir / cls.FILE_NAME, env.clock)

    def append(self, session_id: str, texts: list[str]) -> None:
        super().append(session_id, texts)
        with self.locked():
            self._db.execute("INSERT OR REPLACE INTO written VALUES (?, ?)", (session_id, self.clock.now().timestamp()))
