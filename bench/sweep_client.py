"""One size of the tenant sweep, measured in a process of its own (for its peak memory).

`python -m bench.sweep_client --certs DIR --users N --rows R --delay S` starts `bench.sweep_server`
for that tenant, then:

1. signs in (the server has rendered every page a sweep of the last 24 hours reads);
2. measures the paging floor: the call log's pages fetched one after another by the thinnest
   client there is (aiohttp, the token, the next link read off the end of each page, nothing
   else) — the sum of the round trips that depend on each other, at the fakes' latency;
3. sweeps again, timed, with fresh sources (`GraphSource`, `EightByEightApiSource`); floor and
   sweep alternate `--repeats` times (the machine is shared) and the best of each is kept;
4. prints one JSON line: rows, pages, the sweep's seconds, the floor, their ratio, the people
   affected and this process's peak RSS (VmHWM).

The users, numbers, voice settings and 8x8's scroll are read while the call log is, and are a
tenth as long: the call log's chain is the floor. It is not paced here: the fake does not
throttle, and against Microsoft the pace (200 requests a minute) is the floor itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from bench.measure import client_main, peak_rss_mb, served
from bot.config import load_settings
from bot.diagnosis.sweep import Sweeper
from bot.sources.base import NoPortal
from bot.sources.eightbyeight import EightByEightApiSource
from bot.sources.graph import GraphSource
from bot.sources.graph_auth import GraphTokenProvider
from bot.sources.graph_calls import call_log_url, peek_next_link, sweep_windows
from bot.sources.http import HttpClient, RetryPolicy, ssl_context
from bot.sources.pacing import Pacer
from tests.fakes.graph_server import UniformTraffic

UNTIL = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
PERIOD = timedelta(hours=24)
POLICY = RetryPolicy(attempts=2, total_seconds=120.0, request_timeout=60.0)


class SweepError(RuntimeError):
    """The sweep did not read what the fake holds: the numbers would be meaningless."""


async def sweep_once(settings, tokens: GraphTokenProvider, http: HttpClient, rows: int) -> dict[str, Any]:
    """One timed sweep with fresh sources; it must read every call and find the tenant's failures."""
    microsoft = GraphSource(settings, http, tokens=tokens, call_log_pace=Pacer(None), clock=lambda: UNTIL)
    sweeper = Sweeper(
        microsoft, EightByEightApiSource(settings, http), NoPortal(), data_source="live", clock=lambda: UNTIL
    )
    started = time.perf_counter()
    result = await sweeper.sweep(PERIOD)
    wall = time.perf_counter() - started
    report = result.report
    expected = UniformTraffic(rows).count(UNTIL - PERIOD, UNTIL)
    if not report.complete or report.counted.call_rows != expected or not report.findings:
        raise SweepError(
            f"the sweep read {report.counted.call_rows} of {expected} calls (complete: {report.complete}; "
            f"notes: {report.notes})"
        )
    return {"wall": wall, "pages": report.counted.pages, "affected": report.affected, "rows": expected}


async def bare_paging(settings, tokens: GraphTokenProvider) -> tuple[float, int]:
    """The floor: every page of the period's call log, fetched one after another with nothing done
    to them but reading the next link off their end."""
    token = await tokens.token()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    urls = [
        call_log_url(settings.graph_endpoint, start, end)
        for start, end in sweep_windows(UNTIL - PERIOD, UNTIL)
    ]
    connector = aiohttp.TCPConnector(ssl=ssl_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        started, pages = time.perf_counter(), 0
        for first in urls:
            url: URL | None = first
            while url is not None:
                async with session.get(url, headers=headers) as response:
                    body = await response.read()
                pages += 1
                link = peek_next_link(body)
                url = URL(link, encoded=True) if link else None
        return time.perf_counter() - started, pages


async def measure(certs: Path, users: int, rows: int, delay: float, repeats: int) -> dict[str, Any]:
    args = ["--certs", str(certs), "--users", str(users), "--rows", str(rows), "--delay", str(delay)]
    # the server renders every page before it answers: minutes for a million rows
    async with served(
        "bench.sweep_server", [*args, "--until", UNTIL.isoformat()], start_timeout=600
    ) as server:
        settings = load_settings(server["env"], env_file=None)
        http = HttpClient(POLICY)
        tokens = GraphTokenProvider(settings)
        try:
            await tokens.token()
            floors, runs = [], []
            for _ in range(repeats):
                floors.append(await bare_paging(settings, tokens))
                runs.append(await sweep_once(settings, tokens, http, rows))
        finally:
            await http.close()
    best = min(runs, key=lambda r: r["wall"])
    floor, floor_pages = min(floors)
    if floor_pages != best["pages"]:
        raise SweepError(f"the sweep read {best['pages']} pages where paging alone reads {floor_pages}")
    return {
        "users": users,
        "rows": best["rows"],
        "pages": best["pages"],
        "sweep_s": best["wall"],
        "floor_s": floor,
        "latency_floor_s": best["pages"] * delay,  # the fakes' latency alone, for comparison
        "ratio": best["wall"] / floor,
        "affected": best["affected"],
        "rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep_client")
    parser.add_argument("--certs", type=Path, required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--delay", type=float, required=True)
    parser.add_argument("--repeats", type=int, default=1)
    return client_main(
        parser, lambda args: measure(args.certs, args.users, args.rows, args.delay, args.repeats), argv
    )


if __name__ == "__main__":
    sys.exit(main())
