"""The Bot Connector client under the SDK's CloudAdapter: reused across turns, cards sent as built.

bot/connector_auth.py keeps one `ConnectorClient` per app id, service URL and audience instead of
one per turn, and lets finished cards bypass msrest's serializer. What the connector receives must
be exactly what msrest would have sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    HeroCard,
)
from botframework.connector.auth import _connector_factory_impl
from msrest import Serializer

from bot.config import load_settings
from bot.connector_auth import CONNECTOR_MODELS, PlainContentSerializer
from bot.diagnosis.engine import DiagnosisRequest
from cards.context import CardContext
from cards.conversation import help_card
from cards.diagnosis import diagnosis_card
from dialogs.services import card_message
from tests.apphost import activity, running_app
from tests.storage_backends import FakeClock, demo_engine

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def cards() -> list[dict]:
    diagnosis = await demo_engine(FakeClock(NOW)).diagnose(
        DiagnosisRequest(problem="inbound-calls", user="dara.o'brien@contoso.example")
    )
    ctx = CardContext(now=NOW, data_source="demo", case_id="c-1")
    return [help_card(ctx), diagnosis_card(diagnosis, ctx)]


def addressed(message: Activity) -> Activity:
    """The activity as the adapter sends it: a reply in a personal chat."""
    message.conversation = ConversationAccount(id="a:1", conversation_type="personal")
    message.from_property = ChannelAccount(id="28:voice-doctor", name="Voice Doctor")
    message.recipient = ChannelAccount(id="29:megan", name="Megan Bowen", aad_object_id="a001")
    message.reply_to_id = "incoming-1"
    message.service_url = "https://smba.example/"
    message.channel_id = "msteams"
    return message


async def test_the_body_is_what_msrest_would_send_and_the_activity_is_untouched():
    for card in await cards():
        message = addressed(card_message(card))
        before = json.dumps(message.serialize(), sort_keys=True)

        fast = PlainContentSerializer(CONNECTOR_MODELS).body(message, "Activity")
        slow = Serializer(CONNECTOR_MODELS).body(message, "Activity")

        assert json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True)
        assert fast["attachments"][0]["content"] == card
        assert json.dumps(message.serialize(), sort_keys=True) == before


def test_attachments_that_are_models_or_text_still_go_through_msrest():
    hero = Attachment(content_type="application/vnd.microsoft.card.hero", content=HeroCard(title="Hi"))
    text = Attachment(content_type="text/plain", content="plain words")
    plain = Attachment(content_type="application/json", content={"a": [1, {"b": None}]})
    message = addressed(Activity(type=ActivityTypes.message, attachments=[hero, text, plain]))

    fast = PlainContentSerializer(CONNECTOR_MODELS).body(message, "Activity")
    slow = Serializer(CONNECTOR_MODELS).body(message, "Activity")

    assert fast == slow
    assert fast["attachments"][0]["content"] == {"title": "Hi"}
    assert [a.content for a in message.attachments][1:] == ["plain words", {"a": [1, {"b": None}]}]


@pytest.fixture
def built_clients(monkeypatch) -> list[object]:
    """Every ConnectorClient the SDK's connector factory builds."""
    built: list[object] = []
    original = _connector_factory_impl.ConnectorClient

    class Counted(original):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(_connector_factory_impl, "ConnectorClient", Counted)
    return built


async def test_one_connector_client_serves_every_turn_and_conversation(connector, built_clients):
    settings = load_settings({"DIAGNOSTICS_SOURCE": "demo"}, env_file=None)
    async with running_app(settings) as app:
        for n, text in enumerate(["help", "check calls for adele@contoso.example", "help"]):
            conversation = {"id": f"a:reuse-{n}", "conversationType": "personal"}
            status, _ = await app.post(activity(connector.url, text=text, conversation=conversation))
            assert status == 202
            await app.settle()
    assert len(built_clients) == 1
    assert len({r.conversation_id for r in connector.received}) == 3
    assert "Teams has a different number" in json.dumps(connector.cards())
