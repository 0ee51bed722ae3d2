"""The subprocess transport survives adapters that crash, hang, or break the protocol.

Each fault comes from tests/fake_adapters/misbehave.py, which behaves for its
first few ``hist.get_items`` requests and then misbehaves in one way.  For each
fault the run must finish, name the right failure kind (crashed, wrong-answer or
kit-error), say what happened with the adapter's last stderr lines, and start a
new adapter process for the tests that follow.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import pytest

from conformance._connection import _Tail
from conformance._data import suite_dir
from conformance._protocol import (
    PROTOCOL_VERSION,
    ProtocolViolation,
    decode_line,
    decode_values,
    encode_line,
    encode_values,
)
from conformance._requirements import index
from conformance._values import NonJSON

FAKE = Path(__file__).parent / "fake_adapters" / "misbehave.py"
# Twelve quick tests that read a lot; naming the file spares pytester importing the whole suite.
# --requirement names what those tests cover, so that a clean run is conformant (exit status 0).
READS = (
    str(suite_dir() / "test_hist_reads.py"),
    "-k",
    "not invalid and not beyond",
    "--requirement=HIST-001,HIST-002,HIST-003,HIST-006,HIST-007,HIST-008",
)


def fake(mode: str) -> str:
    return "exec:" + shlex.join([sys.executable, str(FAKE), mode])


def failures(run) -> list[dict]:
    return [t for r in run.report["requirements"] for t in r["tests"] if t["outcome"] in ("failed", "not-testable")]


def starts(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture
def start_log(tmp_path, monkeypatch) -> Path:
    log = tmp_path / "starts.log"
    monkeypatch.setenv("FAKE_ADAPTER_LOG", str(log))
    return log


def test_a_well_behaved_fake_passes_every_read_test(run_kit, start_log):
    run = run_kit(fake("well"), *READS)
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()[-2000:]
    assert failures(run) == []
    assert starts(start_log) == 1


# (mode, the words the failure message must contain)
CRASHES = [
    (
        "crash",
        ["the adapter exited with status 3 while request", "(hist.get_items)", "fatal: simulated crash in get_items"],
    ),
    ("garbage", ["is not JSON", "<html>this is not json</html>", "write logs to stderr"]),
    ("partial", ["partial line on stdout", '"resu']),
    ("wrong-id", ["reply to id", "which no request waiting for a reply has"]),
    ("nan", ["NaN is not JSON"]),
]


@pytest.mark.parametrize(("mode", "words"), CRASHES, ids=[c[0] for c in CRASHES])
def test_a_broken_adapter_is_reported_as_crashed_and_restarted(run_kit, start_log, mode, words):
    run = run_kit(fake(mode), *READS)
    assert run.report, f"the run left no report:\n{run.result.stdout.str()[-2000:]}"
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    failed = failures(run)
    assert failed, "the fault went unnoticed"
    assert {t["failure_kind"] for t in failed} == {"crashed"}
    for word in words:
        assert word in failed[0]["message"], f"{word!r} missing from: {failed[0]['message']}"
    assert run.having("passed"), "nothing passed: the adapter was not restarted after the fault"
    assert starts(start_log) >= 2


def test_a_repeated_member_name_in_a_reply_is_a_protocol_error_under_the_debug_flag(run_kit, start_log):
    """RFC 8259 leaves its meaning open (spec/adapter-protocol.md § Awkward values): the debug flag says so."""
    run = run_kit(fake("duplicate-names"), *READS, "--conformance-debug-protocol")
    failed = failures(run)
    assert failed, "the repeated name went unnoticed"
    assert {t["failure_kind"] for t in failed} == {"crashed"}
    assert "two members named 'role'" in failed[0]["message"], failed[0]["message"]
    assert run.having("passed"), "nothing passed: the adapter was not restarted after the fault"


def test_a_hung_adapter_times_out_and_is_replaced(run_kit, start_log):
    began = time.monotonic()
    run = run_kit(fake("hang"), *READS, "--conformance-timeout=0.5")
    assert time.monotonic() - began < 30
    failed = failures(run)
    assert failed
    assert {t["failure_kind"] for t in failed} == {"crashed"}
    assert "did not answer request" in failed[0]["message"]
    assert "within 0.5 s (--conformance-timeout)" in failed[0]["message"]
    assert run.having("passed")
    assert starts(start_log) >= 2


def test_a_flood_on_stderr_does_not_stall_the_run(run_kit):
    began = time.monotonic()
    run = run_kit(fake("flood"), *READS, "--conformance-timeout=5")
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()[-2000:]
    assert failures(run) == []
    assert time.monotonic() - began < 30


def test_a_wrong_result_is_a_wrong_answer_not_a_crash(run_kit):
    run = run_kit(fake("wrong-answer"), *READS)
    failed = failures(run)
    assert failed
    assert {t["failure_kind"] for t in failed} == {"wrong-answer"}


def test_an_adapter_refusing_a_valid_request_is_reported_as_a_kit_error_with_a_hint(run_kit):
    run = run_kit(fake("bad-request"), *READS)
    failed = failures(run)
    assert failed
    assert {t["failure_kind"] for t in failed} == {"kit-error"}
    assert "the adapter says the kit sent a malformed request: I do not understand 'limit'" in failed[0]["message"]


@pytest.mark.parametrize("mode", ["protocol-1.0", "protocol-1.0-mutates"])
def test_an_adapter_without_kit_mutate_leaves_copying_not_testable_and_nothing_else(run_kit, mode):
    """Protocol 1.0 adapters cannot show aliasing; HIST-028 says so instead of passing unjudged.

    ``protocol-1.0-mutates`` would answer ``kit.mutate``: HIST-028 stays not-testable only because
    the kit never sends a 1.1 operation to an adapter that said 1.0.
    """
    run = run_kit(fake(mode), "--requirement=HIST")
    not_passed = {
        r["id"]: r["outcome"]
        for r in run.report["requirements"]
        if r["outcome"] not in ("passed", "not-tested", "skipped")
    }
    assert not_passed == {"HIST-028": "not-testable"}, not_passed
    messages = " ".join(t.get("message", "") for t in run.requirement("HIST-028")["tests"])
    assert "kit.mutate is needed to see whether the implementation shares values with its caller" in messages


def test_an_id_adapter_of_protocol_1_2_leaves_id_not_testable_and_is_sent_no_id_operation(run_kit):
    """The ID area needs the kit's agent service, whose address only protocol 1.3 carries (ADR 0016).

    The fake would answer any ``id.*`` operation ``bad_request`` (it has no ID factory), which the
    kit would report as a kit error: every ID outcome being not-testable shows none was sent.
    """
    run = run_kit(fake("id-at-1.2"), "--requirement=ID")
    outcomes = {r["id"]: r["outcome"] for r in run.report["requirements"] if r["id"].startswith("ID-")}
    assert outcomes, "no ID requirement was selected"
    claimed = {rid for rid in outcomes if index()[rid].capability == "id"}
    assert {outcomes[rid] for rid in claimed} == {"not-testable"}, outcomes
    assert {outcomes[rid] for rid in set(outcomes) - claimed} == {"skipped"}, outcomes
    messages = {t.get("message", "") for rid in outcomes for t in run.requirement(rid)["tests"]}
    assert any("the adapter speaks protocol 1.2; the id area needs 1.3" in m for m in messages), messages
    kinds = {t.get("failure_kind") for rid in outcomes for t in run.requirement(rid)["tests"]}
    assert "kit-error" not in kinds and "crashed" not in kinds, kinds


@pytest.mark.parametrize("mode", ["later-minor", "empty-messages"])
def test_members_of_a_later_minor_and_empty_messages_change_no_outcome(run_kit, mode):
    """Unknown reply members are ignored, and an empty error message is an answer, as in process."""
    run = run_kit(fake(mode), "--requirement=HIST")
    outcomes = {r["outcome"] for r in run.report["requirements"] if r["id"].startswith("HIST-")}
    assert outcomes <= {"passed", "skipped"}, failures(run)
    assert run.result.ret == 0


HANDSHAKES = [
    ("old-protocol", f"it speaks adapter protocol 2.0, this kit speaks {PROTOCOL_VERSION}"),
    ("bad-hello", "'claims' is a required property"),
    ("unknown-claim", "claims 'hist.teleport', which this kit does not know"),
    ("banner", "'misbehaving adapter ready!' (stdout carries protocol messages only; write logs to stderr)"),
]


@pytest.mark.parametrize(("mode", "words"), HANDSHAKES, ids=[h[0] for h in HANDSHAKES])
def test_a_failed_handshake_stops_the_run_with_the_reason(pytester, mode, words):
    result = pytester.runpytest_inprocess(f"--impl={fake(mode)}", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert words in result.stderr.str()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("exec:", 'names no command; give exec:COMMAND, e.g. --impl="exec:node examples/node-adapter/adapter.mjs"'),
        ("exec:node 'unbalanced", "cannot split the command (No closing quotation)"),
        ("exec:no-such-program-anywhere --x", "cannot start 'no-such-program-anywhere'"),
        ("node examples/node-adapter/adapter.mjs", '--impl="exec:node examples/node-adapter/adapter.mjs"'),
        ("adapter.mjs", '--impl="exec:adapter.mjs"'),
    ],
)
def test_a_bad_exec_value_is_a_usage_error_showing_the_form(pytester, value, words):
    result = pytester.runpytest_inprocess(f"--impl={value}", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert words in result.stderr.str()


def test_the_debug_flag_validates_every_message_and_the_header_says_so(run_kit):
    run = run_kit(fake("well"), *READS, "--conformance-debug-protocol", "-v")
    assert run.result.ret == pytest.ExitCode.OK
    run.result.stdout.fnmatch_lines(["conformance: adapter protocol over a subprocess: *, validating every message"])


def test_non_json_values_travel_as_stand_ins_and_come_back():
    args = {"items": [{"a": NonJSON("nan"), "b": [NonJSON("bytes")]}], "limit": 2}
    wire = encode_values(args)
    assert wire == {"items": [{"a": {"$nonjson": "nan"}, "b": [{"$nonjson": "bytes"}]}], "limit": 2}
    assert decode_values(wire) == args


def test_data_that_looks_like_a_stand_in_is_escaped_and_stays_data():
    data = {"state": [{"$nonjson": "nan"}, {"$literal": {"x": 1}}, {"$nonjson": "nan", "other": 1}]}
    wire = encode_values(data)
    assert wire["state"][0] == {"$literal": {"$nonjson": "nan"}}
    assert wire["state"][1] == {"$literal": {"$literal": {"x": 1}}}
    assert wire["state"][2] == {"$nonjson": "nan", "other": 1}
    assert decode_values(wire) == data


def test_lines_keep_lone_surrogates_and_big_integers_and_refuse_nan():
    message = {"id": 1, "result": ["\ud800", 2**70, 0.1]}
    assert decode_line(encode_line(message)) == message
    with pytest.raises(ProtocolViolation, match="NaN is not JSON"):
        decode_line(b'{"id": 1, "result": NaN}\n')
    with pytest.raises(ProtocolViolation, match="not UTF-8"):
        decode_line(b'{"id": 1, "result": "\xff"}\n')
    with pytest.raises(ValueError):
        encode_line({"x": float("nan")})


def test_the_stderr_tail_keeps_the_last_lines_and_counts_the_rest():
    tail = _Tail()
    for n in range(100_000):
        tail.add(f"line {n}\n".encode())
    text = tail.text()
    assert "line 99999" in text
    assert "line 0\n" not in text
    assert f"of {sum(len(f'line {n}') + 1 for n in range(100_000))} bytes" in text


def test_the_first_call_into_an_area_of_an_adapter_process_may_take_the_startup_budget(tmp_path):
    """Over the protocol as in process (contract.md § Timeouts and faults): per area, per process."""
    from conformance._subprocess import AdapterProcess
    from conformance.errors import ImplementationFault
    from tests.fake_adapters.misbehave import SLOW_OPEN

    timeout = SLOW_OPEN / 2
    adapter = AdapterProcess(fake("slow-open"), timeout=timeout, startup_timeout=6 * SLOW_OPEN)
    try:
        first = adapter.transport(tmp_path / "a")
        handle = first.call("hist.open", {"session_id": "a"})  # cold: within the start-up budget
        assert first.call("hist.get_items", {"handle": handle}) == []
        first.close()
        second = adapter.transport(tmp_path / "b")
        with pytest.raises(ImplementationFault, match=r"hist\.open"):
            second.call("hist.open", {"session_id": "b"})  # warm: the operation's own timeout applies
        # The hang killed that process; the one started in its place begins its areas afresh.
        third = adapter.transport(tmp_path / "c")
        handle = third.call("hist.open", {"session_id": "c"})
        assert third.call("hist.get_items", {"handle": handle}) == []
        third.close()
    finally:
        adapter.close()
