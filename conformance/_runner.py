"""The kit's pytest hooks and fixtures, active when ``--impl`` is given."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance import SPEC_VERSION, __version__
from conformance._data import suite_dir
from conformance._loading import ImplSpecError, load
from conformance._report import Recorder
from conformance._requirements import index
from conformance.contract import Environment, ManualClock
from conformance.driver import Driver
from conformance.plugin import option

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from conformance._subprocess import AdapterProcess
    from conformance.driver import ImplementationInfo

DEPTHS = {
    # name: (max_examples, stateful_step_count, shrink failures)
    "quick": (30, 25, True),
    "deep": (400, 80, True),
    # For runs that only need a verdict (the kit's own miniature tests): failures are not shrunk,
    # so a failing program prints in full rather than minimal.
    "fast": (30, 25, False),
}


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


class KitSession:
    """Holds the implementation under test for one pytest run."""

    NAME = "conformance-kit"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.target = str(option(config, "conformance_impl"))
        depth = str(option(config, "conformance_depth") or "quick")
        if depth not in DEPTHS:
            msg = f"--conformance-depth must be one of {', '.join(DEPTHS)}; got {depth!r}"
            raise pytest.UsageError(msg)
        self.depth = depth
        self.strict = bool(option(config, "conformance_strict"))
        self.timeout = _positive_float(config, "conformance_timeout", 10.0)
        self.debug_protocol = bool(option(config, "conformance_debug_protocol"))
        self.adapter: AdapterProcess | None = None
        try:
            if self.target.strip().startswith("exec:"):
                from conformance._subprocess import AdapterProcess

                self.adapter = AdapterProcess(self.target, timeout=self.timeout, debug=self.debug_protocol)
                self.impl, self.info = self.adapter, self.adapter.info
            else:
                self.impl, self.info = load(self.target)
        except ImplSpecError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.seed = self._fix_hypothesis_seed(config)
        self.recorder = Recorder(self.info, strict=self.strict, seed=self.seed)
        # With no test paths given, run the installed suite, wherever pytest was started.
        if config.args_source != pytest.Config.ArgsSource.ARGS:
            config.args = [str(suite_dir())]

    @staticmethod
    def _fix_hypothesis_seed(config: pytest.Config) -> str:
        # Hypothesis's plugin reads this option in its own pytest_configure, which runs after ours.
        seed = getattr(config.option, "hypothesis_seed", None)
        if seed is None:
            seed = str(random.randrange(2**32))
            config.option.hypothesis_seed = seed
        return str(seed)

    # -- reporting -----------------------------------------------------------------
    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        info = self.info
        lines = [
            f"conformance: implementation {info.name} {info.version} (--impl={info.target})",
            f"conformance: claims {', '.join(sorted(info.claims)) or '(nothing)'}",
            f"conformance: spec {SPEC_VERSION}, kit {__version__}, implementation targets spec {info.spec_version}",
            f"conformance: depth {self.depth}, timeout {self.timeout:g} s, strict {'on' if self.strict else 'off'}",
            *self._adapter_header(),
            f"conformance: reproduce with --hypothesis-seed={self.seed}",
        ]
        if info.spec_version != SPEC_VERSION:
            lines.append(
                f"conformance: WARNING the implementation targets spec {info.spec_version}, not {SPEC_VERSION}"
            )
        return lines

    def _adapter_header(self) -> list[str]:
        if self.adapter is None:
            return []
        checked = ", validating every message" if self.debug_protocol else ""
        return [f"conformance: adapter protocol over a subprocess: {' '.join(self.adapter.argv)}{checked}"]

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        known = index()
        for item in items:
            ids = requirement_ids(item)
            unknown = [i for i in ids if i not in known]
            if unknown:
                msg = f"{item.nodeid} cites unknown requirement(s) {', '.join(unknown)}"
                raise pytest.UsageError(msg)
            missing = sorted({known[i].capability for i in ids} - self.info.claims)
            if missing:
                item.add_marker(pytest.mark.skip(reason=f"not claimed: {', '.join(missing)}"))
            self.recorder.collected(item.nodeid, ids)
            # JUnit readers (CI dashboards) see which requirements each test checks.
            item.user_properties.extend(("requirement", rid) for rid in ids)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        self.recorder.observe(item, call, report)
        return report

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in self.recorder.summary_lines():
            terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        path = option(self.config, "conformance_report")
        if path:
            self.recorder.write(Path(str(path)))
        markdown = option(self.config, "conformance_markdown")
        if markdown:
            target = Path(str(markdown))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.recorder.markdown(), encoding="utf-8")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.adapter is not None:
            self.adapter.close()

    # -- fixtures ------------------------------------------------------------------
    def _driver(self, storage: Path) -> Driver:
        if self.adapter is not None:
            return Driver(self.info, self.adapter.transport(storage))
        from conformance._inprocess import InProcessTransport

        env = Environment(storage_dir=storage, clock=ManualClock())
        return Driver(self.info, InProcessTransport(self.impl, env, timeout=self.timeout))

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

    @pytest.fixture
    def driver_factory(self, tmp_path: Path) -> Iterator[Callable[[], Driver]]:
        """Makes fresh drivers on demand (state machines need one per example); closes them all."""
        made: list[Driver] = []

        def make() -> Driver:
            drv = self._driver(Path(tempfile.mkdtemp(dir=tmp_path, prefix="storage-")))
            made.append(drv)
            return drv

        try:
            yield make
        finally:
            for drv in made:
                drv.close()

    @pytest.fixture
    def implementation_info(self) -> ImplementationInfo:
        return self.info

    @pytest.fixture
    def hypothesis_settings(self) -> Any:
        """Hypothesis settings for property and model-based tests, at the selected depth."""
        from hypothesis import HealthCheck, Phase, settings

        examples, steps, shrink = DEPTHS[self.depth]
        return settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[p for p in Phase if shrink or p is not Phase.shrink],
        )


def requirement_ids(item: pytest.Item) -> list[str]:
    return [str(arg) for mark in item.iter_markers("requirement") for arg in mark.args]
