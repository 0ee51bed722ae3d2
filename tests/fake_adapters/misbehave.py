"""An adapter that serves the reference's in-memory HIST over the protocol, then misbehaves.

    python tests/fake_adapters/misbehave.py MODE

Each mode is one way an adapter goes wrong; ``MODES`` documents them.  The
misbehaviour starts at the ``TRIGGER``-th ``hist.get_items`` request the process
receives (counting from 1), so the tests before it pass.  When ``FAKE_ADAPTER_LOG``
names a file, every start appends one line to it, so a test can count restarts, and
only the first process misbehaves: the restarted ones behave, as a flaky adapter
might, which shows that the kit restarts the adapter and carries on.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from conformance.serve import Bridge
from reference_impl.history import MemoryHistory

TRIGGER = 3
MODES = {
    "well": "behaves: the control case",
    "crash": "writes its last words to stderr and exits with status 3",
    "garbage": "writes a line that is not JSON on stdout",
    "partial": "writes half a reply without a newline, then exits with status 0",
    "flood": "writes 6 MB to stderr before the first reply and 64 KB with every reply, and otherwise behaves",
    "hang": "never answers (sleeps for an hour)",
    "wrong-id": "answers with an id that no request has",
    "nan": "answers with NaN, which JSON does not have",
    "wrong-answer": "answers get_items with the items in reverse order",
    "bad-request": "claims the kit's request was malformed (error code bad_request)",
    "banner": "prints a greeting on stdout before the handshake",
    "old-protocol": "answers the handshake with protocol 2.0",
    "bad-hello": "answers the handshake without claims",
    "unknown-claim": "claims a capability the kit does not know",
    "die-after-3": "every process exits with status 9 after answering three requests (restarts too)",
    "protocol-1.0": "speaks protocol 1.0, which has no kit.mutate: answers it unsupported, and otherwise behaves",
    "protocol-1.0-mutates": "says protocol 1.0 but would answer kit.mutate: the kit must not send it",
    "later-minor": "speaks protocol 1.9 and adds members the kit does not know to every reply: they are ignored",
    "empty-messages": "answers every error with an empty message: the same answers as in process",
    "duplicate-names": "answers get_items with an item that repeats a member name, which JSON readers read unevenly",
    "id-at-1.2": "claims id but speaks protocol 1.2, which has no agent_service_url: the kit sends no id.* operation",
    "slow-open": "takes SLOW_OPEN seconds to answer every hist.open, as an adapter importing its library there would",
}
SLOW_OPEN = 1.0


class HistOnly:
    name = "misbehaving-fake"
    version = "0.0.1"
    spec_version = "0.2.0"
    claims = frozenset({"hist"})

    def open_history(self, env: Any) -> Any:
        return MemoryHistory.open(env)


class _Rewriting:
    """A stdout that changes each reply line before writing it."""

    def __init__(self, rewrite: Any) -> None:
        self.rewrite = rewrite

    def write(self, data: bytes) -> None:
        sys.stdout.buffer.write(self.rewrite(data))

    def flush(self) -> None:
        sys.stdout.buffer.flush()


class Misbehaving(Bridge):
    def __init__(self, mode: str) -> None:
        super().__init__(HistOnly(), sys.stdout.buffer)
        self.mode = mode
        if mode in ("later-minor", "empty-messages"):
            self._out = _Rewriting(self.rewrite)  # every reply passes through rewrite
        self.gets = 0

    def raw(self, data: bytes) -> None:
        if self.mode in ("later-minor", "empty-messages"):
            data = self.rewrite(data)
        with self._write_lock:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()

    def rewrite(self, data: bytes) -> bytes:
        reply = json.loads(data)
        if self.mode == "empty-messages":
            if "error" in reply:
                reply["error"]["message"] = ""
        else:
            reply["trace_id"] = "added by a later protocol minor"
            if "error" in reply:
                reply["error"]["retry_after_ms"] = 0
            if isinstance(reply.get("result"), dict) and "implementation" in reply["result"]:
                reply["result"]["protocol"] = "1.9"
                reply["result"]["features"] = ["streaming"]
                reply["result"]["implementation"]["homepage"] = "https://example.invalid/sdk"
        return json.dumps(reply).encode() + b"\n"

    def handle_batch(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:  # one at a time, so that each meets the misbehaviour
            self.handle(message)

    def handle(self, message: dict[str, Any]) -> None:
        mode, op, rid = self.mode, message.get("op"), message.get("id")
        if op == "kit.hello":
            hello: dict[str, Any] = {
                "protocol": "1.0" if mode in ("protocol-1.0", "protocol-1.0-mutates") else "1.1",
                "implementation": {
                    "name": HistOnly.name,
                    "version": HistOnly.version,
                    "spec_version": "0.2.0",
                    "claims": ["hist"],
                },
            }
            if mode == "old-protocol":
                hello["protocol"] = "2.0"
            elif mode == "id-at-1.2":
                hello["protocol"] = "1.2"
                hello["implementation"]["claims"] = ["hist", "id"]
            elif mode == "bad-hello":
                del hello["implementation"]["claims"]
            elif mode == "unknown-claim":
                hello["implementation"]["claims"] = ["hist", "hist.teleport"]
            self.raw(json.dumps({"id": rid, "result": hello}).encode() + b"\n")
            return
        if mode == "protocol-1.0" and op == "kit.mutate":
            self.reply(rid, code="unsupported", message="this adapter speaks protocol 1.0")
            return
        if mode == "die-after-3":
            self.served = getattr(self, "served", 0) + 1
            if self.served > 3:
                sys.stderr.write("fatal: out of file handles after three requests\n")
                sys.stderr.flush()
                os._exit(9)
        if mode == "flood":
            sys.stderr.write("flood " * 10_000 + "\n")  # 60 KB
            sys.stderr.flush()
        if mode == "slow-open" and op == "hist.open":
            time.sleep(SLOW_OPEN)
        if op == "hist.get_items":
            self.gets += 1
            if self.gets >= TRIGGER and self.misbehave(mode, rid, message):
                return
        super().handle(message)

    def misbehave(self, mode: str, rid: Any, message: dict[str, Any]) -> bool:  # noqa: PLR0911
        if mode == "crash":
            sys.stderr.write("traceback: something deep inside\nfatal: simulated crash in get_items\n")
            sys.stderr.flush()
            os._exit(3)
        if mode == "garbage":
            self.raw(b"<html>this is not json</html>\n")
            return True
        if mode == "partial":
            self.raw(b'{"id": %d, "resu' % rid)
            os._exit(0)
        if mode == "hang":
            time.sleep(3600)
        if mode == "wrong-id":
            self.raw(json.dumps({"id": rid + 1000, "result": []}).encode() + b"\n")
            return True
        if mode == "nan":
            self.raw(b'{"id": %d, "result": [{"score": NaN}]}\n' % rid)
            return True
        if mode == "wrong-answer":
            try:
                result = self.run(message["op"], message["args"], message.get("instance"))
            except Exception:
                return False  # an error answer stays right; only results are reversed
            self.reply(rid, result=list(reversed(result)))
            return True
        if mode == "bad-request":
            self.reply(rid, code="bad_request", message="I do not understand 'limit'")
            return True
        if mode == "duplicate-names":
            self.raw(b'{"id": %d, "result": [{"role": "user", "role": "assistant"}]}\n' % rid)
            return True
        return False


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "well"
    if mode not in MODES:
        sys.exit(f"unknown mode {mode!r}; modes: {', '.join(MODES)}")
    if log := os.environ.get("FAKE_ADAPTER_LOG"):
        path = Path(log)
        if path.exists() and mode not in ("flood", "wrong-answer", "bad-request", "die-after-3"):
            mode = "well"  # a restart: this process behaves
        with path.open("a") as f:
            f.write(f"start {os.getpid()}\n")
    if mode == "banner":
        sys.stdout.write("misbehaving adapter ready!\n")
        sys.stdout.flush()
    if mode == "flood":
        sys.stderr.write(("x" * 1023 + "\n") * 6 * 1024)  # 6 MB before anything else
        sys.stderr.flush()
    Misbehaving(mode).serve(sys.stdin.buffer)


if __name__ == "__main__":
    main()
