"""The embedded default: one SQLite file (WAL mode) for bot state and cases.

Why one connection on one thread: sqlite3 blocks, so every statement runs on a private
single-thread executor, never on the event loop; one connection on one thread also serialises this
process's writes without any lock of ours. Writes take SQLite's write lock up front
(`BEGIN IMMEDIATE`), so a read-modify-write (an eTag check, a case change, a follow-up claim) is
atomic even against another process on the same file — two app instances on one file cannot both
claim a follow-up. WAL lets readers go on while one writes; `busy_timeout` makes a writer wait for
another instead of failing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bot.cases.model import Case
from bot.cases.store import CaseExistsError, CaseNotFoundError, utc_now
from bot.diagnosis.times import as_utc
from bot.state.common import DatabaseCaseStore, DatabaseStorage, SharedDatabase, changed, error_text
from bot.state.errors import ETagConflictError, StateStoreError
from bot.state.schema import (
    CASES_TABLE,
    META_TABLE,
    SCHEMA_VERSION,
    STATE_TABLE,
    case_document,
    case_from_row,
)

T = TypeVar("T")
BUSY_TIMEOUT_SECONDS = 30.0
MAX_KEYS_PER_QUERY = 500  # below SQLite's limit on bound parameters

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {META_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {STATE_TABLE} (
    key TEXT PRIMARY KEY,
    etag TEXT NOT NULL,
    document TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {CASES_TABLE} (
    id TEXT PRIMARY KEY,
    tenant_id TEXT,
    status TEXT NOT NULL,
    recheck_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    lease_due TEXT,
    retry_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {CASES_TABLE}_due ON {CASES_TABLE} (status, recheck_at);
CREATE INDEX IF NOT EXISTS {CASES_TABLE}_tenant ON {CASES_TABLE} (tenant_id, status);
"""


def ts(value: datetime | None) -> str | None:
    """Fixed-width UTC text, so that comparing strings compares times."""
    return None if value is None else as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_ts(value: str | None) -> datetime | None:
    return None if value is None else as_utc(datetime.fromisoformat(value))


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that holds SQLite's write lock from its first statement."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class SqliteDatabase(SharedDatabase):
    """One SQLite file: its connection, the thread it runs on, and who still uses it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> SqliteDatabase:
        """Create the parent directory, the file and the tables on first start; WAL mode."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-state")
        try:
            self._conn = await self._submit(self._connect)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise
        return self

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise StateStoreError(
                f"The SQLite state store {str(self.path)!r} cannot be opened: {error}."
            ) from error
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            with immediate(conn):
                for statement in filter(str.strip, SCHEMA.split(";")):
                    conn.execute(statement)
                conn.execute(
                    f"INSERT INTO {META_TABLE} (name, value) VALUES ('schema_version', ?) ON CONFLICT (name) DO NOTHING",
                    (str(SCHEMA_VERSION),),
                )
        except sqlite3.DatabaseError as error:
            conn.close()
            raise StateStoreError(
                f"The SQLite state store {str(self.path)!r} cannot be used: {error} (is it a SQLite database?)."
            ) from error
        return conn

    async def close(self) -> None:
        if self._executor is None:
            return
        conn, executor = self._conn, self._executor
        self._conn, self._executor = None, None
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(executor, conn.close)
        executor.shutdown(wait=True)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` on the database thread."""
        if self._conn is None:
            raise StateStoreError(f"The SQLite state store {str(self.path)!r} is closed.")
        conn = self._conn
        return await self._submit(lambda: work(conn))

    async def _submit(self, work: Callable[[], T]) -> T:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)


# ------------------------------------------------------------------------------------------------
# Bot state


class SqliteStorage(DatabaseStorage):
    """botbuilder `Storage` in SQLite, with MemoryStorage's eTag rules (see `DatabaseStorage`)."""

    _db: SqliteDatabase

    async def _select(self, keys: list[str]) -> list[tuple[str, str, str]]:
        return await self._db.run(lambda conn: _select_state(conn, keys))

    async def _upsert(self, prepared: list[tuple[str, str | None, str]]) -> list[str]:
        return await self._db.run(lambda conn: _upsert_state(conn, prepared))

    async def _delete(self, keys: list[str]) -> None:
        await self._db.run(lambda conn: _delete_state(conn, keys))


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), MAX_KEYS_PER_QUERY):
        yield keys[start : start + MAX_KEYS_PER_QUERY]


def _select_state(conn: sqlite3.Connection, keys: list[str]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for chunk in _chunks(keys):
        marks = ",".join("?" * len(chunk))
        rows += conn.execute(
            f"SELECT key, etag, document FROM {STATE_TABLE} WHERE key IN ({marks})", chunk
        ).fetchall()
    return rows


def _upsert_state(conn: sqlite3.Connection, prepared: list[tuple[str, str | None, str]]) -> list[str]:
    now = ts(utc_now())
    etags: list[str] = []
    with immediate(conn):
        for key, expected, document in prepared:
            etag = uuid.uuid4().hex
            row = conn.execute(
                f"""INSERT INTO {STATE_TABLE} (key, etag, document, updated_at) VALUES (?1, ?2, ?3, ?4)
                    ON CONFLICT (key) DO UPDATE SET etag = ?2, document = ?3, updated_at = ?4
                    WHERE ?5 IS NULL OR {STATE_TABLE}.etag = ?5
                    RETURNING etag""",
                (key, etag, document, now, expected),
            ).fetchone()
            if row is None:
                raise ETagConflictError(key)
            etags.append(etag)
    return etags


def _delete_state(conn: sqlite3.Connection, keys: list[str]) -> None:
    with immediate(conn):
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            conn.execute(f"DELETE FROM {STATE_TABLE} WHERE key IN ({marks})", chunk)


# ------------------------------------------------------------------------------------------------
# Cases

_CASE_COLUMNS = "document, status, recheck_at, attempts"
_DUE = """status <> 'resolved' AND recheck_at IS NOT NULL AND recheck_at <= :now
          AND (lease_until IS NULL OR lease_until <= :now) AND (retry_at IS NULL OR retry_at <= :now)"""


def _case(row: tuple[str, str, str | None, int]) -> Case:
    document, status, recheck_at, attempts = row
    return case_from_row(document, status, from_ts(recheck_at), attempts)


class SqliteCaseStore(DatabaseCaseStore):
    """Cases in the SQLite file; see `bot.cases.store` for the contract."""

    _db: SqliteDatabase

    async def create(self, case: Case) -> Case:
        def insert(conn: sqlite3.Connection) -> None:
            try:
                with immediate(conn):
                    conn.execute(
                        f"""INSERT INTO {CASES_TABLE} (id, tenant_id, status, recheck_at, created_at, updated_at, document)
                            VALUES (?, ?, ?, ?, ?, ?, ?)""",
                        (
                            case.id,
                            case.tenant_id,
                            case.status,
                            ts(case.recheck_at),
                            ts(case.created_at),
                            ts(case.updated_at),
                            case_document(case),
                        ),
                    )
            except sqlite3.IntegrityError as error:
                raise CaseExistsError(case.id) from error

        await self._db.run(insert)
        return case

    async def get(self, case_id: str) -> Case | None:
        row = await self._db.run(
            lambda conn: conn.execute(
                f"SELECT {_CASE_COLUMNS} FROM {CASES_TABLE} WHERE id = ?", (case_id,)
            ).fetchone()
        )
        return _case(row) if row else None

    async def _select(self, statuses: list[str], tenant_id: str | None, limit: int) -> list[Case]:
        marks = ",".join("?" * len(statuses))
        where = f"status IN ({marks})" + (" AND tenant_id = ?" if tenant_id is not None else "")
        params: list[Any] = [*statuses, *([tenant_id] if tenant_id is not None else []), limit]
        rows = await self._db.run(
            lambda conn: conn.execute(
                f"""SELECT {_CASE_COLUMNS} FROM {CASES_TABLE} WHERE {where}
                    ORDER BY recheck_at IS NULL, recheck_at, created_at DESC LIMIT ?""",
                params,
            ).fetchall()
        )
        return [_case(row) for row in rows]

    async def _mutate(self, case_id: str, change: Callable[[Case], Case]) -> Case:
        def mutate(conn: sqlite3.Connection) -> Case:
            with immediate(conn):
                row = conn.execute(
                    f"SELECT {_CASE_COLUMNS} FROM {CASES_TABLE} WHERE id = ?", (case_id,)
                ).fetchone()
                if row is None:
                    raise CaseNotFoundError(case_id)
                after, moved = changed(_case(row), change)
                conn.execute(
                    f"""UPDATE {CASES_TABLE} SET tenant_id = ?, status = ?, recheck_at = ?, updated_at = ?, document = ?,
                        retry_at = CASE WHEN ? THEN NULL ELSE retry_at END,
                        attempts = CASE WHEN ? THEN 0 ELSE attempts END
                        WHERE id = ?""",
                    (
                        after.tenant_id,
                        after.status,
                        ts(after.recheck_at),
                        ts(after.updated_at),
                        case_document(after),
                        moved,
                        moved,
                        case_id,
                    ),
                )
                return after

        return await self._db.run(mutate)

    async def claim_due(
        self, now: datetime, owner: str, lease_seconds: float = 300, *, limit: int = 10
    ) -> list[Case]:
        params = {
            "now": ts(now),
            "owner": owner,
            "until": ts(now + timedelta(seconds=lease_seconds)),
            "limit": limit,
        }

        def claim(conn: sqlite3.Connection) -> list[Case]:
            with immediate(conn):
                ids = [
                    row[0]
                    for row in conn.execute(
                        f"SELECT id FROM {CASES_TABLE} WHERE {_DUE} ORDER BY recheck_at LIMIT :limit", params
                    )
                ]
                cases = []
                for case_id in ids:
                    conn.execute(
                        f"""UPDATE {CASES_TABLE} SET lease_owner = :owner, lease_until = :until, lease_due = recheck_at
                            WHERE id = :id""",
                        {**params, "id": case_id},
                    )
                    row = conn.execute(
                        f"SELECT {_CASE_COLUMNS} FROM {CASES_TABLE} WHERE id = ?", (case_id,)
                    ).fetchone()
                    cases.append(_case(row))
                return cases

        return await self._db.run(claim)

    async def complete_followup(self, case_id: str, owner: str) -> bool:
        def complete(conn: sqlite3.Connection) -> bool:
            with immediate(conn):
                cursor = conn.execute(
                    f"""UPDATE {CASES_TABLE} SET
                          recheck_at = CASE WHEN recheck_at <= lease_due THEN NULL ELSE recheck_at END,
                          lease_owner = NULL, lease_until = NULL, lease_due = NULL,
                          retry_at = NULL, attempts = 0, last_error = NULL
                        WHERE id = ? AND lease_owner = ?""",
                    (case_id, owner),
                )
                return cursor.rowcount == 1

        return await self._db.run(complete)

    async def fail_followup(self, case_id: str, owner: str, *, retry_at: datetime, error: str = "") -> bool:
        def fail(conn: sqlite3.Connection) -> bool:
            with immediate(conn):
                cursor = conn.execute(
                    f"""UPDATE {CASES_TABLE} SET
                          lease_owner = NULL, lease_until = NULL, lease_due = NULL,
                          retry_at = ?, attempts = attempts + 1, last_error = ?
                        WHERE id = ? AND lease_owner = ?""",
                    (ts(retry_at), error_text(error), case_id, owner),
                )
                return cursor.rowcount == 1

        return await self._db.run(fail)

    async def next_due(self) -> datetime | None:
        value = await self._db.run(
            lambda conn: conn.execute(
                f"""SELECT MIN(MAX(recheck_at, COALESCE(retry_at, recheck_at), COALESCE(lease_until, recheck_at)))
                    FROM {CASES_TABLE} WHERE status <> 'resolved' AND recheck_at IS NOT NULL"""
            ).fetchone()[0]
        )
        return from_ts(value)
