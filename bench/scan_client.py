"""One size of the call-log scan, measured in a process of its own (for its peak memory).

`python -m bench.scan_client --certs DIR --rows N` starts `bench.scan_server` for N rows, then:

1. signs in and scans the window once with `GraphSource` (the server renders every page; the
   one failed call to the target number must be found, or the run is an error);
2. scans it again, timed, with a fresh source (so nothing comes from the window cache): the
   product's rows per second;
3. scans it again with the baseline inside: every page the product fetches is also parsed with
   `json.loads` (and dropped) the moment it arrives, timed apart. The ratio is the CPU seconds
   `json.loads` takes over the CPU seconds the product's scan takes, on the same bytes, in the same
   process, interleaved page by page so both see the same machine load;
4. prints one JSON line: rows, pages, seconds, rates, the ratio and this process's peak RSS (VmHWM).

CPU seconds rather than wall seconds for the ratio: the fake answers from another process, and the
time spent waiting for it stands in for Graph's latency, which is no part of the product's cost.

The window is read as one window (`CallLogLimits.first_window` = the whole span), so the scan is
pure streaming: page, filter, drop, next link. How the windows are chosen is measured separately
(`bench.scan.pages_fetched`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.measure import client_main, peak_rss_mb, served
from bench.scan_server import rows_in, window_for
from bot.config import load_settings
from bot.diagnosis.evidence import CallQuery
from bot.sources.graph import GraphSource
from bot.sources.graph_auth import GraphTokenProvider
from bot.sources.graph_calls import CallLogLimits
from bot.sources.http import HttpClient, HttpResponse, RetryPolicy

UNTIL = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # a whole minute: the window is exactly N rows
TARGET = "+14255550101"
MIN_TIMED_ROWS = 100_000  # small sizes are scanned repeatedly until at least this many rows are timed
MIN_REPEATS = 5
POLICY = RetryPolicy(attempts=2, total_seconds=120.0, request_timeout=60.0)


class ScanError(RuntimeError):
    """The scan did not find what the fake holds: the numbers would be meaningless."""


class PairedHttp(HttpClient):
    """The product's HTTP client, also running the baseline on every call-log page it receives:
    `json.loads` of the very same bytes, right when they arrive, timed on its own. Interleaved page
    by page, the product and the baseline see the same machine load, which on a shared two-core
    machine drifts by the second. (At the HTTP client, so it measures any version of the source.)
    """

    loads_cpu = 0.0

    async def request(self, method: str, url: Any, **kwargs: Any) -> HttpResponse:
        response = await super().request(method, url, **kwargs)
        if "getDirectRoutingCalls" in str(url) and response.status == 200:
            started = time.process_time()
            page: dict[str, Any] = json.loads(response.body)
            del page  # parse and drop, as the scan does: freeing a page is part of streaming it
            self.loads_cpu += time.process_time() - started
        return response


@dataclass(frozen=True)
class Pass:
    wall: float  # seconds, the whole scan
    cpu: float  # this process's CPU seconds for the product's part of the scan
    loads_cpu: float  # CPU seconds of json.loads on the same pages (0 for an unpaired pass)
    pages: int


async def scan_once(settings, tokens: GraphTokenProvider, http: HttpClient, rows: int) -> Pass:
    """One scan with a fresh source (empty window cache); with the baseline inside when `http` pairs."""
    since, until = window_for(rows, UNTIL)
    limits = CallLogLimits(first_window=until - since + timedelta(minutes=1), time_budget_s=3600.0)
    source = GraphSource(settings, http, call_log_limits=limits, tokens=tokens)
    if isinstance(http, PairedHttp):
        http.loads_cpu = 0.0
    started, cpu_started = time.perf_counter(), time.process_time()
    search = await source.user_calls(CallQuery("inbound", (TARGET,), since, until))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    found = [c.correlation_id for c in search.calls]
    if found != ["the-one"] or not search.complete:
        raise ScanError(f"the scan of {rows} rows found {found} (complete: {search.complete})")
    loads_cpu = http.loads_cpu if isinstance(http, PairedHttp) else 0.0
    return Pass(wall, cpu - loads_cpu, loads_cpu, search.pages_scanned)


async def measure(certs: Path, rows: int) -> dict[str, Any]:
    args = ["--certs", str(certs), "--rows", str(rows), "--until", UNTIL.isoformat(), "--target", TARGET]
    async with served("bench.scan_server", args) as server:
        return await _measure_against(load_settings(server["env"], env_file=None), rows)


async def _measure_against(settings, rows: int) -> dict[str, Any]:
    http, paired_http = HttpClient(POLICY), PairedHttp(POLICY)
    tokens = GraphTokenProvider(settings)
    try:
        await tokens.token()
        pages = (await scan_once(settings, tokens, http, rows)).pages  # the server renders every page
        plain, paired = [], []
        for _ in range(max(MIN_REPEATS, -(-MIN_TIMED_ROWS // rows))):
            plain.append(await scan_once(settings, tokens, http, rows))
            paired.append(await scan_once(settings, tokens, paired_http, rows))
    finally:
        await http.close()
        await paired_http.close()
    total = rows_in(rows, UNTIL)
    wall = min(p.wall for p in plain)  # best of N, as timeit does: noise only ever adds time
    ratios = sorted(p.loads_cpu / p.cpu for p in paired)
    return {
        "rows": total,
        "pages": pages,
        "repeats": len(plain),
        "scan_s": wall,
        "rows_per_s": total / wall,
        "cpu_rows_per_s": total / min(p.cpu for p in paired),
        "loads_rows_per_s": total / min(p.loads_cpu for p in paired),
        "ratio": ratios[len(ratios) // 2],
        "rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scan_client")
    parser.add_argument("--certs", type=Path, required=True)
    parser.add_argument("--rows", type=int, required=True)
    return client_main(parser, lambda args: measure(args.certs, args.rows), argv)


if __name__ == "__main__":
    sys.exit(main())
