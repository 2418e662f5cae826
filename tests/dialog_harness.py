"""Drive VoiceDoctorBot in-process with botbuilder-testing's TestAdapter, as Teams users would.

Each `say` is one turn; it returns what the bot sent (new messages) and the cards it updated in place.
The bot is wired exactly as app.py wires it (demo tenant by default), minus HTTP.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.config import load_settings

TENANT = "00000000-0000-0000-0000-0000000c0de0"
MEGAN = ChannelAccount(
    id="29:megan-bowen", name="Megan Bowen", aad_object_id="00000000-0000-0000-0000-00000000a001"
)
ADELE = ChannelAccount(
    id="29:adele-vance", name="Adele Vance", aad_object_id="00000000-0000-0000-0000-00000000a002"
)
ALEX = ChannelAccount(  # an ordinary user: no Teams client signed in (inbound), media failures (outbound)
    id="29:alex-wilber", name="Alex Wilber", aad_object_id="00000000-0000-0000-0000-00000000a010"
)
BOT = ChannelAccount(id="28:voice-doctor", name="Voice Doctor")


def cards_in(activities: list[Activity]) -> list[dict[str, Any]]:
    return [
        a.content
        for activity in activities
        for a in (activity.attachments or [])
        if a.content_type == "application/vnd.microsoft.card.adaptive"
    ]


def text_of(card: dict[str, Any]) -> str:
    """All visible strings of a card, for `in` assertions."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in (
                    "text",
                    "title",
                    "value",
                    "placeholder",
                    "label",
                    "codeSnippet",
                    "fallbackText",
                ) and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(out)


@dataclass
class Turn:
    sent: list[Activity]
    updated: list[Activity]

    @property
    def cards(self) -> list[dict[str, Any]]:
        return cards_in(self.sent)

    @property
    def updated_cards(self) -> list[dict[str, Any]]:
        return cards_in(self.updated)

    @property
    def all_cards(self) -> list[dict[str, Any]]:
        return self.cards + self.updated_cards


class Harness:
    """The bot wired as app.py wires it; the state store opens on the first turn (`start()`)."""

    def __init__(self, open_services):
        self._open_services = open_services
        self._services = None
        self.adapter = TestAdapter(self._on_turn)
        self.conversation = ConversationAccount(
            id=f"a:{uuid.uuid4().hex}", conversation_type="personal", tenant_id=TENANT
        )

    async def start(self):
        if self._services is None:
            self._services = await self._open_services()
        return self._services

    async def _on_turn(self, context) -> None:
        await (await self.start()).bot.on_turn(context)

    @property
    def services(self):
        assert self._services is not None, "the harness starts on its first turn: await harness.start()"
        return self._services

    @property
    def bot(self):
        return self.services.bot

    def activity(
        self, kind: str, sender: ChannelAccount, conversation: ConversationAccount | None, **fields
    ) -> Activity:
        """A Teams-shaped activity from `sender` in this harness's tenant (personal chat by default)."""
        return Activity(
            type=kind,
            from_property=sender,
            recipient=BOT,
            conversation=conversation or self.conversation,
            channel_id="msteams",
            channel_data={"tenant": {"id": TENANT}},
            service_url="https://smba.example.test/",
            **fields,
        )

    async def say(
        self,
        text: str | None = None,
        *,
        value: dict | None = None,
        sender: ChannelAccount = MEGAN,
        conversation: ConversationAccount | None = None,
        entities: list | None = None,
        local_timezone: str | None = None,
    ) -> Turn:
        """One message; `local_timezone` is the IANA zone Teams sends for the sender's client."""
        before_sent, before_updated = len(self.adapter.activity_buffer), len(self.adapter.updated_activities)
        activity = self.activity(
            ActivityTypes.message,
            sender,
            conversation,
            text=text,
            value=value,
            entities=entities,
            local_timezone=local_timezone,
        )
        await self.adapter.receive_activity(activity)
        return Turn(
            self.adapter.activity_buffer[before_sent:], self.adapter.updated_activities[before_updated:]
        )

    async def invoke(
        self,
        name: str,
        value: Any,
        *,
        sender: ChannelAccount = MEGAN,
        conversation: ConversationAccount | None = None,
        local_timezone: str | None = None,
    ) -> Any:
        """An invoke (Action.Execute, message extension); returns the invoke response body."""
        activity = self.activity(
            ActivityTypes.invoke, sender, conversation, name=name, value=value, local_timezone=local_timezone
        )
        await self.adapter.receive_activity(activity)
        responses = [a for a in self.adapter.activity_buffer if a.type == "invokeResponse"]
        assert responses, "no invoke response"
        return responses[-1].value.body


def make_harness(
    env: dict[str, str] | None = None,
    *,
    now: datetime | None = None,
    clock=None,
    state_dir=None,
    sources=None,
) -> Harness:
    """A bot wired as app.py wires it, with its state in a SQLite file under `state_dir`
    (a fresh temporary folder unless given: pass the same folder again to simulate a restart)."""
    from app import open_services

    state_dir = state_dir or tempfile.mkdtemp(prefix="voice-doctor-harness-")
    settings = load_settings(
        {"DIAGNOSTICS_SOURCE": "demo", "STATE_STORE": f"sqlite:///{state_dir}/state.db", **(env or {})},
        env_file=None,
    )
    clock = clock or ((lambda: now) if now else (lambda: datetime.now(UTC)))
    return Harness(lambda: open_services(settings, clock=clock, sources=sources))
