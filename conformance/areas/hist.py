"""HIST — the conversation-history store (spec/hist.md).

Three parts, kept together so that one file answers "what does HIST look like":

* the Python protocols an in-process implementation provides
  (:class:`HistoryImplementation`, :class:`HistoryBackend`, :class:`HistorySession`);
* :class:`InProcessHist`, which turns the area's wire operations into calls on
  those objects (the subprocess transport forwards the same operations instead);
* :class:`HistoryClient`, the typed facade the suite writes its tests against.

Wire operations: one table each in spec/hist.md § Operations, the source of truth that
``conformance.tools.optables`` holds these protocols to (``handle`` picks the session object).

An absent ``limit`` or ``default_limit`` is not passed to the method at all; a present one is
passed as that keyword exactly as the kit sent it, valid or not, so ``null`` arrives as ``None``
(spec/contract.md, "Absent and null": for these optional arguments, null means what absence means).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Protocol

from conformance._binding import AreaBinding
from conformance._traceback import kit_frame
from conformance.areas._facade import UNSET, Answer, passed

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from conformance.contract import Environment
    from conformance.driver import Driver

AREA = "hist"

#: A history item is a JSON object; the kit passes and expects plain dicts.
Item = dict[str, Any]


class HistorySession(Protocol):
    """One session's history, as the caller holds it (a "handle")."""

    def get_items(self, limit: Any = None) -> list[Item] | Awaitable[list[Item]]: ...
    def add_items(self, items: Any) -> None | Awaitable[None]: ...
    def pop_item(self) -> Item | None | Awaitable[Item | None]: ...
    def clear_session(self) -> None | Awaitable[None]: ...
    def close(self) -> None | Awaitable[None]: ...


class HistoryBackend(Protocol):
    """Storage shared by every session opened from it (one database, one process)."""

    def open_session(
        self, session_id: Any, *, default_limit: Any = None
    ) -> HistorySession | Awaitable[HistorySession]: ...

    def close(self) -> None | Awaitable[None]:
        """Close the backend and every handle opened from it."""
        ...


class HistoryImplementation(Protocol):
    """An implementation that claims ``hist`` has this factory."""

    def open_history(self, env: Environment) -> HistoryBackend | Awaitable[HistoryBackend]:
        """Return a backend over ``env.storage_dir``; a second call is a restart."""
        ...


class InProcessHist(AreaBinding):
    """Carries HIST operations to Python objects."""

    area = AREA
    factory_name = "open_history"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handles: dict[str, Any] = {}
        self._ids = itertools.count(1)

    def _handle(self, args: dict[str, Any]) -> Any:
        return self.lookup(self._handles, args, "handle")

    async def op_open(self, args: dict[str, Any]) -> str:
        backend = await self.root()
        kwargs = {}
        if "default_limit" in args:
            kwargs["default_limit"] = args["default_limit"]
        session = await self.invoke(backend.open_session, args.get("session_id", UNSET), **kwargs)
        handle = f"h{next(self._ids)}"
        self._handles[handle] = session
        return handle

    async def op_get_items(self, args: dict[str, Any]) -> Any:
        session = self._handle(args)
        if "limit" in args:
            return await self.invoke(session.get_items, limit=args["limit"])
        return await self.invoke(session.get_items)

    async def op_add_items(self, args: dict[str, Any]) -> None:
        await self.invoke(self._handle(args).add_items, args.get("items"))

    async def op_pop_item(self, args: dict[str, Any]) -> Any:
        return await self.invoke(self._handle(args).pop_item)

    async def op_clear_session(self, args: dict[str, Any]) -> None:
        await self.invoke(self._handle(args).clear_session)

    async def op_close(self, args: dict[str, Any]) -> None:
        await self.invoke(self._handle(args).close)

    async def op_restart(self, args: dict[str, Any]) -> None:
        await self.aclose()
        await self.root()

    async def op_close_backend(self, args: dict[str, Any]) -> None:
        """Close the backend but keep it and its handles, so that the kit can call them (HIST-031)."""
        await self.invoke((await self.root()).close)

    async def aclose(self) -> None:
        self._handles.clear()
        await super().aclose()


class HistoryHandle:
    """One open session, as tests see it."""

    def __init__(self, driver: Driver, handle: str, session_id: Any) -> None:
        self._driver = driver
        self.handle = handle
        self.session_id = session_id

    def get_items(self, limit: Any = UNSET) -> Answer:
        return self._driver.call("hist.get_items", passed(handle=self.handle, limit=limit))

    def add_items(self, items: Any) -> None:
        self._driver.call(*self.add_items_op(items))

    def pop_item(self) -> Answer:
        return self._driver.call(*self.pop_item_op())

    def clear_session(self) -> None:
        self._driver.call("hist.clear_session", {"handle": self.handle})

    def close(self) -> None:
        self._driver.call("hist.close", {"handle": self.handle})

    # Operation descriptions for Driver.concurrently().
    def add_items_op(self, items: Any) -> tuple[str, dict[str, Any]]:
        return ("hist.add_items", {"handle": self.handle, "items": items})

    def pop_item_op(self) -> tuple[str, dict[str, Any]]:
        return ("hist.pop_item", {"handle": self.handle})

    def __repr__(self) -> str:
        return f"<history {self.session_id!r} via {self.handle}>"


class HistoryClient:
    """The suite's view of a HIST implementation."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver

    def open(self, session_id: Any, default_limit: Any = UNSET) -> HistoryHandle:
        args = passed(session_id=session_id, default_limit=default_limit)
        return HistoryHandle(self.driver, self.driver.call("hist.open", args), session_id)

    def restart(self) -> None:
        """Close the backend and every handle, then open a new backend over the same storage."""
        self.driver.call("hist.restart", {})

    def close_backend(self) -> None:
        """Close the backend; its handles stay callable, and ``hist.open`` goes to the closed backend."""
        self.driver.call("hist.close_backend", {})
