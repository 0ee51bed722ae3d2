"""Mutation testing of ``reference_impl/`` with the conformance suite as the test (ADR 0018).

``python -m tests.mutation HIST TASK`` (what ``nox -s mutation`` runs) does, per area:

1. runs the area's suite against the reference (both backends where the area has two) once,
   recording which suite test executes which line of the area's modules;
2. makes every mutant of those modules (one small change to the syntax tree: a comparison,
   a boolean operator, a constant, an arithmetic operator, a ``not``, a returned value, a call
   or ``raise`` statement removed) and, for each, runs only the tests that execute the mutated
   lines, stopping at the first failure, at the fast Hypothesis profile and a fixed seed, with
   ``--conformance-strict`` so that a SHOULD failure kills too;
3. prints the score per area and exits 1 when a mutant survives that
   ``tests/mutation-equivalent.yaml`` does not list with its reason.

Each run is a fork of one process that imported pytest, Hypothesis and the kit once; the child
serves the mutated module's source to a fresh import of ``reference_impl``.  Nothing on disk is
changed.  ``--list`` prints the mutants without running them; ``--only ID`` runs one.

``--jobs N`` runs N mutants at once (each in its own fork).  Each run of a mutant has a time limit
derived from how long the unmutated reference took for the tests it selects (``time_limit``); a
mutant that runs past it hangs, and counts as killed by timeout, reported as such.  ``--changed
REF`` mutates only the modules of ``reference_impl/`` that differ from git REF (a CI run on a
change).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import functools
import hashlib
import importlib
import importlib.abc
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType, ModuleType

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "reference_impl"
EQUIVALENT = ROOT / "tests" / "mutation-equivalent.yaml"
CACHE = ROOT / "reports" / "mutation"

#: The modules each area's requirements govern, each with the targets whose runs execute it: a
#: backend's own module under its own target, the shared handle and validation code under the
#: memory target (the SQLite backend runs the very same code); STORE's handle code once more under
#: the memory store without expiry (no ``store.ttl``), the only target that runs its branches, and
#: the SQLite store's under the SQLite store without expiry for the same reason.  ID's client is
#: judged under SQLite (the persistent client, a subclass) and memory (the plain client's ``open``).
SQLITE, MEMORY = "reference_impl", "reference_impl:memory"
MEMORY_NOTTL, NOTTL = "reference_impl:memory_nottl", "reference_impl:nottl"
AREAS: dict[str, dict[str, tuple[str, ...]]] = {
    "HIST": {"history.py": (MEMORY,), "history_sqlite.py": (SQLITE,)},
    "TASK": {"tasks.py": (SQLITE,)},
    "LIFE": {"lifecycle.py": (SQLITE,), "lifecycle_server.py": (SQLITE,)},
    "BCAST": {"broadcast.py": (SQLITE,)},
    "STORE": {"store.py": (MEMORY, MEMORY_NOTTL), "store_sqlite.py": (SQLITE, NOTTL)},
    "ID": {"identity.py": (SQLITE, MEMORY)},
}
SEED = "20261127"
#: What a mutant's run ends with when the suite noticed it.
KILLED = frozenset({"failed", "timeout", "unloadable"})
PYTEST_ARGS: tuple[str, ...] = ("-q", "-p", "no:cacheprovider", "-x", "--conformance-depth=fast")
PYTEST_ARGS += ("--conformance-strict", f"--hypothesis-seed={SEED}", "-o", "addopts=")
#: The line tracer slows the reference down many times over, and the machine is shared: a generous
#: per-call limit, so that only a mutant that hangs (caught by the per-run time limit) runs into it.
PYTEST_ARGS += ("--conformance-timeout=300",)
#: A mutant's run may take LIMIT_FLOOR seconds plus LIMIT_FACTOR times what the unmutated, traced run
#: spent collecting the suite and running the tests it selects (time_limit).  The traced run is
#: already several times slower than an untraced one, so this only stops a run that hangs.
LIMIT_FLOOR, LIMIT_FACTOR = 20.0, 3.0


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- mutants ---------------------------------------------------------------------------------

_COMPARE: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_BINOP: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.FloorDiv: ast.Div, ast.Mult: ast.FloorDiv}


@dataclass(frozen=True)
class Mutant:
    """One change to one module: ``id`` is stable across edits elsewhere in the module."""

    id: str  # "history.py::HistorySession.get_items::< -> <=#1"
    module: str  # "history.py"
    lines: tuple[int, int]
    source: str  # the whole mutated module


def _is_docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    body = getattr(parent, "body", None)
    return isinstance(body, list) and bool(body) and isinstance(body[0], ast.Expr) and body[0].value is node


def _changes(node: ast.AST, parent: ast.AST | None) -> Iterator[tuple[str, ast.AST]]:  # noqa: PLR0912 - one branch per operator
    """``(description, replacement)`` for each mutation of ``node`` alone."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _COMPARE:
                compared = copy.deepcopy(node)
                compared.ops[i] = _COMPARE[type(op)]()
                yield f"{ast.unparse(node)} -> {ast.unparse(compared)}", compared
    elif isinstance(node, ast.BoolOp):
        joined = copy.deepcopy(node)
        joined.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield f"{type(node.op).__name__.lower()} -> {type(joined.op).__name__.lower()}", joined
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield f"not {ast.unparse(node.operand)} -> {ast.unparse(node.operand)}", node.operand
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP:
        computed = copy.deepcopy(node)
        computed.op = _BINOP[type(node.op)]()
        yield f"{ast.unparse(node)} -> {ast.unparse(computed)}", computed
    elif isinstance(node, ast.Constant) and not _is_docstring(node, parent) and not isinstance(parent, ast.JoinedStr):
        value = node.value
        if isinstance(value, bool):
            yield f"{value} -> {not value}", ast.Constant(not value)
        elif isinstance(value, int):
            yield f"{value} -> {value + 1}", ast.Constant(value + 1)
    elif (
        isinstance(node, ast.Return)
        and node.value is not None
        and not (isinstance(node.value, ast.Constant) and node.value.value is None)
    ):
        yield f"return {ast.unparse(node.value)} -> return None", ast.Return(ast.Constant(None))
    elif (isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await))) or isinstance(node, ast.Raise):
        yield f"{ast.unparse(node)} -> pass", ast.Pass()
    elif isinstance(node, ast.Break):
        yield "break -> continue", ast.Continue()
    elif isinstance(node, ast.Continue):
        yield "continue -> break", ast.Break()


def _skipped(node: ast.AST) -> bool:
    """Type annotations and ``TYPE_CHECKING`` blocks change nothing at run time."""
    if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
        return True
    return isinstance(node, (ast.Import, ast.ImportFrom))


def mutants(module: str) -> list[Mutant]:
    """Every mutant of ``reference_impl/<module>``, in source order."""
    text = (PACKAGE / module).read_text()
    tree = ast.parse(text)
    found: list[Mutant] = []
    seen: dict[str, int] = {}

    def visit(node: ast.AST, parent: ast.AST | None, scope: str, setter: Any) -> None:
        if _skipped(node):
            return
        for description, replacement in _changes(node, parent):
            ast.copy_location(replacement, node)
            setter(replacement)
            source = ast.unparse(ast.fix_missing_locations(tree))
            setter(node)
            key = f"{module}::{scope or '<module>'}::{description}"
            seen[key] = seen.get(key, 0) + 1
            mid = f"{key}#{seen[key]}"
            first: int = getattr(node, "lineno", 0)
            found.append(Mutant(mid, module, (first, getattr(node, "end_lineno", None) or first), source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = f"{scope}.{node.name}" if scope else node.name
        for name, value in ast.iter_fields(node):
            if name in {"annotation", "returns", "decorator_list", "type_comment"}:
                continue
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        visit(child, node, scope, lambda new, v=value, i=i: v.__setitem__(i, new))
            elif isinstance(value, ast.AST):
                visit(value, node, scope, lambda new, n=node, f=name: setattr(n, f, new))

    visit(tree, None, "", lambda _new: None)
    return found


# --- running the suite in a forked child -----------------------------------------------------


class _Serve(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serve one module of ``reference_impl`` from mutated source."""

    def __init__(self, name: str, source: str) -> None:
        self.name, self.source = name, source

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(
            fullname, PACKAGE / f"{fullname.rpartition('.')[2]}.py", loader=self
        )

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        exec(compile(self.source, str(PACKAGE / f"{self.name.rpartition('.')[2]}.py"), "exec"), module.__dict__)  # noqa: S102


def _fresh_reference(serve: _Serve | None) -> None:
    for name in [n for n in sys.modules if n == "reference_impl" or n.startswith("reference_impl.")]:
        del sys.modules[name]
    if serve is not None:
        sys.meta_path.insert(0, serve)


def start_forked(
    args: list[str], *, serve: _Serve | None = None, trace_to: Path | None = None, log: Path | None = None
) -> int:
    """Start pytest with ``args`` in a forked child; its pid."""
    pid = os.fork()
    if pid == 0:  # the child
        code = 70
        try:
            with (
                (log or Path(os.devnull)).open("w") as out,
                contextlib.redirect_stdout(out),
                contextlib.redirect_stderr(out),
            ):
                _fresh_reference(serve)
                import pytest

                plugins = [_Tracer(trace_to)] if trace_to is not None else []
                code = int(pytest.main(args, plugins=plugins))
        finally:
            os._exit(code)
    return pid


def poll_forked(pid: int, deadline: float) -> str | None:
    """The verdict of a child once it ended or ran past ``deadline`` (then killed); None while it runs."""
    done, status = os.waitpid(pid, os.WNOHANG)
    if not done:
        if time.monotonic() <= deadline:
            return None
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return "timeout"
    code = os.waitstatus_to_exitcode(status)
    # 0 conformant, 6 incomplete (a selection leaves requirements untested): the mutant survived.
    # 4 is the kit refusing an implementation that cannot even be loaded: a mutant that breaks the
    # module at import is as loud a failure as any.
    return {0: "passed", 6: "passed", 1: "failed", 4: "unloadable"}.get(code, f"error {code}")


def run_forked(
    args: list[str],
    timeout: float,
    *,
    serve: _Serve | None = None,
    trace_to: Path | None = None,
    log: Path | None = None,
) -> str:
    """Run pytest with ``args`` in a child: ``"passed"``, ``"failed"``, ``"timeout"`` or ``"error N"``."""
    pid = start_forked(args, serve=serve, trace_to=trace_to, log=log)
    deadline = time.monotonic() + timeout
    while (verdict := poll_forked(pid, deadline)) is None:
        time.sleep(0.02)
    return verdict


class _Tracer:
    """A pytest plugin recording, per test, the lines of ``reference_impl`` it executes."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.current: str | None = None
        self.lines: dict[str, set[str]] = {}  # "module:line" -> test node ids ("" at import time)
        self.durations: dict[str, float] = {}
        self.prefix = str(PACKAGE) + os.sep
        # From here on: the reference is imported while pytest configures, before any hook of ours.
        sys.settrace(self._global)
        threading.settrace(self._global)

    def _local(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            key = f"{frame.f_code.co_filename[len(self.prefix) :]}:{frame.f_lineno}"
            self.lines.setdefault(key, set()).add(self.current or "")
        return self._local

    def _global(self, frame: FrameType, event: str, arg: Any) -> Any:
        return self._local if frame.f_code.co_filename.startswith(self.prefix) else None

    def pytest_runtest_protocol(self, item: Any) -> None:
        self.current = item.nodeid
        self.durations[item.nodeid] = time.monotonic()

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self.durations[nodeid] = time.monotonic() - self.durations[nodeid]
        self.current = None

    def pytest_unconfigure(self) -> None:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type,unused-ignore]
        lines = {key: sorted(tests) for key, tests in self.lines.items()}
        self.out.write_text(json.dumps({"lines": lines, "durations": self.durations}))


@dataclass
class Coverage:
    """Which tests of one target execute which line; the durations order them, quickest first."""

    target: str
    lines: dict[str, list[str]]
    durations: dict[str, float]
    wall: float

    def tests_for(self, mutant: Mutant) -> list[str]:
        chosen: set[str] = set()
        for line in range(mutant.lines[0], mutant.lines[1] + 1):
            chosen.update(self.lines.get(f"{mutant.module}:{line}", ()))
        if "" in chosen:  # run at import: every test may depend on it
            chosen = set(self.durations)
        # Focused tests first: one that runs few lines of the area's modules is about the code it runs
        # (a rejected argument, one edge), and -x stops at the first that fails.
        return sorted(chosen, key=lambda t: (self.breadth.get(t, 0), self.durations.get(t, 0.0)))

    @functools.cached_property
    def overhead(self) -> float:
        """What the unmutated run spent outside the tests: start-up, import and collection."""
        return max(0.0, self.wall - sum(self.durations.values()))

    def time_limit(self, tests: list[str]) -> float:
        """How long a mutant's run of ``tests`` may take before it counts as hanging."""
        return LIMIT_FLOOR + LIMIT_FACTOR * (self.overhead + sum(self.durations.get(t, 0.0) for t in tests))

    @functools.cached_property
    def breadth(self) -> dict[str, int]:
        """How many lines of the area's modules each test runs."""
        counts: dict[str, int] = {}
        for tests in self.lines.values():
            for test in tests:
                counts[test] = counts.get(test, 0) + 1
        return counts


def _fingerprint(area: str, target: str) -> str:
    """What a coverage record depends on: the area, the target, the reference and the kit's code."""
    digest = hashlib.sha256(f"{area} {target}".encode())
    for path in sorted([*PACKAGE.glob("*.py"), *(ROOT / "conformance").rglob("*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def measure(area: str, target: str) -> Coverage:
    """Which test runs which line, from a run of the area's suite; kept in reports/mutation/ until the code changes."""
    cache = CACHE / f"coverage-{area}-{target.replace(':', '-')}-{_fingerprint(area, target)}.json"
    if not cache.exists():
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "coverage.json"
            args = [f"--impl={target}", f"--requirement={area}", *PYTEST_ARGS]
            CACHE.mkdir(parents=True, exist_ok=True)
            log = CACHE / f"coverage-{area}-{target.replace(':', '-')}.log"
            verdict = run_forked(args, 3600, trace_to=out, log=log)
            if verdict != "passed":
                msg = f"the reference does not pass {area} on {target} ({verdict}; see {log}): fix that first"
                raise SystemExit(msg)
            data = json.loads(out.read_text())
        data["wall"] = time.monotonic() - started
        cache.write_text(json.dumps(data))
    data = json.loads(cache.read_text())
    return Coverage(target, data["lines"], data["durations"], data["wall"])


@dataclass
class Score:
    area: str
    killed: int = 0
    timeouts: list[str] = field(default_factory=list)  # killed, by running past the time limit
    equivalent: list[str] = field(default_factory=list)
    survived: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)  # past the time budget
    seconds: float = 0.0

    @property
    def judged(self) -> int:
        return self.killed + len(self.survived)

    def line(self) -> str:
        score = 100.0 * self.killed / self.judged if self.judged else 100.0
        return (
            f"{self.area}: {score:.1f}% killed ({self.killed} of {self.judged} non-equivalent, "
            f"{len(self.timeouts)} by timeout), "
            f"{len(self.equivalent)} listed equivalent, {len(self.survived)} unlisted survivors, "
            f"{len(self.errors)} errors, {len(self.not_run)} not run (time budget), {self.seconds:.0f} s"
        )


def load_equivalent() -> dict[str, str]:
    """Listed mutant ids (``id``), or whole functions (``scope``: every mutant in it), each with a reason."""
    if not EQUIVALENT.exists():
        return {}
    entries = yaml.safe_load(EQUIVALENT.read_text()) or []
    return {entry.get("id") or entry["scope"] + "::": entry["reason"] for entry in entries}


def listed(mutant_id: str, equivalent: dict[str, str]) -> bool:
    return mutant_id in equivalent or any(key.endswith("::") and mutant_id.startswith(key) for key in equivalent)


@dataclass
class _Job:
    """One mutant's runs, one per target that sees its module, tried in turn until one kills it."""

    mutant: Mutant
    runs: deque[tuple[list[str], float]]  # pytest args, time limit in seconds
    began: float = 0.0
    pid: int = 0
    deadline: float = 0.0
    verdict: str = "not covered"


def judge(jobs: list[_Job], score: Score, parallel: int, deadline: float) -> None:
    """Run the jobs, ``parallel`` forks at a time, and count each mutant's verdict in ``score``."""
    queue, running = deque(jobs), dict[int, _Job]()

    def start(job: _Job) -> bool:
        if not job.runs:
            return False
        args, limit = job.runs.popleft()
        name = f"reference_impl.{job.mutant.module.removesuffix('.py')}"
        job.pid = start_forked(args, serve=_Serve(name, job.mutant.source))
        job.deadline = time.monotonic() + limit
        running[job.pid] = job
        return True

    def finish(job: _Job) -> None:
        mutant, verdict = job.mutant, job.verdict
        if verdict in KILLED:
            score.killed += 1
            if verdict == "timeout":
                score.timeouts.append(mutant.id)
        elif verdict.startswith("error"):
            score.errors.append(f"{mutant.id} ({verdict})")
        else:
            score.survived.append(f"{mutant.id} ({verdict}; lines {mutant.lines[0]}-{mutant.lines[1]})")
        say(f"  {verdict:12} {time.monotonic() - job.began:5.1f}s  {mutant.id}")

    while queue or running:
        while queue and len(running) < parallel:
            job = queue.popleft()
            if time.monotonic() > deadline:
                score.not_run.append(job.mutant.id)
                continue
            job.began = time.monotonic()
            if not start(job):
                finish(job)
        for pid, job in list(running.items()):
            verdict = poll_forked(pid, job.deadline)
            if verdict is None:
                continue
            del running[pid]
            job.verdict = verdict
            if verdict in KILLED or not start(job):
                finish(job)
        time.sleep(0.02)


def run_area(
    area: str,
    equivalent: dict[str, str],
    only: list[str] | None,
    deadline: float,
    *,
    parallel: int = 1,
    modules_changed: set[str] | None = None,
) -> Score:
    modules = {m: t for m, t in AREAS[area].items() if modules_changed is None or m in modules_changed}
    score = Score(area)
    started = time.monotonic()
    coverages = {target: measure(area, target) for target in sorted({t for ts in modules.values() for t in ts})}
    jobs: list[_Job] = []
    for module, targets in modules.items():
        for mutant in mutants(module):
            if only is not None and mutant.id not in only:
                continue
            if listed(mutant.id, equivalent):  # listed with its reason: not worth a run
                score.equivalent.append(mutant.id)
                continue
            runs: deque[tuple[list[str], float]] = deque()
            for coverage in (coverages[target] for target in targets):
                tests = coverage.tests_for(mutant)
                if tests:
                    args = [f"--impl={coverage.target}", f"--requirement={area}", *PYTEST_ARGS, *tests]
                    runs.append((args, coverage.time_limit(tests)))
            jobs.append(_Job(mutant, runs))
    judge(jobs, score, parallel, deadline)
    score.seconds = time.monotonic() - started
    return score


def changed_modules(ref: str, root: Path = ROOT) -> set[str]:
    """The modules of ``reference_impl/`` (file names) that differ between git ``ref`` and the working tree."""
    out = subprocess.run(  # noqa: S603 - a fixed git command; ref is one argument
        ["git", "diff", "--name-only", ref, "--", "reference_impl"],  # noqa: S607 - git from PATH, as a developer runs it
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        msg = f"--changed {ref}: git diff failed: {out.stderr.strip()}"
        raise SystemExit(msg)
    return {Path(name).name for name in out.stdout.split() if Path(name).parent.name == "reference_impl"}


def print_list(areas: list[str], changed: set[str] | None) -> None:
    for area in areas:
        for module in AREAS[area]:
            if changed is None or module in changed:
                for mutant in mutants(module):
                    say(f"{area}  {mutant.lines[0]:4}  {mutant.id}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.splitlines()[0])
    parser.add_argument("areas", nargs="*", default=list(AREAS), help=f"areas to mutate (default all: {list(AREAS)})")
    parser.add_argument("--list", action="store_true", help="print the mutants and exit")
    parser.add_argument("--only", action="append", help="run only this mutant, by id (repeatable)")
    parser.add_argument(
        "--budget", type=float, default=None, help="minutes after which no further mutant starts (the run then fails)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once, each in its own fork (default 1)")
    parser.add_argument(
        "--changed", metavar="REF", help="mutate only the modules of reference_impl/ changed since git REF"
    )
    options = parser.parse_args(argv)
    if options.jobs < 1:
        parser.error("--jobs must be at least 1")
    unknown = sorted(set(options.areas) - set(AREAS))
    if unknown:
        parser.error(f"unknown areas {unknown}; known: {list(AREAS)}")
    changed = changed_modules(options.changed) if options.changed else None
    if changed is not None:
        options.areas = [area for area in options.areas if changed & set(AREAS[area])]
        say(f"modules of reference_impl/ changed since {options.changed}: {sorted(changed) or 'none'}")
    if options.list:
        print_list(options.areas, changed)
        return 0
    equivalent = load_equivalent()
    known = {m.id for area in AREAS for module in AREAS[area] for m in mutants(module)}
    stale = sorted(key for key in equivalent if not any(listed(m, {key: ""}) for m in known))
    if stale:
        say(f"tests/mutation-equivalent.yaml lists mutants that no longer exist: {stale}")
        return 1
    # Import once what every child needs, so that a fork costs no import.
    import hypothesis  # noqa: F401
    import pytest  # noqa: F401

    import conformance._runner  # noqa: F401

    for suite_file in sorted((ROOT / "conformance" / "suite").glob("*.py")):  # collection then finds them imported
        importlib.import_module(f"conformance.suite.{suite_file.stem}")
    if any(name.startswith("reference_impl") for name in sys.modules):
        msg = "importing the suite imported reference_impl: a mutant could not replace it"
        raise SystemExit(msg)

    deadline = time.monotonic() + (options.budget * 60 if options.budget else float("inf"))
    scores = []
    for area in options.areas:
        say(f"{area}: mutating {', '.join(m for m in AREAS[area] if changed is None or m in changed)}")
        scores.append(
            run_area(area, equivalent, options.only, deadline, parallel=options.jobs, modules_changed=changed)
        )
    say("\nmutation score per area:")
    for score in scores:
        say("  " + score.line())
        for survivor in score.survived:
            say(f"    survived, not listed: {survivor}")
        for mutant_id in score.timeouts:
            say(f"    killed by timeout (hangs): {mutant_id}")
        for error in score.errors:
            say(f"    error: {error}")
    return 1 if any(s.survived or s.errors or s.not_run for s in scores) else 0


if __name__ == "__main__":
    sys.exit(main())
