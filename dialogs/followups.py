"""Follow-ups: when a case's wait is over, diagnose again and tell everyone the case was posted to.

The scheduler (bot/scheduler.py) claims due cases from the store — exactly one instance gets each —
and calls `FollowUps.run`. It re-runs the diagnosis from the case's request, stores it, updates
every posted card in place and sends a short message in each conversation
("72 hours have passed since the first complete sync: inbound calls to Nestor Wilke now work.").
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ConversationReference

from bot.case_service import CaseRecord, request_from_json
from bot.cases.fixes import after_fix_period
from bot.cases.followup import describe_followup
from bot.cases.model import Case
from cards.conversation import notice_card
from cards.diagnosis import self_report_card
from dialogs.services import send_card, update_card

if TYPE_CHECKING:
    from dialogs.presenter import Presenter

log = logging.getLogger("voice_doctor.followups")


class FollowUps:
    def __init__(self, presenter: Presenter, adapter: BotAdapter, app_id: str):
        self.presenter = presenter
        self.services = presenter.services
        self.adapter = adapter
        self.app_id = app_id or None

    async def run(self, case: Case) -> None:
        """Raise on failure: the scheduler then retries this case later with backoff."""
        request = request_from_json(case.request)
        request.since = after_fix_period(case, self.services.clock()) or request.since  # a fix: calls since
        diagnosis = await self.services.engine.diagnose(request)
        outcome = describe_followup(case, diagnosis)
        record = await self.services.cases.record_check(CaseRecord.of(case), diagnosis)
        log.info("follow-up", extra={"case": case.id, "outcome": outcome.kind, "cause": diagnosis.cause})
        for posted in case.references:
            await self._tell(record, posted, outcome.text)

    async def _tell(self, record: CaseRecord, posted: dict, text: str) -> None:
        reference = posted.get("reference")
        if not isinstance(reference, dict) or not reference.get("conversation"):
            return

        async def in_conversation(context: TurnContext) -> None:
            if posted.get("activityId"):  # the case's own card (a watch digest's thread has none)
                card = await self._card_for(context, record, posted.get("kind"))
                try:
                    await update_card(context, posted["activityId"], card)
                except Exception as error:  # an old message may be gone; the notice still goes out
                    log.info(
                        "follow-up card update failed",
                        extra={"case": record.id, "error": type(error).__name__},
                    )
            await send_card(
                context, notice_card("Checked again", text, demo=self.services.data_source == "demo")
            )

        await self.adapter.continue_conversation(
            ConversationReference().deserialize(reference), in_conversation, self.app_id
        )

    async def _card_for(self, context: TurnContext, record: CaseRecord, kind: str | None) -> dict:
        if kind == "helpdesk":
            return self.presenter.helpdesk_card(context, record)
        if kind == "reporter":
            ctx = self.services.card_context(  # a proactive turn carries no zone: the reporter's, kept
                context,
                case_id=record.id,
                last_checked=record.diagnosis.checked_at,
                time_zone=(record.request or {}).get("timeZone"),
            )
            notified = any(r.get("kind") == "helpdesk" for r in record.references)
            return self_report_card(record.diagnosis, ctx, helpdesk_notified=notified)
        return await self.presenter.case_card(context, record)
