"""Serve a miniature or variant over the protocol from a forked, preloaded ``conformance.serve``.

The kit's own tests judge every miniature and variant twice, in process and behind
``conformance.serve`` (tests/test_miniatures.py, tests/test_blame.py).  Starting that adapter is
a new interpreter importing the kit, the reference and the target: about 0.2 s, against a few
hundredths for the tests it then answers.  Here one process per test worker imports all of it
once, and each adapter the kit starts is a fork of it:

* the kit still starts an adapter process with ``exec:`` and talks to it over its stdin and
  stdout: that process is a small *launcher* (``python -I -S``, the standard library only),
  which hands its three standard descriptors, its environment and its working directory to the
  server over a Unix socket;
* the server forks; the child takes those descriptors as its own 0, 1 and 2, that environment
  and directory, and runs ``conformance.serve``'s ``main`` on the target, exactly what ``python
  -m conformance.serve TARGET`` runs, so the kit talks to the same bridge over the same pipes;
* the launcher waits for the child and ends as it ended (its exit status, or the signal that
  ended it); a launcher the kit kills takes the child with it (the child watches it), so the kit's
  hang and crash handling sees what it sees of any adapter.

What differs from a fresh interpreter is only what an interpreter's start decides: the modules
are already imported, and every child has the server's hash seed.  Targets outside this
repository's ``tests.miniatures`` and ``tests.variants`` (a module a test writes) are served the
usual way, and so is everything when ``CONFORMANCE_SELF_TEST_EXEC`` is set or the platform lacks
``os.pidfd_open`` or ``socket.send_fds``.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

#: Set (to anything) to start every served adapter as a new interpreter, as before.
EXEC = "CONFORMANCE_SELF_TEST_EXEC"
#: The modules whose targets are forked: this repository's miniatures and variants.
FORKED = ("tests.miniatures", "tests.variants")

#: The launcher the kit starts: hands over stdin, stdout and stderr, then ends as the adapter ended.
LAUNCHER = r"""
import _socket, os, sys
s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
s.connect(sys.argv[1])
fields = [os.getcwd(), str(len(sys.argv) - 2), *sys.argv[2:], *(f"{k}={v}" for k, v in os.environ.items())]
body = "\0".join(fields).encode("utf-8", "surrogateescape")
fds = b"".join(fd.to_bytes(4, sys.byteorder) for fd in (0, 1, 2))
s.sendmsg([len(body).to_bytes(8, "big")], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
s.sendall(body)
for fd in (0, 1, 2):
    os.close(fd)
status = b""
while chunk := s.recv(64):
    status += chunk
how, _, number = status.decode().partition(" ")
if how == "signal":
    import signal
    signal.signal(int(number), signal.SIG_DFL)
    os.kill(os.getpid(), int(number))
sys.exit(int(number) if how == "exit" else 70)
"""
#: (The launcher imports only built-in modules: ``json`` and ``socket`` took 20 of its 30 ms.  Its
#: request is NUL-separated: the working directory, the number of arguments, the arguments, then
#: the environment as NAME=VALUE; none of them can hold a NUL.)


def command(target: str) -> list[str] | None:
    """The command that serves ``target`` from the fork server, or None to serve it the usual way."""
    module = target.partition(":")[0]
    ours = any(module == name or module.startswith(f"{name}.") for name in FORKED)
    if os.environ.get(EXEC) or not ours or not _supported():
        return None
    return [sys.executable, "-I", "-S", "-c", LAUNCHER, str(_server()), target]


def _supported() -> bool:
    return hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")


_STARTED: list[tuple[subprocess.Popen[bytes], Path]] = []


def _server() -> Path:
    """The socket of this process's fork server, started on first use and stopped at exit."""
    if _STARTED and _STARTED[0][0].poll() is None:
        return _STARTED[0][1]
    _STARTED.clear()
    where = Path(tempfile.mkdtemp(prefix="forkserve-"))
    path = where / "socket"
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, this module
        [sys.executable, "-m", __name__, str(path), str(os.getpid())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stdout is not None
    ready = proc.stdout.readline()  # written once the socket listens and every module is imported
    if ready.strip() != b"ready":
        proc.kill()
        proc.wait()
        msg = f"the fork server did not start (exit {proc.returncode}); its stderr is above"
        raise RuntimeError(msg)
    _STARTED.append((proc, path))
    atexit.register(_stop, proc, where)
    return path


def _stop(proc: subprocess.Popen[bytes], where: Path) -> None:
    proc.kill()
    proc.wait()
    with contextlib.suppress(OSError):
        (where / "socket").unlink()
        where.rmdir()


# -- the server ------------------------------------------------------------------------------
def _preload() -> Any:
    """Import what a served miniature or variant imports; return ``conformance.serve.main``."""
    import conformance.serve
    import tests.variants  # noqa: F401 -- makes every variant
    from tests.miniatures import all_miniatures

    all_miniatures()  # imports every miniature module
    return conformance.serve.main


def serve(path: str, parent: int) -> None:
    """Accept launchers on ``path`` and fork an adapter for each, until ``parent`` exits."""
    # Ctrl-C in the terminal reaches the whole process group: the tests stop, and this server
    # follows its parent out (below) without a traceback of its own.  Its children take it as usual.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    main = _preload()
    # What is imported lives as long as every child: keep it out of their collections, which would
    # otherwise walk it (and copy every page they touch) as a fresh interpreter never does.
    gc.collect()
    gc.freeze()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    watch_parent = os.pidfd_open(parent)
    children: dict[int, tuple[int, socket.socket]] = {}  # pidfd of a child: (its pid, its launcher's socket)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        readable, _, _ = select.select([listener, watch_parent, *children], [], [])
        if watch_parent in readable:
            return
        for pidfd in [r for r in readable if isinstance(r, int) and r in children]:
            pid, launcher = children.pop(pidfd)
            os.close(pidfd)
            _, status = os.waitpid(pid, 0)
            how = (
                f"signal {os.WTERMSIG(status)}"
                if os.WIFSIGNALED(status)
                else f"exit {os.waitstatus_to_exitcode(status)}"
            )
            with contextlib.suppress(OSError):  # a launcher the kit killed hears nothing
                launcher.sendall(how.encode())
            launcher.close()
        if listener in readable:
            launcher, _ = listener.accept()
            child = _fork(launcher, main, [listener, *(s for _, s in children.values())], list(children))
            if child is None:
                launcher.close()
            else:
                children[os.pidfd_open(child)] = (child, launcher)


def _fork(launcher: socket.socket, main: Any, sockets: list[socket.socket], pidfds: list[int]) -> int | None:
    """Fork an adapter for one launcher; its pid, or None if the launcher said nothing usable."""
    received = _receive(launcher)
    if received is None:
        return None
    request, fds, watch_launcher = received
    assert threading.active_count() == 1, "the fork server must not fork with threads running"
    child = os.fork()
    if child:
        for fd in (*fds, watch_launcher):
            os.close(fd)
        return child
    code: Any = 70
    try:
        for sock in (*sockets, launcher):
            sock.close()
        for fd in pidfds:
            os.close(fd)
        _take(fds, request)
        threading.Thread(target=_follow, args=(watch_launcher,), daemon=True).start()
        code = main(request["args"])
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # what a fresh interpreter would print on its way out
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code if isinstance(code, int) else 1)
    return None  # not reached


def _receive(launcher: socket.socket) -> tuple[dict[str, Any], list[int], int] | None:
    """What a launcher sends: its request, its three descriptors, and a pidfd watching it."""
    try:
        header, fds, _, _ = socket.recv_fds(launcher, 8, 3)
        length = int.from_bytes(header, "big")
        body = b""
        while len(body) < length:
            chunk = launcher.recv(length - len(body))
            if not chunk:
                return None
            body += chunk
        pid, _, _ = struct.unpack("3i", launcher.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        cwd, count, *rest = body.decode("utf-8", "surrogateescape").split("\0")
        args, env = rest[: int(count)], dict(field.partition("=")[::2] for field in rest[int(count) :])
        return {"cwd": cwd, "args": args, "env": env}, fds, os.pidfd_open(pid)
    except (OSError, ValueError, struct.error):
        return None


def _take(fds: list[int], request: dict[str, Any]) -> None:
    """In the child: the launcher's descriptors as 0, 1 and 2, its environment and its directory."""
    for number, fd in enumerate(fds):
        os.dup2(fd, number)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _follow(launcher: int) -> None:
    """End this adapter as soon as its launcher is gone (the kit killed it): it holds the kit's pipes."""
    select.select([launcher], [], [])
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
