"""BCAST: what publish and subscribe reject (spec/bcast.md § Data model, § Operations)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance._values import NON_JSON_KINDS, NonJSON
from conformance.suite._bcast_support import bcast, event, received
from conformance.suite._support import INVALID_IDS, expect_error, show

__all__ = ["bcast"]  # the fixture, imported so that pytest finds it here

requirement = pytest.mark.requirement

OK: dict[str, Any] = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}

NOT_NOTIFICATIONS: dict[str, Any] = {
    "null": None,
    "string": "notifications/tools/list_changed",
    "array": [OK],
    "empty-object": {},
    "no-jsonrpc": {"method": "m"},
    "jsonrpc-1.0": {**OK, "jsonrpc": "1.0"},
    "jsonrpc-number": {**OK, "jsonrpc": 2.0},
    "no-method": {"jsonrpc": "2.0", "params": {}},
    "empty-method": {**OK, "method": ""},
    "method-number": {**OK, "method": 7},
    "params-array": {**OK, "params": [1, 2]},
    "params-string": {**OK, "params": "x"},
    "params-null": {**OK, "params": None},
    "with-id": {**OK, "id": 1},
    "with-null-id": {**OK, "id": None},
    "with-result": {**OK, "result": {}},
}


@requirement("BCAST-007")
@pytest.mark.parametrize("name", list(NOT_NOTIFICATIONS))
def test_an_event_that_is_not_a_notification_is_rejected_and_delivered_to_nobody(bcast, name):
    sub = bcast.subscribe("s1", buffer_size=4)
    with expect_error("invalid_argument", f"publish of a {name} event {show(NOT_NOTIFICATIONS[name])}"):
        bcast.publish(NOT_NOTIFICATIONS[name])
    events, _ = received(bcast, sub, "receive after the rejected publish")
    assert events == [], f"the rejected event reached a subscriber: {show(events)}"


@requirement("BCAST-007")
@pytest.mark.parametrize("kind", sorted(NON_JSON_KINDS))
def test_an_event_holding_a_value_json_cannot_express_is_rejected(bcast, kind):
    sub = bcast.subscribe("s1", buffer_size=4)
    with expect_error("invalid_argument", f"publish of an event whose params hold a {kind} value"):
        bcast.publish({**event(1), "params": {"good": 1, "bad": [NonJSON(kind)]}})
    events, _ = received(bcast, sub, "receive after the rejected publish")
    assert events == [], f"the rejected event reached a subscriber: {show(events)}"


@requirement("BCAST-008")
@pytest.mark.parametrize("name", [*INVALID_IDS, "null"])
def test_subscribe_rejects_an_invalid_session_id(bcast, name):
    value = None if name == "null" else INVALID_IDS[name]
    with expect_error("invalid_argument", f"subscribe with a {name} session id"):
        bcast.subscribe(value, buffer_size=4)
    count = bcast.subscriber_count()
    assert count == 0, f"the rejected subscribe left {show(count)} subscriptions counted"


INVALID_SIZES: dict[str, Any] = {
    "zero": 0,
    "negative": -1,
    "fraction": 1.5,
    "float-integer": 2.0,
    "string": "3",
    "boolean": True,
    "array": [3],
    "object": {"size": 3},
}


@requirement("BCAST-010")
@pytest.mark.parametrize("name", list(INVALID_SIZES))
def test_subscribe_rejects_an_invalid_buffer_size(bcast, name):
    with expect_error("invalid_argument", f"subscribe with a {name} buffer_size {show(INVALID_SIZES[name])}"):
        bcast.subscribe("s1", buffer_size=INVALID_SIZES[name])
    count = bcast.subscriber_count()
    assert count == 0, f"the rejected subscribe left {show(count)} subscriptions counted"
