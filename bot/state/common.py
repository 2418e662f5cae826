"""What the SQLite and PostgreSQL backends share: everything but their SQL and their connections.

- `SharedDatabase`: one connection (pool) used by the bot state and the case store; it closes
  when the last of them is closed;
- `DatabaseStorage`: botbuilder `Storage` with MemoryStorage's eTag rules; a backend reads, writes
  and deletes rows of (key, eTag, document);
- `DatabaseCaseStore`: a `CaseStoreBase` over a `SharedDatabase`, with the lease bookkeeping that
  is not SQL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botbuilder.core import Storage

from bot.cases.model import ACTIVE_STATUSES, Case
from bot.cases.store import CaseStoreBase, Clock, utc_now
from bot.state.codec import DEFAULT_ALLOWED_MODULES, decode_item, prepare_write, set_etag
from bot.state.errors import StateStoreError

MAX_ERROR_CHARS = 1000  # how much of a failed follow-up's error is kept


class SharedDatabase(ABC):
    """A database and who still uses it: it closes when the last user releases it."""

    _users = 0

    def acquire(self) -> None:
        self._users += 1

    async def release(self) -> None:
        """One user is done; the connection closes when the last one is."""
        self._users -= 1
        if self._users <= 0:
            await self.close()

    @abstractmethod
    async def close(self) -> None: ...


class _DatabaseUser:
    """Holds a `SharedDatabase` from construction until `close`."""

    def _use(self, db: SharedDatabase) -> None:
        self._db = db
        db.acquire()
        self._closed = False

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._db.release()


class DatabaseStorage(_DatabaseUser, Storage):
    """botbuilder `Storage` in a database, with MemoryStorage's eTag rules.

    An item written with `e_tag` "*" or without one overwrites; one written with another `e_tag`
    must carry the eTag it was read with, else `ETagConflictError` (a `KeyError`, as MemoryStorage
    raises) and nothing of that `write` is stored. Items read come back with their `e_tag`; after a
    successful write the caller's items carry their new eTag, so the same state can be saved twice
    in one turn.
    """

    def __init__(self, db: SharedDatabase, *, allowed_modules: Iterable[str] = DEFAULT_ALLOWED_MODULES):
        self._allowed = tuple(allowed_modules)
        self._use(db)

    # --- what a backend provides ----------------------------------------------------------------

    @abstractmethod
    async def _select(self, keys: list[str]) -> Iterable[tuple[str, str, str]]:
        """The stored (key, eTag, document) of those of `keys` that exist."""

    @abstractmethod
    async def _upsert(self, prepared: list[tuple[str, str | None, str]]) -> list[str]:
        """Write every (key, expected eTag or None, document) in one transaction; the new eTags.

        `ETagConflictError` (and nothing written) when an expected eTag is no longer the stored one.
        """

    @abstractmethod
    async def _delete(self, keys: list[str]) -> None: ...

    # --- the Storage interface --------------------------------------------------------------------

    async def read(self, keys: Iterable[str]) -> dict[str, Any]:
        keys = _unique(keys)
        if not keys:
            return {}
        rows = await self._select(keys)
        return {key: decode_item(key, document, etag, self._allowed) for key, etag, document in rows}

    async def write(self, changes: Mapping[str, Any]) -> None:
        if changes is None:
            raise StateStoreError("Changes are required when writing state.")
        if not changes:
            return
        prepared = [prepare_write(key, item) for key, item in changes.items()]
        etags = await self._upsert(prepared)
        for item, etag in zip(changes.values(), etags, strict=True):
            set_etag(item, etag)

    async def delete(self, keys: Iterable[str]) -> None:
        keys = _unique(keys)
        if keys:
            await self._delete(keys)


def _unique(keys: Iterable[str] | None) -> list[str]:
    return list(dict.fromkeys(keys or ()))


class DatabaseCaseStore(_DatabaseUser, CaseStoreBase):
    """A `CaseStoreBase` over a `SharedDatabase`; see `bot.cases.store` for the contract."""

    def __init__(self, db: SharedDatabase, clock: Clock = utc_now):
        super().__init__(clock)
        self._use(db)

    @abstractmethod
    async def _select(self, statuses: list[str], tenant_id: str | None, limit: int) -> list[Case]:
        """`list` for a non-empty list of statuses."""

    async def list(
        self, statuses: Iterable[str] = ACTIVE_STATUSES, tenant_id: str | None = None, *, limit: int = 200
    ) -> list[Case]:
        statuses = list(statuses)
        return await self._select(statuses, tenant_id, limit) if statuses else []


def changed(before: Case, change: Callable[[Case], Case]) -> tuple[Case, bool]:
    """The case after `change`, and whether its re-check moved (which clears a pending retry)."""
    after = change(before)
    return after, after.recheck_at != before.recheck_at


def error_text(error: str) -> str:
    """What is kept of a failed follow-up's error."""
    return error[:MAX_ERROR_CHARS]
