"""The kit tests itself: it must fail every miniature on its requirement, and pass the reference.

A miniature is the reference with one realistic bug (tests/miniatures/).  For each,
the whole suite runs against it, and the run must fail the requirement the
miniature breaks, and nothing else except what the miniature declares in
``also_fails`` (a bug often shows through the model-based state machine too).
The same miniature behind ``conformance.serve`` must fail the same requirements
with the same failure kinds: a transport never changes a verdict.
"""

from __future__ import annotations

import pytest

from conformance._loading import load
from conformance._requirements import index
from tests import _replay as replay
from tests._replay import judge
from tests.conftest import assert_passes_every_claimed_requirement, failures, served
from tests.miniatures import all_miniatures

MINIATURES = all_miniatures()
#: The in-memory and SQLite references pass too, both ways: tests/test_protocol_parity.py runs them
#: in process and over the protocol with one seed, and checks each run as this file checks these.
REFERENCES = ["reference_impl:postgres"]
#: What needs a PostgreSQL server to run (the ``postgres`` fixture starts one or fails, never skips).
POSTGRES_REFERENCES = {"reference_impl:postgres"}


def test_every_requirement_has_a_miniature():
    covered = {m.requirement for m in MINIATURES}
    missing = sorted(set(index()) - covered)
    assert not missing, f"requirements with no miniature to prove the kit can fail them: {missing}"


def test_every_miniature_claims_only_its_own_area():
    """What lets the miniature runs select their area: the rest would be skipped, not claimed."""
    for mini in MINIATURES:
        impl = load(mini.target)[0]
        areas = {claim.partition(".")[0].upper() for claim in impl.claims}
        assert areas == {mini.requirement.partition("-")[0]}, f"{mini.target} claims {sorted(impl.claims)}"


def test_every_miniature_names_a_known_requirement_and_documents_its_bug():
    for mini in MINIATURES:
        assert mini.requirement in index(), f"{mini.target} breaks unknown requirement {mini.requirement}"
        assert unknown_ids(mini.also_fails) == set(), f"{mini.target} also_fails unknown ids"
        assert len(mini.doc.split()) >= 5, f"{mini.target} needs a docstring saying how it misbehaves"


def unknown_ids(ids):
    return set(ids) - set(index())


#: One seed for every miniature run, so that "what else fails" is a fact the declarations can state
#: exactly (with the Hypothesis release the test group pins); a requirement that a model search finds
#: on some seeds or releases only is declared in ``may_fail``.
SEED = "20261127"


def _by_area(mini):
    """One xdist group per area, the area's variants' too (``nox -s tests`` runs ``--dist loadgroup``): one base."""
    area = mini.requirement.partition("-")[0]
    name = f"{mini.requirement}-{mini.target.rsplit(':', 1)[1]}"
    return pytest.param(mini, id=name, marks=pytest.mark.xdist_group(f"replay-{area}"))


@pytest.mark.parametrize("mini", [_by_area(m) for m in MINIATURES])
def test_kit_fails_the_miniature_on_its_requirement(run_kit, on_path, mini, request):
    if getattr(load(mini.target)[0], "needs_postgres", False):
        request.getfixturevalue("postgres")
    # A miniature claims only its own area, so the other areas' tests would all be skipped as not
    # claimed; selecting the area runs exactly the same tests without collecting the rest.  Of
    # those, the tests whose calls the miniature answers as the reference did are the reference's
    # own run, outcome included; the rest run for real (tests/_replay.py, adr/0011).
    area = mini.requirement.partition("-")[0]
    judged = judge(run_kit, mini.target, (f"--requirement={area}",), SEED)
    run = judged.run
    rerun = f"rerun: python -m pytest --impl={mini.target} --hypothesis-seed={SEED} --requirement={area}"
    failed = run.having("failed") | run.having("not-testable")
    assert mini.requirement in failed, (
        f"the kit did not catch {mini.target}: {mini.doc}\n{mini.requirement} was "
        f"{run.outcomes.get(mini.requirement, 'passed (every test answered as the reference)')}\n{rerun}"
    )
    expected = {mini.requirement} | mini.also_fails
    unexpected = failed - expected - mini.may_fail
    assert not unexpected, (
        f"{mini.target} should break only {sorted(expected)}, but these failed too: {sorted(unexpected)} "
        f"(got {sorted(failed)}, running {judged.scope})\n{rerun}"
    )
    stale = mini.also_fails - failed
    assert not stale, (
        f"{mini.target} declares also_fails {sorted(stale)}, which passed: remove them (or may_fail) "
        f"(expected {sorted(expected)}, got {sorted(failed)})\n{rerun}"
    )
    crashes = [t["message"] for t in run.requirement(mini.requirement)["tests"] if t.get("failure_kind") == "kit-error"]
    assert not crashes, f"the kit itself erred on {mini.target}: {crashes[0]}\n{rerun}"

    # Over the protocol, the same tests fail the same way.  The others sent the reference's
    # requests and got its answers, whose protocol parity tests/test_protocol_parity.py proves.
    in_process = failures(run)
    over_protocol = failures(run_kit(served(mini.target), *judged.args))
    assert over_protocol == in_process, (
        f"{mini.target}: in process {in_process}, over conformance.serve {over_protocol}\n{rerun}"
    )


@pytest.mark.heavy
@pytest.mark.parametrize("target", REFERENCES)
def test_reference_passes_every_claimed_requirement(run_kit, on_path, target, request):
    if target in POSTGRES_REFERENCES:
        request.getfixturevalue("postgres")
    assert_passes_every_claimed_requirement(run_kit(target))


# -- the replay that lets a miniature run only the tests it can change (tests/_replay.py) ------------


def test_a_replay_diverges_exactly_where_the_answers_differ(run_kit):
    base = replay.base_run(run_kit, frozenset({"hist"}), ("--requirement=HIST-002",), SEED)
    assert base.outcomes, "the base run ran no test"
    assert all(t.replayable for t in base.transcripts.values()), "the reference's own transcripts must replay"
    reference = replay.load_target(replay._reference_claiming(frozenset({"hist"})))
    assert base.diverging(reference) == [], "the reference answers as it did"
    limit_oldest = replay.load_target("tests.miniatures.hist:limit_oldest")
    diverging = base.diverging(limit_oldest)
    assert diverging, "a miniature breaking HIST-002 must diverge on HIST-002's tests"
    assert set(diverging) <= set(base.outcomes)


def test_a_persistent_miniature_is_replayed_against_the_sqlite_reference(run_kit):
    """What claims persistence is recorded on the SQLite reference, whose answers there are right."""
    claims = frozenset({"hist", "hist.persistent"})
    target = replay._reference_claiming(claims)
    reference = replay.load_target(target)
    assert reference.backend == "sqlite", target
    base = replay.base_run(run_kit, claims, ("--requirement=HIST-021",), SEED)
    assert base.outcomes, "the base run ran no test"
    assert base.diverging(reference) == [], "the reference answers as it did"
    forgets = replay.load_target("tests.miniatures.hist:forgets_on_restart")
    assert base.diverging(forgets), "a store that forgets on restart must diverge on HIST-021's tests"


def test_a_test_skipped_as_not_claimed_is_not_run_again(run_kit):
    """The kit skips it at collection from the claims alone, which the base shares with what it judges."""
    base = replay.base_run(run_kit, frozenset({"hist"}), ("--requirement=HIST-002,HIST-021",), SEED)
    skipped = {nodeid for nodeid, outcome in base.outcomes.items() if outcome == "skipped"}
    assert skipped, "HIST-021 (hist.persistent) is not claimed"
    assert base.unclaimed == skipped
    reference = replay.load_target(replay._reference_claiming(frozenset({"hist"})))
    assert base.diverging(reference) == []
    # Skipped for any other reason (or after calling the implementation), it runs again.
    recorder = replay.Recorder(SEED)
    for nodeid, reason, events in (
        ("a", "Skipped: not claimed: x", []),
        ("b", "Skipped: later", []),
        ("c", "Skipped: not claimed: x", [("new",)]),
    ):
        recorder._current = recorder.transcripts[nodeid] = replay.Transcript(events=events)
        report = pytest.TestReport(nodeid, ("f", 1, nodeid), {}, "skipped", ("f", 1, reason), "setup", [])
        recorder.pytest_runtest_logreport(report)
    assert recorder.unclaimed == {"a"}


def test_the_claims_of_other_areas_change_nothing_a_base_records(run_kit):
    """A variant claims every area, a miniature one: judged on one area, they share its base (replay.within)."""
    from reference_impl import implementation

    everything = frozenset(implementation.claims)
    selection = ("--requirement=HIST-002,HIST-021",)
    area = replay.within(everything, selection)
    assert area == {c for c in everything if c.startswith("hist")}, area
    assert replay.within(everything, ("--requirement=HIST", "-k", "limit")) == everything, "only whole areas or ids"
    alone = replay.base_run(run_kit, area, selection, SEED)
    among = replay.base_run(run_kit, everything, selection, SEED)
    assert alone is not among, "recorded twice, once claiming the area only"
    assert alone.outcomes == among.outcomes
    assert {k: t.events for k, t in alone.transcripts.items()} == {k: t.events for k, t in among.transcripts.items()}


def test_a_test_that_changed_what_it_exchanged_is_run_for_real():
    transcript = replay.Transcript()
    got = [{"role": "user"}]
    transcript.note(got)
    assert transcript.untouched()
    got[0]["role"] = "assistant"  # an aliasing implementation would see this; a replay would not
    assert not transcript.untouched()


def test_a_replay_copies_what_it_sends_as_deepcopy_would():
    """Payloads are copied fresh for every replay: equal, unshared with the recording, shared where they shared."""
    import copy
    import math

    shared = [1, 2.0, True]
    odd = {3, 4}  # not JSON: the general copy
    payload = ("hist.add_items", {"items": [{"a": shared}, {"b": shared}], "n": None, "odd": odd, "t": (shared,)})
    unpicklable = ("x", {"f": lambda: 1, "items": [shared, shared]})  # kept by the general copy instead
    exact = ("y", {"nan": math.nan, "neg": -0.0, "big": 2**80, "s": "\ud800", "f": 0.1 + 0.2})
    for value in (payload, unpicklable, exact):
        kept = replay._freeze(value)
        value[1]["later"] = "changed"  # what the test does afterwards reaches no recording
        for got in (replay._copy(value), replay._thaw(kept), replay._thaw(kept)):
            got[1].pop("later", None)
            args = got[1]
            if value is exact:
                assert [repr(args[k]) for k in ("nan", "neg", "big", "s", "f")] == [
                    "nan",
                    "-0.0",
                    str(2**80),
                    "'\\ud800'",
                    "0.30000000000000004",
                ]
                continue
            expected = copy.deepcopy(value)
            expected[1].pop("later")
            if value is unpicklable:
                assert args["items"][0] is args["items"][1] and args["items"][0] == shared
                continue
            assert got == expected
            assert [type(v) for v in args["items"][0]["a"]] == [int, float, bool]
            assert args["items"][0]["a"] is args["items"][1]["b"] is args["t"][0]  # shared, as in the original
            assert args["items"][0]["a"] is not shared
        value[1].pop("later")
    assert replay._thaw(replay._freeze(payload)) is not replay._thaw(replay._freeze(payload))
    assert replay._freeze(payload) == replay._freeze(copy.deepcopy(payload)), "equal recordings compare equal"


def test_a_storage_directory_is_used_again_only_if_left_as_it_was_made():
    import os

    used = replay._storage()
    (used / "history.db").write_text("x")
    replay._give_back(used)
    assert not used.exists(), "a directory the implementation wrote in is removed"
    left = replay._storage()
    replay._give_back(left)
    assert replay._storage() == left, "an empty directory is used again"
    os.chmod(left, 0o500)  # noqa: PTH101
    replay._give_back(left)
    assert not left.exists(), "a directory whose mode changed is removed"
    gone = replay._storage()
    gone.rmdir()
    replay._give_back(gone)  # removed by the implementation: nothing to keep, no error
    assert gone not in replay._SPARE


def test_pinned_secrets_mint_the_same_ids_for_the_same_test_only():
    import secrets

    with replay.pinned_secrets("a"):
        first = secrets.token_hex(16)
    with replay.pinned_secrets("a"):
        again = secrets.token_hex(16)
    with replay.pinned_secrets("b"):
        other = secrets.token_hex(16)
    assert first == again != other
    assert secrets.token_hex(16) != first  # restored: the real generator again


#: The reference with a session store that has no expiry (it does not claim ``store.ttl``).
NO_TTL_REFERENCES = ["reference_impl:nottl", "reference_impl:memory_nottl"]


@pytest.mark.parametrize("transport", ["in-process", "serve"])
@pytest.mark.parametrize("target", NO_TTL_REFERENCES)
def test_a_store_without_expiry_passes_every_store_requirement_not_about_time(run_kit, on_path, target, transport):
    """ADR 0015: without ``store.ttl`` only the requirements about time are skipped, and the rest pass."""
    run = run_kit(target if transport == "in-process" else served(target), "--requirement=STORE")
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()[-3000:]
    assert run.report["summary"]["verdict"] == "conformant"
    known = index()
    store = {rid for rid in known if rid.startswith("STORE-")}
    timed = {rid for rid in store if known[rid].capability == "store.ttl"}
    assert timed, "no STORE requirement needs store.ttl"
    skipped = {rid for rid in store if run.outcomes.get(rid) == "skipped"}
    assert timed <= skipped
    unclaimed = {rid for rid in store - timed if known[rid].capability not in run.report["implementation"]["claims"]}
    assert skipped == timed | unclaimed, sorted(skipped - timed - unclaimed)
    assert {rid for rid in store if run.outcomes.get(rid) == "passed"} == store - skipped


def test_what_a_test_does_to_the_agent_service_is_in_its_transcript():
    """Looking is free (the service's state is compared after each operation); changes are events."""
    from conformance.agent_service import AgentServiceSim

    transcript = replay.Transcript()
    service = AgentServiceSim()
    watched = replay._Watched(service, transcript, 0)
    assert watched.calls == 0
    assert watched.sent("responses.create") == []
    watched.chaining = True
    watched.expire("resp_1")
    assert transcript.replayable
    assert transcript.events == [("service-set", 0, "chaining", True), ("service", 0, "expire", ("resp_1",))]
    assert service.chaining
    watched.handles = []  # not a switch the replay knows: the test runs for real
    assert not transcript.replayable


class _SaysMore:
    """The reference's agent client, sending the service one more parameter: its answers stay the same."""

    def __init__(self, inner):
        self._inner = inner

    def call(self, request):
        return self._inner.call({**request, "params": {**request["params"], "trace": True}})


def _record_a_run(impl):
    """A transcript of one session and one run against ``impl``, made as the Recorder makes it."""
    from conformance._inprocess import InProcessTransport
    from conformance.agent_service import AgentServiceSim
    from conformance.contract import Environment, ManualClock

    transcript = replay.Transcript()
    service = AgentServiceSim()
    transcript.services[0] = service
    transcript.events.append(("new", 1, 0, 0, True))
    storage = replay._storage()
    transport = InProcessTransport(impl, Environment(storage_dir=storage, clock=ManualClock(), agent_service=service))
    recording = replay._Recording(transport, transcript, 1)
    with replay.pinned_secrets("seed"):
        recording.call("id.create_session", {"session_id": "s"})
        recording.call("id.run", {"session_id": "s", "input": "hi", "steps": 1})
        recording.close()
    replay._give_back(storage)
    return transcript


def test_a_replay_diverges_when_the_agent_service_is_sent_something_else():
    from reference_impl import ReferenceImplementation
    from reference_impl.identity import AgentService

    reference = ReferenceImplementation("memory")
    transcript = _record_a_run(reference)
    assert transcript.events[-1][-1], "the service's state is recorded after each operation"
    assert replay.replays(reference, transcript, "seed"), "the reference sends the service what it sent"

    class Chatty(ReferenceImplementation):
        def open_agent_service(self, env):
            return AgentService(_SaysMore(env.agent_service))

    chatty = Chatty("memory")
    answers = [event[3] for event in _record_a_run(chatty).events[1:]]
    assert answers == [event[3] for event in transcript.events[1:]], "the driver gets the same answers"
    assert not replay.replays(chatty, transcript, "seed"), "what the service received differs: the test runs"


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("tests.miniatures.bcast:fans_out_locally_only", "claims"),  # several replicas: PostgreSQL's only
        ("tests.miniatures.bcast:own_events_first", "PostgreSQL"),
        ("tests.miniatures.hist:limit_oldest", ""),
        # Persistence, a shared backend, several replicas: the SQLite reference claims them (its
        # tests that open a second process run for real, test by test).
        ("tests.miniatures.hist:forgets_on_restart", ""),
        ("tests.miniatures.store:state_cached_per_replica", ""),
    ],
)
def test_what_the_recorded_reference_cannot_stand_for_runs_whole(target, why):
    impl, info = load(target)
    reason = replay.cannot_stand_for(impl, frozenset(info.claims))
    assert (why in reason and reason) if why else reason == "", reason
