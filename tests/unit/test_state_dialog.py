"""A dialog continues after a restart: turn 1 on one storage object, turn 2 on a new one (same DB)."""

from __future__ import annotations

from botbuilder.core import ConversationState, MemoryStorage, MessageFactory, TurnContext, UserState
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import (
    DialogSet,
    DialogTurnStatus,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import PromptOptions, TextPrompt

from bot.state import open_storage
from tests.storage_backends import postgres_url, state_url  # noqa: F401


class DiagnoseBot:
    """A waterfall like the real diagnose dialog: ask for the user, ask for the problem, answer."""

    def __init__(self, storage):
        self.conversation_state = ConversationState(storage)
        self.user_state = UserState(storage)
        self.asked = self.user_state.create_property("asked")
        self.turns_seen = 0
        self.dialogs = DialogSet(self.conversation_state.create_property("DialogState"))
        self.dialogs.add(TextPrompt("text"))
        self.dialogs.add(WaterfallDialog("diagnose", [self.ask_user, self.ask_problem, self.answer]))

    async def ask_user(self, step: WaterfallStepContext):
        step.values["started"] = "inbound-calls"
        return await step.prompt("text", PromptOptions(prompt=MessageFactory.text("Whose calls fail?")))

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
        return [activity.text for activity in adapter.activity_buffer], bot.turns_seen
    finally:
        await storage.close()
        await cases.close()


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
        assert [a.text for a in adapter.activity_buffer] == ["Whose calls fail?"]
