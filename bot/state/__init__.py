"""Durable bot state and cases: SQLite by default, PostgreSQL for several instances.

    storage, cases = await open_storage(settings.state_store)
    conversation_state = ConversationState(storage)   # dialogs continue after a restart
    ...
    await cases.close(); await storage.close()        # the connection closes with the last of them

`STATE_STORE` (Settings.state_store) chooses the backend:

- `sqlite:///data/voice-doctor.db` — a file relative to the working directory (`sqlite:////abs/x.db`
  for an absolute path); the directory and file are created on first start, WAL mode;
- `postgresql://user:password@host:5432/db` (or `postgres://`) — asyncpg; extra query parameters
  are server settings (e.g. `?search_path=voice_doctor`).

Both backends hold the same two tables (see `bot.state.schema`) and behave the same; the contract
tests run against both. docs/state.md has the details.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from botbuilder.core import Storage

from bot.cases.store import CaseStore, Clock, utc_now
from bot.state.codec import DEFAULT_ALLOWED_MODULES
from bot.state.errors import ETagConflictError, StateStoreError
from bot.state.postgres import PostgresCaseStore, PostgresDatabase, PostgresStorage, redact
from bot.state.sqlite import SqliteCaseStore, SqliteDatabase, SqliteStorage

__all__ = [
    "ETagConflictError",
    "PostgresCaseStore",
    "PostgresStorage",
    "SqliteCaseStore",
    "SqliteStorage",
    "StateStoreError",
    "open_storage",
    "sqlite_path",
]

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def sqlite_path(url: str) -> Path:
    """The file a `sqlite:///` URL names: `sqlite:///rel/x.db` is relative, `sqlite:////abs/x.db` absolute."""
    path = url[len(SQLITE_PREFIX) :].split("?", 1)[0]
    if not path or path.endswith("/"):
        raise StateStoreError(f"STATE_STORE={url!r} names no file: use sqlite:///data/voice-doctor.db.")
    if path == ":memory:":
        raise StateStoreError(
            "STATE_STORE cannot be an in-memory SQLite database: state must survive a restart."
        )
    return Path(path)


async def open_storage(
    url: str, *, clock: Clock = utc_now, allowed_modules: Iterable[str] = DEFAULT_ALLOWED_MODULES
) -> tuple[Storage, CaseStore]:
    """Open the store `url` names: bot state (botbuilder `Storage`) and cases over one connection.

    Raises `StateStoreError` (one sentence, no password) when the URL is unusable or the database
    cannot be reached. `clock` stamps case changes (tests inject theirs).
    """
    if url.startswith(SQLITE_PREFIX):
        sqlite = await SqliteDatabase(sqlite_path(url)).open()
        return SqliteStorage(sqlite, allowed_modules=allowed_modules), SqliteCaseStore(sqlite, clock)
    if url.startswith(POSTGRES_PREFIXES):
        postgres = await PostgresDatabase(url).open()
        return PostgresStorage(postgres, allowed_modules=allowed_modules), PostgresCaseStore(postgres, clock)
    raise StateStoreError(
        f"STATE_STORE={redact(url)!r} is not valid: use sqlite:///path/file.db or a postgresql:// URL."
    )
