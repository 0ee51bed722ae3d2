"""The remote agent service the kit plays for ID: the same answers in process and over loopback HTTP."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from conformance._data import registry, validator_for
from conformance.agent_service import AgentServiceSim, HttpAgentService

SCHEMA = "id/agent-service.schema.json"
RECORD = Draft202012Validator(
    {"$ref": "urn:agent-session-conformance:schema:id:agent-service#/$defs/record"}, registry=registry()
)


def conversation(call):
    handle = call({"method": "conversations.create", "params": {}})["result"]["service_handle"]
    params = {"service_handle": handle, "input": "hi", "steps": 2, "reference_task_ids": ["t-1"]}
    started = call({"method": "responses.create", "params": params})
    polled = call({"method": "responses.get", "params": {"response_id": started["result"]["response_id"]}})
    again = call({"method": "responses.get", "params": {"response_id": started["result"]["response_id"]}})
    return handle, started, polled, again


@pytest.mark.parametrize("path", ["in-process", "http"])
def test_a_run_of_two_units_finishes_at_the_first_poll_and_replays_after(path):
    service = AgentServiceSim()
    call = service.call if path == "in-process" else HttpAgentService(service.url).call
    handle, started, polled, again = conversation(call)
    for reply in (started, polled, again):
        assert not list(validator_for(SCHEMA).iter_errors(reply)), reply
        assert not list(RECORD.iter_errors(reply["result"])), reply
    assert started["result"]["status"] == "in_progress" and started["result"]["output"] is None
    assert polled["result"] | {} == again["result"], "a finished response answers as before"
    assert polled["result"]["output"] == "hi" and polled["result"]["service_handle"] == handle
    assert service.calls == 4 and service.handles == [handle]
    assert service.created == [started["result"]["response_id"]]


@pytest.mark.parametrize("path", ["in-process", "http"])
def test_what_the_service_refuses_it_says_and_still_counts(path):
    service = AgentServiceSim()
    call = service.call if path == "in-process" else HttpAgentService(service.url).call
    assert call({"method": "responses.get", "params": {"response_id": "resp_x"}})["error"]["kind"] == "not_found"
    bad = {"method": "responses.create", "params": {"service_handle": "c", "input": "x", "steps": 2.0}}
    assert call(bad)["error"]["kind"] == "invalid_argument"
    assert call({"method": "nonsense"})["error"]["kind"] == "invalid_argument"
    assert service.calls == 3, "a refused request was still sent, and the kit counts it"


def test_chaining_gives_a_new_handle_per_response_and_expiry_forgets_one():
    service = AgentServiceSim(chaining=True)
    params = {"service_handle": "conv-0", "input": "x", "steps": 2, "reference_task_ids": []}
    first = service.call({"method": "responses.create", "params": params})["result"]
    second = service.call(
        {"method": "responses.create", "params": params | {"service_handle": first["service_handle"]}}
    )
    assert first["service_handle"] != "conv-0" and second["result"]["service_handle"] != first["service_handle"]
    service.expire(first["response_id"])
    gone = service.call({"method": "responses.get", "params": {"response_id": first["response_id"]}})
    assert gone["error"]["kind"] == "not_found"


def test_an_unreachable_service_is_unavailable():
    service = AgentServiceSim()
    url = service.url.rsplit("/", 1)[0] + "/no-such-service"
    assert HttpAgentService(url).call({"method": "conversations.create"})["error"]["kind"] == "not_found"
    dead = HttpAgentService("http://127.0.0.1:9/x", timeout=2).call({"method": "conversations.create"})
    assert dead["error"]["kind"] == "unavailable"
