"""BCAST — the notification broadcaster: fan-out of JSON-RPC notifications (spec/bcast.md).

Three parts, as in every area module: the Python protocols an in-process implementation
provides (:class:`BroadcasterImplementation`, :class:`Broadcaster`, :class:`Subscription`),
:class:`InProcessBcast`, which turns the wire operations into calls on those objects, and
:class:`BcastClient`, the facade the suite writes its tests against.

Wire operations: one table each in spec/bcast.md § Operations, the source of truth that
``conformance.tools.optables`` holds these protocols to.

* ``session_id`` is for attribution only: every event reaches every active subscription
  (BCAST-002).  ``buffer_size`` absent or null: the implementation's default (BCAST-011).
* An *event* is a JSON-RPC 2.0 notification ``{"jsonrpc": "2.0", "method", "params"?}``
  (schemas/bcast/event.schema.json).
* ``bcast.receive`` never waits: it returns every event buffered for the subscription, oldest
  first, and ``ended``: null while the subscription is active, else ``"dropped"`` (its buffer
  was full when an event was published), ``"cancelled"`` or ``"closed"``.
* The subscription string names the object ``subscribe`` returned; the binding (or an adapter)
  assigns it, the implementation never sees it.

In Python: ``open_broadcaster(env)`` returns the broadcaster; ``subscribe(session_id)`` or
``subscribe(session_id, buffer_size=n)`` (the keyword is passed only when the kit sent it, as
``None`` when it sent null) returns a subscription with ``receive()`` and ``cancel()``;
``publish(event)``, ``subscriber_count()`` and ``close()``.  Every method may be a coroutine.
Operations: schemas/bcast/operations.schema.json.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Protocol

from conformance._binding import AreaBinding
from conformance._traceback import kit_frame
from conformance.areas._facade import UNSET, Answer, passed
from conformance.errors import ImplementationFault

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from conformance.contract import Environment
    from conformance.driver import Driver

AREA = "bcast"

#: Why a subscription ended, as ``bcast.receive`` reports it.
END_REASONS = ("dropped", "cancelled", "closed")


class Subscription(Protocol):
    """One subscriber's stream of events."""

    def receive(self) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        """``{"events": [...], "ended": None | "dropped" | "cancelled" | "closed"}``, without waiting."""
        ...

    def cancel(self) -> None | Awaitable[None]: ...


class Broadcaster(Protocol):
    """Fans JSON-RPC notifications out to every active subscription."""

    def subscribe(self, session_id: Any, *, buffer_size: Any = None) -> Subscription | Awaitable[Subscription]: ...
    def publish(self, event: Any) -> None | Awaitable[None]: ...
    def subscriber_count(self) -> int | Awaitable[int]: ...
    def close(self) -> None | Awaitable[None]: ...


class BroadcasterImplementation(Protocol):
    """An implementation that claims ``bcast`` has this factory."""

    def open_broadcaster(self, env: Environment) -> Broadcaster | Awaitable[Broadcaster]: ...


class InProcessBcast(AreaBinding):
    """Carries BCAST operations to Python objects."""

    area = AREA
    factory_name = "open_broadcaster"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._subscriptions: dict[str, Any] = {}
        self._names = itertools.count(1)
        self._closed = False

    async def op_subscribe(self, args: dict[str, Any]) -> str:
        broadcaster = await self.root()
        kwargs = {"buffer_size": args["buffer_size"]} if "buffer_size" in args else {}
        sub = await self.invoke(broadcaster.subscribe, args.get("session_id"), **kwargs)
        if sub is None:
            msg = "subscribe returned None; it must return the subscription (an ended one after close)"
            raise ImplementationFault(msg)
        name = f"sub{next(self._names)}"
        self._subscriptions[name] = sub
        return name

    async def op_publish(self, args: dict[str, Any]) -> None:
        await self.invoke((await self.root()).publish, args.get("event"))

    async def op_receive(self, args: dict[str, Any]) -> Any:
        sub = self.lookup(self._subscriptions, args, "subscription")
        return await self.invoke(sub.receive)

    async def op_cancel(self, args: dict[str, Any]) -> None:
        sub = self.lookup(self._subscriptions, args, "subscription")
        await self.invoke(sub.cancel)

    async def op_subscriber_count(self, args: dict[str, Any]) -> Any:
        return await self.invoke((await self.root()).subscriber_count)

    async def op_close(self, args: dict[str, Any]) -> None:
        await self.invoke((await self.root()).close)
        self._closed = True

    async def aclose(self) -> None:
        self._subscriptions = {}
        if self._closed:  # the test closed it already; BCAST-020 judges a second close, teardown does not
            self._root = None
            return
        await super().aclose()


class BcastClient:
    """The suite's view of a BCAST implementation."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver

    def _call(self, name: str, **args: Any) -> Answer:
        return self.driver.call(f"{AREA}.{name}", passed(**args))

    def subscribe(self, session_id: Any = "s1", *, buffer_size: Any = UNSET) -> Answer:
        """The subscription's name (a string the binding or the adapter assigns)."""
        return self._call("subscribe", session_id=session_id, buffer_size=buffer_size)

    def publish(self, event: Any) -> Answer:
        """What the implementation answered: null, when it conforms (BCAST-014)."""
        return self._call("publish", event=event)

    def receive(self, subscription: str) -> Answer:
        return self._call("receive", subscription=subscription)

    def cancel(self, subscription: str) -> None:
        self._call("cancel", subscription=subscription)

    def subscriber_count(self) -> Answer:
        return self._call("subscriber_count")

    def close(self) -> None:
        self._call("close")
