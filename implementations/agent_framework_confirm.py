"""Confirm, without the kit, each agent-framework behaviour that the kit reports as an ID failure.

Every failure the matrix shows for ``implementations.agent_framework`` must be the library's own
behaviour, not something the adapter or the kit added.  This script calls agent-framework-core
directly (no adapter, no pytest, no kit code): ``AgentSession``, ``SessionStore`` and ``Agent``
over a chat client that only records the requests it is given.  ``nox -s matrix`` runs it after
the kit; run it alone with ``python -m implementations.agent_framework_confirm [in_memory|file_store]``.

Each check names the requirement it explains and the row of spec/identity.md § "Differences from
upstream" that records it.  Exit status 1 when a recorded behaviour is no longer seen: the record
(and the matrix) is then stale, which is as much a finding as a new failure.
"""

from __future__ import annotations

import asyncio
import json
import sys
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from implementations._confirm import report

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


@dataclass(frozen=True)
class Check:
    requirement: str
    row: str  # the first cell of its row in spec/identity.md "Differences from upstream"
    what: str
    run: Callable[[], Awaitable[bool]]


def recording_agent() -> tuple[Any, list[dict[str, Any]]]:
    """An ``Agent`` whose chat client records each request's options and answers an unfinished response."""
    from agent_framework import Agent, BaseChatClient, ChatResponse

    seen: list[dict[str, Any]] = []

    class Recorder(BaseChatClient):  # type: ignore[misc]
        STORES_BY_DEFAULT = True

        async def _inner_get_response(self, *, messages: Any, stream: bool, options: Any, **kwargs: Any) -> Any:
            seen.append({"options": dict(options), "messages": list(messages)})
            return ChatResponse(
                messages=[], response_id=f"resp_{len(seen)}", conversation_id="conv_1",
                continuation_token={"response_id": f"resp_{len(seen)}"},
            )  # fmt: skip

    return Agent(client=Recorder()), seen


async def empty_id_replaced_at_create() -> bool:
    from agent_framework import AgentSession

    session = AgentSession(session_id="")
    return session.session_id != "" and len(session.session_id) == 36


async def invalid_id_kept_at_create() -> bool:
    from agent_framework import AgentSession

    return all(AgentSession(session_id=bad).session_id == bad for bad in ("a\tb", "a\nb", "\x7f", "\ud800"))


async def empty_id_replaced_on_load() -> bool:
    from agent_framework import AgentSession

    return AgentSession.from_dict({"session_id": ""}).session_id != ""


async def unknown_keys_ignored() -> bool:
    from agent_framework import AgentSession

    return AgentSession.from_dict({"session_id": "s", "state": {}, "surprise": 1}).session_id == "s"


async def missing_session_id_key_error() -> bool:
    from agent_framework import AgentSession

    try:
        AgentSession.from_dict({"type": "session", "state": {}})
    except KeyError:
        return True
    return False


async def missing_members_defaulted() -> bool:
    from agent_framework import AgentSession

    session = AgentSession.from_dict({"session_id": "s"})  # no type tag, handle or state
    return session.service_session_id is None and session.state == {}


async def state_not_object_crashes_on_load() -> bool:
    from agent_framework import AgentSession

    try:
        AgentSession.from_dict({"session_id": "s", "state": ["k", "v"]})
    except AttributeError:  # _deserialize_state calls .items() on it
        return True
    return False


async def long_id_refused_by_file_store() -> bool:
    import tempfile

    from agent_framework import AgentSession, FileSessionStore

    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as folder:
        warnings.simplefilter("ignore")
        store = FileSessionStore(folder)
        try:
            await store.set("x" * 129, AgentSession(session_id="x" * 129))
        except ValueError:
            return True
    return False


async def message_tag_decoded() -> bool:
    from agent_framework import AgentSession, Message

    session = AgentSession(session_id="keeper")
    session.state = {"memory": {"type": "message", "role": "user"}}
    restored = AgentSession.from_dict(json.loads(json.dumps(session.to_dict())))
    return isinstance(restored.state["memory"], Message)


async def store_replaces_live() -> bool:
    from agent_framework import AgentSession, SessionStore

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = SessionStore()
    first = AgentSession(session_id="alpha", service_session_id="conv_a")
    await store.set("alpha", first)
    await store.set("alpha", AgentSession(session_id="alpha"))  # no error: the first is replaced
    again = await store.get("alpha")
    return again is not None and again.service_session_id is None


async def handle_of_any_shape_kept() -> bool:
    from agent_framework import AgentSession

    values: list[Any] = ["", 5, True, ["a"]]
    kept = [AgentSession(session_id="s", service_session_id=v).service_session_id for v in values]
    loaded = AgentSession.from_dict({"session_id": "s", "service_session_id": 5}).service_session_id
    return kept == values and loaded == 5


async def state_of_any_type_kept() -> bool:
    from agent_framework import AgentSession, SessionStore

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = SessionStore()
    session = AgentSession(session_id="s")
    session.state = 5  # type: ignore[assignment]  # a plain attribute: nothing checks it
    await store.set("s", session)
    again = await store.get("s")
    return again is not None and again.state == 5


async def run_arguments_forwarded() -> bool:
    agent, seen = recording_agent()
    session = agent.create_session(session_id="s")
    await agent.run(None, session=session, options={"steps": 0})
    await agent.run(["hi"], session=session)
    return len(seen) == 2 and seen[0]["options"].get("steps") == 0 and seen[0]["messages"] == []


async def foreign_token_forwarded() -> bool:
    agent, seen = recording_agent()
    alpha, beta = agent.create_session(session_id="alpha"), agent.create_session(session_id="beta")
    first = await agent.run("x", session=alpha)
    await agent.run(session=beta, options={"continuation_token": first.continuation_token})
    return seen[-1]["options"].get("continuation_token") == first.continuation_token


async def null_token_starts_a_run() -> bool:
    agent, seen = recording_agent()
    session = agent.create_session(session_id="s")
    await agent.run(session=session, options={"continuation_token": None})
    return len(seen) == 1 and "continuation_token" not in seen[0]["options"]


async def only_the_session_is_looked_up() -> bool:
    from agent_framework import SessionStore

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = SessionStore()
    agent, seen = recording_agent()
    await agent.run(None, session=agent.create_session(session_id="s"), options={"steps": "x"})
    return await store.get("nobody") is None and seen[0]["options"]["steps"] == "x"


async def resume_takes_the_resumed_handle() -> bool:
    """A resume's response carries the conversation of the run it resumes, and the session takes it."""
    from agent_framework import Agent, BaseChatClient, ChatResponse

    class PerRunConversation(BaseChatClient):  # type: ignore[misc]
        STORES_BY_DEFAULT = True

        async def _inner_get_response(self, *, messages: Any, stream: bool, options: Any, **kwargs: Any) -> Any:
            token = options.get("continuation_token")
            if token is not None:  # the older run, finished now: its own conversation
                return ChatResponse(messages=[], response_id=token["response_id"], conversation_id="conv_older")
            first = "conv_latest" if options.get("conversation_id") else "conv_older"
            return ChatResponse(
                messages=[], response_id=f"resp_{first}", conversation_id=first,
                continuation_token={"response_id": f"resp_{first}"} if first == "conv_older" else None,
            )  # fmt: skip

    agent = Agent(client=PerRunConversation())
    session = agent.create_session(session_id="s")
    older = await agent.run("one", session=session)  # unfinished: a token
    await agent.run("two", session=session)  # the latest run: conv_latest
    latest = session.service_session_id
    await agent.run(session=session, options={"continuation_token": older.continuation_token})
    return latest == "conv_latest" and session.service_session_id == "conv_older"


async def service_failure_passes_through() -> bool:
    """The chat client's own exception reaches the caller unchanged: no error of the library's for it."""
    from agent_framework import Agent, BaseChatClient

    class Failing(Exception):
        pass

    class FailingClient(BaseChatClient):  # type: ignore[misc]
        STORES_BY_DEFAULT = True

        async def _inner_get_response(self, *, messages: Any, stream: bool, options: Any, **kwargs: Any) -> Any:
            raise Failing

    agent = Agent(client=FailingClient())
    try:
        await agent.run("x", session=agent.create_session(session_id="s"))
    except Failing:
        return True
    return False


async def lone_surrogate_forwarded() -> bool:
    agent, seen = recording_agent()
    await agent.run("a\ud800b", session=agent.create_session(session_id="s"))
    return len(seen) == 1 and "\ud800" in "".join(m.text for m in seen[0]["messages"])


async def closed_agent_still_answers() -> bool:
    """``Agent.close()`` leaves the agent running and the store, which has no close, reading."""
    from agent_framework import AgentSession, SessionStore

    agent, seen = recording_agent()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SessionStore is marked experimental
        store = SessionStore()
    session = AgentSession(session_id="s")
    await store.set("s", session)
    await agent.close()
    await agent.run("after close", session=session)
    no_store_close = not any(hasattr(store, name) for name in ("close", "aclose"))
    return no_store_close and await store.get("s") is not None and len(seen) == 1


BACKENDS = ("in_memory", "file_store")
CHECKS = [
    Check(
        "ID-004",
        "invalid session id at create",
        'AgentSession(session_id="") mints a uuid4',
        empty_id_replaced_at_create,
    ),
    Check("ID-004", "invalid session id at create", "ids with control characters are kept", invalid_id_kept_at_create),
    Check(
        "ID-004", "empty session id on load", 'from_dict({"session_id": ""}) mints a new id', empty_id_replaced_on_load
    ),
    Check("ID-005", "duplicate session create", "SessionStore.set replaces a live session", store_replaces_live),
    Check("ID-013", "incompatible continuation", "Agent.run forwards another session's token", foreign_token_forwarded),
    Check("ID-013", "incompatible continuation", "a null continuation_token starts a new run", null_token_starts_a_run),
    Check(
        "ID-016",
        "service handle shape",
        "any service_session_id is kept, at create and on load",
        handle_of_any_shape_kept,
    ),
    Check("ID-016", "malformed state or run argument", "a non-object state is kept and stored", state_of_any_type_kept),
    Check(
        "ID-016",
        "malformed state or run argument",
        "input None or a list, steps 0 reach the client",
        run_arguments_forwarded,
    ),
    Check(
        "ID-017",
        "user `type` tag in state",
        'a state value {"type": "message"} loads as a Message',
        message_tag_decoded,
    ),
    Check("ID-018", "unknown snapshot keys", "from_dict ignores an unknown member", unknown_keys_ignored),
    Check(
        "ID-018", "missing snapshot key", "from_dict without session_id raises KeyError", missing_session_id_key_error
    ),
    Check("ID-018", "missing snapshot key", "from_dict fills a missing handle and state", missing_members_defaulted),
    Check(
        "ID-018",
        "missing snapshot key",
        "from_dict with a list as state raises AttributeError",
        state_not_object_crashes_on_load,
    ),
    Check(
        "ID-020",
        "duplicate session create",
        "the model's create of a live id: SessionStore.set replaces it",
        store_replaces_live,
    ),
    Check(
        "ID-020",
        "incompatible continuation",
        "the model's resume with another session's token is forwarded",
        foreign_token_forwarded,
    ),
    Check(
        "ID-024",
        "handle replaced on every response",
        "a resume sets the handle to the resumed response's conversation, not the latest run's",
        resume_takes_the_resumed_handle,
    ),
    Check(
        "ID-028",
        "service failing inside",
        "Agent.run raises the chat client's exception unchanged",
        service_failure_passes_through,
    ),
    Check(
        "ID-029",
        "lone surrogate in a run's input",
        "the input reaches the chat client with the lone surrogate in it",
        lone_surrogate_forwarded,
    ),
    Check(
        "ID-021",
        "malformed state or run argument",
        "no argument is judged; only a missing session is seen",
        only_the_session_is_looked_up,
    ),
    Check(
        "ID-030",
        "closed client",
        "after Agent.close() a run reaches the chat client and the store, which has no close, still reads",
        closed_agent_still_answers,
    ),
]
#: Only FileSessionStore limits the length of its keys.
LONG_ID = Check(
    "ID-003",
    "session id over 128 characters",
    "FileSessionStore refuses a 129-character id",
    long_id_refused_by_file_store,
)


def checks_for(backend: str) -> list[Check]:
    return [LONG_ID, *CHECKS] if backend == "file_store" else list(CHECKS)


async def confirm(backend: str) -> list[tuple[Check, bool | str]]:
    results: list[tuple[Check, bool | str]] = []
    for check in checks_for(backend):
        try:
            seen: bool | str = await check.run()
        except Exception as exc:  # an unexpected exception is reported, not raised
            seen = f"raised {type(exc).__name__}: {exc}"
        results.append((check, seen))
    return results


def main(argv: list[str]) -> int:
    stale = 0
    for backend in argv or BACKENDS:
        stale += report(backend, asyncio.run(confirm(backend)))
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
