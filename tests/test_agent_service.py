"""The remote agent service the kit plays for ID: the same answers in process and over loopback HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

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


def status_and_reply(url, *, method="POST", content_type="application/json", body=b"{}"):
    data = body if method == "POST" else None
    request = urllib.request.Request(url, data, {"Content-Type": content_type}, method=method)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - the kit's loopback address
            return answer.status, answer.headers["Content-Type"], json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], json.loads(exc.read())


def test_over_http_every_response_is_a_json_reply_and_200_means_the_service_answered():
    service = AgentServiceSim()
    refused = json.dumps({"method": "responses.get", "params": {"response_id": "resp_x"}}).encode()
    status, media, reply = status_and_reply(service.url, body=refused)
    assert (status, media, reply["error"]["kind"]) == (200, "application/json", "not_found"), (
        "an error reply is an answer"
    )
    status, _, reply = status_and_reply(service.url, body=b"{not json")
    assert (status, reply["error"]["kind"]) == (200, "invalid_argument"), "a body that is not JSON reaches the service"
    assert service.calls == 2
    elsewhere = service.url.rsplit("/", 1)[0] + "/no-such-service"
    for expected, url, options in [
        ((404, "not_found"), elsewhere, {}),
        ((405, "invalid_argument"), service.url, {"method": "GET"}),
        ((415, "invalid_argument"), service.url, {"content_type": "text/plain"}),
    ]:
        status, media, reply = status_and_reply(url, **options)
        assert (status, reply["error"]["kind"]) == expected and media == "application/json", (options, status, reply)
    assert service.calls == 2, "a request that reached no service is not counted"
    assert HttpAgentService(elsewhere).call({"method": "conversations.create", "params": {}})["error"]["kind"] == (
        "not_found"
    ), "the kit's client reads the reply of a status other than 200"


@pytest.mark.parametrize("path", ["in-process", "http"])
def test_an_outage_answers_nothing_and_a_failing_service_answers_its_kind(path):
    service = AgentServiceSim()
    call = service.call if path == "in-process" else HttpAgentService(service.url).call
    service.outage = True
    assert call({"method": "conversations.create", "params": {}})["error"]["kind"] == "unavailable"
    assert service.calls == 0, "an unreachable service receives nothing"
    service.outage, service.failing = False, "internal"
    assert call({"method": "conversations.create", "params": {}})["error"]["kind"] == "internal"
    assert service.calls == 1, "a failing service still received the request"
    service.failing = None
    assert "result" in call({"method": "conversations.create"}), "a request without params is read as params {}"


def test_an_unreachable_service_is_unavailable():
    dead = HttpAgentService("http://127.0.0.1:9/x", timeout=2).call({"method": "conversations.create"})
    assert dead["error"]["kind"] == "unavailable"
