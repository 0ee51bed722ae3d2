"""A conformance kit for AI-agent sessions: the spec's requirements as a pytest plugin.

Run it with ``pytest --impl=MODULE[:OBJECT]``; write an adapter against
:mod:`conformance.contract`.
"""

from __future__ import annotations

__version__ = "0.2.0"

#: The version of the specification this kit checks (spec/README.md states it too).
SPEC_VERSION = "0.2.0"
