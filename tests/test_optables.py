"""The operation-table checker: the repository's tables agree with the kit, and each kind of drift is caught.

Every bad input is a real spec document with one small edit, in a copy of ``spec/`` and
``schemas/`` under ``tmp_path``; the kit's protocols and bindings are the real ones.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conformance.tools import check_spec, optables
from conformance.tools.optables import check_optables

ROOT = Path(__file__).resolve().parents[1]

GET_ITEMS_LIMIT = (
    "| `limit` | integer or null | optional; absent or null: the handle's default limit, if any | "
    "at most this many of the newest items ([§ Limits](#limits)) |\n"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the repository's spec and schemas, to edit."""
    for folder in ("spec", "schemas"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def edit(root: Path, doc: str, old: str, new: str) -> None:
    path = root / "spec" / doc
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the edit's anchor must occur once in {doc}: {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def block(root: Path, doc: str, operation: str) -> str:
    """The text of one operation's heading and table, up to the next heading."""
    text = (root / "spec" / doc).read_text(encoding="utf-8")
    start = text.index(f"### `{operation}`\n")
    return text[start : text.index("\n#", start + 1) + 1]


def test_the_repository_tables_agree_with_schemas_kit_and_protocols():
    assert check_optables(ROOT) == []


def test_every_area_has_a_table_for_each_of_its_operations():
    from conformance.contract import ERROR_KINDS

    parsed = {}
    for doc in set(optables.AREA_DOCS.values()):
        operations, problems = optables.parse_doc(ROOT / "spec" / doc, ERROR_KINDS)
        assert problems == []
        parsed.update(operations)
    assert {name.split(".")[0] for name in parsed} == set(optables.AREA_DOCS)
    assert parsed["store.create"].arguments["id"].required is False
    assert parsed["store.update_state"].arguments["state"].required is True
    assert parsed["task.close"].arguments == {}
    assert parsed["hist.get_items"].errors == ("closed", "invalid_argument")


def test_a_missing_table_is_reported(repo):
    edit(repo, "hist.md", block(repo, "hist.md", "hist.pop_item"), "")
    problems = check_optables(repo, ["hist"])
    assert "hist.md hist.pop_item: has no operation table, but the operations schema has it" in problems
    assert "hist.md hist.pop_item: has no operation table, but the kit's binding has it" in problems
    assert any("protocol method HistorySession.pop_item" in p and "has no operation table" in p for p in problems)


def test_an_extra_table_is_reported(repo):
    extra = block(repo, "hist.md", "hist.pop_item").replace("hist.pop_item", "hist.peek_item")
    edit(repo, "hist.md", "### `hist.clear_session`\n", extra + "### `hist.clear_session`\n")
    problems = check_optables(repo, ["hist"])
    assert "hist.md hist.peek_item: has an operation table, but the operations schema has no such operation" in problems
    assert "hist.md hist.peek_item: has an operation table, but the kit's binding has no such operation" in problems
    assert any(p.startswith("hist.md hist.peek_item: has no in-process mapping") for p in problems)


def test_a_missing_argument_is_reported(repo):
    edit(repo, "hist.md", GET_ITEMS_LIMIT, "")
    problems = check_optables(repo, ["hist"])
    assert (
        "hist.md hist.get_items argument `limit`: in schemas/hist/operations.schema.json, missing from the table"
        in problems
    )
    assert "hist.md hist.get_items: HistorySession.get_items has a parameter 'limit' that the table does not list" in (
        problems
    )


def test_an_extra_argument_is_reported(repo):
    extra = "| `offset` | integer | optional; absent: 0 | items to skip |\n"
    edit(repo, "hist.md", GET_ITEMS_LIMIT, GET_ITEMS_LIMIT + extra)
    problems = check_optables(repo, ["hist"])
    assert "hist.md hist.get_items argument `offset`: in the table, not in schemas/hist/operations.schema.json" in (
        problems
    )
    assert (
        "hist.md hist.get_items argument `offset`: the table has it, HistorySession.get_items has no parameter 'offset'"
        in problems
    )


def test_optional_against_required_is_reported(repo):
    edit(repo, "hist.md", GET_ITEMS_LIMIT, GET_ITEMS_LIMIT.replace("| optional; absent or null:", "| required; or:"))
    problems = check_optables(repo, ["hist"])
    assert (
        "hist.md hist.get_items argument `limit`: the table says required, "
        "schemas/hist/operations.schema.json says optional"
    ) in problems
    assert (
        "hist.md hist.get_items argument `limit`: the table says required, "
        "HistorySession.get_items's 'limit' has a default (optional)"
    ) in problems


def test_required_against_optional_is_reported_where_the_binding_lists_arguments(repo):
    """LIFE's binding lists each operation's positional and optional arguments: they are checked too."""
    row = "| `handler` | string | required | a subscribed handler's name |\n"
    edit(repo, "lifecycle.md", row, row.replace("| required |", "| optional; absent: every handler |"))
    problems = check_optables(repo, ["life"])
    assert (
        "lifecycle.md life.unsubscribe argument `handler`: the table says optional, the life binding's operation list says required"
        in ("\n".join(problems))
    )
    assert any("LifecycleClientAdapter.unsubscribe's 'handler' has no default (required)" in p for p in problems)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (GET_ITEMS_LIMIT, GET_ITEMS_LIMIT.replace(" | at most", " at most"), "hist.md hist.get_items:"),
        (
            GET_ITEMS_LIMIT,
            GET_ITEMS_LIMIT.replace("| optional;", "| maybe;"),
            (
                "hist.md hist.get_items argument `limit`: presence \"maybe; absent or null: the handle's default limit, "
                "if any\" starts with neither 'required' nor 'optional'"
            ),
        ),
        (
            GET_ITEMS_LIMIT,
            GET_ITEMS_LIMIT.replace("integer or null", "int or None"),
            "hist.md hist.get_items argument `limit`: type 'int or None' is not in JSON terms",
        ),
        (
            "Result: array of items, oldest first",
            "Returns: array of items, oldest first",
            "hist.md hist.get_items: needs exactly one 'Result: ...' line, has 0",
        ),
        (
            "Errors: `closed`, `invalid_argument`.\n\n### `hist.add_items`",
            "Errors: `closed`, `gone`.\n\n### `hist.add_items`",
            "hist.md hist.get_items: error kind `gone` is not one of the contract's",
        ),
        ("### `hist.get_items`\n", "### hist.get_items\n", "hist.md:"),
    ],
    ids=["row-cells", "presence", "python-type", "no-result", "unknown-kind", "heading"],
)
def test_an_unparsable_table_is_reported(repo, old, new, message):
    edit(repo, "hist.md", old, new)
    problems = check_optables(repo, ["hist"])
    assert any(p.startswith(message) for p in problems), problems


def test_a_protocol_method_without_an_operation_is_reported(monkeypatch):
    monkeypatch.setitem(optables.IN_PROCESS, "bcast.cancel", None)
    assert check_optables(ROOT, ["bcast"]) == [
        (
            "bcast.md: protocol method Subscription.cancel of conformance/areas/bcast.py has no operation table "
            "(or list it in TEARDOWN with a reason)"
        )
    ]


def test_a_mapping_to_no_protocol_method_is_reported(monkeypatch):
    monkeypatch.setitem(optables.IN_PROCESS, "task.list", ("TaskService", "list", {}))
    problems = check_optables(ROOT, ["task"])
    assert "identity.md task.list: IN_PROCESS maps it to TaskService.list, which no protocol defines" in problems


def test_a_parameter_the_python_protocol_always_gets_needs_its_reason(monkeypatch):
    monkeypatch.delitem(optables.ALWAYS_PASSED, ("task.list", "context_id"))
    assert check_optables(ROOT, ["task"]) == [
        (
            "identity.md task.list argument `context_id`: the table says optional, "
            "TaskService.list_tasks's 'context_id' has no default (required)"
        )
    ]


def test_check_spec_fails_on_a_table_mismatch(repo, capsys):
    for folder in ("adr",):
        shutil.copytree(ROOT / folder, repo / folder)
    (repo / "conformance").mkdir()
    (repo / "conformance" / "suite").symlink_to(ROOT / "conformance" / "suite")
    assert check_spec.check_repository(repo) == []
    edit(repo, "hist.md", GET_ITEMS_LIMIT, "")
    assert check_spec.main([str(repo)]) == 1
    assert "hist.md hist.get_items argument `limit`: in schemas/hist/operations.schema.json" in capsys.readouterr().out


RUN_ROW = (
    "| `id.run` | `session_id` (string), `input` (string), `steps`? (integer from 1 to 100, or null: 1), "
    "`reference_task_ids`? (array of strings, or null) | response |\n"
)


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (
            RUN_ROW.replace(", `steps`? (integer from 1 to 100, or null: 1)", ""),
            "identity.md:{line} id.run argument `steps`: in the table, not in the summary in 'The abstract surface'",
        ),
        (
            RUN_ROW.replace("`steps`?", "`steps`"),
            (
                "identity.md:{line} id.run argument `steps`: the table says optional, "
                "the summary in 'The abstract surface' says required"
            ),
        ),
        (
            RUN_ROW.replace("| response |", "").rstrip("\n") + ", `budget`? | response |\n",
            "identity.md:{line} id.run argument `budget`: in the summary in 'The abstract surface', missing from the table",
        ),
        (
            RUN_ROW.replace("`input` (string)", "input (string)"),
            "identity.md:{line} id.run: cannot read the argument 'input' (`name`, or `name`? if optional)",
        ),
        (
            "",
            "identity.md id.run: has an operation table, but the summary in 'The abstract surface' does not list it",
        ),
        (
            RUN_ROW + "| `id.remote_calls` | — | integer |\n",
            "identity.md:{next} id.remote_calls: the summary lists it, but it has no operation table",
        ),
    ],
    ids=["missing", "optional-as-required", "extra", "unreadable", "row-missing", "row-extra"],
)
def test_the_summary_of_operations_is_held_to_their_tables(repo, new, message):
    """identity.md sums up its operations in § The abstract surface; a summary that drifts is reported."""
    line = (repo / "spec" / "identity.md").read_text(encoding="utf-8").splitlines().index(RUN_ROW.rstrip("\n")) + 1
    edit(repo, "identity.md", RUN_ROW, new)
    problems = check_optables(repo, ["id"])
    assert message.format(line=line, next=line + 1) in problems, problems
    assert len(problems) == 1, problems


def test_the_summary_reads_arguments_outside_parentheses_only():
    assert optables._without_parentheses("`a`? (x, `b` (nested, `c`)), `d`") == "`a`? , `d`"
