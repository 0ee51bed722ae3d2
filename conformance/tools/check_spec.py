"""Check that the spec's prose, its index, the suite and the ADRs agree.

Run from a source checkout: ``python -m conformance.tools.check_spec`` (or
``nox -s requirements``).  Exit status 1 lists every problem found:

* an index file that does not match ``schemas/requirements-index.schema.json``;
* a requirement in the index without a matching heading in the prose, or the reverse;
* a title, level or capability that differs between prose and index;
* a normative sentence without exactly one bold keyword, or with a lowercase one;
* a test that cites an unknown id, or a requirement that no test cites;
* an ADR without a Status or Confirmation line, or not named ``NNNN-words.md``;
* a spec version in any spec document that differs from the kit's, or an index entry
  ``introduced``/``changed`` in a later version than the kit's;
* a rule of a model section (a table row or a list item under a ``Model`` heading) that cites
  no requirement ID: a model summarises numbered requirements and adds none of its own;
* an operation of an area (a ``op_*`` method of its in-process binding) that no normative
  sentence or title of the area names, unless it is kit plumbing listed in ``PLUMBING``;
* an operation table (``## Operations`` of an area document) that is unparsable or disagrees
  with the operation schemas, the kit's operation lists or the Python protocols
  (:mod:`conformance.tools.optables`);
* a Python term (``None``, ``True``, ``dict``, ``len()``, ``raise``, ``ValueError``, a keyword-argument
  call ...) in a requirement statement or another sentence with a bold RFC 2119 keyword: the
  spec says it in JSON terms (``PYTHON_TERMS``; exceptions in ``ALLOWED_PYTHON_TERMS``).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

KEYWORDS = {"MUST": "MUST", "MUST NOT": "MUST", "SHOULD": "SHOULD", "SHOULD NOT": "SHOULD", "MAY": "MAY"}
_BOLD = re.compile(r"\*\*([A-Z ]+)\*\*")
_LOWER = re.compile(r"\b(must|shall|should|may|required|recommended|optional)\b")
_HEADING = re.compile(r"^### ([A-Z]+-\d{3}): (.+?)\s*$")
_CAPABILITY = re.compile(r"^\*Capability:\* `([^`]+)`\s*$")
_ADR_NAME = re.compile(r"^\d{4}-[a-z0-9]+(-[a-z0-9]+)*\.md$")
_ID = re.compile(r"\b[A-Z]+-\d{3}\b")
_MODEL_HEADING = re.compile(r"^(#{2,3}) (Models?|Model of .+)\s*$")

#: Operations that exist for the kit to drive a test, not as behaviour of the component: each
#: is named here with the reason no requirement needs to cite it.
PLUMBING: dict[str, str] = {
    "store.open_handle": "opens a second handle over one backend; STORE-028 speaks of two handles",
    "hist.close_backend": "closes the backend and keeps it callable; HIST-031 speaks of a closed backend",
}


#: Python words that have no place in a normative sentence, each with what the spec says instead.
PYTHON_TERMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bNone\b"), "null"),
    (re.compile(r"\b(True|False)\b"), "true / false"),
    (re.compile(r"\b(dict|str|int|float|bool|tuple)\b"), "object, string, integer, number, boolean, array"),
    (re.compile(r"(^|[^`\w])(an? |the )?list( of\b| type\b)"), "array"),
    (re.compile(r"\b(a|an)\s+list\b"), "an array"),
    (re.compile(r"\blen\("), "its length in Unicode code points"),
    (re.compile(r"\b(raise|raises|raised|raising)\b"), "fails with <kind>"),
    (re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b"), "an error kind of contract.md § Errors"),
    (re.compile(r"\w+\(\w+="), "the operation with its argument named (`get_items` whose `limit` is 0)"),
)

#: requirement id (or ``doc.md:line``) -> why its normative sentence may keep a Python term.
ALLOWED_PYTHON_TERMS: dict[str, str] = {}


#: A JSON string written as a value (`"raise"`, `"None"`): a value on the wire, not a Python word.
_JSON_STRING_VALUE = re.compile(r'`"[^"`]*"`')


def python_terms(sentence: str) -> list[str]:
    """The Python terms in one normative sentence, each as 'term (say: ...)'."""
    sentence = _JSON_STRING_VALUE.sub("``", sentence)
    return [
        f"{m.group(0).strip()!r} (say: {instead})"
        for pattern, instead in PYTHON_TERMS
        for m in pattern.finditer(sentence)
    ]


def check_python_terms(root: Path) -> list[str]:
    """Requirement statements and bold-keyword sentences of spec/*.md are written in JSON terms."""
    problems: list[str] = []
    for index_path in sorted((root / "spec" / "requirements").glob("*.yaml")):
        for entry in yaml.safe_load(index_path.read_text(encoding="utf-8")).get("requirements", []):
            found = python_terms(entry["statement"])
            if found and entry["id"] not in ALLOWED_PYTHON_TERMS:
                problems.append(f"{index_path.name} {entry['id']}: Python term(s) in the statement: {', '.join(found)}")
    for doc in sorted((root / "spec").glob("*.md")):
        in_code = False
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
            if line.startswith("```"):
                in_code = not in_code
            if in_code or line.startswith(">") or not any(f"**{k}**" in line for k in KEYWORDS):
                continue  # block quotes are requirement statements, checked through the index
            found = python_terms(line)
            if found and f"{doc.name}:{number}" not in ALLOWED_PYTHON_TERMS:
                problems.append(f"{doc.name}:{number}: Python term(s) in a normative sentence: {', '.join(found)}")
    return problems


@dataclass(frozen=True)
class Entry:
    id: str
    level: str
    title: str
    capability: str
    withdrawn: bool
    statement: str


def _prose_requirements(text: str) -> dict[str, tuple[str, list[str], str | None]]:
    """id -> (title, first blockquote's lines, capability) as written in a spec document."""
    found: dict[str, tuple[str, list[str], str | None]] = {}
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = _HEADING.match(line)
        if not match:
            continue
        quote: list[str] = []
        quote_done = False
        capability = None
        for following in lines[number + 1 :]:
            if following.startswith("#"):
                break
            if following.startswith(">") and not quote_done:
                quote.append(following.lstrip(">").strip())
            elif quote:
                quote_done = True
            cap = _CAPABILITY.match(following)
            if cap and capability is None:
                capability = cap.group(1)
        found[match.group(1)] = (match.group(2), quote, capability)
    return found


def check_area(index_path: Path, spec_dir: Path, schema: dict) -> list[str]:  # noqa: C901 - a checklist
    from jsonschema import Draft202012Validator

    data = yaml.safe_load(index_path.read_text(encoding="utf-8"))
    problems = [
        f"{index_path.name}: {error.json_path}: {error.message}"
        for error in Draft202012Validator(schema).iter_errors(data)
    ]
    if problems:
        return problems
    area = data["area"]
    entries = [
        Entry(r["id"], r["level"], r["title"], r.get("capability", area), r.get("withdrawn", False), r["statement"])
        for r in data["requirements"]
    ]
    doc = spec_dir / data["document"]
    if not doc.is_file():
        return [f"{index_path.name}: its document {doc.name} does not exist"]
    prose = _prose_requirements(doc.read_text(encoding="utf-8"))
    for entry in entries:
        where = f"{doc.name} {entry.id}"
        if entry.id not in prose:
            problems.append(f"{where}: in the index but has no '### {entry.id}: {entry.title}' heading")
            continue
        title, quote, capability = prose[entry.id]
        if title != entry.title:
            problems.append(f"{where}: prose title {title!r} differs from the index title {entry.title!r}")
        if capability != entry.capability:
            problems.append(f"{where}: capability line says {capability!r}, the index says {entry.capability!r}")
        sentence = " ".join(quote)
        if not sentence:
            problems.append(f"{where}: no normative '> ...' sentence after the heading")
            continue
        if sentence != entry.statement:
            problems.append(f"{where}: the index statement differs from the prose's normative sentence")
        keywords = [k for k in _BOLD.findall(sentence) if k in KEYWORDS]
        if len(keywords) != 1:
            problems.append(f"{where}: the normative sentence has {len(keywords)} bold keywords, expected exactly 1")
        elif KEYWORDS[keywords[0]] != entry.level:
            problems.append(f"{where}: the sentence says **{keywords[0]}** but the index level is {entry.level}")
        lowered = _LOWER.findall(_BOLD.sub("", sentence.replace("`", " ")))
        if lowered:
            problems.append(f"{where}: lowercase RFC 2119 keyword(s) {sorted(set(lowered))} in normative text")
    problems.extend(
        f"{doc.name} {rid}: has a heading but is not in {index_path.name}"
        for rid in prose
        if rid.startswith(area.upper() + "-") and rid not in {e.id for e in entries}
    )
    return problems


def cited_ids(suite_dir: Path) -> dict[str, list[str]]:
    """id -> test files citing it, from every ``requirement("...")`` call in the suite."""
    cited: dict[str, list[str]] = {}
    for path in sorted(suite_dir.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name != "requirement":
                continue
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    cited.setdefault(arg.value, []).append(path.name)
    return cited


def check_citations(index_ids: set[str], withdrawn: set[str], suite_dir: Path) -> list[str]:
    cited = cited_ids(suite_dir)
    problems = [
        f"{', '.join(sorted(set(files)))}: cites unknown requirement {rid}"
        for rid, files in cited.items()
        if rid not in index_ids
    ]
    problems += [f"{rid}: no test in {suite_dir.name}/ cites it" for rid in sorted(index_ids - withdrawn - set(cited))]
    return problems


def check_adrs(adr_dir: Path) -> list[str]:
    problems = []
    for path in sorted(adr_dir.glob("*.md")):
        if path.name == "README.md":
            continue
        if not _ADR_NAME.match(path.name):
            problems.append(f"adr/{path.name}: not named NNNN-imperative-phrase.md")
        text = path.read_text(encoding="utf-8")
        if not re.search(r"^(\*\*)?Status:?(\*\*)?:?\s*\S", text, re.MULTILINE | re.IGNORECASE):
            problems.append(f"adr/{path.name}: has no 'Status:' line")
        if "Confirmation" not in text:
            problems.append(f"adr/{path.name}: has no Confirmation line naming the test or nox session")
    return problems


def check_version(readme: Path, version: str) -> list[str]:
    match = re.search(r"^Spec version: (\S+)\s*$", readme.read_text(encoding="utf-8"), re.MULTILINE)
    if not match:
        return [f"{readme}: has no 'Spec version: X' line"]
    problems = []
    if match.group(1) != version:
        problems.append(f"{readme}: says spec version {match.group(1)}, the kit says {version}")
    for doc in sorted(readme.parent.glob("*.md")):
        found = re.search(r"Spec version: (\d+\.\d+\.\d+)", doc.read_text(encoding="utf-8"))
        if found and found.group(1) != version:
            problems.append(f"{doc.name}: says spec version {found.group(1)}, the kit says {version}")
    return problems


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def check_entry_versions(index_path: Path, version: str) -> list[str]:
    problems: list[str] = []
    for entry in yaml.safe_load(index_path.read_text(encoding="utf-8")).get("requirements", []):
        problems.extend(
            f"{index_path.name} {entry['id']}: {key} {entry[key]} is later than spec {version}"
            for key in ("introduced", "changed")
            if key in entry and _version(str(entry[key])) > _version(version)
        )
        if "changed" in entry and _version(str(entry["changed"])) < _version(str(entry.get("introduced", "0.1.0"))):
            problems.append(f"{index_path.name} {entry['id']}: changed before it was introduced")
    return problems


def model_rules(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every rule a model section states: its table rows and list items."""
    rules: list[tuple[int, str]] = []
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        heading = re.match(r"^(#{1,6}) ", line)
        if heading:
            found = _MODEL_HEADING.match(line)
            if found:
                depth = len(found.group(1))
            elif depth and len(heading.group(1)) <= depth:
                depth = 0
            continue
        if not depth:
            continue
        stripped = line.strip()
        is_row = stripped.startswith("|") and not re.fullmatch(r"\|[\s:|-]+\|", stripped)
        if is_row and re.match(r"^\|\s*(operation|call|event|state|step)\s*\|", stripped, re.IGNORECASE):
            continue  # a table's header row
        if is_row or re.match(r"^[-*] ", stripped):
            rules.append((number, stripped))
    return rules


def check_models(spec_dir: Path) -> list[str]:
    problems = []
    for doc in sorted(spec_dir.glob("*.md")):
        for number, rule in model_rules(doc.read_text(encoding="utf-8")):
            if not _ID.search(rule):
                problems.append(f"{doc.name}:{number}: a model rule that cites no requirement: {rule[:70]}")
    return problems


def id_ranges(ids: list[str]) -> str:
    """``HIST-001 … HIST-020, HIST-023`` for a sorted list of ids of one area: runs of consecutive numbers joined."""
    runs: list[list[str]] = []
    for rid in ids:
        if runs and int(rid[-3:]) == int(runs[-1][-1][-3:]) + 1:
            runs[-1].append(rid)
        else:
            runs.append([rid])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]} … {run[-1]}" for run in runs)


def check_capability_table(root: Path) -> list[str]:
    """contract.md § Claims lists, for each capability, exactly the requirements that need it."""
    contract = root / "spec" / "contract.md"
    if not contract.is_file():
        return []
    needs: dict[str, list[str]] = {}
    for index_path in sorted((root / "spec" / "requirements").glob("*.yaml")):
        data = yaml.safe_load(index_path.read_text(encoding="utf-8"))
        for entry in data["requirements"]:
            if not entry.get("withdrawn"):
                needs.setdefault(entry.get("capability", data["area"]), []).append(entry["id"])
    listed: dict[str, str] = {}
    for line in contract.read_text(encoding="utf-8").split("## Claims", 1)[-1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0].endswith("`"):
            listed[cells[0].strip("`")] = cells[2]
    problems = []
    for capability, ids in sorted(needs.items()):
        expected = id_ranges(sorted(ids))
        if capability not in listed:
            problems.append(f"contract.md § Claims: no row for capability {capability!r} ({expected})")
        elif listed[capability] != expected:
            problems.append(
                f"contract.md § Claims: {capability!r} lists {listed[capability]!r}, the index says {expected!r}"
            )
    problems += [
        f"contract.md § Claims: {c!r} is a capability no requirement needs" for c in sorted(set(listed) - set(needs))
    ]
    return problems


def check_operations(root: Path) -> list[str]:
    """Every operation of every area is named by some requirement of that area, or is plumbing."""
    from conformance.areas import BINDINGS

    statements: dict[str, str] = {}
    for index_path in sorted((root / "spec" / "requirements").glob("*.yaml")):
        data = yaml.safe_load(index_path.read_text(encoding="utf-8"))
        statements[data["area"]] = " ".join(f"{r['title']} {r['statement']}" for r in data["requirements"])
    problems = []
    for area, binding in sorted(BINDINGS.items()):
        if area not in statements:
            continue  # a repository without this area (the checker's own toy repositories)
        text = statements[area]
        for name in sorted(n.removeprefix("op_") for n in dir(binding) if n.startswith("op_")):
            operation = f"{area}.{name}"
            if operation in PLUMBING or re.search(rf"`{re.escape(name)}\b|\b{re.escape(name)}\b", text):
                continue
            problems.append(f"{operation}: no requirement of {area} names it (or list it in PLUMBING with a reason)")
    known = {f"{area}.{n.removeprefix('op_')}" for area, b in BINDINGS.items() for n in dir(b) if n.startswith("op_")}
    stale = {name for name in set(PLUMBING) - known if name.split(".")[0] in statements}
    problems += [f"PLUMBING lists {name}, which is no operation" for name in sorted(stale)]
    return problems


def check_repository(root: Path) -> list[str]:
    from conformance import SPEC_VERSION

    schema = json.loads((root / "schemas" / "requirements-index.schema.json").read_text(encoding="utf-8"))
    problems: list[str] = []
    index_ids: set[str] = set()
    withdrawn: set[str] = set()
    for index_path in sorted((root / "spec" / "requirements").glob("*.yaml")):
        problems += check_area(index_path, root / "spec", schema)
        for entry in yaml.safe_load(index_path.read_text(encoding="utf-8")).get("requirements", []):
            if entry["id"] in index_ids:
                problems.append(f"{index_path.name}: {entry['id']} is defined twice")
            index_ids.add(entry["id"])
            if entry.get("withdrawn"):
                withdrawn.add(entry["id"])
    problems += check_citations(index_ids, withdrawn, root / "conformance" / "suite")
    problems += check_adrs(root / "adr")
    problems += check_version(root / "spec" / "README.md", SPEC_VERSION)
    for index_path in sorted((root / "spec" / "requirements").glob("*.yaml")):
        problems += check_entry_versions(index_path, SPEC_VERSION)
    problems += check_models(root / "spec")
    problems += check_operations(root)
    problems += check_capability_table(root)
    problems += check_operation_tables(root)
    problems += check_python_terms(root)
    return problems


def check_operation_tables(root: Path) -> list[str]:
    """The operation tables of every area whose document and schemas this repository has."""
    from conformance.tools.optables import AREA_DOCS, check_optables

    areas = [
        area
        for area, doc in AREA_DOCS.items()
        if (root / "spec" / doc).is_file() and (root / "schemas" / area / "operations.schema.json").is_file()
    ]
    return check_optables(root, areas) if areas else []


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path(__file__).resolve().parents[2]
    problems = check_repository(root)
    for problem in problems:
        print(problem)  # noqa: T201 - a command-line tool reports on stdout
    areas = sorted(p.stem for p in (root / "spec" / "requirements").glob("*.yaml"))
    verdict = f"{len(problems)} problem(s)" if problems else "spec, index, suite and ADRs agree"
    print(f"{verdict} (areas: {', '.join(areas)})")  # noqa: T201
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
