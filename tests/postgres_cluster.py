"""A throw-away PostgreSQL cluster on loopback, for `nox -s postgres`, the kit's own tests and the benchmark.

``initdb`` and ``pg_ctl`` from Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``) or
from PATH; as root they run as the ``postgres`` user through ``runuser``.  The data directory is
a temporary one, the server listens on 127.0.0.1 only, on a free port, with no durability (this is
a test server), and it is stopped by its pid even when the caller fails.  Standard library only:
the noxfile imports it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

ENV_VAR = "CONFORMANCE_POSTGRES_URL"
#: Where Debian's postgresql packages put each major version's server binaries.
DEBIAN = Path("/usr/lib/postgresql")
INSTALL = "PostgreSQL's server binaries (initdb, pg_ctl) are not installed; on Debian: apt-get install postgresql"


class NoPostgres(RuntimeError):
    """initdb and pg_ctl are not on this machine."""


def binaries() -> Path:
    """The directory holding initdb and pg_ctl: the newest Debian one, else PATH's."""
    debian = sorted(DEBIAN.glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if debian:
        return debian[-1].parent
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    raise NoPostgres(INSTALL)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_owner(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextlib.contextmanager
def cluster() -> Iterator[str]:
    """Start a cluster, yield its URL, and stop it by its pid however the body ends."""
    bin_dir = binaries()
    root = Path(tempfile.mkdtemp(prefix="conformance-pg-"))
    data, log = root / "data", root / "server.log"
    pid = 0
    try:
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        run = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]
        subprocess.run(_as_owner(run), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
        port = _free_port()
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"]
        subprocess.run(_as_owner(start), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)  # "fast" shutdown: roll back, disconnect, stop
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.05)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
