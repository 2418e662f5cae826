"""Inbound authentication: with `MicrosoftAppId` set, only a token the Bot Connector signed gets in.

The real app runs on loopback with the SDK's own validation; its OpenID metadata points at a local
server publishing our signing keys (tests/security/openid.py). Each forged request must get 401,
and nothing of it may be processed: the bot's turn handler is never called and the fake Bot
Connector receives nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from app import SERVICES
from bot.config import load_settings
from tests.apphost import RunningApp, activity, running_app
from tests.security.conftest import APP_ID, APP_PASSWORD
from tests.security.openid import EMULATOR_ISSUER, TokenMinter

ANOTHER_APP_ID = "0a9b8c7d-6e5f-4a3b-9c1d-2e3f4a5b6c7d"


@pytest.fixture
async def app(bot_framework) -> AsyncIterator[RunningApp]:
    settings = load_settings(
        {
            "MicrosoftAppId": APP_ID,
            "MicrosoftAppPassword": APP_PASSWORD,
            "DIAGNOSTICS_SOURCE": "demo",
        },
        env_file=None,
    )
    async with running_app(settings) as running:
        yield running


@pytest.fixture
def turns(app) -> list[str]:
    """Every activity the bot's turn handler is called with (by id)."""
    services = app.app[SERVICES]
    seen: list[str] = []
    original = services.bot.on_turn

    async def counting(turn_context):
        seen.append(turn_context.activity.id)
        return await original(turn_context)

    services.bot.on_turn = counting  # the route looks the handler up on every request
    return seen


def help_message(connector_url: str) -> dict[str, Any]:
    return activity(connector_url, text="help")


def action_invoke(connector_url: str) -> dict[str, Any]:
    return activity(
        connector_url,
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "recheck", "data": {"problem": "sync-error"}}},
    )


ACTIVITIES = {"message": help_message, "invoke": action_invoke}


# ---------------------------------------------------------------------------------------------
# The genuine article


async def test_a_token_signed_by_the_bot_connector_is_accepted(
    app, connector, bot_framework, openid_server, turns
):
    body = help_message(connector.url)
    status, _ = await app.post(body, headers=bot_framework.header(connector.url))

    assert status == 202
    await connector.wait_for(lambda received: any(r.body.get("attachments") for r in received))
    assert "check calls for" in json.dumps(connector.cards()[-1])
    assert turns == [body["id"]]
    assert "/v1/.well-known/keys" in openid_server.requests  # validated against the local keys


async def test_an_invoke_with_a_valid_token_gets_its_answer(app, connector, bot_framework, turns):
    body = action_invoke(connector.url)
    status, text = await app.post(body, headers=bot_framework.header(connector.url))

    assert status == 200
    assert json.loads(text)["type"] == "application/vnd.microsoft.card.adaptive"
    assert turns == [body["id"]]


# ---------------------------------------------------------------------------------------------
# Forgeries


def forged_headers(minter: TokenMinter, keys, service_url: str) -> dict[str, dict[str, str]]:
    """name -> the headers a forger would send, each wrong in one way."""
    now = int(time.time())

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    valid = minter.token(service_url)
    head, payload, signature = valid.split(".")
    other = minter.token(service_url, aud=ANOTHER_APP_ID).split(".")[1]
    return {
        "no header": {},
        "empty bearer": {"Authorization": "Bearer "},
        "basic scheme": {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="},
        "lower-case scheme": {"Authorization": f"bearer {valid}"},
        "token without scheme": {"Authorization": valid},
        "garbage": bearer("not-a-token"),
        "three garbage parts": bearer("a.b.c"),
        "alg none": bearer(minter.token(service_url, algorithm="none")),
        "alg none, signature kept": bearer(minter.token(service_url, algorithm="none") + signature),
        "HS256 with the public key as secret": bearer(minter.token(service_url, algorithm="HS256")),
        "wrong issuer": bearer(minter.token(service_url, iss="https://api.botframework.com.evil.example")),
        "no issuer": bearer(minter.token(service_url, iss=None)),
        "wrong audience": bearer(minter.token(service_url, aud=ANOTHER_APP_ID)),
        "no audience": bearer(minter.token(service_url, aud=None)),
        "expired": bearer(minter.token(service_url, nbf=now - 7200, exp=now - 3600)),
        "not yet valid": bearer(minter.token(service_url, nbf=now + 3600, exp=now + 7200)),
        "unknown key": bearer(minter.token(service_url, key=keys.unpublished)),
        "unknown key with a published kid": bearer(
            minter.token(service_url, key=keys.unpublished, kid=keys.channel.kid)
        ),
        "no key id": bearer(minter.token(service_url, kid="")),
        "payload swapped after signing": bearer(f"{head}.{other}.{signature}"),
        "key not endorsed for Teams": bearer(minter.token(service_url, key=keys.webchat_only)),
        "another bot's service URL": bearer(minter.token("https://smba.trafficmanager.net/evil/")),
        "no service URL claim": bearer(minter.token(service_url, serviceurl=None)),
        "Emulator issuer, unknown key": bearer(
            minter.token(service_url, key=keys.unpublished, iss=EMULATOR_ISSUER, ver="1.0", appid=APP_ID)
        ),
        "Emulator issuer, channel key": bearer(
            minter.token(service_url, iss=EMULATOR_ISSUER, ver="1.0", appid=APP_ID)
        ),
        "Emulator token for another app": bearer(
            minter.token(service_url, key=keys.emulator, iss=EMULATOR_ISSUER, ver="1.0", appid=ANOTHER_APP_ID)
        ),
        "skill token (another bot calling)": bearer(
            minter.token(service_url, ver="1.0", appid=ANOTHER_APP_ID)
        ),
    }


FORGERIES = [
    "no header",
    "empty bearer",
    "basic scheme",
    "lower-case scheme",
    "token without scheme",
    "garbage",
    "three garbage parts",
    "alg none",
    "alg none, signature kept",
    "HS256 with the public key as secret",
    "wrong issuer",
    "no issuer",
    "wrong audience",
    "no audience",
    "expired",
    "not yet valid",
    "unknown key",
    "unknown key with a published kid",
    "no key id",
    "payload swapped after signing",
    "key not endorsed for Teams",
    "another bot's service URL",
    "no service URL claim",
    "Emulator issuer, unknown key",
    "Emulator issuer, channel key",
    "Emulator token for another app",
    "skill token (another bot calling)",
]


@pytest.mark.parametrize("kind", sorted(ACTIVITIES))
@pytest.mark.parametrize("forgery", FORGERIES)
async def test_a_forged_request_gets_401_and_nothing_is_processed(
    app, connector, bot_framework, bot_framework_keys, turns, forgery, kind
):
    make: Callable[[str], dict[str, Any]] = ACTIVITIES[kind]
    headers = forged_headers(bot_framework, bot_framework_keys, connector.url)[forgery]

    status, text = await app.post(make(connector.url), headers=headers)

    assert (status, json.loads(text)) == (401, {"error": "Unauthorized."})
    assert app.app[SERVICES].background == set()
    # A genuine request afterwards is served: by the time its reply arrives, anything the forged
    # one had set off would have had its turn too.
    genuine = help_message(connector.url)
    genuine["conversation"]["id"] = "a:genuine"
    assert (await app.post(genuine, headers=bot_framework.header(connector.url)))[0] == 202
    await connector.wait_for(lambda received: any(r.conversation_id == "a:genuine" for r in received))
    await app.settle()
    assert turns == [genuine["id"]]
    assert {r.conversation_id for r in connector.received} == {"a:genuine"}


async def test_the_forgery_list_is_complete(bot_framework, bot_framework_keys):
    assert sorted(forged_headers(bot_framework, bot_framework_keys, "https://x.example/")) == sorted(
        FORGERIES
    )


async def test_an_unauthenticated_request_is_refused_before_its_body_is_read(app, turns):
    big = json.dumps({"type": "message", "text": "x" * (2 * 1024 * 1024)}).encode()
    for raw in (big, b"not json at all"):
        status, text = await app.post(None, raw=raw, headers={"Content-Type": "application/json"})
        assert (status, json.loads(text)) == (401, {"error": "Unauthorized."})
    assert turns == []


async def test_a_401_says_which_scheme_to_use(app):
    async with app.session.post(f"{app.url}/api/messages", json={"type": "message"}) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_with_a_valid_token_a_bad_body_is_still_400(app, connector, bot_framework):
    body = help_message(connector.url)
    del body["channelId"]  # the endorsement check needs the channel
    status, text = await app.post(body, headers=bot_framework.header(connector.url))
    assert (status, json.loads(text)) == (400, {"error": "The activity has no channelId."})


async def test_the_server_stays_healthy_after_a_volley_of_forgeries(
    app, connector, bot_framework, bot_framework_keys, turns
):
    forged = forged_headers(bot_framework, bot_framework_keys, connector.url)
    for name in FORGERIES:
        assert (await app.post(help_message(connector.url), headers=forged[name]))[0] == 401
    async with app.session.get(f"{app.url}/healthz") as response:
        assert response.status == 200 and (await response.json())["auth"] == "on"
    assert turns == []
