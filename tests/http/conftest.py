"""Fixtures for tests that run the real app on loopback."""

from __future__ import annotations

import pytest

from tests.fakes.connector import FakeConnector
from tests.storage_backends import postgres_url, state_url  # noqa: F401  (fixtures for the state-store tests)


@pytest.fixture
async def connector():
    """A fake Bot Connector to use as the activities' serviceUrl."""
    fake = await FakeConnector().start()
    yield fake
    await fake.stop()
