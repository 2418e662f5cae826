"""Fixtures that give a test a fresh state store URL, once per backend (SQLite and PostgreSQL).

Use them by importing into a test module:

    from tests.storage_backends import FakeClock, postgres_url, state_url  # noqa: F401

- `state_url` is parametrised: every test using it runs against a fresh SQLite file (in a directory
  that does not exist yet, so "created on first start" is exercised) and against a fresh schema of
  the PostgreSQL server named by `VOICE_DOCTOR_TEST_POSTGRES_URL`.
- Without that variable the PostgreSQL cases skip with the reason — except under CI (`CI` set),
  where they fail: CI must run them. Start a server with `scripts/postgres.sh`.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.fakes.graph_fixtures import Clock

POSTGRES_ENV = "VOICE_DOCTOR_TEST_POSTGRES_URL"
NO_POSTGRES = (
    f"{POSTGRES_ENV} is not set: start a throwaway server with "
    f'`export {POSTGRES_ENV}="$(scripts/postgres.sh)"` to run the PostgreSQL cases.'
)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test server's URL; skips without one (fails under CI, where it must be there)."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{NO_POSTGRES} CI is set, so this is a failure, not a skip.")
        pytest.skip(NO_POSTGRES)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def state_url(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    """A STATE_STORE URL naming an empty store of the parametrised backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/not-yet/state.db"
        return
    base = request.getfixturevalue("postgres_url")
    async for url in fresh_schema(base):
        yield url


async def fresh_schema(base: str) -> AsyncIterator[str]:
    """A schema of its own per test (dropped afterwards): tests never see each other's rows."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}search_path={schema}"
    finally:
        conn = await asyncpg.connect(base)
        try:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            await conn.close()


class FakeClock(Clock):
    """The tests' clock (`tests.fakes.graph_fixtures.Clock`) starting at a fixed morning, whose
    `sleep` also yields to the event loop once, so a scheduler loop runs through hours of schedule
    at the speed of its database calls."""

    def __init__(self, start: datetime | None = None):
        super().__init__(start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        await asyncio.sleep(0)


def demo_engine(clock: FakeClock):
    """The real diagnosis engine over the embedded demo tenant, on the test's clock."""
    from bot.diagnosis.engine import Engine
    from bot.sources.demo import DemoTenant

    tenant = DemoTenant.load(clock)
    return Engine(tenant.microsoft, tenant.eightbyeight, tenant.portal, data_source="demo", clock=clock)
