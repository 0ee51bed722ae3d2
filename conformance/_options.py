"""The kit's command-line options, their ini twins, and how to read them.

Kept apart from the hooks so that every module can read an option without importing
the plugin (and the plugin imports nothing heavy: it is loaded into every pytest run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

#: (flag, ini name, kind, help); kind "bool" is a switch, "list" may be given several times.
OPTIONS = (
    (
        "--impl",
        "conformance_impl",
        "string",
        (
            "implementation under test: MODULE[:OBJECT] (spec/contract.md), "
            "or exec:COMMAND for an adapter in any language (spec/adapter-protocol.md)"
        ),
    ),
    (
        "--requirement",
        "conformance_requirement",
        "list",
        "run only the tests citing these requirements: IDs, comma lists, or an area (HIST); repeatable",
    ),
    (
        "--conformance-baseline",
        "conformance_baseline",
        "string",
        "YAML file of known failures (schemas/baseline.schema.json): green exactly when every failure is listed",
    ),
    (
        "--conformance-write-baseline",
        "conformance_write_baseline",
        "string",
        "write this run's binding failures as a starting baseline file",
    ),
    ("--conformance-report", "conformance_report", "string", "write the JSON report (schemas/report.schema.json)"),
    ("--conformance-markdown", "conformance_markdown", "string", "write a Markdown summary (for a CI step summary)"),
    (
        "--conformance-html",
        "conformance_html",
        "string",
        "write a self-contained HTML report (one file, no external assets): verdict, every requirement, each failure",
    ),
    (
        "--conformance-badge",
        "conformance_badge",
        "string",
        "write an SVG badge: spec version, MUST requirements passed/total, coloured by verdict",
    ),
    (
        "--conformance-spec-url",
        "conformance_spec_url",
        "string",
        "URL of the spec folder (where hist.md is): the Markdown and HTML reports link each requirement there",
    ),
    ("--conformance-strict", "conformance_strict", "bool", "fail the run on SHOULD/MAY failures too"),
    (
        "--conformance-depth",
        "conformance_depth",
        "string",
        "Hypothesis budget: quick (default), deep (more, and failures explained), or fast (quick, failures not shrunk)",
    ),
    ("--conformance-timeout", "conformance_timeout", "string", "seconds one operation may take (default 10)"),
    (
        "--conformance-debug-protocol",
        "conformance_debug_protocol",
        "bool",
        "exec: adapters: validate every message in both directions against schemas/protocol/",
    ),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "agent-session conformance kit")
    for flag, ini, kind, text in OPTIONS:
        twin = f"{text} (ini twin of {flag})"
        if kind == "bool":
            group.addoption(flag, action="store_true", default=None, dest=ini, help=text)
            parser.addini(ini, twin, type="bool", default=False)
        elif kind == "list":
            group.addoption(flag, action="append", default=None, dest=ini, help=text)
            parser.addini(ini, twin, type="args", default=[])
        else:
            group.addoption(flag, action="store", default=None, dest=ini, help=text)
            parser.addini(ini, twin, default="")


def option(config: pytest.Config, name: str) -> object:
    """The command line wins over the ini file."""
    value = config.getoption(name)
    return config.getini(name) if value is None else value
