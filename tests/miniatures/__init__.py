"""Miniatures: deliberately broken implementations, one per requirement (Bowtie's idea).

Each miniature is the reference implementation with one realistic bug, described
by the docstring of the class that carries it.  The kit must fail the
requirement the miniature breaks; :func:`all_miniatures` lists them for the
kit's own tests, which run ``pytest --impl=<target>`` on each one.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import reference_impl

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

__all__ = ["Miniature", "MiniatureImplementation", "all_miniatures", "declarer"]

C = TypeVar("C", bound=type)


@dataclass(frozen=True)
class Miniature:
    """One broken implementation, as the kit's tests see it."""

    requirement: str  # the one requirement ID it violates, e.g. "HIST-002"
    target: str  # the --impl value that selects it, e.g. "tests.miniatures.hist:limit_oldest"
    also_fails: frozenset[str]  # other IDs the kit fails too, because the bug shows there (checked both ways)
    doc: str  # how it misbehaves
    may_fail: frozenset[str] = frozenset()  # IDs it fails on some seeds only (model searches), not required


class MiniatureImplementation:
    """Base of every miniature: the reference implementation's identity, with one bug."""

    version = reference_impl.__version__
    spec_version = reference_impl.SPEC_VERSION

    def __init__(
        self,
        requirement: str,
        label: str,
        *,
        doc: str,
        claims: Collection[str],
        also_fails: Collection[str] = (),
        may_fail: Collection[str] = (),
    ) -> None:
        self.requirement = requirement
        self.name = f"miniature {requirement} ({label})"
        self.doc = doc
        self.claims = frozenset(claims)
        self.also_fails = frozenset(also_fails)
        self.may_fail = frozenset(may_fail)

    def __repr__(self) -> str:
        return f"<{self.name}>"


def all_miniatures() -> list[Miniature]:
    """Import every module of this package and return its miniatures, by requirement ID."""
    found: list[Miniature] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(
            Miniature(value.requirement, f"{module.__name__}:{attr}", value.also_fails, value.doc, value.may_fail)
            for attr, value in vars(module).items()
            if isinstance(value, MiniatureImplementation)
        )
    return sorted(found, key=lambda m: (m.requirement, m.target))


def declarer(kind: Callable[..., MiniatureImplementation]) -> Callable[..., Callable[[C], C]]:
    """The decorator an area module declares its miniatures with, building each as ``kind`` does.

    ``@miniature("HIST-002", also_fails=(8, 27))`` above ``class LimitOldest`` puts the miniature
    ``limit_oldest`` (``--impl=tests.miniatures.hist:limit_oldest``) in the class's module: the
    broken requirement and what else it fails stand above the docstring that says how it
    misbehaves; the name and label come from the class name.  Numbers in ``also_fails`` and
    ``may_fail`` are requirements of the same area (``27`` is ``HIST-027``).
    """

    def miniature(
        requirement: str,
        *,
        also_fails: Collection[int | str] = (),
        may_fail: Collection[int | str] = (),
        **options: Any,
    ) -> Callable[[C], C]:
        area = requirement.partition("-")[0]

        def ids(given: Collection[int | str]) -> frozenset[str]:
            return frozenset(f"{area}-{n:03d}" if isinstance(n, int) else n for n in given)

        def register(broken: C) -> C:
            module = sys.modules[broken.__module__]
            name = _snake(broken.__name__)
            if hasattr(module, name):
                msg = f"{broken.__module__} already has {name!r}: two miniatures of one class, or a clash"
                raise TypeError(msg)
            label = name.replace("_", " ")
            declared = {"also_fails": ids(also_fails), "may_fail": ids(may_fail), **options}
            setattr(module, name, kind(requirement, label, broken, **declared))
            return broken

        return register

    return miniature


def _snake(name: str) -> str:
    """``LimitOldest`` → ``limit_oldest``; ``NonJSONStringified`` → ``non_json_stringified``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def cut_strings(value: Any, limit: int) -> Any:
    """``value`` with every string in it cut to ``limit`` characters: what a fixed-size text column keeps."""
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, dict):
        return {key: cut_strings(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        return [cut_strings(item, limit) for item in value]
    return value
