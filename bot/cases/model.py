"""The case: one diagnosis kept, re-checked when its wait is over, and resolved.

A case holds what is needed to run its diagnosis again (`request`), the latest diagnosis as JSON
(`Diagnosis.to_json()`), where its cards were posted (`references`, so they can be updated in place
and followed up proactively) and the history of its checks. Every change is a pure function here
(`with_check`, `with_reference`, `resolved`, ...): the stores only load a case, apply one of them and
save it in one transaction, so SQLite and PostgreSQL cannot drift apart in behaviour.

Nothing here knows Bot Framework: references arrive as plain dicts (a serialised
`ConversationReference` under `"reference"`, the posted card's `"activityId"`, and a `"kind"`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from bot.diagnosis.model import Diagnosis, parse_iso
from bot.diagnosis.times import as_utc

CaseStatus = Literal["open", "waiting", "resolved"]
CASE_STATUSES: tuple[str, ...] = ("open", "waiting", "resolved")
ACTIVE_STATUSES: tuple[str, ...] = ("open", "waiting")
NO_FAULT_CAUSE = "no-failure-found"


def new_case_id() -> str:
    """Twelve hex digits: short enough to read out on a call, random enough not to collide."""
    return uuid.uuid4().hex[:12]


def iso_us(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, keeping microseconds (stored times must compare exactly)."""
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")


def status_for(diagnosis: Diagnosis | dict[str, Any]) -> CaseStatus:
    """The status a fresh diagnosis gives its case.

    Nothing wrong found resolves the case; a diagnosis that says "wait until" makes it waiting;
    anything else needs a person, so it stays open.
    """
    data = diagnosis.to_json() if isinstance(diagnosis, Diagnosis) else diagnosis
    if data.get("cause") == NO_FAULT_CAUSE:
        return "resolved"
    return "waiting" if data.get("recheckAt") else "open"


def history_entry(
    at: datetime,
    *,
    event: str,
    cause: str | None,
    status: str,
    recheck_at: datetime | None,
    by: str | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "at": iso_us(at),
        "event": event,  # "created" | "check" | "resolved" | "reopened" | "fix-proposed" | "fix-confirmed" | "fix" | "fix-cancelled"
        "cause": cause,
        "status": status,
        "recheckAt": iso_us(recheck_at),
    }
    if by:
        entry["by"] = by
    return entry


@dataclass
class Case:
    """One diagnosis followed until it is resolved. Times are aware UTC datetimes."""

    id: str
    problem: str
    cause: str
    title: str
    status: CaseStatus
    created_at: datetime
    updated_at: datetime
    diagnosis: dict[str, Any]  # Diagnosis.to_json() of the latest check
    subject_id: str | None = None
    subject_name: str | None = None
    subject_upn: str | None = None
    recheck_at: datetime | None = None
    references: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    reporter_id: str | None = None
    assigned_to: str | None = None
    tenant_id: str | None = None
    # additions
    request: dict[str, Any] = field(default_factory=dict)  # what to diagnose again (DiagnosisRequest JSON)
    reporter_name: str | None = None
    reporter_teams_id: str | None = None  # the 29:… id Teams mentions use
    self_report: bool = False
    followup_attempts: int = 0  # failed follow-ups since the last good one (set by the store)
    fixes: list[dict[str, Any]] = field(default_factory=list)  # bot.cases.fixes.Fix.to_json() each

    def diagnosis_model(self) -> Diagnosis:
        return Diagnosis.from_json(self.diagnosis)

    @property
    def display_subject(self) -> str:
        """Who the case is about, for sentences: the name, else the UPN, else what it is about."""
        if self.subject_name or self.subject_upn:
            return self.subject_name or self.subject_upn or ""
        return "the tenant" if self.problem == "sync-error" else "the user"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "problem": self.problem,
            "cause": self.cause,
            "title": self.title,
            "status": self.status,
            "createdAt": iso_us(self.created_at),
            "updatedAt": iso_us(self.updated_at),
            "recheckAt": iso_us(self.recheck_at),
            "subject": {
                "id": self.subject_id,
                "displayName": self.subject_name,
                "userPrincipalName": self.subject_upn,
            },
            "diagnosis": self.diagnosis,
            "references": [dict(r) for r in self.references],
            "history": [dict(h) for h in self.history],
            "reporterId": self.reporter_id,
            "reporterName": self.reporter_name,
            "reporterTeamsId": self.reporter_teams_id,
            "assignedTo": self.assigned_to,
            "tenantId": self.tenant_id,
            "request": self.request,
            "selfReport": self.self_report,
            "fixes": [dict(f) for f in self.fixes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        """The inverse of `to_json`; lenient, because cases written by older versions must load."""
        subject = data.get("subject") if isinstance(data.get("subject"), dict) else {}
        status = data.get("status")
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        return cls(
            id=str(data["id"]),
            problem=str(data.get("problem") or ""),
            cause=str(data.get("cause") or ""),
            title=str(data.get("title") or ""),
            status=status if status in CASE_STATUSES else "open",
            created_at=parse_iso(data.get("createdAt")) or epoch,
            updated_at=parse_iso(data.get("updatedAt")) or epoch,
            recheck_at=parse_iso(data.get("recheckAt")),
            subject_id=subject.get("id"),
            subject_name=subject.get("displayName"),
            subject_upn=subject.get("userPrincipalName"),
            diagnosis=data.get("diagnosis") if isinstance(data.get("diagnosis"), dict) else {},
            references=[r for r in data.get("references") or [] if isinstance(r, dict)],
            history=[h for h in data.get("history") or [] if isinstance(h, dict)],
            reporter_id=data.get("reporterId"),
            reporter_name=data.get("reporterName"),
            reporter_teams_id=data.get("reporterTeamsId"),
            assigned_to=data.get("assignedTo"),
            tenant_id=data.get("tenantId"),
            request=data.get("request") if isinstance(data.get("request"), dict) else {},
            self_report=bool(data.get("selfReport", False)),
            fixes=[f for f in data.get("fixes") or [] if isinstance(f, dict)],
        )


def new_case(
    diagnosis: Diagnosis | dict[str, Any],
    *,
    now: datetime,
    tenant_id: str | None = None,
    reporter_id: str | None = None,
    reporter_name: str | None = None,
    reporter_teams_id: str | None = None,
    request: dict[str, Any] | None = None,
    self_report: bool = False,
    case_id: str | None = None,
) -> Case:
    """A case for a diagnosis just made: status and `recheck_at` follow from the diagnosis."""
    data = diagnosis.to_json() if isinstance(diagnosis, Diagnosis) else dict(diagnosis)
    status = status_for(data)
    recheck_at = parse_iso(data.get("recheckAt")) if status != "resolved" else None
    case = Case(
        id=case_id or new_case_id(),
        problem=str(data.get("problem") or ""),
        cause=str(data.get("cause") or ""),
        title=str(data.get("title") or ""),
        status=status,
        created_at=as_utc(now),
        updated_at=as_utc(now),
        recheck_at=recheck_at,
        diagnosis=data,
        tenant_id=tenant_id,
        reporter_id=reporter_id,
        reporter_name=reporter_name,
        reporter_teams_id=reporter_teams_id,
        request=dict(request or {}),
        self_report=self_report,
    )
    _set_subject(case, data)
    case.history.append(
        history_entry(now, event="created", cause=case.cause, status=status, recheck_at=recheck_at)
    )
    return case


def with_check(
    case: Case,
    diagnosis: Diagnosis | dict[str, Any],
    *,
    now: datetime,
    recheck_at: datetime | None = None,
    status: CaseStatus | None = None,
) -> Case:
    """The case after a re-check: the new diagnosis, its status, its next re-check, one history line.

    `recheck_at` defaults to the diagnosis's own `recheckAt`; `status` to `status_for` it — except
    that a case someone resolved stays resolved while the cause is unchanged (a person's judgement
    wins over a re-run that sees the same thing).
    """
    data = diagnosis.to_json() if isinstance(diagnosis, Diagnosis) else dict(diagnosis)
    cause = str(data.get("cause") or "")
    if status is None:
        status = "resolved" if case.status == "resolved" and cause == case.cause else status_for(data)
    if recheck_at is None:
        recheck_at = parse_iso(data.get("recheckAt"))
    if status == "resolved":
        recheck_at = None
    changed = replace(
        case,
        cause=cause,
        title=str(data.get("title") or case.title),
        problem=str(data.get("problem") or case.problem),
        status=status,
        diagnosis=data,
        recheck_at=as_utc(recheck_at) if recheck_at else None,
        updated_at=as_utc(now),
        history=[
            *case.history,
            history_entry(now, event="check", cause=cause, status=status, recheck_at=recheck_at),
        ],
    )
    _set_subject(changed, data)
    return changed


def with_reference(case: Case, reference: dict[str, Any], *, now: datetime) -> Case:
    """The case with one more place its card was posted; the same card posted again replaces its entry."""
    key = _reference_key(reference)
    kept = [r for r in case.references if _reference_key(r) != key or key == (None, None)]
    return replace(case, references=[*kept, dict(reference)], updated_at=as_utc(now))


def resolved(case: Case, *, by: str, now: datetime) -> Case:
    return replace(
        case,
        status="resolved",
        recheck_at=None,
        updated_at=as_utc(now),
        history=[
            *case.history,
            history_entry(now, event="resolved", cause=case.cause, status="resolved", recheck_at=None, by=by),
        ],
    )


def assigned(case: Case, *, to: str | None, now: datetime) -> Case:
    return replace(case, assigned_to=to, updated_at=as_utc(now))


def rescheduled(case: Case, *, recheck_at: datetime | None, now: datetime) -> Case:
    """Re-check at another time (e.g. "Re-check now"); a resolved case opens again when scheduled."""
    status: CaseStatus = case.status
    if recheck_at is not None and case.status == "resolved":
        status = "waiting"
    history = case.history
    if status != case.status:
        history = [
            *history,
            history_entry(now, event="reopened", cause=case.cause, status=status, recheck_at=recheck_at),
        ]
    return replace(
        case,
        recheck_at=as_utc(recheck_at) if recheck_at else None,
        status=status,
        updated_at=as_utc(now),
        history=history,
    )


def _set_subject(case: Case, data: dict[str, Any]) -> None:
    subject = data.get("subject")
    if isinstance(subject, dict):
        case.subject_id = subject.get("id") or case.subject_id
        case.subject_name = subject.get("displayName") or case.subject_name
        case.subject_upn = subject.get("userPrincipalName") or case.subject_upn


def _reference_key(reference: dict[str, Any]) -> tuple[str | None, str | None]:
    """(conversation id, activity id) of a posted card: what makes two references the same card."""
    inner = reference.get("reference") if isinstance(reference.get("reference"), dict) else {}
    conversation = inner.get("conversation") if isinstance(inner.get("conversation"), dict) else {}
    return conversation.get("id"), reference.get("activityId")
