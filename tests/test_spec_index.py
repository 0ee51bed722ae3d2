"""The spec checker: the repository agrees with itself, and each kind of drift is caught."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conformance import SPEC_VERSION
from conformance._requirements import index
from conformance.tools.check_spec import check_repository, main

ROOT = Path(__file__).resolve().parents[1]


def test_repository_spec_index_suite_and_adrs_agree():
    assert check_repository(ROOT) == []


def test_id_ranges_join_consecutive_numbers_only():
    from conformance.tools.check_spec import id_ranges

    assert id_ranges(["A-001", "A-002", "A-003", "A-005", "A-007", "A-008"]) == "A-001 … A-003, A-005, A-007 … A-008"
    assert id_ranges(["A-010"]) == "A-010"


def test_every_operation_is_named_by_a_requirement_or_is_plumbing(monkeypatch):
    from conformance.tools import check_spec

    assert check_spec.check_operations(ROOT) == []
    monkeypatch.setitem(check_spec.PLUMBING, "hist.no_such_operation", "stale")
    monkeypatch.delitem(check_spec.PLUMBING, "store.open_handle")
    problems = check_spec.check_operations(ROOT)
    assert "PLUMBING lists hist.no_such_operation, which is no operation" in problems
    assert any(p.startswith("store.open_handle: no requirement of store names it") for p in problems)


def test_index_loader_matches_the_yaml_files():
    ids = list(index())
    assert ids == sorted(ids)
    assert {r.area for r in index().values()} >= {"hist"}
    assert all(r.anchor.startswith(f"spec/{r.document}#{r.id.lower()}-") for r in index().values())


GOOD_PROSE = """\
# Toy

### TOY-001: Things are kept

> A stored thing **MUST** be returned unchanged.

*Capability:* `toy`

Rationale: why not.

### TOY-002: Order is nice

> Things **SHOULD** come back in order.

*Capability:* `toy.ordered`

## Model

| operation | model |
|---|---|
| `put(x)` | keep `x` (TOY-001) |
| `all()` | every `x`, in order (TOY-002) |
"""

GOOD_INDEX = """\
area: toy
title: Toy area
document: toy.md
requirements:
  - {id: TOY-001, level: MUST, title: Things are kept, capability: toy,
     statement: "A stored thing **MUST** be returned unchanged."}
  - {id: TOY-002, level: SHOULD, title: Order is nice, capability: toy.ordered,
     statement: "Things **SHOULD** come back in order."}
"""

GOOD_SUITE = """\
import pytest

@pytest.mark.requirement("TOY-001")
def test_kept(): ...

@pytest.mark.requirement("TOY-002")
def test_order(): ...
"""

GOOD_CONTRACT = """\
# Contract

## Claims

| capability | what claiming it means | requirements that need it |
|---|---|---|
| `toy` | the toy area | TOY-001 |
| `toy.ordered` | things come back in order | TOY-002 |

## Next
"""

GOOD_ADR = "# Do things\n\nStatus: accepted\n\n**Confirmation:** tests/test_toy.py\n"


@pytest.fixture
def toy(tmp_path):
    """A minimal repository with one consistent area, for breaking in one place at a time."""
    (tmp_path / "spec" / "requirements").mkdir(parents=True)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "conformance" / "suite").mkdir(parents=True)
    (tmp_path / "adr").mkdir()
    shutil.copy(ROOT / "schemas" / "requirements-index.schema.json", tmp_path / "schemas")
    (tmp_path / "spec" / "README.md").write_text(f"# Spec\n\nSpec version: {SPEC_VERSION}\n")
    (tmp_path / "spec" / "toy.md").write_text(GOOD_PROSE)
    (tmp_path / "spec" / "contract.md").write_text(GOOD_CONTRACT)
    (tmp_path / "spec" / "requirements" / "toy.yaml").write_text(GOOD_INDEX)
    (tmp_path / "conformance" / "suite" / "test_toy.py").write_text(GOOD_SUITE)
    (tmp_path / "adr" / "0001-do-things.md").write_text(GOOD_ADR)
    return tmp_path


def test_consistent_toy_repository_passes(toy):
    assert check_repository(toy) == []


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


BREAKAGES = {
    "title differs": ("spec/toy.md", "### TOY-001: Things are kept", "### TOY-001: Things are stored", "prose title"),
    "statement differs": (
        "spec/requirements/toy.yaml",
        "be returned unchanged.",
        "be returned as stored.",
        "the index statement differs from the prose",
    ),
    "level differs": ("spec/toy.md", "**SHOULD** come", "**MUST** come", "but the index level is SHOULD"),
    "lowercase keyword": (
        "spec/toy.md",
        "returned unchanged.",
        "returned unchanged, as it must.",
        "lowercase RFC 2119",
    ),
    "two keywords": ("spec/toy.md", "returned unchanged.", "returned **MUST** unchanged.", "2 bold keywords"),
    "no keyword": ("spec/toy.md", "**MUST** be returned", "is returned", "0 bold keywords"),
    "capability differs": ("spec/toy.md", "*Capability:* `toy.ordered`", "*Capability:* `toy`", "capability line"),
    "heading missing": ("spec/toy.md", "### TOY-002: Order is nice", "## Order is nice", "has no '### TOY-002"),
    "heading not indexed": ("spec/toy.md", "# Toy\n", "# Toy\n\n### TOY-009: Stray\n\n> X **MUST** y.\n", "TOY-009"),
    "unknown citation": (
        "conformance/suite/test_toy.py",
        '"TOY-002")',
        '"TOY-003")',
        "cites unknown requirement TOY-003",
    ),
    "uncited requirement": ("conformance/suite/test_toy.py", '"TOY-002")', '"TOY-001")', "TOY-002: no test"),
    "adr without confirmation": ("adr/0001-do-things.md", "**Confirmation:**", "**Checked by:**", "no Confirmation"),
    "adr without status": ("adr/0001-do-things.md", "Status: accepted", "Decided.", "no 'Status:' line"),
    "version differs": (
        "spec/README.md",
        f"Spec version: {SPEC_VERSION}",
        "Spec version: 99.0",
        "says spec version 99.0",
    ),
    "bad index level": ("spec/requirements/toy.yaml", "level: MUST", "level: MUSTN'T", "toy.yaml"),
    "capability table drifts": (
        "spec/contract.md",
        "| TOY-001 |",
        "| TOY-001 … TOY-002 |",
        "contract.md § Claims: 'toy' lists 'TOY-001 … TOY-002', the index says 'TOY-001'",
    ),
    "capability table misses a row": (
        "spec/contract.md",
        "| `toy.ordered` |",
        "| `toy.sorted` |",
        "no row for capability 'toy.ordered'",
    ),
    "model rule without an id": (
        "spec/toy.md",
        "in order (TOY-002)",
        "in order",
        "a model rule that cites no requirement",
    ),
    "model list item without an id": (
        "spec/toy.md",
        "## Model\n",
        "## Model\n\n- a stored `x` is never lost\n",
        "a model rule that cites no requirement: - a stored",
    ),
    "area document version differs": ("spec/toy.md", "# Toy\n", "# Toy\n\nSpec version: 0.0.9\n", "toy.md: says spec"),
    "introduced in a later version": (
        "spec/requirements/toy.yaml",
        "capability: toy.ordered,",
        "capability: toy.ordered, introduced: '99.0.0',",
        "introduced 99.0.0 is later than spec",
    ),
    "changed before introduced": (
        "spec/requirements/toy.yaml",
        "capability: toy.ordered,",
        "capability: toy.ordered, introduced: '0.2.0', changed: '0.1.0',",
        "changed before it was introduced",
    ),
}


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_each_kind_of_drift_is_reported(toy, name):
    path, old, new, expected = BREAKAGES[name]
    edit(toy / path, old, new)
    problems = check_repository(toy)
    assert any(expected in p for p in problems), problems


def test_command_line_exits_nonzero_on_drift(toy, capsys):
    assert main([str(toy)]) == 0
    edit(toy / "spec" / "requirements" / "toy.yaml", "level: MUST", "level: SHOULD")
    assert main([str(toy)]) == 1
    assert "1 problem(s)" in capsys.readouterr().out


def test_adr_with_a_bad_file_name_is_reported(toy):
    (toy / "adr" / "DoThings.md").write_text(GOOD_ADR)
    assert any("not named NNNN" in p for p in check_repository(toy))


def test_withdrawn_requirement_needs_no_test(toy):
    edit(
        toy / "spec" / "requirements" / "toy.yaml",
        "capability: toy.ordered,",
        "capability: toy.ordered, withdrawn: true,",
    )
    edit(toy / "conformance" / "suite" / "test_toy.py", '"TOY-002")', '"TOY-001")')
    # A capability whose every requirement is withdrawn leaves the claims table too.
    assert check_repository(toy) == ["contract.md § Claims: 'toy.ordered' is a capability no requirement needs"]
    edit(toy / "spec" / "contract.md", "| `toy.ordered` | things come back in order | TOY-002 |\n", "")
    assert check_repository(toy) == []
