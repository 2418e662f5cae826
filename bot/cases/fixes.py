"""A fix kept with its case: the plan shown, who asked and who confirmed, each operation, the proof.

Why it lives in the case: the audit trail belongs where the helpdesk already looks (the case's
history, the `cases` card), and the case store's one-row transaction (`CaseStoreBase._mutate`) is
the compare-and-set that makes a fix run once. Pressing Fix it adds a fix in state `proposed` with
the plan as it was drawn (`fix_proposed`); Confirm moves it to `running` only if it is still
`proposed` — or `running` under a lease that ran out, its instance gone — and no other fix of the
case runs (`fix_claimed`): of two Confirms, on one instance or two, exactly one sees its own claim
in the case that comes back. The run's steps and outcome are written as they happen, so whoever
presses Confirm again sees the progress or the result, never a second run.

Pure functions, no I/O; times are aware UTC datetimes, stored as ISO text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from bot.cases.model import history_entry, iso_us
from bot.diagnosis.model import DEFAULT_PERIOD, parse_iso

if TYPE_CHECKING:
    from bot.cases.model import Case
    from bot.diagnosis.repair import FixOutcome, RepairPlan

FixStatus = Literal[
    "proposed",  # the plan was shown; nothing written
    "running",  # confirmed; the steps are being carried out
    "fixed",  # ran and verified: Teams holds 8x8's number for everyone the plan touched
    "activating",  # ran; Microsoft accepted the numbers but an assignment is still pending
    "unverified",  # ran without a failed step, but the diagnosis after does not show it fixed
    "failed",  # a step failed: nothing further was tried
    "changed",  # re-read before running, the plan differed: nothing written, a new plan proposed
    "cancelled",  # cancelled before it ran: nothing written
    "refused",  # re-read before running, there was nothing it may fix any more (or fixes were off)
]
FINISHED: frozenset[str] = frozenset(
    {"fixed", "activating", "unverified", "failed", "changed", "cancelled", "refused"}
)
CHANGED_TEAMS = frozenset({"fixed", "activating", "unverified"})  # ran every step: Teams now differs
KEPT_FIXES = 20  # the newest fixes a case keeps (each holds its plan and operations)
LEASE = timedelta(minutes=15)  # a run holds its claim this long; a dead instance's claim then expires


def new_fix_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class Fix:
    """One fix of a case, as stored (`to_json` / `from_json`)."""

    id: str
    fingerprint: str
    status: FixStatus
    problem: str
    cause: str
    subject: dict[str, Any]  # {"id", "displayName", "userPrincipalName"}
    plan: list[dict[str, Any]]  # RepairStep.to_json() each
    request: dict[str, Any]  # the DiagnosisRequest (request_to_json) the plan was drawn for
    asked_at: datetime
    meanwhile: list[str] = field(default_factory=list)
    left_without: list[str] = field(default_factory=list)
    asked_by: str | None = None
    asked_by_id: str | None = None
    confirmed_by: str | None = None
    confirmed_by_id: str | None = None
    confirmed_at: datetime | None = None
    cancelled_by: str | None = None
    finished_at: datetime | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)  # StepResult.to_json() each, as they end
    verified: bool = False
    after: dict[str, Any] | None = None  # {"cause", "title"} of the diagnosis after the steps
    recheck_at: datetime | None = None  # activating: when the case's follow-up looks again
    replaced_by: str | None = None  # changed: the fix holding the new plan
    refused: str | None = None  # refused: why there was nothing to run when it was re-read
    lease_owner: str | None = None
    lease_until: datetime | None = None
    where: dict[str, Any] | None = None  # the plan card: {"reference": {...}, "activityId": ...}

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def subject_name(self) -> str:
        return self.subject.get("displayName") or self.subject.get("userPrincipalName") or "the user"

    def failed_step(self) -> dict[str, Any] | None:
        return next((s for s in self.steps if s.get("status") == "failed"), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "fingerprint": self.fingerprint,
            "status": self.status,
            "problem": self.problem,
            "cause": self.cause,
            "subject": dict(self.subject),
            "plan": [dict(s) for s in self.plan],
            "meanwhile": list(self.meanwhile),
            "leftWithout": list(self.left_without),
            "request": dict(self.request),
            "askedBy": self.asked_by,
            "askedById": self.asked_by_id,
            "askedAt": iso_us(self.asked_at),
            "confirmedBy": self.confirmed_by,
            "confirmedById": self.confirmed_by_id,
            "confirmedAt": iso_us(self.confirmed_at),
            "cancelledBy": self.cancelled_by,
            "finishedAt": iso_us(self.finished_at),
            "steps": [dict(s) for s in self.steps],
            "verified": self.verified,
            "after": self.after,
            "recheckAt": iso_us(self.recheck_at),
            "replacedBy": self.replaced_by,
            "refused": self.refused,
            "leaseOwner": self.lease_owner,
            "leaseUntil": iso_us(self.lease_until),
            "where": self.where,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fix:
        status = data.get("status")
        return cls(
            id=str(data["id"]),
            fingerprint=str(data.get("fingerprint") or ""),
            status=status if status in (*FINISHED, "proposed", "running") else "proposed",  # type: ignore[arg-type]
            problem=str(data.get("problem") or ""),
            cause=str(data.get("cause") or ""),
            subject=data.get("subject") if isinstance(data.get("subject"), dict) else {},
            plan=[s for s in data.get("plan") or [] if isinstance(s, dict)],
            meanwhile=[str(x) for x in data.get("meanwhile") or []],
            left_without=[str(x) for x in data.get("leftWithout") or []],
            request=data.get("request") if isinstance(data.get("request"), dict) else {},
            asked_by=data.get("askedBy"),
            asked_by_id=data.get("askedById"),
            asked_at=parse_iso(data.get("askedAt")) or datetime.fromtimestamp(0).astimezone(),
            confirmed_by=data.get("confirmedBy"),
            confirmed_by_id=data.get("confirmedById"),
            confirmed_at=parse_iso(data.get("confirmedAt")),
            cancelled_by=data.get("cancelledBy"),
            finished_at=parse_iso(data.get("finishedAt")),
            steps=[s for s in data.get("steps") or [] if isinstance(s, dict)],
            verified=bool(data.get("verified")),
            after=data.get("after") if isinstance(data.get("after"), dict) else None,
            recheck_at=parse_iso(data.get("recheckAt")),
            replaced_by=data.get("replacedBy"),
            refused=data.get("refused"),
            lease_owner=data.get("leaseOwner"),
            lease_until=parse_iso(data.get("leaseUntil")),
            where=data.get("where") if isinstance(data.get("where"), dict) else None,
        )


def proposal(
    plan: RepairPlan,
    request: dict[str, Any],
    *,
    now: datetime,
    asked_by: str | None,
    asked_by_id: str | None,
) -> Fix:
    """A fix for a plan just drawn (it has steps: a refused plan is never kept as a fix)."""
    subject = plan.subject
    return Fix(
        id=new_fix_id(),
        fingerprint=plan.fingerprint,
        status="proposed",
        problem=plan.problem,
        cause=plan.cause,
        subject={
            "id": subject.id,
            "displayName": subject.display_name,
            "userPrincipalName": subject.user_principal_name,
        }
        if subject
        else {},
        plan=[step.to_json() for step in plan.steps],
        meanwhile=list(plan.meanwhile),
        left_without=list(plan.left_without),
        request=dict(request),
        asked_at=now,
        asked_by=asked_by,
        asked_by_id=asked_by_id,
    )


# --- reading a case's fixes ------------------------------------------------------------------------


def fixes_of(case: Case) -> list[Fix]:
    return [Fix.from_json(f) for f in case.fixes if isinstance(f, dict) and f.get("id")]


def fix_of(case: Case, fix_id: Any) -> Fix | None:
    if not isinstance(fix_id, str):
        return None
    return next((f for f in fixes_of(case) if f.id == fix_id), None)


def latest_fix(case: Case) -> Fix | None:
    """The newest fix that was confirmed or cancelled (what the `cases` list tells of)."""
    acted = [f for f in fixes_of(case) if f.status != "proposed"]
    return acted[-1] if acted else None


def _live(fix: Fix, now: datetime) -> bool:
    return fix.status == "running" and fix.lease_until is not None and now < fix.lease_until


# --- changing them (each a pure function of the case, applied in the store's transaction) -------------


def _with(case: Case, fix: Fix, now: datetime, event: dict[str, Any] | None = None) -> Case:
    others = [f for f in case.fixes if not (isinstance(f, dict) and f.get("id") == fix.id)]
    kept = [*others, fix.to_json()][-KEPT_FIXES:]
    history = [*case.history, event] if event else case.history
    return replace(case, fixes=kept, history=history, updated_at=now)


def _event(case: Case, now: datetime, event: str, fix: Fix, by: str | None, **extra: Any) -> dict[str, Any]:
    entry = history_entry(
        now, event=event, cause=case.cause, status=case.status, recheck_at=case.recheck_at, by=by
    )
    entry["fixId"] = fix.id
    entry.update({k: v for k, v in extra.items() if v is not None})
    return entry


def fix_proposed(case: Case, fix: Fix, *, now: datetime) -> Case:
    """The case with a plan shown for confirmation (who asked, when, the plan)."""
    return _with(case, fix, now, _event(case, now, "fix-proposed", fix, fix.asked_by, steps=len(fix.plan)))


def fix_placed(case: Case, fix_id: str, where: dict[str, Any], *, now: datetime) -> Case:
    """Where the plan card was posted, so the run can edit it."""
    fix = fix_of(case, fix_id)
    return case if fix is None else _with(case, replace(fix, where=where), now)


def fix_claimed(
    case: Case, fix_id: str, *, by: str | None, by_id: str | None, owner: str, now: datetime
) -> Case:
    """Confirm: the fix runs under `owner`'s claim — if it is still proposed (or its run's lease ran
    out) and no other fix of the case runs. Otherwise the case unchanged: whoever compares the
    returned fix's `lease_owner` with theirs knows whether they won."""
    fix = fix_of(case, fix_id)
    if fix is None or not (fix.status == "proposed" or (fix.status == "running" and not _live(fix, now))):
        return case
    if any(_live(other, now) for other in fixes_of(case) if other.id != fix_id):
        return case
    taken_over = fix.status == "running"
    claimed = replace(
        fix,
        status="running",
        confirmed_by=by,
        confirmed_by_id=by_id,
        confirmed_at=now,
        lease_owner=owner,
        lease_until=now + LEASE,
        steps=[] if taken_over else fix.steps,
    )
    return _with(
        case, claimed, now, _event(case, now, "fix-confirmed", claimed, by, retried=taken_over or None)
    )


def fix_step_done(case: Case, fix_id: str, step: dict[str, Any], *, owner: str, now: datetime) -> Case:
    """One step's operation ended (or was left running): kept as it happens."""
    fix = fix_of(case, fix_id)
    if fix is None or fix.lease_owner != owner or fix.status != "running":
        return case
    return _with(case, replace(fix, steps=[*fix.steps, dict(step)]), now)


def fix_finished(
    case: Case,
    fix_id: str,
    outcome: FixOutcome,
    *,
    owner: str,
    now: datetime,
    recheck_at: datetime | None = None,
    replaced_by: str | None = None,
) -> Case:
    """The run's outcome: its status, every step's operation, whether it was verified, the claim let go."""
    fix = fix_of(case, fix_id)
    if fix is None or fix.lease_owner != owner:
        return case
    status = outcome_status(outcome)
    after = outcome.after or {}
    done = replace(
        fix,
        status=status,
        steps=[s.to_json() for s in outcome.steps] or fix.steps,
        verified=outcome.verified,
        after={"cause": after.get("cause"), "title": after.get("title")} if after else None,
        recheck_at=recheck_at,
        replaced_by=replaced_by,
        refused=outcome.refused if status == "refused" else None,
        finished_at=now,
        lease_owner=None,
        lease_until=None,
    )
    operations = [s.get("operationId") for s in done.steps if s.get("operationId")]
    event = _event(
        case,
        now,
        "fix",
        done,
        fix.confirmed_by,
        outcome=status,
        operations=operations or None,
        verified=done.verified,
    )
    return _with(case, done, now, event)


def fix_cancelled(case: Case, fix_id: str, *, by: str | None, now: datetime) -> Case:
    """Cancel: only a fix nobody has confirmed yet; nothing was written."""
    fix = fix_of(case, fix_id)
    if fix is None or fix.status != "proposed":
        return case
    cancelled = replace(fix, status="cancelled", cancelled_by=by, finished_at=now)
    return _with(case, cancelled, now, _event(case, now, "fix-cancelled", cancelled, by))


def outcome_status(outcome: FixOutcome) -> FixStatus:
    if not outcome.executed and outcome.refused:
        return "refused"
    if outcome.changed:
        return "changed"
    if any(s.operation.status == "failed" for s in outcome.steps):
        return "failed"
    if outcome.verified:
        return "fixed"
    if outcome.activating:
        return "activating"
    return "unverified"


def after_fix_period(case: Case, now: datetime) -> timedelta | None:
    """The call-log period a re-check of a case reads after its fix changed Teams: only the calls since
    the fix was confirmed (a minute at least) — the failures before it were the old numbers' — or None
    (no such fix, or one older than the default period, which then holds only calls after it anyway)."""
    changed = [f for f in fixes_of(case) if f.status in CHANGED_TEAMS and f.confirmed_at is not None]
    if not changed:
        return None
    fix = changed[-1]
    period = max(timedelta(minutes=1), now - fix.confirmed_at + timedelta(minutes=1))  # type: ignore[operator]
    return period if period < DEFAULT_PERIOD else None
