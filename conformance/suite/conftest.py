"""Fixtures shared by the suite's modules (the driver fixtures come from the plugin).

Each is an area's facade over this test's fresh implementation instance.
"""

from __future__ import annotations

import pytest

from conformance.areas.hist import HistoryClient
from conformance.areas.id import IdentityClient
from conformance.areas.life import LifeClient
from conformance.areas.store import StoreClient
from conformance.areas.task import TaskClient
from conformance.suite._life_peer import ScriptedClient, ScriptedPeer


@pytest.fixture
def hist(driver):
    return HistoryClient(driver)


@pytest.fixture
def store(driver):
    return StoreClient(driver)


@pytest.fixture
def store_b(replica):
    """The session store of a second replica: another process over the same storage (``store.multi-replica``)."""
    return StoreClient(replica)


@pytest.fixture
def life(driver):
    return LifeClient(driver)


@pytest.fixture
def peer(life):
    """The kit playing the lifecycle server, able to inject faults."""
    return ScriptedPeer(life)


@pytest.fixture
def server(life):
    """The kit playing the client of the lifecycle server under test."""
    return ScriptedClient(life)


@pytest.fixture
def ids(driver):
    return IdentityClient(driver)


@pytest.fixture
def tasks(driver):
    """The task service, as the owner ``alice``."""
    return TaskClient(driver, owner="alice")
