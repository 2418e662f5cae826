"""Fixtures for the tests against the fake Microsoft and the state stores (the fake Bot Connector is in tests/conftest.py).

`clock`, `tenant`, `fake` and `http` serve the Graph tests: a module overrides any of them (its own
tenant, an 8x8 fake), and one that uses `http` says which `retry_policy` its client follows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sources.http import HttpClient, RetryPolicy
from tests.fakes.graph_fixtures import Clock, contoso
from tests.fakes.graph_server import FakeMicrosoft, FakeTenant
from tests.http.graph_helpers import NOW
from tests.storage_backends import state_url  # noqa: F401  (the fixture for the state-store tests)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def tenant() -> FakeTenant:
    return contoso(NOW)


@pytest.fixture
async def fake(trust_test_ca, tenant) -> AsyncIterator[FakeMicrosoft]:
    async with FakeMicrosoft(trust_test_ca, tenant) as server:
        yield server


@pytest.fixture
async def http(clock, retry_policy: RetryPolicy) -> AsyncIterator[HttpClient]:
    """A client whose back-off sleeps on the test's clock: waits are measured, never spent."""
    client = HttpClient(retry_policy, sleep=clock.sleep)
    yield client
    await client.close()
