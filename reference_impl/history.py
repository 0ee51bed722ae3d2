"""HIST, the conversation-history store: validation, handles, and the in-memory backend.

A *store* (``HistoryStore``) owns the storage and four primitives over JSON text
(load, append, pop, clear).  A *handle* (``HistorySession``) is what a caller
holds for one session id: it validates arguments, turns items into JSON text
and back, and refuses every call once closed.  So the rules of the spec live
here once, and a backend only decides where the text goes (``MemoryHistory``
below, ``SQLiteHistory`` in :mod:`reference_impl.history_sqlite`).
"""

from __future__ import annotations

import json
import math
import re
import threading
from abc import ABC, abstractmethod
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

from reference_impl._errors import InvalidArgument, StoreClosed

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = [
    "MAX_SESSION_ID_LENGTH",
    "Environment",
    "HistorySession",
    "HistoryStore",
    "Item",
    "MemoryHistory",
    "check_limit",
    "check_session_id",
    "encode_batch",
    "encode_item",
]

#: An item is a JSON object.
Item = dict[str, Any]

MAX_SESSION_ID_LENGTH = 256
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class Environment(Protocol):
    """What a factory is handed: a directory of its own, and the kit's clock (HIST needs no time)."""

    @property
    def storage_dir(self) -> Path: ...

    @property
    def clock(self) -> Any: ...


# --- validation --------------------------------------------------------------------------


def describe(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def check_unicode(text: str, where: str) -> None:
    # A lone surrogate is not Unicode text: UTF-8 (hence SQLite, and most JSON peers) cannot carry it.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        msg = f"{where} contains a lone surrogate U+{code:04X} at index {exc.start}; only Unicode text can be stored"
        raise InvalidArgument(msg) from None


def check_session_id(value: object, what: str = "session_id") -> str:
    """Return ``value`` unchanged if it is a valid session id; raise :class:`InvalidArgument` otherwise.

    Valid: a ``str`` of 1 to 256 code points with no control character and no lone
    surrogate.  Nothing is trimmed, normalised or case-folded.
    """
    if not isinstance(value, str):
        msg = f"{what} must be a str, got {describe(value)}"
        raise InvalidArgument(msg)
    if not value:
        msg = f"{what} must not be empty; pass 1 to {MAX_SESSION_ID_LENGTH} characters"
        raise InvalidArgument(msg)
    if len(value) > MAX_SESSION_ID_LENGTH:
        msg = f"{what} is {len(value)} characters long; shorten it to at most {MAX_SESSION_ID_LENGTH}"
        raise InvalidArgument(msg)
    if match := _CONTROL.search(value):
        msg = f"{what} contains control character U+{ord(match.group()):04X} at index {match.start()}; remove it"
        raise InvalidArgument(msg)
    check_unicode(value, what)
    return value


def check_limit(value: object, name: str = "limit") -> int | None:
    """Return ``value`` if it is ``None`` or an ``int >= 0`` (not a ``bool``); raise otherwise."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    msg = f"{name} must be a non-negative integer or None, got {describe(value)}"
    raise InvalidArgument(msg)


def check_json(value: object, where: str) -> None:
    if value is None or isinstance(value, (bool, int)):
        return  # ints of any size: JSON text keeps every digit
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"{where} is {value!r}, which JSON cannot express; send null or a string instead"
            raise InvalidArgument(msg)
    elif isinstance(value, str):
        check_unicode(value, where)
    elif isinstance(value, list):
        for index, element in enumerate(value):
            check_json(element, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, element in value.items():
            if not isinstance(key, str):
                msg = f"{where} has the key {describe(key)}; JSON object keys must be str, so convert it first"
                raise InvalidArgument(msg)
            check_unicode(key, f"a key of {where}")
            check_json(element, f"{where}[{key!r}]")
    else:
        msg = f"{where} is {describe(value)}, which is not JSON; use dict, list, str, int, a finite float, bool or None"
        raise InvalidArgument(msg)


def encode_item(item: object, where: str = "item") -> str:
    """Check that ``item`` is a JSON object and return it as JSON text."""
    if not isinstance(item, dict):
        msg = f"{where} must be a JSON object (a dict with str keys), got {describe(item)}"
        raise InvalidArgument(msg)
    try:
        check_json(item, where)
        return json.dumps(item, ensure_ascii=False, allow_nan=False)
    except InvalidArgument:
        raise
    except RecursionError:
        msg = f"{where} is nested too deeply to store; flatten it"
        raise InvalidArgument(msg) from None
    except ValueError as exc:  # e.g. an int beyond sys.get_int_max_str_digits()
        msg = f"{where} cannot be written as JSON text: {exc}"
        raise InvalidArgument(msg) from None


def encode_batch(items: object) -> list[str]:
    """Check a whole batch before anything is stored and return its items as JSON text."""
    if not isinstance(items, list):
        msg = f"items must be a list of JSON objects, got {describe(items)}; wrap a single item as [item]"
        raise InvalidArgument(msg)
    return [encode_item(item, f"items[{index}]") for index, item in enumerate(items)]


# --- handles and stores ------------------------------------------------------------------


class HistorySession:
    """One session's history as a caller holds it; every read returns fresh objects."""

    def __init__(self, store: HistoryStore, session_id: str, default_limit: int | None) -> None:
        self.session_id = session_id
        self.default_limit = default_limit
        self._store = store
        self._closed = False

    def get_items(self, limit: object = None) -> list[Item]:
        """Return the newest ``limit`` items (all, or ``default_limit``, when ``None``), oldest first."""
        self._check_open()
        checked = check_limit(limit)
        if checked is None:
            checked = self.default_limit
        return [json.loads(text) for text in self._store.load(self.session_id, checked)]

    def add_items(self, items: object) -> None:
        """Append a batch atomically: every item is stored, contiguously and in order, or none is."""
        self._check_open()
        self._store.append(self.session_id, encode_batch(items))

    def pop_item(self) -> Item | None:
        """Remove and return the newest item, or ``None`` if there is none."""
        self._check_open()
        text = self._store.pop(self.session_id)
        return None if text is None else json.loads(text)

    def clear_session(self) -> None:
        """Remove every item of this session (and no other)."""
        self._check_open()
        self._store.clear(self.session_id)

    def close(self) -> None:
        """Refuse every later call on this handle; closing again does nothing."""
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._store._closed:  # closed first, before any argument (HIST-030, HIST-031)
            raise self._store._closed_error()
        if self._closed:
            msg = f"the history handle for session {self.session_id!r} is closed; open a new one with open_session()"
            raise StoreClosed(msg)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self.session_id!r} {state}>"


class HistoryStore(ABC):
    """Storage shared by every handle opened from it; subclasses provide the four primitives.

    Each primitive takes ``self.locked()`` for its whole duration, so each one is
    atomic with respect to every other call on this store, from any thread.
    """

    #: The capabilities this backend claims (see spec/requirements/hist.yaml).
    claims: ClassVar[frozenset[str]]
    #: What :meth:`open_session` returns; a subclass may hand out a subclass.
    session_class: ClassVar[type[HistorySession]] = HistorySession

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    @abstractmethod
    def open(cls, env: Environment) -> Self:
        """Open the store over ``env``; a second call with the same ``env`` is a restart."""

    def open_session(self, session_id: object, *, default_limit: object = None) -> HistorySession:
        """Return a handle on ``session_id``; a session that was never written reads as empty."""
        if self._closed:
            raise self._closed_error()
        return self.session_class(self, check_session_id(session_id), check_limit(default_limit, "default_limit"))

    def close(self) -> None:
        """Close the store; every handle opened from it then fails as closed.  Idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._release()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock, failing as closed if the store was closed."""
        with self._lock:
            if self._closed:
                raise self._closed_error()
            yield

    def _closed_error(self) -> StoreClosed:
        return StoreClosed("this history store is closed; open a new one with open_history(env)")

    @abstractmethod
    def _release(self) -> None:
        """Free what the store holds (called once, under the lock)."""

    # The primitives: JSON text in, JSON text out, insertion order throughout.

    @abstractmethod
    def load(self, session_id: str, limit: int | None) -> list[str]:
        """Return the newest ``limit`` items (all if ``None``), oldest first."""

    @abstractmethod
    def append(self, session_id: str, texts: list[str]) -> None:
        """Append ``texts`` after every item stored so far, contiguously."""

    @abstractmethod
    def pop(self, session_id: str) -> str | None:
        """Remove and return the newest item, or ``None``."""

    @abstractmethod
    def clear(self, session_id: str) -> None:
        """Remove every item of ``session_id``."""


class MemoryHistory(HistoryStore):
    """Items held as JSON text in a dict of lists; gone when the process (or the store) ends."""

    claims = frozenset({"hist", "hist.shared-handles"})

    def __init__(self) -> None:
        super().__init__()
        # JSON text, never the caller's objects: nothing stored can be mutated from outside.
        self._sessions: dict[str, list[str]] = {}

    @classmethod
    def open(cls, env: Environment) -> Self:  # noqa: ARG003 - memory needs nothing from env
        return cls()  # so nothing survives a restart

    def load(self, session_id: str, limit: int | None) -> list[str]:
        with self.locked():
            rows = self._sessions.get(session_id, [])
            return rows[:] if limit is None else rows[max(0, len(rows) - limit) :]

    def append(self, session_id: str, texts: list[str]) -> None:
        with self.locked():
            self._sessions.setdefault(session_id, []).extend(texts)

    def pop(self, session_id: str) -> str | None:
        with self.locked():
            rows = self._sessions.get(session_id)
            return rows.pop() if rows else None

    def clear(self, session_id: str) -> None:
        with self.locked():
            self._sessions.pop(session_id, None)

    def _release(self) -> None:
        self._sessions.clear()
