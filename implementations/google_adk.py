"""Honest STORE adapters over google-adk 2.13.0's session services.

One implementation object per service; run one with ``pytest --impl=implementations.google_adk:NAME``:

* ``in_memory``: ``InMemorySessionService()``.  Claims ``store``.
* ``database_sqlite``: ``DatabaseSessionService(db_url="sqlite+aiosqlite:///FILE")``, ``FILE`` being
  ``env.storage_dir / "adk-sessions.sqlite3"``.  Claims ``store``, ``store.persistent``,
  ``store.shared-backend``.

Neither claims ``store.ttl``: ADK sessions never expire (no TTL anywhere in
``google/adk/sessions/``), so the kit judges them on every STORE requirement not about time
(spec/store.md § Expiry, ADR 0015).

Dependencies: ``pip install -e '.[google-adk]'`` (pyproject.toml): the library with its own ``db``
extra (SQLAlchemy, for ``DatabaseSessionService``) and ``aiosqlite``, the async SQLite driver a
``sqlite+aiosqlite`` URL needs.

*Honest* means the adapter translates shapes, names and exceptions and adds no judged behaviour
except what ``adds`` declares.  The mapping, decision by decision:

Objects
    A *handle* is one session service object, built as the library documents it; a *backend* is
    what those objects share: nothing for ``in_memory`` (each service object has its own dicts, so
    a second handle or a restart starts empty), the SQLite file for ``database_sqlite``.

Application
    ADK keys a session by ``(app_name, user_id, session_id)``.  Every call uses one fixed
    ``app_name``, :data:`APP`; STORE has no such dimension.

Owner
    STORE's owner is ADK's ``user_id``, passed unchanged and unvalidated (ADK validates none).  ADK
    has no anonymous session: ``user_id`` is required, so an owner of null is the fixed user
    :data:`ANONYMOUS`, and a record whose ``user_id`` is :data:`ANONYMOUS` says owner null.

Unscoped calls (owner absent or null)
    ADK has no call that names a session by its id alone: ``get_session``, ``delete_session`` and
    ``append_event`` need its user.  For an unscoped ``get``, ``update_state`` or ``delete`` the
    adapter lists every session of :data:`APP` (``list_sessions`` without ``user_id``, which ADK
    documents as "all sessions for all users") and uses the user of the first one with that id,
    then makes the keyed call.  That lookup is behaviour ADK lacks, declared in ``adds`` for
    STORE-030.  An unscoped ``list`` is ``list_sessions`` without ``user_id``, ADK's own.

Ids
    ``session_id`` is passed unchanged; absent or null lets ADK mint one (``uuid4``, hyphenated).
    ``InMemorySessionService`` strips surrounding whitespace from ids and treats ``""`` as "mint
    one"; ``DatabaseSessionService`` keeps them verbatim.  Both key by user, so two owners can
    hold one id.  Each is passed through.

Time
    ADK reads time through ``google.adk.platform.time.get_time``, whose provider the library lets a
    caller replace (``set_time_provider``, a context variable).  Every operation sets it to the
    kit's clock (``env.clock``) before calling ADK, in the same task: the library's own hook, so no
    behaviour is added.  ``last_update_time`` (float seconds) becomes ``last_active_at``.

Record fields ADK does not have
    ADK's ``Session`` has no creation time, TTL or expiry.  ``created_at`` is therefore null, as are
    ``expires_at`` and ``ttl_seconds``; a null ``created_at`` breaks the record's form (STORE-036)
    and STORE-008, and nothing is invented in its place.  ``ttl_seconds`` given to ``create`` (the
    kit never sends one, spec/store.md § Expiry) is refused as ``unsupported``.

State
    ``create``'s state is ADK's ``state``.  ``update_state`` is ADK's documented way to change
    state: ``append_event`` of an ``Event`` whose ``actions.state_delta`` is the given object, on
    the session ``get_session`` returned, then ``get_session`` again for the record.  The
    ``EventActions`` holding the delta is built before the lookup, so ADK's validation of it (a
    delta that is not an object) answers before "no such session", in the contract's order.
    This appends one event to the session's history, which STORE does not see.  A session ``get_session`` does
    not find is ``not_found`` (the library answers None; the adapter says so as an error, which is
    translation).  ADK treats keys prefixed ``app:``, ``user:`` and ``temp:`` specially; the kit's
    keys have no such prefix.

``touch``
    ADK has no call that marks a session active without appending to its history: ``unsupported``.
    That is no failure of a requirement but a gap in what the kit can judge: every test that
    touches a session is not-testable, so STORE-014, STORE-018, STORE-024, STORE-030, STORE-033,
    STORE-034 and STORE-037 (and, for ``database_sqlite``, STORE-027 and STORE-028) are reported
    not-testable.  A requirement takes not-testable before failed (spec/README.md § How a run is
    judged), so a real failure another test of one of them shows (STORE-018's shared nested state
    in memory, STORE-028's schema race, STORE-031's unvalidated owners, STORE-033's crash on an
    array state) is listed under not-testable; spec/store.md records each.
    Appending an event to stand in for ``touch`` would add behaviour ADK does not offer.

``cleanup``
    ADK has nothing to clean up and no such call: the adapter answers 0 without calling ADK,
    declared in ``adds`` for STORE-038.

``close``
    ``DatabaseSessionService.close()`` (it disposes the SQLAlchemy engine it owns);
    ``InMemorySessionService`` has no ``close``, so closing does nothing.  The adapter keeps no
    closed flag of its own: later calls get whatever ADK answers.

Errors
    ``AlreadyExistsError`` is ``conflict``; ``SessionNotFoundError`` (a ``ValueError``) is
    ``not_found``; other ``ValueError``/``TypeError`` (pydantic validation included) are
    ``invalid_argument``; anything else is ``internal``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from conformance import SPEC_VERSION
from implementations._common import Conflict, NotFound, Unsupported, library_version

if TYPE_CHECKING:
    from collections.abc import Collection

    from conformance.contract import Environment

__all__ = ["ANONYMOUS", "APP", "database_sqlite", "in_memory"]

LIBRARY = "google-adk"
#: The one ADK application every call names.
APP = "conformance"
#: The ADK user that stands for STORE's anonymous owner (null).
ANONYMOUS = "(anonymous)"
FILE_NAME = "adk-sessions.sqlite3"

Kind = Literal["in_memory", "database_sqlite"]
CLAIMS: dict[Kind, frozenset[str]] = {
    "in_memory": frozenset({"store"}),
    "database_sqlite": frozenset({"store", "store.persistent", "store.shared-backend"}),
}


def _instant(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _record(session: Any) -> dict[str, Any]:
    """An ADK ``Session`` as a STORE record (see the module docstring for each field)."""
    return {
        "id": session.id,
        "owner": None if session.user_id == ANONYMOUS else session.user_id,
        "created_at": None,
        "last_active_at": _instant(session.last_update_time),
        "expires_at": None,
        "ttl_seconds": None,
        "state": session.state,
    }


def _user(owner: Any) -> Any:
    return ANONYMOUS if owner is None else owner


class Handle:
    """One ADK session service object, reading time from the kit's clock."""

    def __init__(self, kind: Kind, env: Environment) -> None:
        self.kind = kind
        self._clock = env.clock
        if kind == "in_memory":
            from google.adk.sessions import InMemorySessionService

            self.service: Any = InMemorySessionService()
        else:
            from google.adk.sessions import DatabaseSessionService

            self.service = DatabaseSessionService(db_url=f"sqlite+aiosqlite:///{env.storage_dir / FILE_NAME}")

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _time(self) -> None:
        from google.adk.platform import time as platform_time

        platform_time.set_time_provider(self._now)

    async def _call(self, method: str, **kwargs: Any) -> Any:
        from google.adk.errors.already_exists_error import AlreadyExistsError
        from google.adk.errors.session_not_found_error import SessionNotFoundError

        self._time()
        try:
            return await getattr(self.service, method)(**kwargs)
        except AlreadyExistsError as exc:
            raise Conflict(str(exc)) from exc
        except SessionNotFoundError as exc:
            raise NotFound(str(exc)) from exc

    async def _owner_of(self, session_id: Any, owner: Any) -> Any:
        """The ADK user of a session: the owner of a scoped call, else found by listing (``adds``: STORE-030)."""
        if owner is not None:
            return owner
        listed = await self._call("list_sessions", app_name=APP)
        for session in listed.sessions:
            if session.id == session_id:
                return session.user_id
        return None

    async def _session(self, session_id: Any, owner: Any) -> Any:
        user = await self._owner_of(session_id, owner)
        if user is None:
            return None
        return await self._call("get_session", app_name=APP, user_id=user, session_id=session_id)

    async def create(
        self, *, session_id: Any = None, owner: Any = None, ttl_seconds: Any = None, state: Any = None
    ) -> dict[str, Any]:
        if ttl_seconds is not None:
            msg = "google-adk sessions have no TTL"
            raise Unsupported(msg)
        session = await self._call(
            "create_session", app_name=APP, user_id=_user(owner), state=state, session_id=session_id
        )
        return _record(session)

    async def get(self, session_id: Any, *, owner: Any = None) -> dict[str, Any] | None:
        session = await self._session(session_id, owner)
        return None if session is None else _record(session)

    async def touch(self, session_id: Any, *, owner: Any = None) -> dict[str, Any]:
        msg = "google-adk has no call that marks a session active without appending an event"
        raise Unsupported(msg)

    async def update_state(self, session_id: Any, state: Any, *, owner: Any = None) -> dict[str, Any]:
        from google.adk.events import Event, EventActions

        # The event first: ADK's own validation of the delta then answers before the lookup does,
        # as the contract's precedence (invalid_argument before not_found) asks of any store.
        actions = EventActions(state_delta=state)
        session = await self._session(session_id, owner)
        if session is None:
            msg = f"no session {session_id!r} for this owner"
            raise NotFound(msg)
        self._time()
        event = Event(author="conformance", actions=actions)
        await self._call("append_event", session=session, event=event)
        updated = await self._call("get_session", app_name=APP, user_id=session.user_id, session_id=session.id)
        return _record(updated)

    async def delete(self, session_id: Any, *, owner: Any = None) -> None:
        user = await self._owner_of(session_id, owner)
        if user is not None:
            await self._call("delete_session", app_name=APP, user_id=user, session_id=session_id)

    async def list(self, *, owner: Any = None) -> list[dict[str, Any]]:
        listed = await self._call("list_sessions", app_name=APP, user_id=owner)
        return [_record(s) for s in listed.sessions]

    async def cleanup(self) -> int:
        return 0  # ADK has nothing to clean up (``adds``: STORE-038)

    async def close(self) -> None:
        if self.kind == "database_sqlite":
            await self.service.close()


class GoogleADKStore:
    """The implementation object for one google-adk session service."""

    spec_version = SPEC_VERSION
    adds: ClassVar[dict[str, str]] = {
        "STORE-030": (
            "an unscoped get, update_state or delete finds the session's user by listing every session of the"
            " app; ADK names a session only together with its user"
        ),
        "STORE-038": "cleanup answers 0 without calling ADK, which has no cleanup and nothing that expires",
    }

    def __init__(self, kind: Kind) -> None:
        self.kind: Kind = kind
        self.name = (
            f"{LIBRARY} {'InMemorySessionService' if kind == 'in_memory' else 'DatabaseSessionService (SQLite)'}"
        )
        self.claims: Collection[str] = CLAIMS[kind]

    @property
    def version(self) -> str:
        return library_version(LIBRARY)

    def open_session_store(self, env: Environment) -> Handle:
        return Handle(self.kind, env)

    def __repr__(self) -> str:
        return f"GoogleADKStore({self.kind!r})"


in_memory = GoogleADKStore("in_memory")
database_sqlite = GoogleADKStore("database_sqlite")
