"""The Teams activity handler: the edge where Bot Framework meets Voice Doctor.

It routes messages (with the `<at>` mention removed in channels and group chats), card submits,
Universal Actions (`Action.Execute` invokes), installs and message-extension queries to the
conversation layer in `dialogs/`. It holds no diagnosis logic and builds no card JSON itself.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import weakref
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from botbuilder.core import ConversationState, InvokeResponse, TurnContext, UserState
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import DialogSet, DialogTurnStatus
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
)

from bot.config import Settings
from bot.diagnosis.model import PROBLEMS
from bot.diagnosis.portal_text import parse_portal_text
from bot.invokes import (
    card_response,
    extension_text,
    invoke_error,
    invoke_reply,
    malformed_invoke,
    plain_json,
)
from bot.logs import conversation_id
from cards.context import CardContext
from cards.conversation import help_card, notice_card, welcome_card
from dialogs import actions as card_actions
from dialogs.diagnose_dialog import DIALOG_ID, INTERRUPTED, DiagnoseDialog
from dialogs.fix import CARD_SHOWN as FIX_CARD_SHOWN
from dialogs.fix import ChatFixes, offer_fix
from dialogs.intents import Intent, first_phone_number, recognise
from dialogs.presenter import Presenter
from dialogs.services import (
    ConversationServices,
    caller_id,
    conversation_kind,
    send_card,
    send_typing,
    tenant_of,
    update_card,
)
from dialogs.sweep import ChatSweeps

log = logging.getLogger("voice_doctor.bot")

ANSWER_KINDS = frozenset({"answer-user", "pick-user", "first-sync", "answer-8x8-number"})
MAX_TEXT_CHARS = 64 * 1024


def message_text(context: TurnContext) -> str:
    """The user's words without the bot's `<at>…</at>` mention, trimmed."""
    activity = context.activity
    if activity.entities and conversation_kind(activity) != "personal":
        try:
            TurnContext.remove_recipient_mention(activity)
        except Exception:  # malformed mention entities must not break the turn
            log.info("could not remove the mention")
    text = activity.text if isinstance(activity.text, str) else ""
    # Some clients leave the markup when the entity's text differs slightly (nbsp, case).
    text = re.sub(r"<at>[^<]*</at>", " ", text)
    return text.replace("\u00a0", " ").strip()


NOT_AVAILABLE = "Voice Doctor is not available for your organisation."


def _problem_of(value: dict[str, Any]) -> str:
    """The problem a card button names: one Voice Doctor knows, else inbound calls."""
    problem = value.get("problem")
    return problem if problem in PROBLEMS else "inbound-calls"


@functools.lru_cache(maxsize=8)
def _cached_help_card(conversation: str, data_source: str) -> dict:
    """The help card depends only on where it is shown and on the data source: build it once."""
    return help_card(CardContext(now=datetime.now(UTC), conversation=conversation, data_source=data_source))


class VoiceDoctorBot(TeamsActivityHandler):
    def __init__(
        self,
        *,
        settings: Settings,
        conversation_state: ConversationState,
        user_state: UserState,
        services: ConversationServices,
        storage,
    ):
        self.settings = settings
        self.conversation_state = conversation_state
        self.user_state = user_state
        self.services = services
        self.presenter = Presenter(services, storage)
        self.dialog_state = conversation_state.create_property("DialogState")
        self.dialogs = DialogSet(self.dialog_state)
        self.dialogs.add(DiagnoseDialog(services, self.presenter))
        self.sweeps = ChatSweeps(services, settings.app_id)
        self.fixes = ChatFixes(services, settings.app_id)  # Confirm / Cancel and the runs under way
        # The watch learns where to post from the activities the bot receives (app.py sets this).
        self.remember_endpoint: Callable[[Activity], Awaitable[None]] | None = None
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def on_turn(self, turn_context: TurnContext):
        conversation = turn_context.activity.conversation
        token = conversation_id.set(conversation.id if conversation else None)
        try:
            if not self._tenant_allowed(turn_context):
                await self._refuse_tenant(turn_context)
                return
            await self._remember_endpoint(turn_context)
            # One turn at a time per conversation: two quick messages or clicks must not race for
            # the same dialog state (the store would reject the second write).
            async with self._turn_lock(conversation.id if conversation else ""):
                await super().on_turn(turn_context)
                await self.conversation_state.save_changes(turn_context)
                await self.user_state.save_changes(turn_context)
        finally:
            conversation_id.reset(token)

    async def _remember_endpoint(self, context: TurnContext) -> None:
        if self.remember_endpoint is None:
            return
        try:
            await self.remember_endpoint(context.activity)
        except Exception as error:  # the watch's bookkeeping never fails a turn
            log.warning("could not keep the watch's endpoint", extra={"error": type(error).__name__})

    def _turn_lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    # --- tenants -------------------------------------------------------------------------------------

    def _tenant_allowed(self, context: TurnContext) -> bool:
        allowed = self.settings.allowed_tenant_ids
        return not allowed or tenant_of(context.activity) in allowed

    async def _refuse_tenant(self, context: TurnContext) -> None:
        """No data for other tenants: a short sentence, in the shape the client waits for."""
        log.warning("activity from a tenant that is not allowed")
        activity = context.activity
        if activity.type == ActivityTypes.message:
            await context.send_activity(NOT_AVAILABLE)
        elif activity.type == ActivityTypes.invoke:
            if activity.name == "adaptiveCard/action":
                body = card_response(notice_card("Not available", NOT_AVAILABLE))
            elif (activity.name or "").startswith("composeExtension/"):
                body = extension_text(NOT_AVAILABLE)
            else:
                body = {"error": NOT_AVAILABLE}
            await invoke_reply(context, 200, body)

    # --- invokes -------------------------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext):
        """Malformed invoke values get a 400 in the shape Teams expects, never an SDK traceback."""
        problem = malformed_invoke(turn_context.activity)
        if problem:
            log.info("malformed invoke", extra={"invoke": turn_context.activity.name, "problem": problem})
            return InvokeResponse(status=400, body=invoke_error(turn_context.activity.name, problem))
        return await super().on_invoke_activity(turn_context)

    # --- messages ------------------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext):
        value = plain_json(turn_context.activity.value)
        turn_context.activity.value = value  # what dialogs may keep in state: plain JSON only
        text = message_text(turn_context)
        log.info(
            "message",
            extra={
                "chars": len(text),
                "scope": conversation_kind(turn_context.activity),
                "card": bool(value),
            },
        )
        if len(text) > MAX_TEXT_CHARS:
            await send_card(
                turn_context,
                notice_card(
                    "That's too long for me",
                    "Paste at most 64 KB of portal text: the Call Data page, its Debug Output, or the Sync History.",
                    style="warning",
                ),
            )
            return
        intent = None if value and isinstance(value.get("vd"), str) else recognise(text)
        if intent is not None and intent.kind == "help":  # needs no conversation state at all
            await send_card(turn_context, self._help_card(turn_context))
            return
        dialog_context = await self.dialogs.create_context(turn_context)
        if intent is None:
            await self._card_submit(turn_context, dialog_context, value)
            return
        await self._route(turn_context, dialog_context, intent)

    def _help_card(self, context: TurnContext) -> dict:
        return _cached_help_card(conversation_kind(context.activity), self.services.data_source)

    async def _card_submit(self, context: TurnContext, dialog_context, value: dict[str, Any]) -> None:
        kind = value["vd"]
        if kind == "start":  # a button: a problem, maybe a person (a digest's Diagnose)
            who = {k: value[k] for k in ("userId", "user") if isinstance(value.get(k), str) and value[k]}
            await self._begin(dialog_context, {"problem": _problem_of(value), **who})
        elif kind == "fix":  # a digest's Fix it: the plan to confirm, as a new message
            case = await self.services.cases.get(value.get("caseId"))
            if case is not None and case.tenant_id and case.tenant_id != tenant_of(context.activity):
                case = None
            request = card_actions.fix_request(case, value)
            if request is None:
                await send_card(context, self._help_card(context))
            else:
                await offer_fix(self.services, context, request, case=case)
        elif kind in ANSWER_KINDS:
            if dialog_context.active_dialog is not None:
                await self._after_dialog(context, await dialog_context.continue_dialog())
            elif kind in ("answer-user", "pick-user"):  # an old question card: start from its answer
                await self._begin(
                    dialog_context, {"problem": _problem_of(value), "_answer": {"text": "", "value": value}}
                )
            else:
                await send_card(
                    context,
                    notice_card(
                        "That question has expired",
                        "Start again: type “check calls for” and the person's name, e-mail or number.",
                    ),
                )
        else:
            await send_card(context, self._help_card(context))

    async def _route(self, context: TurnContext, dialog_context, intent: Intent) -> None:
        kind = intent.kind
        if kind == "cancel":
            await dialog_context.cancel_all_dialogs()
            await send_card(
                context, notice_card("Stopped", "Tell me what's wrong when you're ready, or type “help”.")
            )
        elif kind == "help":
            await send_card(context, self._help_card(context))
        elif kind == "greeting":  # a greeting is a fresh start, even while a question waits
            await dialog_context.cancel_all_dialogs()
            await send_card(context, welcome_card(self.services.card_context(context)))
        elif kind == "cases":
            await card_actions.show_cases(self, context)
        elif kind == "set-helpdesk-channel":
            await card_actions.set_helpdesk_channel(self, context)
        elif kind == "sweep":
            await self.sweeps.begin(context, intent.since, group=intent.group)
        elif kind in ("diagnose", "self-report", "paste"):
            await send_typing(context)  # at once: the access check and the lookup take round trips
            if await self._keep_private(context):
                return
            await self._begin(dialog_context, self._options_for(context, intent))
        elif dialog_context.active_dialog is not None:
            await self._after_dialog(context, await dialog_context.continue_dialog())
        else:
            await send_card(context, self._help_card(context))

    async def _keep_private(self, context: TurnContext) -> bool:
        """In channels and group chats only the helpdesk diagnoses: a person's own numbers and calls
        are not for everyone in the conversation to read."""
        if conversation_kind(context.activity) == "personal":
            return False
        if await self.services.access.is_helpdesk(caller_id(context)):
            return False
        await send_card(
            context,
            notice_card(
                "Let's check that in private",
                "Your calls are your business: open a chat with Voice Doctor and type “my calls don't ring”. "
                "I'll check them there and tell your helpdesk.",
            ),
        )
        return True

    def _options_for(self, context: TurnContext, intent: Intent) -> dict[str, Any]:
        options: dict[str, Any] = {"problem": intent.problem or "inbound-calls"}
        if intent.kind == "self-report":
            options["userId"] = caller_id(context) or ""
            options["selfReport"] = conversation_kind(context.activity) == "personal"
        elif intent.kind == "paste":
            options["evidence"] = intent.text
            called = parse_portal_text(intent.text or "").called_number or first_phone_number(
                intent.text or ""
            )
            if options["problem"] == "inbound-calls" and called:
                options["user"] = called
        else:
            options["user"] = intent.user
        if intent.since:  # dialog state holds JSON: the period as seconds
            options["since"] = int(intent.since.total_seconds())
        return options

    async def _begin(self, dialog_context, options: dict[str, Any]) -> None:
        await dialog_context.cancel_all_dialogs()
        result = await dialog_context.begin_dialog(DIALOG_ID, options)
        if result.status == DialogTurnStatus.Empty:
            log.info("dialog ended at once")
        await self._after_dialog(dialog_context.context, result)

    async def _after_dialog(self, context: TurnContext, result) -> None:
        """The answer to "who is affected?" was a new request, not a person: answer it as one
        (what an unknown request gets anywhere; known requests never reach the question)."""
        if isinstance(result.result, dict) and INTERRUPTED in result.result:
            await send_card(context, self._help_card(context))

    # --- installs ------------------------------------------------------------------------------------

    async def on_teams_members_added(self, teams_members_added, team_info, turn_context: TurnContext):
        await self._welcome_if_bot_added(teams_members_added, turn_context)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext):
        await self._welcome_if_bot_added(members_added, turn_context)

    async def _welcome_if_bot_added(self, members, turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(getattr(member, "id", None) == bot_id for member in members or []):
            await send_card(turn_context, welcome_card(self.services.card_context(turn_context)))

    # --- Universal Actions (Action.Execute) ----------------------------------------------------------

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        action = invoke_value.action
        if isinstance(action, dict):  # botbuilder passes the raw JSON through
            verb, data = action.get("verb"), action.get("data")
        else:
            verb, data = getattr(action, "verb", None), getattr(action, "data", None)
        verb = verb if isinstance(verb, str) else ""
        data = data if isinstance(data, dict) else {}
        card, for_everyone = await card_actions.execute(self, turn_context, verb, data)
        if for_everyone and turn_context.activity.reply_to_id:
            await self._show_everyone(turn_context, turn_context.activity.reply_to_id, card)
        if (shown := turn_context.turn_state.get(FIX_CARD_SHOWN)) is not None:
            shown.set()  # a confirmed fix may now edit the card as its steps end
        return AdaptiveCardInvokeResponse(
            status_code=200, type="application/vnd.microsoft.card.adaptive", value=card
        )

    async def _show_everyone(self, context: TurnContext, activity_id: str, card: dict) -> None:
        """The invoke response changes the clicker's view; editing the message changes everyone's."""
        try:
            await update_card(context, activity_id, card)
        except Exception as error:  # the clicker still gets the new card
            log.info("card update for everyone failed", extra={"error": type(error).__name__})

    # --- message extension -------------------------------------------------------------------------

    async def on_teams_messaging_extension_query(self, turn_context: TurnContext, query):
        return await card_actions.extension_query(self, turn_context, query)

    async def on_teams_messaging_extension_select_item(self, turn_context: TurnContext, query):
        return await card_actions.extension_select(self, turn_context, query)
