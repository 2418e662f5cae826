"""Sync error "PSERROR1> PSTN Gateway not ready yet" (8x8: Microsoft did not activate the domains).

The deciding fact is when the error first appeared in the portal's Sync History: under 24 hours,
wait and sync once more; 24 hours or more, the reset procedure. The Sync History reaches the bot
only as pasted text (the portal has no API). Graph adds what Microsoft 365 holds: the voice routing
domains and their state, the users on them (Microsoft activates a Direct Routing domain only once
a licensed user exists on it) and the "Temporary Domain Voice Activation User" accounts. Graph
cannot show PSTN gateways or voice routes (PowerShell only), and the checks say so.

Pure functions over `SyncFacts`; the engine gathers the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.diagnosis.evidence import DirectoryUser, Domain
from bot.diagnosis.model import SYNC_CAUSES, Check, Diagnosis, Evidence, Subject
from bot.diagnosis.playbook import load_playbook
from bot.diagnosis.portal_text import PortalEvidence
from bot.diagnosis.rules.common import (
    Answer,
    Verdict,
    count,
    join_names,
    not_asked_yet,
    sentence,
    unknown,
    verdict_diagnosis,
)
from bot.diagnosis.times import format_utc, human_age, human_until

PROBLEM = "sync-error"
ACTIVATION_WAIT = timedelta(hours=24)
ACTIVATION_USER_NAME = "Temporary Domain Voice Activation User"
MAX_DOMAINS_LOOKED_AT = 10
# Inference (FACTS.md): 8x8's voice routing subdomains carry "8x8" in their name and have no
# supportedServices; the domains named in the pasted Sync History are authoritative.
EIGHTBYEIGHT_MARK = "8x8"
OTHER = {
    "gateway-activation-pending": "gateway-activation-failed",
    "gateway-activation-failed": "gateway-activation-pending",
}

CHECKS: tuple[tuple[str, str, int], ...] = (
    ("sync-history", "portal", 1),
    ("gateway-error-age", "portal", 1),
    ("voice-domains", "graph", 1),
    ("activation-users", "graph", 1),
    ("domain-users", "graph", 2),
    ("pstn-gateways", "graph", 2),
)


@dataclass
class SyncFacts:
    now: datetime
    history: PortalEvidence | None = None  # pasted, or the demo portal's
    history_error: str | None = None
    domains: Answer[list[Domain]] = not_asked_yet()
    activation_users: Answer[list[DirectoryUser]] = not_asked_yet()
    domain_users: dict[str, Answer[list[DirectoryUser]]] = field(default_factory=dict)
    subject: Subject | None = None
    unread_paste: bool = False  # text was pasted, but it is not a Sync History

    @property
    def history_domains(self) -> list[str]:
        return self.history.domains if self.history else []

    @property
    def graph_voice_domains(self) -> list[Domain]:
        """Graph's domains that are 8x8 voice routing domains (named in the history, or 8x8's by name)."""
        if not self.domains.ok or not self.domains.value:
            return []
        named = set(self.history_domains)
        return [d for d in self.domains.value if d.id.lower() in named or _looks_like_8x8(d)]

    @property
    def all_domains(self) -> list[str]:
        out = list(self.history_domains)
        out += [d.id.lower() for d in self.graph_voice_domains if d.id.lower() not in out]
        return out

    @property
    def first_seen(self) -> tuple[datetime | None, str]:
        """When the error first appeared and how we know: `portal` (sync history), `graph` (domain state)."""
        if self.history and self.history.gateway_error_first_seen:
            return self.history.gateway_error_first_seen, "portal"
        unfinished = [
            d.state_last_action_at
            for d in self.graph_voice_domains
            if d.state_last_action_at
            and (d.state_status in ("Scheduled", "InProgress", "Failed") or not d.is_verified)
        ]
        if unfinished:
            return min(unfinished), "graph"
        return None, ""


def _looks_like_8x8(domain: Domain) -> bool:
    labels = domain.id.lower().split(".")
    return any(EIGHTBYEIGHT_MARK in label for label in labels) and not domain.supported_services


# ---------------------------------------------------------------------------------------------
# Checks


def build_checks(stage: int, facts: SyncFacts) -> list[Check]:
    return [BUILDERS[check_id](facts) for check_id, _, check_stage in CHECKS if check_stage == stage]


def _words(check_id: str) -> tuple[str, str | None, str]:
    words = load_playbook(PROBLEM).check(check_id)
    return words.title, words.link, words.how_to_look


def _history_check(facts: SyncFacts) -> Check:
    title, link, how = _words("sync-history")
    history = facts.history
    if history is None:
        why = f"{sentence(facts.history_error)} " if facts.history_error else ""
        if facts.unread_paste:
            why = "The pasted text is not a Sync History (no PSERROR1> line and no sync times). " + why
        return unknown(
            "sync-history",
            title,
            "portal",
            f"{why}The 8x8 Voice for Teams admin portal has no API: paste Sync Now > Show Sync History here. {how}",
            link,
        )
    extras = []
    if history.setup_partially_complete:
        extras.append("It also shows Setup partially complete.")
    if history.unattached_users:
        extras.append("Some users are Unattached.")
    if not history.gateway_errors:
        return Check(
            "sync-history",
            title,
            "pass",
            " ".join(["The Sync History does not show PSERROR1> PSTN Gateway not ready yet.", *extras]),
            "portal",
            link,
        )
    lines = []
    for error in history.gateway_errors:
        seen = (
            f"first {format_utc(error.first_seen)}, last {format_utc(error.last_seen)}"
            if error.first_seen and error.last_seen
            else "no time shown"
        )
        lines.append(f'"{error.domain}" ({_times(error.count)}, {seen})')
    detail = f"PSERROR1> PSTN Gateway not ready yet for {join_names(lines, limit=10)}."
    return Check("sync-history", title, "fail", " ".join([detail, *extras]), "portal", link)


def _age_check(facts: SyncFacts) -> Check:
    title, link, how = _words("gateway-error-age")
    first, source = facts.first_seen
    if first is None:
        if facts.history and facts.history.gateway_errors:
            why = "The pasted Sync History shows no time for the error."
        else:
            why = "When the error first appeared is not known."
        return unknown(
            "gateway-error-age",
            title,
            "portal",
            f"{why} It decides between waiting and resetting. {how}",
            link,
        )
    ends = first + ACTIVATION_WAIT
    origin = "first appeared" if source == "portal" else "(from Microsoft 365's domain state) began"
    zone = ", read as UTC: the pasted time has no zone" if source == "portal" and _zone_assumed(facts) else ""
    stamp = f"The error {origin} {format_utc(first)} ({human_age(facts.now, first)}{zone})"
    if facts.now < ends:
        return Check(
            "gateway-error-age",
            title,
            "warn",
            f"{stamp}: less than 24 hours ago. Wait until 24 hours after it: {human_until(facts.now, ends)}.",
            source,
            link,
        )
    return Check("gateway-error-age", title, "fail", f"{stamp}: more than 24 hours ago.", source, link)


def _zone_assumed(facts: SyncFacts) -> bool:
    return bool(facts.history and facts.history.zone_assumed_utc)


def _domains_check(facts: SyncFacts) -> Check:
    title, link, _ = _words("voice-domains")
    if not facts.domains.ok:
        return unknown("voice-domains", title, "graph", facts.domains.error or "", link)
    found = facts.graph_voice_domains
    present = {d.id.lower() for d in found}
    missing = [name for name in facts.history_domains if name not in present]
    # Sentences never start with a domain name: it would be capitalised, and domains are lower case.
    parts = []
    if found:
        parts.append(f"In Microsoft 365: {'; '.join(_domain_words(d) for d in found)}.")
    if missing:
        parts.append(f"Not in Microsoft 365 (already removed?): {join_names(missing)}.")
    if not parts:
        return Check(
            "voice-domains",
            title,
            "warn",
            "No 8x8 voice routing domain was found in Microsoft 365.",
            "graph",
            link,
        )
    broken = [
        d for d in found if not d.is_verified or d.state_status in ("Scheduled", "InProgress", "Failed")
    ]
    status = (
        "fail" if any(d.state_status == "Failed" for d in found) else "warn" if broken or missing else "pass"
    )
    detail = " ".join(parts)
    if status == "pass":
        detail += " Verified in Microsoft 365; whether Teams activated them as PSTN gateways only PowerShell can show."
    return Check("voice-domains", title, status, detail, "graph", link)


def _domain_words(domain: Domain) -> str:
    words = f"{domain.id}: {'verified' if domain.is_verified else 'not verified'}"
    if domain.state_status:
        operation = f" {domain.state_operation}" if domain.state_operation else ""
        when = f" since {format_utc(domain.state_last_action_at)}" if domain.state_last_action_at else ""
        words += f", {domain.state_status}{operation}{when}"
    return words


def _activation_users_check(facts: SyncFacts) -> Check:
    title, link, _ = _words("activation-users")
    if not facts.activation_users.ok:
        return unknown("activation-users", title, "graph", facts.activation_users.error or "", link)
    users = facts.activation_users.value or []
    if not users:
        return Check(
            "activation-users",
            title,
            "pass",
            f"No user named {ACTIVATION_USER_NAME} (0-2 is normal).",
            "graph",
            link,
        )
    names = [f"{u.display_name} ({u.user_principal_name})" for u in users]
    return Check(
        "activation-users",
        title,
        "warn",
        f"{count(len(users), 'account')} created for the domain activation: {join_names(names)}. "
        "The reset procedure deletes them.",
        "graph",
        link,
    )


def _domain_users_check(facts: SyncFacts) -> Check:
    title, link, _ = _words("domain-users")
    if not facts.domains.ok:
        return unknown("domain-users", title, "graph", f"Not checked: {facts.domains.error or ''}", link)
    if not facts.domain_users:
        return unknown(
            "domain-users", title, "graph", "Not checked: no 8x8 voice routing domain in Microsoft 365.", link
        )
    # Sentences never start with a domain name or a UPN: they would be capitalised.
    parts, empty, errors = [], [], []
    for domain, answer in facts.domain_users.items():
        if not answer.ok:
            errors.append(_domain_error(domain, answer.error or ""))
        elif not answer.value:
            empty.append(domain)
        else:
            parts.append(f"{domain}: {join_names([u.user_principal_name for u in answer.value], limit=3)}")
    if errors and not parts and not empty:
        return unknown("domain-users", title, "graph", " ".join(errors), link)
    sentences = [f"Users on {'; '.join(parts)}."] if parts else []
    if empty:
        sentences.append(f"No user on {join_names(empty)}.")
    detail = " ".join(sentences + errors)
    if empty:
        detail += " Microsoft activates a Direct Routing domain only once a licensed user exists on it."
    return Check("domain-users", title, "warn" if empty else "pass", detail, "graph", link)


def _domain_error(domain: str, error: str) -> str:
    """Why the users on `domain` are not known, as a sentence that does not start with the domain."""
    if domain.lower() in error.lower():
        return sentence(error)  # the source named the domain itself
    return sentence(f"Users on {domain} not checked: {error}")


def _gateways_check(facts: SyncFacts) -> Check:
    title, link, _ = _words("pstn-gateways")
    domains = join_names(facts.all_domains) or "the 8x8 voice routing domains"
    return unknown(
        "pstn-gateways",
        title,
        "graph",
        "Microsoft Graph cannot show PSTN gateways, voice routes or voice routing policies (PowerShell only): "
        f"in Teams PowerShell, Get-CsOnlinePSTNGateway shows whether {domains} are there and enabled.",
        link,
    )


BUILDERS = {
    "sync-history": _history_check,
    "gateway-error-age": _age_check,
    "voice-domains": _domains_check,
    "activation-users": _activation_users_check,
    "domain-users": _domain_users_check,
    "pstn-gateways": _gateways_check,
}


# ---------------------------------------------------------------------------------------------
# Verdict and diagnosis


def decide(facts: SyncFacts) -> Verdict:
    first, source = facts.first_seen
    if first is None:
        return Verdict(
            "gateway-activation-pending",
            "possible",
            alternatives=["gateway-activation-failed"],
            recheck_at=facts.now + ACTIVATION_WAIT,
            needs=["syncHistory"],
        )
    pending = facts.now < first + ACTIVATION_WAIT
    cause = "gateway-activation-pending" if pending else "gateway-activation-failed"
    verdict = Verdict(cause, "confirmed" if source == "portal" else "likely")
    if source != "portal":
        verdict.alternatives = [OTHER[cause]]
        verdict.needs = ["syncHistory"]
    if pending:
        verdict.recheck_at = first + ACTIVATION_WAIT
    return verdict


def assemble(facts: SyncFacts, checks: list[Check], data_source: str) -> Diagnosis:
    verdict = decide(facts)
    assert verdict.cause in SYNC_CAUSES
    playbook = load_playbook(PROBLEM)
    values, flags = _values(facts, verdict)
    words = playbook.cause(verdict.cause, values)
    first, _ = facts.first_seen
    history = facts.history
    evidence = Evidence(
        domains=facts.all_domains,
        gateway_error_first_seen=first,
        gateway_error_last_seen=history.gateway_error_last_seen if history else None,
        temporary_users=[u.user_principal_name for u in (facts.activation_users.value or [])]
        if facts.activation_users.ok
        else [],
        first_sync_at=history.first_complete_sync_at if history else None,
    )
    return verdict_diagnosis(
        PROBLEM,
        verdict,
        words,
        now=facts.now,
        data_source=data_source,
        subject=facts.subject,
        checks=checks,
        evidence=evidence,
        actions=playbook.actions_for(verdict.cause, values, flags),
    )


def _values(facts: SyncFacts, verdict: Verdict) -> tuple[dict[str, str], set[str]]:
    first, _ = facts.first_seen
    wait_until = verdict.recheck_at or (first + ACTIVATION_WAIT if first else facts.now + ACTIVATION_WAIT)
    if facts.activation_users.ok:
        users = facts.activation_users.value or []
        found = (
            f"Found now: {join_names([f'{u.display_name} ({u.user_principal_name})' for u in users])}."
            if users
            else "None found in Microsoft 365 right now."
        )
    else:
        found = f"(Microsoft 365 could not be asked: {facts.activation_users.error})"
    values = {
        "domains": join_names(facts.all_domains, limit=10) or "the domains named in the sync log",
        "first_seen": f"{format_utc(first)} ({human_age(facts.now, first)})"
        if first
        else "at a time not known",
        "wait_until": format_utc(wait_until, facts.now),
        "wait_in": human_until(facts.now, wait_until),
        "temporary_users_found": found,
    }
    return values, {"first_seen_known"} if first else set()


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"
