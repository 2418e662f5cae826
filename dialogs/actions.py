"""Card actions (Action.Execute verbs), `cases`, `set helpdesk channel`, and the message extension.

Every value arriving from a card or a compose box is client input: the case it names is loaded from
the store and the caller's right to it is checked again here, whatever the card said.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botbuilder.core import CardFactory, TurnContext
from botbuilder.schema import ConversationReference
from botbuilder.schema.teams import (
    MessagingExtensionAttachment,
    MessagingExtensionResponse,
    MessagingExtensionResult,
)

from bot.case_service import CaseRecord, request_from_json
from bot.cases.fixes import fix_of, latest_fix
from bot.diagnosis.engine import DiagnosisRequest
from bot.diagnosis.errors import InputError, SourceError
from bot.diagnosis.model import CALL_PROBLEMS, PROBLEMS
from bot.manifest import MESSAGE_EXTENSION_COMMAND_ID, MESSAGE_EXTENSION_PARAMETER
from cards.context import CaseSummary
from cards.conversation import cases_card, notice_card
from cards.diagnosis import result_card
from cards.fix import fix_card, fix_words
from cards.words import problem_label
from dialogs import fix as fix_dialog
from dialogs.intents import problem_named
from dialogs.services import (
    caller_id,
    caller_name,
    conversation_kind,
    reader_time_zone,
    send_card,
    send_typing,
    tenant_of,
)

if TYPE_CHECKING:
    from bot.teams_bot import VoiceDoctorBot

log = logging.getLogger("voice_doctor.actions")

MAX_EXTENSION_RESULTS = 10
RECENT_FIX = timedelta(days=1)  # how long a case its fix resolved stays in the `cases` list


# --- Action.Execute ------------------------------------------------------------------------------------


class _Refused(Exception):
    """The caller may not do this: show them `card`, change nothing for anyone else."""

    def __init__(self, card: dict):
        super().__init__("refused")
        self.card = card


async def execute(
    bot: VoiceDoctorBot, context: TurnContext, verb: str, data: dict[str, Any]
) -> tuple[dict, bool]:
    """Run one card action: the card that replaces the one clicked, and whether everyone in the
    conversation should see the new card (False for refusals and notices meant for the clicker)."""
    if verb in FIX_VERBS:
        return await _fix_action(bot, context, verb, data)
    handler = {"recheck": _recheck, "shareToHelpdesk": _share, "assign": _assign, "resolve": _resolve}.get(
        verb
    )
    if handler is None:
        return notice_card(
            "I don't know that button", "This card is from an older version. Type “help”."
        ), False
    case = await bot.services.cases.get(data.get("caseId") if isinstance(data.get("caseId"), str) else None)
    try:
        if case is None and verb == "recheck":
            return await _recheck_without_case(bot, context, data), True
        if case is None or (case.tenant_id and case.tenant_id != tenant_of(context.activity)):
            return _gone(), False
        card = await handler(bot, context, case)
    except _Refused as refused:
        return refused.card, False
    if data.get("view") == "cases":
        return await cases_list_card(bot, context), False  # the helpdesk's own list, refreshed
    return card, True


FIX_VERBS = frozenset({"fix", "fixConfirm", "fixCancel", "fixCheck"})


async def _fix_action(
    bot: VoiceDoctorBot, context: TurnContext, verb: str, data: dict[str, Any]
) -> tuple[dict, bool]:
    """Fix it, Confirm, Cancel (dialogs/fix.py): whoever presses is checked again; the data only
    names a case and a fix, whose plan the case keeps and the Fixer re-reads before writing."""
    case = await bot.services.cases.get(data.get("caseId") if isinstance(data.get("caseId"), str) else None)
    if case is not None and case.tenant_id and case.tenant_id != tenant_of(context.activity):
        return _gone(), False
    try:
        if verb == "fix":
            return await _fix_it(bot, context, case, data), False
        if case is None:
            return _gone(), False
        if verb == "fixConfirm":
            return await bot.fixes.confirm(context, case, data.get("fixId"))
        if verb == "fixCheck":
            return await _fix_check(bot, context, case, data.get("fixId"))
        return await bot.fixes.cancel(context, case, data.get("fixId"))
    except fix_dialog.FixRefused as refused:
        return refused.card, False


async def _fix_it(
    bot: VoiceDoctorBot, context: TurnContext, case: CaseRecord | None, data: dict[str, Any]
) -> dict:
    """The plan goes out as a new message; the clicked card stays as it was (for the presser)."""
    refused = await fix_dialog.refusal(bot.services, context)
    if refused is not None:
        return refused
    request = fix_request(case, data)
    if request is None:
        return _gone()
    request.time_zone = reader_time_zone(context.activity) or request.time_zone
    await fix_dialog.offer_fix(bot.services, context, request, case=case)
    if case is None:
        return notice_card(
            "Fix it", "The plan to confirm is in the next message.", demo=bot.services.data_source == "demo"
        )
    if any(
        r.get("kind") == "helpdesk" and r.get("activityId") == context.activity.reply_to_id
        for r in case.references
    ):
        return bot.presenter.helpdesk_card(context, case)
    return await bot.presenter.case_card(context, case)


async def _fix_check(
    bot: VoiceDoctorBot, context: TurnContext, case: CaseRecord, fix_id: Any
) -> tuple[dict, bool]:
    """Check again after a fix: the new diagnosis as a new message; the fix's card stays as it is."""
    if not await _may_see(bot, context, case):
        return await bot.presenter.refusal(context, case.diagnosis.problem), False
    fix = fix_of(case.case, fix_id)
    if fix is None:
        return _gone(), False
    await send_typing(context)
    await send_card(context, await bot.presenter.recheck(context, case))
    return fix_card(fix, bot.services.card_context(context, case_id=case.id)), False


def fix_request(case: CaseRecord | None, data: dict[str, Any]) -> DiagnosisRequest | None:
    """What to diagnose for Fix it: the case's own request, else the person a card names."""
    if case is not None:
        return request_from_json(case.request)
    user_id = data.get("userId") if isinstance(data.get("userId"), str) and data.get("userId") else None
    problem = data.get("problem") if data.get("problem") in CALL_PROBLEMS else "inbound-calls"
    return DiagnosisRequest(problem=problem, user_id=user_id) if user_id else None


def _gone() -> dict:
    return notice_card("That case is gone", "I no longer have this case. Run the check again from the chat.")


async def _may_see(bot: VoiceDoctorBot, context: TurnContext, case: CaseRecord) -> bool:
    if case.diagnosis.problem == "sync-error" or not case.subject_id:
        return await bot.services.access.is_helpdesk(caller_id(context))
    return await bot.services.access.may_diagnose(caller_id(context), case.subject_id)


async def _recheck(bot: VoiceDoctorBot, context: TurnContext, case: CaseRecord) -> dict:
    if not await _may_see(bot, context, case):
        raise _Refused(await bot.presenter.refusal(context, case.diagnosis.problem))
    return await bot.presenter.recheck(context, case)


async def _recheck_without_case(bot: VoiceDoctorBot, context: TurnContext, data: dict[str, Any]) -> dict:
    """A card whose case is unknown here (another store, an old card): diagnose again from its data."""
    problem = data.get("problem") if data.get("problem") in PROBLEMS else None
    user_id = data.get("userId") if isinstance(data.get("userId"), str) else None
    if problem is None or (problem in CALL_PROBLEMS and not user_id):
        return _gone()
    allowed = (
        await bot.services.access.is_helpdesk(caller_id(context))
        if problem == "sync-error"
        else await bot.services.access.may_diagnose(caller_id(context), user_id)
    )
    if not allowed:
        raise _Refused(await bot.presenter.refusal(context, problem))
    request = DiagnosisRequest(
        problem=problem,
        user_id=user_id if problem in CALL_PROBLEMS else None,
        time_zone=reader_time_zone(context.activity),
    )
    return await bot.presenter.case_card(context, await _diagnose_as_case(bot, context, request))


async def _diagnose_as_case(
    bot: VoiceDoctorBot, context: TurnContext, request: DiagnosisRequest
) -> CaseRecord:
    """Diagnose without a conversation around it (a card button, the message extension): a new case."""
    diagnosis = await bot.services.engine.diagnose(request)
    return await bot.services.cases.open(
        diagnosis,
        request,
        tenant_id=tenant_of(context.activity),
        reporter_id=caller_id(context),
        reporter_name=caller_name(context),
    )


async def _share(bot: VoiceDoctorBot, context: TurnContext, case: CaseRecord) -> dict:
    if not await bot.services.access.is_helpdesk(caller_id(context)):
        raise _Refused(await bot.presenter.refusal(context, case.diagnosis.problem))
    posted = await bot.presenter.post_to_helpdesk(context, case)
    await send_card(
        context,
        notice_card(
            "Shared with the helpdesk", "I posted this diagnosis in the helpdesk channel as a new thread."
        )
        if posted
        else notice_card(
            "No helpdesk channel yet",
            "Type “set helpdesk channel” in the helpdesk's channel first.",
            style="warning",
        ),
    )
    return await bot.presenter.case_card(context, case)


async def _assign(bot: VoiceDoctorBot, context: TurnContext, case: CaseRecord) -> dict:
    if not await bot.services.access.is_helpdesk(caller_id(context)):
        raise _Refused(await bot.presenter.refusal(context, case.diagnosis.problem))
    name = caller_name(context)
    await bot.services.cases.assign(case, name)
    await _notify_reporter(bot, context, case, f"{name} from the helpdesk is looking into your calls.")
    return bot.presenter.helpdesk_card(context, case)


async def _resolve(bot: VoiceDoctorBot, context: TurnContext, case: CaseRecord) -> dict:
    if not await bot.services.access.is_helpdesk(caller_id(context)):
        raise _Refused(await bot.presenter.refusal(context, case.diagnosis.problem))
    await bot.services.cases.resolve(case, caller_name(context))
    still = "calls out still fail" if case.diagnosis.problem == "outbound-calls" else "calls still don't ring"
    await _notify_reporter(
        bot,
        context,
        case,
        f"{caller_name(context)} marked your calling problem as resolved. If {still}, tell me again.",
    )
    if any(r.get("kind") == "helpdesk" for r in case.references) and case.self_report:
        return bot.presenter.helpdesk_card(context, case)
    return await bot.presenter.case_card(context, case)


async def _notify_reporter(bot: VoiceDoctorBot, context: TurnContext, case: CaseRecord, text: str) -> None:
    """A one-to-one message to the person who reported (proactive, through their chat's reference)."""
    reference = next((r.get("reference") for r in case.references if r.get("kind") == "reporter"), None)
    if not reference:
        return

    async def tell(turn_context: TurnContext) -> None:
        await send_card(turn_context, notice_card("About your calls", text))

    try:
        await context.adapter.continue_conversation(
            ConversationReference().deserialize(reference), tell, bot.settings.app_id or None
        )
    except Exception as error:
        log.warning("could not notify the reporter", extra={"case": case.id, "error": type(error).__name__})


# --- commands --------------------------------------------------------------------------------------------


async def show_cases(bot: VoiceDoctorBot, context: TurnContext) -> None:
    if not await bot.services.access.is_helpdesk(caller_id(context)):
        await send_card(
            context,
            notice_card("Cases are for the helpdesk", "Type “my calls don't ring” to check your own calls."),
        )
        return
    await send_card(context, await cases_list_card(bot, context))


async def cases_list_card(bot: VoiceDoctorBot, context: TurnContext) -> dict:
    cases = await bot.services.cases.list(tenant_id=tenant_of(context.activity))
    cases += await _recently_fixed(bot, tenant_of(context.activity))
    rows = [
        CaseSummary(
            id=c.id,
            user_display_name=c.subject_name,
            problem=c.diagnosis.problem,
            cause=c.diagnosis.cause,
            title=c.diagnosis.title,
            status=c.status,
            recheck_at=c.recheck_at,
            updated_at=c.updated_at or bot.services.clock(),
            last_fix=fix_words(latest_fix(c.case)),
        )
        for c in cases
    ]
    return cases_card(rows, bot.services.card_context(context))


async def _recently_fixed(bot: VoiceDoctorBot, tenant: str | None) -> list[CaseRecord]:
    """Resolved cases whose fix finished within a day: a fix shows in `cases` after it resolved its case."""
    since = bot.services.clock() - RECENT_FIX
    return [
        c
        for c in await bot.services.cases.list(("resolved",), tenant_id=tenant)
        if (fix := latest_fix(c.case)) is not None
        and fix.finished_at is not None
        and fix.finished_at >= since
    ]


async def set_helpdesk_channel(bot: VoiceDoctorBot, context: TurnContext) -> None:
    if conversation_kind(context.activity) != "channel":
        await send_card(
            context,
            notice_card(
                "Use this in a channel",
                "Type “set helpdesk channel” in the Teams channel where self-reports should go.",
            ),
        )
        return
    if not await bot.services.access.is_helpdesk(caller_id(context)):
        await send_card(
            context,
            notice_card(
                "Only the helpdesk can do that",
                "Ask a Teams admin or helpdesk member to set the helpdesk channel.",
            ),
        )
        return
    data = context.activity.channel_data if isinstance(context.activity.channel_data, dict) else {}
    channel = (data.get("channel") or {}).get("id") if isinstance(data.get("channel"), dict) else None
    channel = channel or context.activity.conversation.id.split(";")[0]
    await bot.presenter.set_helpdesk_channel(context, channel)
    await send_card(
        context,
        notice_card("Helpdesk channel set", "Self-reports from users will be posted here as new threads."),
    )


# --- message extension -----------------------------------------------------------------------------


async def extension_query(bot: VoiceDoctorBot, context: TurnContext, query) -> MessagingExtensionResponse:
    """ "Diagnose a user": list matching people; picking one inserts the result card (select item)."""
    if getattr(query, "command_id", None) not in (None, MESSAGE_EXTENSION_COMMAND_ID):
        return _extension_message("Unknown command.")
    if not await bot.services.access.is_helpdesk(caller_id(context)):
        return _extension_message(
            "Diagnosing others is for the helpdesk and Teams admins. Chat with Voice Doctor to check your own calls."
        )
    text = ""
    for parameter in getattr(query, "parameters", None) or []:
        if getattr(parameter, "name", None) == MESSAGE_EXTENSION_PARAMETER and isinstance(
            parameter.value, str
        ):
            text = parameter.value.strip()
    problem, text = problem_named(text)  # "alex outbound": Alex's outbound calls
    problem = problem or "inbound-calls"
    if not text:
        return _extension_message("Type a name, e-mail or phone number (add “outbound” for calls out).")
    try:
        users = await bot.services.engine.find_users(text[:200])
    except (InputError, SourceError) as error:
        return _extension_message(str(error))
    if not users:
        return _extension_message(f"No one matches “{text[:60]}”.")
    attachments = []
    for user in users[:MAX_EXTENSION_RESULTS]:
        subtitle = f"{user.user_principal_name} · {problem_label(problem).lower()}"
        preview = CardFactory.thumbnail_card(_thumbnail(user.display_name, subtitle))
        attachment = MessagingExtensionAttachment(
            content_type=preview.content_type, content=preview.content, preview=preview
        )
        preview.content.tap = _tap({"userId": user.id, "problem": problem})
        attachments.append(attachment)
    return MessagingExtensionResponse(
        compose_extension=MessagingExtensionResult(
            type="result", attachment_layout="list", attachments=attachments
        )
    )


async def extension_select(
    bot: VoiceDoctorBot, context: TurnContext, value: Any
) -> MessagingExtensionResponse:
    user_id = value.get("userId") if isinstance(value, dict) else None
    if not isinstance(user_id, str) or not user_id:
        return _extension_message("Pick a person from the list.")
    if not await bot.services.access.may_diagnose(caller_id(context), user_id):
        return _extension_message("Diagnosing others is for the helpdesk and Teams admins.")
    problem = value.get("problem") if value.get("problem") in CALL_PROBLEMS else "inbound-calls"
    request = DiagnosisRequest(problem=problem, user_id=user_id, time_zone=reader_time_zone(context.activity))
    case = await _diagnose_as_case(bot, context, request)
    ctx = bot.services.card_context(context, case_id=case.id, last_checked=case.diagnosis.checked_at)
    card = CardFactory.adaptive_card(result_card(case.diagnosis, ctx))
    attachment = MessagingExtensionAttachment(content_type=card.content_type, content=card.content)
    return MessagingExtensionResponse(
        compose_extension=MessagingExtensionResult(
            type="result", attachment_layout="list", attachments=[attachment]
        )
    )


def _extension_message(text: str) -> MessagingExtensionResponse:
    return MessagingExtensionResponse(compose_extension=MessagingExtensionResult(type="message", text=text))


def _thumbnail(title: str, subtitle: str):
    from botbuilder.schema import ThumbnailCard

    return ThumbnailCard(title=title, subtitle=subtitle)


def _tap(value: dict[str, Any]):
    from botbuilder.schema import CardAction

    return CardAction(type="invoke", value=value)
