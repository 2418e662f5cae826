"""Cases in the running bot: a dialog survives a restart, and a "wait" answer follows itself up."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from app import SERVICES
from bot.config import load_settings
from tests.apphost import activity, running_app
from tests.dialog_harness import make_harness, text_of
from tests.fakes.graph_fixtures import Clock
from tests.storage_backends import fresh_schema


async def close(harness) -> None:
    for closer in harness.services.closers:
        result = closer()
        if hasattr(result, "__await__"):
            await result


async def test_a_dialog_continues_after_a_restart(tmp_path):
    before = make_harness(state_dir=tmp_path)
    turn = await before.say("calls don't ring")
    assert "Who is affected?" in text_of(turn.cards[-1])
    await close(before)  # the process stops

    after = make_harness(state_dir=tmp_path)  # a new process on the same state file
    after.conversation = before.conversation
    turn = await after.say("adele@contoso.example")
    assert "Teams has a different number" in text_of(turn.updated_cards[-1])
    await close(after)


async def test_a_sync_too_recent_case_is_followed_up_once_when_its_wait_ends(state_url, connector):
    """Through the real app and a fake Bot Connector, on SQLite and on PostgreSQL: the follow-up
    edits the posted card and sends one message."""
    clock = Clock(datetime.now(UTC).replace(second=0, microsecond=0))
    settings = load_settings({"DIAGNOSTICS_SOURCE": "demo", "STATE_STORE": state_url}, env_file=None)
    async with running_app(settings, clock=clock) as app:
        await app.post(activity(connector.url, text="check calls for johannal@contoso.example"))
        await app.settle()
        first_sync = clock.now - timedelta(hours=71, minutes=59)
        answer = {
            "vd": "first-sync",
            "choice": "exact",
            "firstSyncDate": first_sync.strftime("%Y-%m-%d"),
            "firstSyncTime": first_sync.strftime("%H:%M"),
        }
        await app.post(activity(connector.url, value=answer))
        await app.settle()
        assert "Not enough time has elapsed" in json.dumps(connector.cards()[-1])
        scheduler = app.app[SERVICES].scheduler
        seen = len(connector.received)

        clock.now += timedelta(seconds=30)
        assert await scheduler.run_due_once() == []

        clock.now += timedelta(seconds=45)  # a minute and a quarter after the diagnosis
        assert len(await scheduler.run_due_once()) == 1
        new = connector.received[seen:]
        notices = [r for r in new if r.method in ("send", "reply")]
        assert len(notices) == 1
        notice = json.dumps(notices[0].body["attachments"][0]["content"])
        assert "72 hours have passed since the first complete sync" in notice
        assert "Johanna Lorenz" in notice
        assert [r for r in new if r.method == "update"], "the posted card was not updated in place"

        clock.now += timedelta(hours=3)
        assert await scheduler.run_due_once() == []
        assert len([r for r in connector.received[seen:] if r.method in ("send", "reply")]) == 1


@pytest.mark.postgres
async def test_two_instances_on_one_postgresql_send_one_follow_up(postgres_url, connector):
    clock = Clock(datetime.now(UTC).replace(second=0, microsecond=0))
    async for url in fresh_schema(postgres_url):
        settings = load_settings({"DIAGNOSTICS_SOURCE": "demo", "STATE_STORE": url}, env_file=None)
        async with (
            running_app(settings, clock=clock) as first,
            running_app(settings, clock=clock) as second,
        ):
            await first.post(activity(connector.url, text="check calls for nestorw@contoso.example"))
            await first.settle()
            assert "Not enough time has elapsed" in json.dumps(connector.cards()[-1])
            seen = len(connector.received)
            clock.now += timedelta(hours=42)  # Nestor's 72 hours are over
            followed = await asyncio.gather(
                first.app[SERVICES].scheduler.run_due_once(),
                second.app[SERVICES].scheduler.run_due_once(),
            )
            assert sorted(len(ids) for ids in followed) == [0, 1]
            notices = [r for r in connector.received[seen:] if r.method in ("send", "reply")]
            assert len(notices) == 1
            assert "72 hours have passed" in json.dumps(notices[0].body)
