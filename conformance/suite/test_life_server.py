"""LIFE, checked the other way: what a server emits (capability ``life.server``, spec/lifecycle.md)."""

from __future__ import annotations

import pytest

from conformance.suite._life_peer import MINTED, ScriptedClient, check_event_stream, minted_bits

requirement = pytest.mark.requirement


def scenario(server: ScriptedClient) -> list[str]:
    """A life of three sessions, with refusals; returns the ids created."""
    a = server.created_id(server.request("session.create", "proposed-a"))
    b = server.created_id(server.request("session.create"))
    c = server.created_id(server.request("session.create"))
    for sid in (a, b):
        for kind in ("session.updated", "session.foreground", "session.background"):
            server.touch(sid, kind)
    server.request("session.resume", a)
    server.request("session.resume", "never-created")
    server.request("session.delete", b)
    server.request("session.delete", b)
    server.request("session.resume", b)
    server.touch(b, "session.updated")
    server.request("session.create", a)
    server.request("session.create", b)
    server.request("session.delete", "never-created")
    server.touch(c, "session.updated")
    return [a, b, c]


@requirement("LIFE-021")
def test_every_message_the_server_sends_matches_the_schemas(server):
    scenario(server)
    problems = [p for p in check_event_stream(server.stream) if "(notification)" in p or "(reply)" in p]
    assert not problems, "the server sent messages that break schemas/life/:\n  " + "\n  ".join(problems)
    kinds = {m["params"]["type"] for m in server.stream if "method" in m}
    assert {"session.created", "session.deleted", "session.updated"} <= kinds, f"the scenario saw only {sorted(kinds)}"


@requirement("LIFE-022")
def test_per_session_created_comes_first_and_nothing_follows_deleted(server):
    created = scenario(server)
    problems = [p for p in check_event_stream(server.stream) if "(notification)" not in p and "(reply)" not in p]
    assert not problems, "the server's event stream breaks the ordering rules:\n  " + "\n  ".join(problems)
    for sid in created:
        firsts = [m for m in server.stream if "method" in m and m["params"]["sessionId"] == sid]
        assert firsts, f"the server emitted no event for session {sid!r}, which it created"
        assert firsts[0]["params"]["type"] == "session.created", f"the first event of {sid!r} is {firsts[0]['params']}"


@requirement("LIFE-023")
@pytest.mark.parametrize("proposed", ["p-1", "Sitzung ü 7", "x" * 64])
def test_a_proposed_id_is_used_as_it_is_or_refused(server, proposed):
    sent = server.request("session.create", proposed)
    reply = next(m for m in sent if "id" in m)
    if "error" in reply:
        assert not [m for m in sent if "method" in m], f"a refused create emitted events: {sent}"
        return
    assert reply["result"].get("sessionId") == proposed, f"create proposing {proposed!r} was answered with {reply}"
    events = [m["params"] for m in sent if "method" in m]
    for params in events:
        assert params["sessionId"] == proposed, f"an event for create({proposed!r}) names {params['sessionId']!r}"
        assert params.get("clientSessionId", proposed) == proposed, (
            f"clientSessionId differs from the proposal: {params}"
        )


@requirement("LIFE-033")
def test_server_assigned_ids_are_minted(server):
    ids = [server.created_id(server.request("session.create")) for _ in range(64)]
    for sid in ids:
        assert MINTED.fullmatch(sid), f"the server assigned {sid!r}: not 22 to 128 characters of A-Z a-z 0-9 _ -"
    assert len(set(ids)) == len(ids), f"the server assigned one id twice among {len(ids)} creates"
    bits = minted_bits(ids)
    assert bits >= 122, f"ids like {ids[0]!r} vary in positions that can carry {bits:.0f} random bits, not 122"


@requirement("LIFE-021")
def test_each_reply_has_the_result_of_its_method(server):
    # schemas/life/reply.schema.json: create and resume name the session, delete returns an empty object.
    a = server.created_id(server.request("session.create"))
    steps = [("session.resume", a), ("session.create", "proposed-b"), ("session.resume", "proposed-b")]
    steps += [("session.delete", "proposed-b"), ("session.delete", a)]
    for method, sid in steps:
        reply = next(m for m in server.request(method, sid) if "id" in m and "method" not in m)
        if "result" not in reply:
            continue  # a refusal: its shape is the error's, checked by the other LIFE-021 test
        result = reply["result"]
        if method == "session.delete":
            assert result == {}, f"the result of {method} {sid!r} is {result!r}, not the empty object"
        else:
            assert isinstance(result, dict) and isinstance(result.get("sessionId"), str) and result["sessionId"], (
                f"the result of {method} {sid!r} names no session: {result!r}"
            )


#: Requests a server cannot serve (LIFE-038), each sent with the id 7.
UNSERVABLE = {
    "params a string": ("session.create", "x"),
    "params an array": ("session.create", [1]),
    "an empty sessionId (create)": ("session.create", {"sessionId": ""}),
    "a numeric sessionId (create)": ("session.create", {"sessionId": 42}),
    "an array as sessionId (resume)": ("session.resume", {"sessionId": ["a"]}),
    "an empty sessionId (delete)": ("session.delete", {"sessionId": ""}),
    "an unknown method": ("session.rename", {"sessionId": "a"}),
}


@requirement("LIFE-038")
@pytest.mark.parametrize("label", list(UNSERVABLE))
def test_a_request_the_server_cannot_serve_gets_one_error_reply_and_no_event(server, label):
    server.created_id(server.request("session.create", "a"))  # a live session, so that only the fault refuses
    method, params = UNSERVABLE[label]
    sent = server.life.server_handle({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
    assert isinstance(sent, list), f"the server answered a request with {label} with {sent!r}, not a list of messages"
    replies = [m for m in sent if isinstance(m, dict) and "method" not in m]
    events = [m for m in sent if isinstance(m, dict) and "method" in m]
    assert len(replies) == 1, f"a request with {label} got {len(replies)} replies, not one: {sent}"
    assert replies[0].get("id") == 7 and "error" in replies[0] and "result" not in replies[0], (
        f"a request with {label} was not answered with an error reply carrying its id: {replies[0]}"
    )
    assert not events, f"a request with {label} made the server send events: {events}"
