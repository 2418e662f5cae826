"""The fault matrix: every upstream the engine talks to, times every way it can fail.

Upstreams: Microsoft sign-in (OIDC discovery and the token endpoint, through msal), each Graph call
a diagnosis makes (the user, number assignments, voice settings, the Direct Routing call log for
inbound calls; domains, users by name, users on a domain for a sync error) and the 8x8
Administration API. Faults: 401, 403, 404, 429 with and without Retry-After, 500, 503, a truncated
JSON body, an answer slower than the timeout, a connection reset — each permanent, so retries cannot
hide it.

`run_case` runs one (upstream, fault) pair against the strict local fakes with small, injected
budgets (retry waits are recorded, not slept) and returns what happened; the tests assert on it
and `python -m tests.security.faults` prints the whole matrix as the Markdown table kept in
docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.config import Settings
from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.model import Diagnosis
from bot.sources.base import NoPortal
from bot.sources.eightbyeight import EightByEightApiSource
from bot.sources.graph import GraphSource
from bot.sources.http import HttpClient, RetryPolicy
from tests.fakes.eightbyeight_server import FakeEightByEight, make_extension, make_user
from tests.fakes.graph_fixtures import ADELE, Clock, contoso, failed_call
from tests.fakes.graph_server import FakeMicrosoft
from tests.fakes.tls import TestCertificates

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=10)
CORRELATION = "5d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a"

# Budgets: small enough that a hundred faults run in about a minute, and far above what a healthy
# answer needs on a loaded machine (a whole diagnosis against these fakes takes 0.01-0.1 s with
# every core busy), so that a check names the injected fault, never a timeout a busy machine caused.
# The engine allows each round of questions SOURCE_TIMEOUT; an inbound-calls diagnosis has three
# rounds, a sync check two. A slow upstream never answers within the test (the fake holds the
# answer until it stops), so the client's timeout is the only way the request ends.
POLICY = RetryPolicy(attempts=3, total_seconds=2.0, request_timeout=2.0, base_backoff=0.01)
SOURCE_TIMEOUT = 5.0
BUDGET = 3 * SOURCE_TIMEOUT + 2.0  # the slack is for TLS handshakes and msal's thread hops
NEVER = 3600.0  # seconds: "slower than the timeout" — the fake holds the answer until it stops
RETRY_AFTER = "5"  # seconds: beyond POLICY.total_seconds, so the client must not wait for it


@dataclass(frozen=True)
class Upstream:
    id: str
    title: str
    server: str  # "login", "graph" or "8x8"
    path: str  # regex on the decoded path (Graph fake) or a path suffix (8x8 fake)
    problem: str  # the diagnosis that makes this call
    checks: tuple[str, ...]  # the checks that depend on it


UPSTREAMS = (
    Upstream(
        "sign-in-discovery",
        "Sign-in: OIDC discovery",
        "login",
        r"openid-configuration$",
        "inbound-calls",
        ("user-found", "phone-license", "enterprise-voice", "number-activation", "inbound-failures"),
    ),
    Upstream(
        "sign-in-token",
        "Sign-in: token endpoint",
        "login",
        r"/oauth2/v2\.0/token$",
        "inbound-calls",
        ("user-found", "phone-license", "enterprise-voice", "number-activation", "inbound-failures"),
    ),
    Upstream(
        "graph-user",
        "Graph: the user (`/users/{upn}`)",
        "graph",
        r"^/v1\.0/users/[^/]+$",
        "inbound-calls",
        ("user-found", "phone-license"),
    ),
    Upstream(
        "graph-numbers",
        "Graph: number assignments",
        "graph",
        r"/numberAssignments$",
        "inbound-calls",
        ("number-activation",),
    ),
    Upstream(
        "graph-voice",
        "Graph: voice settings (`userConfigurations`)",
        "graph",
        r"/userConfigurations/[^/]+$",
        "inbound-calls",
        ("enterprise-voice",),
    ),
    Upstream(
        "graph-call-log",
        "Graph: Direct Routing call log",
        "graph",
        r"/getDirectRoutingCalls",
        "inbound-calls",
        ("inbound-failures",),
    ),
    Upstream(
        "graph-domains", "Graph: domains", "graph", r"^/v1\.0/domains$", "sync-error", ("voice-domains",)
    ),
    Upstream(
        "graph-users-named",
        "Graph: users by display name",
        "graph",
        r"^/v1\.0/users$",
        "sync-error",
        ("activation-users",),
    ),
    Upstream(
        "graph-domain-users",
        "Graph: users on a domain",
        "graph",
        r"/domainNameReferences/",
        "sync-error",
        ("domain-users",),
    ),
    Upstream("8x8-users", "8x8 Administration API: users", "8x8", "/users", "inbound-calls", ("8x8-number",)),
)


@dataclass(frozen=True)
class FaultKind:
    id: str
    title: str
    status: int | None = None
    retry_after: str | None = None
    truncate: bool = False
    slow: bool = False
    reset: bool = False


FAULTS = (
    FaultKind("401", "401", status=401),
    FaultKind("403", "403", status=403),
    FaultKind("404", "404", status=404),
    FaultKind("429-retry-after", "429 + Retry-After", status=429, retry_after=RETRY_AFTER),
    FaultKind("429", "429, no Retry-After", status=429),
    FaultKind("500", "500", status=500),
    FaultKind("503", "503", status=503),
    FaultKind("truncated", "truncated JSON", truncate=True),
    FaultKind("slow", "slower than the timeout", slow=True),
    FaultKind("reset", "connection reset", reset=True),
)

# OAuth 2.0 error bodies, as Microsoft sign-in writes them (RFC 6749 section 5.2 plus AADSTS codes).
SIGN_IN_ERRORS = {
    401: {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."},
    403: {"error": "unauthorized_client", "error_description": "AADSTS700016: Application not found."},
    404: {"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."},
    429: {"error": "temporarily_unavailable", "error_description": "AADSTS50196: Too many requests."},
    500: {"error": "server_error", "error_description": "AADSTS50000: There was an error issuing a token."},
    503: {"error": "temporarily_unavailable", "error_description": "AADSTS90033: Service unavailable."},
}


@dataclass
class Outcome:
    upstream: Upstream
    fault: FaultKind
    seconds: float
    diagnosis: Diagnosis
    hits: int  # requests the faulty upstream received
    sleeps: list[float] = field(default_factory=list)  # retry waits asked for (not slept)
    recovered: bool = False  # once the fault cleared, the same diagnosis as before it
    baseline: Diagnosis | None = None  # the diagnosis before the fault

    def check(self, check_id: str):
        found = self.diagnosis.check(check_id)
        assert found is not None, f"{check_id} missing from {[c.id for c in self.diagnosis.checks]}"
        return found

    @property
    def affected(self) -> list[tuple[str, str, str]]:
        return [(c, self.check(c).status, self.check(c).detail) for c in self.upstream.checks]


class FaultyEightByEight(FakeEightByEight):
    """The 8x8 fake with the two faults it lacks: a dropped connection and a cut-off body."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.reset = False
        self.truncate = False

    @web.middleware
    async def _middleware(self, request: web.Request, handler) -> web.StreamResponse:
        if self.reset:
            self._record(request)
            request.transport.abort()
            return web.Response(status=499)
        if self.truncate:
            self._record(request)
            response = web.StreamResponse(
                status=200, headers={"Content-Type": "application/vnd.users.v1+json"}
            )
            response.content_length = 50_000
            await response.prepare(request)
            await response.write(b'{"data": [{"basicInfo": {"userId": "')
            request.transport.abort()
            return response
        return await super()._middleware(request, handler)


def eightbyeight_users() -> list[dict[str, Any]]:
    return [
        make_user(
            "adele.vance@contoso.com",
            first_name="Adele",
            last_name="Vance",
            extensions=[make_extension(ADELE.number, [ADELE.number])],
        )
    ]


@asynccontextmanager
async def fakes(certificates: TestCertificates):
    tenant = contoso(NOW, calls=[failed_call(ADELE, NOW - timedelta(hours=5), correlation_id=CORRELATION)])
    async with (
        FakeMicrosoft(certificates, tenant) as microsoft,
        FaultyEightByEight(certificates, users=eightbyeight_users()) as eightbyeight,
    ):
        yield microsoft, eightbyeight


def inject(
    microsoft: FakeMicrosoft, eightbyeight: FaultyEightByEight, upstream: Upstream, fault: FaultKind
) -> None:
    if upstream.server == "8x8":
        if fault.reset:
            eightbyeight.reset = True
        elif fault.truncate:
            eightbyeight.truncate = True
        elif fault.slow:
            eightbyeight.slow(NEVER, times=None)
        else:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            from tests.fakes.eightbyeight_server import Fault

            eightbyeight.inject(Fault(status=fault.status, times=None, headers=headers, path=upstream.path))
        return
    body = SIGN_IN_ERRORS.get(fault.status or 0) if upstream.server == "login" else None
    delay = NEVER if fault.slow else 0.0
    microsoft.fail(
        upstream.path,
        fault.status,
        retry_after=fault.retry_after,
        delay=delay,
        truncate=fault.truncate,
        reset=fault.reset,
        times=-1,
        server=upstream.server,
        body=body,
    )


def hits(microsoft: FakeMicrosoft, eightbyeight: FaultyEightByEight, upstream: Upstream) -> int:
    if upstream.server == "8x8":
        return len(eightbyeight.list_requests())
    return sum(f.hits for f in microsoft.faults)


def request_for(problem: str) -> DiagnosisRequest:
    if problem == "sync-error":
        return DiagnosisRequest(problem="sync-error")
    return DiagnosisRequest(problem="inbound-calls", user=ADELE.upn, first_sync_at=LONG_AGO)


def engine_for(
    microsoft: FakeMicrosoft, eightbyeight: FakeEightByEight, http: HttpClient, clock: Clock
) -> Engine:
    """A fresh engine over fresh sources (and so a fresh msal app: msal remembers throttling)."""
    graph = GraphSource(microsoft.settings(), http, clock=clock)
    settings = Settings(
        eightbyeight_api_key=eightbyeight.api_key, eightbyeight_api_base=eightbyeight.base_url
    )
    eight = EightByEightApiSource(settings, http, clock=lambda: clock().timestamp(), sleep=clock.sleep)
    return Engine(graph, eight, NoPortal(), data_source="live", clock=clock, source_timeout=SOURCE_TIMEOUT)


async def run_case(certificates: TestCertificates, upstream: Upstream, fault: FaultKind) -> Outcome:
    """One diagnosis with `fault` injected (permanently) into `upstream`, between two healthy ones."""
    before = asyncio.all_tasks()
    async with fakes(certificates) as (microsoft, eightbyeight):
        clock = Clock(NOW)
        http = HttpClient(POLICY, sleep=clock.sleep)
        request = request_for(upstream.problem)
        try:
            baseline = await engine_for(microsoft, eightbyeight, http, clock).diagnose(request)
            inject(microsoft, eightbyeight, upstream, fault)
            started = time.monotonic()
            diagnosis = await engine_for(microsoft, eightbyeight, http, clock).diagnose(request)
            seconds = time.monotonic() - started
            outcome = Outcome(
                upstream, fault, seconds, diagnosis, hits(microsoft, eightbyeight, upstream), clock.sleeps
            )
            # The process stays healthy: once the fault clears, the same HTTP client (its session and
            # connection pool) gives the same diagnosis as before the fault.
            microsoft.faults.clear()
            eightbyeight.clear_faults()
            eightbyeight.reset = eightbyeight.truncate = False
            healthy = await engine_for(microsoft, eightbyeight, http, clock).diagnose(request)
            outcome.recovered = _statuses(healthy) == _statuses(baseline) and healthy.cause == baseline.cause
            outcome.baseline = baseline
            return outcome
        finally:
            await _cancel_tasks_started_since(before)
            await http.close()


async def _cancel_tasks_started_since(before: set[asyncio.Task]) -> None:
    """A call-log search is shared between diagnoses and may outlive the one that gave up on it:
    stop it before the HTTP client closes, or it would open a new session afterwards."""
    leftovers = asyncio.all_tasks() - before - {asyncio.current_task()}
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)


def _statuses(diagnosis: Diagnosis) -> dict[str, str]:
    return {c.id: c.status for c in diagnosis.checks}


def cases() -> Iterator[tuple[Upstream, FaultKind]]:
    for upstream in UPSTREAMS:
        for fault in FAULTS:
            yield upstream, fault


def table(outcomes: list[Outcome]) -> str:
    """The Markdown table of docs/reliability.md: one row per upstream, one column per fault."""
    header = "| upstream | " + " | ".join(f.title for f in FAULTS) + " |"
    rule = "|---" * (len(FAULTS) + 1) + "|"
    rows = [header, rule]
    for upstream in UPSTREAMS:
        cells = []
        for fault in FAULTS:
            outcome = next(o for o in outcomes if o.upstream is upstream and o.fault is fault)
            statuses = sorted({status for _, status, _ in outcome.affected})
            cells.append(f"{'/'.join(statuses)} {outcome.seconds:.2f} s")
        rows.append(f"| {upstream.title} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def details(outcomes: list[Outcome]) -> str:
    """What each affected check said, one line per case (the reasons an admin reads)."""
    lines = []
    for outcome in outcomes:
        check_id, status, detail = outcome.affected[0]
        lines.append(f"- {outcome.upstream.id} / {outcome.fault.id}: `{check_id}` {status}: {detail}")
    return "\n".join(lines)


async def _main() -> None:
    import os
    import tempfile
    from pathlib import Path

    from tests.fakes.tls import make_certificates

    with tempfile.TemporaryDirectory() as tmp:
        certificates = make_certificates(Path(tmp))
        os.environ["SSL_CERT_FILE"] = os.environ["REQUESTS_CA_BUNDLE"] = str(certificates.ca_file)
        started = time.monotonic()
        outcomes = [await run_case(certificates, upstream, fault) for upstream, fault in cases()]
        print(table(outcomes))
        print()
        print(details(outcomes))
        print(
            f"\n{len(outcomes)} cases in {time.monotonic() - started:.1f} s; slowest {max(o.seconds for o in outcomes):.1f} s"
        )
        print(json.dumps({"budget_s": BUDGET}))


if __name__ == "__main__":
    asyncio.run(_main())
