"""The requirement index: every requirement's id, level, area, title and capability."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conformance._data import requirements_dir
from conformance.errors import ConformanceError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["LEVELS", "Requirement", "index", "slug"]

LEVELS = ("MUST", "SHOULD", "MAY")
ID_PATTERN = re.compile(r"^[A-Z]+-\d{3}$")


def slug(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading (GitHub's rules, ASCII subset)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    area: str
    title: str
    capability: str
    document: str
    statement: str = ""
    introduced: str = "0.1.0"
    changed: str | None = None
    withdrawn: bool = False

    @property
    def anchor(self) -> str:
        return f"spec/{self.document}#{slug(f'{self.id}: {self.title}')}"

    @property
    def binding(self) -> bool:
        """Whether a failure fails the run without ``--conformance-strict``."""
        return self.level == "MUST"


class RequirementIndexError(ConformanceError, ValueError):
    """The index files are malformed (a bug in the kit's data)."""


def _load_file(data: dict, source: str) -> Iterable[Requirement]:
    try:
        area, document = data["area"], data["document"]
        entries = data["requirements"]
    except (KeyError, TypeError) as exc:
        msg = f"{source}: needs keys area, document, requirements ({exc})"
        raise RequirementIndexError(msg) from None
    for entry in entries:
        req = Requirement(
            id=entry["id"],
            level=entry["level"],
            area=area,
            title=entry["title"],
            capability=entry.get("capability", area),
            document=document,
            statement=entry.get("statement", ""),
            introduced=str(entry.get("introduced", "0.1.0")),
            changed=entry.get("changed"),
            withdrawn=bool(entry.get("withdrawn", False)),
        )
        if not ID_PATTERN.match(req.id) or not req.id.startswith(area.upper() + "-"):
            msg = f"{source}: {req.id!r} is not of the form {area.upper()}-NNN"
            raise RequirementIndexError(msg)
        if req.level not in LEVELS:
            msg = f"{source}: {req.id} has level {req.level!r}; expected one of {LEVELS}"
            raise RequirementIndexError(msg)
        if req.capability != area and not req.capability.startswith(area + "."):
            msg = f"{source}: {req.id} capability {req.capability!r} must be {area!r} or {area}.<name>"
            raise RequirementIndexError(msg)
        yield req


@functools.cache
def index() -> dict[str, Requirement]:
    """Every requirement of every area, in id order."""
    import yaml

    # Every kit process and every adapter started by ``conformance.serve`` reads the index: the
    # parser in C (when PyYAML was built with it) reads it five times faster than the one in Python.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found: dict[str, Requirement] = {}
    for path in sorted(requirements_dir().glob("*.yaml")):
        for req in _load_file(yaml.load(path.read_text(encoding="utf-8"), Loader=loader), path.name):  # noqa: S506 - a safe loader
            if req.id in found:
                msg = f"{path.name}: {req.id} is defined twice"
                raise RequirementIndexError(msg)
            found[req.id] = req
    return dict(sorted(found.items()))


def capabilities() -> frozenset[str]:
    """Every capability some requirement needs; the only values ``claims`` may hold."""
    return frozenset(r.capability for r in index().values()) | {r.area for r in index().values()}
