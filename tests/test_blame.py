"""Blame: every failure names the right requirement, with the right kind, on both transports.

Two families prove it.  Single-deviation variants (tests/variants/: the reference with one real
library's behaviour) must fail exactly the requirements that behaviour violates.  Small fakes built
here raise, return or print what real implementations do, and the failure kind must be the one
spec/README gives it: an error of kind ``internal``, anything derived only from ``BaseException``,
a result JSON cannot carry, and an exception from an operation that has no error answers are
crashes, never wrong answers, in process and over ``conformance.serve`` alike.
"""

from __future__ import annotations

import shlex
import sys

import pytest

from conformance import SPEC_VERSION
from tests._replay import judge
from tests.conftest import ROOT, failures, served
from tests.variants import AGREES, VARIANTS, areas_changed, definitions_beyond_factories, upstream_rows

#: One seed for every variant run, as for miniatures: what a model search finds is then a fact.
SEED = "20261127"


def _by_areas(name: str):
    """The xdist group of the area's miniatures (``nox -s tests`` runs ``--dist loadgroup``): one base for both."""
    group = "replay-" + "-".join(sorted(areas_changed(VARIANTS[name])))
    return pytest.param(name, id=name, marks=pytest.mark.xdist_group(group))


@pytest.mark.parametrize("name", [_by_areas(n) for n in sorted(VARIANTS)])
@pytest.mark.parametrize("transport", ["in-process", "serve"])
def test_a_variant_fails_exactly_what_its_behaviour_violates(run_kit, on_path, name, transport):
    variant = VARIANTS[name]
    target = f"tests.variants:{name}"
    areas = f"--requirement={','.join(sorted(areas_changed(variant)))}"
    # The tests whose calls the variant answers as the reference did are the reference's own run;
    # the rest run for real, in process or over conformance.serve (tests/_replay.py, adr/0011).
    judged = judge(run_kit, target, (areas,), SEED, via=served(target) if transport == "serve" else "")
    run = judged.run
    got = failures(run)
    summary = type(variant).__doc__.splitlines()[0]
    rerun = f"rerun: python -m pytest --impl={target} --hypothesis-seed={SEED} {areas}"
    expected = f"expected {sorted(variant.fails)}, got {sorted(got)} ({transport}, running {judged.scope})"
    missed = variant.fails - set(got)
    assert not missed, (
        f"{name} ({summary}) should fail {sorted(variant.fails)}; these passed: {sorted(missed)}; {expected}\n{rerun}"
    )
    beyond = set(got) - variant.fails - variant.may_fail
    messages = "".join(f"\n  {rid}: {message_of(run, rid)}" for rid in sorted(beyond))
    assert not beyond, (
        f"{name} ({summary}) failed {sorted(beyond)} beyond its declared {sorted(variant.fails)}{messages}"
        f"\n{expected}\n{rerun}"
    )
    wrong_kinds = {rid: kinds for rid, kinds in got.items() if kinds != [variant.kind]}
    assert not wrong_kinds, f"{name}: every failure should be {variant.kind}, got {wrong_kinds}\n{rerun}"


def message_of(run, rid: str) -> str:
    messages = [t.get("message", "") for t in run.requirement(rid)["tests"] if t["outcome"] == "failed"]
    return (messages[0] if messages else "")[:600]


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_variant_changes_only_factories_so_its_other_areas_are_the_reference(name):
    variant = VARIANTS[name]
    assert definitions_beyond_factories(variant) == set()
    assert areas_changed(variant), f"{name} replaces no factory: it is the reference"
    assert {rid.partition("-")[0] for rid in variant.fails | variant.may_fail} <= areas_changed(variant)
    assert variant.source.startswith("https://"), f"{name} cites no public source"
    assert variant.rows, f"{name} names no row of an upstream table"


def test_every_upstream_difference_is_a_variant_or_agrees():
    """Each row of the spec's "Differences from upstream" tables is the behaviour of a variant, or no upstream differs."""
    rows = upstream_rows()
    covered = {row for variant in VARIANTS.values() for row in variant.rows}
    assert covered <= set(rows), f"variants name rows the spec does not have: {sorted(covered - set(rows))}"
    assert set(AGREES) <= set(rows), f"AGREES names rows the spec does not have: {sorted(set(AGREES) - set(rows))}"
    assert not covered & set(AGREES), f"rows both agreeing and swapped in: {sorted(covered & set(AGREES))}"
    missing = sorted(set(rows) - covered - set(AGREES))
    assert not missing, "rows with no variant and no reason why none differs:\n  " + "\n  ".join(missing)


FAKES = f"""
import datetime
from reference_impl import ReferenceImplementation
from reference_impl.history import HistorySession, MemoryHistory
from reference_impl.lifecycle import LifecycleProbe


class Interrupt(BaseException):
    pass


class _Session(HistorySession):
    mode = ""

    def get_items(self, limit=None):
        if self.mode == "internal-on-invalid" and limit is not None and not (type(limit) is int and limit >= 0):
            raise RuntimeError("unexpected limit")  # maps to internal: a crash, not an invalid_argument
        if self.mode == "base-exception" and limit == 1:
            raise Interrupt("stop")
        if self.mode == "set-result" and limit == 1:
            return {{1, 2}}
        if self.mode == "datetime-result" and limit == 1:
            return [{{"at": datetime.datetime(2026, 1, 1)}}]
        if self.mode == "prints":
            print("debug: reading", limit)
        return super().get_items(limit)

    def add_items(self, items):
        if self.mode == "add-crashes":
            raise RuntimeError("connection pool exhausted")  # internal: a crash, also among concurrent calls
        return super().add_items(items)

    def close(self):
        if self.mode == "close-ignored":
            return None  # SQLAlchemySession has no close(): the handle stays usable (HIST-023's failure)
        return super().close()


def _store(mode):
    session = type("S", (_Session,), {{"mode": mode}})
    return type("H", (MemoryHistory,), {{"session_class": session}})


class _FragileProbe(LifecycleProbe):
    def deliver(self, message):
        if isinstance(message, dict) and message.get("params", {{}}).get("sessionId") == "a":
            raise KeyError("sessionId")  # a stray lookup error: no error answer exists for deliver
        return super().deliver(message)


class Fake(ReferenceImplementation):
    def __init__(self, mode):
        super().__init__("memory")
        self.name, self.spec_version, self.mode = f"fake {{mode}}", "{SPEC_VERSION}", mode

    def open_history(self, env):
        return _store(self.mode).open(env)

    def open_lifecycle_client(self, env):
        return _FragileProbe() if self.mode == "fragile-deliver" else super().open_lifecycle_client(env)


internal_on_invalid = Fake("internal-on-invalid")
base_exception = Fake("base-exception")
set_result = Fake("set-result")
datetime_result = Fake("datetime-result")
prints = Fake("prints")
fragile_deliver = Fake("fragile-deliver")
add_crashes = Fake("add-crashes")
close_ignored = Fake("close-ignored")
"""


@pytest.fixture
def fakes(pytester):
    pytester.makepyfile(blamefakes=FAKES)
    pytester.syspathinsert()
    return "blamefakes"


CRASHES = {
    # fake: (the requirement its crash shows in, words of the failure message)
    "internal_on_invalid": ("HIST-005", "unexpected limit"),
    "base_exception": ("HIST-002", "derives only from BaseException"),
    "set_result": ("HIST-002", "not JSON"),
    "datetime_result": ("HIST-002", "not JSON"),
    "fragile_deliver": ("LIFE-003", "KeyError"),
    "add_crashes": ("HIST-009", "connection pool exhausted"),
}


@pytest.mark.parametrize("transport", ["in-process", "serve"])
@pytest.mark.parametrize(
    "fake",
    # With the area's miniatures and variants (--dist loadgroup): the same base.
    [pytest.param(f, marks=pytest.mark.xdist_group(f"replay-{CRASHES[f][0].split('-')[0]}")) for f in sorted(CRASHES)],
)
def test_what_is_not_an_answer_is_a_crash_on_both_transports(run_kit, fakes, on_path, fake, transport):
    rid, words = CRASHES[fake]
    target = f"{fakes}:{fake}"
    area = rid.split("-")[0]
    # Only the tests whose calls the fake answers otherwise than the reference run (tests/_replay.py).
    judged = judge(
        run_kit, target, (f"--requirement={area}",), SEED, via=served(target) if transport == "serve" else ""
    )
    run = judged.run
    got = failures(run)
    assert rid in got, f"{fake} over {transport}: {rid} was {run.requirement(rid)['outcome']}"
    assert got[rid] == ["crashed"], f"{fake} over {transport}: {rid} failed as {got[rid]}"
    messages = " ".join(t.get("message", "") for t in run.requirement(rid)["tests"])
    assert words in messages, messages[:2000]
    assert "wrong-answer" not in {k for kinds in got.values() for k in kinds}, got


def test_an_implementation_that_prints_does_not_break_the_protocol(run_kit, fakes, on_path):
    run = run_kit(served(f"{fakes}:prints"), "--requirement=HIST")
    assert failures(run) == {}, run.result.stdout.str()[-3000:]
    assert run.result.ret == 0


def test_an_adapter_killed_inside_a_model_test_is_a_crash(run_kit):
    fake = ROOT / "tests" / "fake_adapters" / "misbehave.py"
    run = run_kit("exec:" + shlex.join([sys.executable, str(fake), "crash"]), "--requirement=HIST-027")
    assert failures(run) == {"HIST-027": ["crashed"]}, failures(run)
    assert "FlakyStrategyDefinition" not in run.requirement("HIST-027")["tests"][0].get("message", "")


def test_a_batch_the_store_accepts_leaves_hist_010_not_judged(run_kit):
    """HIST-010 judges only batches that fail; accepting a non-JSON value is HIST-012's failure alone."""
    run = run_kit("tests.variants:non_json_stringified", "--requirement=HIST-010,HIST-012")
    assert set(failures(run)) == {"HIST-012"}
    row = run.requirement("HIST-010")
    not_judged = [t for t in row["tests"] if t["outcome"] == "not-tested"]
    assert not_judged, row
    assert all(t["message"].startswith("not judged: relies on HIST-012/HIST-013") for t in not_judged)
    assert row["outcome"] == "passed"  # the batches it did reject were judged, and stored nothing


def test_a_close_that_does_not_close_fails_hist_023_and_leaves_hist_024_not_judged(run_kit, fakes):
    """openai-agents' SQLAlchemySession has no close(): HIST-023 fails; the second close changes nothing."""
    run = run_kit(f"{fakes}:close_ignored", "--requirement=HIST-023,HIST-024")
    assert set(failures(run)) == {"HIST-023"}, failures(run)
    tests = run.requirement("HIST-024")["tests"]
    assert [t["outcome"] for t in tests] == ["not-tested"], tests
    assert tests[0]["message"].startswith("not judged: relies on HIST-023: get_items() succeeded after close()")
