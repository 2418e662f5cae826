"""Issue 9, item 3: streaming the Direct Routing call log, and how many pages a diagnosis costs.

- Throughput and memory: one `bench.scan_client` process per size (its peak RSS is then that
  size's alone), each with its own fake Graph process. Rows per second of `GraphSource` scanning
  the window for one number, the same process's `json.loads` rows per second on the same bytes,
  and the peak RSS; the growth is the top size's peak minus the smallest size's.
- Pages: a full diagnosis (engine + `GraphSource`) of a user whose failed call was two hours ago,
  in a tenant with 100,000 Direct Routing calls a day and seven days of log, against the strict
  fake. The floor is the pages that hold just the calls the search must read: from 24 hours before
  the failure (so that counts are representative) to now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.measure import run_client
from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.sources.base import NoPortal, NotConfiguredEightByEight
from bot.sources.graph import GraphSource
from bot.sources.graph_calls import REPRESENTATIVE_SPAN
from bot.sources.http import HttpClient, RetryPolicy
from tests.fakes.graph_fixtures import ADELE, Clock, contoso, failed_call
from tests.fakes.graph_server import CallList, FakeMicrosoft, UniformTraffic
from tests.fakes.tls import TestCertificates

BUSY_CALLS_PER_DAY = 100_000
PAGE_ROWS = 1000
NOW = datetime(2026, 11, 23, 14, 30, 20, tzinfo=UTC)


@dataclass(frozen=True)
class ScanSize:
    rows: int
    pages: int
    rows_per_s: float  # wall clock, the fake answering from memory in another process
    cpu_rows_per_s: float  # rows per CPU second of the scanning process
    loads_rows_per_s: float  # rows per CPU second of json.loads on the same pages
    ratio: float  # CPU of json.loads / CPU of the scan, page by page (bench.scan_client)
    rss_mb: float


def scan_size(certificates: TestCertificates, rows: int, timeout: float = 600.0) -> ScanSize:
    """Run one size in a fresh `bench.scan_client` process and read its JSON line."""
    args = ["--certs", str(certificates.ca_file.parent), "--rows", str(rows)]
    try:
        result = run_client("bench.scan_client", args, certificates.ca_file, timeout=timeout)
    except RuntimeError as error:
        raise RuntimeError(f"the {rows:,}-row scan failed: {error}") from None
    return ScanSize(
        rows=result["rows"],
        pages=result["pages"],
        rows_per_s=result["rows_per_s"],
        cpu_rows_per_s=result["cpu_rows_per_s"],
        loads_rows_per_s=result["loads_rows_per_s"],
        ratio=result["ratio"],
        rss_mb=result["rss_mb"],
    )


def scan_sizes(certificates: TestCertificates, sizes: list[int]) -> list[ScanSize]:
    return [scan_size(certificates, rows) for rows in sizes]


@dataclass(frozen=True)
class PagesResult:
    fetched: int
    floor: int
    cause: str

    @property
    def ratio(self) -> float:
        return self.fetched / self.floor


async def pages_fetched(certificates: TestCertificates, *, hours_ago: float = 2.0) -> PagesResult:
    """Pages a diagnosis reads when the user's failed call was `hours_ago` in a busy tenant."""
    failure_at = NOW - timedelta(hours=hours_ago)
    tenant = contoso(NOW)
    traffic = UniformTraffic(BUSY_CALLS_PER_DAY)
    tenant.calls = [traffic, CallList([failed_call(ADELE, failure_at, correlation_id="the-one")])]
    clock = Clock(NOW)
    async with FakeMicrosoft(certificates, tenant) as fake:
        http = HttpClient(
            RetryPolicy(attempts=2, total_seconds=60.0, request_timeout=30.0), sleep=clock.sleep
        )
        try:
            source = GraphSource(fake.settings(), http, clock=clock)
            engine = Engine(source, NotConfiguredEightByEight(), NoPortal(), data_source="live", clock=clock)
            diagnosis = await engine.diagnose(
                DiagnosisRequest(
                    user=ADELE.upn, eightbyeight_number=ADELE.number, first_sync_at=NOW - timedelta(days=10)
                )
            )
        finally:
            await http.close()
        fetched = len(fake.call_log_pages())
    if diagnosis.evidence.correlation_id != "the-one":
        raise RuntimeError(f"the busy-tenant diagnosis missed the failed call ({diagnosis.cause})")
    floor = math.ceil((traffic.count(failure_at - REPRESENTATIVE_SPAN, NOW) + 1) / PAGE_ROWS)
    return PagesResult(fetched=fetched, floor=floor, cause=diagnosis.cause)


def summary(sizes: list[ScanSize]) -> dict[str, Any]:
    """The JSON keys of item 3 (besides the pages): the top size's rates, the growth in memory."""
    top, bottom = max(sizes, key=lambda s: s.rows), min(sizes, key=lambda s: s.rows)
    return {
        "scan_rows_per_s": top.rows_per_s,
        "scan_ratio": top.ratio,
        "scan_rss_growth_mb": top.rss_mb - bottom.rss_mb,
    }
