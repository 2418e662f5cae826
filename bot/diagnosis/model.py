"""The diagnosis model: what was checked, what was found, what to do.

Serialises to exactly the JSON of DESIGN.md ("Interfaces": `python -m bot diagnose --json`).
Fields are only ever added, never renamed. Nothing here knows Bot Framework, HTTP or cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.diagnosis.times import as_utc

SCHEMA_VERSION = 1

Problem = Literal["inbound-calls", "outbound-calls", "sync-error"]
PROBLEMS: tuple[str, ...] = ("inbound-calls", "outbound-calls", "sync-error")
CALL_PROBLEMS: tuple[str, ...] = ("inbound-calls", "outbound-calls")
CheckStatus = Literal["pass", "fail", "warn", "unknown"]
CHECK_STATUSES: tuple[str, ...] = ("pass", "fail", "warn", "unknown")
Confidence = Literal["confirmed", "likely", "possible"]
DataSource = Literal["demo", "live"]
SubjectKind = Literal["user", "resourceAccount"]

# When several causes hold, the first in this order is `cause` (DESIGN.md); the call-log causes
# come between the user's own causes and `no-failure-found`, ordered by their failed calls.
INBOUND_USER_CAUSES: tuple[str, ...] = (
    "user-not-found",
    "no-phone-license",
    "calling-plan-conflict",
    "no-teams-number",
    "number-mismatch",
    "sync-too-recent",
    "microsoft-out-of-sync",
)
OUTBOUND_USER_CAUSES: tuple[str, ...] = (
    "user-not-found",
    "no-phone-license",
    "calling-plan-conflict",
    "enterprise-voice-disabled",
)
# Outbound: Teams shows no dial pad without a number. DESIGN.md's order puts the call-log causes
# right after Enterprise Voice, so this one comes after them, before no-failure-found.
OUTBOUND_AFTER_CALL_LOG: tuple[str, ...] = ("no-teams-number",)
INBOUND_CALL_LOG_CAUSES: tuple[str, ...] = (
    "not-signed-in",
    "caller-blocked",
    "unanswered-no-voicemail",
    "enterprise-voice-disabled",
    "media-failure",
    "carrier-side-failure",
    "unrecognised-failure",
)
OUTBOUND_CALL_LOG_CAUSES: tuple[str, ...] = (
    "enterprise-voice-disabled",
    "pstn-not-allowed",
    "no-voice-route",
    "international-not-allowed",
    "gateway-unreachable",
    "media-failure",
    "carrier-side-failure",
    "unrecognised-failure",
)
NO_FAULT = "no-failure-found"
# The call log's period (DESIGN.md: --since): 7 days unless asked, never more than Graph keeps.
DEFAULT_PERIOD = timedelta(days=7)
MAX_PERIOD = timedelta(days=90)
# The seed article's causes in their order (the first sync decides between the last two).
INBOUND_CAUSE_PRIORITY: tuple[str, ...] = (*INBOUND_USER_CAUSES, NO_FAULT)
SYNC_CAUSES: tuple[str, ...] = ("gateway-activation-pending", "gateway-activation-failed")
CAUSES: dict[str, tuple[str, ...]] = {
    "inbound-calls": tuple(dict.fromkeys((*INBOUND_USER_CAUSES, *INBOUND_CALL_LOG_CAUSES, NO_FAULT))),
    "outbound-calls": tuple(
        dict.fromkeys((*OUTBOUND_USER_CAUSES, *OUTBOUND_CALL_LOG_CAUSES, *OUTBOUND_AFTER_CALL_LOG, NO_FAULT))
    ),
    "sync-error": SYNC_CAUSES,
}
SupportTo = Literal["microsoft", "8x8"]


def problem_of(value: object) -> Problem:
    """`value` as a Problem; ValueError naming the valid ones otherwise."""
    if value in PROBLEMS:
        return value  # type: ignore[return-value]
    raise ValueError(f"{value!r} is not a problem I know: use {', '.join(PROBLEMS[:-1])} or {PROBLEMS[-1]}.")


def parse_iso(value: Any) -> datetime | None:
    """The inverse of `iso`: an ISO 8601 string (with `Z` or an offset; none means UTC) or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return as_utc(parsed)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _span_json(span: tuple[datetime, datetime] | None) -> dict[str, str | None] | None:
    return {"from": iso(span[0]), "to": iso(span[1])} if span else None


def _span_from_json(value: Any) -> tuple[datetime, datetime] | None:
    if not isinstance(value, dict):
        return None
    start, end = parse_iso(value.get("from")), parse_iso(value.get("to"))
    return (start, end) if start and end else None


def _calls_from_json(value: Any) -> list[FailedCall]:
    return [FailedCall.from_json(c) for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, seconds precision; None stays None."""
    if value is None:
        return None
    return as_utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")


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

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Check:
        status = data.get("status")
        return cls(
            id=str(data.get("id", "")),
            title=str(data.get("title", "")),
            status=status if status in CHECK_STATUSES else "unknown",  # type: ignore[arg-type]
            detail=str(data.get("detail", "")),
            source=str(data.get("source", "engine")),
            link=_str(data.get("link")),
        )


@dataclass
class FailedCall:
    """A call of the user's timeline, from Graph's Direct Routing log or from pasted portal text.

    `cause` is the cause id that explains the call; None for a call that ended without a fault of
    the service (busy, declined, the caller hung up), which a timeline shows but never counts.
    `outcome` says what happened in words ("could not ring: Teams was not signed in on any device").
    """

    correlation_id: str | None = None
    at: datetime | None = None
    caller_number: str | None = None
    callee_number: str | None = None
    sip_code: int | None = None
    sub_code: int | None = None
    phrase: str | None = None
    trunk_fqdn: str | None = None
    partial_match: bool = False  # matched on the visible part of a masked number
    direction: str | None = None  # "inbound" | "outbound"
    cause: str | None = None
    signature: str | None = None  # "480/10037"
    outcome: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "correlationId": self.correlation_id,
            "at": iso(self.at),
            "direction": self.direction,
            "callerNumber": self.caller_number,
            "calleeNumber": self.callee_number,
            "sipCode": self.sip_code,
            "subCode": self.sub_code,
            "signature": self.signature,
            "cause": self.cause,
            "outcome": self.outcome,
            "phrase": self.phrase,
            "trunkFqdn": self.trunk_fqdn,
            "partialMatch": self.partial_match,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FailedCall:
        return cls(
            correlation_id=_str(data.get("correlationId")),
            at=parse_iso(data.get("at")),
            caller_number=_str(data.get("callerNumber")),
            callee_number=_str(data.get("calleeNumber")),
            sip_code=_int(data.get("sipCode")),
            sub_code=_int(data.get("subCode")),
            phrase=_str(data.get("phrase")),
            trunk_fqdn=_str(data.get("trunkFqdn")),
            partial_match=bool(data.get("partialMatch", False)),
            direction=_str(data.get("direction")),
            cause=_str(data.get("cause")),
            signature=_str(data.get("signature")),
            outcome=_str(data.get("outcome")),
        )


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
    cause_counts: dict[str, int] = field(default_factory=dict)  # cause id -> failed calls in the period
    period: tuple[datetime, datetime] | None = None  # the period asked about (--since)
    calls_read: int = 0  # call-log rows read (the whole tenant's, in the span searched)
    search_complete: bool = True  # False: the time budget or a fault stopped the search early
    ended_calls: list[FailedCall] = field(default_factory=list)  # busy, declined, hung up: shown, not counted
    # Whom else Teams gives the subject's 8x8 number to: [{id, userPrincipalName, displayName, kind,
    # telephoneNumber, eightByEightNumber}] (their own 8x8 number, null when none or not known).
    number_held_by: list[dict[str, Any]] = field(default_factory=list)
    # 8x8's audit records on the person's number: {status changed|unchanged|unknown, at, from, to, detail}
    eightbyeight_number_change: dict[str, Any] | None = None

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
            "callLogWindow": _span_json(self.call_log_window),
            "partialNumberMatch": self.partial_number_match,
            "causeCounts": dict(self.cause_counts),
            "period": _span_json(self.period),
            "callsRead": self.calls_read,
            "searchComplete": self.search_complete,
            "endedCalls": [c.to_json() for c in self.ended_calls],
            "numberHeldBy": [dict(h) for h in self.number_held_by],
            "eightByEightNumberChange": self.eightbyeight_number_change,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        window = data.get("callLogWindow")
        start = parse_iso(window.get("from")) if isinstance(window, dict) else None
        end = parse_iso(window.get("to")) if isinstance(window, dict) else None
        calls = data.get("calls")
        counts = data.get("causeCounts")
        return cls(
            correlation_id=_str(data.get("correlationId")),
            sip_code=_int(data.get("sipCode")),
            sub_code=_int(data.get("subCode")),
            q850_cause=_int(data.get("q850Cause")),
            rnl=bool(data.get("rnl", False)),
            domains=_strings(data.get("domains")),
            failed_calls=_int(data.get("failedCalls")) or 0,
            last_failed_at=parse_iso(data.get("lastFailedAt")),
            first_sync_at=parse_iso(data.get("firstSyncAt")),
            gateway_error_first_seen=parse_iso(data.get("gatewayErrorFirstSeen")),
            gateway_error_last_seen=parse_iso(data.get("gatewayErrorLastSeen")),
            temporary_users=_strings(data.get("temporaryUsers")),
            calls=_calls_from_json(calls),
            call_log_window=(start, end) if start and end else None,
            partial_number_match=bool(data.get("partialNumberMatch", False)),
            cause_counts={
                k: v for k, v in (counts.items() if isinstance(counts, dict) else []) if _int(v) is not None
            },
            period=_span_from_json(data.get("period")),
            calls_read=_int(data.get("callsRead")) or 0,
            search_complete=data.get("searchComplete") is not False,
            ended_calls=_calls_from_json(data.get("endedCalls")),
            number_held_by=[dict(h) for h in data.get("numberHeldBy") or [] if isinstance(h, dict)],
            eightbyeight_number_change=data.get("eightByEightNumberChange")
            if isinstance(data.get("eightByEightNumberChange"), dict)
            else None,
        )


@dataclass
class Subject:
    """The affected user. `numbers` maps `8x8` and `teams` to E.164 numbers (or None).

    `kind` is "user", or "resourceAccount" for an auto attendant's or call queue's resource account."""

    id: str | None = None
    user_principal_name: str | None = None
    display_name: str | None = None
    eightbyeight_number: str | None = None
    teams_number: str | None = None
    kind: SubjectKind = "user"

    @property
    def resource_account(self) -> bool:
        return self.kind == "resourceAccount"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "userPrincipalName": self.user_principal_name,
            "displayName": self.display_name,
            "phoneNumbers": {"8x8": self.eightbyeight_number, "teams": self.teams_number},
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Subject:
        numbers = data.get("phoneNumbers") if isinstance(data.get("phoneNumbers"), dict) else {}
        return cls(
            id=_str(data.get("id")),
            user_principal_name=_str(data.get("userPrincipalName")),
            display_name=_str(data.get("displayName")),
            eightbyeight_number=_str(numbers.get("8x8")),
            teams_number=_str(numbers.get("teams")),
            kind="resourceAccount" if data.get("kind") == "resourceAccount" else "user",
        )


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

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Action:
        links = data.get("links")
        return cls(
            id=str(data.get("id", "")),
            title=str(data.get("title", "")),
            steps=_strings(data.get("steps")),
            warnings=_strings(data.get("warnings")),
            notes=_strings(data.get("notes")),
            links=[
                {str(k): str(v) for k, v in link.items()}
                for link in (links if isinstance(links, list) else [])
                if isinstance(link, dict)
            ],
        )


@dataclass
class SupportRequest:
    """The support request to whoever must act (`to`: Microsoft or 8x8), filled in with the evidence."""

    title: str
    description: str
    how_to_file: list[str] = field(default_factory=list)
    url: str = "https://admin.microsoft.com"
    to: SupportTo = "microsoft"

    def to_json(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "title": self.title,
            "description": self.description,
            "howToFile": list(self.how_to_file),
            "url": self.url,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SupportRequest:
        return cls(
            title=str(data.get("title", "")),
            description=str(data.get("description", "")),
            how_to_file=_strings(data.get("howToFile")),
            url=_str(data.get("url")) or "https://admin.microsoft.com",
            to="8x8" if data.get("to") == "8x8" else "microsoft",
        )


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
    # What the person asking could tell to decide between `cause` and `alternatives`:
    # "firstSyncAt", "eightByEightNumber", "callData", "syncHistory" (the conversation asks for them).
    needs: list[str] = field(default_factory=list)

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
            "needs": list(self.needs),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnosis:
        """Rebuild a Diagnosis from `to_json()` output (the case store keeps diagnoses as JSON).

        Lenient on purpose: a stored case from an older version must still load; unknown keys are
        ignored and missing ones take their defaults.
        """
        confidence = data.get("confidence")
        source = data.get("dataSource")
        subject = data.get("subject")
        evidence = data.get("evidence")
        support = data.get("supportRequest")
        return cls(
            problem=str(data.get("problem", "")),
            cause=str(data.get("cause", "")),
            title=str(data.get("title", "")),
            confidence=confidence if confidence in ("confirmed", "likely", "possible") else "possible",
            subject=Subject.from_json(subject) if isinstance(subject, dict) else None,
            checks=[Check.from_json(c) for c in data.get("checks") or [] if isinstance(c, dict)],
            evidence=Evidence.from_json(evidence) if isinstance(evidence, dict) else Evidence(),
            actions=[Action.from_json(a) for a in data.get("actions") or [] if isinstance(a, dict)],
            support_request=SupportRequest.from_json(support) if isinstance(support, dict) else None,
            alternatives=_strings(data.get("alternatives")),
            recheck_at=parse_iso(data.get("recheckAt")),
            data_source=source if source in ("demo", "live") else "live",
            summary=str(data.get("summary", "")),
            checked_at=parse_iso(data.get("checkedAt")),
            needs=_strings(data.get("needs")),
        )
