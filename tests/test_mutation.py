"""The mutation tool's own options (tests/mutation.py, ADR 0018): --list, --only, --jobs, --changed, the time limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests import mutation

ROOT = Path(__file__).resolve().parents[1]
#: A mutant the BCAST suite kills in about a second (a closed broadcaster's subscriptions must end).
KILLED = "broadcast.py::MemoryBroadcaster.close::self.end(sub, 'closed') -> pass#1"

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the mutation tool forks (POSIX only)")


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter running the tool with fixed arguments
        [sys.executable, "-m", "tests.mutation", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_list_prints_each_mutant_with_its_area_and_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert mutation.main(["--list", "BCAST"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == len(mutation.mutants("broadcast.py"))
    area, line, mutant_id = rows[0].split(maxsplit=2)
    assert (area, mutant_id) == ("BCAST", mutation.mutants("broadcast.py")[0].id)
    assert int(line) == mutation.mutants("broadcast.py")[0].lines[0]
    assert any(row.endswith(KILLED) for row in rows)


@pytest.mark.heavy
def test_only_a_killed_mutant_passes_with_two_jobs() -> None:
    run = tool("BCAST", "--only", KILLED, "--jobs", "2")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "BCAST: 100.0% killed (1 of 1 non-equivalent, 0 by timeout)" in run.stdout
    assert "failed" in next(line for line in run.stdout.splitlines() if line.endswith(KILLED))


def test_changed_names_the_modules_that_differ_from_the_ref(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)  # noqa: S603, S607 - git from PATH on a temporary repository

    (tmp_path / "reference_impl").mkdir()
    for name in ("tasks.py", "broadcast.py"):
        (tmp_path / "reference_impl" / name).write_text("X = 1\n")
    (tmp_path / "README.md").write_text("x\n")
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "empty")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    assert mutation.changed_modules("HEAD", root=tmp_path) == set()
    (tmp_path / "reference_impl" / "tasks.py").write_text("X = 2\n")
    (tmp_path / "README.md").write_text("y\n")
    assert mutation.changed_modules("HEAD", root=tmp_path) == {"tasks.py"}
    assert mutation.changed_modules("HEAD~1", root=tmp_path) == {"tasks.py", "broadcast.py"}
    with pytest.raises(SystemExit, match="git diff failed"):
        mutation.changed_modules("no-such-ref", root=tmp_path)


def test_changed_mutates_only_the_areas_and_modules_changed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mutation, "changed_modules", lambda ref: {"tasks.py"})
    assert mutation.main(["--changed", "main", "--list", "TASK", "BCAST", "LIFE"]) == 0
    rows = [row for row in capsys.readouterr().out.splitlines() if not row.startswith("modules of")]
    assert rows
    assert {row.split()[0] for row in rows} == {"TASK"}
    assert all("tasks.py::" in row for row in rows)


def test_time_limit_grows_with_the_selected_tests() -> None:
    coverage = mutation.Coverage("reference_impl", {}, {"a": 1.0, "b": 2.0}, wall=5.0)
    assert coverage.overhead == 2.0
    assert coverage.time_limit([]) == mutation.LIMIT_FLOOR + mutation.LIMIT_FACTOR * 2.0
    assert coverage.time_limit(["b"]) == mutation.LIMIT_FLOOR + mutation.LIMIT_FACTOR * 4.0
    assert coverage.time_limit(["a", "b"]) > coverage.time_limit(["b"])


def test_a_mutant_that_hangs_is_killed_by_timeout() -> None:
    # A module that never finishes importing, given a limit of a few seconds: the run is stopped and
    # the mutant counts as killed, by timeout.  (With the limit raised to an hour the run would hang.)
    script = textwrap.dedent(
        """
        import json, sys
        from collections import deque
        from tests import mutation as m

        m.LIMIT_FLOOR, m.LIMIT_FACTOR = 3.0, 1.0
        coverage = m.Coverage(m.SQLITE, {}, {}, wall=1.0)
        mutant = m.Mutant("broadcast.py::<module>::loop#1", "broadcast.py", (1, 1), "while True:\\n    pass\\n")
        args = [f"--impl={m.SQLITE}", "--requirement=BCAST", *m.PYTEST_ARGS]
        score = m.Score("BCAST")
        m.judge([m._Job(mutant, deque([(args, coverage.time_limit([]))]))], score, 2, float("inf"))
        json.dump({"killed": score.killed, "timeouts": score.timeouts, "survived": score.survived}, sys.stdout)
        """
    )
    run = subprocess.run(  # noqa: S603 - this interpreter running the script above
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    assert result == {"killed": 1, "timeouts": ["broadcast.py::<module>::loop#1"], "survived": []}
