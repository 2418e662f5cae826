"""The watch in the running bot: the digest in the helpdesk channel, a case per new finding, cases
resolved when calls work again — through the real app, the strict fakes and a fake Bot Connector."""

from __future__ import annotations

import asyncio
import json

from app import SERVICES
from bot.config import load_settings
from bot.watch import LEASE_KEY
from tests.apphost import activity, running_app
from tests.fakes.eightbyeight_server import FakeEightByEight
from tests.fakes.graph_fixtures import Clock, number_assignment
from tests.fakes.graph_server import FakeMicrosoft
from tests.http.graph_helpers import NOW
from tests.http.test_sweep import EXPECTED, MISMATCH, eightbyeight_users, sweep_tenant

CHANNEL = "19:helpdesk-calls@thread.tacv2"


async def settled_cases(services, tenant: str, expected: int) -> list:
    """The cases once the watch's round (in its own task) has opened them all, linked them to the
    digest's thread and handed its lease back: the digest reaches the connector before the round ends."""
    for _ in range(400):
        cases = await services.bot.services.cases.list(tenant_id=tenant)
        lease = (await services.storage.read([LEASE_KEY])).get(LEASE_KEY) or {}
        if len(cases) == expected and all(c.references for c in cases) and not lease.get("owner"):
            return cases
        await asyncio.sleep(0.025)
    return cases


def created(connector) -> list[dict]:
    """The activities that started a thread (in a channel)."""
    return [r.body for r in connector.received if r.method == "create"]


async def test_the_watch_posts_what_is_new_to_the_helpdesk_channel_and_resolves_who_works_again(
    trust_test_ca, connector, tmp_path
):
    clock = Clock(NOW)
    async with (
        FakeMicrosoft(trust_test_ca, sweep_tenant(traffic=500)) as graph,
        FakeEightByEight(trust_test_ca, users=eightbyeight_users()) as eightbyeight,
    ):
        env = {
            **graph.env(),
            **eightbyeight.env(),
            "WATCH_INTERVAL": "15m",
            "HELPDESK_CHANNEL_ID": CHANNEL,
            "STATE_STORE": f"sqlite:///{tmp_path}/state.db",
        }
        settings = load_settings(env, env_file=None)
        async with running_app(settings, clock=clock) as app:
            services = app.app[SERVICES]
            assert created(connector) == []  # nothing heard from the tenant yet: nowhere to post
            await app.post(activity(connector.url, text="help", tenant=graph.tenant.tenant_id))
            await app.settle()
            await connector.wait_for(lambda got: any(r.method == "create" for r in got))
            cases = await settled_cases(services, graph.tenant.tenant_id, len(EXPECTED))

            [digest] = created(connector)
            assert digest["channelData"]["channel"]["id"] == CHANNEL
            text = json.dumps(digest["activity"])
            assert "Voice Doctor watch" in text and f"{len({k[1] for k in EXPECTED})} newly affected" in text
            assert len(cases) == len(EXPECTED)
            assert all(any(r.get("kind") == "watch" for r in c.references) for c in cases)
            mark = next(c for c in cases if c.subject_id == MISMATCH.id)
            assert mark.cause == "number-mismatch" and mark.reporter_name == "Voice Doctor watch"

            clock.advance(minutes=15)  # nothing changed
            assert (await services.watch.run_once()) is not None
            assert len(created(connector)) == 1

            clock.advance(minutes=15)  # Mark's number fixed in Teams
            assignments = graph.tenant.number_assignments
            assignments[:] = [a for a in assignments if a["assignmentTargetId"] != MISMATCH.id]
            assignments.append(number_assignment(MISMATCH.eight, MISMATCH.id))
            await services.watch.run_once()
            assert len(created(connector)) == 2
            text = json.dumps(created(connector)[-1]["activity"])
            assert "1 working again" in text and "Mark Mismatch: inbound calls work again" in text
            mark = await services.bot.services.cases.get(mark.id)
            assert mark.status == "resolved"


async def test_no_watch_without_watch_interval(connector, tmp_path):
    settings = load_settings(
        {
            "DIAGNOSTICS_SOURCE": "demo",
            "HELPDESK_CHANNEL_ID": CHANNEL,
            "STATE_STORE": f"sqlite:///{tmp_path}/s.db",
        },
        env_file=None,
    )
    async with running_app(settings) as app:
        assert app.app[SERVICES].watch is None
        await app.post(activity(connector.url, text="help"))
        await app.settle()
    assert created(connector) == []


async def test_the_demo_watch_posts_its_findings_once_the_bot_has_heard_from_the_tenant(connector, tmp_path):
    settings = load_settings(
        {
            "DIAGNOSTICS_SOURCE": "demo",
            "WATCH_INTERVAL": "1m",
            "HELPDESK_CHANNEL_ID": CHANNEL,
            "STATE_STORE": f"sqlite:///{tmp_path}/s.db",
        },
        env_file=None,
    )
    async with running_app(settings) as app:
        await app.post(
            activity(connector.url, type="conversationUpdate", membersAdded=[{"id": "28:voice-doctor"}])
        )
        await app.settle()
        await connector.wait_for(lambda got: any(r.method == "create" for r in got))
        text = json.dumps(created(connector)[0]["activity"])
        assert "Voice Doctor watch" in text and "Adele Vance" in text and "Demo data" in text
        watch = app.app[SERVICES].watch
        assert watch.running
    assert len(created(connector)) == 1
