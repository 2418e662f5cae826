"""The Teams activity handler: the edge where Bot Framework meets Voice Doctor.

It routes messages (with the `<at>` mention removed in channels and group chats), card actions
(`Action.Execute` invokes and `Action.Submit` values), installs and message-extension queries to the
conversation layer in `dialogs/`. It holds no diagnosis logic and builds no card JSON itself.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from botbuilder.core import CardFactory, ConversationState, MessageFactory, TurnContext, UserState
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot.config import Settings
from bot.logs import conversation_id
from cards.context import CardContext
from cards.conversation import help_card, welcome_card

log = logging.getLogger("voice_doctor.bot")


def conversation_kind(activity: Activity) -> str:
    """`personal`, `channel` or `groupChat`, from the conversation Teams reports."""
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None) if conversation else None
    if kind in ("channel", "groupChat", "personal"):
        return kind
    if conversation is not None and getattr(conversation, "is_group", False):
        return "groupChat"
    return "personal"


def message_text(context: TurnContext) -> str:
    """The user's words without the bot's `<at>…</at>` mention, trimmed."""
    activity = context.activity
    if activity.entities and conversation_kind(activity) != "personal":
        TurnContext.remove_recipient_mention(activity)
    text = activity.text or ""
    # Some clients leave the mention markup when the entity's text differs slightly (nbsp, case).
    if "<at>" in text:
        text = re.sub(r"<at>[^<]*</at>", " ", text)
    return " ".join(text.replace("\u00a0", " ").split())


def card_attachment(card: dict):
    return CardFactory.adaptive_card(card)


class VoiceDoctorBot(TeamsActivityHandler):
    def __init__(
        self, *, settings: Settings, conversation_state: ConversationState, user_state: UserState, clock=None
    ):
        self.settings = settings
        self.conversation_state = conversation_state
        self.user_state = user_state
        self.clock = clock or (lambda: datetime.now(UTC))

    async def on_turn(self, turn_context: TurnContext):
        token = conversation_id.set(
            turn_context.activity.conversation.id if turn_context.activity.conversation else None
        )
        try:
            await super().on_turn(turn_context)
            await self.conversation_state.save_changes(turn_context)
            await self.user_state.save_changes(turn_context)
        finally:
            conversation_id.reset(token)

    def card_context(self, context: TurnContext) -> CardContext:
        return CardContext(now=self.clock(), conversation=conversation_kind(context.activity))

    async def on_message_activity(self, turn_context: TurnContext):
        text = message_text(turn_context)
        log.info("message", extra={"chars": len(text), "scope": conversation_kind(turn_context.activity)})
        await self.send_card(turn_context, help_card(self.card_context(turn_context)))

    async def on_teams_members_added(self, teams_members_added, team_info, turn_context: TurnContext):
        await self._welcome_if_bot_added(teams_members_added, turn_context)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext):
        await self._welcome_if_bot_added(members_added, turn_context)

    async def _welcome_if_bot_added(self, members, turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members or []):
            await self.send_card(turn_context, welcome_card(self.card_context(turn_context)))

    async def send_card(self, turn_context: TurnContext, card: dict) -> str | None:
        response = await turn_context.send_activity(MessageFactory.attachment(card_attachment(card)))
        return response.id if response else None

    async def send_typing(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(Activity(type=ActivityTypes.typing))
