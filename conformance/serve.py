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
import os
import sys
import threading
import traceback
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

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
from conformance._values import CHANGES
from conformance.contract import Environment, ManualClock
from conformance.errors import ImplementationError, ImplementationFault, KitError

if TYPE_CHECKING:
    from collections.abc import Iterator

# The kit times requests out and kills the process; the bridge itself never gives up on a call.
_NO_TIMEOUT = 24 * 3600.0


class Bridge:
    """Answers requests; each instance is an in-process transport over the implementation.

    Requests run on the main thread, one after another, except the ones the kit sends together
    (a concurrency test writes them in one go): those run together, as they would in process.
    """

    def __init__(self, impl: Any, out: IO[bytes]) -> None:
        self.impl = impl
        self._out = out
        self._write_lock = threading.Lock()
        self._instances: dict[str, InProcessTransport] = {}

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

    def serve(self, stream: IO[bytes]) -> None:
        for batch in _arrivals(stream):
            messages = []
            for raw in batch:
                if not raw.strip():
                    continue
                try:
                    messages.append(decode_line(raw))
                except ProtocolViolation as exc:
                    sys.stderr.write(f"conformance.serve: ignoring a line that is not a request: {exc}\n")
            if messages:
                self.handle_batch(messages)
        for transport in list(self._instances.values()):
            transport.close()

    def handle_batch(self, messages: list[dict[str, Any]]) -> None:
        """Requests that arrived together: operations on one instance run concurrently, others in turn."""
        instance = messages[0].get("instance")
        transport = self._instances.get(instance) if isinstance(instance, str) else None
        together = (
            len(messages) > 1
            and transport is not None
            and all(
                isinstance(m.get("id"), int)
                and isinstance(m.get("op"), str)
                and not m["op"].startswith("kit.")
                and isinstance(m.get("args"), dict)
                and m.get("instance") == instance
                for m in messages
            )
        )
        if not together:
            for message in messages:
                self.handle(message)
            return
        assert transport is not None
        try:
            outcomes: list[Any] = transport.concurrently([(m["op"], decode_values(m["args"])) for m in messages])
        except BaseException as exc:  # every request of the batch is answered with it
            outcomes = [exc] * len(messages)
        for message, outcome in zip(messages, outcomes, strict=True):
            self.answer(message["id"], outcome)

    def handle(self, message: dict[str, Any]) -> None:
        rid, op, args = message.get("id"), message.get("op"), message.get("args")
        if not isinstance(rid, int) or not isinstance(op, str) or not isinstance(args, dict):
            self.reply(rid, code=BAD_REQUEST, message="a request is {id: integer, op: string, args: object}")
            return
        try:
            outcome = self.run(op, args, message.get("instance"))
        except BaseException as exc:  # answered below, whatever it is
            outcome = exc
        self.answer(rid, outcome)

    def answer(self, rid: Any, outcome: Any) -> None:
        """Reply with a result, or with the error code an exception stands for (spec/adapter-protocol.md)."""
        if not isinstance(outcome, BaseException):
            self.reply(rid, result=outcome)
        elif isinstance(outcome, ImplementationError):
            self.reply(rid, code=outcome.kind, message=outcome.message, exc_type=outcome.exc_type)
        elif isinstance(outcome, KitError):
            self.reply(rid, code=BAD_REQUEST, message=str(outcome))
        elif isinstance(outcome, ImplementationFault):
            self.reply(rid, code="internal", message=str(outcome))
        else:  # a bug in the bridge, or something derived only from BaseException: stderr, and internal
            traceback.print_exception(outcome, file=sys.stderr)
            what = "conformance.serve failed" if isinstance(outcome, Exception) else "derives only from BaseException"
            self.reply(rid, code="internal", message=f"{what}: {type(outcome).__name__}: {outcome}")

    def run(self, op: str, args: dict[str, Any], instance: Any) -> Any:
        if op == "kit.hello":
            return self.hello(args)
        if not isinstance(instance, str):
            msg = f"{op} needs an 'instance'"
            raise KitError(msg)
        if op == "kit.begin":
            url = args.get("agent_service_url")
            service = None
            if isinstance(url, str):
                # Imported here: its HTTP client costs every other adapter's start a tenth of its time.
                from conformance.agent_service import HttpAgentService

                service = HttpAgentService(url)
            env = Environment(storage_dir=Path(args["storage_dir"]), clock=ManualClock(), agent_service=service)
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
        if op == "kit.mutate":
            change: dict[str, Any] = {k: args[k] for k in CHANGES if k in args}
            transport.mutate(args.get("of", ""), args.get("path", []), change)
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
                **({"adds": dict(impl.adds)} if getattr(impl, "adds", None) else {}),
            },
        }


def _arrivals(stream: IO[bytes]) -> Iterator[list[bytes]]:
    """The complete lines of ``stream``, grouped by what one read returned (what arrived together)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a pipe or file (a test's BytesIO): a line at a time
        yield from ([line] for line in stream)
        return
    pending = b""
    while chunk := os.read(fd, 1 << 16):
        *lines, pending = (pending + chunk).split(b"\n")
        if lines:
            yield [line + b"\n" for line in lines]
    if pending:
        yield [pending]


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
