"""PostgreSQL for several instances: bot state and cases on one server (asyncpg).

Why it is safe with several instances: an eTag-checked write is one `INSERT … ON CONFLICT DO
UPDATE … WHERE etag = $expected` statement, which PostgreSQL evaluates against the latest committed
row, so of two writers holding the same eTag exactly one wins. Case changes lock their row
(`SELECT … FOR UPDATE`), and follow-ups are claimed with `FOR UPDATE SKIP LOCKED`: an instance
skips the cases another is claiming instead of waiting for them, and a claimed case carries a lease
that keeps every other instance off it until the lease is released or runs out.

Documents are `json`, not `jsonb`: jsonpickle's references (`py/id`) count objects in the order
they were written, and `jsonb` would reorder keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.cases.model import Case
from bot.cases.store import CaseExistsError, CaseNotFoundError
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

SCHEMA_LOCK = 0x766F6963_65646F63  # "voicedoc": serialises schema creation between instances
CONNECT_TIMEOUT_SECONDS = 10.0
COMMAND_TIMEOUT_SECONDS = 60.0

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {META_TABLE} (name text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS {STATE_TABLE} (
    key text PRIMARY KEY,
    etag text NOT NULL,
    document json NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS {CASES_TABLE} (
    id text PRIMARY KEY,
    tenant_id text,
    status text NOT NULL,
    recheck_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    lease_owner text,
    lease_until timestamptz,
    lease_due timestamptz,
    retry_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    document json NOT NULL
);
CREATE INDEX IF NOT EXISTS {CASES_TABLE}_due ON {CASES_TABLE} (status, recheck_at);
CREATE INDEX IF NOT EXISTS {CASES_TABLE}_tenant ON {CASES_TABLE} (tenant_id, status);
INSERT INTO {META_TABLE} (name, value) VALUES ('schema_version', '{SCHEMA_VERSION}') ON CONFLICT (name) DO NOTHING;
"""


def redact(url: str) -> str:
    """The URL without its password, fit for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresDatabase(SharedDatabase):
    """A connection pool to one PostgreSQL database, and who still uses it."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10):
        self.url = url
        self._min_size, self._max_size = min_size, max_size
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> PostgresDatabase:
        """Connect and create the tables on first start (under an advisory lock: instances may race)."""
        try:
            self.pool = await asyncpg.create_pool(
                dsn=self.url,
                min_size=self._min_size,
                max_size=self._max_size,
                timeout=CONNECT_TIMEOUT_SECONDS,
                command_timeout=COMMAND_TIMEOUT_SECONDS,
            )
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
                await conn.execute(SCHEMA)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
            await self.close()
            reason = str(error).replace(self.url, redact(self.url)) or type(error).__name__
            raise StateStoreError(
                f"The PostgreSQL state store {redact(self.url)} cannot be used: {reason}."
            ) from error
        return self

    async def close(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            await pool.close()

    def connection(self):  # -> asyncpg pool acquire context
        if self.pool is None:
            raise StateStoreError(f"The PostgreSQL state store {redact(self.url)} is closed.")
        return self.pool.acquire()


# ------------------------------------------------------------------------------------------------
# Bot state


class PostgresStorage(DatabaseStorage):
    """botbuilder `Storage` in PostgreSQL, with MemoryStorage's eTag rules (see `DatabaseStorage`)."""

    _db: PostgresDatabase

    async def _select(self, keys: list[str]) -> list[tuple[str, str, str]]:
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                f"SELECT key, etag, document::text AS document FROM {STATE_TABLE} WHERE key = ANY($1::text[])",
                keys,
            )
        return [(row["key"], row["etag"], row["document"]) for row in rows]

    async def _upsert(self, prepared: list[tuple[str, str | None, str]]) -> list[str]:
        etags: list[str] = []
        async with self._db.connection() as conn, conn.transaction():
            for key, expected, document in prepared:
                etag = uuid.uuid4().hex
                stored = await conn.fetchval(
                    f"""INSERT INTO {STATE_TABLE} (key, etag, document, updated_at) VALUES ($1, $2, $3::json, now())
                        ON CONFLICT (key) DO UPDATE
                          SET etag = EXCLUDED.etag, document = EXCLUDED.document, updated_at = EXCLUDED.updated_at
                          WHERE $4::text IS NULL OR {STATE_TABLE}.etag = $4::text
                        RETURNING etag""",
                    key,
                    etag,
                    document,
                    expected,
                )
                if stored is None:
                    raise ETagConflictError(key)
                etags.append(etag)
        return etags

    async def _delete(self, keys: list[str]) -> None:
        async with self._db.connection() as conn:
            await conn.execute(f"DELETE FROM {STATE_TABLE} WHERE key = ANY($1::text[])", keys)


# ------------------------------------------------------------------------------------------------
# Cases

_CASE_COLUMNS = "document::text AS document, status, recheck_at, attempts"
_DUE = """status <> 'resolved' AND recheck_at IS NOT NULL AND recheck_at <= $1
          AND (lease_until IS NULL OR lease_until <= $1) AND (retry_at IS NULL OR retry_at <= $1)"""


def _case(row: asyncpg.Record) -> Case:
    return case_from_row(row["document"], row["status"], row["recheck_at"], row["attempts"])


class PostgresCaseStore(DatabaseCaseStore):
    """Cases in PostgreSQL; see `bot.cases.store` for the contract."""

    _db: PostgresDatabase

    async def create(self, case: Case) -> Case:
        async with self._db.connection() as conn:
            try:
                await conn.execute(
                    f"""INSERT INTO {CASES_TABLE} (id, tenant_id, status, recheck_at, created_at, updated_at, document)
                        VALUES ($1, $2, $3, $4, $5, $6, $7::json)""",
                    case.id,
                    case.tenant_id,
                    case.status,
                    case.recheck_at,
                    case.created_at,
                    case.updated_at,
                    case_document(case),
                )
            except asyncpg.UniqueViolationError as error:
                raise CaseExistsError(case.id) from error
        return case

    async def get(self, case_id: str) -> Case | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(f"SELECT {_CASE_COLUMNS} FROM {CASES_TABLE} WHERE id = $1", case_id)
        return _case(row) if row else None

    async def _select(self, statuses: list[str], tenant_id: str | None, limit: int) -> list[Case]:
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                f"""SELECT {_CASE_COLUMNS} FROM {CASES_TABLE}
                    WHERE status = ANY($1::text[]) AND ($2::text IS NULL OR tenant_id = $2::text)
                    ORDER BY recheck_at ASC NULLS LAST, created_at DESC LIMIT $3""",
                statuses,
                tenant_id,
                limit,
            )
        return [_case(row) for row in rows]

    async def _mutate(self, case_id: str, change: Callable[[Case], Case]) -> Case:
        async with self._db.connection() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"SELECT {_CASE_COLUMNS} FROM {CASES_TABLE} WHERE id = $1 FOR UPDATE", case_id
            )
            if row is None:
                raise CaseNotFoundError(case_id)
            after, moved = changed(_case(row), change)
            await conn.execute(
                f"""UPDATE {CASES_TABLE} SET tenant_id = $2, status = $3, recheck_at = $4, updated_at = $5,
                      document = $6::json,
                      retry_at = CASE WHEN $7 THEN NULL ELSE retry_at END,
                      attempts = CASE WHEN $7 THEN 0 ELSE attempts END
                    WHERE id = $1""",
                case_id,
                after.tenant_id,
                after.status,
                after.recheck_at,
                after.updated_at,
                case_document(after),
                moved,
            )
        return after

    async def claim_due(
        self, now: datetime, owner: str, lease_seconds: float = 300, *, limit: int = 10
    ) -> list[Case]:
        async with self._db.connection() as conn, conn.transaction():
            rows = await conn.fetch(
                f"""WITH due AS (
                        SELECT id FROM {CASES_TABLE} WHERE {_DUE}
                        ORDER BY recheck_at LIMIT $4 FOR UPDATE SKIP LOCKED)
                    UPDATE {CASES_TABLE} AS c SET lease_owner = $2, lease_until = $3, lease_due = c.recheck_at
                    FROM due WHERE c.id = due.id
                    RETURNING c.document::text AS document, c.status, c.recheck_at, c.attempts""",
                now,
                owner,
                now + timedelta(seconds=lease_seconds),
                limit,
            )
        cases = [_case(row) for row in rows]
        return sorted(cases, key=lambda case: case.recheck_at or now)

    async def complete_followup(self, case_id: str, owner: str) -> bool:
        async with self._db.connection() as conn:
            result = await conn.execute(
                f"""UPDATE {CASES_TABLE} SET
                      recheck_at = CASE WHEN recheck_at <= lease_due THEN NULL ELSE recheck_at END,
                      lease_owner = NULL, lease_until = NULL, lease_due = NULL,
                      retry_at = NULL, attempts = 0, last_error = NULL
                    WHERE id = $1 AND lease_owner = $2""",
                case_id,
                owner,
            )
        return result == "UPDATE 1"

    async def fail_followup(self, case_id: str, owner: str, *, retry_at: datetime, error: str = "") -> bool:
        async with self._db.connection() as conn:
            result = await conn.execute(
                f"""UPDATE {CASES_TABLE} SET
                      lease_owner = NULL, lease_until = NULL, lease_due = NULL,
                      retry_at = $3, attempts = attempts + 1, last_error = $4
                    WHERE id = $1 AND lease_owner = $2""",
                case_id,
                owner,
                retry_at,
                error_text(error),
            )
        return result == "UPDATE 1"

    async def next_due(self) -> datetime | None:
        async with self._db.connection() as conn:
            return await conn.fetchval(
                f"""SELECT MIN(GREATEST(recheck_at, retry_at, lease_until)) FROM {CASES_TABLE}
                    WHERE status <> 'resolved' AND recheck_at IS NOT NULL"""
            )
