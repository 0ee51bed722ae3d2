"""BCAST, the notification broadcaster: fan-out of JSON-RPC notifications (spec/bcast.md).

One lock guards everything: the subscriptions, their buffers and the closed flag, so a
``publish`` reaches every subscription at one instant and every subscription sees the events
in the order the publishes took the lock (BCAST-003).  ``publish`` never waits for a reader:
a subscription whose buffer is full ends as ``dropped`` (BCAST-012) and the others still get
the event (BCAST-013).  Events are kept as JSON text and decoded for each ``receive``, so what
a caller holds is never what a buffer holds (BCAST-006).  Everything is in memory: a
broadcaster lives as long as its process, so both reference backends use this one.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import TYPE_CHECKING, Any, ClassVar

from reference_impl._errors import InvalidArgument, ReferenceImplError
from reference_impl.history import check_session_id, describe, encode_item

if TYPE_CHECKING:
    from reference_impl.history import Environment

__all__ = ["BroadcasterClosed", "MemoryBroadcaster", "Subscription", "check_event"]

#: BCAST-011: the buffer of a subscription opened without ``buffer_size`` (the seed's 32).
DEFAULT_BUFFER_SIZE = 32
#: The members a JSON-RPC 2.0 notification may have (BCAST-007).
NOTIFICATION_MEMBERS = frozenset({"jsonrpc", "method", "params"})


class BroadcasterClosed(ReferenceImplError, RuntimeError):
    """``publish`` on a closed broadcaster (BCAST-021)."""

    error_kind = "closed"


def check_event(event: object) -> str:
    """Return ``event`` as JSON text if it is a JSON-RPC 2.0 notification; raise InvalidArgument otherwise."""
    if not isinstance(event, dict):
        msg = f"an event must be a JSON-RPC notification object, got {describe(event)}"
        raise InvalidArgument(msg)
    extra = sorted(str(k) for k in set(event) - NOTIFICATION_MEMBERS)
    if extra:
        hint = " (an id makes it a request, not a notification)" if "id" in event else ""
        msg = f"an event has only jsonrpc, method and params; remove {', '.join(extra)}{hint}"
        raise InvalidArgument(msg)
    if event.get("jsonrpc") != "2.0" or type(event.get("jsonrpc")) is not str:
        msg = f'an event\'s jsonrpc must be "2.0", got {describe(event.get("jsonrpc"))}'
        raise InvalidArgument(msg)
    method = event.get("method")
    if not isinstance(method, str) or not method:
        msg = f"an event's method must be a non-empty string, got {describe(method)}"
        raise InvalidArgument(msg)
    if "params" in event and not isinstance(event["params"], dict):
        msg = f"an event's params must be a JSON object, got {describe(event['params'])}"
        raise InvalidArgument(msg)
    return encode_item(event, "event")


def check_buffer_size(value: object) -> int:
    """``None`` means the default; otherwise a positive ``int`` that is not a ``bool``."""
    if value is None:
        return DEFAULT_BUFFER_SIZE
    if type(value) is not int or value < 1:
        msg = f"buffer_size must be a positive integer, got {describe(value)}"
        raise InvalidArgument(msg)
    return value


class Subscription:
    """One subscriber's buffer; ``ended`` is None while it is active, else why it ended."""

    def __init__(self, broker: MemoryBroadcaster, session_id: str, capacity: int, ended: str | None = None) -> None:
        self._broker = broker
        self.session_id = session_id  # attribution only (BCAST-002)
        self.capacity = capacity
        self.buffer: deque[str] = deque()
        self.ended = ended

    def receive(self) -> dict[str, Any]:
        """Every buffered event, oldest first, and why the subscription ended (null: it has not)."""
        with self._broker.lock:
            events = [json.loads(text) for text in self.buffer]
            self.buffer.clear()
            return {"events": events, "ended": self.ended}

    def cancel(self) -> None:
        """End the subscription as cancelled; nothing if it has already ended (BCAST-016, BCAST-017)."""
        with self._broker.lock:
            self._broker.end(self, "cancelled")


class MemoryBroadcaster:
    """Fans every published event out to every active subscription of this process."""

    claims: ClassVar[frozenset[str]] = frozenset({"bcast"})
    #: What ``subscribe`` builds: a subclass changes how a subscription behaves, nothing else.
    subscription_class: ClassVar[type[Subscription]] = Subscription

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.active: dict[int, Subscription] = {}  # insertion order: the order of subscribe
        self.closed = False

    @classmethod
    def open(cls, env: Environment) -> MemoryBroadcaster:  # noqa: ARG003 - a broadcaster keeps nothing in env
        return cls()

    def subscribe(self, session_id: object, *, buffer_size: object = None) -> Subscription:
        session_id = check_session_id(session_id)
        capacity = check_buffer_size(buffer_size)
        with self.lock:
            if self.closed:
                return self.subscription_class(self, session_id, capacity, ended="closed")  # BCAST-022
            sub = self.subscription_class(self, session_id, capacity)
            self.active[id(sub)] = sub
            return sub

    def publish(self, event: object) -> None:
        with self.lock:
            if self.closed:  # BCAST-023: closed before the event is judged
                msg = "the broadcaster is closed; publish nothing more"
                raise BroadcasterClosed(msg)
            self.fan_out(check_event(event))

    def fan_out(self, text: str) -> None:
        """Hand one event (JSON text) to every active subscription, or drop the full ones."""
        for sub in list(self.active.values()):
            if len(sub.buffer) >= sub.capacity:
                self.end(sub, "dropped")  # BCAST-012: the slow subscriber, not the event
            else:
                sub.buffer.append(text)

    def subscriber_count(self) -> int:
        with self.lock:
            return len(self.active)

    def end(self, sub: Subscription, reason: str) -> None:
        """End ``sub`` for ``reason`` unless it has ended already; its buffered events stay."""
        if sub.ended is None:
            sub.ended = reason
            self.active.pop(id(sub), None)

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            for sub in list(self.active.values()):
                self.end(sub, "closed")
