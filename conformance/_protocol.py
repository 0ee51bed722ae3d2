"""The adapter protocol's messages, shared by the kit's transport and the Python bridge.

One JSON object per line, UTF-8, ``\\n``-terminated (spec/adapter-protocol.md).
This module only encodes, decodes and validates; it starts no process.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from conformance import SPEC_VERSION, __version__
from conformance._traceback import kit_frame
from conformance._values import STAND_IN_KINDS, NonJSON, depth
from conformance.contract import ERROR_KINDS
from conformance.errors import ConformanceError, KitError

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module


__all__ = [
    "BAD_REQUEST",
    "ERROR_CODES",
    "MAX_DEPTH",
    "MAX_LINE_BYTES",
    "PROTOCOL_VERSION",
    "ProtocolViolation",
    "decode_line",
    "decode_values",
    "duplicate_member",
    "encode_line",
    "encode_values",
    "hello_args",
    "request_bound_problem",
    "schema_problems",
]

#: MAJOR.MINOR; an adapter whose MAJOR differs is refused at the handshake.
PROTOCOL_VERSION = "1.3"
#: The code an adapter answers when it cannot make sense of a request (not an error kind of the spec).
BAD_REQUEST = "bad_request"
#: Every code an error reply may carry: the spec's error kinds plus ``bad_request``.
ERROR_CODES: frozenset[str] = ERROR_KINDS | {BAD_REQUEST}
NONJSON_KEY = "$nonjson"
LITERAL_KEY = "$literal"
RESERVED_KEYS = (NONJSON_KEY, LITERAL_KEY)


class ProtocolViolation(ConformanceError, ValueError):
    """A line or message that the protocol does not allow."""

    def __init__(self, message: str, *, not_json: bool = False) -> None:
        super().__init__(message)
        self.not_json = not_json


def hello_args() -> dict[str, Any]:
    return {
        "protocol": PROTOCOL_VERSION,
        "kit": {"name": "agent-session-conformance", "version": __version__},
        "spec_version": SPEC_VERSION,
    }


#: The protocol MINOR that introduced each stand-in kind after 1.0; an older adapter gets the value itself.
STAND_IN_INTRODUCED: dict[str, int] = {"lone-surrogate": 2}
_SURROGATE = re.compile("[\ud800-\udfff]")


def encode_values(value: Any, minor: int = int(PROTOCOL_VERSION.split(".")[1])) -> Any:
    """Prepare request arguments for the wire, for an adapter speaking protocol 1.``minor``.

    Every :class:`NonJSON` becomes ``{"$nonjson": kind}`` (a kind newer than ``minor`` is sent
    as the value itself, as before that MINOR).  A real object that could be read as one of the
    two reserved forms (exactly one member, named ``$nonjson`` or ``$literal``) is sent escaped
    as ``{"$literal": object}``, so that data which looks like a stand-in stays data.  A string
    holding a lone surrogate outside a stand-in is the suite's mistake: parsers disagree on it
    (spec/adapter-protocol.md § Awkward values), so the kit refuses to send it.
    """
    if isinstance(value, NonJSON):
        if minor < STAND_IN_INTRODUCED.get(value.kind, 0):
            return STAND_IN_KINDS[value.kind]()
        return {NONJSON_KEY: value.kind}
    if isinstance(value, str):
        if _SURROGATE.search(value):
            msg = f"the suite sent {value!r}, a string with a lone surrogate, raw; use NonJSON('lone-surrogate')"
            raise KitError(msg)
        return value
    if isinstance(value, dict):
        encoded = {encode_values(k, minor): encode_values(v, minor) for k, v in value.items()}
        return {LITERAL_KEY: encoded} if len(value) == 1 and next(iter(value)) in RESERVED_KEYS else encoded
    if isinstance(value, (list, tuple)):
        return [encode_values(v, minor) for v in value]
    return value


def decode_values(value: Any) -> Any:
    """The inverse of :func:`encode_values`, for Python adapters (the bridge): stand-ins become :class:`NonJSON`."""
    if isinstance(value, dict):
        if len(value) == 1 and LITERAL_KEY in value and isinstance(value[LITERAL_KEY], dict):
            return {k: decode_values(v) for k, v in value[LITERAL_KEY].items()}
        if len(value) == 1 and value.get(NONJSON_KEY) in STAND_IN_KINDS:
            return NonJSON(value[NONJSON_KEY])
        return {k: decode_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_values(v) for v in value]
    return value


def encode_line(message: dict[str, Any]) -> bytes:
    """One message as one line; raises ``ValueError`` for values JSON cannot carry.

    ``ensure_ascii`` keeps lone surrogates (legal in a Python ``str``) as ``\\udXXX``
    escapes, which every JSON parser reads back; raw they are not valid UTF-8.
    """
    return _ENCODER.encode(message).encode("ascii") + b"\n"


#: The bounds of every request the kit writes (spec/adapter-protocol.md § Awkward values): a line of
#: at most 2 MiB, nested at most 67 levels (the message is level 1; a 64-level item inside
#: ``{"args": {"items": [item]}}`` is the deepest the suite sends).  ``--conformance-debug-protocol``
#: checks each request against them.
MAX_LINE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 67


def request_bound_problem(line: bytes, message: dict[str, Any]) -> str:
    """Why a request the kit built breaks the bounds the protocol promises adapters, or ``""``."""
    if len(line) > MAX_LINE_BYTES:
        return f"the line is {len(line)} bytes long, more than the {MAX_LINE_BYTES} the protocol promises"
    if (levels := depth(message)) > MAX_DEPTH:
        return f"the message nests {levels} levels deep, more than the {MAX_DEPTH} the protocol promises"
    return ""


def duplicate_member(line: bytes) -> str:
    """The first member name an object of ``line`` repeats, or ``""``: RFC 8259 leaves its meaning open."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in items]
        if not found and len(set(names)) != len(names):
            found.append(next(name for name in names if names.count(name) > 1))
        return dict(items)

    json.loads(line, object_pairs_hook=pairs)
    return found[0] if found else ""


def _refuse_constant(name: str) -> Any:
    msg = f"{name} is not JSON (RFC 8259 has no NaN or Infinity); send a finite number or an error"
    raise ProtocolViolation(msg)


# Built once: a call per message costs less than building them per message, as json.dumps(**kw) does.
_ENCODER = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def decode_line(line: bytes) -> dict[str, Any]:
    """Parse one line into a message object, or raise :class:`ProtocolViolation` saying why not."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"the line is not UTF-8 ({exc.reason} at byte {exc.start})"
        raise ProtocolViolation(msg, not_json=True) from None
    try:
        message = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        msg = f"the line is not JSON ({exc.msg} at column {exc.colno})"
        raise ProtocolViolation(msg, not_json=True) from None
    if not isinstance(message, dict):
        msg = f"a message is a JSON object, not {type(message).__name__}"
        raise ProtocolViolation(msg)
    return message


def check_reply(message: dict[str, Any]) -> None:
    """The checks every reply gets, debug flag or not (the schema says the same, and more)."""
    rid = message.get("id")
    if not isinstance(rid, int) or isinstance(rid, bool):
        msg = f"a reply needs an integer id echoing its request, got {rid!r}"
        raise ProtocolViolation(msg)
    if ("result" in message) == ("error" in message):
        msg = f"reply {rid} needs exactly one of 'result' and 'error'"
        raise ProtocolViolation(msg)
    if "error" in message:
        error = message["error"]
        code = error.get("code") if isinstance(error, dict) else None
        if code not in ERROR_CODES:
            msg = f"reply {rid} has error code {code!r}; the codes are {', '.join(sorted(ERROR_CODES))}"
            raise ProtocolViolation(msg)
        if not isinstance(error.get("message"), str):
            msg = f"reply {rid}: an error carries a 'message' string saying what was wrong"
            raise ProtocolViolation(msg)
        if not error["message"].strip():
            error["message"] = "(empty message)"  # as in process: the message is for people, not judged


@functools.cache
def _validator(name: str) -> Any:
    from conformance._data import validator_for

    return validator_for(f"protocol/{name}.schema.json")


def schema_problems(name: str, message: Any, pointer: str = "") -> list[str]:
    """What is wrong with ``message`` under schemas/protocol/<name>.schema.json (``pointer``: a $defs entry)."""
    validator = _validator(name)
    if pointer:
        validator = validator.evolve(schema={"$ref": f"{validator.schema['$id']}#/$defs/{pointer}"})
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(message)'}: {error.message}"
        for error in validator.iter_errors(message)
    ]
