"""ID — identity lifetimes of an agent service (spec/identity.md).

An implementation of this area is an *agent client*.  The remote agent service behind it
is the kit's (:mod:`conformance.agent_service`): the factory finds it as
``env.agent_service`` in process, and over the adapter protocol at the
``agent_service_url`` of ``kit.begin``.  The service mints service handles and response
ids, performs ``steps`` units of work per run (the first done by the run itself and one
more by each resume), echoes (a completed operation's ``output`` is its ``input``), and
keeps every request it receives, so the kit can tell on its own side that a bad argument
was refused *before* any remote call.

Wire operations: one table each in spec/identity.md § Operations, the source of truth that
``conformance.tools.optables`` holds these protocols to.

* session: ``{session_id, service_handle, state}``;
* response: ``{response_id, session_id, status, continuation_token, output,
  reference_task_ids}`` (schemas/id/response.schema.json);
* snapshot: ``{snapshot_version, session_id, service_handle, state}``
  (schemas/id/session-snapshot.schema.json).

Every operation's arguments and result: schemas/id/operations.schema.json.

An absent or null ``session_id``/``service_handle``/``state`` on create means "none
given" (the implementation mints an id; the state is ``{}``; the remote service assigns
a handle, at create or at the first run, and until then the handle is null).  An absent
or null ``steps`` means 1.  ``restart`` drops every client-side session, as a process
restart would (unless the implementation claims ``id.client-persistence``); the kit's
remote service and its unfinished operations survive it, and so does the client's
configuration (the factory is called again with the same environment: a token-signing
key derived from it, say, is the same after a restart).  ``close`` closes the client and keeps
it callable: every later operation fails with ``closed`` (ID-030), and a second close does nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from conformance._binding import AreaBinding
from conformance._traceback import kit_frame
from conformance.areas._facade import UNSET, Answer, passed

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from conformance.agent_service import AgentServiceSim
    from conformance.contract import Environment
    from conformance.driver import Driver

AREA = "id"

JSONObject = dict[str, Any]


class AgentService(Protocol):
    """The client an application holds: sessions, runs, resumes and snapshots."""

    def create_session(
        self, session_id: Any = None, service_handle: Any = None, state: Any = None
    ) -> JSONObject | Awaitable[JSONObject]: ...
    def get_session(self, session_id: Any) -> JSONObject | Awaitable[JSONObject]: ...
    def set_state(self, session_id: Any, state: Any) -> None | Awaitable[None]: ...
    def run(
        self,
        session_id: Any,
        input: Any,  # noqa: A002 - the wire name of the argument
        *,
        steps: Any = 1,
        reference_task_ids: Any = None,
    ) -> JSONObject | Awaitable[JSONObject]: ...
    def resume(self, session_id: Any, continuation_token: Any) -> JSONObject | Awaitable[JSONObject]: ...
    def snapshot(self, session_id: Any) -> JSONObject | Awaitable[JSONObject]: ...
    def restore(self, snapshot: Any) -> JSONObject | Awaitable[JSONObject]: ...
    def close(self) -> None | Awaitable[None]:
        """Every later call fails with ``closed`` (ID-030); a second close does nothing.

        The kit's remote service and the configuration live on: a restart is a close and the
        factory called again.
        """
        ...


class AgentServiceImplementation(Protocol):
    """An implementation that claims ``id`` has this factory."""

    def open_agent_service(self, env: Environment) -> AgentService | Awaitable[AgentService]:
        """Return a client of ``env.agent_service``; a second call with the same ``env`` is a restart."""
        ...


_PASSED_ON = {
    "create_session": ("session_id", "service_handle", "state"),
    "run": ("steps", "reference_task_ids"),
}


class InProcessId(AreaBinding):
    """Carries ID operations to Python objects."""

    area = AREA
    factory_name = "open_agent_service"

    @staticmethod
    def _present(name: str, args: dict[str, Any]) -> dict[str, Any]:
        return {key: args[key] for key in _PASSED_ON[name] if key in args}

    async def op_create_session(self, args: dict[str, Any]) -> Any:
        svc = await self.root()
        return await self.invoke(svc.create_session, **self._present("create_session", args))

    async def op_get_session(self, args: dict[str, Any]) -> Any:
        return await self.invoke((await self.root()).get_session, args.get("session_id"))

    async def op_set_state(self, args: dict[str, Any]) -> None:
        await self.invoke((await self.root()).set_state, args.get("session_id"), args.get("state"))

    async def op_run(self, args: dict[str, Any]) -> Any:
        svc = await self.root()
        return await self.invoke(svc.run, args.get("session_id"), args.get("input"), **self._present("run", args))

    async def op_resume(self, args: dict[str, Any]) -> Any:
        svc = await self.root()
        return await self.invoke(svc.resume, args.get("session_id"), args.get("continuation_token"))

    async def op_snapshot(self, args: dict[str, Any]) -> Any:
        return await self.invoke((await self.root()).snapshot, args.get("session_id"))

    async def op_restore(self, args: dict[str, Any]) -> Any:
        return await self.invoke((await self.root()).restore, args.get("snapshot"))

    async def op_restart(self, args: dict[str, Any]) -> None:
        await self.aclose()
        await self.root()

    async def op_close(self, args: dict[str, Any]) -> None:
        await self.invoke((await self.root()).close)


class IdentityClient:
    """The suite's view of an ID implementation."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        #: The remote agent service the kit plays for this test: its requests, handles and responses.
        self.service: AgentServiceSim = driver.agent_service

    def _call(self, op: str, **args: Any) -> Answer:
        return self.driver.call(f"id.{op}", passed(**args))

    def create_session(self, session_id: Any = UNSET, service_handle: Any = UNSET, state: Any = UNSET) -> Answer:
        return self._call("create_session", session_id=session_id, service_handle=service_handle, state=state)

    def get_session(self, session_id: Any) -> Answer:
        return self._call("get_session", session_id=session_id)

    def set_state(self, session_id: Any, state: Any) -> None:
        self._call("set_state", session_id=session_id, state=state)

    def run(self, session_id: Any, text: Any = "hello", steps: Any = UNSET, reference_task_ids: Any = UNSET) -> Answer:
        return self._call("run", session_id=session_id, input=text, steps=steps, reference_task_ids=reference_task_ids)

    def resume(self, session_id: Any, token: Any) -> Answer:
        return self._call("resume", session_id=session_id, continuation_token=token)

    def snapshot(self, session_id: Any) -> Answer:
        return self._call("snapshot", session_id=session_id)

    def restore(self, snapshot: Any) -> Answer:
        return self._call("restore", snapshot=snapshot)

    def remote_calls(self) -> int:
        """How many requests the kit's remote service has received in this test (counted by the kit)."""
        return self.service.calls

    def restart(self) -> None:
        """Restart the client so that its sessions are gone; the kit's remote service is not.

        Without ``id.client-persistence`` that is ``id.restart``.  A client that claims it keeps
        its sessions across ``id.restart`` (ID-026), so the kit starts it afresh over empty
        storage instead, talking to the same service: a process started again on another machine
        (spec/identity.md, *restart*).
        """
        if self.driver.info.claimed("id.client-persistence"):
            self.driver = self.driver.sibling()
        else:
            self._call("restart")

    def close(self) -> None:
        """Close the client (ID-030); the kit's teardown or a restart may close it again."""
        self._call("close")

    def restart_in_place(self) -> None:
        """``id.restart`` over the same storage, whatever the claims."""
        self._call("restart")
