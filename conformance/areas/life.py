"""LIFE — session lifecycle events and server-assigned ids (spec/lifecycle.md).

The kit plays the server.  The implementation's *client* is reached through JSON
operations only, so a client written in any language can sit behind the subprocess
transport: ``life.create`` starts a create and returns at once; the kit reads the
request from ``life.outbox``, composes a reply or an event (see
:mod:`conformance.suite._life_peer`) and hands it over with ``life.deliver``.  Time
is never waited for: ``life.timeout`` fires a request's timer.  An implementation
that also claims ``life.server`` is checked the other way round: the kit sends it
requests and validates what it emits (:func:`conformance.suite._life_peer.check_event_stream`).

Wire operations: one table each in spec/lifecycle.md § Operations, the source of truth that
``conformance.tools.optables`` holds these protocols and ``_CLIENT_OPS``/``_SERVER_OPS`` to
(``op`` is an opaque string the client chose).

The first twelve need ``life`` (factory ``open_lifecycle_client``); the last two need
``life.server`` (factory ``open_lifecycle_server``).  Schemas: ``schemas/life/``.

What the kit relies on (spec/lifecycle.md § How the kit tests a client):

- ``life.deliver`` answers only once dispatch is complete: every handler the event is owed has
  been called and has finished (returned, settled, or failed in its language's way);
- ``life.events {handler}`` returns what every handler subscribed under that *name* received since
  the client was opened: unsubscribing keeps the records, subscribing the name again adds to them;
- ``life.registry`` sorts ids by Unicode code point;
- ``life.create`` of a registered or in-flight id fails itself with ``conflict`` (no op, LIFE-015);
- ``null`` for an optional argument means what its absence means; for a required one it is
  ``invalid_argument``; several faults in one call: the contract's precedence (LIFE-032).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from conformance._binding import AreaBinding
from conformance._traceback import kit_frame
from conformance.areas._facade import UNSET, Answer, passed

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from conformance.contract import Environment
    from conformance.driver import Driver

AREA = "life"
Json = Any
_MaybeAwait = Any  # a value, or an awaitable of it: the kit awaits what is awaitable


class LifecycleClientAdapter(Protocol):
    """A client under test, wrapped so that each wire operation is one method."""

    def create(self, session_id: str | None = None) -> str | Awaitable[str]: ...
    def resume(self, session_id: str) -> str | Awaitable[str]: ...
    def delete(self, session_id: str) -> str | Awaitable[str]: ...
    def outbox(self) -> list[Json] | Awaitable[list[Json]]: ...
    def deliver(self, message: Json) -> None | Awaitable[None]: ...
    def result(self, op: str) -> dict[str, Json] | Awaitable[dict[str, Json]]: ...
    def timeout(self, op: str) -> None | Awaitable[None]: ...
    def registry(self) -> dict[str, Json] | Awaitable[dict[str, Json]]: ...
    def subscribe(
        self, handler: str, behaviour: str, session_id: str | None = None, event_type: str | None = None
    ) -> None | Awaitable[None]: ...
    def unsubscribe(self, handler: str) -> None | Awaitable[None]: ...
    def events(self, handler: str | None = None) -> list[Json] | Awaitable[list[Json]]: ...
    def diagnostics(self) -> list[str] | Awaitable[list[str]]: ...
    def close(self) -> None | Awaitable[None]: ...


class LifecycleServerAdapter(Protocol):
    """A server under test: answers one request at a time and returns what it sends."""

    def handle(self, message: Json) -> list[Json] | Awaitable[list[Json]]: ...
    def touch(self, session_id: str, kind: str) -> list[Json] | Awaitable[list[Json]]: ...
    def close(self) -> None | Awaitable[None]: ...


class LifecycleImplementation(Protocol):
    """An implementation that claims ``life`` (and perhaps ``life.server``) has these factories."""

    def open_lifecycle_client(self, env: Environment) -> _MaybeAwait: ...
    def open_lifecycle_server(self, env: Environment) -> _MaybeAwait: ...


#: Operations the spec gives no error answers: anything they raise is a crash, never an error kind.
_NO_ANSWERS = frozenset({"deliver", "outbox", "registry", "events", "diagnostics"})

_CLIENT_OPS = {
    # op name: (method, positional argument keys, optional keyword argument keys)
    "create": ("create", (), ("session_id",)),
    "resume": ("resume", ("session_id",), ()),
    "delete": ("delete", ("session_id",), ()),
    "outbox": ("outbox", (), ()),
    "deliver": ("deliver", ("message",), ()),
    "result": ("result", ("op",), ()),
    "timeout": ("timeout", ("op",), ()),
    "registry": ("registry", (), ()),
    "subscribe": ("subscribe", ("handler", "behaviour"), ("session_id", "event_type")),
    "unsubscribe": ("unsubscribe", ("handler",), ()),
    "events": ("events", (), ("handler",)),
    "diagnostics": ("diagnostics", (), ()),
}

_SERVER_OPS = {
    # op name: (server adapter method, positional argument keys, optional keyword argument keys)
    "server_handle": ("handle", ("message",), ()),
    "server_touch": ("touch", ("session_id", "type"), ()),
}


class InProcessLife(AreaBinding):
    """Carries LIFE operations to a Python client adapter (and server adapter)."""

    area = AREA
    factory_name = "open_lifecycle_client"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: Any = None
        self._server: Any = None

    async def _open(self, factory_name: str) -> Any:
        return await self.open_factory(factory_name)

    async def dispatch(self, name: str, args: dict[str, Any]) -> Any:
        if name in _CLIENT_OPS:
            if self._client is None:
                self._client = await self._open("open_lifecycle_client")
            method, positional, optional = _CLIENT_OPS[name]
            kwargs = {key: args[key] for key in optional if key in args}
            fn = getattr(self._client, method)
            return await self.invoke(fn, *(args.get(k) for k in positional), answers=name not in _NO_ANSWERS, **kwargs)
        if name in _SERVER_OPS:
            if self._server is None:
                self._server = await self._open("open_lifecycle_server")
            method, positional, _ = _SERVER_OPS[name]
            return await self.invoke(getattr(self._server, method), *(args.get(k) for k in positional))
        return await super().dispatch(name, args)

    async def aclose(self) -> None:
        for opened in (self._client, self._server):
            if opened is not None:
                await self.invoke(opened.close)
        self._client = self._server = None


class LifeClient:
    """The suite's view of a LIFE client under test (and of a LIFE server, for ``life.server``)."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver

    def _call(self, name: str, **args: Any) -> Answer:
        return self.driver.call(f"life.{name}", passed(**args))

    def create(self, session_id: Any = None) -> Answer:
        """``None`` (the default) leaves ``session_id`` out: the server assigns one."""
        return self._call("create", session_id=UNSET if session_id is None else session_id)

    def resume(self, session_id: str) -> Answer:
        return self._call("resume", session_id=session_id)

    def delete(self, session_id: str) -> Answer:
        return self._call("delete", session_id=session_id)

    def outbox(self) -> Answer:
        return self._call("outbox")

    def deliver(self, message: Any) -> None:
        self._call("deliver", message=message)

    def result(self, op: str) -> Answer:
        return self._call("result", op=op)

    def timeout(self, op: str) -> None:
        self._call("timeout", op=op)

    def registry(self) -> Answer:
        return self._call("registry")

    def sessions(self) -> list[str]:
        return list(self.registry()["sessions"])

    def subscribe(
        self, handler: str, behaviour: str = "record", *, session_id: Any = UNSET, event_type: Any = UNSET
    ) -> None:
        self._call("subscribe", handler=handler, behaviour=behaviour, session_id=session_id, event_type=event_type)

    def unsubscribe(self, handler: str) -> None:
        self._call("unsubscribe", handler=handler)

    def events(self, handler: str | None = None) -> Answer:
        """``None`` (the default) leaves ``handler`` out: every delivery, to any handler."""
        return self._call("events", handler=UNSET if handler is None else handler)

    def diagnostics(self) -> Answer:
        return self._call("diagnostics")

    def server_handle(self, message: Any) -> Answer:
        return self._call("server_handle", message=message)

    def server_touch(self, session_id: str, kind: str) -> Answer:
        return self._call("server_touch", session_id=session_id, type=kind)
