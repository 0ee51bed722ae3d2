"""One broken HIST implementation per requirement of spec/requirements/hist.yaml.

Each bug is the smallest override of the reference implementation
(:mod:`reference_impl.history`), modelled where possible on a bug seen upstream
(openai/openai-agents-python, ``src/agents/memory/``: https://github.com/openai/openai-agents-python).  ``also_fails`` names the other
requirements whose tests cannot help seeing the same bug; HIST-027 (the model-based
test) sees most of them.
"""

from __future__ import annotations

import inspect
import json
import random
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import reference_impl
from reference_impl._errors import InvalidArgument, StoreClosed
from reference_impl.history import (
    HistorySession,
    HistoryStore,
    MemoryHistory,
    check_limit,
    encode_batch,
    encode_item,
)
from reference_impl.history_sqlite import SQLiteHistory
from tests.miniatures import MiniatureImplementation

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from reference_impl.history import Environment, Item


def _ids(*numbers: int) -> frozenset[str]:
    """HIST requirement IDs by number: ``_ids(3, 27)`` is ``{"HIST-003", "HIST-027"}``."""
    return frozenset(f"HIST-{n:03d}" for n in numbers)


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


def _map_numbers(value: Any, change: Callable[[Any], Any]) -> Any:
    if isinstance(value, dict):
        return {key: _map_numbers(element, change) for key, element in value.items()}
    if isinstance(value, list):
        return [_map_numbers(element, change) for element in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return change(value)
    return value


# --- reading -----------------------------------------------------------------------------


class NewestFirst(MemoryHistory):
    """get_items() without a limit returns every item newest first (ORDER BY id DESC, never re-reversed)."""

    def load(self, session_id: str, limit: int | None) -> list[str]:
        rows = super().load(session_id, limit)
        return rows[::-1] if limit is None else rows


newest_first = HistMiniature(
    "HIST-001",
    "newest first",
    NewestFirst,
    also_fails=_ids(8, 9, 16, 18, 27),
)


class LimitOldest(MemoryHistory):
    """get_items(limit=N) returns the oldest N items instead of the newest N."""

    def load(self, session_id: str, limit: int | None) -> list[str]:
        rows = super().load(session_id, None)
        return rows if limit is None else rows[:limit]


limit_oldest = HistMiniature("HIST-002", "limit returns oldest", LimitOldest, also_fails=_ids(8, 27))


class LimitZeroReturnsAll(MemoryHistory):
    """get_items(limit=0) returns every item: the store tests the limit for truthiness (`if limit:`)."""

    def load(self, session_id: str, limit: int | None) -> list[str]:
        return super().load(session_id, limit or None)


limit_zero_returns_all = HistMiniature(
    "HIST-003", "limit zero returns all", LimitZeroReturnsAll, also_fails=_ids(6, 27)
)


class LimitBeyondRaises(MemoryHistory):
    """get_items(limit=N) raises IndexError when N exceeds the number of stored items."""

    def load(self, session_id: str, limit: int | None) -> list[str]:
        rows = super().load(session_id, None)
        if limit is not None and limit > len(rows):
            msg = f"limit {limit} is beyond the {len(rows)} items stored"
            raise IndexError(msg)
        return super().load(session_id, limit)


limit_beyond_raises = HistMiniature(
    "HIST-004", "limit beyond history raises", LimitBeyondRaises, also_fails=_ids(6, 7, 27)
)


class NegativeLimitReturnsAll(HistorySession):
    """A negative limit is handed to SQLite unchecked, where LIMIT -1 means "no limit": every item comes back.

    openai-agents keeps this on purpose for its SQLite sessions (#4994).
    """

    def get_items(self, limit: object = None) -> list[Item]:
        if isinstance(limit, int) and not isinstance(limit, bool) and limit < 0:
            self._check_open()
            return [json.loads(text) for text in self._store.load(self.session_id, limit)]
        return super().get_items(limit)


negative_limit_returns_all = HistMiniature(
    "HIST-005", "negative limit returns all", NegativeLimitReturnsAll, base=SQLiteHistory
)


class ExplicitZeroYieldsToDefault(HistorySession):
    """An explicit get_items(limit=0) falls back to the default limit, as `limit or default_limit` does."""

    def get_items(self, limit: object = None) -> list[Item]:
        if limit == 0 and type(limit) is int and self.default_limit is not None:
            limit = None
        return super().get_items(limit)


zero_falls_back_to_default = HistMiniature("HIST-006", "explicit zero uses the default", ExplicitZeroYieldsToDefault)


class PopUnknownRaises(MemoryHistory):
    """pop_item() on a session id that was never written (or was cleared) raises KeyError instead of returning None."""

    def pop(self, session_id: str) -> str | None:
        with self.locked():
            rows = self._sessions[session_id]
            return rows.pop() if rows else None


unknown_session_raises = HistMiniature(
    "HIST-007", "pop of unknown session raises", PopUnknownRaises, also_fails=_ids(17, 19, 27)
)


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


same_instant_shuffled = HistMiniature(
    "HIST-008",
    "same instant shuffled",
    SameInstantShuffled,
    also_fails=_ids(1, 2, 4, 9, 16, 18, 27),
)

# --- writing -----------------------------------------------------------------------------


class BatchesInterleave(MemoryHistory):
    """add_items() appends one item at a time, releasing the lock between items (RPUSH without MULTI).

    Concurrent batches interleave.
    """

    def append(self, session_id: str, texts: list[str]) -> None:
        for text in texts:
            with self.locked():
                self._sessions.setdefault(session_id, []).append(text)
            time.sleep(0.001)


batches_interleave = HistMiniature("HIST-009", "concurrent batches interleave", BatchesInterleave)


class StoresValidPrefix(HistorySession):
    """add_items() validates and stores one item at a time, so a bad item leaves the items before it stored."""

    def add_items(self, items: object) -> None:
        if not isinstance(items, list):
            super().add_items(items)
            return
        self._check_open()
        for index, item in enumerate(items):
            self._store.append(self.session_id, [encode_item(item, f"items[{index}]")])


partial_batch = HistMiniature("HIST-010", "rejected batch leaves a prefix", StoresValidPrefix)


class EmptyBatchRaises(HistorySession):
    """add_items([]) raises InvalidArgument instead of doing nothing."""

    def add_items(self, items: object) -> None:
        self._check_open()
        if items == []:
            raise InvalidArgument("add_items needs at least one item")
        super().add_items(items)


empty_batch_raises = HistMiniature("HIST-011", "empty batch raises", EmptyBatchRaises, also_fails=_ids(27))


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


stringifies_non_json = HistMiniature("HIST-012", "stringifies non-JSON values", StringifiesNonJSON)


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


accepts_any_value = HistMiniature("HIST-013", "accepts non-object items", AcceptsAnyValue)


class RoundsFloats(HistorySession):
    """Stores every float rounded to 6 decimal places (like ujson's double_precision): 5e-324 comes back as 0.0."""

    def add_items(self, items: object) -> None:
        if isinstance(items, list):
            items = [_map_numbers(item, lambda n: round(n, 6) if isinstance(n, float) else n) for item in items]
        super().add_items(items)


rounds_floats = HistMiniature("HIST-014", "rounds floats", RoundsFloats)


def _as_double(number: float) -> float:
    return float(number) if isinstance(number, int) and abs(number) > 2**53 - 1 else number


class BigIntegersAsDoubles(HistorySession):
    """Stores integers beyond +/-(2**53 - 1) as the nearest double, as a JavaScript store would.

    2**53 + 1 reads back as 9007199254740992.0.
    """

    def add_items(self, items: object) -> None:
        if isinstance(items, list):
            items = [_map_numbers(item, _as_double) for item in items]
        super().add_items(items)


big_ints_as_doubles = HistMiniature("HIST-015", "big integers become doubles", BigIntegersAsDoubles)

# --- pop and clear -----------------------------------------------------------------------


class PopOldest(MemoryHistory):
    """pop_item() removes and returns the oldest item instead of the newest."""

    def pop(self, session_id: str) -> str | None:
        with self.locked():
            rows = self._sessions.get(session_id)
            return rows.pop(0) if rows else None


pop_oldest = HistMiniature(
    "HIST-016",
    "pop returns oldest",
    PopOldest,
    also_fails=_ids(8, 18, 27),
)


class PopEmptiedRaises(MemoryHistory):
    """pop_item() raises IndexError (list.pop on an empty list) once pops have emptied a session it knows.

    A session it never saw still pops None.
    """

    def pop(self, session_id: str) -> str | None:
        with self.locked():
            if session_id not in self._sessions:
                return None
            return self._sessions[session_id].pop()


pop_empty_raises = HistMiniature("HIST-017", "pop of emptied history raises", PopEmptiedRaises, also_fails=_ids(18, 27))


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


pop_race = HistMiniature("HIST-018", "concurrent pops race", PopRace)


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


clear_deletes_session = HistMiniature("HIST-019", "cleared session unusable", ClearDeletesSession, also_fails=_ids(27))


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


ignores_session_id = HistMiniature(
    "HIST-020",
    "one history for all ids",
    IgnoresSessionId,
    also_fails=_ids(14, 19, 25, 27),
)

# --- persistence and handles -------------------------------------------------------------


class ForgetsOnRestart(MemoryHistory):
    """Claims hist.persistent but keeps its history in process memory, so a restart loses everything."""


forgets_on_restart = HistMiniature(
    "HIST-021",
    "persistent in name only",
    ForgetsOnRestart,
    claims=reference_impl.implementation.claims,
    also_fails=_ids(27),
)


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


private_copy_per_handle = HistMiniature("HIST-022", "private copy per handle", PrivateCopy)


class ClosedAcceptsEmptyAdd(HistorySession):
    """A closed handle still accepts add_items([]): an empty batch returns before the closed check.

    openai-agents #4231.
    """

    def add_items(self, items: object) -> None:
        if items == []:
            return
        super().add_items(items)


closed_accepts_empty_add = HistMiniature("HIST-023", "closed handle accepts empty add", ClosedAcceptsEmptyAdd)


class SecondCloseRaises(HistorySession):
    """close() on an already closed handle raises StoreClosed."""

    def close(self) -> None:
        if self.closed:
            raise StoreClosed("the handle is already closed")
        super().close()


second_close_raises = HistMiniature("HIST-024", "second close raises", SecondCloseRaises)

# --- session ids -------------------------------------------------------------------------


class StripsSessionIds(MemoryHistory):
    """Strips surrounding whitespace from session ids, so " a" and "a" are one session.

    google-adk's in-memory and SQLite services do this.
    """

    def open_session(self, session_id: object, *, default_limit: object = None) -> HistorySession:
        if isinstance(session_id, str):
            session_id = session_id.strip()
        return super().open_session(session_id, default_limit=default_limit)


strips_session_ids = HistMiniature("HIST-025", "strips ids", StripsSessionIds)


class EmptyIdBecomesUuid(MemoryHistory):
    """Replaces an empty session id with a fresh uuid4 instead of rejecting it (agent-framework's from_dict)."""

    def open_session(self, session_id: object, *, default_limit: object = None) -> HistorySession:
        if session_id == "":
            session_id = str(uuid.uuid4())
        return super().open_session(session_id, default_limit=default_limit)


empty_id_becomes_uuid = HistMiniature("HIST-026", "empty id becomes a uuid", EmptyIdBecomesUuid)

# --- sequences and aliasing --------------------------------------------------------------


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


count_drifts_on_empty_pop = HistMiniature("HIST-027", "count drifts on empty pop", CountDriftsOnEmptyPop)


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


aliases_items = HistMiniature("HIST-028", "aliases caller objects", KeepsCallerObjects)
