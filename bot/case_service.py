"""Cases: every diagnosis the bot posts becomes one, so it can be re-checked, shared and followed up.

A case keeps what is needed to run the diagnosis again (the request: user, problem, what the admin
told us) and where its cards were posted (conversation references + activity ids) so they can be
updated in place. Persistence is a `CaseStore` (bot/cases.py); this module is the conversation-facing
API over it and knows nothing of Bot Framework objects — references arrive as plain dicts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.diagnosis.engine import DiagnosisRequest
from bot.diagnosis.model import Diagnosis, iso

WAIT_CAUSES = frozenset({"sync-too-recent", "gateway-activation-pending"})


def request_to_json(request: DiagnosisRequest) -> dict[str, Any]:
    return {
        "problem": request.problem,
        "user": request.user,
        "userId": request.user_id,
        "evidenceText": request.evidence_text,
        "firstSyncAt": iso(request.first_sync_at),
        "eightByEightNumber": request.eightbyeight_number,
    }


def request_from_json(data: dict[str, Any]) -> DiagnosisRequest:
    first_sync = data.get("firstSyncAt")
    return DiagnosisRequest(
        problem=data.get("problem"),
        user=data.get("user"),
        user_id=data.get("userId"),
        evidence_text=data.get("evidenceText"),
        first_sync_at=datetime.fromisoformat(first_sync.replace("Z", "+00:00")) if first_sync else None,
        eightbyeight_number=data.get("eightByEightNumber"),
    )


def status_for(diagnosis: Diagnosis) -> str:
    if diagnosis.cause == "no-failure-found":
        return "resolved"
    return "waiting" if diagnosis.recheck_at else "open"


@dataclass
class CaseRecord:
    id: str
    request: dict[str, Any]
    diagnosis: Diagnosis
    tenant_id: str | None = None
    reporter_id: str | None = None
    reporter_name: str | None = None
    reporter_teams_id: str | None = None  # the 29:… id Teams mentions use
    assigned_to: str | None = None
    status: str = "open"
    references: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    self_report: bool = False

    @property
    def subject_id(self) -> str | None:
        return self.diagnosis.subject.id if self.diagnosis.subject else None

    @property
    def subject_name(self) -> str:
        subject = self.diagnosis.subject
        if subject and (subject.display_name or subject.user_principal_name):
            return subject.display_name or subject.user_principal_name or ""
        return "the tenant" if self.diagnosis.problem == "sync-error" else "unknown user"

    @property
    def recheck_at(self) -> datetime | None:
        return self.diagnosis.recheck_at


class CaseService:
    """In-process case store: the default until a durable `CaseStore` is configured (bot/cases.py)."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._clock = clock
        self._cases: dict[str, CaseRecord] = {}

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
        now = self._clock()
        case = CaseRecord(
            id=uuid.uuid4().hex[:12],
            request=request_to_json(request),
            diagnosis=diagnosis,
            tenant_id=tenant_id,
            reporter_id=reporter_id,
            reporter_name=reporter_name,
            reporter_teams_id=reporter_teams_id,
            status=status_for(diagnosis),
            created_at=now,
            updated_at=now,
            self_report=self_report,
        )
        case.history.append(_history_entry(diagnosis, now))
        await self.save(case)
        return case

    async def get(self, case_id: str | None) -> CaseRecord | None:
        if not case_id or not isinstance(case_id, str):
            return None
        return self._cases.get(case_id)

    async def save(self, case: CaseRecord) -> None:
        self._cases[case.id] = case

    async def record_check(self, case: CaseRecord, diagnosis: Diagnosis) -> CaseRecord:
        now = self._clock()
        case.diagnosis = diagnosis
        if case.status != "resolved" or diagnosis.cause != case.history[-1].get("cause"):
            case.status = status_for(diagnosis)
        case.updated_at = now
        case.history.append(_history_entry(diagnosis, now))
        await self.save(case)
        return case

    async def add_reference(
        self, case: CaseRecord, reference: dict[str, Any], activity_id: str | None, kind: str
    ) -> None:
        case.references.append({"reference": reference, "activityId": activity_id, "kind": kind})
        await self.save(case)

    async def assign(self, case: CaseRecord, name: str) -> None:
        case.assigned_to = name
        case.updated_at = self._clock()
        await self.save(case)

    async def resolve(self, case: CaseRecord, by: str) -> None:
        case.status = "resolved"
        case.updated_at = self._clock()
        case.history.append({"at": iso(case.updated_at), "status": "resolved", "by": by})
        await self.save(case)

    async def list(
        self, statuses: tuple[str, ...] = ("open", "waiting"), tenant_id: str | None = None
    ) -> list[CaseRecord]:
        cases = [
            c
            for c in self._cases.values()
            if c.status in statuses and (tenant_id is None or c.tenant_id == tenant_id)
        ]
        return sorted(cases, key=lambda c: c.updated_at or datetime.min.replace(tzinfo=UTC), reverse=True)


def _history_entry(diagnosis: Diagnosis, at: datetime) -> dict[str, Any]:
    return {
        "at": iso(at),
        "cause": diagnosis.cause,
        "status": status_for(diagnosis),
        "recheckAt": iso(diagnosis.recheck_at),
    }
