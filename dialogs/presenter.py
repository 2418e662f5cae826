"""Showing diagnoses: progress, result, self-reports to the helpdesk channel, re-checks, sharing.

Everything here is orchestration — the diagnosis comes from the engine, the JSON from `cards/`,
the right to see it from `bot.access` — so dialogs, card actions, the message extension and
follow-ups present a diagnosis the same way.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationParameters, ConversationReference
from botbuilder.schema.teams import ChannelInfo, TeamsChannelData

from bot.case_service import CaseRecord, request_from_json
from bot.cases.fixes import after_fix_period
from bot.diagnosis.engine import DiagnosisRequest
from bot.diagnosis.evidence import NUMBER_ROLES_WORDS
from bot.diagnosis.model import Diagnosis
from cards.conversation import notice_card
from cards.diagnosis import diagnosis_card, helpdesk_report_card, self_report_card
from dialogs.services import (
    ConversationServices,
    caller_id,
    card_message,
    fixes_unavailable,
    reader_time_zone,
    run_with_progress,
    send_card,
    tenant_of,
    update_card,
)

log = logging.getLogger("voice_doctor.presenter")

HELPDESK_CHANNEL_KEY = "voice-doctor/helpdesk-channel"


class Presenter:
    def __init__(self, services: ConversationServices, storage):
        self.services = services
        self.storage = storage

    # --- running ----------------------------------------------------------------------------------

    async def diagnose(self, context: TurnContext, request: DiagnosisRequest) -> tuple[Diagnosis, str | None]:
        return await run_with_progress(self.services, context, request, subject_name=None)

    async def show_interim(self, context: TurnContext, diagnosis: Diagnosis, progress_id: str | None) -> None:
        """Before a question: the best answer so far replaces the progress card."""
        card = diagnosis_card(
            diagnosis, self.services.card_context(context, last_checked=diagnosis.checked_at)
        )
        await self._replace_or_send(context, progress_id, card)

    async def present(
        self,
        context: TurnContext,
        diagnosis: Diagnosis,
        request: DiagnosisRequest,
        *,
        progress_id: str | None,
        self_report: bool = False,
    ) -> CaseRecord:
        """Open a case and show it: the result replaces the progress card (or follows it).

        Someone who is not helpdesk can only have diagnosed themselves: that is always a self-report
        (plain words for them, the full diagnosis to the helpdesk channel)."""
        sender = context.activity.from_property
        helpdesk = await self.services.access.is_helpdesk(caller_id(context))
        self_report = self_report or not helpdesk
        case = await self.services.cases.open(
            diagnosis,
            request,
            tenant_id=tenant_of(context.activity),
            reporter_id=caller_id(context),
            reporter_name=getattr(sender, "name", None),
            reporter_teams_id=getattr(sender, "id", None),
            self_report=self_report,
        )
        if self_report and not helpdesk:
            await self._self_report(context, case, progress_id)
            return case
        card = await self.case_card(context, case)
        activity_id = await self._replace_or_send(context, progress_id, card)
        await self.services.cases.add_reference(case, reference_of(context), activity_id, "chat")
        return case

    async def case_card(self, context: TurnContext, case: CaseRecord) -> dict:
        kind = self.services.card_context(context).conversation
        can_share = (
            kind == "personal"
            and bool(await self.helpdesk_channel(context))
            and await self.services.access.is_helpdesk(caller_id(context))
        )
        ctx = self.services.card_context(
            context,
            case_id=case.id,
            can_share_to_helpdesk=can_share,
            last_checked=case.diagnosis.checked_at,
            **await self.fix_offer(context, kind),
        )
        return diagnosis_card(case.diagnosis, ctx)

    async def fix_offer(self, context: TurnContext, kind: str) -> dict[str, Any]:
        """Fix it for the helpdesk when fixes are usable (in a personal chat only for someone who may
        confirm one); else, for the helpdesk, the one line saying why not."""
        status = await self.services.access.helpdesk_status(caller_id(context))
        if not status.is_helpdesk:
            return {}
        off = fixes_unavailable(self.services)
        if off:
            return {"fix_note": off}  # "Fixes are off: set FIXES=on …", "… national cloud …"
        if kind == "personal" and not status.may_manage_numbers:
            return {"fix_note": f"Fix it needs {NUMBER_ROLES_WORDS}."}
        return {"can_fix": True}

    # --- self-reports ------------------------------------------------------------------------------

    async def _self_report(self, context: TurnContext, case: CaseRecord, progress_id: str | None) -> None:
        posted = await self.post_to_helpdesk(context, case)
        ctx = self.services.card_context(context, case_id=case.id, last_checked=case.diagnosis.checked_at)
        card = self_report_card(case.diagnosis, ctx, helpdesk_notified=posted)
        activity_id = await self._replace_or_send(context, progress_id, card)
        await self.services.cases.add_reference(case, reference_of(context), activity_id, "reporter")

    def helpdesk_card(self, context: TurnContext, case: CaseRecord) -> dict:
        ctx = self.services.card_context(
            context,
            case_id=case.id,
            last_checked=case.diagnosis.checked_at,
            conversation="channel",  # it is the helpdesk channel's card, wherever it is rebuilt
            time_zone=None,  # read by many, rebuilt by whoever clicks: UTC, said as such
            can_fix=fixes_unavailable(self.services) is None,  # who presses it is checked then
        )
        return helpdesk_report_card(
            case.diagnosis,
            ctx,
            reporter_name=case.reporter_name or "Someone",
            reporter_id=case.reporter_teams_id or case.reporter_id or "unknown",
            assigned_to=case.assigned_to,
            status=case.status,
        )

    async def post_to_helpdesk(self, context: TurnContext, case: CaseRecord) -> bool:
        """Post the full diagnosis to the helpdesk channel as a new thread. False when none is set."""
        channel_id = await self.helpdesk_channel(context)
        if not channel_id:
            log.warning("no helpdesk channel: self-report not posted", extra={"case": case.id})
            return False
        card = self.helpdesk_card(context, case)
        try:
            reference, activity_id = await post_to_channel(
                context, channel_id, card_message(card), self.services.settings.app_id
            )
        except Exception as error:
            log.warning(
                "posting to the helpdesk channel failed",
                extra={"case": case.id, "error": type(error).__name__},
            )
            return False
        await self.services.cases.add_reference(
            case, reference.serialize() if reference else {}, activity_id, "helpdesk"
        )
        return True

    async def helpdesk_channel(self, context: TurnContext) -> str | None:
        return await self.tenant_helpdesk_channel(tenant_of(context.activity))

    async def tenant_helpdesk_channel(self, tenant: str | None) -> str | None:
        """The channel set in chat for this tenant ("set helpdesk channel"), else HELPDESK_CHANNEL_ID."""
        key = f"{HELPDESK_CHANNEL_KEY}/{tenant or 'default'}"
        item = (await self.storage.read([key])).get(key)
        if isinstance(item, dict) and item.get("channelId"):
            return item["channelId"]
        return self.services.settings.helpdesk_channel_id or None

    async def set_helpdesk_channel(self, context: TurnContext, channel_id: str) -> None:
        tenant = tenant_of(context.activity) or "default"
        await self.storage.write(
            {f"{HELPDESK_CHANNEL_KEY}/{tenant}": {"channelId": channel_id, "e_tag": "*"}}
        )

    # --- card actions -------------------------------------------------------------------------------

    async def recheck(self, context: TurnContext, case: CaseRecord) -> dict:
        request = request_from_json(case.request)
        request.time_zone = (
            reader_time_zone(context.activity) or request.time_zone
        )  # "today" is the clicker's
        request.since = (
            after_fix_period(case.case, self.services.clock()) or request.since
        )  # a fix: calls since
        diagnosis = await self.services.engine.diagnose(request)
        await self.services.cases.record_check(case, diagnosis)
        if context.activity.conversation and any(
            r.get("kind") == "helpdesk" and r.get("activityId") == context.activity.reply_to_id
            for r in case.references
        ):
            return self.helpdesk_card(context, case)
        if case.self_report and not await self.services.access.is_helpdesk(caller_id(context)):
            ctx = self.services.card_context(context, case_id=case.id, last_checked=diagnosis.checked_at)
            return self_report_card(
                diagnosis, ctx, helpdesk_notified=any(r.get("kind") == "helpdesk" for r in case.references)
            )
        return await self.case_card(context, case)

    async def refusal(self, context: TurnContext, problem: str | None) -> dict:
        """The refusal for this caller: 'not allowed', or 'could not check' when Microsoft 365 is down."""
        unchecked = await self.services.access.unchecked_reason(caller_id(context))
        if unchecked:
            return notice_card(
                "I couldn't check who you are",
                f"Checking other people's calls is for the helpdesk, and {unchecked.rstrip('.')}. "
                "Try again in a few minutes; you can still check your own calls (type “me”).",
                style="warning",
            )
        return self.refusal_card(problem)

    def refusal_card(self, problem: str | None) -> dict:
        own = "“I can't call out”" if problem == "outbound-calls" else "“my calls don't ring”"
        if problem == "sync-error":
            return notice_card(
                "Only the helpdesk can check the sync",
                "The Teams sync is set up for the whole company, so your helpdesk checks it. "
                "I can check your own calls: type “my calls don't ring”.",
                style="warning",
            )
        return notice_card(
            "I can only check your own calls",
            "Checking someone else's calls is for the helpdesk and Teams admins. "
            f"Type {own} to check yours, or ask your helpdesk.",
            style="warning",
        )

    async def _replace_or_send(self, context: TurnContext, activity_id: str | None, card: dict) -> str | None:
        if activity_id:
            try:
                await update_card(context, activity_id, card)
                return activity_id
            except Exception as error:
                log.info("card update failed; sending a new message", extra={"error": type(error).__name__})
        return await send_card(context, card)


def reference_of(context: TurnContext) -> dict[str, Any]:
    return TurnContext.get_conversation_reference(context.activity).serialize()


async def post_to_channel(
    context: TurnContext, channel_id: str, activity: Activity, bot_app_id: str
) -> tuple[ConversationReference | None, str | None]:
    """Start a new thread in a Teams channel (what TeamsInfo.send_message_to_teams_channel does,
    also when the bot has no app id, as with the local Playground)."""
    recipient = context.activity.recipient
    return await start_channel_thread(
        context.adapter,
        ChannelAccount(id=recipient.id, name=recipient.name),
        context.activity.service_url,
        tenant_of(context.activity),
        channel_id,
        activity,
        bot_app_id,
    )


async def start_channel_thread(
    adapter: BotAdapter,
    bot: ChannelAccount,
    service_url: str,
    tenant_id: str | None,
    channel_id: str,
    activity: Activity,
    bot_app_id: str,
) -> tuple[ConversationReference | None, str | None]:
    """A new thread in a Teams channel with `activity` as its first message, outside any turn (the
    watch): the bot's account, the service URL and the tenant as a turn from the tenant gave them."""
    result: dict[str, Any] = {}

    async def created(new_context: TurnContext) -> None:
        result["id"] = new_context.activity.id
        result["reference"] = TurnContext.get_conversation_reference(new_context.activity)

    parameters = ConversationParameters(
        is_group=True,
        bot=bot,
        channel_data=TeamsChannelData(channel=ChannelInfo(id=channel_id), tenant=None),
        activity=activity,
        tenant_id=tenant_id,
    )
    await adapter.create_conversation(bot_app_id, created, parameters, "msteams", service_url, None)
    return result.get("reference"), result.get("id")
