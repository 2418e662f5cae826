"""Nothing blocks the event loop: one conversation waiting for something never stalls the others.

The app runs live with inbound auth on (tests/security/openid.py publishes the signing keys). The
SDK used to fetch those keys with blocking `requests` on the event loop, and to fetch the outbound
connector token there too (bot/connector_auth.py moves both into worker threads). These tests are
ordered, not timed: the key endpoint holds its answer until the test releases it, and the other
conversations must be answered while it is still holding — with a blocked loop they could not be.
A last test runs a turn of every kind with guards that record any blocking call (`requests`,
`sqlite3`, `open`, `time.sleep`) made on the event loop's own thread.
"""

from __future__ import annotations

import asyncio
import builtins
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import requests
from botframework.connector.auth import ChannelValidation, MicrosoftAppCredentials
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

from bot.config import load_settings
from bot.connector_auth import REFRESH_AFTER_S, RETRY_AFTER_S, UNKNOWN_KEY_EVERY_S, SigningKeys
from bot.sources.base import NoPortal
from bot.sources.eightbyeight import EightByEightApiSource
from bot.sources.factory import Sources
from bot.sources.graph import GraphSource
from bot.sources.http import HttpClient
from tests.apphost import DEMO_TENANT, MEGAN, RunningApp, activity, running_app
from tests.fakes.connector import FakeConnector
from tests.fakes.graph_fixtures import ADELE, HELPDESK_GROUP, HELPER
from tests.security.conftest import APP_ID, APP_PASSWORD, OUTBOUND_TOKEN
from tests.security.faults import fakes
from tests.security.openid import OpenIdServer, SigningKey, TokenMinter

OTHERS = 5  # conversations that must go on while one waits
HELPDESK_SENDER = {"id": "29:grady-archie", "name": "Grady Archie", "aadObjectId": HELPER.id}


class FakeMonotonic:
    """The clock `SigningKeys` measures key ages on, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Bot:
    app: RunningApp
    keys: OpenIdServer
    minter: TokenMinter
    clock: FakeMonotonic
    connector: FakeConnector

    async def say(self, conversation: str, text: str = "help", key: SigningKey | None = None) -> int:
        body = activity(self.connector.url, text=text, conversation=personal(conversation))
        status, _ = await self.app.post(body, headers=self.minter.header(self.connector.url, key=key))
        return status

    async def answered(self, conversation: str) -> None:
        await self.connector.wait_for(
            lambda received: any(r.conversation_id == conversation for r in received)
        )


def personal(conversation: str) -> dict:
    return {"id": conversation, "conversationType": "personal", "tenantId": DEMO_TENANT}


@pytest.fixture
def signing_keys(test_certificates, bot_framework, monkeypatch) -> Iterator[OpenIdServer]:
    """A key server of this test's own (a new metadata URL, so the SDK's cache starts empty)."""
    server = OpenIdServer(test_certificates, channel_keys=[SigningKey.generate()], emulator_keys=[]).start()
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", server.channel_metadata_url)
    yield server
    server.stop()


@pytest.fixture
async def bot(signing_keys, connector, monkeypatch) -> AsyncIterator[Bot]:
    clock = FakeMonotonic()
    monkeypatch.setattr(SigningKeys, "monotonic", clock)
    settings = load_settings(
        {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": APP_PASSWORD, "DIAGNOSTICS_SOURCE": "demo"},
        env_file=None,
    )
    async with running_app(settings) as app:
        bot = Bot(app, signing_keys, TokenMinter(APP_ID, signing_keys.channel_keys[0]), clock, connector)
        assert await bot.say("a:warm-up") == 202  # the first activity fetches the keys
        await bot.answered("a:warm-up")
        yield bot
        signing_keys.hold_keys.clear()


async def test_while_a_rotated_key_is_fetched_slowly_other_conversations_are_answered(bot: Bot):
    """A token signed with a key published since the last fetch makes its request wait for the key
    endpoint; tokens signed with the keys in hand go on at once."""
    rotated = SigningKey.generate()
    bot.keys.channel_keys.append(rotated)
    bot.clock.now += UNKNOWN_KEY_EVERY_S + 1  # an unknown key id may refetch once an hour
    answered_before = bot.keys.keys_answered
    bot.keys.hold_keys.set()

    fetched_before = bot.keys.requests.count("/v1/.well-known/keys")
    waiting = asyncio.create_task(bot.say("a:rotated", key=rotated))
    await _until(lambda: bot.keys.requests.count("/v1/.well-known/keys") > fetched_before)  # held there
    for n in range(OTHERS):
        assert await bot.say(f"a:other-{n}") == 202
        await bot.answered(f"a:other-{n}")
    assert bot.keys.keys_answered == answered_before, "the others were answered only after the keys"
    assert not waiting.done()  # it is the one waiting for the key endpoint

    bot.keys.hold_keys.clear()
    assert await waiting == 202
    await bot.answered("a:rotated")
    assert bot.keys.keys_answered == answered_before + 1


async def test_keys_due_for_refresh_serve_while_one_background_refresh_runs(bot: Bot):
    keys = JwtTokenExtractor.metadataCache[bot.keys.channel_metadata_url]
    answered_before = bot.keys.keys_answered
    bot.clock.now += REFRESH_AFTER_S + 1
    bot.keys.hold_keys.set()

    fetches = []
    for n in range(OTHERS):
        assert await bot.say(f"a:daily-{n}") == 202
        await bot.answered(f"a:daily-{n}")
        fetches.append(keys._fetch)
    assert bot.keys.keys_answered == answered_before, "the turns were answered only after the keys"
    assert all(fetch is fetches[0] for fetch in fetches)  # one refresh, shared
    assert not fetches[0].done()

    bot.keys.hold_keys.clear()
    await _until(fetches[0].done)
    assert fetches[0].exception() is None and bot.keys.keys_answered == answered_before + 1
    assert await bot.say("a:after-refresh") == 202
    await bot.answered("a:after-refresh")
    assert keys._fetch is fetches[0]  # fresh again: no other fetch


async def test_a_failed_refresh_keeps_the_keys_in_hand_and_is_retried_later_not_every_turn(bot: Bot):
    keys = JwtTokenExtractor.metadataCache[bot.keys.channel_metadata_url]
    bot.keys.keys_status = 503
    bot.clock.now += REFRESH_AFTER_S + 1

    fetches = []
    for n in range(3):
        assert await bot.say(f"a:down-{n}") == 202  # the keys in hand still validate the token
        await bot.answered(f"a:down-{n}")
        fetches.append(keys._fetch)
    assert fetches[0] is fetches[1] is fetches[2]  # one refresh for the three turns
    await _until(lambda: fetches[0].done())
    assert isinstance(fetches[0].exception(), requests.HTTPError)

    assert await bot.say("a:still-down") == 202  # within RETRY_AFTER_S of the failure: no new fetch
    await bot.answered("a:still-down")
    assert keys._fetch is fetches[0]

    bot.keys.keys_status = 200
    bot.clock.now += RETRY_AFTER_S + 1
    assert await bot.say("a:retried") == 202
    await bot.answered("a:retried")
    retry = keys._fetch
    assert retry is not fetches[0]
    await _until(retry.done)
    assert retry.exception() is None

    bot.clock.now += REFRESH_AFTER_S - 1  # fresh keys: no fetch for a day
    assert await bot.say("a:fresh") == 202
    await bot.answered("a:fresh")
    assert keys._fetch is retry


async def test_the_outbound_token_is_fetched_off_the_loop_and_reused(bot_framework, connector, monkeypatch):
    fetched_on_loop: list[bool] = []

    def get_access_token(self, force_refresh: bool = False) -> str:
        fetched_on_loop.append(asyncio._get_running_loop() is not None)
        return OUTBOUND_TOKEN

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", get_access_token)
    settings = load_settings(
        {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": APP_PASSWORD, "DIAGNOSTICS_SOURCE": "demo"},
        env_file=None,
    )
    async with running_app(settings) as app:
        for n in range(3):
            body = activity(connector.url, text="help", conversation=personal(f"a:token-{n}"))
            status, _ = await app.post(body, headers=bot_framework.header(connector.url))
            assert status == 202
            await app.settle()
    assert len(connector.messages()) == 3
    assert fetched_on_loop == [False]  # once, in a worker thread, for all three replies


# ---------------------------------------------------------------------------------------------
# Guards: blocking calls on the event loop's thread


@dataclass
class Blocking:
    calls: list[str]

    def note(self, what: str) -> None:
        if asyncio._get_running_loop() is not None:
            self.calls.append(what)


@pytest.fixture
def blocking_calls(monkeypatch) -> Blocking:
    """Records `requests`, `sqlite3`, `open` and `time.sleep` calls made on an event loop's thread."""
    found = Blocking([])
    send, real_open, real_sleep, connect = (
        requests.Session.send,
        builtins.open,
        time.sleep,
        sqlite3.connect,
    )

    def guarded_send(session, request, **kwargs):
        found.note(f"requests {request.method} {request.url}")
        return send(session, request, **kwargs)

    def guarded_open(file, *args, **kwargs):
        found.note(f"open {file}")
        return real_open(file, *args, **kwargs)

    def guarded_sleep(seconds):
        found.note(f"time.sleep({seconds})")
        return real_sleep(seconds)

    class GuardedConnection(sqlite3.Connection):
        def execute(self, *args, **kwargs):
            found.note(f"sqlite3 {args[0].split()[0] if args else ''}")
            return super().execute(*args, **kwargs)

    def guarded_connect(*args, **kwargs):
        found.note("sqlite3.connect")
        return connect(*args, factory=GuardedConnection, **kwargs)

    monkeypatch.setattr(requests.Session, "send", guarded_send)
    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(time, "sleep", guarded_sleep)
    monkeypatch.setattr(sqlite3, "connect", guarded_connect)
    return found


@pytest.fixture(params=["demo", "live"])
async def sources(request, trust_test_ca) -> AsyncIterator[tuple[dict[str, str], Sources | None]]:
    """The demo tenant, or the live Graph and 8x8 sources against the local fakes (msal included)."""
    if request.param == "demo":
        yield {"DIAGNOSTICS_SOURCE": "demo"}, None
        return
    async with fakes(trust_test_ca) as (microsoft, eightbyeight):
        env = {**microsoft.env(), **eightbyeight.env(), "HELPDESK_GROUP_ID": HELPDESK_GROUP}
        settings = load_settings(env, env_file=None)
        http = HttpClient()
        try:
            graph, eight = GraphSource(settings, http), EightByEightApiSource(settings, http)
            yield env, Sources(graph, eight, NoPortal(), "live")
        finally:
            await http.close()


async def test_no_turn_makes_a_blocking_call_on_the_event_loop(
    signing_keys, sources, connector, blocking_calls
):
    """Every kind of turn, with inbound auth on (the keys fetched cold) and durable SQLite state."""
    env, live = sources
    settings = load_settings(
        {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": APP_PASSWORD, **env}, env_file=None
    )
    user = "adele@contoso.example" if live is None else ADELE.upn
    async with running_app(settings, sources=live) as app:
        header = TokenMinter(APP_ID, signing_keys.channel_keys[0]).header(connector.url)
        sender = MEGAN if live is None else HELPDESK_SENDER
        tenant = DEMO_TENANT if live is None else settings.graph_tenant_id

        def turn(**fields) -> dict:
            return activity(connector.url, sender=sender, tenant=tenant, **fields)

        bodies = [
            turn(text="help"),
            turn(text=f"check calls for {user}"),
            turn(text="check sync"),
            turn(text="cases"),
            turn(text="my calls don't ring"),
            turn(type="conversationUpdate", membersAdded=[{"id": "28:voice-doctor"}]),
            turn(
                type="invoke",
                name="composeExtension/query",
                value={"commandId": "searchUsers", "parameters": [{"name": "query", "value": "adele"}]},
            ),
        ]
        for body in bodies:
            status, answer = await app.post(body, headers=header)
            assert status in (200, 202), (status, answer, body)
            await app.settle()
        recheck = _action_data(connector.cards(), "recheck")
        assert recheck is not None, [card.get("fallbackText") for card in connector.cards()]
        invoke = turn(
            type="invoke",
            name="adaptiveCard/action",
            value={"action": {"type": "Action.Execute", "verb": "recheck", "data": recheck}},
        )
        status, answer = await app.post(invoke, headers=header)
        assert status == 200, (status, answer)
    assert len(connector.cards()) >= 6, [card.get("fallbackText") for card in connector.cards()]
    assert blocking_calls.calls == []


def _action_data(cards: list[dict], verb: str) -> dict | None:
    found: list[dict] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute" and node.get("verb") == verb:
                found.append(node.get("data") or {})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(cards)
    return found[0] if found else None


async def _until(condition) -> None:
    async def poll() -> None:
        while not condition():  # noqa: ASYNC110 - the key server runs in another thread
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 30)
