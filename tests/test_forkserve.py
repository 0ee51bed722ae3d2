"""The fork server that serves miniatures and variants over the protocol (tests/_forkserve.py).

It stands in for ``python -m conformance.serve TARGET`` in the kit's own tests, so it must be
indistinguishable from it where the kit looks: the same replies on the same pipes, the same end
(exit status or signal), and no adapter left holding the kit's pipes once the kit kills it.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import _forkserve
from tests.conftest import failures, serve_command, served

pytestmark = pytest.mark.skipif(not _forkserve._supported(), reason="no os.pidfd_open or socket.send_fds here")

HELLO = json.dumps({"id": 1, "op": "kit.hello", "args": {"protocol": "1.3", "kit": "test"}}) + "\n"
TARGET = "tests.miniatures.hist:limit_oldest"


def test_only_this_repositorys_miniatures_and_variants_are_forked(monkeypatch):
    assert _forkserve.command(TARGET) is not None
    assert _forkserve.command("tests.variants:negative_limit_means_all") is not None
    assert _forkserve.command("reference_impl") is None
    assert _forkserve.command("tests.miniatures_elsewhere:x") is None
    assert _forkserve.command("fakes:prints") is None
    monkeypatch.setenv(_forkserve.EXEC, "1")
    assert _forkserve.command(TARGET) is None
    assert served(TARGET) == "exec:" + shlex.join(serve_command(TARGET))


@pytest.mark.parametrize("target", [TARGET, "tests.miniatures.hist:no_such_miniature"])
def test_a_forked_adapter_answers_and_ends_as_a_fresh_one(target):
    forked = _forkserve.command(target)
    assert forked is not None
    got = [
        subprocess.run(c, input=HELLO.encode(), capture_output=True, timeout=30, check=False)  # noqa: S603
        for c in (forked, serve_command(target))
    ]
    assert [p.returncode for p in got] == [got[1].returncode] * 2, got
    assert got[0].stdout == got[1].stdout
    assert got[0].stderr.decode().splitlines()[-1:] == got[1].stderr.decode().splitlines()[-1:]
    if target == TARGET:
        assert b'"result"' in got[0].stdout and got[0].returncode == 0

    else:
        assert got[0].returncode == 2 and b"no_such_miniature" in got[0].stderr


@pytest.mark.parametrize(("status", "ends"), [("exit 3", 3), ("signal 15", -15), ("", 70)])
def test_the_launcher_hands_over_its_stdio_environment_and_directory_and_ends_as_told(tmp_path, status, ends):
    import socket

    path = tmp_path / "socket"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    env = {**os.environ, "CONFORMANCE_TEST_VALUE": "a=b=\u00e9", "EMPTY": ""}
    argv = [sys.executable, "-I", "-S", "-c", _forkserve.LAUNCHER, str(path), "tests.miniatures.hist:x", ""]
    launcher = subprocess.Popen(argv, cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # noqa: S603
    conn, _ = listener.accept()
    received = _forkserve._receive(conn)
    assert received is not None
    request, fds, watch = received
    assert request == {"cwd": str(tmp_path), "args": ["tests.miniatures.hist:x", ""], "env": env}
    assert len(fds) == 3
    os.write(fds[1], b"through the launcher's stdout\n")
    assert launcher.stdout.readline() == b"through the launcher's stdout\n"
    for fd in (*fds, watch):
        os.close(fd)
    conn.sendall(status.encode())
    conn.close()
    assert launcher.wait(timeout=10) == ends
    listener.close()
    launcher.stdin.close()
    launcher.stdout.close()


def _children_of(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def _launch() -> tuple[subprocess.Popen[bytes], int, int]:
    """A launcher that has had its adapter answer ``kit.hello``; with the server's pid and the adapter's."""
    command = _forkserve.command(TARGET)  # starts the server if it is not running
    server = _forkserve._STARTED[0][0].pid
    before = _children_of(server)
    launcher = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # noqa: S603
    assert launcher.stdin is not None and launcher.stdout is not None
    launcher.stdin.write(HELLO.encode())
    launcher.stdin.flush()
    assert b'"result"' in launcher.stdout.readline()
    (adapter,) = _children_of(server) - before  # the adapter is a child of the fork server
    return launcher, server, adapter


def test_a_killed_launcher_takes_its_adapter_and_the_pipes_with_it():
    launcher, server, adapter = _launch()
    assert launcher.stdin is not None and launcher.stdout is not None
    adapters = {adapter}
    launcher.kill()  # what the kit does to an adapter that hung
    launcher.wait()
    started = time.monotonic()
    assert launcher.stdout.read() == b"", "nothing holds the kit's end open"
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while _children_of(server) & adapters and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _children_of(server) & adapters, "the adapter outlived its launcher"
    launcher.stdin.close()
    launcher.stdout.close()


def test_an_adapter_ended_by_a_signal_ends_its_launcher_by_the_same_signal():
    launcher, _, adapter = _launch()
    assert launcher.stdin is not None and launcher.stdout is not None
    os.kill(adapter, signal.SIGSEGV)  # as an implementation crashing in C would end
    assert launcher.wait(timeout=10) == -signal.SIGSEGV
    launcher.stdin.close()
    launcher.stdout.close()


def test_a_miniature_fails_the_same_way_forked_and_started_afresh(run_kit, on_path, monkeypatch):
    selection = ("--hypothesis-seed=1", "--requirement=HIST-002,HIST-003")
    forked = run_kit(served(TARGET), *selection)
    monkeypatch.setenv(_forkserve.EXEC, "1")
    fresh = run_kit(served(TARGET), *selection)
    assert failures(forked) == failures(fresh) == {"HIST-002": ["wrong-answer"]}
    assert outcomes(forked) == outcomes(fresh)


def outcomes(run):
    """Every test's outcome and failure kind (their messages name the command, which differs)."""
    return {(t["nodeid"], t["outcome"], t.get("failure_kind")) for r in run.report["requirements"] for t in r["tests"]}
