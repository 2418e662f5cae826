"""What a follow-up says: the re-check's outcome compared with what the case was waiting for.

Pure words, no I/O: the follow-up callback (in the conversation layer) re-runs the diagnosis,
stores it with `CaseStore.record_check`, then sends `describe_followup(...).text` to the
conversations the case was posted in, next to the updated card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.cases.fixes import latest_fix
from bot.cases.model import NO_FAULT_CAUSE, Case
from bot.diagnosis.model import Diagnosis, parse_iso

OutcomeKind = Literal["fixed", "still-waiting", "still-failing"]

# What the case was waiting for, as the opening words of the follow-up.
WAITED = {
    "sync-too-recent": "72 hours have passed since the first complete sync",
    "gateway-activation-pending": "24 hours have passed since the PSTN gateway error first appeared",
}


@dataclass(frozen=True)
class FollowUpOutcome:
    kind: OutcomeKind
    text: str  # one or two sentences, Markdown-free, for a proactive message
    next_step: str | None = None  # title of the first action to take, when still failing


def describe_followup(before: Case, after: Diagnosis | dict[str, Any]) -> FollowUpOutcome:
    """Compare the case as it was with the re-check's diagnosis and say it in one message.

    "72 hours have passed since the first complete sync: inbound calls to Adele Vance now work."
    "72 hours have passed since the first complete sync: inbound calls to Adele Vance still fail.
    Next step: Solution 1: Temporarily change the user's phone number."
    """
    data = after.to_json() if isinstance(after, Diagnosis) else after
    opening = WAITED.get(before.cause, f"Case {before.id} was checked again")
    fixed = latest_fix(before)
    if fixed is not None and fixed.status == "activating":
        opening = f"Microsoft was still activating the number change Voice Doctor made ({fixed.confirmed_by or 'confirmed'})"
    cause = data.get("cause")
    what = _what(before)

    if cause == NO_FAULT_CAUSE:
        return FollowUpOutcome("fixed", f"{opening}: {what} now work.")

    recheck_at = parse_iso(data.get("recheckAt"))
    if recheck_at is not None:
        return FollowUpOutcome(
            "still-waiting",
            f"{opening}: {what} still fail, and Microsoft has not finished yet. "
            f"I will check again at {_when(recheck_at)}.",
        )

    actions = data.get("actions") or []
    next_step = next((a.get("title") for a in actions if isinstance(a, dict) and a.get("title")), None)
    title = str(data.get("title") or "").rstrip(".")
    reason = f" ({title})" if title and cause != before.cause else ""
    text = f"{opening}: {what} still fail{reason}."
    if next_step:
        text += f" Next step: {next_step}."
    return FollowUpOutcome("still-failing", text, next_step)


def _what(case: Case) -> str:
    if case.problem == "sync-error":
        return "syncs with Microsoft Teams"
    return f"inbound calls to {case.display_subject}"


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")
