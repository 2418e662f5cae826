"""A small fake of the Bot Connector service (the `serviceUrl` of an activity), on loopback.

It answers the calls botbuilder's ConnectorClient makes: send/reply to a conversation, update and
delete an activity, create a conversation (new channel thread or 1:1 chat for proactive messages),
and read members. Everything received is kept in `activities` so tests can assert on what the user
would have seen; `wait_for` lets a test wait for replies sent from a background turn.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    method: str  # "send", "reply", "update", "delete", "create"
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]


@dataclass
class FakeConnector:
    host: str = "127.0.0.1"
    received: list[Received] = field(default_factory=list)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> FakeConnector:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._reply)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_delete("/v3/conversations/{cid}/activities/{aid}", self._delete)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        app.router.add_get("/v3/conversations/{cid}/members", self._members)
        self._changed = asyncio.Condition()
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}/"
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # -- what tests read ---------------------------------------------------------------------

    @property
    def activities(self) -> list[dict[str, Any]]:
        return [r.body for r in self.received if r.method in ("send", "reply", "create")]

    def messages(self) -> list[dict[str, Any]]:
        return [a for a in self.activities if a.get("type") == "message"]

    def cards(self) -> list[dict[str, Any]]:
        """Every Adaptive Card content sent or updated, in order."""
        out = []
        for r in self.received:
            body = r.body.get("activity", r.body) if r.method == "create" else r.body
            for attachment in body.get("attachments") or []:
                if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                    out.append(attachment["content"])
        return out

    async def wait_for(self, predicate, timeout: float = 10.0) -> list[Received]:
        """Wait until `predicate(self.received)` is true; return the received list."""
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self.received)), timeout)
        return self.received

    # -- handlers -----------------------------------------------------------------------------

    async def _record(self, method: str, cid: str, aid: str | None, body: dict[str, Any]) -> None:
        assert self._changed is not None
        async with self._changed:
            self.received.append(Received(method, cid, aid, body))
            self._changed.notify_all()

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="body is not JSON") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="body is not an object")
        return body

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        if "type" not in body:
            raise web.HTTPBadRequest(text="activity has no type")
        await self._record("send", request.match_info["cid"], None, body)
        return web.json_response({"id": f"activity-{next(self._ids)}"})

    async def _reply(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        await self._record("reply", request.match_info["cid"], request.match_info["aid"], body)
        return web.json_response({"id": f"activity-{next(self._ids)}"})

    async def _update(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        await self._record("update", request.match_info["cid"], request.match_info["aid"], body)
        return web.json_response({"id": request.match_info["aid"]})

    async def _delete(self, request: web.Request) -> web.Response:
        await self._record("delete", request.match_info["cid"], request.match_info["aid"], {})
        return web.Response(status=200)

    async def _create(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        conversation_id = f"created-conversation-{next(self._ids)}"
        await self._record("create", conversation_id, None, body)
        activity_id = f"activity-{next(self._ids)}" if body.get("activity") else None
        return web.json_response({"id": conversation_id, "activityId": activity_id, "serviceUrl": self.url})

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["mid"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)
        return web.json_response(member)

    async def _members(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.members.values()))
