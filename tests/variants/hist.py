"""HIST variants: the reference's history store with one upstream backend's behaviour.

The upstream is openai-agents' ``Session`` family (``src/agents/memory/`` and
``src/agents/extensions/memory/``); its peers are google-adk, agent-framework and
mcp-data-platform.  Each variant swaps exactly one of their behaviours into the in-memory
reference.  A limit variant changes what ``get_items`` does with the ``limit`` it is passed and
nothing else: the default limit is still checked when a handle is opened.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from reference_impl.history import (
    HistorySession,
    HistoryStore,
    MemoryHistory,
    check_limit,
    check_unicode,
    encode_batch,
)
from reference_impl.history_sqlite import SQLiteHistory
from tests.miniatures.hist import (
    AcceptsAnyValue,
    BigIntegersAsDoubles,
    ClosedAcceptsEmptyAdd,
    EmptyIdBecomesUuid,
    KeepsCallerObjects,
    NegativeLimitReturnsAll,
    PopRace,
    SameInstantShuffled,
    StringifiesNonJSON,
    StripsSessionIds,
    ValidatesBeforeClosedCheck,
)
from tests.variants._base import Variant

if TYPE_CHECKING:
    from reference_impl.history import Environment, Item

__all__ = ["AGREES", "Variant"]

_OA = "https://github.com/openai/openai-agents-python"
_MEMORY = f"{_OA}/blob/main/src/agents/extensions/memory"
_SQLITE_SESSION = f"{_OA}/blob/main/src/agents/memory/sqlite_session.py"
_SESSION_SETTINGS = f"{_OA}/blob/main/src/agents/memory/session_settings.py"
_ENCRYPTED = f"{_MEMORY}/encrypt_session.py"

_ROW_NEGATIVE = "hist.md: `limit<0`"
_ROW_FLOAT = "hist.md: `limit=2.5`"
_ROW_ORDER_KEY = "hist.md: ordering key"
_ROW_SAME_TIMESTAMP = "hist.md: same timestamp"
_ROW_EMPTY_ID = 'hist.md: empty id `""`'
_ROW_AFTER_CLOSE = "hist.md: call after `close()`"


def _with_handle(base: type[HistoryStore], handle: type[HistorySession]) -> type[HistoryStore]:
    """``base`` handing out ``handle``: how a variant swaps one behaviour of the handle in."""
    return type(f"_{handle.__name__.lstrip('_')}Store", (base,), {"session_class": handle})


# --- limits ----------------------------------------------------------------------------------


class _NegativeLimitPassesThrough(SQLiteHistory):  # LIMIT -1 means no limit there
    session_class = NegativeLimitReturnsAll  # the HIST-005 miniature's handle: the same behaviour


class NegativeLimitMeansAll(Variant):
    """``get_items(limit=-1)`` returns every item: SQLite's ``LIMIT -1``, kept on purpose.

    openai-agents SQLiteSession: https://github.com/openai/openai-agents-python/pull/4994 (closed).
    """

    rows = frozenset({_ROW_NEGATIVE})
    fails = frozenset({"HIST-005"})
    source = "https://github.com/openai/openai-agents-python/pull/4994"

    def open_history(self, env: Any) -> Any:
        return _NegativeLimitPassesThrough.open(env)


def _negative(limit: object) -> bool:
    return isinstance(limit, int) and not isinstance(limit, bool) and limit < 0


class _NegativeLimitEmpty(HistorySession):
    """A negative limit reads nothing: ``if limit <= 0: return []`` before the list is read."""

    def get_items(self, limit: object = None) -> list[Item]:
        if _negative(limit):
            self._check_open()
            return []
        return super().get_items(limit)


class NegativeLimitReadsNothing(Variant):
    """``get_items(limit=-1)`` returns ``[]``: a limit of zero or less reads nothing.

    openai-agents RedisSession (and DaprSession, MongoDBSession): ``if session_limit <= 0``.
    """

    rows = frozenset({_ROW_NEGATIVE})
    fails = frozenset({"HIST-005"})
    source = f"{_MEMORY}/redis_session.py"

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, _NegativeLimitEmpty).open(env)


class _DataError(Exception):
    """What a PostgreSQL driver raises for ``LIMIT -1``: no ValueError, so no error answer."""


class _NegativeLimitToPostgres(HistorySession):
    def get_items(self, limit: object = None) -> list[Item]:
        if _negative(limit):
            self._check_open()
            msg = "(psycopg.errors.InvalidRowCountInLimitClause) LIMIT must not be negative"
            raise _DataError(msg)
        return super().get_items(limit)


class NegativeLimitDatabaseError(Variant):
    """``get_items(limit=-1)`` raises the database's own error: PostgreSQL refuses ``LIMIT -1``.

    openai-agents SQLAlchemySession on PostgreSQL passes the limit to ``select(...).limit(n)``.
    """

    rows = frozenset({_ROW_NEGATIVE})
    fails = frozenset({"HIST-005"})
    kind = "crashed"
    source = "https://github.com/openai/openai-agents-python/pull/4994"

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, _NegativeLimitToPostgres).open(env)


class _LimitAsInt(HistorySession):
    """SQLAlchemy's ``Select.limit`` coerces its argument with ``int()``: 2.5 and "2" become 2."""

    def get_items(self, limit: object = None) -> list[Item]:
        if limit is not None and not isinstance(limit, int):  # bool is an int: the `limit=True` row
            limit = int(limit)  # type: ignore[call-overload]  # "" or [2] raise ValueError/TypeError
        return super().get_items(limit)


class FloatLimitTruncated(Variant):
    """``get_items(limit=2.5)`` returns 2 items: the limit is converted with ``int()``.

    openai-agents SQLAlchemySession; SQLAlchemy's ``limit()`` coerces the value to an integer.
    """

    rows = frozenset({_ROW_FLOAT})
    fails = frozenset({"HIST-005"})
    source = f"{_MEMORY}/sqlalchemy_session.py"

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, _LimitAsInt).open(env)


class _FloatLimitToSQLite(HistorySession):
    """A non-integral float limit is bound to SQLite's ``LIMIT ?``, which raises IntegrityError.

    SQLite takes an integral float (2.0) as 2; that answer is FloatLimitTruncated's, so this
    handle passes on only the limits SQLite refuses, and the variant shows one failure kind.
    """

    def get_items(self, limit: object = None) -> list[Item]:
        if isinstance(limit, float) and not limit.is_integer():
            self._check_open()
            return [json.loads(text) for text in self._store.load(self.session_id, limit)]  # type: ignore[arg-type]
        return super().get_items(limit)


class FloatLimitIntegrityError(Variant):
    """``get_items(limit=2.5)`` raises ``sqlite3.IntegrityError`` (datatype mismatch): a crash.

    openai-agents SQLiteSession binds the limit unchecked to ``LIMIT ?``.
    """

    rows = frozenset({_ROW_FLOAT})
    fails = frozenset({"HIST-005"})
    kind = "crashed"
    source = _SQLITE_SESSION

    def open_history(self, env: Any) -> Any:
        return _with_handle(SQLiteHistory, _FloatLimitToSQLite).open(env)


class _BooleanLimitCounted(HistorySession):
    def get_items(self, limit: object = None) -> list[Item]:
        return super().get_items(int(limit) if isinstance(limit, bool) else limit)


class BooleanLimitCounted(Variant):
    """``get_items(limit=True)`` returns 1 item (and ``False`` none): a bool is bound as 1 or 0.

    openai-agents SQLiteSession binds the limit unchecked; Python's ``bool`` is an ``int``.
    """

    rows = frozenset({"hist.md: `limit=True`", "hist.md: `limit=false`"})
    fails = frozenset({"HIST-005"})
    source = _SQLITE_SESSION

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, _BooleanLimitCounted).open(env)


def _lax_int(value: object) -> object:
    """Pydantic's lax ``int``: a bool, an integral float and a string of digits become an int; the rest stays."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    return value


class _DefaultLimitCoerced(MemoryHistory):
    def open_session(self, session_id: object, *, default_limit: object = None) -> HistorySession:
        return super().open_session(session_id, default_limit=_lax_int(default_limit))


class DefaultLimitCoerced(Variant):
    """A default limit of ``"2"``, ``True`` or ``2.0`` is coerced to an integer; only the limit per call is checked.

    openai-agents ``SessionSettings(limit=...)`` is a pydantic dataclass, whose ``int | None`` field
    takes those values in lax mode.
    """

    rows = frozenset({'hist.md: default limit `"2"`, `true` or `2.0`'})
    fails = frozenset({"HIST-005"})  # "given as default_limit when a handle is opened"
    source = _SESSION_SETTINGS

    def open_history(self, env: Any) -> Any:
        return _DefaultLimitCoerced.open(env)


# --- order -----------------------------------------------------------------------------------


class SameInstantRandomOrder(Variant):
    """Items written in one instant come back in the order of random uuids, not in insertion order.

    google-adk DatabaseSessionService orders events by timestamp, ties by their uuid4 ids.
    """

    rows = frozenset({_ROW_SAME_TIMESTAMP})
    # Every sentence about which items come back where: oldest first (HIST-001, HIST-002, HIST-004),
    # insertion order (HIST-008), each batch in its own order (HIST-009), the newest item is popped
    # (HIST-016, HIST-018), and the model's lists (HIST-027).
    fails = frozenset({"HIST-001", "HIST-002", "HIST-004", "HIST-008", "HIST-009", "HIST-016", "HIST-018", "HIST-027"})
    source = "https://github.com/google/adk-python/blob/main/src/google/adk/sessions/database_session_service.py"

    def open_history(self, env: Any) -> Any:
        return SameInstantShuffled.open(env)


class _OrderedByTimestamp(MemoryHistory):
    """Rows ordered by the clock's timestamp alone, as ``ORDER BY created_at`` with no tie-breaker.

    Unlimited reads sort ascending; limited reads and pop sort descending and take the first
    rows, and among equal timestamps a (stable) sort keeps the rows in the order they were
    written, so a limited read or a pop reaches the *oldest* items of the newest instant.
    """

    clock: Any

    @classmethod
    def open(cls, env: Environment) -> _OrderedByTimestamp:
        store = cls()
        store.clock = env.clock
        return store

    def __init__(self) -> None:
        super().__init__()
        self._stamps: dict[str, list[Any]] = {}

    def _rows(self, session_id: str) -> list[tuple[Any, str]]:
        return list(zip(self._stamps.get(session_id, []), self._sessions.get(session_id, []), strict=True))

    def load(self, session_id: str, limit: int | None) -> list[str]:
        with self.locked():
            rows = self._rows(session_id)
        if limit is None:
            return [text for _, text in sorted(rows, key=lambda row: row[0])]
        newest = sorted(rows, key=lambda row: row[0], reverse=True)[:limit]
        return [text for _, text in reversed(newest)]

    def append(self, session_id: str, texts: list[str]) -> None:
        with self.locked():
            now = self.clock.now()
            self._stamps.setdefault(session_id, []).extend(now for _ in texts)
            self._sessions.setdefault(session_id, []).extend(texts)

    def pop(self, session_id: str) -> str | None:
        with self.locked():
            rows = self._rows(session_id)
            if not rows:
                return None
            newest = max(rows, key=lambda row: row[0])  # max() returns the first of equal rows
            index = rows.index(newest)
            self._stamps[session_id].pop(index)
            return self._sessions[session_id].pop(index)

    def clear(self, session_id: str) -> None:
        with self.locked():
            self._sessions.pop(session_id, None)
            self._stamps.pop(session_id, None)


class OrderedByTimestampOnly(Variant):
    """Items are ordered by their timestamp alone, so within one instant limited reads and pops go wrong.

    openai-agents SQLAlchemySession before #1917 ordered by ``created_at`` only (#1900).
    """

    rows = frozenset({_ROW_ORDER_KEY, _ROW_SAME_TIMESTAMP})
    # Unlimited reads keep insertion order (a stable sort); the newest N (HIST-002), a limit beyond
    # the history (HIST-004, read in the descending order, reversed), insertion order (HIST-008),
    # the newest item popped (HIST-016, HIST-018) and the model's lists (HIST-027) do not.
    fails = frozenset({"HIST-002", "HIST-004", "HIST-008", "HIST-016", "HIST-018", "HIST-027"})
    source = "https://github.com/openai/openai-agents-python/issues/1900"

    def open_history(self, env: Any) -> Any:
        return _OrderedByTimestamp.open(env)


_TTL = dt.timedelta(seconds=600)


class _Expiring(MemoryHistory):
    """Each item is sealed with the time it was written and skipped once ``ttl`` has passed."""

    clock: Any

    @classmethod
    def open(cls, env: Environment) -> _Expiring:
        store = cls()
        store.clock = env.clock
        return store

    def __init__(self) -> None:
        super().__init__()
        self._sealed: dict[str, dt.datetime] = {}

    def _live(self, text: str) -> bool:
        now: dt.datetime = self.clock.now()
        return self._sealed[text] + _TTL >= now

    def append(self, session_id: str, texts: list[str]) -> None:
        now = self.clock.now()
        sealed = [json.dumps({"sealed": uuid.uuid4().hex, "item": text}) for text in texts]
        with self.locked():
            self._sealed.update(dict.fromkeys(sealed, now))
        super().append(session_id, sealed)

    def load(self, session_id: str, limit: int | None) -> list[str]:
        # The limit is applied first, then expired items are skipped (openai-agents #3174).
        return [json.loads(text)["item"] for text in super().load(session_id, limit) if self._live(text)]

    def pop(self, session_id: str) -> str | None:
        while (text := super().pop(session_id)) is not None:  # expired items are popped and dropped
            if self._live(text):
                return str(json.loads(text)["item"])
        return None


class ItemsExpire(Variant):
    """Items expire 600 s (of the kit's clock) after they were written; reads and pops skip them.

    openai-agents EncryptedSession (``ttl=600``): expired tokens are silently skipped.
    """

    rows = frozenset({"hist.md: expiry"})
    # "Every item" (HIST-001, HIST-004), "exactly the newest N" (HIST-002), "the newest item"
    # (HIST-016, HIST-018): HIST defines no expiry, so an item stays until popped or cleared.
    # HIST-027 is not: the model's operations never move the clock.
    fails = frozenset({"HIST-001", "HIST-002", "HIST-004", "HIST-016", "HIST-018"})
    source = _ENCRYPTED

    def open_history(self, env: Any) -> Any:
        return _Expiring.open(env)


# --- writing ---------------------------------------------------------------------------------


class _ConcurrentAddsUnordered(MemoryHistory):
    """Each add waits for a worker thread before it takes the lock (``asyncio.to_thread``)."""

    def __init__(self) -> None:
        super().__init__()
        self._turns = threading.Lock()
        self._count = 0

    def append(self, session_id: str, texts: list[str]) -> None:
        with self._turns:
            self._count += 1
            late = self._count % 3 == 0
        if late:
            time.sleep(0.002)  # this thread is scheduled after others started later
        super().append(session_id, texts)


class ConcurrentAddsUnordered(Variant):
    """Concurrent ``add_items`` calls are stored in the order their threads run, not as submitted.

    openai-agents SQLiteSession runs each add in a worker thread; none is lost, each stays whole.
    """

    rows = frozenset({"hist.md: concurrent single-item adds"})
    fails = frozenset()  # HIST-009 leaves the order between concurrent batches open
    source = _SQLITE_SESSION

    def open_history(self, env: Any) -> Any:
        return _ConcurrentAddsUnordered.open(env)


class NonJSONStringified(Variant):
    """Values JSON cannot carry are stored as ``str(value)`` (and NaN as the token ``NaN``).

    openai-agents EncryptedSession serialises with ``json.dumps(..., default=str)``.
    """

    rows = frozenset({"hist.md: non-JSON item"})
    fails = frozenset({"HIST-012"})
    source = _ENCRYPTED

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, StringifiesNonJSON).open(env)


def _keys_as_text(value: Any) -> Any:
    """What ``json.dumps`` does to keys: ints, floats, bools and None become their JSON text."""
    if isinstance(value, list):
        return [_keys_as_text(v) for v in value]
    if not isinstance(value, dict):
        return value
    return {k if isinstance(k, str) else json.dumps(k): _keys_as_text(v) for k, v in value.items()}


class _IntegerKeysAsText(HistorySession):
    def add_items(self, items: object) -> None:
        super().add_items(_keys_as_text(items))


class IntegerKeysStringified(Variant):
    """A map key that is not a string is stored as its text: ``{1: "a"}`` reads back ``{"1": "a"}``.

    openai-agents SQLiteSession (and every backend) writes items with ``json.dumps``.
    """

    rows = frozenset({"hist.md: integer dict key"})
    fails = frozenset({"HIST-012"})
    source = _SQLITE_SESSION

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, _IntegerKeysAsText).open(env)


def _finite(value: Any) -> Any:
    """``value`` with NaN and the infinities replaced by 0: what the reference's checks are shown."""
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    return value


class _NaNWritten(HistorySession):
    """Items are written with ``json.dumps``'s default ``allow_nan=True``; every other check stays."""

    def add_items(self, items: object) -> None:
        self._check_open()
        encode_batch(_finite(items))
        self._store.append(self.session_id, [json.dumps(item, ensure_ascii=False) for item in items])  # type: ignore[attr-defined]


class NaNAccepted(Variant):
    """``NaN`` and the infinities are accepted and stored as the tokens ``NaN`` and ``Infinity``, which are not JSON.

    openai-agents SQLiteSession, AdvancedSQLiteSession, SQLAlchemySession and EncryptedSession
    write items with ``json.dumps``, which allows them by default.
    """

    rows = frozenset({"hist.md: `NaN` or `Infinity` value"})
    fails = frozenset({"HIST-012"})
    source = _SQLITE_SESSION

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, _NaNWritten).open(env)


class _IteratesAnyBatch(HistorySession):
    """``add_items`` iterates whatever it is given and stores each element: ``for item in items``."""

    def add_items(self, items: object) -> None:
        self._check_open()
        if isinstance(items, list):
            super().add_items(items)
            return
        elements = list(items)  # type: ignore[call-overload]  # TypeError for 7, None, True: invalid_argument
        encode_batch([{"item": element} for element in elements])  # the values are checked as JSON
        self._store.append(self.session_id, [json.dumps(element, ensure_ascii=False) for element in elements])


class NonArrayBatchIterated(Variant):
    """A batch that is not an array is iterated: ``add_items({"role": "user"})`` stores the item ``"role"``.

    openai-agents SQLiteSession (and AdvancedSQLiteSession, SQLAlchemySession) stores
    ``json.dumps(item) for item in items``, whatever ``items`` is.
    """

    rows = frozenset({"hist.md: non-array batch"})
    fails = frozenset({"HIST-013"})
    source = _SQLITE_SESSION

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, _IteratesAnyBatch).open(env)


class BareItemsAccepted(Variant):
    """An item that is not an object (``"hi"``, ``3``, ``null``, ``[1, 2]``) is stored as it is.

    openai-agents SQLiteSession stores ``json.dumps(item)`` for any item; only EncryptedSession refuses.
    """

    rows = frozenset({"hist.md: non-object item"})
    fails = frozenset({"HIST-013"})
    source = _SQLITE_SESSION

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, AcceptsAnyValue).open(env)


class BigIntegersRounded(Variant):
    """An integer beyond +/-(2**53 - 1) is kept as the nearest double: 2**53 + 1 reads back 2**53.

    Any store that parses JSON numbers as binary64, as JavaScript's ``JSON.parse`` does (RFC 7493 §2.2).
    """

    rows = frozenset({"hist.md: integer beyond ±(2^53−1)"})
    fails = frozenset({"HIST-015"})
    source = "https://www.rfc-editor.org/rfc/rfc7493#section-2.2"

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, BigIntegersAsDoubles).open(env)


class ReturnsStoredObjects(Variant):
    """The store keeps the caller's objects and hands out its own: a caller's edit rewrites history.

    mcp-data-platform MemoryStore returns its stored pointer.
    """

    rows = frozenset({"hist.md: values returned"})
    fails = frozenset({"HIST-028"})
    source = "https://github.com/txn2/mcp-data-platform/blob/main/pkg/session/memory.go"

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, KeepsCallerObjects).open(env)


# --- removing --------------------------------------------------------------------------------


class ConcurrentPopsDuplicate(Variant):
    """Concurrent ``pop_item`` calls return the same item: a read, then a separate delete.

    openai-agents SQLiteSession before #4205 (40 pops returned 26 distinct items).
    """

    rows = frozenset({"hist.md: concurrent pops"})
    fails = frozenset({"HIST-018"})
    source = "https://github.com/openai/openai-agents-python/issues/4202"

    def open_history(self, env: Any) -> Any:
        return PopRace.open(env)


# --- handles ---------------------------------------------------------------------------------


class _ClosedRaisesRuntimeError(HistorySession):
    def _check_open(self) -> None:
        if self.closed or self._store._closed:  # closing the backend closes every session it opened
            raise RuntimeError("Session is closed")


class ClosedRaisesRuntimeError(Variant):
    """Every call on a closed handle raises ``RuntimeError``, which is no error answer: a crash.

    openai-agents SQLiteSession and AsyncSQLiteSession after ``close()`` (#4231: even for an empty add).
    """

    rows = frozenset({_ROW_AFTER_CLOSE})
    fails = frozenset({"HIST-023", "HIST-031"})
    kind = "crashed"
    source = "https://github.com/openai/openai-agents-python/pull/4231"

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, _ClosedRaisesRuntimeError).open(env)


class ClosedAcceptsEmptyBatch(Variant):
    """A closed handle accepts ``add_items([])``: the empty batch returns before the closed check.

    openai-agents before #4231.
    """

    rows = frozenset({_ROW_AFTER_CLOSE})
    fails = frozenset({"HIST-023", "HIST-031"})
    source = "https://github.com/openai/openai-agents-python/pull/4231"

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, ClosedAcceptsEmptyAdd).open(env)


class ArgumentsBeforeClosed(Variant):
    """An invalid call on a closed handle fails as ``invalid_argument``: the arguments are looked at first.

    openai-agents' EncryptedSession builds its encrypted envelope (``dict(item)``) and compares the
    limit before the wrapped session checks whether it is closed.
    """

    rows = frozenset({"hist.md: invalid call on a closed handle"})
    fails = frozenset({"HIST-030", "HIST-031"})
    source = _ENCRYPTED

    def open_history(self, env: Any) -> Any:
        return _with_handle(MemoryHistory, ValidatesBeforeClosedCheck).open(env)


# --- session ids -----------------------------------------------------------------------------


class _EmptyIdAccepted(MemoryHistory):
    def open_session(self, session_id: object, *, default_limit: object = None) -> HistorySession:
        if session_id == "" and not self._closed:  # every other id, and a closed store, as before
            return self.session_class(self, "", check_limit(default_limit, "default_limit"))
        return super().open_session(session_id, default_limit=default_limit)


class EmptyIdIsARealId(Variant):
    """``""`` is an ordinary session id: it opens (and reopens) one history.

    openai-agents sessions take any string as ``session_id``.
    """

    rows = frozenset({_ROW_EMPTY_ID})
    fails = frozenset({"HIST-026"})
    source = _SQLITE_SESSION

    def open_history(self, env: Any) -> Any:
        return _EmptyIdAccepted.open(env)


class EmptyIdReplacedByUuid(Variant):
    """``""`` is replaced by a fresh uuid4, so each open of ``""`` reaches a new, empty history.

    google-adk InMemorySessionService and agent-framework ``from_dict``.
    """

    rows = frozenset({_ROW_EMPTY_ID})
    fails = frozenset({"HIST-026"})
    source = "https://github.com/google/adk-python/blob/main/src/google/adk/sessions/in_memory_session_service.py"

    def open_history(self, env: Any) -> Any:
        return EmptyIdBecomesUuid.open(env)


class PaddedIdStripped(Variant):
    """Surrounding whitespace is stripped from ids, so ``" a "`` and ``"a"`` are one session.

    google-adk InMemorySessionService and SqliteSessionService (the database service keeps ids).
    """

    rows = frozenset({'hist.md: padded id `" a "`'})
    # HIST-025: "two strings that differ in any code point reach different histories".
    fails = frozenset({"HIST-025"})
    source = "https://github.com/google/adk-python/blob/main/src/google/adk/sessions/in_memory_session_service.py"

    def open_history(self, env: Any) -> Any:
        return StripsSessionIds.open(env)


class _AnyStringId(MemoryHistory):
    """Any non-empty string the database can bind is an id: no length limit, control characters allowed."""

    def open_session(self, session_id: object, *, default_limit: object = None) -> HistorySession:
        if isinstance(session_id, str) and session_id and not self._closed:  # the rest as before
            check_unicode(session_id, "session_id")  # sqlite3 cannot bind a lone surrogate either
            return self.session_class(self, session_id, check_limit(default_limit, "default_limit"))
        return super().open_session(session_id, default_limit=default_limit)


class AnyStringIdAccepted(Variant):
    """A session id with a control character, or longer than 256 code points, opens a history like any other.

    openai-agents SQLiteSession and SQLAlchemySession bind ``session_id`` to a text column unchecked.
    """

    rows = frozenset({"hist.md: id with a control character, or longer than 256 code points"})
    fails = frozenset({"HIST-026"})
    source = _SQLITE_SESSION

    def open_history(self, env: Any) -> Any:
        return _AnyStringId.open(env)


class _IdEncodedFirst(MemoryHistory):
    """The id is encoded before anything else (``session_id.encode("utf-8")`` as a key salt)."""

    def open_session(self, session_id: object, *, default_limit: object = None) -> HistorySession:
        session_id.encode("utf-8")  # type: ignore[attr-defined]  # AttributeError for 42, None, ...
        return super().open_session(session_id, default_limit=default_limit)


class NonStringIdCrashes(Variant):
    """A session id that is not a string raises ``AttributeError`` when the handle is made: a crash.

    openai-agents EncryptedSession derives its key with ``session_id.encode("utf-8")``.
    """

    rows = frozenset({"hist.md: non-string id"})
    fails = frozenset({"HIST-026"})
    kind = "crashed"
    source = _ENCRYPTED

    def open_history(self, env: Any) -> Any:
        return _IdEncodedFirst.open(env)


#: Rows of the upstream table where no upstream project behaves otherwise than the spec, each
#: with the reason: there is no behaviour to swap in.
AGREES: dict[str, str] = {
    "hist.md: `limit=0`": "every backend returns [] (the Conversations API since openai-agents #4365)",
    "hist.md: `limit` > length": "every backend returns all items, as SQL LIMIT does",
    "hist.md: pop on empty": "every backend returns None",
    "hist.md: default limit 0, then `get_items()`": "openai-agents returns [] for SessionSettings(limit=0)",
    "hist.md: never-written session": (
        "every openai-agents backend reads [] and pops None, as HIST does; the None of google-adk, "
        "agent-framework and a2a-sdk answers a lookup of a missing session record, which HIST does "
        "not have (STORE's get is that operation, store.md)"
    ),
}
