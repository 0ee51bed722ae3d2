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
