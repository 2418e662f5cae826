"""The conversation through the real aiohttp app, with a fake Bot Connector as serviceUrl."""

from __future__ import annotations

import json

import pytest

from bot.config import load_settings
from tests.apphost import ADELE, ALEX, activity, running_app
from tests.cardschema import action_data, assert_valid_card

HELPDESK_CHANNEL = "19:helpdesk-calls@thread.tacv2"


@pytest.fixture
async def app():
    settings = load_settings(
        {"DIAGNOSTICS_SOURCE": "demo", "HELPDESK_CHANNEL_ID": HELPDESK_CHANNEL}, env_file=None
    )
    async with running_app(settings) as running:
        yield running


def texts(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


def press(service_url: str, verb: str, case_id: str, **extra) -> dict:
    """The invoke Teams sends when a card's Action.Execute button for this case is pressed."""
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": {"caseId": case_id}}}
    return activity(service_url, type="invoke", name="adaptiveCard/action", value=value, **extra)


async def test_progress_card_is_sent_at_once_then_replaced_by_the_result(app, connector):
    await app.post(activity(connector.url, text="check calls for adele@contoso.example"))
    await app.settle()
    kinds = [(r.method, r.body.get("type")) for r in connector.received]
    assert kinds[0] == ("reply", "typing")
    assert kinds[1] == ("reply", "message")
    progress = connector.received[1].body["attachments"][0]["content"]
    assert "Checking" in texts(progress)
    updates = [r for r in connector.received if r.method == "update"]
    assert updates, "the progress card was never updated in place"
    final = updates[-1].body["attachments"][0]["content"]
    assert_valid_card(final)
    assert "Teams has a different number" in texts(final)
    assert all(u.activity_id == "activity-2" for u in updates)  # the same message, edited


async def test_recheck_invoke_returns_the_refreshed_card(app, connector):
    await app.post(activity(connector.url, text="check calls for nestorw@contoso.example"))
    await app.settle()
    final = [r for r in connector.received if r.method == "update"][-1].body["attachments"][0]["content"]
    case_id = action_data(final, "recheck")["caseId"]
    invoke = press(connector.url, "recheck", case_id, replyToId="activity-2")
    status, body = await app.post(invoke)
    assert status == 200
    response = json.loads(body)
    assert response["statusCode"] == 200
    assert response["type"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(response["value"])
    assert "Not enough time has elapsed" in texts(response["value"])
    # everyone in the conversation sees the re-checked card: the message itself is edited
    edits = [r for r in connector.received if r.method == "update" and r.activity_id == "activity-2"]
    assert edits[-1].body["attachments"][0]["content"] == response["value"]
    # someone who may not see the case gets a refusal, and nobody else's card changes
    seen = len(connector.received)
    invoke["from"] = dict(ADELE)
    status, body = await app.post(invoke)
    assert "I can only check your own calls" in body
    assert connector.received[seen:] == []


async def test_self_report_posts_the_diagnosis_to_the_helpdesk_channel(app, connector):
    await app.post(activity(connector.url, text="my calls don't ring", sender=ADELE))
    await app.settle()
    created = [r for r in connector.received if r.method == "create"]
    assert len(created) == 1
    parameters = created[0].body
    assert parameters["isGroup"] is True
    assert parameters["channelData"]["channel"]["id"] == HELPDESK_CHANNEL
    card = parameters["activity"]["attachments"][0]["content"]
    assert_valid_card(card)
    assert "<at>Adele Vance</at> reported a problem" in texts(card)
    mention = card["msteams"]["entities"][0]
    assert mention["mentioned"]["id"] == ADELE["id"]
    # Adele herself gets plain words, not the admin card.
    mine = [r for r in connector.received if r.method == "update"][-1].body["attachments"][0]["content"]
    assert "What happens next" in texts(mine)
    assert "I have sent the details to your helpdesk" in texts(mine)


async def test_assign_updates_the_helpdesk_card_and_tells_the_reporter(app, connector):
    await app.post(activity(connector.url, text="my calls don't ring", sender=ADELE))
    await app.settle()
    card = next(r for r in connector.received if r.method == "create").body["activity"]["attachments"][0][
        "content"
    ]
    case_id = action_data(card, "assign")["caseId"]
    channel = {"id": f"{HELPDESK_CHANNEL};messageid=1", "conversationType": "channel", "isGroup": True}
    status, body = await app.post(press(connector.url, "assign", case_id, conversation=channel))
    assert status == 200
    assert "Megan Bowen" in texts(json.loads(body)["value"])
    await connector.wait_for(
        lambda received: any("is looking into your calls" in json.dumps(r.body) for r in received)
    )
    # ... and an ordinary user cannot resolve it.
    status, body = await app.post(press(connector.url, "resolve", case_id, sender=ADELE))
    assert status == 200
    assert "helpdesk" in texts(json.loads(body)["value"]).lower()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("adaptiveCard/action", {"action": "x"}),
        (
            "adaptiveCard/action",
            {"action": {"type": "Action.Execute", "verb": "recheck", "data": "not an object"}},
        ),
        ("composeExtension/query", ["not", "an", "object"]),
        ("composeExtension/query", {"commandId": "diagnoseUser", "parameters": "adele"}),
        ("composeExtension/query", {"commandId": "diagnoseUser", "parameters": ["adele"]}),
    ],
)
async def test_malformed_invokes_get_400_and_nothing_runs(app, connector, name, value):
    status, body = await app.post(activity(connector.url, type="invoke", name=name, value=value))
    assert status == 400
    assert "could not be read" in body
    assert connector.received == []


async def test_two_quick_messages_in_one_chat_both_get_answers(app, connector):
    import asyncio

    first = activity(connector.url, text="check calls for adele@contoso.example")
    second = activity(connector.url, text="check sync")
    await asyncio.gather(app.post(first), app.post(second))
    await app.settle()
    cards = json.dumps(connector.cards())
    assert "Teams has a different number" in cards
    assert "voice routing domains" in cards
    assert "something went wrong" not in json.dumps([r.body for r in connector.received]).lower()


# --- issue 13: outbound calls and the call timeline ---------------------------------------------------------


def final_card(connector) -> dict:
    """The card that replaced the progress card last (the result, in place)."""
    return [r for r in connector.received if r.method == "update"][-1].body["attachments"][0]["content"]


def helpdesk_post(connector) -> dict:
    (created,) = [r for r in connector.received if r.method == "create"]
    return created.body["activity"]["attachments"][0]["content"]


async def test_an_outbound_request_in_chat_is_answered_in_the_readers_zone(app, connector):
    text = "check outbound calls for henriettam@contoso.example in the last 48 hours"
    await app.post(activity(connector.url, text=text, localTimezone="America/New_York"))
    await app.settle()
    progress = next(r for r in connector.received if r.method == "reply" and r.body.get("attachments"))
    assert "Checking outbound calls" in texts(progress.body["attachments"][0]["content"])
    card = final_card(connector)
    assert_valid_card(card)
    shown = texts(card)
    assert "Outbound calls · Henrietta Mueller" in shown
    assert "Newest first, times in America/New_York." in shown and " EST" in shown
    assert "(2 days)" in shown  # the period typed in chat is the period searched
    assert "8x8 support request" in shown and "https://support.8x8.com" in shown
    # Re-check keeps the problem and the period
    invoke = press(connector.url, "recheck", action_data(card, "recheck")["caseId"], replyToId="activity-2")
    status, body = await app.post(invoke)
    rechecked = json.loads(body)["value"]
    assert status == 200 and "Outbound calls · Henrietta Mueller" in texts(rechecked)
    assert "(2 days)" in texts(rechecked)


@pytest.mark.parametrize(
    ("said", "problem", "answer"),
    [
        ("I can't call out", "outbound calls", "connected but failed because no audio could get through"),
        ("my calls don't ring", "inbound calls", "could not ring because Teams was not signed in"),
    ],
)
async def test_a_self_report_in_each_direction_reaches_the_helpdesk_channel(
    app, connector, said, problem, answer
):
    await app.post(activity(connector.url, text=said, sender=ALEX))
    await app.settle()
    report = helpdesk_post(connector)
    assert_valid_card(report)
    assert f"<at>Alex Wilber</at> reported a problem: {problem}" in texts(report)
    assert "Newest first, times in UTC." in texts(report)  # the channel's card: read by many, in UTC
    mine = final_card(connector)
    assert answer in texts(mine) and "What happens next" in texts(mine)


async def test_the_reporter_of_a_resolved_outbound_problem_is_told_in_its_words(app, connector):
    await app.post(activity(connector.url, text="my dial pad is gone", sender=ALEX))
    await app.settle()
    case_id = action_data(helpdesk_post(connector), "resolve")["caseId"]
    channel = {"id": f"{HELPDESK_CHANNEL};messageid=1", "conversationType": "channel", "isGroup": True}
    status, _ = await app.post(press(connector.url, "resolve", case_id, conversation=channel))
    assert status == 200
    await connector.wait_for(
        lambda received: any(
            "If calls out still fail, tell me again." in json.dumps(r.body) for r in received
        )
    )
