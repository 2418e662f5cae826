"""Reads text pasted from the 8x8 Voice for Teams admin portal.

Why: the portal has no public API (FACTS.md), yet it shows the evidence both articles rely on —
the Call Data page (`Failure Advice: 404 Unallocated Number`), its Debug Output (`Invalid argument
404`, `Reason: Q.850 ;cause=1 ;text="<guid>;RNL"`) and the Sync History (`PSERROR1> PSTN Gateway not
ready yet: "<domain>"`). Admins copy these out of a browser, so the parser is lenient about spaces,
case, quotes and timestamp formats, and never raises on text up to `MAX_PASTE_BYTES`: text it cannot
read simply yields no evidence (`kind == "none"`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.diagnosis.errors import InputError
from bot.diagnosis.phone import to_e164
from bot.diagnosis.times import find_timestamps

MAX_PASTE_BYTES = 64 * 1024

_GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_QUOTES = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'", "\u00b4": "'"}
)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_WIDE_SPACE = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")

FAILURE_ADVICE = re.compile(r"failure\s*advice\s*[:=\-]?\s*(\d{3})\b[ \t]*([^\n]{0,80})", re.IGNORECASE)
INVALID_ARGUMENT = re.compile(r"invalid\s+argument\s*[:=\-]?\s*(\d{3})\b", re.IGNORECASE)
REASON = re.compile(
    r"reason(?:\s+header)?\s*[:=]?\s*[\"']?\s*(q\s*\.?\s*850|sip)\s*;\s*cause\s*=\s*[\"']?(\d{1,3})\b([^\n]{0,300})",
    re.IGNORECASE,
)
REASON_TEXT = re.compile(r";\s*text\s*=\s*(.*)", re.IGNORECASE)
RNL = re.compile(r"(?:^|[;\s\"',])rnl(?![a-z0-9])", re.IGNORECASE)
GUID = re.compile(_GUID, re.IGNORECASE)
SIP_STATUS = re.compile(r"SIP/2\.0\s+(\d{3})\b", re.IGNORECASE)
SUB_CODE = re.compile(
    r"(?:ms-diagnostics|sub\s*-?\s*code|sub\s*-?\s*reason|call\s*end\s*sub\s*reason)\s*[:=]\s*(\d{4,6})\b",
    re.IGNORECASE,
)
CORRELATION = re.compile(r"correlation\s*-?\s*id\s*[:=]\s*[\"'<]?\s*(" + _GUID + ")", re.IGNORECASE)
CALLED = re.compile(
    r"^[ \t]*(?:to|called(?:\s+(?:number|party))?|callee(?:\s+number)?|destination(?:\s+number)?|dialed\s+number|dnis)"
    r"[ \t]*[:=][ \t]*([^\n]{1,120})$",
    re.IGNORECASE | re.MULTILINE,
)
CALLING = re.compile(
    r"^[ \t]*(?:from|caller(?:\s+(?:number|id))?|calling(?:\s+(?:number|party))?|ani)[ \t]*[:=][ \t]*([^\n]{1,120})$",
    re.IGNORECASE | re.MULTILINE,
)
INVITE = re.compile(r"INVITE\s+(?:sips?|tel):(\+?\d{6,15})[@;>\s]", re.IGNORECASE)
CALL_TIME = re.compile(
    r"^[ \t]*(?:start\s*time|call\s*time|call\s*start(?:ed)?|date\s*/\s*time|date|time|started|timestamp)"
    r"[ \t]*[:=][ \t]*([^\n]{1,80})$",
    re.IGNORECASE | re.MULTILINE,
)
NUMBER_TOKEN = re.compile(r"(?:tel:|sips?:)?\+?\d[\d \t().\-]{5,22}\d")
GATEWAY_ERROR = re.compile(
    r"PSTN\s+Gateway\s+not\s+ready\s+yet\s*:?\s*[\"'<]*\s*((?:[a-z0-9_](?:[a-z0-9_-]{0,62})\.)+[a-z]{2,63})\.?",
    re.IGNORECASE,
)
PSERROR = re.compile(r"PSERROR\d*\s*>", re.IGNORECASE)
SYNC_WORD = re.compile(r"\b(?:sync|synchroni[sz]ation)\b", re.IGNORECASE)
DONE_WORD = re.compile(
    r"\b(?:complete|completed|succeeded|successful(?:ly)?|success|finished|done)\b", re.IGNORECASE
)
NOT_DONE = re.compile(
    r"partial|fail|error|pserror|not\s+ready|unattached|warning|started|starting|running|in\s+progress|pending",
    re.IGNORECASE,
)
FIRST_SYNC_LABEL = re.compile(
    r"first\s+(?:complete\s+|full\s+)?sync(?:\s+completed?)?\s*(?:at|on)?\s*[:=]", re.IGNORECASE
)
PARTIAL_SETUP = re.compile(r"setup\s+partially\s+complete", re.IGNORECASE)
UNATTACHED = re.compile(r"\bunattached\b", re.IGNORECASE)
STRONG_MARKERS = re.compile(
    r"failure\s*advice\s*[:=\-]?\s*\d{3}|invalid\s+argument\s*\d{3}|reason(?:\s+header)?\s*[:=]?\s*[\"']?\s*q\s*\.?\s*850|PSERROR\d*\s*>"
    r"|PSTN\s+Gateway\s+not\s+ready|SIP/2\.0\s+\d{3}\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class GatewayError:
    """One domain's `PSERROR1> PSTN Gateway not ready yet` lines: when first and last seen, how often."""

    domain: str
    first_seen: datetime | None
    last_seen: datetime | None
    count: int


@dataclass
class PortalEvidence:
    """What a paste showed. Every field is optional: a paste shows what it shows."""

    kind: str = "none"  # "call-data" | "sync-history" | "none"
    sip_code: int | None = None
    q850_cause: int | None = None
    sub_code: int | None = None
    correlation_id: str | None = None
    rnl: bool = False
    failure_advice: str | None = None  # "404 Unallocated Number"
    invalid_argument_404: bool = False
    reason_header: str | None = None  # the Q.850 Reason line as pasted
    called_number: str | None = None  # E.164
    calling_number: str | None = None  # E.164
    call_time: datetime | None = None
    gateway_errors: list[GatewayError] = field(default_factory=list)
    first_complete_sync_at: datetime | None = None
    last_complete_sync_at: datetime | None = None
    setup_partially_complete: bool = False
    unattached_users: bool = False
    zone_assumed_utc: bool = False  # a timestamp used had no zone and was read as UTC

    @property
    def domains(self) -> list[str]:
        return [error.domain for error in self.gateway_errors]

    @property
    def gateway_error_first_seen(self) -> datetime | None:
        seen = [error.first_seen for error in self.gateway_errors if error.first_seen]
        return min(seen) if seen else None

    @property
    def gateway_error_last_seen(self) -> datetime | None:
        seen = [error.last_seen for error in self.gateway_errors if error.last_seen]
        return max(seen) if seen else None

    @property
    def shows_call_failure(self) -> bool:
        """The failed-call signature of the inbound-calls article (any one of its markers)."""
        return bool(
            self.sip_code == 404
            or self.q850_cause == 1
            or self.rnl
            or self.invalid_argument_404
            or self.sub_code == 511404
        )

    @property
    def has_call_data(self) -> bool:
        return bool(
            self.failure_advice
            or self.reason_header
            or self.invalid_argument_404
            or self.sip_code is not None
            or self.sub_code is not None
        )

    @property
    def has_sync_history(self) -> bool:
        return bool(
            self.gateway_errors
            or self.first_complete_sync_at
            or self.setup_partially_complete
            or self.unattached_users
        )


def check_size(text: str) -> None:
    """Raise InputError (one sentence) when a paste is over `MAX_PASTE_BYTES`."""
    if len(text) * 4 <= MAX_PASTE_BYTES:
        return
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_PASTE_BYTES:
        raise InputError(
            f"The pasted text is {size // 1024} KB, over the {MAX_PASTE_BYTES // 1024} KB limit: "
            "paste only the Call Data page or the Sync History."
        )


def parse_portal_text(text: str) -> PortalEvidence:
    """Everything the paste shows. Never raises for text up to 64 KB; over that, InputError."""
    if not isinstance(text, str):
        raise InputError("The pasted evidence must be text.")
    check_size(text)
    clean = normalise(text)
    evidence = PortalEvidence()
    _read_call_data(clean, evidence)
    _read_sync_history(clean, evidence)
    evidence.kind = _kind(evidence, clean)
    return evidence


def looks_like_portal_text(text: str) -> bool:
    """Is this chat message a paste from the 8x8 portal rather than a question?

    Only evidence counts (a Failure Advice, a Reason header, a PSERROR line, a SIP status line, a
    completed sync with its time): "show me the sync history" is a question, not a paste.
    """
    if not isinstance(text, str) or not text:
        return False
    if STRONG_MARKERS.search(normalise(text[: MAX_PASTE_BYTES * 2])):
        return True
    evidence = parse_portal_text(text[: MAX_PASTE_BYTES // 4])  # e.g. a history of completed syncs
    return evidence.first_complete_sync_at is not None


def infer_problem(text: str) -> str | None:
    """`sync-error` for a sync history with the gateway error, `inbound-calls` for call data, else None."""
    if not isinstance(text, str) or not text:
        return None
    clean = normalise(text[: MAX_PASTE_BYTES * 2])
    if GATEWAY_ERROR.search(clean) or PSERROR.search(clean) or PARTIAL_SETUP.search(clean):
        return "sync-error"
    if (
        FAILURE_ADVICE.search(clean)
        or INVALID_ARGUMENT.search(clean)
        or REASON.search(clean)
        or SUB_CODE.search(clean)
    ):
        return "inbound-calls"
    return None


def normalise(text: str) -> str:
    """One kind of newline, space and quote; no invisible characters (browsers copy all sorts)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    text = _WIDE_SPACE.sub(" ", text)
    return text.translate(_QUOTES)


# ---------------------------------------------------------------------------------------------
# Call Data page and Debug Output


def _read_call_data(text: str, evidence: PortalEvidence) -> None:
    advice = FAILURE_ADVICE.search(text)
    if advice:
        evidence.sip_code = _sip_code(advice.group(1))
        evidence.failure_advice = f"{advice.group(1)} {advice.group(2).strip()}".strip()
    for match in INVALID_ARGUMENT.finditer(text):
        if match.group(1) == "404":
            evidence.invalid_argument_404 = True
        if evidence.sip_code is None:
            evidence.sip_code = _sip_code(match.group(1))
    _read_reason_headers(text, evidence)
    if evidence.sip_code is None:
        final = [
            code
            for code in (_sip_code(m.group(1)) for m in SIP_STATUS.finditer(text))
            if code and code >= 300
        ]
        evidence.sip_code = final[0] if final else None
    sub = SUB_CODE.search(text)
    if sub:
        evidence.sub_code = int(sub.group(1))
    if evidence.correlation_id is None:
        correlation = CORRELATION.search(text)
        if correlation:
            evidence.correlation_id = correlation.group(1).lower()
    evidence.called_number = _first_number(CALLED, text) or _invite_number(text)
    evidence.calling_number = _first_number(CALLING, text)
    for match in CALL_TIME.finditer(text):
        found = find_timestamps(match.group(1))
        if found:
            evidence.call_time, had_zone = found[0]
            evidence.zone_assumed_utc = evidence.zone_assumed_utc or not had_zone
            break


def _read_reason_headers(text: str, evidence: PortalEvidence) -> None:
    for match in REASON.finditer(text):
        protocol, cause, rest = match.group(1), int(match.group(2)), match.group(3)
        if protocol.lower() == "sip":
            if evidence.sip_code is None:
                evidence.sip_code = _sip_code(match.group(2))
            continue
        if evidence.reason_header is not None:
            continue
        evidence.q850_cause = cause
        evidence.reason_header = match.group(0).strip()
        reason_text = REASON_TEXT.search(rest)
        body = reason_text.group(1) if reason_text else rest
        guid = GUID.search(body)
        if guid:
            evidence.correlation_id = guid.group(0).lower()
        if RNL.search(body):
            evidence.rnl = True


def _sip_code(digits: str) -> int | None:
    code = int(digits)
    return code if 100 <= code <= 699 else None


def _first_number(pattern: re.Pattern[str], text: str) -> str | None:
    for match in pattern.finditer(text):
        for token in NUMBER_TOKEN.finditer(match.group(1)):
            number = to_e164(token.group(0).strip())
            if number:
                return number
    return None


def _invite_number(text: str) -> str | None:
    match = INVITE.search(text)
    return to_e164(match.group(1)) if match else None


# ---------------------------------------------------------------------------------------------
# Sync History


def _read_sync_history(text: str, evidence: PortalEvidence) -> None:
    seen: dict[str, list[datetime | None]] = {}
    completed: list[datetime] = []
    explicit_first: datetime | None = None
    last_stamp: tuple[datetime, bool] | None = None
    for line in text.split("\n"):
        stamps = find_timestamps(line) if any(ch.isdigit() for ch in line) else []
        stamp = stamps[0] if stamps else last_stamp
        if stamps:
            last_stamp = stamps[0]
        for match in GATEWAY_ERROR.finditer(line):
            domain = match.group(1).lower().rstrip(".")
            seen.setdefault(domain, []).append(stamp[0] if stamp else None)
            evidence.zone_assumed_utc = evidence.zone_assumed_utc or bool(stamp and not stamp[1])
        if FIRST_SYNC_LABEL.search(line) and stamps:
            explicit_first = stamps[0][0]
            evidence.zone_assumed_utc = evidence.zone_assumed_utc or not stamps[0][1]
        elif stamp and _is_completed_sync(line):
            completed.append(stamp[0])
            evidence.zone_assumed_utc = evidence.zone_assumed_utc or not stamp[1]
    evidence.gateway_errors = [_gateway_error(domain, times) for domain, times in seen.items()]
    evidence.first_complete_sync_at = explicit_first or (min(completed) if completed else None)
    evidence.last_complete_sync_at = max(completed) if completed else explicit_first
    evidence.setup_partially_complete = bool(PARTIAL_SETUP.search(text))
    evidence.unattached_users = bool(UNATTACHED.search(text))


def _is_completed_sync(line: str) -> bool:
    return bool(SYNC_WORD.search(line) and DONE_WORD.search(line) and not NOT_DONE.search(line))


def _gateway_error(domain: str, times: list[datetime | None]) -> GatewayError:
    known = [t for t in times if t is not None]
    return GatewayError(
        domain=domain,
        first_seen=min(known) if known else None,
        last_seen=max(known) if known else None,
        count=len(times),
    )


def _kind(evidence: PortalEvidence, text: str) -> str:
    if evidence.gateway_errors:
        return "sync-history"
    if evidence.has_call_data:
        return "call-data"
    if evidence.has_sync_history or PSERROR.search(text):
        return "sync-history"
    return "none"
