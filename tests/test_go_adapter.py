"""The Go example adapter (examples/go-adapter/) passes HIST through the adapter protocol.

A second language, built from source by this test with Go's standard library only, shows that
the protocol is not shaped after Node: Go reads a lone surrogate escape as U+FFFD and stops a
``bufio.Scanner`` at 64 KiB lines, and the adapter still passes every HIST requirement because
the kit sends such values as stand-ins (spec/adapter-protocol.md § Awkward values).

Outside CI a machine without ``go`` skips, saying how to install it; under CI (``CI=true``)
a missing ``go`` fails, and .ci/run installs Debian's ``golang-go``.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT, assert_passes_its_claims

SOURCE = ROOT / "examples" / "go-adapter"
GO = shutil.which("go")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def go_adapter(tmp_path_factory) -> str:
    if GO is None:
        hint = "install Go: apt-get update && apt-get install -y golang-go (Debian), or https://go.dev/dl/"
        if IN_CI:
            pytest.fail(f"CI=true and go is not on PATH; {hint}")
        pytest.skip(f"go is not on PATH; {hint}")
    out = tmp_path_factory.mktemp("go") / "go-adapter"
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
    env.setdefault("GOCACHE", str(tmp_path_factory.getbasetemp() / "go-cache"))
    build = subprocess.run(  # noqa: S603 - a fixed command on this repository's sources
        [GO, "build", "-o", str(out), "."], cwd=SOURCE, env=env, capture_output=True, text=True, check=False
    )
    assert build.returncode == 0, f"go build failed:\n{build.stderr}"
    return str(out)


def test_the_go_adapter_passes_every_hist_requirement(run_kit, go_adapter):
    run = run_kit(f"exec:{go_adapter}", "--conformance-debug-protocol")
    assert_passes_its_claims(run, ("hist",))
