"""The fake Microsoft Graph and 8x8 a tenant sweep is timed against, in a process of their own.

`python -m bench.sweep_server --certs DIR --users N --rows R --delay S --until ISO` serves a tenant
of N users, each with a Teams number (`+1206555xxxx`), a Teams Phone licence, voice settings and an
8x8 user (one in a hundred with another number in 8x8), and a call log of R calls a day
(`UniformTraffic`: one call in forty fails; here each failure reaches the next user in turn, so a
million calls affect every one of them). Every
answer, Graph's and 8x8's, comes `--delay` seconds late: the network's latency, which the sweep's
floor is made of. It prints one JSON line with the environment that points the product at it, and
serves until its stdin closes.

Why a process of its own, and why replay: as for the call-log scan (`bench.scan_server`),
rendering a page costs more than reading it; so before it answers anyone the server renders every
Graph page a sweep of the 24 hours before `--until` asks for (through the strict fakes, with the
product's own URLs, without the latency) and answers them again with the same bytes, and the
fakes' CPU is not on the product's clock. (8x8's scroll ids are new each time: its ten pages are
rendered each time, off the longest chain.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from yarl import URL

from bench.scan_server import CALL_LOG, ReplayingFakeMicrosoft
from bot.sources.graph import NUMBER_ASSIGNMENTS, SWEEP_USER_SELECT, USER_CONFIGURATIONS
from bot.sources.graph_calls import call_log_url, sweep_windows
from bot.sources.graph_odata import graph_url
from tests.fakes.eightbyeight_server import FakeEightByEight, make_extension, make_user
from tests.fakes.graph_fixtures import graph_user, number_assignment, user_configuration
from tests.fakes.graph_server import FakeTenant, UniformTraffic
from tests.fakes.tls import TestCertificates

PERIOD = timedelta(hours=24)  # what the benchmark sweeps
MISMATCH_EVERY = 100  # one user in this many has another number in 8x8


def user_id(i: int) -> str:
    return f"b0000000-0000-4000-8000-{i:012d}"


def number(i: int) -> str:
    return f"+1206555{i % 10000:04d}"  # UniformTraffic's local numbers: every call is one of theirs


class SpreadTraffic(UniformTraffic):
    """`UniformTraffic` whose failed calls reach every user of the tenant in turn (its own reach a
    few hundred numbers): the more calls, the more people affected, up to all of them — the sweep's
    worst case for memory."""

    def __init__(self, calls_per_day: int, users: int):
        super().__init__(calls_per_day)
        self.users = users

    def _row(self, k: int) -> dict:
        row = super()._row(k)
        if not row["successfulCall"]:
            row["calleeNumber"] = number((k // self.failure_every) % self.users)
        return row


def bench_tenant(users: int, rows: int) -> FakeTenant:
    tenant = FakeTenant()
    for i in range(users):
        upn = f"user{i}@contoso.example"
        tenant.users.append(graph_user(user_id(i), upn, f"User {i:05d}", business_phones=[number(i)]))
        tenant.number_assignments.append(number_assignment(number(i), user_id(i)))
        tenant.user_configurations.append(user_configuration(user_id(i), upn, [number(i)]))
    # `rows` calls a day: a sweep of 24 hours reads about `rows` of them
    tenant.calls = [SpreadTraffic(rows, users)]
    return tenant


def bench_eightbyeight(users: int) -> list[dict]:
    out = []
    for i in range(users):
        mine = number(i) if i % MISMATCH_EVERY else f"+1312555{i % 10000:04d}"
        upn = f"user{i}@contoso.example"
        out.append(make_user(upn, user_id=f"x{i}", extensions=[make_extension(mine, [mine])]))
    return out


class PrerenderedEightByEight(FakeEightByEight):
    """The strict 8x8 fake, each user's JSON written once: its pages are joined, not rendered anew
    (8x8's scroll ids change from sweep to sweep, so its pages cannot be replayed like Graph's, and
    rendering a thousand users a page on this process's one loop would hold Graph's answers up)."""

    def __init__(self, certificates: TestCertificates, *, users: list[dict]):
        super().__init__(certificates, users=users)
        self._written = {id(u): json.dumps(u) for u in self.users}

    def _page(self, matches, offset, page_size, expression):
        response = super()._page([], 0, page_size, expression)  # the envelope, as the fake writes it
        chunk = matches[offset : offset + page_size]
        has_more = offset + page_size < len(matches)
        envelope = json.loads(response.body)
        if has_more:
            next_id = f"scr-{next(self._scroll_ids)}"
            self._scrolls[next_id] = (matches, offset + page_size, page_size, expression)
            envelope["pagination"].update(hasMore=True, nextScrollId=next_id, pageNumber=offset // page_size)
        envelope["data"] = []
        head, tail = json.dumps(envelope).split('"data": []', 1)
        body = head + '"data": [' + ", ".join(self._written[id(u)] for u in chunk) + "]" + tail
        return web.Response(status=200, body=body.encode(), headers=dict(response.headers))


async def render(graph: ReplayingFakeMicrosoft, certificates: TestCertificates, until: datetime) -> int:
    """Ask the fake for every page a sweep of the day before `until` reads, so that it keeps them."""
    status, body, _ = graph._token(
        {
            "grant_type": "client_credentials",
            "client_id": graph.tenant.client_id,
            "client_secret": graph.tenant.client_secret,
            "scope": f"{graph.graph_endpoint}/.default",
        },
        "",
    )
    if status != 200:
        raise RuntimeError(f"the fake would not sign the benchmark in: {body}")
    headers = {"Authorization": f"Bearer {body['access_token']}", "Accept": "application/json"}
    endpoint = graph.graph_endpoint
    firsts = [
        graph_url(endpoint, "users", [("$select", SWEEP_USER_SELECT), ("$top", "999")]),
        graph_url(endpoint, NUMBER_ASSIGNMENTS, [("$top", "1000")]),
        graph_url(endpoint, USER_CONFIGURATIONS, [("$top", "999")]),
        *(call_log_url(endpoint, start, end) for start, end in sweep_windows(until - PERIOD, until)),
    ]
    pages = 0
    connector = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=str(certificates.ca_file)))
    async with aiohttp.ClientSession(connector=connector) as session:
        for first in firsts:
            url: URL | None = first
            while url is not None:
                async with session.get(url, headers=headers) as response:
                    if response.status != 200:
                        raise RuntimeError(f"the fake answered {response.status} for {url}")
                    page = json.loads(await response.read())
                pages += 1
                url = URL(page["@odata.nextLink"], encoded=True) if page.get("@odata.nextLink") else None
    return pages


async def serve(certs: Path, users: int, rows: int, delay: float, until: datetime) -> None:
    certificates = TestCertificates(certs / "ca.pem", certs / "server.pem", certs / "server-key.pem")
    graph = ReplayingFakeMicrosoft(
        certificates,
        bench_tenant(users, rows),
        replay=(CALL_LOG, "/users", "numberAssignments", "userConfigurations"),
    )
    eightbyeight = PrerenderedEightByEight(certificates, users=bench_eightbyeight(users))
    eightbyeight.slow(delay, times=None)
    await graph.start()
    await eightbyeight.start()
    await render(graph, certificates, until)
    graph.delay = delay  # from now on every answer is late by the network's latency
    try:
        print(json.dumps({"env": {**graph.env(), **eightbyeight.env()}}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until stdin closes
    finally:
        await eightbyeight.stop()
        await graph.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep_server")
    parser.add_argument("--certs", type=Path, required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--delay", type=float, required=True)
    parser.add_argument("--until", required=True)
    args = parser.parse_args(argv)
    until = datetime.fromisoformat(args.until).astimezone(UTC)
    asyncio.run(serve(args.certs, args.users, args.rows, args.delay, until))
    return 0


if __name__ == "__main__":
    sys.exit(main())
