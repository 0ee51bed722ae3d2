"""BCAST over PostgreSQL ``LISTEN``/``NOTIFY``: every replica over one schema sees every event once, in order.

Each replica holds one connection that ``LISTEN``s on the storage directory's channel and also sends
on it, and fans out locally exactly as :class:`~reference_impl.broadcast.MemoryBroadcaster` does (the
same buffers, the same drop rule).  Nothing is fanned out at ``publish`` itself: every event,
one's own included, reaches the local subscriptions when its notification comes back from the
server.  PostgreSQL delivers notifications in the order their transactions committed, so every
replica fans out the same sequence, and each notification is read from the socket exactly once.

To make "published before" mean the same on every replica without a clock, a replica that needs to
be current (``publish`` before it returns, ``receive`` before it answers) sends a *marker*
notification of its own and reads until the marker comes back: everything committed before the
marker has then been read.  So ``receive`` on one replica returns every event whose ``publish``
returned on any replica before it, and never waits for one that has not been published.

Payloads are ``{"r": replica, "m": marker}`` or ``{"r": replica, "m": marker, "e": event}``.
``NOTIFY`` takes at most 7999 bytes, so a larger event is written to the table ``bcast_events`` in
the same transaction, and the notification carries its row id (``"x"``) instead.

When the connection breaks (the backend was terminated, the server restarted), the replica cannot
know which notifications it missed: every active subscription ends as ``dropped`` (the subscriber
re-reads state, as after any drop), the call that met the break fails with ``unavailable``, and the
next call reconnects.  No event is fanned out twice: a notification is only ever read once.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import select
import time
from typing import TYPE_CHECKING, Any, ClassVar

from reference_impl._postgres import Unavailable, connect, namespace
from reference_impl.broadcast import BroadcasterClosed, MemoryBroadcaster, Subscription, check_event

if TYPE_CHECKING:
    from pathlib import Path

    from reference_impl.history import Environment

__all__ = ["PostgresBroadcaster"]

#: PostgreSQL's limit on a NOTIFY payload, in bytes, in the default configuration.
MAX_PAYLOAD = 7999
#: Events too large for a payload, written where every replica reads them by row id.
_SCHEMA = "CREATE TABLE IF NOT EXISTS bcast_events (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)"
#: How long a replica waits for its own marker before it calls the server unavailable.
ECHO_TIMEOUT = 5.0


class PgSubscription(Subscription):
    """A subscription that first reads what the server has delivered, so ``receive`` is current."""

    _broker: PostgresBroadcaster

    def receive(self) -> dict[str, Any]:
        with self._broker.lock:
            if self.ended is None:
                # A break ends this subscription as dropped: that is the answer it reads.
                with contextlib.suppress(Unavailable):
                    self._broker.catch_up()
            return super().receive()


class PostgresBroadcaster(MemoryBroadcaster):
    """One replica: local subscriptions, fed from the schema's notification channel."""

    claims: ClassVar[frozenset[str]] = frozenset({"bcast", "bcast.multi-replica"})
    subscription_class: ClassVar[type[Subscription]] = PgSubscription

    def __init__(self, storage_dir: Path) -> None:
        super().__init__()
        self._dir = storage_dir
        self._channel = namespace(storage_dir)
        self._me = secrets.token_hex(8)
        self._markers = 0
        self._echoed = 0
        self._db: Any = None
        self._connect()

    @classmethod
    def open(cls, env: Environment) -> PostgresBroadcaster:
        return cls(env.storage_dir)

    def _connect(self) -> None:
        self._db = connect(self._dir, _SCHEMA)
        self._db.execute(f'LISTEN "{self._channel}"')

    def publish(self, event: object) -> None:
        with self.lock:
            if self.closed:  # BCAST-023: closed before the event is judged
                msg = "the broadcaster is closed; publish nothing more"
                raise BroadcasterClosed(msg)
            check_event(event)
            self._send(event)

    def catch_up(self) -> None:
        """Read every notification committed before now (a marker of one's own)."""
        self._send(None)

    def _send(self, event: object) -> None:
        import psycopg

        if self._db is None or self._db.closed:
            self._connect()
        self._markers += 1
        message: dict[str, Any] = {"r": self._me, "m": self._markers}
        if event is not None:
            message["e"] = event
        payload = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        try:
            if len(payload.encode()) <= MAX_PAYLOAD:
                self._db.execute("SELECT pg_notify(%s, %s)", (self._channel, payload))
            else:
                with self._db.transaction():  # the row and its notification commit together
                    body = json.dumps(message.pop("e"), ensure_ascii=False)
                    row = self._db.execute("INSERT INTO bcast_events (body) VALUES (%s) RETURNING id", (body,))
                    message["x"] = row.fetchone()[0]
                    self._db.execute("SELECT pg_notify(%s, %s)", (self._channel, json.dumps(message)))
            self._read_until(self._markers)
        except psycopg.OperationalError as exc:
            self._broken(exc)

    def _read_until(self, marker: int) -> None:
        deadline = time.monotonic() + ECHO_TIMEOUT
        while True:
            # Consumed to the end before any is handled: nothing received is lost, and the
            # connection is free again for reading a large event's row.
            for note in list(self._db.notifies(timeout=0)):
                self._deliver(note.payload)
            if self._echoed >= marker:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                self._broken(TimeoutError(f"no echo of marker {marker} within {ECHO_TIMEOUT} s"))
            select.select([self._db.pgconn.socket], [], [], left)

    def _deliver(self, payload: str) -> None:
        message = json.loads(payload)
        if "e" in message:
            self.fan_out(json.dumps(message["e"], ensure_ascii=False))
        elif "x" in message:
            row = self._db.execute("SELECT body FROM bcast_events WHERE id = %s", (message["x"],)).fetchone()
            self.fan_out(row[0])
        if message["r"] == self._me:
            self._echoed = message["m"]

    def _broken(self, exc: BaseException) -> None:
        """The connection broke: what was missed is unknown, so every subscription is dropped."""
        for sub in list(self.active.values()):
            self.end(sub, "dropped")
        if self._db is not None:
            self._db.close()
        self._db = None
        msg = f"the connection to PostgreSQL broke; subscriptions were dropped and the next call reconnects: {exc}"
        raise Unavailable(msg) from exc

    def close(self) -> None:
        with self.lock:
            super().close()
            if self._db is not None:
                self._db.close()
                self._db = None
