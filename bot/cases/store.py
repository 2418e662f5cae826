"""Where cases live: the `CaseStore` interface, and the part of it every backend shares.

Backends (SQLite, PostgreSQL: `bot.state`) implement a handful of primitives — insert, replace,
get, list, `mutate` one case in a transaction, and the follow-up lease operations. Everything else
(`record_check`, `add_reference`, `resolve`, ...) is `mutate` with a pure function from
`bot.cases.model`, written once in `CaseStoreBase`.

Follow-ups are leased, not locked: `claim_due` marks due cases as taken by one owner until
`now + lease_seconds`; `complete_followup` / `fail_followup` release them, and only the owner
holding the lease can. So with several instances on one database exactly one sends each
follow-up; if that instance dies mid-way, the lease runs out and another picks the case up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from bot.cases.model import (
    ACTIVE_STATUSES,
    Case,
    CaseStatus,
    assigned,
    rescheduled,
    resolved,
    with_check,
    with_reference,
)
from bot.diagnosis.model import Diagnosis

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class CaseNotFoundError(LookupError):
    """No case with that id. `str(error)` is one sentence."""

    def __init__(self, case_id: str):
        super().__init__(f"There is no case {case_id!r}.")
        self.case_id = case_id

    def __str__(self) -> str:
        return str(self.args[0])


class CaseExistsError(ValueError):
    """`create` with an id that is already taken."""

    def __init__(self, case_id: str):
        super().__init__(f"A case {case_id!r} exists already.")
        self.case_id = case_id


@runtime_checkable
class CaseStore(Protocol):
    """Durable cases, shared by every instance of the app that uses the same database."""

    async def create(self, case: Case) -> Case: ...

    async def update(self, case: Case) -> Case: ...

    async def get(self, case_id: str) -> Case | None: ...

    async def list(
        self, statuses: Iterable[str] = ACTIVE_STATUSES, tenant_id: str | None = None, *, limit: int = 200
    ) -> list[Case]: ...

    async def add_reference(self, case_id: str, reference: dict[str, Any]) -> Case: ...

    async def record_check(
        self,
        case_id: str,
        diagnosis: Diagnosis | dict[str, Any],
        recheck_at: datetime | None = None,
        status: CaseStatus | None = None,
    ) -> Case: ...

    async def resolve(self, case_id: str, by: str) -> Case: ...

    async def assign(self, case_id: str, to: str | None) -> Case: ...

    async def reschedule(self, case_id: str, recheck_at: datetime | None) -> Case: ...

    async def apply(self, case_id: str, change: Callable[[Case], Case]) -> Case: ...

    async def claim_due(
        self, now: datetime, owner: str, lease_seconds: float = 300, *, limit: int = 10
    ) -> list[Case]: ...

    async def complete_followup(self, case_id: str, owner: str) -> bool: ...

    async def fail_followup(
        self, case_id: str, owner: str, *, retry_at: datetime, error: str = ""
    ) -> bool: ...

    async def next_due(self) -> datetime | None: ...

    async def close(self) -> None: ...


class CaseStoreBase(ABC):
    """The shared half of every CaseStore: each change is `_mutate` with a pure function."""

    def __init__(self, clock: Clock = utc_now):
        self._clock = clock

    # --- primitives a backend provides ----------------------------------------------------------

    @abstractmethod
    async def create(self, case: Case) -> Case:
        """Insert a new case; `CaseExistsError` when the id is taken."""

    @abstractmethod
    async def get(self, case_id: str) -> Case | None: ...

    @abstractmethod
    async def list(
        self, statuses: Iterable[str] = ACTIVE_STATUSES, tenant_id: str | None = None, *, limit: int = 200
    ) -> list[Case]:
        """Cases in these statuses (of one tenant, when given), soonest re-check first, then newest."""

    @abstractmethod
    async def _mutate(self, case_id: str, change: Callable[[Case], Case]) -> Case:
        """Load the case, apply `change` and save the result in one transaction (the row locked)."""

    @abstractmethod
    async def claim_due(
        self, now: datetime, owner: str, lease_seconds: float = 300, *, limit: int = 10
    ) -> list[Case]:
        """Atomically lease the due cases (re-check time passed, no live lease, no pending retry)."""

    @abstractmethod
    async def complete_followup(self, case_id: str, owner: str) -> bool:
        """Release `owner`'s lease after a follow-up went out; False when the lease was not `owner`'s.

        A re-check time the follow-up left in place (nobody called `record_check`) is consumed,
        so a follow-up that does not reschedule its case does not run again and again.
        """

    @abstractmethod
    async def fail_followup(self, case_id: str, owner: str, *, retry_at: datetime, error: str = "") -> bool:
        """Release `owner`'s lease after a failed follow-up: count the attempt, retry at `retry_at`."""

    @abstractmethod
    async def next_due(self) -> datetime | None:
        """The earliest time any active case becomes claimable (re-check, retry and lease considered)."""

    @abstractmethod
    async def close(self) -> None: ...

    # --- the rest, written once ---------------------------------------------------------------

    async def update(self, case: Case) -> Case:
        """Replace a case with `case` (its lease and retry state are kept); `updated_at` becomes now."""
        now = self._clock()
        return await self._mutate(case.id, lambda _old: _touched(case, now))

    async def add_reference(self, case_id: str, reference: dict[str, Any]) -> Case:
        """Remember where a card of this case was posted: {"reference": {...}, "activityId": ..., "kind": ...}."""
        if not isinstance(reference, dict):
            raise TypeError("A case reference is a dict with the serialised conversation reference.")
        now = self._clock()
        return await self._mutate(case_id, lambda case: with_reference(case, reference, now=now))

    async def record_check(
        self,
        case_id: str,
        diagnosis: Diagnosis | dict[str, Any],
        recheck_at: datetime | None = None,
        status: CaseStatus | None = None,
    ) -> Case:
        """Store a re-check's diagnosis; see `bot.cases.model.with_check` for the defaults."""
        now = self._clock()
        return await self._mutate(
            case_id, lambda case: with_check(case, diagnosis, now=now, recheck_at=recheck_at, status=status)
        )

    async def resolve(self, case_id: str, by: str) -> Case:
        now = self._clock()
        return await self._mutate(case_id, lambda case: resolved(case, by=by, now=now))

    async def assign(self, case_id: str, to: str | None) -> Case:
        now = self._clock()
        return await self._mutate(case_id, lambda case: assigned(case, to=to, now=now))

    async def reschedule(self, case_id: str, recheck_at: datetime | None) -> Case:
        """Move the next re-check (None: no more re-checks). Tell the scheduler: `notify(recheck_at)`."""
        now = self._clock()
        return await self._mutate(case_id, lambda case: rescheduled(case, recheck_at=recheck_at, now=now))

    async def apply(self, case_id: str, change: Callable[[Case], Case]) -> Case:
        """Any pure change of `bot.cases` (e.g. `bot.cases.fixes.fix_claimed`) in one transaction with
        the row locked: a compare-and-set, since `change` sees the case as stored at that moment."""
        return await self._mutate(case_id, change)


def _touched(case: Case, now: datetime) -> Case:
    return replace(case, updated_at=now)
