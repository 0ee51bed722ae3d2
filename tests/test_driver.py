"""The driver and the in-process transport: threading, errors, timeouts, teardown."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conformance._inprocess import InProcessTransport
from conformance._values import NonJSON, json_equal, materialize
from conformance.contract import Environment, ManualClock, error_kind_of
from conformance.driver import Driver, ImplementationInfo
from conformance.errors import ImplementationError, ImplementationFault, KitError, NotTestable

ROOT = Path(__file__).resolve().parents[1]
INFO = ImplementationInfo("probe", "1", "0.2.0", frozenset({"hist"}), "tests:probe")


class Session:
    def __init__(self, log):
        self.log = log
        self.items = []

    def get_items(self, limit=None):
        self.log.append(("get", threading.current_thread().name))
        if limit == "boom":
            raise RuntimeError("kaboom")
        if limit == "slow":
            time.sleep(1.5)  # far past the 0.2 s timeout, short enough not to outlive the worker
        return list(self.items)

    def add_items(self, items):
        self.log.append(("add", items))
        if items == "hold":
            time.sleep(0.2)  # long enough for concurrent calls to overlap
            self.log.append(("threads", threading.active_count()))
        else:
            self.items.extend(items)

    def pop_item(self):
        raise KeyError("nothing")

    def clear_session(self):
        self.items.clear()

    def close(self):
        self.log.append(("close",))


class Backend:
    def __init__(self, log):
        self.log = log

    def open_session(self, session_id, **kwargs):
        return Session(self.log)

    def close(self):
        self.log.append(("backend-close",))


class SyncImpl:
    def __init__(self):
        self.log = []

    def open_history(self, env):
        return Backend(self.log)


class AsyncSession(Session):
    async def get_items(self, limit=None):
        self.log.append(("get", id(asyncio.get_running_loop())))
        return list(self.items)


class AsyncBackend(Backend):
    async def open_session(self, session_id, **kwargs):
        return AsyncSession(self.log)


class AsyncImpl(SyncImpl):
    async def open_history(self, env):
        return AsyncBackend(self.log)


@pytest.fixture
def make(tmp_path):
    made = []

    def build(impl, timeout=2.0):
        driver = Driver(INFO, InProcessTransport(impl, Environment(tmp_path, ManualClock()), timeout=timeout))
        made.append(driver)
        return driver

    yield build
    for driver in made:
        driver.close()


def test_sync_implementation_is_always_called_from_one_thread(make):
    impl = SyncImpl()
    driver = make(impl)
    handle = driver.call("hist.open", {"session_id": "a"})
    for _ in range(5):
        driver.call("hist.get_items", {"handle": handle})
    threads = {name for kind, name in impl.log if kind == "get"}
    assert threads == {threading.current_thread().name}, "on the main thread, calls run on it: no hand-off"


def on_another_thread(work):
    """Run ``work()`` on a fresh thread (not the main one) and return what it returns or raise what it raised."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = work()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="test-side")
    thread.start()
    thread.join(10)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_off_the_main_thread_calls_run_on_one_dedicated_kit_thread(make):
    impl = SyncImpl()

    def work():
        driver = make(impl)
        handle = driver.call("hist.open", {"session_id": "a"})
        for _ in range(3):
            driver.call("hist.get_items", {"handle": handle})
        return driver

    driver = on_another_thread(work)
    threads = {name for kind, name in impl.log if kind == "get"}
    assert threads == {"conformance-loop"}
    with pytest.raises(KitError, match="no area"):  # the dedicated thread serves any caller
        driver.call("nope.open", {})


def test_a_transport_opened_on_the_main_thread_refuses_calls_from_another(make):
    driver = make(SyncImpl())
    with pytest.raises(KitError, match="thread other than the one that opened it"):
        on_another_thread(lambda: driver.call("hist.open", {"session_id": "a"}))


def test_async_implementation_is_awaited_on_one_loop(make):
    impl = AsyncImpl()
    driver = make(impl)
    handle = driver.call("hist.open", {"session_id": "a"})
    assert driver.call("hist.get_items", {"handle": handle}) == []
    driver.call("hist.get_items", {"handle": handle})
    loops = {loop for kind, loop in impl.log if kind == "get"}
    assert len(loops) == 1


def test_concurrent_sync_calls_really_overlap_and_results_keep_their_order(make):
    impl = SyncImpl()
    driver = make(impl)
    handle = driver.call("hist.open", {"session_id": "a"})
    started = time.monotonic()
    results = driver.concurrently(
        [("hist.add_items", {"handle": handle, "items": "hold"})] * 4 + [("hist.pop_item", {"handle": handle})]
    )
    elapsed = time.monotonic() - started
    assert elapsed < 0.6, f"4 calls of 0.2 s took {elapsed:.2f} s: they did not run in parallel"
    assert results[:4] == [None] * 4
    assert isinstance(results[4], ImplementationError)
    assert results[4].kind == "not_found"


def test_exceptions_map_to_error_kinds_with_their_message(make):
    driver = make(SyncImpl())
    handle = driver.call("hist.open", {"session_id": "a"})
    with pytest.raises(ImplementationError) as info:
        driver.call("hist.get_items", {"handle": handle, "limit": "boom"})
    assert info.value.kind == "internal"
    assert info.value.exc_type == "RuntimeError"
    assert "kaboom" in str(info.value)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ValueError("x"), "invalid_argument"),
        (TypeError("x"), "invalid_argument"),
        (KeyError("x"), "not_found"),
        (RuntimeError("x"), "internal"),
        (type("Closed", (RuntimeError,), {"error_kind": "closed"})("x"), "closed"),
        (type("Odd", (ValueError,), {"error_kind": "no-such-kind"})("x"), "invalid_argument"),
    ],
)
def test_error_kind_of_prefers_the_declared_kind_then_the_builtin(exc, kind):
    assert error_kind_of(exc) == kind


def test_missing_factory_makes_the_requirement_not_testable(make):
    driver = make(object())
    with pytest.raises(NotTestable, match="has no open_history"):
        driver.call("hist.open", {"session_id": "a"})


def test_unknown_area_or_handle_is_a_kit_error(make):
    driver = make(SyncImpl())
    with pytest.raises(KitError, match="no area 'nope'"):
        driver.call("nope.open", {})
    with pytest.raises(KitError, match="unknown handle"):
        driver.call("hist.get_items", {"handle": "h99"})


def test_a_hang_times_out_and_poisons_the_transport_without_blocking_teardown(make):
    driver = make(SyncImpl(), timeout=0.2)
    handle = driver.call("hist.open", {"session_id": "a"})
    started = time.monotonic()
    with pytest.raises(ImplementationFault, match=r"hung for more than 0\.2 s"):
        driver.call("hist.get_items", {"handle": handle, "limit": "slow"})
    with pytest.raises(ImplementationFault, match="unusable"):
        driver.call("hist.get_items", {"handle": handle})
    driver.close()
    assert time.monotonic() - started < 2, "teardown waited for the hung call"


def test_a_hang_off_the_main_thread_is_abandoned_not_waited_for(make):
    def work():
        driver = make(SyncImpl(), timeout=0.2)
        handle = driver.call("hist.open", {"session_id": "a"})
        with pytest.raises(ImplementationFault, match=r"hung for more than 0\.2 s"):
            driver.call("hist.get_items", {"handle": handle, "limit": "slow"})
        with pytest.raises(ImplementationFault, match="unusable"):
            driver.call("hist.get_items", {"handle": handle})
        started = time.monotonic()
        driver.close()
        return time.monotonic() - started

    assert on_another_thread(work) < 1, "teardown waited for the hung call"


def test_an_async_hang_on_the_main_thread_times_out(make):
    class Stuck(AsyncImpl):
        async def open_history(self, env):
            await asyncio.sleep(3600)

    driver = make(Stuck(), timeout=0.2)
    started = time.monotonic()
    with pytest.raises(ImplementationFault, match=r"hung for more than 0\.2 s"):
        driver.call("hist.open", {"session_id": "a"})
    driver.close()
    assert time.monotonic() - started < 1


def test_a_hang_that_swallows_the_first_alarm_is_still_ended(make):
    """Python drops an exception raised in a weakref callback or a ``__del__``; the watch goes on."""

    class Swallows(SyncImpl):
        def open_history(self, env):
            deadline = time.monotonic() + 30
            try:
                while time.monotonic() < deadline:
                    pass
            except BaseException:  # noqa: S110 - what an ignored exception amounts to
                pass
            while time.monotonic() < deadline:
                pass

    driver = make(Swallows(), timeout=0.2)
    started = time.monotonic()
    with pytest.raises(ImplementationFault, match=r"hung for more than 0\.2 s"):
        driver.call("hist.open", {"session_id": "a"})
    driver.close()
    assert time.monotonic() - started < 3, "the hang outlived the first alarm"


HUNG_THREAD = """
import asyncio, sys, time
from pathlib import Path
from conformance._inprocess import InProcessTransport
from conformance.contract import Environment, ManualClock
from conformance.driver import Driver
from tests.test_driver import INFO, SyncImpl

class Deadlocked(SyncImpl):
    def open_history(self, env):
        time.sleep(3600)  # two concurrent calls waiting on each other, say

class WaitsOnALock(SyncImpl):
    async def open_history(self, env):
        await asyncio.to_thread(time.sleep, 3600)  # a library's SQLite call handed to a thread, say

impl = Deadlocked() if sys.argv[1] == "concurrently" else WaitsOnALock()
driver = Driver(INFO, InProcessTransport(impl, Environment(Path("."), ManualClock()), timeout=0.3))
try:
    if sys.argv[1] == "concurrently":
        driver.concurrently([("hist.open", {"session_id": "a"}), ("hist.open", {"session_id": "b"})])
    else:
        driver.call("hist.open", {"session_id": "a"})
except Exception as exc:
    print(type(exc).__name__, exc)
driver.close()
"""


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("concurrently", "2 concurrent operations hung for more than 0.3 s"),
        ("to_thread", "hist.open hung for more than 0.3 s"),
    ],
)
def test_a_call_hung_on_a_thread_does_not_keep_the_process_alive(tmp_path, how, message):
    """A synchronous method run by ``concurrently`` on a pool thread, or a call an async method hands
    to ``asyncio.to_thread``, never returns: the call is reported as hung, and the process still ends
    when its work is done (spec/contract.md § Timeouts and faults)."""
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, "-c", HUNG_THREAD, how],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"ImplementationFault {message}\n"
    assert time.monotonic() - started < 15


def _spin(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


def _open_hangs(driver) -> float:
    """``hist.open`` is reported as hung after the driver's 0.2 s; how long it took to say so."""
    started = time.monotonic()
    with pytest.raises(ImplementationFault, match=r"hung for more than 0\.2 s"):
        driver.call("hist.open", {"session_id": "a"})
    return time.monotonic() - started


def test_an_alarm_that_lands_in_a_finalizer_stays_the_kits_business(make, monkeypatch):
    """The alarm raised inside a ``__del__`` is not passed on as an unraisable exception (pytest's hook
    would report it against the test), and the call is still ended by the next alarm."""
    seen = []
    monkeypatch.setattr("sys.unraisablehook", seen.append)

    class Slow:
        def __del__(self):
            time.sleep(2)  # the first alarm, at 0.2 s, lands here

    class DiesSlowly(SyncImpl):
        def open_history(self, env):
            Slow()
            _spin(30)

    assert _open_hangs(make(DiesSlowly(), timeout=0.2)) < 3, "the hang outlived the alarm that landed in the finalizer"
    assert seen == []


def test_the_alarm_does_not_interrupt_the_hook_reporting_an_implementations_ignored_exception(make, monkeypatch):
    """An implementation's own ignored exception still reaches the outer hook, which runs to its end
    even when the call's time runs out meanwhile; the call is then ended as hung."""
    seen = []

    def slow_hook(unraisable):
        time.sleep(0.5)  # the alarm, at 0.2 s, fires during this
        seen.append(type(unraisable.exc_value).__name__)

    monkeypatch.setattr("sys.unraisablehook", slow_hook)

    class Broken:
        def __del__(self):
            raise ValueError

    class Leaks(SyncImpl):
        def open_history(self, env):
            Broken()
            _spin(30)

    assert _open_hangs(make(Leaks(), timeout=0.2)) < 3
    assert seen == ["ValueError"]


def test_the_first_call_into_an_area_may_take_the_startup_budget_and_later_calls_may_not(tmp_path):
    """A slow import in the factory is not a hang; the same delay on a warm area is (contract.md § Timeouts)."""

    class SlowStart(SyncImpl):
        def open_history(self, env):
            time.sleep(0.4)  # the adapter imports its library here
            return super().open_history(env)

    env = Environment(tmp_path, ManualClock())
    driver = Driver(INFO, InProcessTransport(SlowStart(), env, timeout=0.2, startup_timeout=2.0))
    try:
        handle = driver.call("hist.open", {"session_id": "a"})  # cold: 0.4 s is within the start-up budget
        assert driver.call("hist.get_items", {"handle": handle}) == []
    finally:
        driver.close()
    again = Driver(INFO, InProcessTransport(SlowStart(), env, timeout=0.2, startup_timeout=2.0))
    try:
        with pytest.raises(ImplementationFault, match=r"hist\.open hung for more than 0\.2 s"):
            again.call("hist.open", {"session_id": "b"})  # warm: the operation's own timeout applies
    finally:
        again.close()


def test_the_call_timer_leaves_another_owner_of_sigalrm_its_handler_and_its_time(make):
    fired = []

    def theirs(signum, frame):
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, theirs)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        driver = make(SyncImpl())
        handle = driver.call("hist.open", {"session_id": "a"})
        driver.call("hist.get_items", {"handle": handle})
        assert signal.getsignal(signal.SIGALRM) is theirs
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < left <= 0.5
        time.sleep(0.7)
        assert fired == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_close_tears_down_every_backend_once(make):
    impl = SyncImpl()
    driver = make(impl)
    driver.call("hist.open", {"session_id": "a"})
    driver.close()
    driver.close()
    assert impl.log.count(("backend-close",)) == 1


def test_advance_clock_moves_the_environment_clock(tmp_path):
    clock = ManualClock()
    transport = InProcessTransport(SyncImpl(), Environment(tmp_path, clock))
    try:
        Driver(INFO, transport).advance_clock(0.25)
        assert (clock.now() - ManualClock.EPOCH).total_seconds() == 0.25
    finally:
        transport.close()
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)


def test_materialize_keeps_identity_without_stand_ins_and_builds_values_with_them():
    plain = {"a": [1, {"b": 2}]}
    assert materialize(plain) is plain
    built = materialize({"a": [NonJSON("nan")], "k": NonJSON("integer-key")})
    assert math.isnan(built["a"][0])
    assert built["k"] == {1: "a map whose key is not a string"}
    with pytest.raises(ValueError, match="unknown non-JSON kind"):
        NonJSON("pickle")
    deep: list = []
    for _ in range(5000):  # deeper than the interpreter's recursion limit
        deep = [deep]
    assert materialize(deep) is deep
    assert materialize([deep, {"x": NonJSON("bytes")}])[1]["x"] == b"\x00\xffbinary"


def test_a_cyclic_value_to_send_is_a_kit_error_not_a_hang(monkeypatch):
    import conformance._values

    monkeypatch.setattr(conformance._values, "_WALK_BUDGET", 10_000)
    cyclic: list = []
    cyclic.append({"again": cyclic})
    with pytest.raises(KitError, match="cyclic"):
        materialize(cyclic)


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (None, 0, False),
        ({"a": [1]}, {"a": [1]}, True),
        ([1, 2], [2, 1], False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
    ],
)
def test_json_equal_follows_the_json_data_model(a, b, equal):
    assert json_equal(a, b) is equal


class LeakyBackend(Backend):
    """Starts a background task that never ends and an async generator it never closes."""

    def __init__(self, log):
        super().__init__(log)
        self.task = None
        self.gen_closed = False

    async def open_session(self, session_id, **kwargs):
        async def forever():
            await asyncio.sleep(3600)

        async def stream():
            try:
                while True:
                    yield 1
            finally:
                self.gen_closed = True

        self.task = asyncio.get_running_loop().create_task(forever())
        self.gen = stream()
        await self.gen.__anext__()
        return Session(self.log)


def test_teardown_cancels_leftover_tasks_and_closes_async_generators(tmp_path):
    log: list = []
    backend = LeakyBackend(log)
    impl = type("Impl", (), {"open_history": lambda self, env: backend})()
    env = Environment(storage_dir=tmp_path, clock=ManualClock())
    transport = InProcessTransport(impl, env, timeout=2)
    transport.call("hist.open", {"session_id": "a"})
    assert backend.task is not None and not backend.task.done()
    transport.close()
    assert backend.task.cancelled(), "a task the implementation left running outlived its test"
    assert backend.gen_closed, "an async generator the implementation left open was not closed"


def test_a_result_json_cannot_carry_is_a_crash_in_process(tmp_path):
    class Odd(Session):
        def get_items(self, limit=None):
            return {1, 2} if limit == 1 else [{"at": math.nan}]

    class OddBackend(Backend):
        def open_session(self, session_id, **kwargs):
            return Odd(self.log)

    impl = type("Impl", (), {"open_history": lambda self, env: OddBackend([])})()
    transport = InProcessTransport(impl, Environment(storage_dir=tmp_path, clock=ManualClock()), timeout=2)
    try:
        handle = transport.call("hist.open", {"session_id": "a"})
        for limit in (1, 2):
            with pytest.raises(ImplementationFault, match="the result is not JSON"):
                transport.call("hist.get_items", {"handle": handle, "limit": limit})
    finally:
        transport.close()
