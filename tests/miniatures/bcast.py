"""One broken BCAST implementation per requirement of spec/requirements/bcast.yaml.

Each bug is the smallest override of the reference (:mod:`reference_impl.broadcast`),
modelled where possible on a behaviour of mcp-data-platform's broadcasters
(https://github.com/txn2/mcp-data-platform, ``pkg/session/broadcast.go``) or on a common
mistake in fan-out code.  ``also_fails`` names the other requirements whose tests cannot help
seeing the same bug; BCAST-024 (the model-based test) sees most of them.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections import deque
from typing import TYPE_CHECKING, Any

from reference_impl._errors import InvalidArgument
from reference_impl.broadcast import (
    BroadcasterClosed,
    MemoryBroadcaster,
    Subscription,
    check_buffer_size,
    check_event,
)
from reference_impl.broadcast_postgres import PostgresBroadcaster
from reference_impl.history import check_session_id
from tests.miniatures import MiniatureImplementation, declarer

if TYPE_CHECKING:
    from collections.abc import Collection

    from reference_impl.history import Environment


class BcastMiniature(MiniatureImplementation):
    """A BCAST miniature: ``broken`` is a broadcaster class; it claims ``bcast``."""

    def __init__(
        self,
        requirement: str,
        label: str,
        broken: type[MemoryBroadcaster],
        *,
        also_fails: Collection[str] = (),
        may_fail: Collection[str] = (),
    ) -> None:
        doc = inspect.getdoc(broken) or ""
        super().__init__(requirement, label, doc=doc, claims=broken.claims, also_fails=also_fails, may_fail=may_fail)
        self.broadcaster = broken
        #: Whether the kit's own tests need a PostgreSQL server to run it (tests/conftest.py).
        self.needs_postgres = issubclass(broken, PostgresBroadcaster)

    def open_broadcaster(self, env: Environment) -> MemoryBroadcaster:
        return self.broadcaster.open(env)


#: ``@miniature(REQUIREMENT, also_fails=..., may_fail=...)`` above a broken class declares it.
miniature = declarer(BcastMiniature)


# --- delivery ----------------------------------------------------------------------------


@miniature("BCAST-001", also_fails=(24,))
class ReplaysTheLastEvent(MemoryBroadcaster):
    """Hands a new subscriber the last event published before it (a "sticky" last value)."""

    last: str | None = None

    def subscribe(self, session_id: object, *, buffer_size: object = None) -> Subscription:
        sub = super().subscribe(session_id, buffer_size=buffer_size)
        with self.lock:
            if sub.ended is None and self.last is not None:
                sub.buffer.append(self.last)
        return sub

    def publish(self, event: object) -> None:
        super().publish(event)
        self.last = check_event(event)


@miniature("BCAST-002", also_fails=(24,))
class OneSubscriptionPerSession(MemoryBroadcaster):
    """Keeps one subscription per session id: a second subscribe under an id silently starves the first."""

    def publish(self, event: object) -> None:
        with self.lock:
            newest = {sub.session_id: sub for sub in self.active.values()}
            starved = [key for key, sub in self.active.items() if newest[sub.session_id] is not sub]
            hidden = {key: self.active.pop(key) for key in starved}
            try:
                super().publish(event)
            finally:
                self.active.update(hidden)


class _NewestFirst(Subscription):
    def receive(self) -> dict[str, Any]:
        answer = super().receive()
        answer["events"].reverse()
        return answer


@miniature("BCAST-003", also_fails=(24,))
class NewestFirst(MemoryBroadcaster):
    """Hands out a subscription's buffered events newest first (a stack, not a queue)."""

    subscription_class = _NewestFirst


class _RepeatsLast(Subscription):
    previous: str | None = None

    def receive(self) -> dict[str, Any]:
        with self._broker.lock:
            texts = list(self.buffer)
            answer = super().receive()
            if self.previous is not None and texts:
                answer["events"].insert(0, json.loads(self.previous))  # the cursor points at the last one read
            if texts:
                self.previous = texts[-1]
            return answer


@miniature("BCAST-004", also_fails=(24,))
class RepeatsTheLastEventRead(MemoryBroadcaster):
    """Its read cursor is off by one: each receive that returns new events starts with the last one read before."""

    subscription_class = _RepeatsLast


@miniature("BCAST-005", also_fails=(24,))
class FillsAbsentParams(MemoryBroadcaster):
    """Adds "params": {} to an event published without params, as the seed's SSE writer does."""

    def publish(self, event: object) -> None:
        if not self.closed and isinstance(event, dict) and "params" not in event:
            check_event(event)
            event = {**event, "params": {}}
        super().publish(event)


class _Shared(Subscription):
    def receive(self) -> dict[str, Any]:
        with self._broker.lock:
            events = list(self.buffer)
            self.buffer.clear()
            return {"events": events, "ended": self.ended}


@miniature("BCAST-006")
class SharesTheEventObject(MemoryBroadcaster):
    """Puts the published object itself in every buffer: one edit reaches every subscriber."""

    subscription_class = _Shared

    def publish(self, event: object) -> None:
        with self.lock:
            if self.closed:
                msg = "the broadcaster is closed"
                raise BroadcasterClosed(msg)
            check_event(event)
            for sub in list(self.active.values()):
                if len(sub.buffer) >= sub.capacity:
                    self.end(sub, "dropped")
                else:
                    sub.buffer.append(event)  # type: ignore[arg-type]


@miniature("BCAST-007")
class AcceptsRequests(MemoryBroadcaster):
    """Publishes an object with an id (a JSON-RPC request) as if it were a notification."""

    def publish(self, event: object) -> None:
        if isinstance(event, dict) and "id" in event:
            event = {k: v for k, v in event.items() if k != "id"}
        super().publish(event)


# --- subscriptions and buffers -----------------------------------------------------------


@miniature("BCAST-008")
class AcceptsAnyStringAsSessionId(MemoryBroadcaster):
    """Takes any string as a session id, the empty one included, as the seed does."""

    def subscribe(self, session_id: object, *, buffer_size: object = None) -> Subscription:
        if isinstance(session_id, str):
            try:
                check_session_id(session_id)
            except InvalidArgument:
                session_id = f"unattributed-{len(session_id)}"
        return super().subscribe(session_id, buffer_size=buffer_size)


@miniature("BCAST-009", also_fails=(11, 12, 15, 24))
class BufferOneShort(MemoryBroadcaster):
    """Counts the event being delivered against the buffer, so a buffer of N holds N - 1."""

    def publish(self, event: object) -> None:
        with self.lock:
            for sub in self.active.values():
                sub.capacity -= 1
            try:
                super().publish(event)
            finally:
                for sub in list(self.active.values()):
                    sub.capacity += 1
                # a subscription dropped in between keeps its lowered capacity; nothing reads it again


@miniature("BCAST-010")
class ZeroMeansTheDefault(MemoryBroadcaster):
    """Reads a buffer_size of 0 (an unbuffered Go channel) as "use the default"."""

    def subscribe(self, session_id: object, *, buffer_size: object = None) -> Subscription:
        if type(buffer_size) is int and buffer_size == 0:
            buffer_size = None
        return super().subscribe(session_id, buffer_size=buffer_size)


@miniature("BCAST-011")
class DefaultBufferOfEight(MemoryBroadcaster):
    """Gives a subscription opened without buffer_size a buffer of 8 events."""

    def subscribe(self, session_id: object, *, buffer_size: object = None) -> Subscription:
        return super().subscribe(session_id, buffer_size=8 if buffer_size is None else buffer_size)


# --- slow subscribers --------------------------------------------------------------------


@miniature("BCAST-012", also_fails=(24,))
class SkipsTheEventKeepsTheSubscriber(MemoryBroadcaster):
    """Skips the event for a full subscriber and keeps it subscribed, as the seed's memory broadcaster does."""

    def publish(self, event: object) -> None:
        with self.lock:
            if self.closed:
                msg = "the broadcaster is closed"
                raise BroadcasterClosed(msg)
            text = check_event(event)
            for sub in self.active.values():
                if len(sub.buffer) < sub.capacity:
                    sub.buffer.append(text)


@miniature("BCAST-013", also_fails=(24,))
class NobodyGetsItWhenOneIsFull(MemoryBroadcaster):
    """Checks every buffer first and, when one is full, drops that subscriber and the event for everyone."""

    def publish(self, event: object) -> None:
        with self.lock:
            if self.closed:
                msg = "the broadcaster is closed"
                raise BroadcasterClosed(msg)
            text = check_event(event)
            full = [sub for sub in self.active.values() if len(sub.buffer) >= sub.capacity]
            for sub in full:
                self.end(sub, "dropped")
            if not full:
                for sub in self.active.values():
                    sub.buffer.append(text)


class NobodyListening(Exception):
    error_kind = "failed_precondition"


@miniature("BCAST-014", also_fails=(24,))
class PublishToNobodyFails(MemoryBroadcaster):
    """Fails a publish with failed_precondition when no subscription is active ("nobody is listening")."""

    def publish(self, event: object) -> None:
        with self.lock:
            if not self.closed and not self.active:
                check_event(event)
                msg = "no active subscription: nobody is listening"
                raise NobodyListening(msg)
            super().publish(event)


class _NeverFreed(Subscription):
    delivered = 0

    def receive(self) -> dict[str, Any]:
        with self._broker.lock:
            answer = super().receive()
            self.delivered += len(answer["events"])
            self.buffer = _Padded(self.delivered)
            return answer


class _Padded(deque[str]):
    """A buffer whose length also counts what was received already."""

    def __init__(self, padding: int) -> None:
        super().__init__()
        self.padding = padding

    def __len__(self) -> int:
        return super().__len__() + self.padding

    def __iter__(self) -> Any:
        return super().__iter__()


@miniature("BCAST-015", also_fails=(24,))
class CountsEveryEventEverDelivered(MemoryBroadcaster):
    """Counts every event a subscription was ever given against its buffer, received or not."""

    subscription_class = _NeverFreed


# --- cancel, count, close ----------------------------------------------------------------


class _MarkedOnly(Subscription):
    def cancel(self) -> None:
        with self._broker.lock:
            if self.ended is None:
                self.ended = "cancelled"  # but it stays in the fan-out


@miniature("BCAST-016", also_fails=(24,))
class CancelKeepsDelivering(MemoryBroadcaster):
    """Marks a cancelled subscription but leaves it in the fan-out, so events keep filling its buffer."""

    subscription_class = _MarkedOnly

    def subscriber_count(self) -> int:
        with self.lock:
            return sum(1 for sub in self.active.values() if sub.ended is None)

    def end(self, sub: Subscription, reason: str) -> None:
        if sub.ended == "cancelled":
            return
        super().end(sub, reason)


class CancelledTwice(Exception):
    error_kind = "closed"


class _CancelOnce(Subscription):
    def cancel(self) -> None:
        with self._broker.lock:
            if self.ended is not None:
                msg = f"the subscription has already ended ({self.ended})"
                raise CancelledTwice(msg)
            super().cancel()


@miniature("BCAST-017", also_fails=(24,))
class CancelOfAnEndedSubscriptionFails(MemoryBroadcaster):
    """Fails with closed when asked to cancel a subscription that has already ended (a double close)."""

    subscription_class = _CancelOnce


@miniature("BCAST-018", also_fails=(24,))
class CountsDroppedSubscribers(MemoryBroadcaster):
    """Keeps counting a dropped subscriber: the count goes down on cancel and close only."""

    dropped = 0

    def end(self, sub: Subscription, reason: str) -> None:
        if sub.ended is None and reason == "dropped":
            self.dropped += 1
        super().end(sub, reason)

    def subscriber_count(self) -> int:
        with self.lock:
            return 0 if self.closed else super().subscriber_count() + self.dropped


@miniature("BCAST-019", also_fails=(24,))
class CloseDiscardsBufferedEvents(MemoryBroadcaster):
    """Empties every buffer when it closes, so events published before close never reach their subscribers."""

    def close(self) -> None:
        with self.lock:
            for sub in self.active.values():
                sub.buffer.clear()
        super().close()


class AlreadyClosed(Exception):
    error_kind = "closed"


@miniature("BCAST-020", also_fails=(24,))
class SecondCloseFails(MemoryBroadcaster):
    """Fails with closed when closed a second time."""

    def close(self) -> None:
        if self.closed:
            msg = "the broadcaster is already closed"
            raise AlreadyClosed(msg)
        super().close()


@miniature("BCAST-021", also_fails=(23, 24))
class PublishAfterCloseIsIgnored(MemoryBroadcaster):
    """Accepts a publish after close and delivers it to nobody, without an error."""

    def publish(self, event: object) -> None:
        if self.closed:
            check_event(event)
            return
        super().publish(event)


@miniature("BCAST-022", also_fails=(24,))
class SubscribeAfterCloseFails(MemoryBroadcaster):
    """Fails a subscribe after close with closed instead of returning an ended subscription."""

    def subscribe(self, session_id: object, *, buffer_size: object = None) -> Subscription:
        check_session_id(session_id)
        check_buffer_size(buffer_size)
        if self.closed:
            msg = "the broadcaster is closed"
            raise BroadcasterClosed(msg)
        return super().subscribe(session_id, buffer_size=buffer_size)


@miniature("BCAST-023")
class ValidatesBeforeTheClosedCheck(MemoryBroadcaster):
    """Judges the event before it looks at whether the broadcaster is closed."""

    def publish(self, event: object) -> None:
        check_event(event)
        super().publish(event)


# --- the model ---------------------------------------------------------------------------


@miniature("BCAST-024")
class CloseRelabelsEverySubscription(MemoryBroadcaster):
    """On close, marks every subscription it ever opened as closed, so a dropped or cancelled one reads as closed."""

    def subscribe(self, session_id: object, *, buffer_size: object = None) -> Subscription:
        sub = super().subscribe(session_id, buffer_size=buffer_size)
        self.__dict__.setdefault("opened", []).append(sub)
        return sub

    def close(self) -> None:
        with self.lock:
            super().close()
            for sub in self.__dict__.get("opened", []):
                sub.ended = "closed"


# --- concurrency -------------------------------------------------------------------------


@miniature("BCAST-025")
class ReadModifyWriteFanOut(MemoryBroadcaster):
    """Publishes as a coroutine that copies each buffer, yields, then writes it back with its event: a lost update."""

    async def publish(self, event: object) -> None:  # type: ignore[override]
        if self.closed:
            msg = "the broadcaster is closed"
            raise BroadcasterClosed(msg)
        text = check_event(event)
        for sub in list(self.active.values()):
            if len(sub.buffer) >= sub.capacity:
                self.end(sub, "dropped")
                continue
            snapshot = list(sub.buffer)
            await asyncio.sleep(0)  # another publish runs here and appends to the same buffer
            sub.buffer = deque([*snapshot, text])


# --- replicas in separate processes --------------------------------------------------------


@miniature("BCAST-026")
class FansOutLocallyOnly(MemoryBroadcaster):
    """Claims bcast.multi-replica but fans out in its own process only, as mcp-data-platform's memory broadcaster does."""

    claims = frozenset({"bcast", "bcast.multi-replica"})


@miniature("BCAST-027")
class OwnEventsFirst(PostgresBroadcaster):
    """Fans out its own events at once and skips their echo, so another replica's earlier event arrives after its own later one."""

    def publish(self, event: object) -> None:
        with self.lock:
            if not self.closed:
                self.fan_out(check_event(event))
            super().publish(event)

    def _deliver(self, payload: str) -> None:
        message = json.loads(payload)
        if "e" in message and message["r"] == self._me:
            self._echoed = message["m"]  # fanned out already, at publish
            return
        super()._deliver(payload)


@miniature("BCAST-028")
class ListensOnTwoConnections(PostgresBroadcaster):
    """LISTENs on two pooled connections: every other replica's event is fanned out twice, its own once."""

    def _deliver(self, payload: str) -> None:
        super()._deliver(payload)
        message = json.loads(payload)
        if "e" in message and message["r"] != self._me:
            super()._deliver(payload)


@miniature("BCAST-029")
class CloseStopsEveryReplica(PostgresBroadcaster):
    """On close, sends a shutdown notification on the shared channel, and every replica that reads it closes too."""

    def close(self) -> None:
        with self.lock:
            if not self.closed and self._db is not None:
                self._db.execute("SELECT pg_notify(%s, %s)", (self._channel, json.dumps({"r": "", "m": 0, "close": 1})))
        super().close()

    def _deliver(self, payload: str) -> None:
        if "close" in json.loads(payload):
            MemoryBroadcaster.close(self)  # keeps the connection, so the call that read it can finish
            return
        super()._deliver(payload)


# --- blind spots of issue 11: each caught by its own requirement's tests, not only by the model ----

_ABSENT: Any = object()


@miniature("BCAST-001", also_fails=(11,), may_fail=(24,))
class NullBufferSizeRejected(MemoryBroadcaster):
    """subscribe() with an explicit null buffer_size fails as invalid_argument; only an absent one means the default.

    The keyword's default is a private sentinel, so null is checked as a size and is not a positive integer.
    """

    def subscribe(self, session_id: object, *, buffer_size: object = _ABSENT) -> Subscription:
        if buffer_size is None:
            msg = "buffer_size must be a positive integer, got None"
            raise InvalidArgument(msg)
        return super().subscribe(session_id, buffer_size=None if buffer_size is _ABSENT else buffer_size)


def _cut(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _cut(element) for key, element in value.items()}
    if isinstance(value, list):
        return [_cut(element) for element in value[:65_535]]
    return value[:65_535] if isinstance(value, str) else value


@miniature("BCAST-005")
class CutsLargeParams(MemoryBroadcaster):
    """Keeps at most 65 535 characters of each string and elements of each array of an event, silently.

    A message queue with a 64 KiB field limit does this; every small event arrives whole.
    """

    def publish(self, event: object) -> None:
        super().publish(_cut(event))
