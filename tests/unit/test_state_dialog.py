"""A dialog continues after a restart: turn 1 on one storage object, turn 2 on a new one (same DB)."""

from __future__ import annotations

from botbuilder.core import (
    CardFactory,
    ConversationState,
    MemoryStorage,
    MessageFactory,
    TurnContext,
    UserState,
)
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import (
    ComponentDialog,
    DialogSet,
    DialogTurnStatus,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import PromptOptions, TextPrompt

from bot.state import open_storage
from tests.storage_backends import state_url  # noqa: F401

ASK_USER_CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": "Whose calls fail?"}, {"type": "Input.Text", "id": "userText"}],
    "actions": [{"type": "Action.Submit", "title": "Check", "data": {"vd": "answer"}}],
}


class DiagnoseBot:
    """Like the real diagnose dialog: a component dialog whose waterfall asks with a card, then text."""

    def __init__(self, storage):
        self.conversation_state = ConversationState(storage)
        self.user_state = UserState(storage)
        self.asked = self.user_state.create_property("asked")
        self.turns_seen = 0
        self.dialogs = DialogSet(self.conversation_state.create_property("DialogState"))
        component = ComponentDialog("diagnose")
        component.add_dialog(TextPrompt("text"))
        component.add_dialog(WaterfallDialog("steps", [self.ask_user, self.ask_problem, self.answer]))
        component.initial_dialog_id = "steps"
        self.dialogs.add(component)

    async def ask_user(self, step: WaterfallStepContext):
        step.values["started"] = "inbound-calls"
        card = MessageFactory.attachment(CardFactory.adaptive_card(ASK_USER_CARD))
        return await step.prompt("text", PromptOptions(prompt=card))

    async def ask_problem(self, step: WaterfallStepContext):
        step.values["user"] = step.result
        return await step.prompt(
            "text", PromptOptions(prompt=MessageFactory.text(f"What happens when {step.result} is called?"))
        )

    async def answer(self, step: WaterfallStepContext):
        await step.context.send_activity(
            f"Diagnosing {step.values['started']} for {step.values['user']}: {step.result}"
        )
        return await step.end_dialog()

    async def on_turn(self, context: TurnContext) -> None:
        self.turns_seen = await self.asked.get(context, lambda: 0) + 1  # user state survives too
        await self.asked.set(context, self.turns_seen)
        dialog_context = await self.dialogs.create_context(context)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dialog_context.begin_dialog("diagnose")
        await self.conversation_state.save_changes(context)
        await self.user_state.save_changes(context)


async def turn(state_url: str, text: str) -> tuple[list[str], int]:  # noqa: F811
    """One turn in a freshly started "process": new storage, new state objects, new dialogs."""
    storage, cases = await open_storage(state_url)
    try:
        bot = DiagnoseBot(storage)
        adapter = TestAdapter(bot.on_turn)
        await adapter.send(text)
        return [_shown(activity) for activity in adapter.activity_buffer], bot.turns_seen
    finally:
        await storage.close()
        await cases.close()


def _shown(activity) -> str:
    """What the user sees: the text, or the first TextBlock of a card."""
    if activity.attachments:
        return activity.attachments[0].content["body"][0]["text"]
    return activity.text


async def test_a_dialog_continues_across_restarts(state_url) -> None:  # noqa: F811
    replies, turns = await turn(state_url, "my calls don't ring")
    assert replies == ["Whose calls fail?"]
    assert turns == 1

    replies, turns = await turn(state_url, "adele@contoso.example")
    assert replies == ["What happens when adele@contoso.example is called?"]

    replies, turns = await turn(state_url, "404 Unallocated Number")
    assert replies == ["Diagnosing inbound-calls for adele@contoso.example: 404 Unallocated Number"]
    assert turns == 3

    replies, _ = await turn(state_url, "again")  # the dialog ended: a new one starts
    assert replies == ["Whose calls fail?"]


async def test_without_durable_state_the_dialog_would_start_over() -> None:
    """The control: with state that dies with the process, the second turn starts over."""
    for _ in range(2):
        bot = DiagnoseBot(MemoryStorage())
        adapter = TestAdapter(bot.on_turn)
        await adapter.send("adele@contoso.example")
        assert [_shown(a) for a in adapter.activity_buffer] == ["Whose calls fail?"]
