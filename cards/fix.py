"""Cards of a fix: the plan to confirm, the run as it goes, and how it ended.

One card, edited in place, from Fix it to the proof: the plan in plain words (who loses which
number, who gets which, what fails meanwhile, who is left without one) with Confirm and Cancel;
then each step ticked off as its Graph operation ends; then the outcome on top — "Fixed and
verified", "Accepted, activating", which step failed with Microsoft's reason, or what is still
wrong — with who asked, who confirmed and when at the bottom. Built from the fix as the case keeps
it (`bot.cases.fixes.Fix`), so whoever presses a button later sees the same card. Pure functions.
"""

from __future__ import annotations

from typing import Any

from microsoft_teams.cards.core import CardElement, Column, ColumnSet, Container, ExecuteAction

from bot.cases.fixes import Fix
from bot.diagnosis.evidence import NUMBER_ROLES_WORDS
from cards.context import CardContext
from cards.elements import banner, card, facts, heading, readable_number, text, to_dict, without_none
from cards.time import absolute, when
from cards.words import problem_label

__all__ = ["ROLES_SENTENCE", "fix_card", "fix_words", "step_words"]

ROLES_SENTENCE = f"Only a helpdesk member who is {NUMBER_ROLES_WORDS} can confirm."
_ICONS = {"succeeded": ("✓", "Good"), "failed": ("✗", "Attention"), "skipped": ("–", "Default")}
_WAITING = ("○", "Default")
_WORKING = ("⏳", "Default")


def step_words(step: dict[str, Any]) -> str:
    """'Take +1 425-555-0120 from Adele Vance' / 'Give Adele Vance +1 425-555-0102'."""
    number = readable_number(step.get("telephoneNumber")) or "a number"
    holder = (step.get("holder") or {}).get("displayName") or "them"
    if step.get("action") == "unassignNumber":
        return f"Take {number} from {holder}"
    return f"Give {holder} {number}"


def fix_words(fix: Fix | None) -> str | None:
    """The newest fix of a case in one line, for the `cases` list ('Fix: fixed and verified, confirmed
    by Megan Bowen'); None when there is none."""
    if fix is None:
        return None
    title, _, _ = _outcome_words(fix, CardContext(now=fix.asked_at))
    if fix.status == "cancelled":
        return f"Fix: {title.lower()[:1]}{title[1:]}, nothing changed"
    who = f", confirmed by {fix.confirmed_by}" if fix.confirmed_by else ""
    title = title.split(" — ")[0]
    return f"Fix: {title[:1].lower()}{title[1:]}{who}"


def fix_card(fix: Fix, ctx: CardContext, *, note: str | None = None) -> dict[str, Any]:
    """The card for the fix as it stands: the plan to confirm, the run, or its outcome."""
    if fix.status == "proposed":
        top = _plan_banner(fix, ctx, note)
    elif fix.status == "running":
        top = _running_banner(fix, ctx)
    else:
        top = _outcome_banner(fix, ctx)
    body: list[CardElement | None] = [top, *_steps(fix, ctx)]
    if fix.status == "proposed":
        body += _warnings(fix)
        body.append(text(ROLES_SENTENCE, size="Small", subtle=True, spacing="Medium"))
    body.append(_audit(fix, ctx))
    return to_dict(card(body, actions=_actions(fix, ctx), full_width=True, fallback_text=_fallback(fix)))


# --- the top: what this card is about, answer first -------------------------------------------------


def _kicker(fix: Fix) -> CardElement:
    return text(
        f"Fix · {problem_label(fix.problem)} · {fix.subject_name}", size="Small", weight="Bolder", subtle=True
    )


def _given(fix: Fix) -> tuple[int, str]:
    """How many numbers the plan gives, and '+1 425-555-0102 for Adele Vance; …' (what Teams then holds)."""
    gives = [s for s in fix.plan if s.get("action") == "assignNumber"]
    held = "; ".join(
        f"{readable_number(s.get('telephoneNumber'))} for {(s.get('holder') or {}).get('displayName') or 'them'}"
        for s in gives
    )
    return len(gives), held


def _result_sentence(fix: Fix) -> str:
    """What Teams holds once the plan has run: the numbers 8x8 gives, for each person given one."""
    count, held = _given(fix)
    if not count:
        return "Afterwards Teams holds the number 8x8 has for them."
    return f"Afterwards Teams holds {held}, as 8x8 does: calls to {'it' if count == 1 else 'them'} reach Teams again."


def _plan_banner(fix: Fix, ctx: CardContext, note: str | None) -> Container:
    n = len(fix.plan)
    items: list[CardElement] = [
        _kicker(fix),
        text(
            f"Confirm {n} {'change' if n == 1 else 'changes'} to Teams",
            size="Large",
            weight="Bolder",
            spacing="Small",
        ),
        text(_result_sentence(fix), spacing="Small"),
    ]
    if note:
        items.append(text(note, weight="Bolder", spacing="Small"))
    return banner(items, style="warning" if note else "emphasis", demo=ctx.data_source == "demo")


def _running_banner(fix: Fix, ctx: CardContext) -> Container:
    done = sum(1 for s in fix.steps if s.get("status") == "succeeded")
    return banner(
        [
            _kicker(fix),
            text("Fixing…", size="Large", weight="Bolder", spacing="Small"),
            text(
                f"{done} of {len(fix.plan)} steps done. Each waits for Microsoft to finish it.",
                spacing="Small",
            ),
        ],
        style="emphasis",
        demo=ctx.data_source == "demo",
    )


def _outcome_banner(fix: Fix, ctx: CardContext) -> Container:
    title, line, style = _outcome_words(fix, ctx)
    items: list[CardElement] = [_kicker(fix), text(title, size="Large", weight="Bolder", spacing="Small")]
    if line:
        items.append(text(line, spacing="Small"))
    after = (fix.after or {}).get("title")
    if after and fix.status in ("fixed", "activating", "unverified", "failed"):
        items.append(text(f"Diagnosis now: {after}", spacing="Small", subtle=True))
    return banner(items, style=style, demo=ctx.data_source == "demo")


def _outcome_words(fix: Fix, ctx: CardContext) -> tuple[str, str | None, str]:
    status = fix.status
    if status == "fixed":
        return "Fixed and verified", _proof(fix), "good"
    if status == "activating":
        at = (
            f"I'll re-check at {absolute(fix.recheck_at, ctx.now, ctx.time_zone)}"
            if fix.recheck_at
            else "I'll re-check later"
        )
        return (
            f"Accepted, activating — {at}",
            "Microsoft accepted the change and is still activating the number; calls to it may fail until then.",
            "warning",
        )
    if status == "failed":
        failed = fix.failed_step() or {}
        index = next((i for i, s in enumerate(fix.steps, 1) if s is failed or s == failed), len(fix.steps))
        reason = failed.get("statusDetail") or "Microsoft gave none."
        return (
            f"Step {index} of {len(fix.plan)} failed",
            f"Reason: {reason.rstrip('.')}. Nothing further was tried: the steps below say what is now true in Teams.",
            "attention",
        )
    if status == "unverified":
        return (
            "Done, but not fixed yet",
            "Every step succeeded, but checking again does not show Teams holding 8x8's number yet. "
            "Press Check again in a few minutes.",
            "attention",
        )
    if status == "cancelled":
        by = f" by {fix.cancelled_by}" if fix.cancelled_by else ""
        return f"Cancelled{by}", "Nothing was changed.", "default"
    if status == "changed":
        return (
            "Teams or 8x8 changed since this plan",
            "Nothing was changed: confirm the new plan instead.",
            "warning",
        )
    if status == "refused":
        why = (fix.refused or "there was nothing I may change").rstrip(".")
        return (
            "Nothing to fix now",
            f"Checked again just before running: {why}. Nothing was changed.",
            "default",
        )
    return "Fixing…", None, "emphasis"


def _proof(fix: Fix) -> str:
    _, held = _given(fix)
    return (
        f"Checked again just after: Teams holds {held}, as 8x8 does." if held else "Checked again just after."
    )


# --- the steps ------------------------------------------------------------------------------------------


def _steps(fix: Fix, ctx: CardContext) -> list[CardElement]:
    title = "What I will do" if fix.status == "proposed" else "The steps"
    rows: list[CardElement] = [heading(title)]
    for i, step in enumerate(fix.plan):
        result = fix.steps[i] if i < len(fix.steps) else None
        rows.append(_step_row(i + 1, step, result, fix))
    return rows


def _step_row(n: int, step: dict[str, Any], result: dict[str, Any] | None, fix: Fix) -> ColumnSet:
    if fix.status == "proposed":
        icon, color = str(n), "Default"
    elif result is not None:
        icon, color = _ICONS.get(result.get("status"), _WORKING)
    elif fix.status == "running" and n == len(fix.steps) + 1:
        icon, color = _WORKING
    else:
        icon, color = _WAITING
    detail = [step.get("why")]
    if result is not None:
        detail.append(_operation_words(result))
    elif fix.status not in ("proposed", "running"):
        detail.append("Not done.")
    return ColumnSet(
        spacing="Small",
        columns=[
            Column(width="24px", items=[text(icon, weight="Bolder", color=color)]),  # type: ignore[arg-type]
            Column(
                width="stretch",
                items=[
                    text(step_words(step), weight="Bolder"),
                    *[text(d, subtle=True, spacing="None") for d in detail if d],
                ],
            ),
        ],
    )


def _operation_words(result: dict[str, Any]) -> str:
    status = result.get("status")
    if status == "failed":  # its reason is on top of the card
        return " · ".join(
            x for x in ("Failed", result.get("operationId") and f"operation {result['operationId']}") if x
        )
    words = {
        "succeeded": "Done",
        "failed": "Failed",
        "running": "Still running at Microsoft: the follow-up checks it",
        "notStarted": "Not started yet at Microsoft: the follow-up checks it",
        "skipped": "Skipped by Microsoft",
    }.get(status, str(status))
    if result.get("statusDetail"):
        words += f": {result['statusDetail']}"
    if result.get("operationId"):
        words += f" · operation {result['operationId']}"
    return words


def _warnings(fix: Fix) -> list[CardElement]:
    parts: list[CardElement] = []
    if fix.meanwhile:
        parts.append(
            Container(
                style="warning",
                spacing="Medium",
                items=[
                    text("Meanwhile", weight="Bolder"),
                    *[text(f"⚠ {m}", spacing="Small") for m in fix.meanwhile],
                ],
            )
        )
    if fix.left_without:
        parts.append(
            Container(
                style="attention",
                spacing="Medium",
                items=[
                    text("Left without a number", weight="Bolder"),
                    *[text(f"• {who}", spacing="Small") for who in fix.left_without],
                ],
            )
        )
    return parts


# --- who, when, and the buttons -------------------------------------------------------------------------


def _audit(fix: Fix, ctx: CardContext) -> Container:
    now, zone = ctx.now, ctx.time_zone
    rows = facts(
        [
            ("Asked by", _who_when(fix.asked_by, fix.asked_at, ctx)),
            (
                "Confirmed by",
                _who_when(fix.confirmed_by, fix.confirmed_at, ctx) if fix.confirmed_at else None,
            ),
            (
                "Finished",
                when(fix.finished_at, now, zone) if fix.finished_at and fix.status != "cancelled" else None,
            ),
        ]
    )
    source = "Demo data" if ctx.data_source == "demo" else "Live data"
    line = " · ".join(x for x in (source, f"Case {ctx.case_id}" if ctx.case_id else None) if x)
    return Container(
        separator=True,
        spacing="Medium",
        items=[x for x in (rows, text(line, size="Small", subtle=True, spacing="Small")) if x is not None],
    )


def _who_when(who: str | None, at, ctx: CardContext) -> str | None:
    if not who and at is None:
        return None
    moment = when(at, ctx.now, ctx.time_zone) if at else None
    return " · ".join(x for x in (who or "someone", moment) if x)


def _actions(fix: Fix, ctx: CardContext) -> list[Any]:
    data = without_none({"caseId": ctx.case_id, "fixId": fix.id})
    if fix.status == "proposed":
        return [
            ExecuteAction(
                title="Confirm", verb="fixConfirm", data=data, associated_inputs="none", style="positive"
            ),
            ExecuteAction(title="Cancel", verb="fixCancel", data=data, associated_inputs="none"),
        ]
    if fix.status == "running":
        return []
    # a new diagnosis as a new message: this card stays, as the record of the fix
    return [ExecuteAction(title="Check again", verb="fixCheck", data=data, associated_inputs="none")]


def _fallback(fix: Fix) -> str:
    if fix.status == "proposed":
        changes = "1 change" if len(fix.plan) == 1 else f"{len(fix.plan)} changes"
        return f"Fix for {fix.subject_name}: confirm {changes} to Teams"
    title, _, _ = _outcome_words(fix, CardContext(now=fix.asked_at))
    return f"Fix for {fix.subject_name}: {title}"
