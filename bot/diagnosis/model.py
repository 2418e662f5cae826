"""The diagnosis model: what was checked, what was found, what to do.

Serialises to exactly the JSON of DESIGN.md ("Interfaces": `python -m bot diagnose --json`).
Fields are only ever added, never renamed. Nothing here knows Bot Framework, HTTP or cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

SCHEMA_VERSION = 1

Problem = Literal["inbound-calls", "sync-error"]
PROBLEMS: tuple[str, ...] = ("inbound-calls", "sync-error")
CheckStatus = Literal["pass", "fail", "warn", "unknown"]
CHECK_STATUSES: tuple[str, ...] = ("pass", "fail", "warn", "unknown")
Confidence = Literal["confirmed", "likely", "possible"]
DataSource = Literal["demo", "live"]

# When several causes hold, the first in this order is `cause` (DESIGN.md).
INBOUND_CAUSE_PRIORITY: tuple[str, ...] = (
    "user-not-found",
    "no-phone-license",
    "no-teams-number",
    "number-mismatch",
    "sync-too-recent",
    "microsoft-out-of-sync",
    "no-failure-found",
)
SYNC_CAUSES: tuple[str, ...] = ("gateway-activation-pending", "gateway-activation-failed")
CAUSES: dict[str, tuple[str, ...]] = {
    "inbound-calls": INBOUND_CAUSE_PRIORITY,
    "sync-error": SYNC_CAUSES,
}


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, seconds precision; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class Check:
    """One verification step and its result.

    `source` says where the answer came from: `graph`, `8x8`, `portal` (pasted portal text),
    `admin` (told by the person asking), or `engine` (derived from other checks).
    An `unknown` check always says in `detail` which source could not answer, and why.
    """

    id: str
    title: str
    status: CheckStatus
    detail: str = ""
    source: str = "engine"
    # Where a person can look at this themselves (admin center page), when there is such a place.
    link: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "source": self.source,
        }
        if self.link:
            out["link"] = self.link
        return out


@dataclass
class FailedCall:
    """A failed inbound call, from Graph's Direct Routing log or from pasted portal text."""

    correlation_id: str | None = None
    at: datetime | None = None
    caller_number: str | None = None
    callee_number: str | None = None
    sip_code: int | None = None
    sub_code: int | None = None
    phrase: str | None = None
    trunk_fqdn: str | None = None
    partial_match: bool = False  # matched on the visible part of a masked number

    def to_json(self) -> dict[str, Any]:
        return {
            "correlationId": self.correlation_id,
            "at": iso(self.at),
            "callerNumber": self.caller_number,
            "calleeNumber": self.callee_number,
            "sipCode": self.sip_code,
            "subCode": self.sub_code,
            "phrase": self.phrase,
            "trunkFqdn": self.trunk_fqdn,
            "partialMatch": self.partial_match,
        }


@dataclass
class Evidence:
    """The facts the rules decided on. DESIGN.md fields first; the rest are additions."""

    correlation_id: str | None = None
    sip_code: int | None = None
    sub_code: int | None = None
    q850_cause: int | None = None
    rnl: bool = False
    domains: list[str] = field(default_factory=list)
    failed_calls: int = 0
    # additions
    last_failed_at: datetime | None = None
    first_sync_at: datetime | None = None
    gateway_error_first_seen: datetime | None = None
    gateway_error_last_seen: datetime | None = None
    temporary_users: list[str] = field(default_factory=list)
    calls: list[FailedCall] = field(default_factory=list)
    call_log_window: tuple[datetime, datetime] | None = None
    partial_number_match: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "correlationId": self.correlation_id,
            "sipCode": self.sip_code,
            "subCode": self.sub_code,
            "q850Cause": self.q850_cause,
            "rnl": self.rnl,
            "domains": list(self.domains),
            "failedCalls": self.failed_calls,
            "lastFailedAt": iso(self.last_failed_at),
            "firstSyncAt": iso(self.first_sync_at),
            "gatewayErrorFirstSeen": iso(self.gateway_error_first_seen),
            "gatewayErrorLastSeen": iso(self.gateway_error_last_seen),
            "temporaryUsers": list(self.temporary_users),
            "calls": [c.to_json() for c in self.calls],
            "callLogWindow": (
                {"from": iso(self.call_log_window[0]), "to": iso(self.call_log_window[1])}
                if self.call_log_window
                else None
            ),
            "partialNumberMatch": self.partial_number_match,
        }


@dataclass
class Subject:
    """The affected user. `numbers` maps `8x8` and `teams` to E.164 numbers (or None)."""

    id: str | None = None
    user_principal_name: str | None = None
    display_name: str | None = None
    eightbyeight_number: str | None = None
    teams_number: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "userPrincipalName": self.user_principal_name,
            "displayName": self.display_name,
            "phoneNumbers": {"8x8": self.eightbyeight_number, "teams": self.teams_number},
        }


@dataclass
class Action:
    """Something to do: a solution, a wait, a procedure. Warnings come before the steps."""

    id: str
    title: str
    steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)  # [{"title": ..., "url": ...}]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "steps": list(self.steps),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "links": [dict(link) for link in self.links],
        }


@dataclass
class SupportRequest:
    """The Microsoft support request, filled in with the case's evidence."""

    title: str
    description: str
    how_to_file: list[str] = field(default_factory=list)
    url: str = "https://admin.microsoft.com"

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "howToFile": list(self.how_to_file),
            "url": self.url,
        }


@dataclass
class Diagnosis:
    problem: str
    cause: str
    title: str
    confidence: Confidence
    subject: Subject | None = None
    checks: list[Check] = field(default_factory=list)
    evidence: Evidence = field(default_factory=Evidence)
    actions: list[Action] = field(default_factory=list)
    support_request: SupportRequest | None = None
    alternatives: list[str] = field(default_factory=list)
    recheck_at: datetime | None = None
    data_source: DataSource = "demo"
    # additions
    summary: str = ""  # plain-language answer for the person affected (no admin jargon)
    checked_at: datetime | None = None

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "problem": self.problem,
            "cause": self.cause,
            "title": self.title,
            "confidence": self.confidence,
            "subject": self.subject.to_json() if self.subject else None,
            "checks": [c.to_json() for c in self.checks],
            "evidence": self.evidence.to_json(),
            "actions": [a.to_json() for a in self.actions],
            "supportRequest": self.support_request.to_json() if self.support_request else None,
            "alternatives": list(self.alternatives),
            "recheckAt": iso(self.recheck_at),
            "dataSource": self.data_source,
            "summary": self.summary,
            "checkedAt": iso(self.checked_at),
        }
