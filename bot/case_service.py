"""Cases as the conversation layer sees them, over the durable `CaseStore` (bot/cases, bot/state).

Every diagnosis the bot posts becomes a case, so it can be re-checked, shared and followed up. A case
keeps what is needed to run the diagnosis again (the request: user, problem, what the admin told us)
and where its cards were posted (conversation references + activity ids) so they can be updated in
place. No Bot Framework here: references arrive as plain dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.cases import fixes
from bot.cases.fixes import Fix
from bot.cases.model import ACTIVE_STATUSES, Case, CaseStatus, new_case
from bot.cases.store import CaseStore, utc_now
from bot.diagnosis.engine import DiagnosisRequest
from bot.diagnosis.model import Diagnosis, iso, parse_iso
from bot.diagnosis.repair import FixOutcome, RepairPlan


def request_to_json(request: DiagnosisRequest) -> dict[str, Any]:
    return {
        "problem": request.problem,
        "user": request.user,
        "userId": request.user_id,
        "evidenceText": request.evidence_text,
        "firstSyncAt": iso(request.first_sync_at),
        "eightByEightNumber": request.eightbyeight_number,
        "sinceSeconds": int(request.since.total_seconds()) if request.since else None,
        "timeZone": request.time_zone,
    }


def request_from_json(data: dict[str, Any]) -> DiagnosisRequest:
    def text(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) and value else None

    since = data.get("sinceSeconds")
    return DiagnosisRequest(
        problem=text("problem"),
        user=text("user"),
        user_id=text("userId"),
        evidence_text=text("evidenceText"),
        first_sync_at=parse_iso(text("firstSyncAt")),
        eightbyeight_number=text("eightByEightNumber"),
        since=timedelta(seconds=since) if isinstance(since, int) and since > 0 else None,
        time_zone=text("timeZone"),
    )


@dataclass
class CaseRecord:
    """A stored case with its latest diagnosis as a model (the store keeps it as JSON)."""

    case: Case
    diagnosis: Diagnosis

    @classmethod
    def of(cls, case: Case) -> CaseRecord:
        return cls(case, case.diagnosis_model())

    def __getattr__(self, name: str) -> Any:  # id, request, status, references, reporter_*, ...
        return getattr(self.case, name)

    @property
    def subject_name(self) -> str:
        return self.case.display_subject


class CaseService:
    def __init__(
        self,
        store: CaseStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        on_recheck_scheduled: Callable[[datetime], None] | None = None,
    ):
        self.store = store
        self._clock = clock
        self.on_recheck_scheduled = on_recheck_scheduled

    async def open(
        self,
        diagnosis: Diagnosis,
        request: DiagnosisRequest,
        *,
        tenant_id: str | None,
        reporter_id: str | None,
        reporter_name: str | None = None,
        reporter_teams_id: str | None = None,
        self_report: bool = False,
    ) -> CaseRecord:
        case = new_case(
            diagnosis,
            now=self._clock(),
            tenant_id=tenant_id,
            reporter_id=reporter_id,
            reporter_name=reporter_name,
            reporter_teams_id=reporter_teams_id,
            request=request_to_json(request),
            self_report=self_report,
        )
        case = await self.store.create(case)
        self._scheduled(case)
        return CaseRecord(case, diagnosis)

    async def get(self, case_id: Any) -> CaseRecord | None:
        if not isinstance(case_id, str) or not case_id or len(case_id) > 64:
            return None
        case = await self.store.get(case_id)
        return CaseRecord.of(case) if case else None

    async def record_check(
        self,
        record: CaseRecord,
        diagnosis: Diagnosis,
        *,
        recheck_at: datetime | None = None,
        status: CaseStatus | None = None,
    ) -> CaseRecord:
        record.case = await self.store.record_check(
            record.id, diagnosis, recheck_at=recheck_at, status=status
        )
        record.diagnosis = diagnosis
        self._scheduled(record.case)
        return record

    async def add_reference(
        self, record: CaseRecord, reference: dict[str, Any], activity_id: str | None, kind: str
    ) -> None:
        record.case = await self.store.add_reference(
            record.id, {"reference": reference, "activityId": activity_id, "kind": kind}
        )

    async def assign(self, record: CaseRecord, name: str) -> None:
        record.case = await self.store.assign(record.id, name)

    async def resolve(self, record: CaseRecord, by: str) -> None:
        record.case = await self.store.resolve(record.id, by)

    async def list(
        self, statuses: tuple[str, ...] = ACTIVE_STATUSES, tenant_id: str | None = None
    ) -> list[CaseRecord]:
        return [CaseRecord.of(case) for case in await self.store.list(statuses, tenant_id)]

    # --- fixes (bot.cases.fixes): each change one transaction of the store ---------------------------

    async def propose_fix(
        self,
        record: CaseRecord,
        plan: RepairPlan,
        request: DiagnosisRequest,
        *,
        asked_by: str | None,
        asked_by_id: str | None,
    ) -> Fix:
        fix = fixes.proposal(
            plan, request_to_json(request), now=self._clock(), asked_by=asked_by, asked_by_id=asked_by_id
        )
        now = self._clock()
        record.case = await self.store.apply(record.id, lambda c: fixes.fix_proposed(c, fix, now=now))
        return fix

    async def place_fix(self, record: CaseRecord, fix_id: str, where: dict[str, Any]) -> None:
        now = self._clock()
        record.case = await self.store.apply(record.id, lambda c: fixes.fix_placed(c, fix_id, where, now=now))

    async def claim_fix(
        self, record: CaseRecord, fix_id: str, *, by: str | None, by_id: str | None, owner: str
    ) -> tuple[Fix | None, bool]:
        """Confirm's compare-and-set: the fix as stored now, and whether this caller's claim won."""
        now = self._clock()
        record.case = await self.store.apply(
            record.id, lambda c: fixes.fix_claimed(c, fix_id, by=by, by_id=by_id, owner=owner, now=now)
        )
        fix = fixes.fix_of(record.case, fix_id)
        return fix, fix is not None and fix.status == "running" and fix.lease_owner == owner

    async def fix_step(self, record: CaseRecord, fix_id: str, step: dict[str, Any], *, owner: str) -> None:
        now = self._clock()
        record.case = await self.store.apply(
            record.id, lambda c: fixes.fix_step_done(c, fix_id, step, owner=owner, now=now)
        )

    async def finish_fix(
        self,
        record: CaseRecord,
        fix_id: str,
        outcome: FixOutcome,
        *,
        owner: str,
        recheck_at: datetime | None = None,
        replaced_by: str | None = None,
    ) -> Fix | None:
        now = self._clock()
        record.case = await self.store.apply(
            record.id,
            lambda c: fixes.fix_finished(
                c, fix_id, outcome, owner=owner, now=now, recheck_at=recheck_at, replaced_by=replaced_by
            ),
        )
        return fixes.fix_of(record.case, fix_id)

    async def cancel_fix(self, record: CaseRecord, fix_id: str, *, by: str | None) -> Fix | None:
        now = self._clock()
        record.case = await self.store.apply(
            record.id, lambda c: fixes.fix_cancelled(c, fix_id, by=by, now=now)
        )
        return fixes.fix_of(record.case, fix_id)

    def _scheduled(self, case: Case) -> None:
        if case.recheck_at is not None and self.on_recheck_scheduled is not None:
            self.on_recheck_scheduled(case.recheck_at)
