"""Single-deviation variants: the reference with exactly one upstream behaviour swapped in.

A miniature is a bug the kit must catch; a variant is a *real* library's behaviour, and the kit
must blame exactly the requirements that behaviour violates and nothing else (spec/README,
"Blame").  Each variant names the requirements it fails (``fails``) and the public source of the
behaviour.  ``tests/test_blame.py`` runs each in process and over ``conformance.serve`` and holds
the set of failed requirements to ``fails``, in both transports, with the same failure kinds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reference_impl import ReferenceImplementation
from reference_impl._ids import check_id_list, json_copy
from reference_impl.history import MemoryHistory
from reference_impl.history_sqlite import SQLiteHistory
from reference_impl.identity import AgentService, check_steps
from reference_impl.lifecycle import LifecycleProbe
from tests.miniatures.hist import NegativeLimitReturnsAll, StringifiesNonJSON


class Variant(ReferenceImplementation):
    """The in-memory reference, with one behaviour replaced; claims what the reference claims."""

    fails: frozenset[str] = frozenset()
    source: str = ""

    def __init__(self) -> None:
        super().__init__("memory")
        self.name = f"variant {type(self).__name__}"


# -- HIST ----------------------------------------------------------------------------------


class _NegativeLimitPassesThrough(SQLiteHistory):  # LIMIT -1 means no limit there
    session_class = NegativeLimitReturnsAll  # the HIST-005 miniature's handle: the same behaviour


class NegativeLimitMeansAll(Variant):
    """``get_items(limit=-1)`` returns every item: SQLite's ``LIMIT -1``, kept on purpose.

    openai-agents SQLiteSession: https://github.com/openai/openai-agents-python/pull/4994 (closed).
    """

    fails = frozenset({"HIST-005"})
    source = "https://github.com/openai/openai-agents-python/pull/4994"

    def open_history(self, env: Any) -> Any:
        return _NegativeLimitPassesThrough.open(env)


class _Stringifies(MemoryHistory):
    session_class = StringifiesNonJSON  # the HIST-012 miniature's handle: the same behaviour


class NonJSONStringified(Variant):
    """Values JSON cannot carry are stored as ``str(value)`` (and NaN as the token ``NaN``).

    openai-agents EncryptedSession serialises with ``json.dumps(..., default=str)``.
    """

    fails = frozenset({"HIST-012"})
    source = "https://github.com/openai/openai-agents-python/blob/main/src/agents/extensions/memory/encrypt_session.py"

    def open_history(self, env: Any) -> Any:
        return _Stringifies.open(env)


# -- ID -------------------------------------------------------------------------------------


class _LazyHandleService(AgentService):
    """No handle until the first run; a snapshot taken before it holds null, and restores as null."""

    def create_session(self, session_id: object = None, service_handle: object = None, state: object = None) -> Any:
        view = super().create_session(session_id, service_handle, state)
        if service_handle is None:
            self._sessions[view["session_id"]].service_handle = None
            view = self._sessions[view["session_id"]].view()
        return view

    def check_handle(self, value: object, where: str) -> Any:
        if value is None and where.startswith("snapshot"):
            return None
        return super().check_handle(value, where)

    def run(self, session_id: object, input: object, *, steps: object = 1, reference_task_ids: object = None) -> Any:  # noqa: A002
        with self._lock:
            session = self._sessions.get(session_id) if isinstance(session_id, str) else None
            # The library checks the run's arguments before it talks to the service, as ID-016 asks.
            json_copy(input, "input", kind=str)
            check_steps(steps)
            check_id_list(reference_task_ids, "reference_task_ids")
            if session is not None and session.service_handle is None:
                session.service_handle = self._remote.open_conversation()
        return super().run(session_id, input, steps=steps, reference_task_ids=reference_task_ids)


class HandleFilledAtFirstRun(Variant):
    """A session starts with a null service handle; the first run asks the service for one.

    agent-framework ``AgentSession.service_session_id`` is set from the first response.
    """

    # Each is what the 0.1 text says of this behaviour: ID-007 (a run leaves the handle as it was),
    # ID-014 (a minted handle is returned by get_session from the start), ID-016 (a null handle in a
    # snapshot is rejected) and ID-020, whose model keeps the handle of create_session.
    fails = frozenset({"ID-007", "ID-014", "ID-016", "ID-020"})
    source = "https://github.com/microsoft/agent-framework/blob/main/python/packages/core/agent_framework/_threads.py"

    def open_agent_service(self, env: Any) -> Any:
        return _LazyHandleService.open(env)


# -- LIFE -----------------------------------------------------------------------------------


def _rerendered(event: dict[str, Any]) -> dict[str, Any]:
    metadata = event.get("metadata")
    if not isinstance(metadata, dict):
        return event
    out = dict(metadata)
    for key in ("startTime", "modifiedTime"):
        if isinstance(out.get(key), str):
            out[key] = dt.datetime.fromisoformat(out[key]).isoformat(timespec="microseconds")
    return {**event, "metadata": out}


class _TypedProbe(LifecycleProbe):
    def events(self, handler: str | None = None) -> list[dict[str, Any]]:
        got = super().events(handler)
        if handler is None:
            return [{**d, "event": _rerendered(d["event"])} for d in got]
        return [_rerendered(e) for e in got]


class TimestampsRerendered(Variant):
    """Handlers receive envelope timestamps parsed and written back: ``…00.250Z`` as ``…00.250000+00:00``.

    Typed SDKs parse ``metadata.startTime`` into a date-time (github-copilot-sdk's generated types).
    """

    fails = frozenset({"LIFE-001"})
    source = "https://github.com/github/copilot-sdk"

    def open_lifecycle_client(self, env: Any) -> Any:
        return _TypedProbe()


VARIANTS = {
    "negative_limit_means_all": NegativeLimitMeansAll(),
    "non_json_stringified": NonJSONStringified(),
    "handle_filled_at_first_run": HandleFilledAtFirstRun(),
    "timestamps_rerendered": TimestampsRerendered(),
}
for _attr, _variant in VARIANTS.items():
    globals()[_attr] = _variant


#: Each factory of the implementation object, and the area whose tests use what it returns.
FACTORIES = {
    "open_history": "HIST",
    "open_session_store": "STORE",
    "open_agent_service": "ID",
    "open_task_service": "TASK",
    "open_lifecycle_client": "LIFE",
    "open_lifecycle_server": "LIFE",
}
#: What a variant class may define besides factories: its declarations.
_DECLARATIONS = {"fails", "source", "__doc__", "__module__", "__qualname__", "__firstlineno__", "__static_attributes__"}


def areas_changed(variant: Variant) -> set[str]:
    """The areas whose factory the variant replaces.

    A variant changes nothing but factories (``tests/test_blame.py`` checks that), so the tests
    of every other area run the reference itself, whose pass ``tests/test_miniatures.py`` proves:
    running only the changed areas' tests judges the variant as fully as the whole suite.
    """
    return {
        area
        for name, area in FACTORIES.items()
        if getattr(type(variant), name) is not getattr(ReferenceImplementation, name)
    }


def definitions_beyond_factories(variant: Variant) -> set[str]:
    """Names a variant's own classes define that are neither factories nor declarations."""
    own = [k for k in type(variant).__mro__ if issubclass(k, Variant) and k is not Variant]
    return {name for klass in own for name in vars(klass)} - set(FACTORIES) - _DECLARATIONS
