"""Opening the store from STATE_STORE: files created on first start, WAL, clear errors, no secrets."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.state import StateStoreError, open_storage, sqlite_path
from bot.state.postgres import redact


def test_sqlite_urls_name_relative_and_absolute_files() -> None:
    assert sqlite_path("sqlite:///data/voice-doctor.db") == Path("data/voice-doctor.db")
    assert sqlite_path("sqlite:////var/lib/vd/state.db") == Path("/var/lib/vd/state.db")


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite:///data/", "sqlite:///:memory:"])
def test_sqlite_urls_without_a_durable_file_are_refused(url: str) -> None:
    with pytest.raises(StateStoreError) as error:
        sqlite_path(url)
    assert str(error.value).count(".") >= 1 and "\n" not in str(error.value)


async def test_the_default_store_is_created_under_data_on_first_start(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={}, env_file=None)
    storage, cases = await open_storage(settings.state_store)
    await storage.write({"k": {"v": 1}})
    await storage.close()
    await cases.close()
    database = tmp_path / "data" / "voice-doctor.db"
    assert database.is_file()
    with sqlite3.connect(database) as conn:  # WAL is a property of the file, kept after close
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"voice_doctor_state", "voice_doctor_cases"} <= tables


async def test_a_file_that_is_not_sqlite_is_one_clear_sentence(tmp_path) -> None:
    bogus = tmp_path / "state.db"
    bogus.write_text("this is a text file, not a database " * 100)
    with pytest.raises(StateStoreError, match=r"cannot be used: .* \(is it a SQLite database\?\)\.$"):
        await open_storage(f"sqlite:///{bogus}")


async def test_a_directory_that_cannot_be_created_is_one_clear_sentence(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StateStoreError, match="cannot be opened"):
        await open_storage(f"sqlite:///{blocker}/sub/state.db")


@pytest.mark.parametrize("url", ["mysql://admin:s3cr3t-pw@db/x", "redis://:s3cr3t-pw@cache"])
async def test_an_unknown_scheme_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(StateStoreError) as error:
        await open_storage(url)
    assert "s3cr3t-pw" not in str(error.value)
    assert "sqlite:///" in str(error.value)


async def test_an_unreachable_postgres_is_one_sentence_without_the_password(unused_tcp_port: int) -> None:
    url = f"postgresql://voice:s3cr3t-pw@127.0.0.1:{unused_tcp_port}/vd"
    with pytest.raises(StateStoreError) as error:
        await open_storage(url)
    message = str(error.value)
    assert "s3cr3t-pw" not in message and "***" in message
    assert message.startswith("The PostgreSQL state store postgresql://voice:***@127.0.0.1:")


async def test_a_wrong_postgres_password_is_reported_without_it(postgres_url) -> None:
    """The test server trusts loopback, so use a role that does not exist instead."""
    url = postgres_url.replace("postgresql://postgres@", "postgresql://nobody:s3cr3t-pw@")
    with pytest.raises(StateStoreError) as error:
        await open_storage(url)
    assert "s3cr3t-pw" not in str(error.value)
    assert "nobody" in str(error.value)


def test_redact_keeps_everything_but_the_password() -> None:
    assert (
        redact("postgresql://u:p@h:5432/db?sslmode=require") == "postgresql://u:***@h:5432/db?sslmode=require"
    )
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact("postgresql://u:p@[::1]:5432/db") == "postgresql://u:***@[::1]:5432/db"


async def test_the_connection_closes_with_the_last_user(tmp_path) -> None:
    storage, cases = await open_storage(f"sqlite:///{tmp_path}/s.db")
    await storage.close()
    await storage.close()  # closing twice is harmless
    assert await cases.list() == []  # the case store still has the connection
    await cases.close()
    with pytest.raises(StateStoreError, match="is closed"):
        await cases.list()


async def test_two_instances_start_at_once_on_one_postgres(postgres_url) -> None:
    """Schema creation is serialised (advisory lock): racing first starts both succeed."""
    import asyncio

    from tests.storage_backends import fresh_schema

    async for url in fresh_schema(postgres_url):
        opened = await asyncio.gather(*(open_storage(url) for _ in range(4)))
        for storage, cases in opened:
            await storage.write({"k": {"v": 1}})
            await storage.close()
            await cases.close()
