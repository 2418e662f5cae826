"""Several people in one card: "Adele and Alex can't get calls" answered with a row each.

Each row says who, the cause in the diagnosis's own title, and offers Diagnose (the full card) and
Fix it (the repair flow) — or, for a name that matched several people or nobody, says so with the
people to pick from. Pure: the diagnoses come in, a dict goes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from microsoft_teams.cards.core import ActionSet, CardElement, Column, ColumnSet, SubmitAction

from bot.diagnosis.evidence import DirectoryUser
from bot.diagnosis.model import Diagnosis
from bot.diagnosis.repair import REPAIRABLE_CAUSES
from cards.context import CardContext
from cards.elements import banner, card, fitted, text, without_none
from cards.time import absolute
from cards.words import GOOD_CAUSES, WAIT_CAUSES, problem_label

__all__ = ["PersonRow", "people_card"]

MAX_CANDIDATES = 4


@dataclass(frozen=True)
class PersonRow:
    """One name as typed and what became of it: a diagnosis, candidates to pick from, or why not."""

    typed: str
    diagnosis: Diagnosis | None = None
    candidates: Sequence[DirectoryUser] = field(default_factory=tuple)
    problem_note: str | None = None  # nobody found / could not be checked: one sentence
    user_id: str | None = None
    user: str | None = None  # what to diagnose by when there is no id (an 8x8-only holder)


def people_card(
    problem: str, rows: Sequence[PersonRow], ctx: CardContext, *, since=None, can_fix: bool = True
) -> dict[str, Any]:
    """One card for several people: a header with how many need action, then a row each."""
    faults = sum(1 for r in rows if r.diagnosis and r.diagnosis.cause not in GOOD_CAUSES | WAIT_CAUSES)
    title = f"{problem_label(problem)}: {len(rows)} people checked"
    summary = (
        f"{faults} of them {'needs' if faults == 1 else 'need'} action."
        if faults
        else "None of them needs a fix right now."
    )
    period = f"Calls since {absolute(since, ctx.now, ctx.time_zone)}." if since is not None else None

    def build(limit: int):
        body: list[CardElement | None] = [
            banner(
                [text(title, size="Medium", weight="Bolder"), text(summary, spacing="Small")],
                style="attention" if faults else "emphasis",
                demo=ctx.data_source == "demo",
            ),
            text(period, subtle=True, spacing="Small") if period else None,
            *(_row(problem, r, can_fix) for r in rows[:limit]),
        ]
        if len(rows) > limit:
            body.append(text(f"and {len(rows) - limit} more: ask about them one by one.", spacing="Medium"))
        return card(body, fallback_text=f"{title}. {summary}")

    return fitted(build, (len(rows), 10, 5))


def _row(problem: str, r: PersonRow, can_fix: bool) -> ColumnSet:
    if r.diagnosis is not None:
        subject = r.diagnosis.subject
        name = (subject.display_name if subject else None) or r.typed
        address = subject.user_principal_name if subject else None
        lines = [text(name, weight="Bolder")]
        if address and address != name:
            lines.append(text(address, subtle=True, spacing="None"))
        lines.append(text(r.diagnosis.title, spacing="None"))
        data = without_none({"problem": r.diagnosis.problem, "userId": r.user_id, "user": r.user})
        actions = [SubmitAction(title="Diagnose", data={"vd": "start", **data}, associated_inputs="none")]
        if can_fix and r.diagnosis.cause in REPAIRABLE_CAUSES:
            actions.append(SubmitAction(title="Fix it", data={"vd": "fix", **data}, associated_inputs="none"))
        return _columns(lines, actions)
    if r.candidates:
        shown = list(r.candidates)[:MAX_CANDIDATES]
        names = " or ".join(u.display_name for u in shown)
        lines = [text(f"“{r.typed}”", weight="Bolder"), text(f"{names}?", spacing="None")]
        actions = [
            SubmitAction(
                title=u.display_name,
                data={"vd": "start", "problem": problem, "userId": u.id},
                associated_inputs="none",
            )
            for u in shown
        ]
        return _columns(lines, actions)
    lines = [text(f"“{r.typed}”", weight="Bolder"), text(r.problem_note or "Not checked.", spacing="None")]
    return _columns(lines, [])


def _columns(lines: list[CardElement], actions: list[Any]) -> ColumnSet:
    columns = [Column(width="stretch", items=lines)]
    if actions:
        columns.append(
            Column(width="auto", vertical_content_alignment="Center", items=[ActionSet(actions=actions)])
        )
    return ColumnSet(separator=True, spacing="Small", columns=columns)
