"""Fixtures shared by the suite's modules (the driver fixtures come from the plugin)."""

from __future__ import annotations

import pytest

from conformance.areas.hist import HistoryClient


@pytest.fixture
def hist(driver):
    """The HIST facade over this test's fresh implementation instance."""
    return HistoryClient(driver)
