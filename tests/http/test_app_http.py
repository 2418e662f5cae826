"""The real aiohttp app on loopback, with a fake Bot Connector as the activities' serviceUrl."""

from __future__ import annotations

import json

import pytest

from bot.config import load_settings
from tests.apphost import activity, channel_conversation, mention_entity, running_app


@pytest.fixture
async def app():
    async with running_app(load_settings({"DIAGNOSTICS_SOURCE": "demo"}, env_file=None)) as running:
        yield running


def card_texts(card: dict) -> str:
    return json.dumps(card)


async def test_healthz(app):
    async with app.session.get(f"{app.url}/healthz") as response:
        assert response.status == 200
        body = await response.json()
    assert body["status"] == "ok"
    assert body["dataSource"] == "demo"


async def test_help_message_gets_the_help_card_through_the_connector(app, connector):
    status, _ = await app.post(activity(connector.url, text="help"))
    assert status == 202
    await connector.wait_for(lambda received: any(r.body.get("attachments") for r in received))
    card = connector.cards()[-1]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert "check calls for" in card_texts(card)


async def test_channel_mention_is_stripped_and_answered_in_the_same_thread(app, connector):
    conversation = channel_conversation()
    body = activity(
        connector.url,
        text="<at>Voice Doctor</at> help",
        conversation=conversation,
        entities=[mention_entity()],
    )
    await app.post(body)
    received = await connector.wait_for(lambda r: any(x.body.get("attachments") for x in r))
    reply = next(r for r in received if r.body.get("attachments"))
    assert reply.conversation_id == conversation["id"]
    assert "check calls for" in card_texts(reply.body["attachments"][0]["content"])


async def test_installing_the_bot_sends_the_welcome_card(app, connector):
    body = activity(
        connector.url,
        type="conversationUpdate",
        membersAdded=[{"id": "28:voice-doctor"}],
    )
    await app.post(body)
    await connector.wait_for(lambda r: any(x.body.get("attachments") for x in r))
    assert "Voice Doctor" in card_texts(connector.cards()[0])


async def test_a_user_joining_gets_no_welcome(app, connector):
    await app.post(activity(connector.url, type="conversationUpdate", membersAdded=[{"id": "29:someone"}]))
    await app.settle()
    assert connector.cards() == []


@pytest.mark.parametrize(
    ("raw", "headers"),
    [
        (b"this is not json", {"Content-Type": "application/json"}),
        (b'{"type": ', {"Content-Type": "application/json"}),
        (b"[1, 2, 3]", {"Content-Type": "application/json"}),
        (b'{"text": "no type"}', {"Content-Type": "application/json"}),
        (
            b'{"type": "message", "text": "no conversation or serviceUrl"}',
            {"Content-Type": "application/json"},
        ),
        (b"\xff\xfe\x00garbage", {"Content-Type": "text/plain"}),
        (b"", {}),
    ],
)
async def test_bodies_that_are_not_activities_get_400_and_the_server_lives_on(app, raw, headers):
    status, text = await app.post(None, raw=raw, headers=headers)
    assert status == 400
    assert "error" in json.loads(text)
    async with app.session.get(f"{app.url}/healthz") as response:
        assert response.status == 200


async def test_a_2_mb_body_gets_413_and_the_server_lives_on(app):
    big = json.dumps({"type": "message", "text": "x" * (2 * 1024 * 1024)}).encode()
    status, _ = await app.post(None, raw=big, headers={"Content-Type": "application/json"})
    assert status == 413
    async with app.session.get(f"{app.url}/healthz") as response:
        assert response.status == 200
