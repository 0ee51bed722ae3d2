"""The pytest11 entry point: options and markers only.

Kept thin on purpose: it is loaded into every pytest run in an environment
where the kit is installed, so it imports nothing heavy.  The real work lives
in :mod:`conformance._session`, registered only when ``--impl`` is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Sequence

_OPTIONS = (
    # (flag, ini name, kind, help)
    (
        "--impl",
        "conformance_impl",
        "string",
        (
            "implementation under test: MODULE[:OBJECT] (spec/contract.md), "
            "or exec:COMMAND for an adapter in any language (spec/adapter-protocol.md)"
        ),
    ),
    ("--conformance-report", "conformance_report", "string", "write the JSON report (schemas/report.schema.json)"),
    ("--conformance-markdown", "conformance_markdown", "string", "write a Markdown summary (for a CI step summary)"),
    ("--conformance-strict", "conformance_strict", "bool", "fail the run on SHOULD/MAY failures too"),
    (
        "--conformance-depth",
        "conformance_depth",
        "string",
        "Hypothesis budget: quick (default), deep, or fast (quick without shrinking failures)",
    ),
    ("--conformance-timeout", "conformance_timeout", "string", "seconds one operation may take (default 10)"),
    (
        "--conformance-debug-protocol",
        "conformance_debug_protocol",
        "bool",
        "exec: adapters: validate every message in both directions against schemas/protocol/",
    ),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "agent-session conformance kit")
    for flag, ini, kind, text in _OPTIONS:
        dest = ini
        if kind == "bool":
            group.addoption(flag, action="store_true", default=None, dest=dest, help=text)
            parser.addini(ini, text + " (ini twin of " + flag + ")", type="bool", default=False)
        else:
            group.addoption(flag, action="store", default=None, dest=dest, help=text)
            parser.addini(ini, text + " (ini twin of " + flag + ")", default="")


def option(config: pytest.Config, name: str) -> object:
    """The command line wins over the ini file."""
    value = config.getoption(name)
    return config.getini(name) if value is None else value


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's plugin reads --hypothesis-seed
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requirement(*ids): the spec requirement(s) this test checks, e.g. requirement('HIST-004')"
    )
    if config.getoption("conformance_impl") == "":
        msg = "--impl is empty; give MODULE[:OBJECT], e.g. --impl=reference_impl"
        raise pytest.UsageError(msg)
    if option(config, "conformance_impl"):
        from conformance._session import KitSession

        config.pluginmanager.register(KitSession(config), KitSession.NAME)


def pytest_collection_modifyitems(config: pytest.Config, items: Sequence[pytest.Item]) -> None:
    if option(config, "conformance_impl"):
        return
    if any(item.get_closest_marker("requirement") for item in items):
        msg = (
            "the conformance suite needs an implementation to test: "
            "pytest --impl=MODULE[:OBJECT], e.g. pytest --impl=reference_impl"
        )
        raise pytest.UsageError(msg)
