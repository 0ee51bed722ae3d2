"""Honest HIST adapters over openai-agents 0.24.0's session backends.

One implementation object per backend; run one with ``pytest --impl=implementations.openai_agents:NAME``.
Each handle is one library session object, built as follows (``FILE`` is explained below):

* ``sqlite_memory``: ``SQLiteSession(id)``, on the library's default ``":memory:"`` database.
  Claims ``hist``.
* ``sqlite_file``: ``SQLiteSession(id, db_path=FILE)``.
  Claims ``hist``, ``hist.persistent``, ``hist.shared-handles``.
* ``advanced_sqlite``: ``AdvancedSQLiteSession(session_id=id, db_path=FILE, create_tables=True)``.
  Claims the same three.
* ``sqlalchemy_sqlite``: ``SQLAlchemySession.from_url(id, url="sqlite+aiosqlite:///FILE",
  create_tables=True)``.  Claims the same three.
* ``encrypted_sqlite``: ``EncryptedSession(session_id=id, underlying_session=SQLiteSession(id,
  db_path=FILE), encryption_key=ENCRYPTION_KEY)``.  Claims the same three.
* ``redis``: ``RedisSession.from_url(id, url=URL, key_prefix=PREFIX)`` against a real Redis
  server.  Claims the same three.

``FILE`` is ``env.storage_dir / "history.sqlite3"``.  ``URL`` is the environment variable
``CONFORMANCE_REDIS_URL`` (``nox -s matrix`` starts ``redis-server`` on loopback and sets it);
without it the factory fails with a message saying so.  Dapr, MongoDB and the Conversations API
are left out: they need other servers or the network.

Dependencies: ``pip install -e '.[openai-agents]'`` (pyproject.toml): the library with its own
``encrypt`` extra (cryptography, for EncryptedSession), ``sqlalchemy[asyncio]`` (without
``greenlet`` every SQLAlchemySession call crashes) and ``aiosqlite``; the library's own
``sqlalchemy`` extra is not used because it adds asyncpg, a PostgreSQL driver nothing here needs.

*Honest* means the adapter translates shapes, names and exceptions and adds nothing else: no
validation of ids, limits or items, no copying, no reordering, no locking, no closed-flag of its
own.  Every answer the kit sees is the library's.  The mapping, decision by decision:

Objects
    A *handle* is one library session object, constructed by ``open_session`` exactly as the
    library documents it; a *backend* is the storage those objects share plus the list of handles
    it opened.  The library has no backend object: each session object owns its connection (or,
    for ``SQLAlchemySession.from_url``, its engine).

``sqlite_memory``: what "shared storage" is
    ``SQLiteSession``'s ``":memory:"`` database belongs to one session object: every object opens
    its own ``sqlite3.connect(":memory:")``, and no two objects can share one (the library keeps no
    registry and accepts no connection).  So each handle here has its own, empty database, closing
    the handle discards it, and two handles on one id never see each other.  That is how the
    library behaves when used as documented (``SQLiteSession("user_123")``); the adapter does
    not paper over it with a cache of session objects, which would be behaviour the library lacks.
    It claims neither ``hist.persistent`` nor ``hist.shared-handles``.

File backends: what the adapter adds
    A file name, ``env.storage_dir / "history.sqlite3"``, one per backend, so that a restart (a new
    backend over the same ``env``) reopens the same file.  ``create_tables=True`` for
    ``AdvancedSQLiteSession`` and ``SQLAlchemySession``, which otherwise expect the caller to
    create their schema.  Every handle of one backend is a separate session object on that file,
    which is how the library shares storage between sessions; hence ``hist.shared-handles``.

``redis``: what the adapter adds
    A key prefix, ``PREFIX = "conformance:" + env.storage_dir`` (the library's ``key_prefix``
    argument, default ``"agents:session"``), so that the tests of one run, which share one server,
    never see each other's keys, while a restart (same ``env``) sees its own: the same isolation
    ``FILE`` gives the SQLite backends.  Each handle is one ``from_url`` session object, which
    owns its own client; that is how the library's documentation opens a session.  ``ttl`` is left
    at the library's default (none), so nothing expires.

Every backend: what the adapter adds (declared in ``adds``)
    openai-agents has no backend object: every session is constructed on its own, and nothing
    closes them all.  The kit's backend is the adapter's :class:`Backend`; its ``close`` closes
    every session it opened, and afterwards ``open`` answers ``closed`` (HIST-031).  That refusal
    is the adapter's, not the library's, so it is declared in :data:`ADDS` and every report shows it.

``encrypted_sqlite``: what the adapter adds
    An encryption key: the fixed constant :data:`ENCRYPTION_KEY` (a Fernet-format key, test data,
    not a secret), the same for every backend so that a restart can decrypt what an earlier backend
    wrote.  ``ttl`` is left at the library's default of 600 s.  EncryptedSession reads the *system*
    clock for it (``time.time()`` and Fernet's own clock), never ``env.clock``; the kit never sleeps,
    so no item expires during a run, and expiry (which HIST does not define) is not exercised.
    The wrapped ``SQLiteSession`` is on ``FILE``, as in ``sqlite_file``.

``open_session(session_id, default_limit=…)``
    ``session_id`` is passed as the library's ``session_id`` unchanged, whatever it is: the
    library validates no id (EncryptedSession crashes on a non-string one, in its key
    derivation).  ``default_limit`` becomes ``session_settings=SessionSettings(limit=default_limit)``,
    the library's own "default limit" setting; the kit's "absent" and ``None`` both become
    ``limit=None``, which is also the library's default.  ``SessionSettings`` is a pydantic
    dataclass, so it validates and coerces the value itself (``2.5`` raises a pydantic
    ``ValidationError``, a ``ValueError``, hence ``invalid_argument``; ``"3"``, ``2.0`` and
    ``True`` are coerced to integers): that is the library's behaviour and is passed through.
    EncryptedSession has no ``session_settings`` argument of its own; its ``session_settings``
    property reads the wrapped session's, so the setting is given to the wrapped ``SQLiteSession``.

``get_items(limit)``, ``add_items(items)``, ``pop_item()``, ``clear_session()``
    Called on the library object with the kit's arguments as they are, and their results
    returned as they are (the library returns freshly decoded objects; nothing is copied here).
    ``get_items()`` without a limit passes ``None``, the library's own default.

Errors
    The contract itself maps ``ValueError``/``TypeError`` and their subclasses to
    ``invalid_argument`` and every other exception to ``internal`` (``error_kind_of`` in
    ``conformance.contract``), so the library's exceptions pass through untouched.  That includes
    its accidental ones: ``get_items(limit="2")`` fails with the ``TypeError`` of ``"2" > 0``, which
    counts as ``invalid_argument``; sqlite3's ``IntegrityError`` (``limit=2.5``) and
    ``ProgrammingError`` (a list as session id) are not ``ValueError``, so they count as crashes.
    The adapter does not second-guess either.  The one translation is the one the contract asks
    for (spec/contract.md § Errors): the SQLite stores raise ``RuntimeError("SQLiteSession is
    closed")`` for a call after ``close()``; exactly that exception, recognised by its message,
    becomes :class:`HandleClosed` (``error_kind = "closed"``); ``RedisSession`` raises the same with
    ``"RedisSession is closed"``.  Any other ``RuntimeError`` stays a crash.

``close()`` on a handle
    ``SQLiteSession.close()`` and ``AdvancedSQLiteSession.close()``, which close the connections
    and make every later call raise the ``RuntimeError`` above.  ``EncryptedSession`` has no
    ``close`` of its own; ``session.close()`` reaches the wrapped session's through
    EncryptedSession's attribute forwarding (``__getattr__``), which is what a user calling it
    gets.  ``SQLAlchemySession`` has no ``close()`` at all (spec/hist.md, "Differences from
    upstream", row "call after ``close()``").  Judgement call: the handle's ``close`` disposes the
    engine that ``from_url`` created for it (``await session.engine.dispose()``, the release the
    library's ``engine`` property documents).  Disposing only empties the pool, so later calls
    through the handle still work: HIST-023 then fails on the library's behaviour, as it should.
    (The alternative, answering ``unsupported``, would make every test that closes a handle
    not-testable, although the library does let its user release what a session holds.)
    ``RedisSession.close()`` closes the client that ``from_url`` created, after which calls raise
    the ``RuntimeError`` above.

``close()`` on a backend
    Closes every handle the backend opened, as above, in the order they were opened, and nothing
    else (the library has nothing else to close).

Threading
    Every method is ``async def``, because the library's are: the kit runs them on its event
    loop, so the adapter adds no loop and no thread of its own.  The constructors are
    synchronous (``SQLiteSession`` opens its database in ``__init__``), so ``open_session`` is too.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from implementations._common import Closed, library_version

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection, Iterator
    from pathlib import Path

    from conformance.contract import Environment

__all__ = [
    "ENCRYPTION_KEY",
    "REDIS_URL_VARIABLE",
    "SPEC_VERSION",
    "HandleClosed",
    "OpenAIAgentsHistory",
    "advanced_sqlite",
    "encrypted_sqlite",
    "redis",
    "sqlalchemy_sqlite",
    "sqlite_file",
    "sqlite_memory",
]

SPEC_VERSION = "0.2.0"
LIBRARY = "openai-agents"
#: What ``SQLiteSession._check_not_closed`` raises (``RuntimeError``) for a call after ``close()``.
CLOSED_MESSAGES = ("SQLiteSession is closed", "RedisSession is closed")
#: Where the ``redis`` backend finds its server, e.g. ``redis://127.0.0.1:6390/0``.
REDIS_URL_VARIABLE = "CONFORMANCE_REDIS_URL"
#: EncryptedSession's master key: urlsafe base64 of 32 bytes, the form the library documents.  Test data only.
ENCRYPTION_KEY = "b3BlbmFpLWFnZW50cyBjb25mb3JtYW5jZSBrZXkhISE="
FILE_NAME = "history.sqlite3"

Kind = Literal["sqlite_memory", "sqlite_file", "advanced_sqlite", "sqlalchemy_sqlite", "encrypted_sqlite", "redis"]
ALL_HIST = frozenset({"hist", "hist.persistent", "hist.shared-handles"})
CLAIMS: dict[Kind, frozenset[str]] = {
    "sqlite_memory": frozenset({"hist"}),
    "sqlite_file": ALL_HIST,
    "advanced_sqlite": ALL_HIST,
    "sqlalchemy_sqlite": ALL_HIST,
    "encrypted_sqlite": ALL_HIST,
    "redis": ALL_HIST,
}
TITLES: dict[Kind, str] = {
    "sqlite_memory": "SQLiteSession (:memory:)",
    "sqlite_file": "SQLiteSession (file)",
    "advanced_sqlite": "AdvancedSQLiteSession (file)",
    "sqlalchemy_sqlite": "SQLAlchemySession (sqlite+aiosqlite file)",
    "encrypted_sqlite": "EncryptedSession over SQLiteSession (file)",
    "redis": "RedisSession (redis-server)",
}


class HandleClosed(Closed):
    """The library's ``RuntimeError`` for a call on a closed session, as the contract's ``closed``."""


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Turn exactly the library's closed-session ``RuntimeError`` into ``closed``; let all else through."""
    try:
        yield
    except RuntimeError as exc:
        if str(exc) not in CLOSED_MESSAGES:
            raise
        raise HandleClosed(f"{exc} (openai-agents raised RuntimeError after close())") from exc


class Handle:
    """One library session object, as the kit's handle."""

    def __init__(self, session: Any, closer: Callable[[Any], Awaitable[None] | None]) -> None:
        self.session = session
        self._closer = closer

    async def get_items(self, limit: Any = None) -> Any:
        with _translated():
            return await self.session.get_items(limit)

    async def add_items(self, items: Any) -> None:
        with _translated():
            await self.session.add_items(items)

    async def pop_item(self) -> Any:
        with _translated():
            return await self.session.pop_item()

    async def clear_session(self) -> None:
        with _translated():
            await self.session.clear_session()

    async def close(self) -> None:
        result = self._closer(self.session)
        if result is not None:
            await result

    def __repr__(self) -> str:
        return f"<{type(self).__name__} over {type(self.session).__name__} {self.session.session_id!r}>"


def _close_method(session: Any) -> None:
    session.close()  # SQLiteSession, AdvancedSQLiteSession; EncryptedSession forwards it


async def _close_async(session: Any) -> None:
    await session.close()  # RedisSession: closes the client from_url created


async def _dispose_engine(session: Any) -> None:
    await session.engine.dispose()  # SQLAlchemySession has no close(); see the module docstring


@dataclass
class Backend:
    """The storage of one ``open_history`` call, and the handles opened on it."""

    kind: Kind
    path: Path
    handles: list[Handle] = field(default_factory=list)
    redis_url: str = ""

    closed: bool = False

    def open_session(self, session_id: Any, *, default_limit: Any = None) -> Handle:
        if self.closed:  # the adapter's refusal (ADDS): the library has no backend to close
            msg = "the backend is closed"
            raise HandleClosed(msg)
        from agents.memory import SessionSettings

        settings = SessionSettings(limit=default_limit)
        session, closer = self._construct(session_id, settings)
        handle = Handle(session, closer)
        self.handles.append(handle)
        return handle

    def _construct(self, session_id: Any, settings: Any) -> tuple[Any, Callable[[Any], Awaitable[None] | None]]:
        if self.kind == "sqlite_memory":
            from agents.memory import SQLiteSession

            return SQLiteSession(session_id, session_settings=settings), _close_method
        if self.kind == "sqlite_file":
            from agents.memory import SQLiteSession

            return SQLiteSession(session_id, db_path=self.path, session_settings=settings), _close_method
        if self.kind == "advanced_sqlite":
            from agents.extensions.memory import AdvancedSQLiteSession

            session = AdvancedSQLiteSession(
                session_id=session_id, db_path=self.path, create_tables=True, session_settings=settings
            )
            return session, _close_method
        if self.kind == "sqlalchemy_sqlite":
            from agents.extensions.memory import SQLAlchemySession

            url = f"sqlite+aiosqlite:///{self.path}"
            session = SQLAlchemySession.from_url(session_id, url=url, create_tables=True, session_settings=settings)
            return session, _dispose_engine
        if self.kind == "redis":
            from agents.extensions.memory import RedisSession

            prefix = f"conformance:{self.path.parent}"
            session = RedisSession.from_url(
                session_id, url=self.redis_url, key_prefix=prefix, session_settings=settings
            )
            return session, _close_async
        from agents.extensions.memory import EncryptedSession
        from agents.memory import SQLiteSession

        underlying = SQLiteSession(session_id, db_path=self.path, session_settings=settings)
        session = EncryptedSession(session_id=session_id, underlying_session=underlying, encryption_key=ENCRYPTION_KEY)
        return session, _close_method

    async def close(self) -> None:
        self.closed = True
        for handle in self.handles:
            await handle.close()


#: What the adapter adds beyond the library, per requirement (spec/contract.md § What an adapter adds).
ADDS = {
    "HIST-031": "openai-agents has no backend to close; after the adapter's backend is closed, its open answers closed",
}


class OpenAIAgentsHistory:
    """The implementation object for one openai-agents backend."""

    spec_version = SPEC_VERSION
    adds = ADDS

    def __init__(self, kind: Kind) -> None:
        self.kind: Kind = kind
        self.name = f"{LIBRARY} {TITLES[kind]}"
        self.claims: Collection[str] = CLAIMS[kind]

    @property
    def version(self) -> str:
        return library_version(LIBRARY)

    def open_history(self, env: Environment) -> Backend:
        if self.kind != "redis":
            return Backend(self.kind, env.storage_dir / FILE_NAME)
        url = os.environ.get(REDIS_URL_VARIABLE, "")
        if not url:
            msg = (
                f"the redis backend needs a Redis server: set {REDIS_URL_VARIABLE} (e.g. redis://127.0.0.1:6379/0), "
                "or run `nox -s matrix`, which starts one"
            )
            raise RuntimeError(msg)
        return Backend(self.kind, env.storage_dir / FILE_NAME, redis_url=url)

    def __repr__(self) -> str:
        return f"OpenAIAgentsHistory({self.kind!r})"


sqlite_memory = OpenAIAgentsHistory("sqlite_memory")
sqlite_file = OpenAIAgentsHistory("sqlite_file")
advanced_sqlite = OpenAIAgentsHistory("advanced_sqlite")
sqlalchemy_sqlite = OpenAIAgentsHistory("sqlalchemy_sqlite")
encrypted_sqlite = OpenAIAgentsHistory("encrypted_sqlite")
redis = OpenAIAgentsHistory("redis")
