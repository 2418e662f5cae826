"""'check everyone' in the running bot: a progress card, then the digest in its place (helpdesk only);
a Diagnose button of the digest opens that person's diagnosis."""

from __future__ import annotations

import json

from bot.config import load_settings
from tests.apphost import ADELE, activity, channel_conversation, running_app

DEMO = load_settings({"DIAGNOSTICS_SOURCE": "demo"}, env_file=None)


def cards_with(connector, words: str) -> list[dict]:
    return [c for c in connector.cards() if words in json.dumps(c)]


async def test_check_everyone_shows_progress_then_the_digest_in_its_place(connector):
    async with running_app(DEMO) as app:
        await app.post(activity(connector.url, text="check everyone in the last 7 days"))
        await app.settle()
        await connector.wait_for(
            lambda got: any(r.method == "update" and "people affected" in json.dumps(r.body) for r in got)
        )

    progress = cards_with(connector, "Checking everyone")
    assert progress, "no progress card"
    sent = [r for r in connector.received if r.method in ("send", "reply")]
    progress_sent = next(r for r in sent if "Checking everyone" in json.dumps(r.body))
    digest = next(
        r for r in connector.received if r.method == "update" and "people affected" in json.dumps(r.body)
    )
    assert digest.activity_id is not None  # the progress card, edited in place
    text = json.dumps(digest.body)
    assert "19 people affected" in text and "Diagnose" in text and "Demo data" in text
    assert progress_sent.conversation_id == digest.conversation_id


async def test_only_the_helpdesk_may_check_everyone(connector):
    async with running_app(DEMO) as app:
        await app.post(activity(connector.url, text="check everyone", sender=ADELE))
        await app.settle()

    texts = json.dumps(connector.cards())
    assert "Checking everyone is for the helpdesk" in texts
    assert "people affected" not in texts and "Checking everyone…" not in texts


async def test_a_diagnose_button_of_the_digest_opens_that_persons_diagnosis(connector):
    async with running_app(DEMO) as app:
        value = {"vd": "start", "problem": "inbound-calls", "userId": "00000000-0000-0000-0000-00000000a002"}
        await app.post(activity(connector.url, value=value, conversation=channel_conversation()))
        await app.settle()
        await app.post(
            activity(
                connector.url,
                value={"vd": "start", "problem": "outbound-calls", "user": "+14255550108"},
            )
        )
        await app.settle()

    texts = json.dumps(connector.cards())
    assert "Teams has a different number for this user than 8x8" in texts  # Adele, in the channel
    assert "No such user in this Microsoft 365 tenant" in texts  # the 8x8 user without an account


async def test_check_everyone_in_sales_gives_a_digest_limited_to_the_sales_department(connector):
    async with running_app(DEMO) as app:
        await app.post(activity(connector.url, text="check everyone in Sales"))
        await app.settle()
        await connector.wait_for(
            lambda got: any(r.method == "update" and "people affected" in json.dumps(r.body) for r in got)
        )

    assert cards_with(connector, "Checking everyone in Sales"), "no progress card for Sales"
    digest = next(
        r for r in connector.received if r.method == "update" and "people affected" in json.dumps(r.body)
    )
    text = json.dumps(digest.body, ensure_ascii=False)
    assert "Everyone in Sales checked" in text and "5 people affected" in text
    assert "the Sales department (matched on the users' department) · 6 members" in text
    assert "Adele Vance" in text and "Henrietta Mueller" not in text  # Sales, not Operations


async def test_a_group_nobody_is_in_is_one_sentence_not_an_empty_digest(connector):
    async with running_app(DEMO) as app:
        await app.post(activity(connector.url, text="check everyone in Atlantis"))
        await app.settle()
        await connector.wait_for(
            lambda got: any("Atlantis”" in json.dumps(r.body, ensure_ascii=False) for r in got)
        )

    text = json.dumps(connector.cards(), ensure_ascii=False)
    assert "No Entra group is called “Atlantis”, and no user has it as department or office." in text
    assert "Nobody affected" not in text and "people affected" not in text
