"""Fix it in chat: the plan in words, Confirm or Cancel, the card edited as each step ends, the proof.

Safe by construction, whatever a card says:

- Who: every press (Fix it, Confirm, Cancel) asks `Access.fix_refusal` again — helpdesk AND one
  of Microsoft's number-managing roles. Anyone else gets one sentence, only they see it, nothing
  changes.
- What: card data only names a case and a fix. The plan that runs is the one the case keeps,
  re-read by `Fixer.run` from Teams and 8x8 just before it writes: a different plan runs nothing
  and is shown to confirm instead.
- Once: Confirm claims the fix in the case store (`CaseService.claim_fix`, a compare-and-set in one
  row-locked transaction): of two Confirms — one person twice, two people, two instances on one
  database — one runs it; the others see its progress or its outcome.
- Kept: who asked, who confirmed, when, the plan, each operation and its result, and the
  verification are written to the case as they happen (`bot.cases.fixes`).

A run waits for Microsoft's operations (seconds to minutes), longer than Teams waits for a button's
answer, so Confirm answers with the "Fixing…" card at once and the run goes on as a task of its own
that edits that card through the conversation's reference, as the sweep does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ConversationReference

from bot.case_service import CaseRecord, request_from_json
from bot.cases.fixes import Fix, after_fix_period, fix_of
from bot.diagnosis.engine import DiagnosisRequest
from bot.diagnosis.errors import InputError, SourceError
from bot.diagnosis.model import Diagnosis
from bot.diagnosis.repair import FixOutcome, Holder, OperationResult, RepairPlan, RepairStep, StepResult
from bot.scheduler import default_owner
from cards.conversation import notice_card
from cards.fix import fix_card
from dialogs.services import (
    ConversationServices,
    caller_id,
    caller_name,
    fixes_unavailable,
    send_card,
    send_typing,
    tenant_of,
    update_card,
)

log = logging.getLogger("voice_doctor.fix")

ACTIVATION_RECHECK = timedelta(minutes=10)  # "accepted, activating": when the case's follow-up looks again
# turn_state key: an asyncio.Event the Teams handler sets once the clicked card shows "Fixing…" to
# everyone; the run waits for it (at most SHOWN_WAIT_S) so its own edits always come after that one.
CARD_SHOWN = "voice_doctor.fix_card_shown"
SHOWN_WAIT_S = 10.0
BUSY_NOTE = "Another fix of this case is running: wait for it to end, then press Confirm again."
CHANGED_NOTE = "Teams or 8x8 changed since the plan was drawn: this is the new plan. Nothing was changed yet."


class FixRefused(Exception):
    """The presser may not do this: `card` is for them alone; nothing changed."""

    def __init__(self, card: dict):
        super().__init__("refused")
        self.card = card


async def refusal(services: ConversationServices, context: TurnContext) -> dict | None:
    """The card refusing this presser (not allowed, or fixes off here), or None when they may fix."""
    demo = services.data_source == "demo"
    reason = await services.access.fix_refusal(caller_id(context))
    if reason:
        return notice_card("I changed nothing", reason, style="warning", demo=demo)
    off = fixes_unavailable(services)
    if off is None and services.fixer is not None:
        off = await services.fixer.availability()  # the permission, read from the app's token now
    if off:
        return notice_card("Fixes are off", off, style="warning", demo=demo)
    return None


async def offer_fix(
    services: ConversationServices,
    context: TurnContext,
    request: DiagnosisRequest,
    *,
    case: CaseRecord | None = None,
    diagnosis: Diagnosis | None = None,
) -> Fix | None:
    """Diagnose, then send the plan card with Confirm / Cancel — or say in words why not.

    Serves the Fix it buttons and typed requests ("fix it", "can you fix adele?"). The fix is kept
    with `case` (a new case when None). A `diagnosis` just made for `request` (a typed "fix it"
    after its own diagnosis) is planned without diagnosing again. Returns the fix proposed, None
    when there is nothing to confirm.
    """
    demo = services.data_source == "demo"
    refused = await refusal(services, context)
    if refused is not None:
        await send_card(context, refused)
        return None
    await send_typing(context)
    if case is not None:  # after a fix of this case, only the calls since it count
        request.since = after_fix_period(case.case, services.clock()) or request.since
    try:
        if diagnosis is None:
            diagnosis, plan = await services.fixer.propose(request)
        else:
            plan = await services.fixer.plan_for(diagnosis)
    except (InputError, SourceError) as error:
        await send_card(context, notice_card("I can't fix that", str(error), style="warning", demo=demo))
        return None
    if plan.refused or not plan.steps:
        reason = plan.refused or "Nothing needs changing in Teams."
        await send_card(context, notice_card("Nothing I may fix here", reason, demo=demo))
        return None
    if case is None or case.subject_id and diagnosis.subject and case.subject_id != diagnosis.subject.id:
        case = await services.cases.open(
            diagnosis,
            request,
            tenant_id=tenant_of(context.activity),
            reporter_id=caller_id(context),
            reporter_name=caller_name(context),
        )
    else:
        case = await services.cases.record_check(case, diagnosis)
    fix = await services.cases.propose_fix(
        case, plan, request, asked_by=caller_name(context), asked_by_id=caller_id(context)
    )
    log.info(
        "fix proposed", extra={"case": case.id, "fix": fix.id, "cause": plan.cause, "steps": len(plan.steps)}
    )
    card = fix_card(fix, services.card_context(context, case_id=case.id))
    activity_id = await send_card(context, card)
    await services.cases.place_fix(
        case, fix.id, {"reference": _reference(context), "activityId": activity_id}
    )
    return fix


class ChatFixes:
    """Confirm and Cancel, and the runs under way (`settle()` waits for them; `stop()` at shutdown)."""

    def __init__(self, services: ConversationServices, app_id: str, *, owner: str | None = None):
        self.services = services
        self.app_id = app_id or None
        self.owner = owner or default_owner()
        self._tasks: set[asyncio.Task[None]] = set()

    async def confirm(self, context: TurnContext, case: CaseRecord, fix_id: Any) -> tuple[dict, bool]:
        """The card for the clicked message, and whether everyone should see it."""
        refused = await refusal(self.services, context)
        if refused is not None:
            raise FixRefused(refused)
        fix = fix_of(case.case, fix_id)
        if fix is None:
            return _gone(self.services), False
        claim = f"{self.owner}:{uuid.uuid4().hex[:8]}"  # this press's own: a second press here must lose
        fix, won = await self.services.cases.claim_fix(
            case, fix.id, by=caller_name(context), by_id=caller_id(context), owner=claim
        )
        ctx = self.services.card_context(context, case_id=case.id)
        if not won or fix is None:  # pressed again, or someone else's Confirm came first
            log.info("fix already claimed", extra={"case": case.id, "fix": fix_id})
            if fix is None:
                return _gone(self.services), False
            busy = BUSY_NOTE if fix.status == "proposed" else None  # another fix of the case is running
            return fix_card(fix, ctx, note=busy), False
        log.info("fix confirmed", extra={"case": case.id, "fix": fix.id})
        if context.activity.reply_to_id or not fix.where:
            where = (_reference(context), context.activity.reply_to_id)
        else:  # a client that does not say which message was clicked: the plan card as posted
            where = (fix.where.get("reference") or _reference(context), fix.where.get("activityId"))
        shown = asyncio.Event()  # the turn sets it once the "Fixing…" card is shown (CARD_SHOWN)
        context.turn_state[CARD_SHOWN] = shown
        task = asyncio.create_task(
            self._run(context.adapter, where, case, fix, ctx, claim, shown), name=f"fix {fix.id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return fix_card(fix, ctx), True

    async def cancel(self, context: TurnContext, case: CaseRecord, fix_id: Any) -> tuple[dict, bool]:
        refused = await refusal(self.services, context)
        if refused is not None:
            raise FixRefused(refused)
        fix = fix_of(case.case, fix_id)
        if fix is None:
            return _gone(self.services), False
        fix = await self.services.cases.cancel_fix(case, fix.id, by=caller_name(context)) or fix
        ctx = self.services.card_context(context, case_id=case.id)
        return fix_card(fix, ctx), fix.status == "cancelled"

    async def settle(self) -> None:
        """Wait for the runs under way (tests; shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- the run, in the background --------------------------------------------------------------

    async def _run(
        self, adapter: BotAdapter, where, case: CaseRecord, fix: Fix, ctx, claim: str, shown: asyncio.Event
    ) -> None:
        services = self.services
        with contextlib.suppress(TimeoutError):  # the run's edits must come after the turn's own
            await asyncio.wait_for(shown.wait(), SHOWN_WAIT_S)
        request = request_from_json(fix.request)
        # as when it was proposed: after an earlier fix of this case, only the calls since it count
        request.since = after_fix_period(case.case, services.clock()) or request.since
        shown = fix

        async def show(current: Fix, note: str | None = None) -> None:
            now_ctx = replace(ctx, now=services.clock())
            await _edit(adapter, self.app_id, where, fix_card(current, now_ctx, note=note))

        async def on_step(result: StepResult) -> None:
            nonlocal shown
            await services.cases.fix_step(case, fix.id, result.to_json(), owner=claim)
            shown = fix_of(case.case, fix.id) or shown
            await show(shown)

        try:
            outcome = await services.fixer.run(request, fix.fingerprint, on_step)
        except Exception as error:  # the run must end in the case and on the card, whatever happened
            log.exception("fix run failed", extra={"case": case.id, "fix": fix.id})
            outcome = _broken(shown, error)
        await self._finish(case, fix, outcome, request, show, claim)

    async def _finish(
        self, case: CaseRecord, fix: Fix, outcome: FixOutcome, request, show, claim: str
    ) -> None:
        services = self.services
        if outcome.changed and outcome.plan.steps and not outcome.plan.refused:
            new = await services.cases.propose_fix(
                case, outcome.plan, request, asked_by=fix.confirmed_by, asked_by_id=fix.confirmed_by_id
            )
            await services.cases.finish_fix(case, fix.id, outcome, owner=claim, replaced_by=new.id)
            if fix.where:
                await services.cases.place_fix(case, new.id, fix.where)
            log.info("fix plan changed", extra={"case": case.id, "fix": fix.id, "new": new.id})
            await show(fix_of(case.case, new.id) or new, CHANGED_NOTE)
            return
        recheck_at = None
        if outcome.after:
            after = Diagnosis.from_json(outcome.after)
            if outcome.activating and not outcome.verified:
                recheck_at = services.clock() + ACTIVATION_RECHECK
            # activating: the case waits for its follow-up, whatever the diagnosis after says yet
            await services.cases.record_check(
                case, after, recheck_at=recheck_at, status="waiting" if recheck_at else None
            )
        done = await services.cases.finish_fix(case, fix.id, outcome, owner=claim, recheck_at=recheck_at)
        if outcome.verified and case.status != "resolved":
            await services.cases.resolve(case, f"{fix.confirmed_by or 'the helpdesk'} (fix verified)")
        log.info(
            "fix finished",
            extra={
                "case": case.id,
                "fix": fix.id,
                "status": done.status if done else None,
                "verified": outcome.verified,
            },
        )
        await show(done or fix)


def _broken(fix: Fix, error: Exception) -> FixOutcome:
    """What a run that stopped on an error of ours leaves: the steps it reported, the next one failed."""
    steps = []
    for raw in fix.plan:
        holder = raw.get("holder") or {}
        steps.append(
            RepairStep(
                raw.get("action", "assignNumber"),
                raw.get("telephoneNumber", ""),
                Holder(holder.get("id", ""), holder.get("displayName", "")),
                raw.get("why", ""),
            )
        )
    plan = RepairPlan(problem=fix.problem, cause=fix.cause, subject=None, steps=tuple(steps))
    done = [
        StepResult(
            steps[i], OperationResult(s.get("operationId"), s.get("status", "failed"), s.get("statusDetail"))
        )
        for i, s in enumerate(fix.steps)
        if i < len(steps)
    ]
    if len(done) < len(steps):
        reason = f"Voice Doctor stopped on an error of its own ({type(error).__name__}); check Teams before trying again"
        done.append(StepResult(steps[len(done)], OperationResult(None, "failed", reason)))
    return FixOutcome(plan=plan, executed=True, steps=done)


def _gone(services: ConversationServices) -> dict:
    return notice_card(
        "That fix is gone",
        "I no longer have this plan. Press Fix it on a new diagnosis.",
        demo=services.data_source == "demo",
    )


def _reference(context: TurnContext) -> dict[str, Any]:
    return TurnContext.get_conversation_reference(context.activity).serialize()


async def _edit(adapter: BotAdapter, app_id: str | None, where, card: dict) -> None:
    """Replace the fix's card where Confirm was pressed (a new message when it cannot be edited)."""
    reference, activity_id = where

    async def in_conversation(turn: TurnContext) -> None:
        if activity_id:
            try:
                await update_card(turn, activity_id, card)
                return
            except Exception as error:
                log.info("fix card update failed", extra={"error": type(error).__name__})
        await send_card(turn, card)

    try:
        await adapter.continue_conversation(
            ConversationReference().deserialize(reference), in_conversation, app_id
        )
    except Exception as error:  # the conversation may be gone; the case keeps the outcome
        log.warning("could not show the fix", extra={"error": type(error).__name__})
