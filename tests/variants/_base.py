"""What every single-deviation variant is, and the rows of the spec's upstream tables they cover.

A miniature is a bug the kit must catch; a variant is a *real* library's behaviour, and the kit
must blame exactly the requirements that behaviour violates and nothing else (spec/README,
"Blame").  A variant is the reference (in memory unless it says otherwise) with one factory
replaced; it declares

- ``fails``: the requirements the behaviour violates, each by its normative sentence (the class
  comment says which sentence when it is not obvious);
- ``may_fail``: requirements a model search finds on some seeds only (as for miniatures);
- ``rows``: the rows of the spec's "Differences from upstream" tables whose behaviour it is,
  as ``"doc.md: first cell"``;
- ``source``: the public repository, file, issue or pull request the behaviour comes from;
- ``kind``: the failure kind every failed requirement must show: ``wrong-answer`` unless the
  upstream behaviour is itself a crash (an exception that is no error answer);
- ``reference``: the reference backend it starts from, ``memory`` unless the behaviour needs what only the
  on-disk reference claims (``sqlite``: two handles over one backend, restarts that keep sessions).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from reference_impl import Backend, ReferenceImplementation

SPEC = Path(__file__).resolve().parents[2] / "spec"


class Variant(ReferenceImplementation):
    """The reference (in memory unless ``reference`` says otherwise), with one behaviour replaced; claims what it claims."""

    fails: ClassVar[frozenset[str]] = frozenset()
    may_fail: ClassVar[frozenset[str]] = frozenset()
    rows: ClassVar[frozenset[str]] = frozenset()
    source: ClassVar[str] = ""
    kind: ClassVar[str] = "wrong-answer"
    reference: ClassVar[Backend] = "memory"

    def __init__(self) -> None:
        super().__init__(self.reference)
        self.name = f"variant {type(self).__name__}"


def snake(name: str) -> str:
    """``NegativeLimitMeansAll`` → ``negative_limit_means_all``: the name a variant is loaded by."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


#: Each factory of the implementation object, and the area whose tests use what it returns.
FACTORIES = {
    "open_history": "HIST",
    "open_session_store": "STORE",
    "open_agent_service": "ID",
    "open_task_service": "TASK",
    "open_lifecycle_client": "LIFE",
    "open_lifecycle_server": "LIFE",
    "open_broadcaster": "BCAST",
}
#: What a variant class may define besides factories: its declarations.
_DECLARATIONS = {
    "fails",
    "may_fail",
    "rows",
    "source",
    "kind",
    "reference",
    "__doc__",
    "__module__",
    "__qualname__",
    "__firstlineno__",
    "__static_attributes__",
}


def areas_changed(variant: Variant) -> set[str]:
    """The areas whose factory the variant replaces.

    A variant changes nothing but factories (``tests/test_blame.py`` checks that), so the tests
    of every other area run the reference itself, whose pass ``tests/test_miniatures.py`` proves:
    running only the changed areas' tests judges the variant as fully as the whole suite.
    """
    return {
        area
        for name, area in FACTORIES.items()
        if getattr(type(variant), name) is not getattr(ReferenceImplementation, name)
    }


def definitions_beyond_factories(variant: Variant) -> set[str]:
    """Names a variant's own classes define that are neither factories nor declarations."""
    own = [k for k in type(variant).__mro__ if issubclass(k, Variant) and k is not Variant]
    return {name for klass in own for name in vars(klass)} - set(FACTORIES) - _DECLARATIONS


def upstream_rows() -> dict[str, str]:
    """Every row of every "Differences from upstream" table in spec/: ``"doc.md: first cell"`` → row text."""
    rows: dict[str, str] = {}
    for doc in sorted(SPEC.glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        _, found, section = text.partition("\n## Differences from upstream\n")
        if not found:
            continue
        section = section.split("\n## ", 1)[0]
        for line in section.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.startswith("|") or set(line) <= set("|-: ") or cells[0] in {"case", "point"}:
                continue
            rows[f"{doc.name}: {cells[0]}"] = line
    return rows
