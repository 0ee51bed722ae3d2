"""Normative sentences are in JSON terms: the spec checker finds a Python term in one, and passes the repository."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conformance.tools import check_spec
from conformance.tools.check_spec import check_python_terms, python_terms

ROOT = Path(__file__).resolve().parents[1]

HIST_003 = "A `get_items` whose `limit` is 0 **MUST** return an empty array and leave the history unchanged."


def test_the_repository_has_no_python_term_in_a_normative_sentence():
    assert check_python_terms(ROOT) == []


@pytest.mark.parametrize(
    ("sentence", "term"),
    [
        ("`pop_item` of an empty history **MUST** return `None`.", "'None'"),
        ("A limit of `True` **MUST** be rejected.", "'True'"),
        ("`state` **MUST** be a dict.", "'dict'"),
        ("A session id of `len()` above 256 **MUST** be rejected.", "'len('"),
        ("`get_items(limit=0)` **MUST** return an empty array.", "'get_items(limit='"),
        ("The store **MUST** raise when closed.", "'raise'"),
        ("The store **MUST** fail with `ValueError`.", "'ValueError'"),
        ("`list` **MUST** return a list of records.", "'a list'"),
        ("A `str` id **MUST** be kept verbatim.", "'str'"),
    ],
)
def test_a_python_term_is_found(sentence, term):
    assert any(found.startswith(term) for found in python_terms(sentence)), python_terms(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        HIST_003,
        "`list` of a context **MUST** return every task of that context exactly once.",
        "`list`, `touch` and `cleanup` **MUST** decide expiry alike.",
        "they **MUST** together return each of the newest min(K, M) items exactly once and null for the rest.",
        "at most 65 536 bytes of JSON text, and `true`, `false` and `null` as values.",
        "When a handler fails, the client **MUST** still call every other handler.",
        'A `behaviour` that is not `"record"` or `"raise"` **MUST** fail with `invalid_argument`.',
    ],
)
def test_json_terms_pass(sentence):
    assert python_terms(sentence) == []


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "spec", tmp_path / "spec")
    return tmp_path


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_statement_with_a_python_term_is_reported_unless_allowed(repo, monkeypatch):
    replace(repo / "spec" / "requirements" / "hist.yaml", HIST_003, "`get_items(limit=0)` **MUST** return `[]`.")
    assert check_python_terms(repo) == [
        (
            "hist.yaml HIST-003: Python term(s) in the statement: 'get_items(limit=' "
            "(say: the operation with its argument named (`get_items` whose `limit` is 0))"
        )
    ]
    monkeypatch.setitem(check_spec.ALLOWED_PYTHON_TERMS, "HIST-003", "a test of the allow-list")
    assert check_python_terms(repo) == []


def test_a_normative_sentence_outside_a_requirement_is_checked_too(repo):
    replace(
        repo / "spec" / "bcast.md",
        "For every optional argument, null means",
        "For every optional argument, None **MUST** mean",
    )
    problems = check_python_terms(repo)
    assert len(problems) == 1
    assert problems[0].startswith("bcast.md:")
    assert "Python term(s) in a normative sentence: 'None' (say: null)" in problems[0]
