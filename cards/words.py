"""The card's own words: labels for problems, causes, statuses and confidence.

The playbooks (bot/diagnosis/playbooks) own the long texts — titles, steps, warnings, the support
request. What is here is only what a card needs to frame them: short labels for a cause that is still
possible, what would decide between causes, and plain-language fallbacks for the person affected when a
diagnosis carries no `summary`.
"""

from __future__ import annotations

__all__ = [
    "CHECK_ICONS",
    "CHECK_WORDS",
    "FAULT",
    "GOOD",
    "WAIT",
    "cause_label",
    "confidence_words",
    "decided_by",
    "plain_next",
    "plain_summary",
    "problem_label",
    "severity",
    "support_words",
]

WAIT_CAUSES: frozenset[str] = frozenset({"sync-too-recent", "gateway-activation-pending"})
GOOD_CAUSES: frozenset[str] = frozenset({"no-failure-found"})

FAULT, WAIT, GOOD = "attention", "warning", "good"

_PROBLEMS = {"inbound-calls": "Inbound calls", "outbound-calls": "Outbound calls", "sync-error": "Sync error"}

_CAUSES = {
    "sync-too-recent": "the first complete sync finished less than 72 hours ago",
    "number-mismatch": "Teams holds a different number for the user than 8x8",
    "microsoft-out-of-sync": "Microsoft's records are out of sync with 8x8",
    "no-teams-number": "Teams holds no number for the user",
    "no-phone-license": "the user has no Teams Phone licence",
    "user-not-found": "there is no such user in the tenant",
    "no-failure-found": "nothing is wrong",
    "gateway-activation-pending": "Microsoft is still activating 8x8's voice routing domains",
    "gateway-activation-failed": "Microsoft's activation of 8x8's voice routing domains failed",
    "calling-plan-conflict": "the user also holds a Microsoft Calling Plan, and 8x8 does not sync such users",
    "enterprise-voice-disabled": "the user is not Enterprise Voice enabled",
    # the call-log causes: also the labels of the per-cause counts ("3 calls: …")
    "not-signed-in": "no Teams client of the user was signed in",
    "caller-blocked": "the tenant's inbound call blocking rejected the callers",
    "unanswered-no-voicemail": "unanswered calls had nowhere to go: voicemail is off by policy",
    "media-failure": "calls were set up but no audio could flow",
    "carrier-side-failure": "8x8's side rejected or failed the calls",
    "unrecognised-failure": "calls failed with codes Voice Doctor cannot explain",
    "pstn-not-allowed": "the user may not call phone numbers",
    "no-voice-route": "no voice route matches the dialled numbers",
    "international-not-allowed": "the user may call domestic numbers only",
    "gateway-unreachable": "Microsoft could not reach 8x8's SBC",
}

_SYNC_HISTORY = "the 8x8 Voice for Teams admin portal, Sync Now > Show Sync History"
_DECIDED_BY = {
    "sync-too-recent": f"when the first complete sync finished ({_SYNC_HISTORY})",
    "microsoft-out-of-sync": f"when the first complete sync finished ({_SYNC_HISTORY})",
    "number-mismatch": "the user's number in the 8x8 Admin Console (Home > Users)",
    "no-teams-number": "the user's page in the Teams admin center (Users)",
    "no-phone-license": "the user's licences in the Microsoft 365 admin center",
    "gateway-activation-pending": f"when the PSTN Gateway error first appeared ({_SYNC_HISTORY})",
    "gateway-activation-failed": f"when the PSTN Gateway error first appeared ({_SYNC_HISTORY})",
    "calling-plan-conflict": "the user's licences in the Microsoft 365 admin center",
    "enterprise-voice-disabled": "the user's page in the Teams admin center (Users)",
    "not-signed-in": "whether the user was signed in to Teams on a computer or phone when the calls came",
    "caller-blocked": "the tenant's blocked number patterns (PowerShell: Get-CsInboundBlockedNumberPattern)",
    "unanswered-no-voicemail": "the user's voicemail settings in 8x8 and their Teams calling policy",
    "pstn-not-allowed": "the calling and voice routing policies of the user (Teams admin center > Users)",
    "international-not-allowed": "the calling and voice routing policies of the user (Teams admin center > Users)",
    "no-voice-route": "the user's voice routing policy and its routes (PowerShell: Get-CsOnlineVoiceRoute)",
    "gateway-unreachable": "8x8 Support, with the trunk name, the call times and the correlation ids",
    "carrier-side-failure": "8x8 Support, with the call times and the correlation ids",
    "media-failure": "the network path for Teams media (firewall, ports) and 8x8's SBC media settings",
    "unrecognised-failure": "Microsoft's list of Direct Routing SIP and Microsoft response codes",
}

# The support request part, by whom it goes to: its heading, what it is, and its button.
_SUPPORT = {
    "microsoft": (
        "Microsoft support request",
        "If the steps above do not fix it, only Microsoft can. The request is filled in with this case's "
        "evidence; the account owner files it.",
        "Open Microsoft 365 admin center",
    ),
    "8x8": (
        "8x8 support request",
        "8x8 must look at this: the failure is on 8x8's side of the line, or only 8x8 can see it. The request "
        "is filled in with the call times, numbers, codes and correlation ids; whoever manages your 8x8 "
        "account sends it.",
        "Open 8x8 Support",
    ),
}

_CONFIDENCE = {
    "confirmed": "Confirmed by the checks below",
    "likely": "Likely: the checks point here, but not all of them could be made",
    "possible": "Possible: the evidence cannot decide yet",
}

CHECK_ICONS = {"pass": "✓", "fail": "✗", "warn": "!", "unknown": "?"}
CHECK_COLORS = {"pass": "Good", "fail": "Attention", "warn": "Warning", "unknown": "Default"}
CHECK_WORDS = {"pass": "Passed", "fail": "Failed", "warn": "Warning", "unknown": "Could not check"}

# For the person affected: what is wrong, in words without admin jargon (no SIP, no sync, no licence SKUs).
_PLAIN = {
    "sync-too-recent": (
        "Your phone number was set up recently, and Microsoft is still finishing its part. "
        "Calls to you should start ringing once it is done."
    ),
    "number-mismatch": (
        "Your phone number is recorded differently in two places, so calls to your number "
        "cannot find you in Teams."
    ),
    "microsoft-out-of-sync": (
        "Microsoft's system has not caught up with your phone number, so calls to your number "
        "cannot find you in Teams."
    ),
    "no-teams-number": "Your Teams account has no phone number yet, so calls cannot reach you.",
    "no-phone-license": "Your Teams account is not set up for phone calls yet.",
    "user-not-found": "I could not find your account, so I could not check your calls.",
    "no-failure-found": "I could not find anything wrong with your calls.",
    "gateway-activation-pending": (
        "The company's phone setup is still being finished by Microsoft. Calls should work once it is done."
    ),
    "gateway-activation-failed": "The company's phone setup did not finish and needs your helpdesk.",
    "calling-plan-conflict": "Your account has a second phone plan that gets in the way of the company's phone service.",
    "enterprise-voice-disabled": "Your Teams account is not switched on for phone calls.",
    "not-signed-in": "Calls could not ring because Teams was not signed in on any of your devices.",
    "caller-blocked": "Some calls were blocked before they reached you: the company blocks those numbers.",
    "unanswered-no-voicemail": "Calls you did not answer had nowhere to go, because voicemail is off in Teams.",
    "media-failure": "Calls connected, but no sound could get through.",
    "carrier-side-failure": "Calls failed on the phone company's side of the line, not in Teams.",
    "unrecognised-failure": "Calls failed for a reason I could not recognise.",
    "pstn-not-allowed": "Your Teams account is not allowed to call phone numbers.",
    "no-voice-route": "Teams does not know where to send the numbers you dial.",
    "international-not-allowed": "Your account may only call numbers in your own country.",
    "gateway-unreachable": "Teams could not reach the phone company's system.",
}

# What happens next, where the usual "your helpdesk can fix this" would be wrong or too vague.
_SELF_FIX: frozenset[str] = frozenset({"not-signed-in"})  # the person affected fixes it; nobody else acts
_VIA_8X8: frozenset[str] = frozenset({"carrier-side-failure", "gateway-unreachable"})
_RECENT_CALLS = "new calls can take a few hours to show up here"


def problem_label(problem: str) -> str:
    """'Inbound calls' for 'inbound-calls'; an unknown problem id is shown readably, not hidden."""
    return _PROBLEMS.get(problem, problem.replace("-", " ").capitalize())


def cause_label(cause: str) -> str:
    """A cause as the end of 'It could also be that …'."""
    return _CAUSES.get(cause, cause.replace("-", " "))


def decided_by(cause: str) -> str | None:
    """What the reader can look up to rule a possible cause in or out; None when nothing specific."""
    return _DECIDED_BY.get(cause)


def support_words(to: str) -> tuple[str, str, str]:
    """(heading, what it is, button title) for a support request to Microsoft or 8x8."""
    return _SUPPORT.get(to, _SUPPORT["microsoft"])


def confidence_words(confidence: str) -> str:
    return _CONFIDENCE.get(confidence, confidence.capitalize())


def severity(cause: str) -> str:
    """The container style: attention for a fault, warning while waiting helps, good when nothing is wrong."""
    if cause in WAIT_CAUSES:
        return WAIT
    if cause in GOOD_CAUSES:
        return GOOD
    return FAULT


def plain_summary(cause: str) -> str:
    return _PLAIN.get(cause, "Something is wrong with your Teams calls.")


def plain_next(cause: str, *, helpdesk_notified: bool, wait_until: str | None) -> str:
    """What happens next for the person affected, honest about whether the helpdesk already knows."""
    if cause in WAIT_CAUSES and wait_until:
        return f"Nothing for you to do. It should work by {wait_until}; press Check again after that."
    if cause in GOOD_CAUSES:
        if helpdesk_notified:
            return "I have sent what I checked to your helpdesk. If a call fails again, note the time and tell them."
        return "If a call fails again, note the time and tell your helpdesk."
    if cause in _SELF_FIX:
        told = " Your helpdesk has a copy, in case it keeps happening." if helpdesk_notified else ""
        return (
            "You can fix this yourself; nobody else needs to act. After a test call, press Check again "
            f"({_RECENT_CALLS}).{told}"
        )
    if cause in _VIA_8X8:
        if helpdesk_notified:
            return "I have sent the details to your helpdesk. They will take it up with 8x8; you do not need to do anything."
        return "Your helpdesk needs to take this up with 8x8. Forward them this message; you do not need to do anything else."
    if cause == "media-failure":
        if helpdesk_notified:
            return (
                "I have sent the details to your helpdesk. They will check the network, and 8x8 if "
                "needed; you do not need to do anything."
            )
        return "Your helpdesk needs to check the network (and 8x8 if needed). Forward them this message."
    if helpdesk_notified:
        return "I have sent the details to your helpdesk. They can fix this; you do not need to do anything."
    return "Your helpdesk can fix this. Forward them this message; you do not need to do anything else."


RESOURCE_ACCOUNT = "auto attendant / call queue (resource account)"


def subject_kind_words(kind: str | None) -> str | None:
    """What a card adds where it names the subject: a resource account is said to be one (the main
    line is not a person, and its sign-in being disabled is normal); a user needs no words."""
    return RESOURCE_ACCOUNT if kind == "resourceAccount" else None


def holder_words(held_by: list[dict]) -> str | None:
    """ "Christie Cline (christiec@contoso.example)": whom else Teams gives the subject's 8x8 number to."""
    names = []
    for holder in held_by:
        name = f"{holder.get('displayName')} ({holder.get('userPrincipalName')})"
        if holder.get("kind") == "resourceAccount":
            name += f", {RESOURCE_ACCOUNT}"
        names.append(name)
    return ", ".join(names) or None
