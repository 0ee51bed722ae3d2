"""The kit's pytest hooks and fixtures for one run, active when ``--impl`` is given.

The same plugin runs in every process of a run.  Serially that is one process.  Under
pytest-xdist (``-n N``) the *controller* prints the header and the summary and writes the
reports, from what the *workers* send: each worker holds its own implementation (its own
adapter process), collects and runs tests, and classifies every report before it is sent
(:func:`conformance._report.classify`).  The controller also hands the workers its Hypothesis
seed, so that the seed it prints replays every test of the run.
"""

from __future__ import annotations

import gc
import random
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from _pytest._code.code import TerminalRepr

from conformance import SPEC_VERSION, __version__
from conformance._data import suite_dir
from conformance._loading import ImplSpecError, load
from conformance._options import option
from conformance._report import Recorder, chain, classify
from conformance._reproducible import restore as restore_local_constants
from conformance._reproducible import without_local_constants
from conformance._requirements import index
from conformance._selection import matches, parse_requirements, resolve_suite_args
from conformance._traceback import kit_frame, show_kit_frames
from conformance.agent_service import AgentServiceSim
from conformance.contract import Environment, ManualClock
from conformance.driver import Driver
from conformance.errors import KitError, RootCause

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from _pytest.terminal import TerminalReporter

    from conformance._baseline import Baseline
    from conformance._subprocess import AdapterProcess
    from conformance.driver import ImplementationInfo

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

T = TypeVar("T")

DEPTHS = {
    # name: (max_examples, stateful_step_count, shrink failures, explain them)
    # Hypothesis's explain phase re-runs a shrunk failure to mark what could vary: on a model test
    # that cost a LIFE miniature 34 of its 42 s to be caught, for comments on a program already
    # minimal.  The default leaves it to ``deep``.
    "quick": (30, 25, True, False),
    "deep": (400, 80, True, True),
    # For runs that only need a verdict (the kit's own miniature tests): failures are not shrunk,
    # so a failing program prints in full rather than minimal.
    "fast": (30, 25, False, False),
}
#: Seconds between two progress lines of a long model test.
PROGRESS_EVERY = 10.0
WORKER_KEY = "conformance"  # in xdist's workerinput (seed) and workeroutput (collection)


def _positive_float(config: pytest.Config, name: str, default: float) -> float:
    raw = option(config, name)
    if raw in (None, ""):
        return default
    try:
        value = float(str(raw))
    except ValueError:
        value = -1.0
    if not value > 0:
        flag = "--" + name.replace("_", "-")
        msg = f"{flag} must be a positive number of seconds, e.g. {flag}=10; got {raw!r}"
        raise pytest.UsageError(msg)
    return value


def _major_minor(version: str) -> str:
    """The part of a version that must match: MAJOR, or MAJOR.MINOR while MAJOR is 0."""
    parts = version.split(".")
    return ".".join(parts[:2]) if parts[0] == "0" else parts[0]


def check_declaration(info: ImplementationInfo) -> list[str]:
    """Claims that cannot be right are usage errors; returns notes worth a header line."""
    if not info.claims:
        msg = (
            f"--impl={info.target}: {info.name} claims nothing, so every requirement would be skipped and the "
            "run would prove nothing. List the areas and capabilities it implements in `claims`, e.g. {'hist'}"
        )
        raise pytest.UsageError(msg)
    if _major_minor(info.spec_version) != _major_minor(SPEC_VERSION):
        want = _major_minor(info.spec_version)
        msg = (
            f"--impl={info.target}: {info.name} targets spec {info.spec_version}, but this kit ({__version__}) "
            f"checks spec {SPEC_VERSION}. Kit releases follow the spec's "
            f"{'MAJOR.MINOR' if '.' in want else 'MAJOR'}: install agent-session-conformance=={want}.* to check "
            f"spec {want}, or declare spec_version = {SPEC_VERSION!r} if the implementation targets it"
        )
        raise pytest.UsageError(msg)
    if info.spec_version != SPEC_VERSION:
        return [
            f"conformance: note: the implementation targets spec {info.spec_version}; this kit checks {SPEC_VERSION}"
        ]
    return []


def requirement_ids(item: pytest.Item) -> list[str]:
    return [str(arg) for mark in item.iter_markers("requirement") for arg in mark.args]


def suite_module_area(path: Path) -> str:
    """The area a suite module is named for: ``test_hist_reads.py`` holds HIST's tests only."""
    return path.name.removeprefix("test_").partition("_")[0].upper()


def _areas(ids: list[str]) -> list[str]:
    known = index()
    return sorted({known[rid].area for rid in ids if rid in known})


class KitPlugin:
    """Holds the implementation under test for one pytest run (in one process)."""

    NAME = "conformance-kit"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.worker = hasattr(config, "workerinput")
        self.target = str(option(config, "conformance_impl"))
        depth = str(option(config, "conformance_depth") or "quick")
        if depth not in DEPTHS:
            msg = f"--conformance-depth must be one of {', '.join(DEPTHS)}; got {depth!r}"
            raise pytest.UsageError(msg)
        self.depth = depth
        self.strict = bool(option(config, "conformance_strict"))
        self.timeout = _positive_float(config, "conformance_timeout", 10.0)
        self.debug_protocol = bool(option(config, "conformance_debug_protocol"))
        show_kit_frames(config.option.tbstyle == "long" or bool(config.option.fulltrace))
        self.scope = parse_requirements(_as_list(option(config, "conformance_requirement")))
        self.adapter: AdapterProcess | None = None
        #: The second process the multi-replica tests open replicas in, started on first use.
        self.replicas: AdapterProcess | None = None
        try:
            if self.target.strip().startswith("exec:"):
                from conformance._subprocess import AdapterProcess

                self.adapter = AdapterProcess(
                    self.target, timeout=self.timeout, debug=self.debug_protocol, startup_timeout=3 * self.timeout
                )
                self.impl, self.info = self.adapter, self.adapter.info
            else:
                self.impl, self.info = load(self.target)
        except ImplSpecError as exc:
            raise pytest.UsageError(str(exc)) from None
        try:
            self.notes = check_declaration(self.info)
            self._check_scope()
            self.baseline = self._load_baseline()
        except pytest.UsageError:
            self._close_adapter()
            raise
        self.seed = self._fix_hypothesis_seed(config)
        self.recorder = Recorder(
            self.info, strict=self.strict, seed=self.seed, scope=self.scope, baseline=self.baseline, depth=self.depth
        )
        #: area (or "adapter") -> (nodeid of the test that showed it, one-line cause), in this process
        self.root_causes: dict[str, tuple[str, str]] = {}
        self.wanted: list[str] = []
        # With no test paths given, run the installed suite, wherever pytest was started;
        # node ids given as reports print them name tests of that suite.
        if config.args_source != pytest.Config.ArgsSource.ARGS:
            config.args = [str(suite_dir())]
        else:
            config.args, self.wanted = resolve_suite_args(list(config.args), config.invocation_params.dir, suite_dir())
        #: The suite files (and directories) that ``wanted`` names: the only suite modules then collected.
        self.named = {(suite_dir() / w.partition("::")[0]).resolve() for w in self.wanted}

    def _check_scope(self) -> None:
        if self.scope is None:
            return
        known = index()
        claimed = [rid for rid in self.scope if known[rid].capability in self.info.claims]
        if not claimed:
            caps = sorted({known[rid].capability for rid in self.scope})
            msg = (
                f"--requirement selects only requirements of capabilities {self.info.name} does not claim "
                f"({', '.join(caps)}): every one would be skipped"
            )
            raise pytest.UsageError(msg)

    def _load_baseline(self) -> Baseline | None:
        path = option(self.config, "conformance_baseline")
        if not path:
            return None
        from conformance._baseline import load as load_baseline

        return load_baseline(Path(str(path)), self.info)

    def _fix_hypothesis_seed(self, config: pytest.Config) -> str:
        # Hypothesis's plugin reads this option in its own pytest_configure, which runs after ours.
        # An xdist worker takes the controller's seed, so the printed seed replays every test.
        if self.worker:
            seed = config.workerinput.get(WORKER_KEY, {}).get("seed")  # type: ignore[attr-defined]
            if seed is not None:
                config.option.hypothesis_seed = seed
        seed = getattr(config.option, "hypothesis_seed", None)
        if seed is None:
            seed = str(random.randrange(2**32))
            # An xdist controller runs no test: its workers take the seed from pytest_configure_node.
            # Setting the option would make Hypothesis's plugin import Hypothesis here too, 0.2 s
            # before any worker starts.
            if not _distributes(config):
                config.option.hypothesis_seed = seed
        return str(seed)

    # -- pytest-xdist ----------------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKER_KEY] = {"seed": self.seed}

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", None) or {}
        self.recorder.merge_collection(output.get(WORKER_KEY, {}))

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if _distributes(self.config):
            # An xdist controller runs no test: its adapter process only answered the handshake,
            # and it draws no example (Hypothesis is not even imported here).
            self._close_adapter()
            return
        without_local_constants()  # a seed replays the same examples, whatever else is loaded

    # -- header --------------------------------------------------------------------
    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        info = self.info
        selected = ""
        if self.scope is not None:
            selected = f"conformance: selected {len(self.scope)} requirement(s) with --requirement"
        return [
            f"conformance: implementation {info.name} {info.version} (--impl={info.target})",
            f"conformance: claims {', '.join(sorted(info.claims))}",
            f"conformance: spec {SPEC_VERSION}, kit {__version__}, implementation targets spec {info.spec_version}",
            *self.notes,
            f"conformance: depth {self.depth}, timeout {self.timeout:g} s, strict {'on' if self.strict else 'off'}",
            *self._adapter_header(),
            *([selected] if selected else []),
            *(
                [f"conformance: baseline {self.baseline.path}: {len(self.baseline.entries)} known failure(s)"]
                if self.baseline
                else []
            ),
            f"conformance: reproduce with --hypothesis-seed={self.seed}",
        ]

    def _adapter_header(self) -> list[str]:
        if self.adapter is None:
            return []
        checked = ", validating every message" if self.debug_protocol else ""
        return [f"conformance: adapter protocol over a subprocess: {' '.join(self.adapter.argv)}{checked}"]

    # -- collection ----------------------------------------------------------------
    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        """Leave unimported the suite modules whose every test this run would deselect.

        Importing and parametrizing a module costs more than running a few of its tests, and a
        run that names node ids or an area (``--requirement=HIST``) usually wants a few modules
        of the suite's 28.  A module ``test_<area>_*.py`` holds only that area's tests (the
        kit's own tests check it), so it is left out when no requirement of its area is in
        scope; with suite node ids given, every module they do not name is left out.  Neither
        changes a report: out-of-scope requirements say "not selected", and in-scope ones whose
        tests were not named say their tests were deselected (:meth:`Recorder.narrowed`).
        """
        if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
            return None
        suite = suite_dir()
        if collection_path.parent != suite:
            return None
        area = suite_module_area(collection_path)
        if self.scope is not None and not any(rid.partition("-")[0] == area for rid in self.scope):
            return True
        if self.named:
            path = collection_path.resolve()
            if not any(path == n or path.is_relative_to(n) for n in self.named):
                self.recorder.narrowed = True
                return True
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Before -k runs: requirement IDs become keywords; --requirement and suite node ids select."""
        known = index()
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            ids = requirement_ids(item)
            unknown = [i for i in ids if i not in known]
            if unknown:
                msg = f"{item.nodeid} cites unknown requirement(s) {', '.join(unknown)}"
                raise pytest.UsageError(msg)
            item.extra_keyword_matches.update(ids)  # -k HIST-002 selects the tests citing it
            selected = self.scope is None or not ids or any(rid in self.scope for rid in ids)
            if self.wanted and item.path.is_relative_to(suite_dir()):
                selected = selected and matches(item.nodeid, self.wanted)
            (keep if selected else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        # Serial: plain tests first, searches (property and model tests, seeded walks) last, so that
        # most bugs show within a second of the start.  Under xdist, which hands each worker a run
        # of consecutive tests, the searches are spread evenly through the list instead: bunched
        # at either end, they land on one worker and the other waits.
        plain = [item for item in keep if not is_search(item)]
        searches = [item for item in keep if is_search(item)]
        items[:] = spread(searches, plain) if self.worker else plain + searches

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            ids = requirement_ids(item)
            if ids:
                self.recorder.collected(item.nodeid, ids, deselected=True)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # Everything alive now (pytest, the suite's modules) lives to the end: keep it out of the
        # per-test collections below, which then cost what the test left behind, not the heap.
        gc.freeze()
        for item in session.items:
            ids = requirement_ids(item)
            if not ids:
                continue
            known = index()
            if any(i not in known for i in ids):
                return  # collection failed with a usage error; pytest calls this hook even then
            missing = sorted({known[i].capability for i in ids} - self.info.claims)
            if missing:
                item.add_marker(pytest.mark.skip(reason=f"not claimed: {', '.join(missing)}"))
            self.recorder.collected(item.nodeid, ids)
            # JUnit readers (CI dashboards) see which requirements each test checks.
            item.user_properties.extend(("requirement", rid) for rid in ids)

    # -- running -------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """A cause already reported in full is not reported again: the test fails at once, naming it."""
        if self.adapter is not None:
            self.adapter.begin_test()
        ids = requirement_ids(item)
        if not ids or item.get_closest_marker("skip"):
            return
        for key in ("adapter", *_areas(ids)):
            if key in self.root_causes:
                nodeid, cause = self.root_causes[key]
                raise RootCause(f"{cause} (not retried; reported in full at {nodeid})", repeated=True)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Any:
        try:
            return (yield)
        finally:
            if self.adapter is not None:
                self.adapter.end_test()
            # Collect the implementation's leftovers now, at a point of the kit's choosing: left to
            # the garbage collector, their finalizers can run inside pytest's own code (CPython 3.11
            # once failed in ast.parse while pytest formatted a failure).  What survives is frozen
            # with the rest, so each collection costs one test's leftovers, never the whole heap.
            gc.collect()
            gc.freeze()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report: pytest.TestReport = yield
        ids = requirement_ids(item)
        if not ids:
            return report
        data = classify(ids, call, report, strict=self.strict, baseline=self.baseline)
        if data is None:
            return report
        if data["outcome"] in ("failed", "not-testable"):
            data["rerun"] = self.rerun_command(report.nodeid, ids)
        report.conformance = data  # type: ignore[attr-defined]  # carried to the xdist controller
        if report.failed or hasattr(report, "wasxfail"):
            self._note_root_cause(item, call, data)
            self._decorate(report, ids, data)
        return report

    def _note_root_cause(self, item: pytest.Item, call: pytest.CallInfo[None], data: dict[str, Any]) -> None:
        exc = call.excinfo.value if call.excinfo else None
        cause = next((e for e in chain(exc) if isinstance(e, RootCause)), None)
        if cause is None:
            return
        if cause.repeated:
            data["repeated"] = True
            return
        key = cause.scope or (_areas(requirement_ids(item)) or ["adapter"])[0]
        self.root_causes.setdefault(key, (item.nodeid, cause.summary))

    def _decorate(self, report: pytest.TestReport, ids: list[str], data: dict[str, Any]) -> None:
        """The failure block names the requirement first and ends with the command that reruns it."""
        if data.get("repeated"):
            report.longrepr = f"{data['failure_kind']}: {data['message']}"
            return
        known = index()
        header = []
        for rid in ids:
            req = known[rid]
            header.append(f"{rid} ({req.level}) {req.title}")
            if req.statement:
                header.append(f"  > {req.statement}")
            header.append(f"  spec: {req.anchor}")
        header.append(f"failure kind: {data['failure_kind']}")
        report.longrepr = FailureBlock(header, report.longrepr, [f"rerun: {self.rerun_command(report.nodeid, ids)}"])

    def rerun_command(self, nodeid: str, ids: list[str]) -> str:
        args = ["python", "-m", "pytest", f"--impl={self.target}", f"--hypothesis-seed={self.seed}"]
        if self.depth != "quick":
            args.append(f"--conformance-depth={self.depth}")
        if self.strict:
            args.append("--conformance-strict")
        if self.adapter is not None and self.debug_protocol:
            args.append("--conformance-debug-protocol")
        args += [f"--requirement={','.join(ids)}", nodeid]
        return shlex.join(args)

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        data = getattr(report, "conformance", None)
        if data and data.get("repeated") and report.failed:
            return "crashed", "C", ("CRASHED", {"red": True})
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.recorder.observe(report)

    # -- the end -------------------------------------------------------------------
    def _ran_suite(self) -> bool:
        return any(r.ids for r in self.recorder.tests.values()) and not self.config.option.collectonly

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.worker:
            self.config.workeroutput[WORKER_KEY] = self.recorder.collection()  # type: ignore[attr-defined]
            return
        self.written: list[str] = []
        if not self._ran_suite():
            return
        self.recorder.finish()
        if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
            self._write_reports()
            return
        self._write_reports()
        _, gate = self.recorder.summary_lines(self.written)
        status = gate.exit_status
        if status == 0 and exitstatus == pytest.ExitCode.TESTS_FAILED and not self._failures_are_known():
            status = int(exitstatus)  # a failing test that cites no requirement (a vendor's own, say)
        session.exitstatus = status

    def _failures_are_known(self) -> bool:
        return all(r.known or not r.ids for r in self.recorder.tests.values() if r.outcome == "failed")

    def _write_reports(self) -> None:
        data = self.recorder.as_json()  # one report model: every file below is rendered from it alone
        path = option(self.config, "conformance_report")
        if path:
            self.recorder.write(Path(str(path)), data)
            self.written.append(str(path))
        pages = {
            name: str(option(self.config, name) or "")
            for name in ("conformance_markdown", "conformance_html", "conformance_badge")
        }
        if any(pages.values()):
            from conformance._pages import write_page
            from conformance._render import validate

            validate(data, "the report of this run")
            spec_url = str(option(self.config, "conformance_spec_url") or "") or None
            for name, page in pages.items():
                if page:
                    write_page(name.removeprefix("conformance_"), data, Path(page), spec_url=spec_url)
                    self.written.append(page)
        baseline_out = option(self.config, "conformance_write_baseline")
        if baseline_out:
            from conformance._baseline import render

            failing = self.recorder.failing_binding()
            text = render(self.info, SPEC_VERSION, {rid: why[:200] for rid, why in failing.items()})
            target = Path(str(baseline_out))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            self.written.append(str(baseline_out))

    def pytest_internalerror(self, excrepr: Any, excinfo: Any) -> None:
        """pytest itself failed: the reports still get written, saying so (sessionfinish follows)."""
        lines = str(excrepr).strip().splitlines()
        self.recorder.internal_error = "\n".join(lines[-20:])
        self.recorder.finish()  # again, if the run had finished: the verdict changes with it

    def pytest_terminal_summary(self, terminalreporter: TerminalReporter) -> None:
        if self.worker or not self._ran_suite():
            return
        lines, _ = self.recorder.summary_lines(getattr(self, "written", []))
        repeated = sorted(self.root_causes.items())
        for key, (nodeid, cause) in repeated:
            terminalreporter.write_line(f"conformance: root cause for {key}, said once at {nodeid}: {cause}")
        for line in lines:
            terminalreporter.write_line(line)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._close_adapter()
        restore_local_constants()
        gc.unfreeze()  # the process may live on (pytester, an IDE): let its garbage be collected again

    def _close_adapter(self) -> None:
        for process in (self.adapter, self.replicas):
            if process is not None:
                process.close()

    # -- fixtures ------------------------------------------------------------------
    def _driver(self, storage: Path, service: AgentServiceSim | None = None) -> Driver:
        # The ID area's remote service, played by the kit (spec/identity.md); a sibling shares it.
        service = AgentServiceSim() if service is None else service
        if self.adapter is not None:
            driver = Driver(self.info, self.adapter.transport(storage, service), service)
        else:
            from conformance._inprocess import InProcessTransport

            env = Environment(storage_dir=storage, clock=ManualClock(), agent_service=service)
            driver = Driver(
                self.info,
                InProcessTransport(self.impl, env, timeout=self.timeout, startup_timeout=3 * self.timeout),
                service,
            )
        driver.elsewhere = lambda: self._driver(Path(tempfile.mkdtemp(dir=storage.parent, prefix="moved-")), service)
        return driver

    @pytest.fixture
    def driver(self, tmp_path: Path) -> Iterator[Driver]:
        """A fresh, isolated implementation instance for one test; closed afterwards."""
        storage = tmp_path / "storage"
        storage.mkdir()
        drv = self._driver(storage)
        try:
            yield drv
        finally:
            drv.close()

    def replica_target(self) -> str:
        """The ``exec:`` command of a second process of the implementation under test.

        An adapter is started once more; an in-process implementation is served by
        ``conformance.serve`` in a process of its own, so the two replicas share no memory.
        """
        if self.adapter is not None:
            return self.target
        return "exec:" + shlex.join([sys.executable, "-m", "conformance.serve", self.target])

    @pytest.fixture
    def replica(self, driver: Driver, tmp_path: Path) -> Iterator[Driver]:
        """A second replica of this test's implementation: another process, over the same storage directory.

        Its clock starts where the driver's did; a test moves both (spec/contract.md, "Replicas").
        """
        if self.replicas is None:
            from conformance._subprocess import AdapterProcess

            try:
                self.replicas = AdapterProcess(
                    self.replica_target(),
                    timeout=self.timeout,
                    debug=self.debug_protocol,
                    startup_timeout=3 * self.timeout,
                )
            except ImplSpecError as exc:
                msg = f"the kit could not start a second replica of the implementation: {exc}"
                raise KitError(msg) from None
            if self.replicas.info.claims != self.info.claims:
                claims = sorted(self.replicas.info.claims), sorted(self.info.claims)
                msg = f"the second replica claims {claims[0]}, the first {claims[1]}"
                raise KitError(msg)
        drv = Driver(self.info, self.replicas.transport(tmp_path / "storage"))
        try:
            yield drv
        finally:
            drv.close()

    @pytest.fixture
    def driver_factory(self, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[], Driver]]:
        """Makes fresh drivers on demand (state machines need one per example); closes them all.

        A test that keeps making them for longer than :data:`PROGRESS_EVERY` seconds (a model
        test against a slow backend) says how far it got, so that a long run is not a silent one.
        """
        made: list[Driver] = []
        started = last = time.monotonic()

        def make() -> Driver:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY:
                last = now
                self._progress(f"{request.node.nodeid}: {len(made)} programs run in {now - started:.0f} s")
            drv = self._driver(Path(tempfile.mkdtemp(dir=tmp_path, prefix="storage-")))
            made.append(drv)
            return drv

        try:
            yield make
        finally:
            for drv in made:
                drv.close()

    def _progress(self, line: str) -> None:
        """One line on the terminal now, past output capture (nothing on an xdist worker)."""
        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        capture = self.config.pluginmanager.getplugin("capturemanager")
        if reporter is None or capture is None or hasattr(self.config, "workerinput"):
            return
        with capture.global_and_fixture_disabled():
            reporter.ensure_newline()
            reporter.write_line(f"conformance: {line}")

    @pytest.fixture
    def implementation_info(self) -> ImplementationInfo:
        return self.info

    @pytest.fixture
    def hypothesis_settings(self) -> Any:
        """Hypothesis settings for property and model-based tests, at the selected depth."""
        from hypothesis import HealthCheck, Phase, settings

        examples, steps, shrink, explain = DEPTHS[self.depth]
        skipped = {Phase.shrink} if not shrink else set()
        if not (shrink and explain):  # nothing shrunk, nothing to explain: a failure prints as found
            skipped.add(Phase.explain)
        return settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[p for p in Phase if p not in skipped],
        )


def _distributes(config: pytest.Config) -> bool:
    """Whether this process is an xdist controller: it hands the tests to workers and runs none."""
    if hasattr(config, "workerinput") or config.getoption("collectonly"):
        return False
    return config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))


def is_search(item: pytest.Item) -> bool:
    """Whether a test searches (a model module's test, or one using Hypothesis): the costly ones."""
    return item.path.stem.endswith("_model") or "hypothesis_settings" in getattr(item, "fixturenames", ())


def spread(few: list[T], many: list[T]) -> list[T]:
    """``many`` in order, with ``few`` inserted in order at evenly spaced places."""
    if not few:
        return list(many)
    total = len(few) + len(many)
    places = {min(total - 1, int((i + 0.5) * total / len(few))) for i in range(len(few))}
    if len(places) < len(few):  # more searches than room: no spreading to be had
        return few + many
    rest, extra = iter(many), iter(few)
    return [next(extra) if i in places else next(rest) for i in range(total)]


def _as_list(value: object) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[attr-defined]


class FailureBlock(TerminalRepr):
    """A failure's text with the requirement above it and the rerun command below.

    pytest prints it through ``toterminal``; xdist sends it as text (``str``).
    """

    def __init__(self, header: list[str], inner: Any, footer: list[str]) -> None:
        self.header, self.inner, self.footer = header, inner, footer

    @property
    def reprcrash(self) -> Any:
        return getattr(self.inner, "reprcrash", None)

    def toterminal(self, tw: Any) -> None:
        for line in self.header:
            tw.line(line, bold=True)
        tw.line("")
        if hasattr(self.inner, "toterminal"):
            self.inner.toterminal(tw)
        else:
            tw.line(str(self.inner))
        tw.line("")
        for line in self.footer:
            tw.line(line, bold=True)
