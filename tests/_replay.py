"""Judge a miniature or variant by the suite's tests, running for real only those it can change.

A test of the suite talks to the implementation through its drivers alone, and with the seed
fixed it is a deterministic function of what the implementation answers: the same answers, in
the same order, make the same calls, the same assertions and the same outcome.  So one recorded
run of an area against the reference (its *base*) gives, for every test, the sequence of
operations the test sent and the answers it got (its *transcript*).  Replaying a transcript
against a broken implementation costs only the implementation's own work (no Hypothesis
generation, no model, no pytest): when every answer is the same, the test's run against it is
the recorded one, outcome included; when any answer differs, or the implementation hangs, raises
or crashes, the test *diverges* and runs for real.  A miniature is then judged by a kit run of
its diverging tests, in process and over ``conformance.serve``: the same verdict a whole-suite run
gives, for a fraction of the time (adr/0011, amendment of 2026-11-28).

What keeps the argument sound, each checked rather than assumed:

* a test the base run skipped because its requirement's capability is not claimed is skipped
  again, without running: the kit decides that at collection from the claims alone, which are
  the base's;
* a transcript is replayable only if its test passed in the base run, saw no fault and no kit
  error, and left every value it exchanged as it was (a test that changed a value it passed or
  got back, other than through ``driver.mutate``, is run for real: an aliasing bug would show);
* ids the implementation mints from :mod:`secrets` are drawn from a generator seeded per test,
  in the base run and in the replay alike (:func:`pinned_secrets`), so equal code mints equal
  ids; an implementation drawing randomness elsewhere simply diverges;
* a run whose failures include a root cause (an area's factory failing, which fails every later
  test of the area at once) depends on the order of all tests: the whole area then runs;
* a node id the kit did not run (a parameter id it cannot parse back) is a fault of this
  mechanism, and also makes the whole area run;
* the agent service the kit plays for the ID area is part of the transcript: after every
  operation, the state of each of the test's services (every request it received, every id it
  issued, every response it keeps) is recorded and must be the same in the replay, and what the
  test did to a service (switching its behaviour, expiring a response) is replayed at the same
  point; a test that does anything else to it runs for real;
* what a transcript does not hold is never replayed: a test that opens a second replica (another
  process, whose calls the recording does not see) runs for real; drivers that shared a storage
  directory or an agent service in the recorded run share them in the replay;
* the base is the reference claiming exactly what the miniature or variant claims in the areas
  judged (a test reads no other area's claims, so one base serves both): in memory
  where that can claim it, else in SQLite, which alone claims persistence, a shared backend and
  several replicas (the in-memory reference's answers there are not what a correct
  implementation gives: it forgets); a SQLite store keeps its files in the storage directories
  the replay gives, shared as in the recorded run;
* a miniature or variant no recorded reference can stand for runs its whole area: one claiming
  a capability the SQLite reference lacks (broadcasting between replicas), or one needing a
  PostgreSQL server (its state lives outside the storage the replay gives it).
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import hashlib
import json
import os
import pickle
import random
import secrets
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance._inprocess import InProcessTransport
from conformance.agent_service import AgentServiceSim
from conformance.contract import Environment, ManualClock
from conformance.errors import ImplementationError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: The kit plugin's name in pytest's plugin manager (conformance._runner.KitPlugin.NAME).
KIT = "conformance-kit"
#: A replayed call that takes longer than this diverges (the reference answers in microseconds);
#: the real run then judges the hang with the kit's own timeout.
REPLAY_TIMEOUT = 2.0


# -- the ids an implementation mints ---------------------------------------------------------
@contextlib.contextmanager
def pinned_secrets(seed: str) -> Iterator[None]:
    """:mod:`secrets` draws from ``random.Random(seed)`` while inside: equal code, equal ids."""
    rng = random.Random(seed)
    saved = {name: getattr(secrets, name) for name in ("token_bytes", "randbits", "choice", "randbelow")}
    secrets.token_bytes = lambda nbytes=None: rng.randbytes(32 if nbytes is None else nbytes)  # type: ignore[assignment]
    secrets.randbits = rng.getrandbits  # type: ignore[assignment]
    secrets.choice = rng.choice  # type: ignore[assignment]
    secrets.randbelow = rng.randrange  # type: ignore[assignment]
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(secrets, name, value)


# -- answers, as comparable values -----------------------------------------------------------
def _text(value: Any) -> str:
    """A value as text that tells apart what the JSON data model does (true and 1, 1 and 1.0)."""
    try:
        return json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        return f"<not JSON> {value!r}"


def _answer(value: Any) -> tuple[Any, ...]:
    if isinstance(value, ImplementationError):
        return ("error", value.kind, value.message, value.exc_type)
    if isinstance(value, list):
        return ("ok", _text(value), tuple(_answer(v) for v in value if isinstance(v, ImplementationError)))
    return ("ok", _text(value))


def _outcome(action: Callable[[], Any]) -> tuple[Any, ...]:
    """What an action answered; anything but a value or an error answer is a fault."""
    try:
        return _answer(action())
    except ImplementationError as exc:
        return _answer(exc)
    except Exception as exc:
        return ("fault", type(exc).__name__, str(exc)[:200])


def _copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """A deep copy, as :func:`copy.deepcopy` makes it (shared parts stay shared), fast for JSON values.

    A replay copies every payload it sends, and ``deepcopy``'s generality made that a sixth of a
    replay; whatever is not a JSON container or scalar still goes through ``deepcopy``.
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if memo is None:
        memo = {}
    seen = memo.get(id(value), memo)
    if seen is not memo:
        return seen
    copied: Any
    if kind is dict:
        copied = memo[id(value)] = {}
        for key, item in value.items():
            copied[key] = item if type(item) in _SCALARS else _copy(item, memo)
    elif kind is list:
        copied = memo[id(value)] = []
        copied.extend([item if type(item) in _SCALARS else _copy(item, memo) for item in value])
    elif kind is tuple:
        copied = memo[id(value)] = tuple(_copy(item, memo) for item in value)
    else:
        return copy.deepcopy(value, memo)
    return copied


_SCALARS = frozenset({str, int, float, bool, type(None)})


class _Frozen:
    """A recorded payload as pickle bytes: :func:`_thaw` makes a fresh copy of it in C, not in Python.

    A pickle round trip copies as :func:`copy.deepcopy` does for the values tests send (JSON
    containers and scalars, bit-exact floats, surrogates, shared parts shared); a payload pickle
    cannot take is kept as a :func:`_copy` and copied that way.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:  # two recordings of one run compare equal
        return type(other) is _Frozen and other.data == self.data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"_Frozen({pickle.loads(self.data)!r})"  # noqa: S301 -- bytes this process pickled itself


def _freeze(value: Any) -> Any:
    """What a recording keeps of a payload: a snapshot that later changes to ``value`` do not reach."""
    try:
        return _Frozen(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except Exception:  # not picklable (a function, a lock): the general copy
        return _copy(value)


def _thaw(kept: Any) -> Any:
    """A fresh copy of a payload :func:`_freeze` kept, unshared with it and with every other copy."""
    if type(kept) is _Frozen:
        return pickle.loads(kept.data)  # noqa: S301 -- bytes this process pickled itself
    return _copy(kept)


# -- recording -------------------------------------------------------------------------------
@dataclass
class Transcript:
    """What one test sent to its drivers' transports, and what came back."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    replayable: bool = True
    #: (the value as the test saw it when exchanged, the live object): checked when the test ends.
    exchanged: list[tuple[str, Any]] = field(default_factory=list)
    #: The agent services of the test's drivers, by number, while it runs (:func:`service_state`).
    services: dict[int, Any] = field(default_factory=dict)

    def note(self, value: Any) -> None:
        self.exchanged.append((_text(value), value))

    def untouched(self) -> bool:
        return all(_text(live) == seen for seen, live in self.exchanged)


def service_state(services: dict[int, Any]) -> str:
    """A digest of everything a test can see of its agent services: what each received, issued and keeps.

    The service is a deterministic function of what it is sent and what the test does to it (its
    ids come from :mod:`secrets`, pinned per test), so the same state after every operation, in
    the recorded run and in a replay, means the test saw the same service whenever it looked.
    """
    if not services:
        return ""
    if all(_pristine(service) for service in services.values()):
        # Every test has a service whether it uses one or not: outside the ID area the state is
        # almost always this, whose digest is the same for the same number of services.
        key = len(services)
        if key not in _PRISTINE_STATES:
            _PRISTINE_STATES[key] = _digest(services)
        return _PRISTINE_STATES[key]
    return _digest(services)


def _pristine(service: Any) -> bool:
    """Whether ``service`` received, issued and keeps nothing and has every switch as made (exactly, by type)."""
    return (
        not service.requests
        and not service.handles
        and not service.created
        and service.chaining is False
        and service.outage is False
        and service.failing is None
    )


#: The digest of that many pristine services (:func:`service_state`).
_PRISTINE_STATES: dict[int, str] = {}


def _digest(services: dict[int, Any]) -> str:
    text = _text(
        [
            {
                "requests": service.requests,
                "handles": service.handles,
                "created": service.created,
                "kept": [service.response(rid) for rid in service.created],
                "switches": [service.chaining, service.outage, service.failing],
            }
            for _, service in sorted(services.items())
        ]
    )
    # A digest, not the text: a model test's transcript holds one after each of its thousands of calls.
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class _Watched:
    """The agent service as a test sees it: what the test changes on it is recorded, in order.

    Looking (what it received, issued and keeps) is free: :func:`service_state` after every
    operation holds it.  Changing it through :data:`_SERVICE_SWITCHES` or :data:`_SERVICE_ACTIONS`
    is an event the replay performs at the same point; anything else the test does to it makes the
    transcript unreplayable.
    """

    def __init__(self, inner: Any, transcript: Transcript, number: int) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_t", transcript)
        object.__setattr__(self, "_n", number)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name in _SERVICE_LOOKS:
            return value
        if name in _SERVICE_ACTIONS:

            def act(*args: Any) -> Any:
                self._t.events.append(("service", self._n, name, _copy(args)))
                return value(*args)

            return act
        self._t.replayable = False
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SERVICE_SWITCHES:
            self._t.events.append(("service-set", self._n, name, _copy(value)))
        else:
            self._t.replayable = False
        setattr(self._inner, name, value)


#: Attributes a test sets to change how the service behaves from then on, and methods that change it.
_SERVICE_SWITCHES = frozenset({"chaining", "outage", "failing"})
_SERVICE_ACTIONS = frozenset({"expire"})
#: What a test may read of the agent service (its state: :func:`service_state` compares it).
_SERVICE_LOOKS = frozenset({"requests", "handles", "created", "calls", "response", "sent"}) | _SERVICE_SWITCHES


class _Recording:
    """A transport that records every action of the one it wraps, in order."""

    def __init__(self, inner: Any, transcript: Transcript, number: int) -> None:
        self._inner, self._t, self._n = inner, transcript, number

    def _record(self, kind: str, payload: Any, action: Callable[[], Any]) -> Any:
        event: list[Any] = [kind, self._n, _freeze(payload)]
        try:
            result = action()
        except ImplementationError as exc:
            event.append(_answer(exc))
            event.append(service_state(self._t.services))
            self._t.events.append(tuple(event))
            raise
        except BaseException as exc:
            event.append(("fault", type(exc).__name__, str(exc)[:200]))
            event.append("")
            self._t.events.append(tuple(event))
            self._t.replayable = False
            raise
        event.append(_answer(result))
        event.append(service_state(self._t.services))
        self._t.events.append(tuple(event))
        return result

    def call(self, op: str, args: dict[str, Any]) -> Any:
        self._t.note(args)
        result = self._record("call", (op, args), lambda: self._inner.call(op, args))
        self._t.note(result)
        return result

    def concurrently(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        self._t.note([args for _, args in calls])
        results = self._record("concurrently", calls, lambda: self._inner.concurrently(calls))
        self._t.note([r for r in results if not isinstance(r, ImplementationError)])
        return results

    def mutate(self, of: str, path: list[Any], change: dict[str, Any]) -> None:
        self._record("mutate", (of, path, change), lambda: self._inner.mutate(of, path, change))
        # The change is the test's, made through the kit: what was exchanged is now as changed.
        self._t.exchanged = [(_text(live), live) for _, live in self._t.exchanged]

    def advance_clock(self, seconds: float) -> None:
        self._record("advance_clock", seconds, lambda: self._inner.advance_clock(seconds))

    def close(self) -> None:
        self._record("close", None, self._inner.close)


class Recorder:
    """A pytest plugin for an in-process kit run: the transcript of every test, by node id."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.transcripts: dict[str, Transcript] = {}
        self._current: Transcript | None = None
        self._drivers = 0
        #: This test's storage directories and agent services, numbered as first seen.
        self._storages: dict[Path, int] = {}
        self._services: dict[int, int] = {}
        self._pinned: contextlib.ExitStack | None = None
        #: Tests skipped because their requirement's capability is not claimed: decided at
        #: collection from the claims alone (conformance._runner), before any call.
        self.unclaimed: set[str] = set()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        kit = session.config.pluginmanager.get_plugin(KIT)
        make = kit._driver

        def recorded(storage: Path, service: Any = None) -> Any:
            driver = make(storage, service)
            if self._current is not None:
                self._drivers += 1
                where = self._storages.setdefault(storage.resolve(), len(self._storages))
                shared = self._services.setdefault(id(driver.agent_service), len(self._services))
                served = driver.agent_service is not None
                self._current.events.append(("new", self._drivers, where, shared, served))
                driver._transport = _Recording(driver._transport, self._current, self._drivers)
                if served:
                    self._current.services[shared] = driver.agent_service
                    driver.agent_service = _Watched(driver.agent_service, self._current, shared)
            return driver

        kit._driver = recorded

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._current = self.transcripts[item.nodeid] = Transcript()
        self._storages, self._services = {}, {}
        if "replica" in getattr(item, "fixturenames", ()):
            # A second process's calls are not recorded: the test runs for real.
            self._current.replayable = False
        self._pinned = contextlib.ExitStack()
        self._pinned.enter_context(pinned_secrets(f"{self.seed}:{item.nodeid}"))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "setup" and report.skipped and self._current is not None and not self._current.events:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
            if reason.startswith("Skipped: not claimed: "):
                self.unclaimed.add(report.nodeid)
        if report.when != "teardown" or self._current is None:
            return
        self._current.replayable = self._current.replayable and self._current.untouched()
        self._current.exchanged = []
        self._current.services = {}
        self._current = None
        if self._pinned is not None:
            self._pinned.close()
            self._pinned = None


# -- replaying -------------------------------------------------------------------------------
#: Empty storage directories that replays left as they found them, for the next replay to use: a
#: replay makes a directory for every driver, and making and removing them was a tenth of its time.
_SPARE: list[Path] = []
_ROOT: list[Path] = []


def _storage() -> Path:
    if _SPARE:
        return _SPARE.pop()
    if not _ROOT:
        _ROOT.append(Path(tempfile.mkdtemp(prefix="replay-")))
        atexit.register(shutil.rmtree, _ROOT[0], ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=_ROOT[0], prefix="storage-"))


def _give_back(storage: Path) -> None:
    """Keep ``storage`` for the next replay if it is as :func:`tempfile.mkdtemp` made it, else remove it."""
    try:
        with os.scandir(storage) as entries:
            pristine = next(entries, None) is None and stat.S_IMODE(storage.stat().st_mode) == _PRISTINE
    except OSError:
        pristine = False
    if pristine:
        _SPARE.append(storage)
    else:
        shutil.rmtree(storage, ignore_errors=True)


_PRISTINE = 0o700  # the mode tempfile.mkdtemp gives


def replays(impl: Any, transcript: Transcript, seed: str) -> bool:
    """Whether ``impl``, sent what the transcript's test sent, answers exactly what it recorded."""
    transports: dict[int, InProcessTransport] = {}
    storages: dict[int, Path] = {}
    services: dict[int, AgentServiceSim] = {}
    watched: dict[int, AgentServiceSim] = {}  # the services the recorded drivers had: their state is compared
    try:
        with pinned_secrets(seed):
            for event in transcript.events:
                if event[0] == "new":
                    _, number, where, shared, served = event
                    storage = storages[where] if where in storages else storages.setdefault(where, _storage())
                    if shared not in services:  # not setdefault: that would make a service per driver
                        services[shared] = AgentServiceSim()
                    service = services[shared]
                    if served:
                        watched[shared] = service
                    env = Environment(storage_dir=storage, clock=ManualClock(), agent_service=service)
                    transports[number] = InProcessTransport(
                        impl, env, timeout=REPLAY_TIMEOUT, startup_timeout=5 * REPLAY_TIMEOUT
                    )
                    continue
                if event[0] == "service":  # what the test did to its agent service, at the same point
                    _, shared, name, args = event
                    getattr(services[shared], name)(*_copy(args))
                    continue
                if event[0] == "service-set":
                    _, shared, name, value = event
                    setattr(services[shared], name, _copy(value))
                    continue
                kind, number, payload, recorded, state = event
                sent = _thaw(payload)
                got = _outcome(lambda t=transports[number], k=kind, p=sent: _perform(t, k, p))
                if got != recorded or service_state(watched) != state:
                    return False
        return True
    finally:
        for transport in transports.values():
            with contextlib.suppress(Exception):
                transport.close()
        for storage in storages.values():
            _give_back(storage)


def _perform(transport: InProcessTransport, kind: str, payload: Any) -> Any:
    """One recorded operation of a driver's transport, done again."""
    if kind == "call":
        return transport.call(*payload)
    if kind == "concurrently":
        return transport.concurrently(payload)
    if kind == "mutate":
        return transport.mutate(*payload)
    if kind == "advance_clock":
        return transport.advance_clock(payload)
    return transport.close()


@dataclass
class Base:
    """One recorded run of an area against the reference: each test's outcome and transcript."""

    outcomes: dict[str, str]
    transcripts: dict[str, Transcript]
    seed: str
    #: Tests skipped as not claimed, which the same claims skip again whatever the implementation.
    unclaimed: frozenset[str] = frozenset()

    def diverging(self, impl: Any) -> list[str]:
        """The tests ``impl`` may not pass as the reference did: those to run for real, in suite order."""
        return [
            nodeid
            for nodeid, outcome in self.outcomes.items()
            if not (outcome == "skipped" and nodeid in self.unclaimed)
            and not (
                outcome == "passed"
                and nodeid in self.transcripts
                and self.transcripts[nodeid].replayable
                and replays(impl, self.transcripts[nodeid], f"{self.seed}:{nodeid}")
            )
        ]


def tests_of(report: dict[str, Any]) -> dict[str, str]:
    """Every test of a kit report with its outcome (a test citing several requirements once)."""
    return {t["nodeid"]: t["outcome"] for r in report.get("requirements", []) for t in r["tests"]}


# -- judging a miniature or a variant -----------------------------------------------------------
#: Base implementations by name, loadable as ``--impl=tests._replay:NAME`` (module ``__getattr__``).
_BASE_IMPLS: dict[str, Any] = {}
#: Recorded base runs of this process, by (claims, selection, seed): one per area and claim set.
_BASES: dict[tuple[frozenset[str], tuple[str, ...], str], Base] = {}
#: The diverging tests of a target against a base, by (target, claims, selection, seed): a variant is
#: judged in process and over the protocol, and one replay serves both.
_DIVERGING: dict[tuple[str, frozenset[str], tuple[str, ...], str], tuple[str, ...]] = {}


def __getattr__(name: str) -> Any:
    try:
        return _BASE_IMPLS[name]
    except KeyError:
        raise AttributeError(name) from None


def _backend_for(claims: frozenset[str]) -> str:
    """The reference backend a base claiming ``claims`` records: in memory, unless it must persist.

    Persistence, a shared backend and several replicas are claimed by the SQLite reference only; its
    answers there are a correct implementation's (the in-memory reference's are not: it forgets).
    """
    from reference_impl import ReferenceImplementation

    return "memory" if claims <= frozenset(ReferenceImplementation("memory").claims) else "sqlite"


def _reference_claiming(claims: frozenset[str]) -> str:
    """A target for the reference claiming exactly ``claims`` (what its tests branch on).

    In memory where that can claim them, else in SQLite (:func:`_backend_for`).  Its session store
    expires sessions only if ``store.ttl`` is claimed (``memory_nottl`` otherwise).
    """
    from reference_impl import ReferenceImplementation

    backend = _backend_for(claims)
    name = f"base_{backend}_" + "_".join(sorted(c.replace(".", "__").replace("-", "_") for c in claims))
    if name not in _BASE_IMPLS:
        base = ReferenceImplementation(backend, ttl="store.ttl" in claims)
        base.claims = claims
        _BASE_IMPLS[name] = base
    return f"{__name__}:{name}"


def cannot_stand_for(impl: Any, claims: frozenset[str]) -> str:
    """Why no recorded reference can stand for ``impl`` (then its whole selection runs), or ""."""
    from reference_impl import ReferenceImplementation

    if getattr(impl, "needs_postgres", False):
        return "it needs a PostgreSQL server, whose state the replay does not hold"
    beyond = claims - frozenset(ReferenceImplementation("sqlite").claims)
    if beyond:
        return f"it claims {sorted(beyond)}, which neither recorded reference (in memory, SQLite) has"
    return ""


def within(claims: frozenset[str], selection: tuple[str, ...]) -> frozenset[str]:
    """The claims a run of ``selection`` can see: those of its areas, when it selects whole areas or requirements.

    A test of the suite reads only the capabilities of its own area (the plugin skips it by its
    requirement's capability, and the suite asks ``claimed`` of its own area only), so a
    miniature claiming one area and a variant claiming every area share the base of the area
    they are judged on (tests/test_miniatures.py checks it).  Any other selection keeps them all.
    """
    areas: set[str] = set()
    for arg in selection:
        name, _, value = arg.partition("=")
        if name != "--requirement" or not value:
            return claims
        areas.update(part.strip().partition("-")[0].lower() for part in value.split(","))
    return frozenset(c for c in claims if c.partition(".")[0] in areas) if areas else claims


def base_run(run_kit: Any, claims: frozenset[str], selection: tuple[str, ...], seed: str) -> Base:
    """The reference's recorded run of ``selection`` with ``claims``, made once per process."""
    key = (claims, selection, seed)
    if key not in _BASES:
        recorder = Recorder(seed)
        run = run_kit(_reference_claiming(claims), f"--hypothesis-seed={seed}", *selection, plugins=[recorder])
        ran = {nodeid: outcome for nodeid, outcome in tests_of(run.report).items() if nodeid in recorder.transcripts}
        assert ran, f"the base run of {selection} ran no test:\n{run.result.stdout.str()[-2000:]}"
        _BASES[key] = Base(ran, recorder.transcripts, seed, frozenset(recorder.unclaimed))
    return _BASES[key]


@dataclass
class Judged:
    """A kit run of what a broken implementation can change: its diverging tests, or its whole selection."""

    run: Any  # tests.conftest.KitRun
    tests: tuple[str, ...]  # the node ids run, or () for the whole selection
    args: tuple[str, ...]  # what selected them, for the run over the protocol
    why: str = ""  # why the whole selection ran, when it did

    @property
    def scope(self) -> str:
        if self.tests:
            return f"{len(self.tests)} diverging test(s)"
        return "the whole selection" + (f" ({self.why})" if self.why else "")


#: Set (to anything) to judge every miniature and variant by its whole selection, both ways, as
#: before the replay: what the replay stands in for, kept runnable (and timed by the benchmark).
WHOLE = "CONFORMANCE_SELF_TEST_WHOLE"


def load_target(target: str) -> Any:
    """The implementation object an in-process ``--impl`` names."""
    from conformance._loading import load

    return load(target)[0]


def judge(run_kit: Any, target: str, selection: tuple[str, ...], seed: str, *, via: str = "") -> Judged:
    """Run ``target`` through the tests its answers can change (module docstring).

    In process, or through ``via`` (the ``--impl`` that serves ``target`` over the protocol).
    """
    from conformance._loading import load

    # The verdict and the report's messages come from the exception, not from pytest's traceback
    # text: ``--tb=line`` writes the same report.  It spares the long tracebacks of every failing
    # test, for which pytest parses the whole source file of each frame again (6-8 % of a miniature's time).
    args = (f"--hypothesis-seed={seed}", "--tb=line", *selection)
    if os.environ.get(WHOLE):
        return Judged(run_kit(via or target, *args), (), args)

    impl, info = load(target)
    why = cannot_stand_for(impl, frozenset(info.claims))
    if why:
        return Judged(run_kit(via or target, *args), (), args, why)
    base = base_run(run_kit, within(frozenset(info.claims), selection), selection, seed)
    key = (target, frozenset(info.claims), selection, seed)
    if key not in _DIVERGING:
        _DIVERGING[key] = tuple(base.diverging(impl))
    diverging = _DIVERGING[key]
    if diverging:
        run = run_kit(via or target, *args, *diverging)
        ran = set(tests_of(run.report))
        if set(diverging) <= ran and "conformance: root cause for" not in run.result.stdout.str():
            return Judged(run, diverging, (*args, *diverging))
    # Nothing diverged (a miniature the kit cannot catch shows it here), an id did not run, or a
    # root cause made later tests depend on earlier ones: the whole selection, as before.
    return Judged(run_kit(via or target, *args), (), args)
