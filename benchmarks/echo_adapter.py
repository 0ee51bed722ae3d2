"""The cheapest possible adapter: answers every request line at once with its own arguments.

Speaks just enough of the protocol for the benchmark (the handshake and an echo);
``bench_protocol.py`` drives it both raw and through the kit's transport.
"""

# ruff: noqa: INP001 - a script run by path, not a package module

from __future__ import annotations

import json
import sys

HELLO = {"protocol": "1.0", "implementation": {"name": "echo", "version": "0", "spec_version": "0.2.0", "claims": []}}


def main() -> None:
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        result = HELLO if request["op"] == "kit.hello" else request["args"]
        out.write(json.dumps({"id": request["id"], "result": result}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
