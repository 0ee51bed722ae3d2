"""The pytest11 entry point: options and markers only.

Kept thin on purpose: it is loaded into every pytest run in an environment
where the kit is installed, so it imports nothing heavy.  The real work lives
in :mod:`conformance._runner`, registered only when ``--impl`` is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from conformance._options import add_options, option

if TYPE_CHECKING:
    from collections.abc import Sequence


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's plugin reads --hypothesis-seed
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requirement(*ids): the spec requirement(s) this test checks, e.g. requirement('HIST-004')"
    )
    if config.getoption("conformance_impl") == "":
        msg = "--impl is empty; give MODULE[:OBJECT], e.g. --impl=reference_impl"
        raise pytest.UsageError(msg)
    if option(config, "conformance_impl"):
        from conformance._runner import KitPlugin

        config.pluginmanager.register(KitPlugin(config), KitPlugin.NAME)


def pytest_collection_modifyitems(config: pytest.Config, items: Sequence[pytest.Item]) -> None:
    if option(config, "conformance_impl"):
        return
    if any(item.get_closest_marker("requirement") for item in items):
        msg = (
            "the conformance suite needs an implementation to test: "
            "pytest --impl=MODULE[:OBJECT], e.g. pytest --impl=reference_impl"
        )
        raise pytest.UsageError(msg)
