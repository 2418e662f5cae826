"""When and from what the person's 8x8 number last changed: 8x8's Audit Records, in words.

Why: a `number-mismatch` is almost always a number changed in 8x8 that Teams never received. Saying
"8x8 changed it three days ago from +1 425 555 0120" tells the helpdesk what happened and that the
sync, not the person, is behind. The Audit Records are a separate 8x8 API product the key may lack:
then the change is simply unknown, said in one clause, never an error of the diagnosis.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.diagnosis.evidence import NumberChange
from bot.diagnosis.model import iso
from bot.diagnosis.rules.common import Answer, sentence
from bot.diagnosis.times import format_utc, human_age

AUDIT_DAYS = 30


def history_sentence(answer: Answer[NumberChange] | None, now: datetime) -> str:
    """One sentence for the number check, or "" when the records were not asked."""
    if answer is None:
        return ""
    if not answer.ok:
        return f"When the 8x8 number last changed is unknown. {sentence(answer.error or '')}".strip()
    change = answer.value
    if change is None:
        return f"8x8's audit records show no change of the user's number in the last {AUDIT_DAYS} days."
    when = f"{format_utc(change.at)} ({human_age(now, change.at)})"
    if change.old and change.new:
        return f"8x8's audit records: the number changed in 8x8 {when}, from {change.old} to {change.new}."
    if change.new:
        return f"8x8's audit records: {change.new} was given to the user in 8x8 {when}."
    return f"8x8's audit records: {change.old} was taken from the user in 8x8 {when}."


def history_json(answer: Answer[NumberChange] | None) -> dict[str, Any] | None:
    """`evidence.eightByEightNumberChange`: `status` changed | unchanged | unknown (null: not asked)."""
    if answer is None:
        return None
    if not answer.ok:
        return {"status": "unknown", "at": None, "from": None, "to": None, "detail": answer.error}
    change = answer.value
    if change is None:
        return {"status": "unchanged", "at": None, "from": None, "to": None, "detail": None}
    return {"status": "changed", "at": iso(change.at), "from": change.old, "to": change.new, "detail": None}
