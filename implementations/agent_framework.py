"""An honest ID adapter over agent-framework-core 1.23.0's ``Agent`` and ``AgentSession``.

Run it with ``pytest --impl=implementations.agent_framework:NAME``:

* ``in_memory``: sessions kept in the library's in-memory ``SessionStore``.  Claims ``id``,
  ``id.handle-chaining`` (the session follows each response's conversation id) and
  ``id.token-expiry`` (the service's ``not_found`` reaches the caller unchanged).
* ``file_store``: sessions kept in ``FileSessionStore(env.storage_dir / "sessions")`` (JSON files).
  Claims the same plus ``id.client-persistence``.

Not claimed: ``id.structured-handle``.  ``AgentSession`` keeps a mapping, but the generic ``Agent``
refuses one when it runs ("expects a string service_session_id", ``Agent._get_chat_conversation_id``),
so a structured handle cannot go through a run as ID-015 asks.

Dependencies: ``pip install -e '.[agent-framework]'`` (pyproject.toml pins agent-framework-core).

The library's sources cited below (agent-framework-core 1.23.0, Python package):

* ``_sessions.py``, ``AgentSession``, ``SessionStore``, ``FileSessionStore``:
  https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_sessions.py
* ``_agents.py``, ``Agent.run`` and how it moves ``conversation_id`` into the session:
  https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_agents.py
* ``_clients.py``, ``BaseChatClient`` and ``STORES_BY_DEFAULT``:
  https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_clients.py
* ``_types.py``, ``ContinuationToken``, ``ChatResponse``, ``AgentResponse``:
  https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_types.py
* the decision record these areas come from, ADR 0029 (pull request #6630):
  https://github.com/microsoft/agent-framework/pull/6630

*Honest* means the adapter translates names, shapes and exceptions and adds no judged behaviour
of its own; what it has to add is declared in :data:`ADDS` (requirement id -> sentence), which
every report shows.  The mapping, decision by decision:

The remote service and the chat-client shim
    agent-framework talks to a model service through a *chat client*; the library's own clients
    (OpenAI, Azure, ...) live in other packages and speak to real services.  Here the service is
    the kit's (``env.agent_service``, spec/identity.md § The remote agent service), reached
    through :class:`KitChatClient`, a ``BaseChatClient`` whose ``_inner_get_response`` only
    forwards: a request without a continuation token becomes ``responses.create`` with the
    session's ``conversation_id`` as ``service_handle``, the input messages' text as ``input``
    and the run options ``steps`` and ``reference_task_ids`` as given; a request with
    ``continuation_token`` becomes ``responses.get`` of the token's ``response_id``, as the
    library's OpenAI Responses client resumes a background response
    (``OpenAIContinuationToken(response_id=...)``, ``responses.retrieve``).  The record comes back
    as a ``ChatResponse`` with the record's ``response_id``, its ``service_handle`` as
    ``conversation_id``, the output as the assistant message, and ``continuation_token``
    ``{"response_id": …}`` while the record is ``in_progress`` and ``None`` once it is completed
    (``ContinuationToken``'s documented meaning).  An error reply becomes :class:`ServiceError`
    with the service's kind.  ``STORES_BY_DEFAULT = True``: the service keeps the conversation,
    as the Responses API does, so the agent adds no local history provider.

    One addition, declared for ID-023: the kit's ``responses.create`` needs a conversation, and
    a session without ``service_session_id`` has none, so the shim first asks for one with
    ``conversations.create`` (the Responses API would chain from the response instead).  The
    library then stores the id the response carries (``Agent._update_session_from_chat_response``).

Where the shim, not the library, decides an error's kind
    The library hands the chat client whatever it was given, so two errors arise in the shim, which
    reads what it forwards: a token that is a mapping without ``response_id`` raises ``KeyError``
    (``not_found``; ID-013 fails on it, and fails without it on another session's token and on
    ``null``), and a run input that is neither text nor messages (``b"hi"`` reaches the client as
    the integers 104 and 105) raises ``AttributeError`` (a crash; ID-016 fails without it on
    ``None`` and on a list).  No request reaches the service in either case.

``open_agent_service(env)``
    One ``Agent(client=KitChatClient(env.agent_service))`` and one session store.  A second
    call with the same ``env`` is a restart: a new agent and a new store; ``file_store`` reopens
    the same directory, ``in_memory`` starts empty.

``create_session(session_id, service_handle, state)``
    ``AgentSession(session_id=…, service_session_id=…)`` (what ``Agent.create_session`` and
    ``Agent.get_session`` build), ``session.state = state`` when a state is given, then
    ``store.set(session.session_id, session)``.  ``FileSessionStore`` refuses an id longer than
    128 characters (``ValueError``; ID-003).  Nothing else is checked: the library replaces
    an empty id with ``str(uuid.uuid4())`` (ID-004), accepts any handle and state value (ID-016),
    and ``store.set`` replaces a live session (ID-005).  The store key is the session's own id.

``get_session`` / ``set_state``
    ``store.get(id)``; ``None`` (absent) becomes ``not_found``, the contract's name for it.
    ``set_state`` assigns ``session.state`` and stores the session again.

``run(session_id, input, steps, reference_task_ids)``
    ``agent.run(input, session=session, options={"steps": …, "reference_task_ids": …})`` (run
    options that are not the library's reach the chat client unchanged), then ``store.set``.  The
    response: ``response_id`` and ``continuation_token`` of the ``AgentResponse``; ``status``
    ``in_progress`` while the token is not ``None``; ``output`` the response text once completed;
    ``reference_task_ids`` as the service recorded them (carried in ``additional_properties``).

    The session is looked up first, because ``Agent.run`` needs the session object; the library
    checks none of the arguments, so a bad argument on an unknown session is ``not_found`` (ID-021).

``resume(session_id, continuation_token)``
    ``agent.run(session=session, options={"continuation_token": token})``, the library's documented
    way to resume (``ContinuationToken`` docstring).  The library does not look at the token: a
    token of another session is forwarded (ID-013), and ``None`` means "no continuation", a new
    run.

``snapshot`` / ``restore``
    ``session.to_dict()`` is ``{"type": "session", "session_id", "service_session_id", "state"}``;
    the snapshot renames ``service_session_id`` to ``service_handle`` and the library's ``"type":
    "session"`` tag to ``"snapshot_version": 1``.  ``restore`` renames back (``snapshot_version``
    becomes ``"type": "session"``), passes every other member through, and calls
    ``AgentSession.from_dict``; the library ignores unknown members and the tag, raises
    ``KeyError`` for a missing ``session_id``, and replaces an empty one.  The restored session is
    stored with ``store.set`` (replacing a live one).

``close``
    ``await agent.close()``, the library's own close, which closes the chat client and MCP contexts
    the agent manages (``Agent.close`` in ``_agents.py``).  It leaves the agent callable, and the
    session stores have no close at all, so every later call still answers (ID-030 fails; spec/
    identity.md § "Differences from upstream", row "closed client").  The adapter adds no closed
    state of its own.

``restart``
    The kit closes the client (``close`` above) and calls the factory again; nothing is saved by
    the adapter.

Errors
    The contract maps ``ValueError``/``TypeError`` to ``invalid_argument``, ``LookupError`` to
    ``not_found`` and everything else to ``internal``; the library's exceptions pass through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from implementations._common import library_version

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from conformance.contract import Environment

__all__ = ["ADDS", "AgentFrameworkId", "KitChatClient", "ServiceError", "file_store", "in_memory"]

SPEC_VERSION = "0.2.0"
LIBRARY = "agent-framework-core"
FOLDER = "sessions"

Kind = Literal["in_memory", "file_store"]
CLAIMS: dict[Kind, frozenset[str]] = {
    "in_memory": frozenset({"id", "id.handle-chaining", "id.token-expiry"}),
    "file_store": frozenset({"id", "id.handle-chaining", "id.token-expiry", "id.client-persistence"}),
}
TITLES: dict[Kind, str] = {
    "in_memory": "Agent + AgentSession (SessionStore)",
    "file_store": "Agent + AgentSession (FileSessionStore)",
}
#: What the adapter (its chat-client shim) adds that the library lacks; shown in every report.
ADDS = {
    "ID-023": (
        "the chat-client shim calls conversations.create before responses.create when the session has no "
        "service_session_id, because the kit's service needs a conversation; the library stores the id returned"
    ),
}


class ServiceError(Exception):
    """An error reply of the kit's service, with its kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.error_kind = kind


class SessionNotFound(LookupError):
    """``store.get`` answered ``None``."""

    error_kind = "not_found"


def _call(service: Any, method: str, params: dict[str, Any]) -> Any:
    reply = service.call({"method": method, "params": params})
    if "error" in reply:
        raise ServiceError(str(reply["error"].get("kind")), str(reply["error"].get("message")))
    return reply["result"]


def _chat_client_class() -> type:
    from agent_framework import BaseChatClient, ChatResponse, Message

    class _KitChatClient(BaseChatClient):  # type: ignore[misc]
        """Forwards each chat request to the kit's agent service and its reply back."""

        STORES_BY_DEFAULT = True

        def __init__(self, service: Any) -> None:
            super().__init__()
            self.service = service

        async def _inner_get_response(  # type: ignore[override]
            self, *, messages: Sequence[Any], stream: bool, options: Mapping[str, Any], **kwargs: Any
        ) -> Any:
            token = options.get("continuation_token")
            if token is not None:
                record = _call(self.service, "responses.get", {"response_id": token["response_id"]})
            else:
                handle = options.get("conversation_id")
                if handle is None:
                    handle = _call(self.service, "conversations.create", {})["service_handle"]
                params = {
                    "service_handle": handle,
                    "input": "".join(message.text for message in messages),
                    "steps": options.get("steps", 1),
                    "reference_task_ids": options.get("reference_task_ids", []),
                }
                record = _call(self.service, "responses.create", params)
            done = record["status"] == "completed"
            return ChatResponse(
                messages=[Message(role="assistant", contents=[record["output"]])] if done else [],
                response_id=record["response_id"],
                conversation_id=record["service_handle"],
                continuation_token=None if done else {"response_id": record["response_id"]},
                additional_properties={"reference_task_ids": record["reference_task_ids"]},
            )

    return _KitChatClient


def KitChatClient(service: Any) -> Any:  # noqa: N802 - builds an instance of the shim class
    """A chat client over the kit's agent service (the class is built once the library is imported)."""
    return _chat_client_class()(service)


class AgentFrameworkClient:
    """One agent and one session store: the client the kit drives."""

    def __init__(self, kind: Kind, env: Environment) -> None:
        import warnings

        from agent_framework import Agent, FileSessionStore, SessionStore

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SessionStore is marked experimental
            self.store = FileSessionStore(env.storage_dir / FOLDER) if kind == "file_store" else SessionStore()
        self.agent = Agent(client=KitChatClient(env.agent_service))

    async def _session(self, session_id: Any) -> Any:
        session = await self.store.get(session_id)
        if session is None:
            msg = f"store.get({session_id!r}) returned None"
            raise SessionNotFound(msg)
        return session

    @staticmethod
    def _public(session: Any) -> dict[str, Any]:
        return {
            "session_id": session.session_id,
            "service_handle": session.service_session_id,
            "state": session.state,
        }

    async def create_session(self, session_id: Any = None, service_handle: Any = None, state: Any = None) -> Any:
        from agent_framework import AgentSession

        session = AgentSession(session_id=session_id, service_session_id=service_handle)
        if state is not None:
            session.state = state
        await self.store.set(session.session_id, session)
        return self._public(session)

    async def get_session(self, session_id: Any) -> Any:
        return self._public(await self._session(session_id))

    async def set_state(self, session_id: Any, state: Any) -> None:
        session = await self._session(session_id)
        session.state = state
        await self.store.set(session.session_id, session)

    async def _answer(self, session: Any, response: Any) -> dict[str, Any]:
        await self.store.set(session.session_id, session)
        token = response.continuation_token
        return {
            "response_id": response.response_id,
            "session_id": session.session_id,
            "status": "in_progress" if token is not None else "completed",
            "continuation_token": token,
            "output": response.text if token is None else None,
            "reference_task_ids": response.additional_properties.get("reference_task_ids", []),
        }

    async def run(self, session_id: Any, input: Any, *, steps: Any = None, reference_task_ids: Any = None) -> Any:  # noqa: A002
        session = await self._session(session_id)
        options = {"steps": 1 if steps is None else steps, "reference_task_ids": reference_task_ids or []}
        response = await self.agent.run(input, session=session, options=options)
        return await self._answer(session, response)

    async def resume(self, session_id: Any, continuation_token: Any) -> Any:
        session = await self._session(session_id)
        response = await self.agent.run(session=session, options={"continuation_token": continuation_token})
        return await self._answer(session, response)

    async def snapshot(self, session_id: Any) -> Any:
        data = dict((await self._session(session_id)).to_dict())
        data.pop("type", None)
        return {
            "snapshot_version": 1,
            "session_id": data.pop("session_id"),
            "service_handle": data.pop("service_session_id"),
            **data,
        }

    async def restore(self, snapshot: Any) -> Any:
        from agent_framework import AgentSession

        data = dict(snapshot)
        version = data.pop("snapshot_version", None)
        if "service_handle" in data:
            data["service_session_id"] = data.pop("service_handle")
        data["type"] = "session" if version == 1 else version
        session = AgentSession.from_dict(data)
        await self.store.set(session.session_id, session)
        return self._public(session)

    async def close(self) -> None:
        """``Agent.close()``, the library's own; the session stores have no close (ID-030 fails)."""
        await self.agent.close()


class AgentFrameworkId:
    """The implementation object for one session store."""

    spec_version = SPEC_VERSION
    adds = ADDS

    def __init__(self, kind: Kind) -> None:
        self.kind: Kind = kind
        self.name = f"agent-framework {TITLES[kind]}"
        self.claims: Collection[str] = CLAIMS[kind]

    @property
    def version(self) -> str:
        return library_version(LIBRARY)

    def open_agent_service(self, env: Environment) -> AgentFrameworkClient:
        return AgentFrameworkClient(self.kind, env)

    def __repr__(self) -> str:
        return f"AgentFrameworkId({self.kind!r})"


in_memory = AgentFrameworkId("in_memory")
file_store = AgentFrameworkId("file_store")
