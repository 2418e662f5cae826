"""Issue 15: the tenant sweep against its paging floor, and its memory as the call log grows.

One `bench.sweep_client` process per size (its peak RSS is then that size's alone), each with its
own fakes (`bench.sweep_server`): a tenant of 10,000 users with their numbers, licences, voice
settings and 8x8 accounts, and a call log of N rows for the 24 hours swept, every answer late by
the fakes' latency. The ratio is the sweep's time over the paging floor (the call log's pages
fetched one after another and nothing else done, in the same process, at the same latency); the
growth is the largest size's peak RSS minus the smallest's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.measure import run_client
from tests.fakes.tls import TestCertificates

USERS = 10_000
DELAY_S = 0.05  # the fakes' latency: the floor is made of it


@dataclass(frozen=True)
class SweepSize:
    users: int
    rows: int
    pages: int
    sweep_s: float
    floor_s: float
    latency_floor_s: float
    ratio: float
    affected: int
    rss_mb: float


def sweep_size(
    certificates: TestCertificates,
    rows: int,
    *,
    users: int = USERS,
    delay: float = DELAY_S,
    timeout: float = 900.0,
) -> SweepSize:
    """Run one size in a fresh `bench.sweep_client` process and read its JSON line."""
    args = ["--certs", str(certificates.ca_file.parent), "--users", str(users), "--rows", str(rows)]
    try:
        result = run_client(
            "bench.sweep_client", [*args, "--delay", str(delay)], certificates.ca_file, timeout=timeout
        )
    except RuntimeError as error:
        raise RuntimeError(f"the sweep of {rows:,} rows failed: {error}") from None
    return SweepSize(**{field: result[field] for field in SweepSize.__dataclass_fields__})


def summary(sizes: list[SweepSize]) -> dict[str, Any]:
    """The JSON keys of issue 15: the largest size's ratio, the growth in memory across sizes."""
    top, bottom = max(sizes, key=lambda s: s.rows), min(sizes, key=lambda s: s.rows)
    return {"sweep_ratio": top.ratio, "sweep_rss_growth_mb": top.rss_mb - bottom.rss_mb}
