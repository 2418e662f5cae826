"""HttpClient's lifecycle: `close()` is final, and a request after it is refused, not sent on a new session.

A plain-HTTP aiohttp server on loopback stands in for the services (TLS is covered by tests/http).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.diagnosis.errors import SourceUnavailable
from bot.sources.http import HttpClient, RetryPolicy

FAST = RetryPolicy(attempts=3, total_seconds=10.0, request_timeout=5.0, base_backoff=0.01)


class Server:
    """Answers `/ok` with 200, `/busy` with 503, `/slow` after `release` is set."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.release = asyncio.Event()
        self.arrived = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        if request.path == "/busy":
            return web.json_response({"error": "busy"}, status=503)
        if request.path == "/slow":
            self.arrived.set()
            await self.release.wait()
        return web.json_response({"ok": True})

    async def __aenter__(self) -> Server:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with Server() as running:
        yield running


async def test_a_request_after_close_is_refused_and_opens_no_session(server):
    client = HttpClient(FAST)
    assert (await client.request("GET", f"{server.url}/ok")).status == 200
    first = client.session
    await client.close()
    assert first.closed and client.closed

    with pytest.raises(SourceUnavailable, match="the HTTP client is closed") as caught:
        await client.request("GET", f"{server.url}/ok", what="reading the users")
    assert str(caught.value) == "reading the users failed: the HTTP client is closed"
    assert not caught.value.retryable  # trying again cannot help
    with pytest.raises(SourceUnavailable, match="^the HTTP client is closed$"):
        client.session  # noqa: B018 - the property itself refuses
    assert server.hits == ["/ok"]
    assert client._session is None  # no new session was opened (it would never be closed)


async def test_close_before_any_request_and_twice(server):
    client = HttpClient(FAST)
    await client.close()
    await client.close()
    with pytest.raises(SourceUnavailable, match="closed"):
        await client.request("GET", f"{server.url}/ok")
    assert server.hits == []


async def test_closed_while_waiting_to_retry_sends_no_retry(server):
    client = HttpClient(FAST)

    async def close_instead_of_sleeping(seconds: float) -> None:
        await client.close()

    client._sleep = close_instead_of_sleeping
    with pytest.raises(SourceUnavailable, match="the HTTP client is closed"):
        await client.request("GET", f"{server.url}/busy")
    assert server.hits == ["/busy"]
    assert client._session is None


async def test_closed_while_a_request_is_in_flight(server):
    client = HttpClient(FAST)
    pending = asyncio.create_task(client.request("GET", f"{server.url}/slow"))
    await asyncio.wait_for(server.arrived.wait(), 5)
    await client.close()
    server.release.set()

    with pytest.raises(SourceUnavailable, match="the HTTP client is closed"):
        await asyncio.wait_for(pending, 5)
    assert server.hits == ["/slow"]
    assert client._session is None


async def test_proxies_come_from_the_environment_once_per_host(monkeypatch):
    """As aiohttp's `trust_env` reads them (HTTPS_PROXY, NO_PROXY), but not on every request."""
    for name in ("https_proxy", "http_proxy", "no_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.corp.example")
    client = HttpClient()

    proxy, auth = await client._proxy_for("https://graph.microsoft.com/v1.0/users")
    assert str(proxy) == "http://proxy.corp.example:3128" and auth is not None and auth.login == "user"
    assert await client._proxy_for("https://internal.corp.example/x") == (None, None)

    monkeypatch.delenv("HTTPS_PROXY")  # read once per host: the answer is kept
    assert (await client._proxy_for("https://graph.microsoft.com/v1.0/domains"))[0] == proxy
    assert await HttpClient()._proxy_for("https://graph.microsoft.com/v1.0/users") == (None, None)
