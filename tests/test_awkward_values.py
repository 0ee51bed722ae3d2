"""Values JSON parsers disagree on, sent through the example adapters (spec/adapter-protocol.md § Awkward values).

Each case sends one awkward value the suite sends, through the kit's own subprocess transport with
``--conformance-debug-protocol``'s checks on, and checks the adapter's answer: the Node adapter
(its own number reader) and the Go adapter (``encoding/json`` with ``UseNumber``).  Where the spec
allows two answers (HIST-015: store big integers exactly, or refuse them), each adapter's own
choice is pinned, so a change of behaviour shows.  The kit's side (no raw lone surrogate ever
leaves it, the bounds on requests, duplicate names in replies) is checked without an adapter.
"""

from __future__ import annotations

import math
import shutil
from typing import Any

import pytest

from conformance._protocol import (
    MAX_DEPTH,
    MAX_LINE_BYTES,
    duplicate_member,
    encode_line,
    encode_values,
    request_bound_problem,
)
from conformance._subprocess import AdapterProcess
from conformance._values import LONE_SURROGATE, NonJSON, depth
from conformance.errors import ImplementationError, KitError
from tests.conftest import NODE_ADAPTER

NODE = shutil.which("node")
BIG = {"above": 2**53 + 1, "u64": 2**64 + 1, "below": -(2**63) - 1}
EDGES = {"huge": 1.7976931348623157e308, "big": 1e308, "tiny": 5e-324, "neg": -2.5e-7}


def _nested(levels: int) -> dict[str, Any]:
    """An item ``levels`` deep, alternating arrays and objects, the item itself being level 1."""
    value: Any = "bottom"
    for level in range(levels - 1):
        value = [value] if level % 2 else {"o": value}
    return {"deep": value}


@pytest.fixture(params=["node", "go"])
def adapter(request, tmp_path):
    if request.param == "node":
        if NODE is None:
            pytest.skip("node is not on PATH; install Node.js 20 (CI has it)")
        target = f"exec:{NODE} {NODE_ADAPTER}"
    else:
        target = f"exec:{request.getfixturevalue('go_adapter')}"
    process = AdapterProcess(target, timeout=30, debug=True)
    transport = process.transport(tmp_path)
    transport.name = request.param  # type: ignore[attr-defined]
    yield transport
    transport.kit_op("kit.end", {})
    process.close()


def _error(transport: Any, op: str, args: dict[str, Any]) -> str:
    with pytest.raises(ImplementationError) as caught:
        transport.call(op, args)
    return caught.value.kind


def _round_trip(transport: Any, session: str, item: dict[str, Any]) -> Any:
    handle = transport.call("hist.open", {"session_id": session})
    assert transport.call("hist.add_items", {"handle": handle, "items": [item]}) is None
    return transport.call("hist.get_items", {"handle": handle})


def test_a_lone_surrogate_arrives_as_one_and_is_rejected(adapter):
    assert _error(adapter, "hist.open", {"session_id": NonJSON("lone-surrogate")}) == "invalid_argument"


def test_big_integers_are_stored_exactly_or_refused_never_rounded(adapter):
    handle = adapter.call("hist.open", {"session_id": "big"})
    if adapter.name == "node":  # JavaScript numbers cannot hold them: refused (HIST-015 allows it)
        assert _error(adapter, "hist.add_items", {"handle": handle, "items": [{"n": BIG}]}) == "invalid_argument"
        return
    adapter.call("hist.add_items", {"handle": handle, "items": [{"n": BIG}]})
    stored = adapter.call("hist.get_items", {"handle": handle})[0]["n"]
    assert stored == BIG
    assert all(type(v) is int for v in stored.values()), stored


@pytest.mark.parametrize("written", [2.0, 1e300], ids=["fraction", "exponent"])
def test_a_number_written_as_a_float_is_not_an_integer(adapter, written):
    handle = adapter.call("hist.open", {"session_id": "floats"})
    assert _error(adapter, "hist.get_items", {"handle": handle, "limit": written}) == "invalid_argument"
    assert _error(adapter, "hist.open", {"session_id": "floats", "default_limit": written}) == "invalid_argument"


def test_negative_zero_comes_back_as_a_zero(adapter):
    (item,) = _round_trip(adapter, "zero", {"z": -0.0})
    assert isinstance(item["z"], (int, float)) and not isinstance(item["z"], bool)
    assert item["z"] == 0  # -0.0, -0 and 0 are all right: numbers are compared by value


def test_numbers_with_exponents_come_back_exact(adapter):
    (item,) = _round_trip(adapter, "edges", dict(EDGES))
    assert item == EDGES
    assert item["tiny"] != 0 and math.isfinite(item["huge"])


def test_the_deepest_item_and_the_longest_line_are_read(adapter):
    deepest = _nested(64)
    assert depth(deepest) == 64
    (item,) = _round_trip(adapter, "deep", deepest)
    assert item == deepest
    batch = [{"n": n, "text": "x" * 60_000} for n in range(20)]
    line = encode_line({"id": 1, "op": "hist.add_items", "instance": "i", "args": {"handle": "h", "items": batch}})
    assert 1_200_000 < len(line) < MAX_LINE_BYTES
    handle = adapter.call("hist.open", {"session_id": "long"})
    adapter.call("hist.add_items", {"handle": handle, "items": batch})
    assert adapter.call("hist.get_items", {"handle": handle}) == batch


def test_characters_beyond_ascii_are_escaped_and_come_back(adapter):
    text = "é 😀 \u2028 \u0000 汉字"
    assert encode_line({"t": text}).isascii()
    (item,) = _round_trip(adapter, "text", {"t": text, text: 1})
    assert item == {"t": text, text: 1}


# -- the kit's side -------------------------------------------------------------------------------


def test_the_kit_never_sends_a_raw_lone_surrogate():
    with pytest.raises(KitError, match="lone surrogate"):
        encode_values({"items": [{"text": LONE_SURROGATE}]})
    with pytest.raises(KitError, match="lone surrogate"):
        encode_values({"state": {LONE_SURROGATE: 1}})
    assert encode_values({"id": NonJSON("lone-surrogate")}) == {"id": {"$nonjson": "lone-surrogate"}}


def test_an_adapter_of_protocol_1_1_gets_the_string_itself():
    """A stand-in newer than the adapter's MINOR is never sent to it (spec/adapter-protocol.md § Versions)."""
    assert encode_values({"id": NonJSON("lone-surrogate")}, minor=1) == {"id": LONE_SURROGATE}
    assert encode_values({"x": NonJSON("nan")}, minor=1) == {"x": {"$nonjson": "nan"}}


def test_requests_beyond_the_bounds_are_the_kits_error():
    assert request_bound_problem(b"{}", {"args": _nested(MAX_DEPTH - 3)}) == ""
    assert "nests 68 levels" in request_bound_problem(b"{}", {"args": {"items": [_nested(MAX_DEPTH - 2)]}})
    assert "bytes long" in request_bound_problem(b"x" * (MAX_LINE_BYTES + 1), {})


def test_a_reply_with_a_repeated_member_name_is_found():
    assert duplicate_member(b'{"id": 1, "result": [{"a": 1, "b": {"c": 2, "c": 3}}]}') == "c"
    assert duplicate_member(b'{"id": 1, "result": [{"a": 1}, {"a": 2}]}') == ""
