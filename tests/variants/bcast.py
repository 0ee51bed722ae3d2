"""BCAST variants: the reference broadcaster with one behaviour of mcp-data-platform's broadcasters.

The upstream is txn2/mcp-data-platform ``pkg/session``: ``broadcast.go`` (the in-memory
broadcaster) and ``postgres/broadcast.go`` (LISTEN/NOTIFY, whose local fan-out is the memory
one).  Each variant swaps exactly one of their behaviours into :mod:`reference_impl.broadcast`.
"""

from __future__ import annotations

import json
from typing import Any

from reference_impl.broadcast import DEFAULT_BUFFER_SIZE, MemoryBroadcaster, Subscription, check_buffer_size
from tests.variants._base import Variant

__all__ = ["AGREES", "Variant"]

_MDP = "https://github.com/txn2/mcp-data-platform/blob/main/pkg/session"
_MEMORY = f"{_MDP}/broadcast.go"


class _SkipsWhenFull(MemoryBroadcaster):
    """A full subscriber misses the event and stays subscribed (the seed logs it and moves on)."""

    def publish(self, event: object) -> None:
        with self.lock:
            if self.closed:
                super().publish(event)  # raises closed, as the reference does
            before = {key: len(sub.buffer) >= sub.capacity for key, sub in self.active.items()}
            full = {key: self.active[key] for key, was_full in before.items() if was_full}
            for key in full:
                self.active.pop(key)  # out of the reference's fan-out for this one event
            try:
                super().publish(event)
            finally:
                self.active.update(full)


class FullSubscriberSkipsEvents(Variant):
    """A subscriber whose buffer is full misses each event published meanwhile and stays subscribed.

    mcp-data-platform's memory broadcaster: ``select { case ch <- n: default: }`` drops the event for
    that subscriber only, with a log line; the subscriber never learns.
    """

    rows = frozenset({"bcast.md: subscriber's buffer full"})
    # BCAST-012: the full subscription is not dropped and learns nothing.
    # BCAST-024: the model ends the full subscription as dropped.
    fails = frozenset({"BCAST-012", "BCAST-024"})
    source = _MEMORY

    def open_broadcaster(self, env: Any) -> Any:
        return _SkipsWhenFull.open(env)


class _SharedSubscription(Subscription):
    """Its newest event is the very object the publisher passed, not a copy."""

    def receive(self) -> dict[str, Any]:
        got = super().receive()
        shared = self._broker.shared.pop(id(self), None)  # type: ignore[attr-defined]
        if shared is not None and got["events"]:
            got["events"][-1] = shared
        return got


class _SharedBroadcaster(MemoryBroadcaster):
    subscription_class = _SharedSubscription

    def __init__(self) -> None:
        super().__init__()
        self.shared: dict[int, object] = {}  # subscription -> the last event object published to it

    def publish(self, event: object) -> None:
        super().publish(event)
        with self.lock:
            for sub in self.active.values():
                if sub.buffer:
                    self.shared[id(sub)] = event


class ParamsShared(Variant):
    """The newest event a subscriber receives is the very object the publisher passed, shared by all.

    mcp-data-platform's memory broadcaster sends one notification value, whose ``params`` map every
    subscriber then holds.
    """

    rows = frozenset({"bcast.md: params shared among subscribers"})
    fails = frozenset({"BCAST-006"})
    source = _MEMORY

    def open_broadcaster(self, env: Any) -> Any:
        return _SharedBroadcaster.open(env)


class _AnySessionId(MemoryBroadcaster):
    def subscribe(self, session_id: object, *, buffer_size: object = None) -> Subscription:
        # The reference's own subscribe, under a valid stand-in id, then given the caller's "".
        sub = super().subscribe("-" if session_id == "" else session_id, buffer_size=buffer_size)
        sub.session_id = session_id  # type: ignore[assignment]
        return sub


class EmptySessionIdAccepted(Variant):
    """``subscribe("")`` returns a subscription: the session id is never checked.

    mcp-data-platform: the session id is for attribution only and is taken as given.
    """

    rows = frozenset({"bcast.md: empty session id"})
    fails = frozenset({"BCAST-008"})
    source = _MEMORY

    def open_broadcaster(self, env: Any) -> Any:
        return _AnySessionId.open(env)


class _FixedBuffer(MemoryBroadcaster):
    def subscribe(self, session_id: object, *, buffer_size: object = None) -> Subscription:
        check_buffer_size(buffer_size)  # still rejects what is not a size: only the size is ignored
        return super().subscribe(session_id, buffer_size=DEFAULT_BUFFER_SIZE)


class FixedBufferSize(Variant):
    """Every subscription has a buffer of 32, whatever size is asked for.

    mcp-data-platform: ``make(chan Notification, 32)`` for every subscriber.
    """

    rows = frozenset({"bcast.md: buffer size"})
    # BCAST-012: a subscription asking for 2 is not dropped at its third unread event.  (BCAST-009
    # holds: a larger buffer still keeps "up to buffer_size" events.)  BCAST-024: the model drops it.
    fails = frozenset({"BCAST-012", "BCAST-024"})
    source = _MEMORY

    def open_broadcaster(self, env: Any) -> Any:
        return _FixedBuffer.open(env)


class _SilentEnd(Subscription):
    def receive(self) -> dict[str, Any]:
        got = super().receive()
        if got["ended"] is not None:
            got["ended"] = "closed"  # a Go channel closes; nothing says why
        return got


class _SilentEnding(MemoryBroadcaster):
    subscription_class = _SilentEnd


class EndReasonNotSaid(Variant):
    """Every ended subscription says only that it ended (as ``closed``), never why.

    mcp-data-platform: a subscription is a channel, and a closed channel carries no reason.
    """

    rows = frozenset({"bcast.md: why a subscription ended"})
    fails = frozenset({"BCAST-012", "BCAST-016", "BCAST-024"})
    source = _MEMORY

    def open_broadcaster(self, env: Any) -> Any:
        return _SilentEnding.open(env)


class _DeliversAnything(MemoryBroadcaster):
    def publish(self, event: object) -> None:
        try:
            json.dumps(event, allow_nan=False)
        except (TypeError, ValueError):
            with self.lock:
                for sub in self.active.values():
                    if len(sub.buffer) < sub.capacity:
                        sub.buffer.append(json.dumps(event, default=str))
                return
        super().publish(event)


class NonJSONDelivered(Variant):
    """A notification holding a value JSON cannot express is delivered, as its text form.

    mcp-data-platform's memory broadcaster hands the Go value over a channel without encoding it.
    """

    rows = frozenset({"bcast.md: a payload JSON cannot express"})
    fails = frozenset({"BCAST-007"})
    source = _MEMORY

    def open_broadcaster(self, env: Any) -> Any:
        return _DeliversAnything.open(env)


#: Rows where both mcp-data-platform broadcasters already do what BCAST says.
AGREES: dict[str, str] = {
    "bcast.md: absent `params`": "both keep an absent params absent (omitempty), as BCAST-005 does",
    "bcast.md: publish after close": "both fail with ErrBroadcasterClosed, which is the closed kind of BCAST-021",
    "bcast.md: subscribe after close": "both return a subscription that is already closed, as BCAST-022 says",
}
