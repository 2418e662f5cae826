"""Fixtures that give a test a fresh state store URL, once per backend (SQLite and PostgreSQL).

Use them by importing into a test module:

    from tests.storage_backends import FakeClock, state_url  # noqa: F401

- `state_url` is parametrised: every test using it runs against a fresh SQLite file (in a directory
  that does not exist yet, so "created on first start" is exercised) and against a fresh schema of
  the PostgreSQL server of the run (the `postgres_url` fixture of tests/conftest.py).
- That server is the one `VOICE_DOCTOR_TEST_POSTGRES_URL` names, else a throwaway one that
  `postgres_server` starts with `scripts/postgres.sh` when PostgreSQL's server binaries are
  installed, and stops at the end of the run: `make test` needs no set-up for it. Without the
  binaries the PostgreSQL cases skip, and the run ends with one line saying so and what to install
  (tests/prerequisites.py) — except under CI (`CI` set), where they fail: CI must run them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from tests.fakes.graph_fixtures import Clock
from tests.prerequisites import missing

POSTGRES_ENV = "VOICE_DOCTOR_TEST_POSTGRES_URL"
POSTGRES_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "postgres.sh"
NO_POSTGRES = "PostgreSQL's server binaries (initdb, pg_ctl) are not installed"
HOW_TO_INSTALL = f"Debian/Ubuntu: `apt-get install postgresql`; or set {POSTGRES_ENV} to a server's URL"


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server for this run: `VOICE_DOCTOR_TEST_POSTGRES_URL`'s when set,
    else a throwaway cluster in a directory of its own (so that it never meets another run's),
    started by scripts/postgres.sh and stopped when the block ends. Skips (fails under CI) when
    neither is possible."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        yield url
        return
    if subprocess.run(["bash", str(POSTGRES_SCRIPT), "--check"], capture_output=True).returncode != 0:
        missing(NO_POSTGRES, HOW_TO_INSTALL)
    # Under /tmp, not pytest's tmp_path: as root the server runs as `postgres`, which must reach it.
    env = {**os.environ, "VOICE_DOCTOR_PG_DIR": tempfile.mkdtemp(prefix="voice-doctor-postgres-test-")}
    started = subprocess.run(["bash", str(POSTGRES_SCRIPT)], env=env, capture_output=True, text=True)
    try:
        if started.returncode != 0:
            pytest.fail(f"scripts/postgres.sh could not start a server:\n{started.stderr}")
        yield started.stdout.strip()
    finally:
        subprocess.run(["bash", str(POSTGRES_SCRIPT), "--stop"], env=env, capture_output=True)


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
