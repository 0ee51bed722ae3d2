"""STORE — the session store: records with owner, state and expiry (spec/store.md).

Three parts, kept together so that one file answers "what does STORE look like":

* the Python protocols an in-process implementation provides
  (:class:`SessionStoreImplementation`, :class:`SessionStore`);
* :class:`InProcessStore`, which turns the area's wire operations into calls on
  those objects (the subprocess transport forwards the same operations instead);
* :class:`StoreClient`, the typed facade the suite writes its tests against.

Wire operations: one table each in spec/store.md § Operations, the source of truth that
``conformance.tools.optables`` holds these protocols to.  Every operation also takes an optional
``handle`` (a string from ``store.open_handle``); without one it goes to the *default handle*,
which the adapter opens on first use and again after ``store.reopen``.

In Python the wire ``id`` is the keyword ``session_id`` (``id`` shadows a builtin):
``create(*, session_id=None, owner=None, ttl_seconds=None, state=None)``,
``get(session_id, *, owner=None)``, ``update_state(session_id, state, *, owner=None)``, ...
Null and absence are carried faithfully (spec/store.md § Operations): an optional argument
(``id`` and ``state`` of ``store.create``, ``owner`` everywhere, ``ttl_seconds`` of a store
without ``store.ttl``) that the kit sent as null is passed as the keyword set to ``None``, and one
the kit left out is not passed at all; a required argument (``id`` outside ``store.create``,
``state`` of ``store.update_state``) is always passed, as sent.  ``ttl_seconds`` is required of a
store that claims ``store.ttl``: the kit always sends it, as the test chose it.  For every optional argument null means
what absence means, so an implementation treats ``None`` like the keyword's absence.

Arguments:

* ``id`` absent or null in ``store.create``: the store mints one. Elsewhere ``id``
  is required; a present value is handed over exactly as the kit sent it.
* ``owner`` absent or null: the call is *unscoped* (trusted server code; it sees
  every session). A string: the call is *scoped* to that owner and sees only the
  sessions created with exactly that owner. In ``store.create`` it is the owner of
  the new session (null: anonymous).
* ``ttl_seconds``: for a store that claims ``store.ttl``, a positive number, possibly fractional
  (``0.25``); the store counts it in whole microseconds (STORE-007).  A store without
  ``store.ttl`` has no expiry: the kit sends it no TTL at all, or null.
* ``state``: a JSON object; absent in ``store.create`` means ``{}``.

A *record* is the JSON object
``{"id", "owner", "created_at", "last_active_at", "expires_at", "ttl_seconds", "state"}``
(schemas/store/record.schema.json): ``owner`` is a string or null, the three
instants are RFC 3339 UTC strings (``"2026-01-01T00:00:00.250Z"``) at full
precision, ``state`` is a JSON object.  Without ``store.ttl``, ``expires_at`` and
``ttl_seconds`` are null.

Handles and restarts:

* ``store.open_handle`` opens one more store over the same environment without
  closing the others: two handles over one shared backend (capability
  ``store.shared-backend``; in Python, a second ``open_session_store(env)`` call).
* ``store.close`` closes one handle (the default one, or ``handle``); it is
  idempotent and every other operation on a closed handle fails with ``closed``.
* ``store.reopen`` closes every open handle, then opens a new default handle over
  the same environment: a restart (capability ``store.persistent`` says data survives).

Errors, in the order of precedence when several apply (STORE-033): ``closed``,
``invalid_argument`` (bad id, owner, ttl or state; nothing written), ``not_found``
(touch / update_state of a missing, expired or other owner's session), ``conflict``
(create of an id a live session holds).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from conformance._binding import AreaBinding
from conformance._traceback import kit_frame
from conformance.areas._facade import UNSET, Answer, passed
from conformance.errors import KitError

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from conformance.contract import Environment
    from conformance.driver import Driver

AREA = "store"

#: A record as the wire carries it (see the module docstring).
Record = dict[str, Any]

RECORD_FIELDS = ("id", "owner", "created_at", "last_active_at", "expires_at", "ttl_seconds", "state")
_INSTANTS = ("created_at", "last_active_at", "expires_at")


class SessionStore(Protocol):
    """One open store handle. Records may be dicts or objects with the record's fields.

    Instants may be aware datetimes or RFC 3339 strings; the binding writes strings.
    """

    def create(
        self, *, session_id: Any = None, owner: Any = None, ttl_seconds: Any = None, state: Any = None
    ) -> Any | Awaitable[Any]: ...
    def get(self, session_id: Any, *, owner: Any = None) -> Any | Awaitable[Any]: ...
    def touch(self, session_id: Any, *, owner: Any = None) -> Any | Awaitable[Any]: ...
    def update_state(self, session_id: Any, state: Any, *, owner: Any = None) -> Any | Awaitable[Any]: ...
    def delete(self, session_id: Any, *, owner: Any = None) -> None | Awaitable[None]: ...
    def list(self, *, owner: Any = None) -> Any | Awaitable[Any]: ...
    def cleanup(self) -> int | Awaitable[int]: ...
    def close(self) -> None | Awaitable[None]: ...


class SessionStoreImplementation(Protocol):
    """An implementation that claims ``store`` has this factory."""

    def open_session_store(self, env: Environment) -> SessionStore | Awaitable[SessionStore]:
        """Open a store handle over ``env.storage_dir`` that reads time from ``env.clock``.

        Several open handles over one environment share one backend; opening one
        after every earlier handle was closed is a restart.
        """
        ...


def _instant(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.isoformat()  # left naive on purpose: the suite reports it as wrong
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return value


def to_wire_record(value: Any) -> Any:
    """Return a record as the wire carries it.

    A dict whose instants are already strings is returned as the very same
    object, and ``state`` is never copied, so the suite can see aliasing
    (STORE-019) in process.
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        if isinstance(value, dict) and not any(isinstance(value.get(k), dt.datetime) for k in _INSTANTS):
            return value
        return {k: _instant(v) for k, v in value.items()}
    fields = {k: getattr(value, k) for k in RECORD_FIELDS if hasattr(value, k)}
    return {k: _instant(v) for k, v in fields.items()}


class InProcessStore(AreaBinding):
    """Carries STORE operations to Python objects."""

    area = AREA
    factory_name = "open_session_store"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stores: dict[str, Any] = {}
        self._closed: set[str] = set()
        self._default: str | None = None
        self._ids = itertools.count(1)
        # Concurrent first operations must open one default handle, not one each.
        self._opening = asyncio.Lock()

    async def _open(self) -> str:
        store = await self.call_factory()
        handle = f"s{next(self._ids)}"
        self._stores[handle] = store
        return handle

    async def _store(self, args: dict[str, Any]) -> Any:
        if "handle" in args:
            return self.lookup(self._stores, args, "handle")
        async with self._opening:
            if self._default is None:
                self._default = await self._open()
        return self._stores[self._default]

    @staticmethod
    def _scope(args: dict[str, Any]) -> dict[str, Any]:
        # Null is passed as None and absence as no keyword at all (D3: the implementation, not
        # the binding, decides that the two mean the same).
        return {"owner": args["owner"]} if "owner" in args else {}

    async def op_create(self, args: dict[str, Any]) -> Any:
        store = await self._store(args)
        kwargs: dict[str, Any] = {}
        for wire, name in (
            ("id", "session_id"),
            ("owner", "owner"),
            ("ttl_seconds", "ttl_seconds"),
            ("state", "state"),
        ):
            if wire in args:
                kwargs[name] = args[wire]
        return to_wire_record(await self.invoke(store.create, **kwargs))

    async def op_get(self, args: dict[str, Any]) -> Any:
        store = await self._store(args)
        return to_wire_record(await self.invoke(store.get, args.get("id"), **self._scope(args)))

    async def op_touch(self, args: dict[str, Any]) -> Any:
        store = await self._store(args)
        return to_wire_record(await self.invoke(store.touch, args.get("id"), **self._scope(args)))

    async def op_update_state(self, args: dict[str, Any]) -> Any:
        store = await self._store(args)
        result = await self.invoke(store.update_state, args.get("id"), args.get("state"), **self._scope(args))
        return to_wire_record(result)

    async def op_delete(self, args: dict[str, Any]) -> None:
        store = await self._store(args)
        await self.invoke(store.delete, args.get("id"), **self._scope(args))

    async def op_list(self, args: dict[str, Any]) -> Any:
        store = await self._store(args)
        records = await self.invoke(store.list, **self._scope(args))
        if not isinstance(records, list):
            records = list(records)
        return [to_wire_record(r) for r in records]

    async def op_cleanup(self, args: dict[str, Any]) -> Any:
        store = await self._store(args)
        return await self.invoke(store.cleanup)

    async def op_close(self, args: dict[str, Any]) -> None:
        store = await self._store(args)
        await self.invoke(store.close)
        self._closed.add(args.get("handle", self._default or ""))

    async def op_open_handle(self, args: dict[str, Any]) -> str:
        await self._store({})  # the default handle is always the first one opened
        return await self._open()

    async def op_reopen(self, args: dict[str, Any]) -> None:
        await self.aclose()
        self._default = await self._open()

    async def aclose(self) -> None:
        stores, closed = self._stores, self._closed
        self._stores, self._closed, self._default = {}, set(), None
        for handle, store in stores.items():
            if handle not in closed:
                await self.invoke(store.close)


class StoreClient:
    """The suite's view of a STORE implementation, bound to one handle (None: the default)."""

    def __init__(self, driver: Driver, handle: str | None = None) -> None:
        self.driver = driver
        self.handle = handle
        #: Whether sessions expire: the implementation claims ``store.ttl`` (spec/store.md § Expiry).
        self.ttl = driver.info.claimed("store.ttl")

    def op(self, name: str, **args: Any) -> tuple[str, dict[str, Any]]:
        """An operation description for ``Driver.concurrently`` (``UNSET`` values are left out).

        ``ttl_seconds`` of ``create`` reaches only a store that claims ``store.ttl``.  A store
        without expiry is sent no TTL (a test written for both kinds names the TTL it gives a store
        that has them), except an explicit ``None``, sent as null: for such a store null means
        what absence means.
        """
        if name == "create" and not self.ttl and args.get("ttl_seconds") is not None:
            args["ttl_seconds"] = UNSET
        wire = passed(**args)
        if self.handle is not None:
            wire["handle"] = self.handle
        return (f"{AREA}.{name}", wire)

    def _call(self, name: str, **args: Any) -> Answer:
        return self.driver.call(*self.op(name, **args))

    def create(self, sid: Any = UNSET, *, ttl_seconds: Any = 60, owner: Any = UNSET, state: Any = UNSET) -> Answer:
        """``store.create``; ``ttl_seconds`` reaches only a store that claims ``store.ttl`` (see :meth:`op`)."""
        return self._call("create", id=sid, owner=owner, ttl_seconds=ttl_seconds, state=state)

    def get(self, sid: Any, *, owner: Any = UNSET) -> Answer:
        return self._call("get", id=sid, owner=owner)

    def touch(self, sid: Any, *, owner: Any = UNSET) -> Answer:
        return self._call("touch", id=sid, owner=owner)

    def update_state(self, sid: Any, state: Any, *, owner: Any = UNSET) -> Answer:
        return self._call("update_state", id=sid, state=state, owner=owner)

    def delete(self, sid: Any, *, owner: Any = UNSET) -> None:
        self._call("delete", id=sid, owner=owner)

    def list(self, *, owner: Any = UNSET) -> Answer:
        return self._call("list", owner=owner)

    def cleanup(self) -> Answer:
        return self._call("cleanup")

    def close(self) -> None:
        self._call("close")

    def open_handle(self) -> StoreClient:
        """Open one more store handle over the same backend (``store.shared-backend``)."""
        handle = self.driver.call(f"{AREA}.open_handle", {})
        if not isinstance(handle, str):
            msg = f"store.open_handle returned {handle!r}, not a handle string"
            raise KitError(msg)
        return StoreClient(self.driver, handle)

    def reopen(self) -> None:
        """Close every handle, then open a new default handle over the same storage."""
        self.driver.call(f"{AREA}.reopen", {})

    def advance(self, seconds: float) -> None:
        self.driver.advance_clock(seconds)
