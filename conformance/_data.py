"""Where the spec index and the schemas live: package data when installed, the repo otherwise."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from referencing import Registry

_PACKAGE = Path(__file__).parent


def _root(name: str) -> Path:
    # A wheel ships them as conformance/_data/<name>; a source checkout keeps them at the top level.
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    msg = f"the kit's {name}/ data is missing (looked in {installed} and {checkout}); reinstall the package"
    raise FileNotFoundError(msg)


def requirements_dir() -> Path:
    """The folder of per-area requirement index files (``<area>.yaml``)."""
    installed = _PACKAGE / "_data" / "requirements"
    return installed if installed.is_dir() else _root("spec") / "requirements"


def schemas_dir() -> Path:
    return _root("schemas")


def suite_dir() -> Path:
    return _PACKAGE / "suite"


@functools.cache
def schemas() -> dict[str, dict[str, Any]]:
    """Every schema, keyed by file name relative to ``schemas/`` (e.g. ``report.schema.json``)."""
    root = schemas_dir()
    return {
        path.relative_to(root).as_posix(): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(root.rglob("*.json"))
    }


@functools.cache
def registry() -> Registry:
    """One ``referencing`` registry holding every schema under its ``$id``."""
    from referencing import Registry, Resource

    pairs = []
    for schema in schemas().values():
        resource = Resource.from_contents(schema)
        uri = resource.id()
        if uri:
            pairs.append((uri, resource))
    return Registry().with_resources(pairs)


def validator_for(name: str) -> Any:
    """A Draft 2020-12 validator for the schema file ``name`` (e.g. ``report.schema.json``)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schemas()[name], registry=registry())
