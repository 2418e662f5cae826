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
]

WAIT_CAUSES: frozenset[str] = frozenset({"sync-too-recent", "gateway-activation-pending"})
GOOD_CAUSES: frozenset[str] = frozenset({"no-failure-found"})

FAULT, WAIT, GOOD = "attention", "warning", "good"

_PROBLEMS = {"inbound-calls": "Inbound calls", "sync-error": "Sync error"}

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
}


def problem_label(problem: str) -> str:
    """'Inbound calls' for 'inbound-calls'; an unknown problem id is shown readably, not hidden."""
    return _PROBLEMS.get(problem, problem.replace("-", " ").capitalize())


def cause_label(cause: str) -> str:
    """A cause as the end of 'It could also be that …'."""
    return _CAUSES.get(cause, cause.replace("-", " "))


def decided_by(cause: str) -> str | None:
    """What the reader can look up to rule a possible cause in or out; None when nothing specific."""
    return _DECIDED_BY.get(cause)


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
    return _PLAIN.get(cause, "Something is wrong with how your calls reach Teams.")


def plain_next(cause: str, *, helpdesk_notified: bool, wait_until: str | None) -> str:
    """What happens next for the person affected, honest about whether the helpdesk already knows."""
    if cause in WAIT_CAUSES and wait_until:
        return f"Nothing for you to do. It should work by {wait_until}; press Check again after that."
    if cause in GOOD_CAUSES:
        if helpdesk_notified:
            return "I have sent what I checked to your helpdesk. If a call fails again, note the time and tell them."
        return "If a call fails again, note the time and tell your helpdesk."
    if helpdesk_notified:
        return "I have sent the details to your helpdesk. They can fix this; you do not need to do anything."
    return "Your helpdesk can fix this. Forward them this message; you do not need to do anything else."
