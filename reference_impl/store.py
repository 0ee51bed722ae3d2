"""STORE, the session store: validation, the rules of spec/store.md, and the in-memory backend.

:class:`SessionStore` holds every rule once (ids, expiry, owners, merging) and
works on :class:`Row` values through five primitives that a backend provides
inside :meth:`SessionStore.transaction`: ``load``, ``put``, ``remove``,
``rows`` and ``remove_expired``.  ``MemorySessionStore`` below keeps rows in a
dict; ``SQLiteSessionStore`` (:mod:`reference_impl.store_sqlite`) in a file.

Time is the environment's clock, read once per operation and kept as integer
microseconds since the Unix epoch, so comparisons are exact and a sub-second
TTL keeps its precision (STORE-007 fixes the TTL's rounding and range).

A store class with ``ttl = False`` has no expiry (it does not claim ``store.ttl``): create
takes no TTL, a record's ``expires_at`` and ``ttl_seconds`` are null, touch moves
``last_active_at`` only, and cleanup finds nothing to remove (spec/store.md § Expiry).

Errors follow the contract's precedence (STORE-033): a closed handle first, then the
arguments (checked without looking at stored state), then existence, then conflicts.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import secrets
import threading
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Self

from reference_impl._errors import InvalidArgument, ReferenceImplError, StoreClosed
from reference_impl.history import check_session_id, encode_item

if TYPE_CHECKING:
    import builtins
    from collections.abc import Iterator
    from contextlib import AbstractContextManager

    from reference_impl.history import Environment

__all__ = [
    "MemorySessionStore",
    "NoTTLMemorySessionStore",
    "Row",
    "SessionExists",
    "SessionNotFound",
    "SessionStore",
    "SessionStoreError",
]

_UNIX = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)
#: STORE-007: a TTL is whole microseconds, from 1 to 100 years of 365 days.
MAX_TTL_SECONDS = 100 * 365 * 86400
MAX_TTL_US = MAX_TTL_SECONDS * 1_000_000


class SessionStoreError(ReferenceImplError):
    """Root of the errors the session store raises besides invalid input and closed handles."""

    error_kind: ClassVar[str]


class SessionNotFound(SessionStoreError, LookupError):
    """No live session with this id is visible to the caller."""

    error_kind = "not_found"


class SessionExists(SessionStoreError):
    """A live session already holds this id."""

    error_kind = "conflict"


@dataclass(frozen=True)
class Row:
    """One stored session; ``state`` is JSON text, so nothing stored can be changed from outside."""

    id: str
    owner: str | None
    created_us: int
    active_us: int
    expires_us: int | None  # None: a store without expiry (no ``store.ttl``)
    ttl_us: int | None
    state: str

    def live(self, now_us: int) -> bool:
        """STORE-009: a session is expired from the instant ``now == expires_at`` on; without a TTL, never."""
        return self.expires_us is None or now_us < self.expires_us

    def touched(self, now_us: int) -> Row:
        """STORE-037: active now; STORE-013: expiring now + the TTL (without a TTL, never)."""
        expires = None if self.ttl_us is None else now_us + self.ttl_us
        return replace(self, active_us=now_us, expires_us=expires)

    def visible_to(self, owner: str | None) -> bool:
        """Unscoped callers (``None``) see every session; a scoped caller sees only its own."""
        return owner is None or self.owner == owner

    def record(self) -> dict[str, Any]:
        """A fresh JSON record; the caller may change it freely."""
        return {
            "id": self.id,
            "owner": self.owner,
            "created_at": _rfc3339(self.created_us),
            "last_active_at": _rfc3339(self.active_us),
            "expires_at": None if self.expires_us is None else _rfc3339(self.expires_us),
            "ttl_seconds": None if self.ttl_us is None else self.ttl_us / 1_000_000,
            "state": json.loads(self.state),
        }


def _rfc3339(micros: int) -> str:
    return (_UNIX + micros * _MICRO).isoformat(timespec="microseconds").replace("+00:00", "Z")


# --- validation --------------------------------------------------------------------------


def _check_owner(value: object) -> str | None:
    if value is None:
        return None
    try:
        return check_session_id(value)
    except InvalidArgument as exc:
        msg = str(exc).replace("session_id", "owner", 1) + " (or pass None for an anonymous or unscoped call)"
        raise InvalidArgument(msg) from None


def _check_ttl(value: object) -> int:
    """Return the TTL in whole microseconds, rounded to the nearest (STORE-007)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        msg = f"ttl_seconds must be a finite number of seconds, got {value!r} ({type(value).__name__})"
        raise InvalidArgument(msg)
    micros = round(value * 1_000_000)  # an int stays exact; a float rounds half to even
    if not 1 <= micros <= MAX_TTL_US:
        msg = f"ttl_seconds must round to 1 to {MAX_TTL_US} whole microseconds (100 years), got {value!r}"
        raise InvalidArgument(msg)
    return micros


def _encode_state(value: object) -> str:
    """Check that ``value`` is a JSON object (STORE-018) and return it as JSON text."""
    return encode_item(value, "state")


# --- the store ---------------------------------------------------------------------------


class SessionStore(ABC):
    """One open handle on a session backend; every method follows spec/store.md."""

    #: The capabilities this backend claims (see spec/requirements/store.yaml).
    claims: ClassVar[frozenset[str]]
    #: Whether sessions expire (the capability ``store.ttl``); without it, ``ttl_seconds`` is refused.
    ttl: ClassVar[bool] = True

    def __init__(self, env: Environment) -> None:
        self._clock = env.clock
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, env: Environment) -> Self:
        return cls(env)

    # -- the operations --

    def create(
        self, *, session_id: object = None, owner: object = None, ttl_seconds: object = None, state: object = None
    ) -> dict[str, Any]:
        """Create a session; mint its id when none is given (32 lowercase hex digits, 128 random bits)."""
        self._check_open()
        sid = None if session_id is None else self.check_id(session_id)
        who = self.check_owner(owner)
        ttl = self.check_ttl(ttl_seconds)
        text = self.encode_state({} if state is None else state)
        with self.transaction() as now:
            if sid is None:
                sid = self._mint(now)
            else:
                held = self.load(sid)
                if held is not None and self.holds(held, now):
                    msg = f"session {sid!r} already exists; pick another id, or omit it to have one minted"
                    raise SessionExists(msg)
            row = Row(sid, who, now, now, None if ttl is None else now + ttl, ttl, text)
            self.put(row)
            return row.record()

    def get(self, session_id: object, *, owner: object = None) -> dict[str, Any] | None:
        """Return the live session, or ``None`` when it is missing, expired or someone else's."""
        row = self._visible(session_id, owner, required=False)
        return None if row is None else row.record()

    def touch(self, session_id: object, *, owner: object = None) -> dict[str, Any]:
        """Mark the session active now and move its expiry to now + its TTL."""
        with self._visible_row(session_id, owner) as (row, now):
            fresh = row.touched(now)
            self.put(fresh)
            return fresh.record()

    def update_state(self, session_id: object, state: object, *, owner: object = None) -> dict[str, Any]:
        """Merge the top-level keys of ``state`` into the session's state; nothing else changes."""
        self._check_open()
        text = self.encode_state(state)
        with self._visible_row(session_id, owner) as (row, _):
            merged = json.loads(row.state) | json.loads(text)
            fresh = replace(row, state=json.dumps(merged, ensure_ascii=False))
            self.put(fresh)
            return fresh.record()

    def delete(self, session_id: object, *, owner: object = None) -> None:
        """Remove the session if the caller can see it; otherwise do nothing (idempotent)."""
        self._check_open()
        sid, who = self.check_id(session_id), self.check_owner(owner)
        with self.transaction():
            row = self.load(sid)
            if row is not None and self.is_visible(row, who):
                self.remove(sid)

    def list(self, *, owner: object = None) -> builtins.list[dict[str, Any]]:
        """Every live session the caller can see, oldest first (ties by id, in code point order)."""
        self._check_open()
        who = self.check_owner(owner)
        with self.transaction() as now:
            rows = [r for r in self.rows() if self.is_live(r, now) and self.is_visible(r, who)]
        return [r.record() for r in sorted(rows, key=lambda r: (r.created_us, r.id))]

    def cleanup(self) -> int:
        """Remove every expired session and return how many there were."""
        with self.transaction() as now:
            return self.remove_expired(now)

    def close(self) -> None:
        """Refuse every later call on this handle; closing again does nothing."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._release()

    # -- helpers --

    def is_live(self, row: Row, now_us: int) -> bool:
        """The one expiry predicate every operation uses (STORE-009, STORE-011)."""
        return row.live(now_us)

    def holds(self, row: Row, now_us: int) -> bool:
        """Whether a stored session keeps its id from create: while it is live (STORE-006, STORE-012)."""
        return self.is_live(row, now_us)

    def is_visible(self, row: Row, owner: str | None) -> bool:
        """Who sees a session: every unscoped call (STORE-030), and a scoped one of its owner only (STORE-024)."""
        return row.visible_to(owner)

    def check_id(self, session_id: object) -> str:
        """A valid session id, verbatim (STORE-004, STORE-005)."""
        return check_session_id(session_id)

    def check_owner(self, owner: object) -> str | None:
        """A valid owner, verbatim, or ``None`` (STORE-031)."""
        return _check_owner(owner)

    def encode_state(self, state: object) -> str:
        """Check that ``state`` is a JSON object (STORE-017) and return it as JSON text."""
        return _encode_state(state)

    def check_ttl(self, ttl_seconds: object) -> int | None:
        """The TTL in whole microseconds (STORE-007); ``None`` for a store without expiry, which takes none."""
        if self.ttl:
            return _check_ttl(ttl_seconds)
        if ttl_seconds is not None:
            msg = f"this store keeps every session until it is deleted; leave ttl_seconds out, got {ttl_seconds!r}"
            raise InvalidArgument(msg)
        return None

    def _mint(self, now: int) -> str:
        while True:  # a live clash of 128 random bits never happens, but costs nothing to rule out
            sid = secrets.token_hex(16)
            held = self.load(sid)
            if held is None or not self.is_live(held, now):
                return sid

    def _visible(self, session_id: object, owner: object, *, required: bool) -> Row | None:
        self._check_open()
        sid, who = self.check_id(session_id), self.check_owner(owner)
        with self.transaction() as now:
            row = self.load(sid)
        if row is not None and self.is_live(row, now) and self.is_visible(row, who):
            return row
        if required:
            raise self._not_found(sid)
        return None

    @contextmanager
    def _visible_row(self, session_id: object, owner: object) -> Iterator[tuple[Row, int]]:
        self._check_open()
        sid, who = self.check_id(session_id), self.check_owner(owner)
        with self.transaction() as now:
            row = self.load(sid)
            if row is None or not self.is_live(row, now) or not self.is_visible(row, who):
                raise self._not_found(sid)
            yield row, now

    @staticmethod
    def _not_found(sid: str) -> SessionNotFound:
        return SessionNotFound(f"no live session {sid!r}: it never existed, expired, or was deleted; create it anew")

    def _now_us(self) -> int:
        now = self._clock.now()
        return int((now - _UNIX) // _MICRO)

    def _check_open(self) -> None:
        """STORE-023, first in the precedence of STORE-033: a closed handle answers closed, whatever else is wrong."""
        if self._closed:
            msg = "this session store is closed; open a new one with open_session_store(env)"
            raise StoreClosed(msg)

    @contextmanager
    def transaction(self) -> Iterator[int]:
        """Run the body atomically against every handle on the backend; yield the current instant."""
        with self._lock:
            self._check_open()
            with self._atomic():
                yield self._now_us()

    # -- what a backend provides --

    @abstractmethod
    def _atomic(self) -> AbstractContextManager[None]: ...

    @abstractmethod
    def load(self, session_id: str) -> Row | None: ...

    @abstractmethod
    def put(self, row: Row) -> None: ...

    @abstractmethod
    def remove(self, session_id: str) -> None: ...

    @abstractmethod
    def rows(self) -> builtins.list[Row]: ...

    @abstractmethod
    def remove_expired(self, now_us: int) -> int: ...

    @abstractmethod
    def _release(self) -> None: ...


class MemorySessionStore(SessionStore):
    """Rows in a dict; each handle has its own, so nothing is shared or survives a restart."""

    claims = frozenset({"store", "store.ttl"})

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        self._rows: dict[str, Row] = {}

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        yield  # the handle's lock, held by transaction(), is all the atomicity one dict needs

    def load(self, session_id: str) -> Row | None:
        return self._rows.get(session_id)

    def put(self, row: Row) -> None:
        self._rows[row.id] = row

    def remove(self, session_id: str) -> None:
        self._rows.pop(session_id, None)

    def rows(self) -> builtins.list[Row]:
        return list(self._rows.values())

    def remove_expired(self, now_us: int) -> int:
        dead = [sid for sid, row in self._rows.items() if not self.is_live(row, now_us)]
        for sid in dead:
            del self._rows[sid]
        return len(dead)

    def _release(self) -> None:
        self._rows.clear()


class NoTTLMemorySessionStore(MemorySessionStore):
    """The in-memory store without expiry: every session lives until it is deleted (no ``store.ttl``)."""

    claims = MemorySessionStore.claims - {"store.ttl"}
    ttl = False
