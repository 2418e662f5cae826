"""Run the real aiohttp app on loopback and talk to it as the Bot Connector / Teams would."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from app import SERVICES
from bot.config import Settings

DEFAULT_STATE_STORE = Settings().state_store

DEMO_TENANT = "00000000-0000-0000-0000-0000000c0de0"
BOT = {"id": "28:voice-doctor", "name": "Voice Doctor"}
MEGAN = {"id": "29:megan-bowen", "name": "Megan Bowen", "aadObjectId": "00000000-0000-0000-0000-00000000a001"}
ADELE = {"id": "29:adele-vance", "name": "Adele Vance", "aadObjectId": "00000000-0000-0000-0000-00000000a002"}
ALEX = {"id": "29:alex-wilber", "name": "Alex Wilber", "aadObjectId": "00000000-0000-0000-0000-00000000a010"}
_ids = itertools.count(1)


def activity(
    service_url: str,
    *,
    text: str | None = None,
    type: str = "message",
    sender: dict[str, Any] = MEGAN,
    conversation: dict[str, Any] | None = None,
    value: Any = None,
    name: str | None = None,
    tenant: str = DEMO_TENANT,
    **extra: Any,
) -> dict[str, Any]:
    """A Teams-shaped activity from `sender` to the bot, in a personal chat unless told otherwise."""
    body: dict[str, Any] = {
        "type": type,
        "id": f"incoming-{next(_ids)}",
        "timestamp": "2026-11-23T14:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": dict(sender),
        "recipient": dict(BOT),
        "conversation": conversation
        or {"id": f"a:personal-{sender['id']}", "conversationType": "personal", "tenantId": tenant},
        "channelData": {"tenant": {"id": tenant}},
        "locale": "en-US",
    }
    if text is not None:
        body["text"] = text
    if value is not None:
        body["value"] = value
    if name is not None:
        body["name"] = name
    body.update(extra)
    return body


def channel_conversation(thread: str = "19:helpdesk-calls@thread.tacv2") -> dict[str, Any]:
    return {
        "id": f"{thread};messageid=1700000000000",
        "conversationType": "channel",
        "isGroup": True,
        "tenantId": DEMO_TENANT,
    }


def mention_entity(bot: dict[str, Any] = BOT) -> dict[str, Any]:
    return {"type": "mention", "text": f"<at>{bot['name']}</at>", "mentioned": dict(bot)}


@dataclass
class RunningApp:
    url: str
    app: web.Application
    session: aiohttp.ClientSession

    async def post(self, body: Any, *, raw: bytes | None = None, headers: dict[str, str] | None = None):
        data = raw if raw is not None else None
        kwargs: dict[str, Any] = {"data": data} if raw is not None else {"json": body}
        async with self.session.post(f"{self.url}/api/messages", headers=headers, **kwargs) as response:
            text = await response.text()
            return response.status, text

    async def settle(self) -> None:
        """Wait until every background turn the app started has finished."""
        background = self.app[SERVICES].background
        while background:
            await asyncio.wait(set(background), timeout=30)


@contextlib.asynccontextmanager
async def running_app(settings: Settings, *, sources=None, clock=None) -> AsyncIterator[RunningApp]:
    """The app as `python app.py` builds it (durable state in a temporary SQLite file unless
    `settings.state_store` names another store), served on a free loopback port."""
    from app import make_app

    with tempfile.TemporaryDirectory(prefix="voice-doctor-app-") as tmp:
        if settings.state_store == DEFAULT_STATE_STORE:
            settings = dataclasses.replace(settings, state_store=f"sqlite:///{tmp}/state.db")
        app = await make_app(settings, sources=sources, clock=clock)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        async with aiohttp.ClientSession() as session:
            try:
                yield RunningApp(f"http://127.0.0.1:{port}", app, session)
            finally:
                await runner.cleanup()
