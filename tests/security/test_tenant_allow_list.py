"""Tenant allow-list: activities from other tenants get a short refusal and no data.

`ALLOWED_TENANT_IDS` (default: the bot's own tenant when it is registered single-tenant) is checked
before anything else of a turn. The real app runs with inbound authentication on, as in production:
the Bot Connector's token is valid, only the tenant is wrong. Spies on the engine and the access
check show the refusal happens before any lookup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from app import SERVICES
from bot.config import load_settings
from bot.manifest import MESSAGE_EXTENSION_COMMAND_ID, MESSAGE_EXTENSION_PARAMETER
from tests.apphost import DEMO_TENANT, RunningApp, activity, running_app
from tests.security.conftest import APP_ID, APP_PASSWORD
from tests.security.leaks import Victim, diagnosis_shown

OTHER_TENANT = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
THIRD_TENANT = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
REFUSAL = "Voice Doctor is not available for your organisation."
DARA = Victim.from_demo("dara.o'brien@contoso.example")


class Lookups:
    """Counts calls to the engine and the access check: a refused turn must make none."""

    def __init__(self, running: RunningApp):
        services = running.app[SERVICES].bot.services
        self.calls: list[str] = []
        for owner, name in (
            (services.engine, "diagnose"),
            (services.engine, "find_users"),
            (services.access, "helpdesk_status"),
        ):
            setattr(owner, name, self._counting(name, getattr(owner, name)))

    def _counting(self, name: str, method):
        async def counted(*args, **kwargs):
            self.calls.append(name)
            return await method(*args, **kwargs)

        return counted


@asynccontextmanager
async def app_with(env: dict[str, str]) -> AsyncIterator[tuple[RunningApp, Lookups]]:
    settings = load_settings(
        {
            "MicrosoftAppId": APP_ID,
            "MicrosoftAppPassword": APP_PASSWORD,
            "DIAGNOSTICS_SOURCE": "demo",
            **env,
        },
        env_file=None,
    )
    async with running_app(settings) as running:
        yield running, Lookups(running)


SINGLE_TENANT = {"MicrosoftAppType": "SingleTenant", "MicrosoftAppTenantId": DEMO_TENANT}


def from_tenant(service_url: str, tenant: str | None, **kwargs: Any) -> dict[str, Any]:
    body = activity(service_url, **kwargs)
    body["conversation"] = {**body["conversation"], "id": f"a:chat-in-{tenant}", "tenantId": tenant}
    body["channelData"] = {"tenant": {"id": tenant}} if tenant else {}
    if tenant is None:
        del body["conversation"]["tenantId"]
    return body


async def post(app: RunningApp, bot_framework, body: dict[str, Any]) -> tuple[int, str]:
    return await app.post(body, headers=bot_framework.header(body["serviceUrl"]))


async def replies(app: RunningApp, connector) -> list[dict[str, Any]]:
    await app.settle()
    return [r.body for r in connector.received]


# ---------------------------------------------------------------------------------------------


async def test_single_tenant_default_serves_its_own_tenant(bot_framework, connector):
    async with app_with(SINGLE_TENANT) as (app, lookups):
        status, _ = await post(app, bot_framework, from_tenant(connector.url, DEMO_TENANT, text="check sync"))
        assert status == 202
        sent = await replies(app, connector)
    assert diagnosis_shown(sent), "the own tenant gets its diagnosis"
    assert "diagnose" in lookups.calls


@pytest.mark.parametrize(
    "text",
    [
        "check calls for dara.o'brien@contoso.example",
        "check calls for +1 425 555 0104",
        "check sync",
        "cases",
        "help",
    ],
)
async def test_another_tenant_gets_only_a_short_refusal(bot_framework, connector, text):
    async with app_with(SINGLE_TENANT) as (app, lookups):
        status, _ = await post(app, bot_framework, from_tenant(connector.url, OTHER_TENANT, text=text))
        assert status == 202
        sent = await replies(app, connector)
    assert [(m.get("type"), m.get("text"), m.get("attachments")) for m in sent] == [
        ("message", REFUSAL, None)
    ]
    assert lookups.calls == []


async def test_an_activity_without_a_tenant_is_refused(bot_framework, connector):
    async with app_with(SINGLE_TENANT) as (app, lookups):
        await post(app, bot_framework, from_tenant(connector.url, None, text="check sync"))
        sent = await replies(app, connector)
    assert [m.get("text") for m in sent] == [REFUSAL]
    assert lookups.calls == []


async def test_the_tenant_in_the_channel_data_decides(bot_framework, connector):
    """Teams puts the tenant in channelData; an activity naming another one there is refused."""
    async with app_with(SINGLE_TENANT) as (app, lookups):
        body = from_tenant(connector.url, OTHER_TENANT, text="check sync")
        body["conversation"]["tenantId"] = DEMO_TENANT
        await post(app, bot_framework, body)
        sent = await replies(app, connector)
    assert [m.get("text") for m in sent] == [REFUSAL]
    assert lookups.calls == []


ACTION = {
    "action": {
        "type": "Action.Execute",
        "verb": "recheck",
        "data": {"problem": "inbound-calls", "userId": DARA.id},
    }
}
QUERY = {
    "commandId": MESSAGE_EXTENSION_COMMAND_ID,
    "parameters": [{"name": MESSAGE_EXTENSION_PARAMETER, "value": "Dara"}],
    "queryOptions": {"skip": 0, "count": 25},
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("adaptiveCard/action", ACTION),
        ("composeExtension/query", QUERY),
        ("composeExtension/selectItem", {"userId": DARA.id}),
    ],
)
async def test_invokes_from_another_tenant_get_no_data(bot_framework, connector, name, value):
    async with app_with(SINGLE_TENANT) as (app, lookups):
        status, text = await post(
            app,
            bot_framework,
            from_tenant(connector.url, OTHER_TENANT, type="invoke", name=name, value=value),
        )
        sent = await replies(app, connector)
    assert (
        status == 200 and "not available for your organisation" in text
    )  # a refusal in the invoke's own shape
    assert DARA.found_in([text, *sent]) == [] and DARA.display_name not in text
    assert diagnosis_shown([text, *sent]) == []
    assert lookups.calls == []


async def test_installing_in_another_tenant_sends_no_welcome(bot_framework, connector):
    async with app_with(SINGLE_TENANT) as (app, lookups):
        body = from_tenant(
            connector.url, OTHER_TENANT, type="conversationUpdate", membersAdded=[{"id": "28:voice-doctor"}]
        )
        assert (await post(app, bot_framework, body))[0] == 202
        sent = await replies(app, connector)
    assert sent == []
    assert lookups.calls == []


async def test_an_explicit_list_serves_exactly_the_tenants_named(bot_framework, connector):
    env = {"ALLOWED_TENANT_IDS": f" {DEMO_TENANT} , {OTHER_TENANT} "}
    async with app_with(env) as (app, _):
        for tenant in (DEMO_TENANT, OTHER_TENANT, THIRD_TENANT):
            await post(app, bot_framework, from_tenant(connector.url, tenant, text="help"))
        await app.settle()
    by_tenant = {r.conversation_id.removeprefix("a:chat-in-"): r.body for r in connector.received}
    assert by_tenant[THIRD_TENANT].get("text") == REFUSAL and not by_tenant[THIRD_TENANT].get("attachments")
    for tenant in (DEMO_TENANT, OTHER_TENANT):
        assert by_tenant[tenant]["attachments"][0]["content"]["type"] == "AdaptiveCard"


async def test_a_multi_tenant_bot_without_a_list_serves_everyone(bot_framework, connector):
    """The documented default: no list and not single-tenant means no tenant restriction."""
    async with app_with({}) as (app, _):
        await post(app, bot_framework, from_tenant(connector.url, THIRD_TENANT, text="help"))
        sent = await replies(app, connector)
    assert sent[0]["attachments"][0]["content"]["type"] == "AdaptiveCard"
