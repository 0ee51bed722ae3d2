"""The Go example adapter (examples/go-adapter/) passes HIST through the adapter protocol.

A second language, built from source by this test with Go's standard library only, shows that
the protocol is not shaped after Node: Go reads a lone surrogate escape as U+FFFD, rounds big
integers into ``float64`` and stops a ``bufio.Scanner`` at 64 KiB lines.  The adapter passes every
HIST requirement because it decodes with ``UseNumber`` and reads with ``bufio.Reader``, and the
kit sends lone surrogates as stand-ins (spec/adapter-protocol.md § Awkward values).

Outside CI a machine without ``go`` skips, saying how to install it; under CI (``CI=true``)
a missing ``go`` fails, and .ci/run installs Debian's ``golang-go`` (the ``go_adapter`` fixture,
tests/conftest.py, builds it once per session).
"""

from __future__ import annotations

import pytest

from tests.conftest import assert_passes_its_claims


@pytest.mark.heavy
def test_the_go_adapter_passes_every_hist_requirement(run_kit, go_adapter):
    run = run_kit(f"exec:{go_adapter}", "--conformance-debug-protocol")
    assert_passes_its_claims(run, ("hist",))
