"""Sessions for developing the kit: `nox` runs every default session, `nox -s NAME` one of them."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nox

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHONS = nox.project.python_versions(PYPROJECT)
#: What does not depend on the interpreter (lint, types, packaging) runs once, on the newest.
NEWEST = PYTHONS[-1]
REPORTS = ROOT / "reports"


def _libraries() -> dict[str, Any]:
    """implementations/libraries.py's table, read from this checkout (nox's own Python may see another)."""
    spec = importlib.util.spec_from_file_location("_matrix_libraries", ROOT / "implementations" / "libraries.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return dict(module.LIBRARIES)


#: The real libraries `nox -s matrix` runs, one session (and environment) each.
LIBRARIES = _libraries()

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True


def group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session(python=PYTHONS, tags=["spec"])
def requirements(session: nox.Session) -> None:
    """Check that spec prose, requirement index, suite citations and ADRs agree."""
    session.install("-e", ".")
    session.run("python", "-m", "conformance.tools.check_spec")


@nox.session(python=NEWEST, tags=["style"])
def style(session: nox.Session) -> None:
    """Lint and format-check with ruff."""
    session.install(*group("style"))
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")


@nox.session(python=NEWEST, tags=["typing"])
def typing(session: nox.Session) -> None:
    """Type-check the kit, the reference and the protocol conformance check with mypy (strict)."""
    session.install("-e", ".", *group("typing"))
    session.run("mypy", *session.posargs)


@nox.session(python=NEWEST, tags=["build"], reuse_venv=False)
def build(session: nox.Session) -> None:
    """Build wheel and sdist, and prove both ship every schema and the requirement index."""
    session.install(*group("build"))
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    if session.run("python", "-m", "build", "--outdir", str(dist)) is None:
        return  # nox --install-only: nothing was built
    wanted = {p.relative_to(ROOT / "schemas").as_posix() for p in (ROOT / "schemas").rglob("*.json")}
    wanted_index = {p.name for p in (ROOT / "spec" / "requirements").glob("*.yaml")}
    (wheel,) = dist.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [f"conformance/_data/schemas/{w}" for w in sorted(wanted)]
    expected += [f"conformance/_data/requirements/{w}" for w in sorted(wanted_index)]
    expected += ["conformance/suite/test_hist_reads.py", "reference_impl/__init__.py"]
    missing = [name for name in expected if name not in names]
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
    missing += sorted(f"sdist:schemas/{w}" for w in wanted if f"schemas/{w}" not in members)
    missing += sorted(f"sdist:spec/requirements/{w}" for w in wanted_index if f"spec/requirements/{w}" not in members)
    if missing:
        session.error(f"the distributions lack: {', '.join(missing)}")
    session.log(f"wheel and sdist ship {len(wanted)} schemas and {len(wanted_index)} requirement index files")
    # The installed wheel, in an empty directory, runs the whole suite against the reference.  The
    # session's venv is never reused, so what is installed is this very build and its dependencies.
    session.install(str(wheel))
    empty = session.create_tmp()
    with session.chdir(empty):
        session.run("python", "-m", "pytest", "--impl=reference_impl", "-q", "-p", "no:cacheprovider")


@nox.session(python=PYTHONS, tags=["conformance"])
@nox.parametrize("target", ["reference_impl", "reference_impl:memory"], ids=["sqlite", "memory"])
def conformance(session: nox.Session, target: str) -> None:
    """Run the kit against the reference implementation and keep the JSON report."""
    session.install("-e", ".")
    REPORTS.mkdir(exist_ok=True)
    report = REPORTS / f"conformance-{target.replace(':', '-')}.json"
    ran = session.run("python", "-m", "pytest", f"--impl={target}", f"--conformance-report={report}", *session.posargs)
    if ran is None:
        return  # nox --install-only: nothing ran
    summary = json.loads(report.read_text())["summary"]
    session.log(f"{target}: {summary}")


#: The matrix's per-operation hang limit. The kit's default (10 s) also times an adapter's first call,
#: which imports its library (adapters import lazily); on a loaded shared machine that import alone
#: has taken more than 10 s and was reported as a hang of the first test (HIST-001, LIFE-009).
MATRIX_TIMEOUT = "--conformance-timeout=120"
#: One Hypothesis seed for every matrix run, so that the committed page is reproducible and CI can
#: hold it to what the runs say (a model test's walk is then the same in every run).
MATRIX_SEED = "--hypothesis-seed=20261128"
#: Exit statuses that carry a verdict: conformant, not-conformant, incomplete (spec/README.md).
VERDICTS = [0, 1, 6]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def redis_server(session: nox.Session) -> Iterator[str]:
    """A throw-away redis-server on loopback, without persistence, stopped by its pid; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        session.error("redis-server is not installed; on Debian: apt-get install redis-server")
    port = _free_port()
    argv = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                session.error(f"redis-server did not start on port {port} (exit status {server.poll()})")
            time.sleep(0.05)
        session.log(f"redis-server pid {server.pid} on 127.0.0.1:{port}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


@nox.session(python=NEWEST, default=False, tags=["postgres"])
def postgres(session: nox.Session) -> None:
    """Run the kit against the PostgreSQL reference, one replica and two, on a throw-away local cluster.

    initdb and pg_ctl (Debian: apt-get install postgresql) start a cluster on loopback in a temporary
    directory, stopped by its pid however the session ends (tests/postgres_cluster.py). Then the
    reference's fault tests and the kit's run, whose JSON report is reports/conformance-postgres.json.
    Without PostgreSQL's binaries the session fails and says how to install them; it never skips.
    """
    from tests.postgres_cluster import ENV_VAR, NoPostgres, cluster

    session.install("-e", ".[postgres]", *group("test"))
    REPORTS.mkdir(exist_ok=True)
    report = REPORTS / "conformance-postgres.json"
    try:
        with cluster() as url:
            session.log(f"PostgreSQL cluster at {url}")
            env = {ENV_VAR: url}
            session.run(
                "python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/test_postgres_reference.py", env=env
            )
            args = ["--impl=reference_impl:postgres", f"--conformance-report={report}", *session.posargs]
            session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *args, env=env)
    except NoPostgres as exc:
        session.error(str(exc))
    summary = json.loads(report.read_text())["summary"]
    session.log(f"reference_impl:postgres (store, bcast, one replica and two): {summary}")


@nox.session(python=NEWEST, default=False, tags=["matrix"])
@nox.parametrize("library", list(LIBRARIES))
def matrix(session: nox.Session, library: str) -> None:
    """Run the kit against one real library's targets (implementations/libraries.py), one JSON report each.

    Each library installs into its own environment (``nox -s "matrix(library='a2a-sdk')"``; ``nox -t
    matrix`` runs them all). Then confirm each failure by calling the library directly, and regenerate
    spec/implementations.md, keeping the committed columns of libraries that did not run.

    A verdict is the finding: not-conformant (1) or incomplete (6) does not fail the session. A
    usage error, a kit error, an interrupted or an empty run (2 to 5) does, as does a missing report.
    """
    lib = LIBRARIES[library]
    session.install("-e", f".[{lib.extra}]")
    folder = REPORTS / "matrix" / lib.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with contextlib.ExitStack() as services:
        env = {}
        if "redis" in lib.services:
            env["CONFORMANCE_REDIS_URL"] = services.enter_context(redis_server(session))
        for target in lib.targets:
            report = folder / f"{target}.json"
            args = [
                f"--impl={lib.module}:{target}",
                f"--conformance-report={report}",
                MATRIX_TIMEOUT,
                MATRIX_SEED,
                *session.posargs,
            ]
            pytest = ["python", "-m", "pytest", "-p", "no:cacheprovider", *args]
            ran = session.run(*pytest, success_codes=VERDICTS, env=env)
            if ran is None:
                return  # nox --install-only: nothing ran
            summary = json.loads(report.read_text())["summary"]
            session.log(f"{lib.name} {target}: {summary}")
        # Each failure must be the library's own: confirmed by calling it directly, without the kit.
        session.run("python", "-m", lib.confirm, env=env)
    session.run("python", "-m", "implementations.render_matrix")


def _write_bytecode(session: nox.Session) -> None:
    """Let Python write bytecode (under .nox/pycache) even where PYTHONDONTWRITEBYTECODE is set."""
    session.env["PYTHONDONTWRITEBYTECODE"] = ""
    session.env["PYTHONPYCACHEPREFIX"] = str(Path(".nox", "pycache").resolve())


@nox.session(python=PYTHONS, default=False, tags=["benchmark"])
def benchmark(session: nox.Session) -> None:
    """Measure every speed figure side by side (protocol, time to catch a bug, model budget, -n 2, own tests).

    ``nox -s benchmark -- --json FILE`` writes them as JSON; ``--skip SECTION`` leaves one out.
    """
    session.install("-e", ".", *group("test"))
    _write_bytecode(session)  # what a user's machine does: a figure, not a cost of this image
    session.run("python", "benchmarks/bench.py", *session.posargs)


#: The reports the browser session renders side by side: the reference (both backends), the Node
#: adapter and a miniature, over the HIST area, so that the drift matrix has drift to show.
BROWSER_TARGETS = {
    "reference-sqlite": "reference_impl",
    "reference-memory": "reference_impl:memory",
    "node-adapter": "exec:node examples/node-adapter/adapter.mjs",
    "miniature-hist-002": "tests.miniatures.hist:limit_oldest",
}


@nox.session(python=NEWEST, default=False, tags=["browser"])
def browser(session: nox.Session) -> None:
    """Open the HTML reports and the drift matrix in headless Chromium (Debian's chromium, chromium-driver).

    Runs the kit against the reference, the Node adapter and a miniature (HIST area), writes each
    run's HTML report, Markdown summary and badge and their drift matrix to reports/browser/, then
    checks the pages in the browser (tests/test_browser.py) and keeps its screenshots there.
    """
    session.install("-e", ".", *group("test"), *group("browser"))
    out = REPORTS / "browser"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    reports = []
    for name, target in BROWSER_TARGETS.items():
        if target.startswith("exec:node") and shutil.which("node") is None:
            if os.environ.get("CI", "").lower() == "true":
                session.error("node is not on PATH; .ci/run installs it")
            session.warn(f"{name}: node is not on PATH, left out")
            continue
        report = out / f"{name}.json"
        pages = [
            f"--conformance-{kind}={out / name}.{ext}"
            for kind, ext in (("html", "html"), ("markdown", "md"), ("badge", "svg"))
        ]
        args = [f"--impl={target}", "--requirement=HIST", "--conformance-depth=fast", "--hypothesis-seed=20261127"]
        session.run(
            "python",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *args,
            f"--conformance-report={report}",
            *pages,
            success_codes=VERDICTS,
        )
        reports.append(str(report))
    matrix_args = ["--html", str(out / "matrix.html"), "--markdown", str(out / "matrix.md")]
    session.run("python", "-m", "conformance.matrix", *reports, *matrix_args)
    env = {"CONFORMANCE_BROWSER_REPORTS": str(out), "CONFORMANCE_BROWSER_ARTIFACTS": str(out)}
    session.run(
        "python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/test_browser.py", *session.posargs, env=env
    )


@nox.session(python=NEWEST, default=False, tags=["mutation"])
def mutation(session: nox.Session) -> None:
    """Mutation testing of reference_impl/ with the suite as the test (ADR 0018); POSIX only (it forks).

    Prints the score per area and fails on a surviving mutant that tests/mutation-equivalent.yaml
    does not list.  ``nox -s mutation -- HIST`` runs one area; ``-- --list HIST`` lists its mutants;
    ``-- --jobs 2`` runs two mutants at once; ``-- --changed origin/main`` only the modules changed.
    """
    session.install("-e", ".", *group("test"))
    session.run("nice", "-n", "19", "python", "-m", "tests.mutation", *session.posargs, external=True)


@nox.session(python=PYTHONS, tags=["tests"])
def tests(session: nox.Session) -> None:
    """The kit's tests of itself: plugin, spec checker, schemas, miniatures, protocol."""
    session.install("-e", ".", *group("test"))
    REPORTS.mkdir(exist_ok=True)
    # Each area's miniatures (and variants) form one xdist group, so that the reference's recorded
    # run they are replayed against (tests/_replay.py) is made once per area, not once per worker.
    args = session.posargs or ["-n", "auto", "--dist", "loadgroup"]
    # These tests start some 600 Python processes (adapters behind conformance.serve, pytest runs,
    # xdist workers). Where PYTHONDONTWRITEBYTECODE is set (some CI images set it), each compiled
    # the kit and its suite afresh: a third of an adapter's start.
    _write_bytecode(session)
    session.run("python", "-m", "pytest", f"--junitxml={REPORTS / 'junit-tests.xml'}", *args)
