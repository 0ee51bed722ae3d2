"""The schemas: valid 2020-12, described, resolvable from one registry, and true to real data."""

from __future__ import annotations

import json

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from conformance._data import registry, requirements_dir, schemas, validator_for

NAMES = sorted(schemas())


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_draft_2020_12(name):
    Draft202012Validator.check_schema(schemas()[name])


@pytest.mark.parametrize("name", NAMES)
def test_schema_has_a_stable_id_and_a_description(name):
    schema = schemas()[name]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("urn:agent-session-conformance:schema:")
    assert schema.get("description", "").strip(), f"{name} needs a description"


def test_schema_ids_are_unique():
    ids = [s["$id"] for s in schemas().values()]
    assert len(ids) == len(set(ids))


def refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


@pytest.mark.parametrize("name", NAMES)
def test_every_reference_resolves_in_the_registry(name):
    schema = schemas()[name]
    resolver = registry().resolver(base_uri=schema["$id"])
    for ref in refs(schema):
        try:
            resolver.lookup(ref)
        except Unresolvable as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{name}: $ref {ref!r} does not resolve: {exc}")


@pytest.mark.parametrize("name", NAMES)
def test_schema_examples_are_valid(name):
    schema = schemas()[name]
    validator = validator_for(name)
    for example in schema.get("examples", []):
        errors = list(validator.iter_errors(example))
        assert not errors, f"{name}: example {json.dumps(example)[:80]} is invalid: {errors[0].message}"


@pytest.mark.parametrize("path", sorted(requirements_dir().glob("*.yaml")), ids=lambda p: p.name)
def test_requirement_index_files_match_their_schema(path):
    validator = validator_for("requirements-index.schema.json")
    errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
    assert not errors, errors[0].message


def test_report_schema_rejects_a_report_missing_a_requirement_outcome():
    validator = validator_for("report.schema.json")
    row = {
        "id": "HIST-001",
        "level": "MUST",
        "area": "hist",
        "title": "t",
        "capability": "hist",
        "anchor": "a",
        "tests": [],
    }
    errors = list(validator.iter_errors({"report_version": "1"}))
    assert errors
    requirement = {"$ref": schemas()["report.schema.json"]["$id"] + "#/$defs/requirement"}
    row_validator = Draft202012Validator(requirement, registry=registry())
    assert list(row_validator.iter_errors(row)), "a requirement row without an outcome must be invalid"
    assert not list(row_validator.iter_errors({**row, "outcome": "passed"}))
    assert list(row_validator.iter_errors({**row, "outcome": "failed"})), "failed rows need failure_kinds"
