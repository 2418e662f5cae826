"""The fake Microsoft Graph for the call-log scan, in a process of its own.

`python -m bench.scan_server --certs DIR --rows N --until ISO --target NUMBER` serves a tenant
with 100,000 Direct Routing calls a day (`UniformTraffic`) plus one failed call to `--target` at
the oldest edge of the N-row window ending at `--until`, prints one JSON line with its addresses,
and serves until its stdin closes.

Why a separate process, and why replay: the scan benchmark measures the product's client (HTTPS,
paging, filtering) against `json.loads` of the same bytes. Rendering a 1,000-row page in the fake
(making the rows, `json.dumps`) costs several times what parsing it costs, so a fake in the same
process, or one rendering every page afresh, would time the fake rather than the product. This one
renders each page once through the strict `FakeMicrosoft` route (the first pass, which also checks
that the product asks for what Graph accepts), keeps the bytes, and answers the same request for
the same page with the same bytes after checking its bearer token like any other request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from tests.fakes.graph_server import (
    CallList,
    FakeMicrosoft,
    FakeTenant,
    GraphError,
    RecordedRequest,
    UniformTraffic,
    call_row,
)
from tests.fakes.tls import TestCertificates

CALLS_PER_DAY = 100_000
CALL_LOG = "getDirectRoutingCalls"


def window_for(rows: int, until: datetime) -> tuple[datetime, datetime]:
    """The window ending at `until` that holds `rows` calls at CALLS_PER_DAY (the failed one included)."""
    span = timedelta(
        seconds=math.floor((rows - 1) * 86_400 / CALLS_PER_DAY)
    )  # whole seconds, as Graph reads them
    return until - span, until


def rows_in(rows: int, until: datetime) -> int:
    """How many calls the window for `rows` really holds (the traffic's grid does not start on it)."""
    since, _ = window_for(rows, until)
    return UniformTraffic(CALLS_PER_DAY).count(since, until) + 1


def scan_tenant(rows: int, until: datetime, target: str) -> FakeTenant:
    """A busy tenant with exactly one failed call to `target`, the oldest call of the window."""
    since, _ = window_for(rows, until)
    tenant = FakeTenant()
    tenant.calls = [
        UniformTraffic(CALLS_PER_DAY),
        CallList([call_row(since + timedelta(seconds=1), callee=target, correlation_id="the-one")]),
    ]
    return tenant


class ReplayingFakeMicrosoft(FakeMicrosoft):
    """`FakeMicrosoft` that answers a page it has rendered before with the same bytes: the call
    log's (`replay`: the paths to keep, by a piece of them), each answer `delay` seconds late (the
    network's latency, for the sweep's benchmark)."""

    def __init__(
        self,
        certificates: TestCertificates,
        tenant: FakeTenant,
        *,
        replay: tuple[str, ...] = (CALL_LOG,),
        delay: float = 0.0,
    ):
        super().__init__(certificates, tenant)
        self.rendered: dict[str, bytes] = {}
        self.replayed = 0
        self.replay = replay
        self.delay = delay

    async def _graph(self, request: web.Request) -> web.StreamResponse:
        if self.delay:
            await asyncio.sleep(self.delay)
        body = self.rendered.get(request.raw_path)
        if body is not None:
            try:
                self._authorize(request)
            except GraphError:
                return await super()._graph(request)  # the strict path answers the 401
            self.replayed += 1
            return web.Response(body=body, content_type="application/json", charset="utf-8")
        response = await super()._graph(request)
        kept = any(path in request.raw_path for path in self.replay)
        if kept and response.status == 200 and isinstance(response, web.Response):
            self.rendered[request.raw_path] = bytes(response.body)
            self.requests[:] = [r for r in self.requests if not _is_page(r)]  # pages are counted client-side
        return response


def _is_page(record: RecordedRequest) -> bool:
    return record.server == "graph" and CALL_LOG in record.path and record.status == 200


async def serve(certs: Path, rows: int, until: datetime, target: str) -> None:
    certificates = TestCertificates(certs / "ca.pem", certs / "server.pem", certs / "server-key.pem")
    fake = ReplayingFakeMicrosoft(certificates, scan_tenant(rows, until, target))
    await fake.start()
    try:
        print(json.dumps({"env": fake.env()}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until stdin closes
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scan_server")
    parser.add_argument("--certs", type=Path, required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--until", required=True)
    parser.add_argument("--target", required=True)
    args = parser.parse_args(argv)
    until = datetime.fromisoformat(args.until).astimezone(UTC)
    asyncio.run(serve(args.certs, args.rows, until, args.target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
