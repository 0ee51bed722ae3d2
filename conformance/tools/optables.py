"""Check the spec's operation tables against the kit (spec/README.md, "How an operation table is written").

The ``## Operations`` section of each area document is the source of truth for the area's wire
operations (adr/0020-operation-tables-are-the-source-of-truth.md).  This module parses those
tables and holds three things to them:

* the operation schemas (``schemas/<area>/operations.schema.json``): the same operations, and
  for each the same argument names, required exactly where the schema requires them;
* the kit's list of operations per area (the ``op_*`` methods of the in-process binding, or
  for LIFE its ``_CLIENT_OPS`` and ``_SERVER_OPS``, with their positional and optional keys);
* the Python protocols of ``conformance/areas/*.py``: every protocol method is the in-process
  call of one operation (:data:`IN_PROCESS`) or is called only at teardown (:data:`TEARDOWN`),
  and its parameters are the operation's arguments under the rule of spec/contract.md
  § Operations: a required argument is a parameter without a default, an optional one has one;
* a document's summary of its operations, where it has one (``## The abstract surface`` of
  identity.md: one row per operation, its arguments listed with ``?`` after an optional one):
  the same operations, and for each the same arguments, optional exactly where the table says.

``python -m conformance.tools.check_spec`` runs :func:`check_optables`; every problem names the
document, the operation and, where it is one, the argument.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

#: area -> the spec document whose ``## Operations`` section holds its tables
AREA_DOCS: dict[str, str] = {
    "hist": "hist.md",
    "store": "store.md",
    "id": "identity.md",
    "task": "identity.md",
    "life": "lifecycle.md",
    "bcast": "bcast.md",
}

#: The words a type cell may start each alternative with: JSON's types, and ``any`` (any JSON value).
JSON_TYPES = frozenset({"string", "integer", "number", "object", "array", "null", "boolean", "any"})

HEADER = ("argument", "type", "presence", "meaning")

#: wire operation -> (protocol class, method, {wire argument: Python parameter}); ``None``: the
#: binding carries the operation out itself (a restart, a second handle) and calls no one method.
IN_PROCESS: dict[str, tuple[str, str, dict[str, str]] | None] = {
    "hist.open": ("HistoryBackend", "open_session", {}),
    "hist.get_items": ("HistorySession", "get_items", {}),
    "hist.add_items": ("HistorySession", "add_items", {}),
    "hist.pop_item": ("HistorySession", "pop_item", {}),
    "hist.clear_session": ("HistorySession", "clear_session", {}),
    "hist.close": ("HistorySession", "close", {}),
    "hist.restart": None,
    "hist.close_backend": ("HistoryBackend", "close", {}),
    **{
        f"store.{name}": ("SessionStore", name, {"id": "session_id"})
        for name in ("create", "get", "touch", "update_state", "delete", "list", "cleanup", "close")
    },
    "store.open_handle": None,
    "store.reopen": None,
    **{
        f"id.{name}": ("AgentService", name, {})
        for name in ("create_session", "get_session", "set_state", "run", "resume", "snapshot", "restore", "close")
    },
    "id.restart": None,
    "task.send": ("TaskService", "send", {}),
    "task.get": ("TaskService", "get", {}),
    "task.set_state": ("TaskService", "set_state", {}),
    "task.list": ("TaskService", "list_tasks", {}),
    "task.close": ("TaskService", "close", {}),
    **{
        f"life.{name}": ("LifecycleClientAdapter", name, {})
        for name in (
            "create",
            "resume",
            "delete",
            "outbox",
            "deliver",
            "result",
            "timeout",
            "registry",
            "subscribe",
            "unsubscribe",
            "events",
            "diagnostics",
        )
    },
    "life.server_handle": ("LifecycleServerAdapter", "handle", {}),
    "life.server_touch": ("LifecycleServerAdapter", "touch", {"type": "kind"}),
    "bcast.subscribe": ("Broadcaster", "subscribe", {}),
    "bcast.publish": ("Broadcaster", "publish", {}),
    "bcast.receive": ("Subscription", "receive", {}),
    "bcast.cancel": ("Subscription", "cancel", {}),
    "bcast.subscriber_count": ("Broadcaster", "subscriber_count", {}),
    "bcast.close": ("Broadcaster", "close", {}),
}

#: area -> the arguments that pick the object an operation goes to: the binding resolves them
#: and passes them to no method.
SELECTORS: dict[str, frozenset[str]] = {
    "hist": frozenset({"handle"}),
    "store": frozenset({"handle"}),
    "bcast": frozenset({"subscription"}),
}

#: Protocol methods no operation calls, each with when the binding calls it.
TEARDOWN: dict[str, str] = {
    "LifecycleClientAdapter.close": "at the end of a test",
    "LifecycleServerAdapter.close": "at the end of a test",
}

#: (operation, argument) -> why its Python parameter has no default although the wire argument is
#: optional: the binding always passes it, as null when the kit left it out.
ALWAYS_PASSED: dict[tuple[str, str], str] = {
    ("task.list", "context_id"): "list_tasks(context_id, owner) takes the context first; absent is passed as null",
}


@dataclass
class Argument:
    name: str
    type: str
    required: bool
    meaning: str
    line: int


@dataclass
class Operation:
    name: str
    doc: str
    line: int
    arguments: dict[str, Argument] = field(default_factory=dict)
    result: str = ""
    errors: tuple[str, ...] = ()


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _section(lines: list[str]) -> tuple[int, int] | None:
    """The line range of the ``## Operations`` section (start after the heading, end exclusive)."""
    for number, line in enumerate(lines):
        if line.strip() == "## Operations":
            end = next((n for n in range(number + 1, len(lines)) if lines[n].startswith("## ")), len(lines))
            return number + 1, end
    return None


def _type_problem(text: str) -> str:
    alternatives = [a.strip() for a in re.split(r",|\bor\b", text.replace("`", "")) if a.strip()]
    if not alternatives:
        return "has no type"
    bad = [a for a in alternatives if a.split()[0].rstrip("s") not in JSON_TYPES]
    return f"type {text!r} is not in JSON terms ({', '.join(sorted(JSON_TYPES))})" if bad else ""


def _blocks(doc: str, lines: list[str], span: tuple[int, int]) -> tuple[list[tuple[int, str, list]], list[str]]:
    """(line, operation, body lines) of each ``### `area.operation``` heading in the section."""
    problems: list[str] = []
    blocks: list[tuple[int, str, list[tuple[int, str]]]] = []
    for number in range(*span):
        line = lines[number]
        heading = re.match(r"^### `([a-z]+\.[a-z_]+)`\s*$", line)
        if heading:
            blocks.append((number + 1, heading.group(1), []))
        elif line.startswith("### "):
            problems.append(f"{doc}:{number + 1}: an operation heading is '### `area.operation`', not {line!r}")
            blocks.append((number + 1, "", []))
        elif blocks:
            blocks[-1][2].append((number + 1, line))
    return blocks, problems


def _table_rows(where: str, body: list[tuple[int, str]]) -> tuple[list[tuple[int, str]], list[str]]:
    """The argument rows of an operation's table (header and rule line removed), and its problems."""
    rows = [(n, text) for n, text in body if text.strip().startswith("|")]
    none = any(text.strip() == "Arguments: none." for _, text in body)
    if rows and none:
        return [], [f"{where}: has both an argument table and 'Arguments: none.'"]
    if not rows:
        return [], [] if none else [f"{where}: has neither an argument table nor 'Arguments: none.'"]
    header = tuple(c.lower() for c in _cells(rows[0][1]))
    if header != HEADER:
        return [], [f"{where}: the table's header is {header}, not {HEADER}"]
    if len(rows) < 2 or not re.fullmatch(r"[\s|:-]+", rows[1][1]):
        return [], [f"{where}: the table has no '|---|' line under its header"]
    return rows[2:], []


def _argument(where: str, n: int, text: str) -> tuple[Argument | None, list[str]]:
    cells = _cells(text)
    if len(cells) != len(HEADER):
        return None, [f"{where}:{n}: a row has {len(cells)} cells, not {len(HEADER)}"]
    raw_name, kind, presence, meaning = cells
    name = re.fullmatch(r"`([a-z_]+)`", raw_name)
    if not name:
        return None, [f"{where}:{n}: argument cell {raw_name!r} is not one `name`"]
    arg_where = f"{where} argument `{name.group(1)}`"
    word = re.split(r"[;,.\s]", presence, maxsplit=1)[0].lower()
    if word not in ("required", "optional"):
        return None, [f"{arg_where}: presence {presence!r} starts with neither 'required' nor 'optional'"]
    problems = [f"{arg_where}: {p}" for p in (_type_problem(kind),) if p]
    if not meaning:
        problems.append(f"{arg_where}: says nothing in its meaning cell")
    return Argument(name.group(1), kind, word == "required", meaning, n), problems


def _result_and_errors(
    where: str, op: Operation, body: list[tuple[int, str]], path: Path, kinds: frozenset[str]
) -> list[str]:
    problems: list[str] = []
    results = [text for _, text in body if text.startswith("Result: ")]
    if len(results) != 1:
        problems.append(f"{where}: needs exactly one 'Result: ...' line, has {len(results)}")
    else:
        op.result = results[0].removeprefix("Result: ")
        problems += [
            f"{where}: its result links to {link}, which does not exist"
            for link in re.findall(r"\]\(([^)#]+)", op.result)
            if not (path.parent / link).exists()
        ]
    errors = [text for _, text in body if text.startswith("Errors: ")]
    if len(errors) != 1:
        problems.append(f"{where}: needs exactly one 'Errors: ...' line, has {len(errors)}")
    elif errors[0] != "Errors: none.":
        op.errors = tuple(re.findall(r"`([a-z_]+)`", errors[0]))
        if not op.errors:
            problems.append(f"{where}: 'Errors:' names no kind; write 'Errors: none.' for none")
        problems += [f"{where}: error kind `{k}` is not one of the contract's" for k in op.errors if k not in kinds]
    return problems


def parse_doc(path: Path, kinds: frozenset[str]) -> tuple[dict[str, Operation], list[str]]:
    """The operations one document's ``## Operations`` section defines, and what is wrong with its tables."""
    doc = path.name
    lines = path.read_text(encoding="utf-8").splitlines()
    span = _section(lines)
    if span is None:
        return {}, [f"{doc}: has no '## Operations' section"]
    operations: dict[str, Operation] = {}
    blocks, problems = _blocks(doc, lines, span)
    for line_no, name, body in blocks:
        if not name:
            continue
        where = f"{doc} {name}"
        if name in operations:
            problems.append(f"{where}: a second table for the same operation (line {line_no})")
            continue
        op = operations[name] = Operation(name, doc, line_no)
        rows, found = _table_rows(where, body)
        problems += found
        for n, text in rows:
            arg, found = _argument(where, n, text)
            problems += found
            if arg is None:
                continue
            if arg.name in op.arguments:
                problems.append(f"{where} argument `{arg.name}`: listed twice")
            op.arguments[arg.name] = arg
        problems += _result_and_errors(where, op, body, path, kinds)
    return operations, problems


def schema_operations(schema_path: Path) -> dict[str, dict[str, bool]]:
    """operation -> {argument: required}, from an area's operations schema."""
    defs = json.loads(schema_path.read_text(encoding="utf-8"))["$defs"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node and node["$ref"].startswith("#/$defs/"):
            node = defs[node["$ref"].removeprefix("#/$defs/")]
        return node

    found: dict[str, dict[str, bool]] = {}
    for key, node in defs.items():
        if not key.endswith(".args"):
            continue
        args = resolve(node)
        required = set(args.get("required", ()))
        found[key.removesuffix(".args")] = {name: name in required for name in args.get("properties", {})}
    return found


def binding_operations(area: str) -> dict[str, dict[str, bool] | None]:
    """operation -> {argument: required} where the binding says (LIFE), else None, for one area."""
    from conformance.areas import BINDINGS

    binding = BINDINGS[area]
    ops: dict[str, dict[str, bool] | None] = {
        n.removeprefix("op_"): None for n in dir(binding) if n.startswith("op_") and callable(getattr(binding, n))
    }
    module = importlib.import_module(binding.__module__)
    for table in ("_CLIENT_OPS", "_SERVER_OPS"):
        for name, (_, positional, optional) in getattr(module, table, {}).items():
            ops[name] = {**dict.fromkeys(positional, True), **dict.fromkeys(optional, False)}
    return ops


def _protocols(area: str) -> dict[str, type]:
    """The protocol classes of an area module, except the factory protocol (``...Implementation``)."""
    module = importlib.import_module(f"conformance.areas.{area}")
    return {
        name: cls
        for name, cls in vars(module).items()
        if inspect.isclass(cls)
        and cls.__module__ == module.__name__
        and getattr(cls, "_is_protocol", False)
        and not name.endswith("Implementation")
    }


def _check_python(area: str, operations: dict[str, Operation], protocols: dict[str, type]) -> list[str]:
    problems: list[str] = []
    called: set[str] = set()
    for name, op in sorted(operations.items()):
        where = f"{op.doc} {name}"
        if name not in IN_PROCESS:
            problems.append(f"{where}: has no in-process mapping (add it to IN_PROCESS in {__name__})")
            continue
        target = IN_PROCESS[name]
        if target is None:
            continue
        cls_name, method, renames = target
        cls = protocols.get(cls_name)
        if cls is None or method not in vars(cls):
            problems.append(f"{where}: IN_PROCESS maps it to {cls_name}.{method}, which no protocol defines")
            continue
        called.add(f"{cls_name}.{method}")
        params = {
            p.name: p.default is inspect.Parameter.empty
            for p in inspect.signature(vars(cls)[method]).parameters.values()
            if p.name != "self"
        }
        wire = {
            renames.get(a.name, a.name): a
            for a in op.arguments.values()
            if a.name not in SELECTORS.get(area, frozenset())
        }
        python = f"{cls_name}.{method}"
        problems += [
            f"{where} argument `{a.name}`: the table has it, {python} has no parameter {p!r}"
            for p, a in sorted(wire.items())
            if p not in params
        ]
        problems += [
            f"{where}: {python} has a parameter {p!r} that the table does not list"
            for p in sorted(set(params) - set(wire))
        ]
        for p, arg in sorted(wire.items()):
            if p not in params or params[p] == arg.required:
                continue
            if not arg.required and (name, arg.name) in ALWAYS_PASSED:
                continue
            table = "required" if arg.required else "optional"
            python_says = "has no default (required)" if params[p] else "has a default (optional)"
            problems.append(f"{where} argument `{arg.name}`: the table says {table}, {python}'s {p!r} {python_says}")
    return problems + _uncalled(area, protocols, called)


def _uncalled(area: str, protocols: dict[str, type], called: set[str]) -> list[str]:
    """Protocol methods that no operation calls and that are not teardown."""
    problems: list[str] = []
    for cls_name, cls in sorted(protocols.items()):
        for method in sorted(n for n, v in vars(cls).items() if inspect.isfunction(v) and not n.startswith("_")):
            qualified = f"{cls_name}.{method}"
            if qualified not in called and qualified not in TEARDOWN:
                problems.append(
                    f"{AREA_DOCS[area]}: protocol method {qualified} of conformance/areas/{area}.py has no "
                    "operation table (or list it in TEARDOWN with a reason)"
                )
    return problems


def _compare_parameters(where: str, op: Operation, python: str, method: Any, wire: dict[str, Argument]) -> list[str]:
    """The table's arguments (by Python name) against the parameters of the protocol method."""
    params = {
        p.name: p.default is inspect.Parameter.empty
        for p in inspect.signature(method).parameters.values()
        if p.name != "self"
    }
    problems = [
        f"{where} argument `{a.name}`: the table has it, {python} has no parameter {p!r}"
        for p, a in sorted(wire.items())
        if p not in params
    ]
    problems += [
        f"{where}: {python} has a parameter {p!r} that the table does not list" for p in sorted(set(params) - set(wire))
    ]
    for p, arg in sorted(wire.items()):
        if p not in params or params[p] == arg.required:
            continue
        if not arg.required and (op.name, arg.name) in ALWAYS_PASSED:
            continue
        table = "required" if arg.required else "optional"
        python_says = "has no default (required)" if params[p] else "has a default (optional)"
        problems.append(f"{where} argument `{arg.name}`: the table says {table}, {python}'s {p!r} {python_says}")
    return problems


def _compare(where: str, what: str, table: dict[str, Argument], other: dict[str, bool]) -> list[str]:
    problems = [f"{where} argument `{a}`: in the table, not in {what}" for a in sorted(set(table) - set(other))]
    problems += [f"{where} argument `{a}`: in {what}, missing from the table" for a in sorted(set(other) - set(table))]
    for name in sorted(set(table) & set(other)):
        if table[name].required != other[name]:
            said, other_said = ("required", "optional") if table[name].required else ("optional", "required")
            problems.append(f"{where} argument `{name}`: the table says {said}, {what} says {other_said}")
    return problems


SUMMARY = "## The abstract surface"


def _without_parentheses(text: str) -> str:
    """``text`` without what its (possibly nested) parentheses enclose: there a cell explains."""
    kept, depth = [], 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif not depth:
            kept.append(char)
    return "".join(kept)


def summary_problems(path: Path, operations: dict[str, Operation]) -> list[str]:
    """What a document's summary of its operations (``## The abstract surface``) says otherwise than its tables."""
    doc, lines = path.name, path.read_text(encoding="utf-8").splitlines()
    start = next((n for n, line in enumerate(lines) if line.strip() == SUMMARY), None)
    if start is None:
        return []
    end = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("## ")), len(lines))
    problems: list[str] = []
    summarised: set[str] = set()
    header = False
    for n in range(start + 1, end):
        line = lines[n]
        if not line.startswith("|"):
            header = False
            continue
        cells = _cells(line)
        if cells[0] == "operation":
            header = True
            continue
        if not header or set(cells[0]) <= {"-", ":"}:
            continue
        where = f"{doc}:{n + 1}"
        name = cells[0].strip("`")
        if name not in operations:
            problems.append(f"{where} {name}: the summary lists it, but it has no operation table")
            continue
        summarised.add(name)
        listed: dict[str, bool] = {}
        unread = len(problems)
        items = [] if cells[1] in ("—", "-", "") else _without_parentheses(cells[1]).split(",")
        for item in items:
            found = re.fullmatch(r"\s*`([A-Za-z_][A-Za-z0-9_]*)`(\?)?\s*", item)
            if found is None:
                form = "`name`, or `name`? if optional"
                problems.append(f"{where} {name}: cannot read the argument {item.strip()!r} ({form})")
                continue
            listed[found.group(1)] = found.group(2) is None
        if len(problems) == unread:  # a row not read in full is not compared: one problem, said once
            what = f"the summary in {SUMMARY[3:]!r}"
            problems += _compare(f"{where} {name}", what, operations[name].arguments, listed)
    problems += [
        f"{doc} {name}: has an operation table, but the summary in {SUMMARY[3:]!r} does not list it"
        for name in sorted(set(operations) - summarised)
    ]
    return problems


def check_optables(root: Path, areas: list[str] | None = None) -> list[str]:
    """Every problem with the operation tables of ``root``'s spec, for the given areas (default: every area)."""
    from conformance.contract import ERROR_KINDS

    areas = list(AREA_DOCS) if areas is None else areas
    problems: list[str] = []
    parsed: dict[str, dict[str, Operation]] = {}
    for doc in sorted({AREA_DOCS[a] for a in areas}):
        operations, found = parse_doc(root / "spec" / doc, ERROR_KINDS)
        parsed[doc] = operations
        problems += found
        problems += summary_problems(root / "spec" / doc, operations)
    for area in areas:
        doc = AREA_DOCS[area]
        mine = {n: op for n, op in parsed[doc].items() if n.split(".")[0] == area}
        schema = {
            f"{area}.{n}": a for n, a in schema_operations(root / "schemas" / area / "operations.schema.json").items()
        }
        kit = {f"{area}.{n}": a for n, a in binding_operations(area).items()}
        for source, names in (("the operations schema", schema), ("the kit's binding", kit)):
            problems += [
                f"{doc} {n}: has no operation table, but {source} has it" for n in sorted(set(names) - set(mine))
            ]
            problems += [
                f"{doc} {n}: has an operation table, but {source} has no such operation"
                for n in sorted(set(mine) - set(names))
            ]
        for name, op in sorted(mine.items()):
            where = f"{doc} {name}"
            if name in schema:
                problems += _compare(where, f"schemas/{area}/operations.schema.json", op.arguments, schema[name])
            listed = kit.get(name)
            if listed is not None:
                problems += _compare(where, f"the {area} binding's operation list", op.arguments, listed)
        problems += _check_python(area, mine, _protocols(area))
    unknown = {n for ops in parsed.values() for n in ops if n.split(".")[0] not in AREA_DOCS}
    problems += [
        f"{parsed_doc} {n}: names no area of the kit" for parsed_doc, ops in parsed.items() for n in ops if n in unknown
    ]
    return problems
