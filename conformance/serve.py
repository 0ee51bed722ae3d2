"""Serve any in-process implementation over the adapter protocol.

    python -m conformance.serve MODULE[:OBJECT]

reads requests from stdin and writes replies to stdout (spec/adapter-protocol.md).
Each instance is an :class:`~conformance._inprocess.InProcessTransport`, so every
area the kit knows is served without area-specific code.  Uses: to test the
subprocess transport with the reference (``--impl="exec:python -m conformance.serve
reference_impl"`` must give the outcomes of ``--impl=reference_impl``), and as a
template for adapters in other languages.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
import threading
import traceback
from pathlib import Path
from typing import IO, Any

from conformance._inprocess import InProcessTransport
from conformance._loading import FORM, ImplSpecError, load
from conformance._protocol import (
    BAD_REQUEST,
    PROTOCOL_VERSION,
    ProtocolViolation,
    decode_line,
    decode_values,
    encode_line,
)
from conformance.contract import Environment, ManualClock
from conformance.errors import ImplementationError, ImplementationFault, KitError

# The kit times requests out and kills the process; the bridge itself never gives up on a call.
_NO_TIMEOUT = 24 * 3600.0


class Bridge:
    """Answers requests; each instance is an in-process transport over the implementation."""

    def __init__(self, impl: Any, out: IO[bytes]) -> None:
        self.impl = impl
        self._out = out
        self._write_lock = threading.Lock()
        self._instances: dict[str, InProcessTransport] = {}
        # Requests run on threads so that a batch the kit pipelines runs concurrently, as in process.
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="bridge")

    def reply(self, rid: Any, *, result: Any = None, code: str = "", message: str = "", exc_type: str = "") -> None:
        if code:
            error = {"code": code, "message": message or "(empty message)"}
            if exc_type:
                error["type"] = exc_type
            line = encode_line({"id": rid, "error": error})
        else:
            try:
                line = encode_line({"id": rid, "result": result})
            except (TypeError, ValueError) as exc:
                line = encode_line({"id": rid, "error": {"code": "internal", "message": f"result is not JSON: {exc}"}})
        with self._write_lock:
            self._out.write(line)
            self._out.flush()

    def serve(self, lines: IO[bytes]) -> None:
        for raw in lines:
            if not raw.strip():
                continue
            try:
                message = decode_line(raw)
            except ProtocolViolation as exc:
                sys.stderr.write(f"conformance.serve: ignoring a line that is not a request: {exc}\n")
                continue
            if message.get("op") == "kit.hello":
                self.handle(message)  # first, and alone: no request can overtake it
            else:
                self._pool.submit(self.handle, message)
        self._pool.shutdown(wait=True)
        for transport in list(self._instances.values()):
            transport.close()

    def handle(self, message: dict[str, Any]) -> None:
        rid, op, args = message.get("id"), message.get("op"), message.get("args")
        if not isinstance(rid, int) or not isinstance(op, str) or not isinstance(args, dict):
            self.reply(rid, code=BAD_REQUEST, message="a request is {id: integer, op: string, args: object}")
            return
        try:
            result = self.run(op, args, message.get("instance"))
        except ImplementationError as exc:
            self.reply(rid, code=exc.kind, message=exc.message, exc_type=exc.exc_type)
        except KitError as exc:
            self.reply(rid, code=BAD_REQUEST, message=str(exc))
        except ImplementationFault as exc:
            self.reply(rid, code="internal", message=str(exc))
        except Exception as exc:  # a bug in the bridge: say so on stderr, answer internal
            traceback.print_exc(file=sys.stderr)
            self.reply(rid, code="internal", message=f"conformance.serve failed: {type(exc).__name__}: {exc}")
        except BaseException as exc:
            traceback.print_exc(file=sys.stderr)
            self.reply(rid, code="internal", message=f"{type(exc).__name__} (derives only from BaseException): {exc}")
        else:
            self.reply(rid, result=result)

    def run(self, op: str, args: dict[str, Any], instance: Any) -> Any:
        if op == "kit.hello":
            return self.hello(args)
        if not isinstance(instance, str):
            msg = f"{op} needs an 'instance'"
            raise KitError(msg)
        if op == "kit.begin":
            env = Environment(storage_dir=Path(args["storage_dir"]), clock=ManualClock())
            self._instances[instance] = InProcessTransport(self.impl, env, timeout=_NO_TIMEOUT)
            return None
        transport = self._instances.get(instance)
        if transport is None:
            msg = f"unknown instance {instance!r}; kit.begin creates one"
            raise KitError(msg)
        if op == "kit.end":
            del self._instances[instance]
            transport.close()
            return None
        if op == "kit.advance_clock":
            transport.advance_clock(args["seconds"])
            return None
        return transport.call(op, decode_values(args))

    def hello(self, args: dict[str, Any]) -> dict[str, Any]:
        kit_major = str(args.get("protocol", "")).split(".")[0]
        if kit_major != PROTOCOL_VERSION.split(".")[0]:
            raise ImplementationError("unsupported", f"this bridge speaks protocol {PROTOCOL_VERSION}")
        impl = self.impl
        return {
            "protocol": PROTOCOL_VERSION,
            "implementation": {
                "name": impl.name,
                "version": impl.version,
                "spec_version": impl.spec_version,
                "claims": sorted(impl.claims),
            },
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.serve", description=__doc__.splitlines()[0])
    parser.add_argument("target", help=FORM.split(";")[0])
    target = parser.parse_args(argv).target
    try:
        impl, _ = load(target)
    except ImplSpecError as exc:
        sys.stderr.write(f"conformance.serve: {exc}\n")
        return 2
    Bridge(impl, _protocol_stdout()).serve(sys.stdin.buffer)
    return 0


def _protocol_stdout() -> IO[bytes]:
    """Keep stdout for the protocol alone: what the implementation prints goes to stderr.

    The protocol's stream is a duplicate of file descriptor 1, and descriptor 1 itself (and
    ``sys.stdout``) now lead to stderr, so a stray ``print`` or a C library's output cannot
    corrupt a reply.
    """
    sys.stdout.flush()
    protocol = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol


if __name__ == "__main__":
    sys.exit(main())
