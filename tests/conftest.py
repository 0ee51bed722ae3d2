"""Shared fixtures for the kit's tests of itself."""

from __future__ import annotations

import gc
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

ROOT = Path(__file__).resolve().parents[1]

pytest_plugins = ["pytester"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``heavy`` (each runs a whole suite or a nested pytest run, 5–30 s) go first.

    Under ``-n``, xdist hands a worker more tests while it still has two to run. A heavy test handed
    out near the end then keeps one worker busy long after the other has finished: in one measured
    run both protocol parity tests (24 s and 32 s) went to one worker, which finished 25 s after the
    other. Handed out early, the short tests balance around them. ``--dist loadgroup`` still hands
    out each area's group of miniatures and variants before them (it orders work by its size).
    The sort is stable, so the order within each kind stays the collection's.
    """
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish() -> None:
    """Freeze the heap before pytest's last two garbage collections (at unconfigure and cleanup).

    At the end of a whole run an xdist worker holds about a gigabyte in 3–4 million objects (each
    area's recorded base, every nested run's results), and each of those collections took 3–3.5 s
    in a measured run: the worker was still collecting when xdist's 10 s for it to exit ran out, and
    xdist killed it. Nothing collected then would be used again; the process is about to end.
    """
    gc.freeze()


class KitRun:
    """The result of running the kit in a pytester sandbox, with its JSON report."""

    def __init__(self, result: pytest.RunResult, report_path: Path) -> None:
        self.result = result
        self.report: dict[str, Any] = json.loads(report_path.read_text()) if report_path.exists() else {}

    @property
    def outcomes(self) -> dict[str, str]:
        return {r["id"]: r["outcome"] for r in self.report.get("requirements", [])}

    def having(self, outcome: str) -> set[str]:
        return {rid for rid, got in self.outcomes.items() if got == outcome}

    def requirement(self, rid: str) -> dict[str, Any]:
        return next(r for r in self.report["requirements"] if r["id"] == rid)


#: Modules an in-process kit run may import once and keep: the kit, its suite, the reference and
#: the miniatures, and Hypothesis.  Pytester would otherwise unload them after every run, and
#: importing the suite again (with pytest's assertion rewriting) costs more than most runs.
#: Modules a test writes itself (``pytester.makepyfile``) are still unloaded: names repeat.
KEPT_MODULES = ("conformance", "reference_impl", "tests", "hypothesis", "_hypothesis", "zope", "readline")


def _kept(name: str) -> bool:
    return name.partition(".")[0] in KEPT_MODULES


def keep_kit_modules(pytester: pytest.Pytester) -> None:
    """Make ``pytester`` keep :data:`KEPT_MODULES` loaded between and after its in-process runs.

    Pytester takes its module snapshots in a private method; where a pytest release renames it,
    runs are slower but still correct.
    """
    from _pytest.pytester import SysModulesSnapshot

    def snapshot() -> SysModulesSnapshot:
        return SysModulesSnapshot(preserve=_kept)

    if hasattr(pytester, "_Pytester__take_sys_modules_snapshot"):
        pytester._Pytester__take_sys_modules_snapshot = snapshot  # type: ignore[attr-defined]
        pytester._sys_modules_snapshot = snapshot()  # type: ignore[attr-defined]


@pytest.fixture
def run_kit(pytester: pytest.Pytester):
    """Run the kit in-process against ``--impl=target`` and read back its report."""
    keep_kit_modules(pytester)

    def run(target: str, *args: str, depth: str = "fast", plugins: Sequence[object] = ()) -> KitRun:
        report = pytester.path / "report.json"
        report.unlink(missing_ok=True)  # a run that writes none must not be read as the last one's
        result = pytester.runpytest_inprocess(
            f"--impl={target}",
            f"--conformance-report={report}",
            f"--conformance-depth={depth}",
            "-p",
            "no:cacheprovider",
            "-q",
            *args,
            plugins=list(plugins),
        )
        return KitRun(result, report)

    pytester.syspathinsert()
    return run


def serve_command(target: str) -> list[str]:
    """The command that serves ``target`` over the adapter protocol in a new interpreter."""
    return [sys.executable, "-m", "conformance.serve", target]


def served(target: str) -> str:
    """The ``--impl`` value that runs ``target`` behind ``conformance.serve``, over the adapter protocol.

    A miniature or variant is served by a fork of a preloaded ``conformance.serve`` (tests/_forkserve.py).
    """
    from tests import _forkserve

    forked = _forkserve.command(target)
    return "exec:" + shlex.join(forked or serve_command(target))


@pytest.fixture
def on_path(monkeypatch, pytester):
    """Adapters the kit starts (``conformance.serve``) import this repository's tests and pytester's files."""
    paths = [str(pytester.path), str(ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


def failures(run: KitRun) -> dict[str, list[str]]:
    """Failed and not-testable requirements of a run, with their failure kinds."""
    return {
        r["id"]: r.get("failure_kinds", [])
        for r in run.report["requirements"]
        if r["outcome"] in ("failed", "not-testable")
    }


def assert_passes_every_claimed_requirement(run: KitRun, context: str = "") -> None:
    """A run of the reference: conformant, nothing failed or left untested, skipped only as not claimed."""
    assert run.result.ret == pytest.ExitCode.OK, f"{context}\n{run.result.stdout.str()[-3000:]}"
    assert run.report["summary"]["verdict"] == "conformant", context
    assert run.having("failed") == set(), context
    assert run.having("not-tested") == set(), context
    for rid in run.having("skipped"):
        assert run.requirement(rid)["reason"].startswith("not claimed: "), f"{rid} {context}"


def reference_claims(*areas: str) -> set[str]:
    """What the reference claims in ``areas``: an adapter for those areas claims no less."""
    from reference_impl import implementation

    return {c for c in implementation.claims if c.split(".")[0] in areas}


def assert_passes_its_claims(run: KitRun, areas: tuple[str, ...]) -> None:
    """Every requirement of ``areas`` that the reference claims was claimed and passed; the rest skipped as unclaimed."""
    claims = set(run.report["implementation"]["claims"])
    assert reference_claims(*areas) <= claims, f"claims {sorted(claims)}, the reference claims more in {areas}"
    claimed = [r for r in run.report["requirements"] if r["capability"] in claims]
    not_passed = {r["id"]: (r["outcome"], r.get("failure_kinds")) for r in claimed if r["outcome"] != "passed"}
    assert not not_passed, f"{not_passed}\n{run.result.stdout.str()[-3000:]}"
    assert run.result.ret == pytest.ExitCode.OK
    for row in run.report["requirements"]:
        if row["capability"] not in claims:
            assert row["outcome"] == "skipped", row["id"]
            assert row["reason"] == f"not claimed: {row['capability']}"


#: The example adapters in other languages (examples/), as ``--impl`` commands.
NODE_ADAPTER = ROOT / "examples" / "node-adapter" / "adapter.mjs"
GO_SOURCE = ROOT / "examples" / "go-adapter"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def go_adapter(tmp_path_factory) -> str:
    """The Go example adapter, built from examples/go-adapter/ once per session: its path.

    Without ``go`` on PATH: skipped, saying how to install it; under CI (``CI=true``), failed.
    """
    go = shutil.which("go")
    if go is None:
        hint = "install Go: apt-get update && apt-get install -y golang-go (Debian), or https://go.dev/dl/"
        if IN_CI:
            pytest.fail(f"CI=true and go is not on PATH; {hint}")
        pytest.skip(f"go is not on PATH; {hint}")
    out = tmp_path_factory.mktemp("go") / "go-adapter"
    env = {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
    env.setdefault("GOCACHE", str(tmp_path_factory.getbasetemp() / "go-cache"))
    build = subprocess.run(  # noqa: S603 - a fixed command on this repository's sources
        [go, "build", "-o", str(out), "."], cwd=GO_SOURCE, env=env, capture_output=True, text=True, check=False
    )
    assert build.returncode == 0, f"go build failed:\n{build.stderr}"
    return str(out)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server's URL: ``CONFORMANCE_POSTGRES_URL`` when set, else a throw-away cluster.

    Without PostgreSQL's binaries a test that needs one fails, saying how to install them; it is
    never skipped (tests/postgres_cluster.py).
    """
    from tests.postgres_cluster import ENV_VAR, NoPostgres, cluster

    given = os.environ.get(ENV_VAR, "").strip()
    if given:
        yield given
        return
    try:
        with cluster() as url:
            yield url
    except NoPostgres as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def postgres(postgres_server, monkeypatch):
    """Name the server to the PostgreSQL reference, in this process and in the adapters it starts."""
    from tests.postgres_cluster import ENV_VAR

    monkeypatch.setenv(ENV_VAR, postgres_server)
    return postgres_server
