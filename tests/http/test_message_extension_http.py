"""The "Diagnose a user" message extension and the manifest's command lists, through the real app."""

from __future__ import annotations

import json

import pytest

from bot.config import load_settings
from bot.manifest import COMMANDS, MESSAGE_EXTENSION_COMMAND_ID, MESSAGE_EXTENSION_PARAMETER
from tests.apphost import ADELE, activity, channel_conversation, mention_entity, running_app
from tests.cardschema import assert_valid_card

DARA_ID = "00000000-0000-0000-0000-00000000a003"


@pytest.fixture
async def app():
    async with running_app(load_settings({"DIAGNOSTICS_SOURCE": "demo"}, env_file=None)) as running:
        yield running


def query(service_url: str, text: str | None, **kwargs) -> dict:
    parameters = [] if text is None else [{"name": MESSAGE_EXTENSION_PARAMETER, "value": text}]
    return activity(
        service_url,
        type="invoke",
        name="composeExtension/query",
        value={
            "commandId": MESSAGE_EXTENSION_COMMAND_ID,
            "parameters": parameters,
            "queryOptions": {"skip": 0, "count": 25},
        },
        **kwargs,
    )


async def test_query_lists_people_and_select_item_inserts_the_result_card(app, connector):
    status, body = await app.post(query(connector.url, "Dara"))
    assert status == 200
    result = json.loads(body)["composeExtension"]
    assert result["type"] == "result"
    assert result["attachments"][0]["preview"]["content"]["title"] == "Dara O'Brien"
    tap_value = result["attachments"][0]["preview"]["content"]["tap"]["value"]

    status, body = await app.post(
        activity(connector.url, type="invoke", name="composeExtension/selectItem", value=tap_value)
    )
    assert status == 200
    attachment = json.loads(body)["composeExtension"]["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(attachment["content"])
    assert "The Microsoft platform is out of sync" in json.dumps(attachment["content"])


async def test_empty_query_asks_for_a_name(app, connector):
    for text in (None, "", "   "):
        status, body = await app.post(query(connector.url, text))
        assert status == 200
        result = json.loads(body)["composeExtension"]
        assert result["type"] == "message"
        assert "Type a name" in result["text"]


async def test_non_helpdesk_users_get_an_explanation_not_results(app, connector):
    status, body = await app.post(query(connector.url, "Dara", sender=ADELE))
    result = json.loads(body)["composeExtension"]
    assert result["type"] == "message" and "helpdesk" in result["text"]
    # a forged select-item for someone else is refused too
    status, body = await app.post(
        activity(
            connector.url,
            type="invoke",
            name="composeExtension/selectItem",
            value={"userId": DARA_ID},
            sender=ADELE,
        )
    )
    result = json.loads(body)["composeExtension"]
    assert result["type"] == "message" and "helpdesk" in result["text"]


COMMAND_EXAMPLES = {
    "check calls": "check calls for adele@contoso.example",
    "check calls for <user>": "check calls for adele@contoso.example",
}


@pytest.mark.parametrize(
    ("scope", "title"), [(scope, title) for scope, commands in COMMANDS.items() for title, _ in commands]
)
async def test_every_manifest_command_is_understood(app, connector, scope, title):
    text = COMMAND_EXAMPLES.get(title, title)
    if scope == "personal":
        body = activity(connector.url, text=text)
    else:
        conversation = (
            channel_conversation()
            if scope == "team"
            else {"id": "19:group@thread.v2", "conversationType": "groupChat", "isGroup": True}
        )
        body = activity(
            connector.url,
            text=f"<at>Voice Doctor</at> {text}",
            conversation=conversation,
            entities=[mention_entity()],
        )
    await app.post(body)
    await app.settle()
    cards = connector.cards()
    assert cards, f"no answer to {text!r}"
    if title != "help":
        assert not any("What I can do" in json.dumps(c) for c in cards), f"{text!r} was not understood"
