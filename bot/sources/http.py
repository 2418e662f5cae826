"""The one outgoing HTTP session of the process, shared by the Graph and 8x8 sources.

Why one session: connection pooling and one place for the things corporate networks need —
`HTTPS_PROXY` / `NO_PROXY` (read as aiohttp's `trust_env` reads them, once per host) and a private CA (`SSL_CERT_FILE`, else `REQUESTS_CA_BUNDLE`,
which msal's `requests` also honours). Every call has a timeout; 429 and 5xx are retried within a
bounded total time, honouring `Retry-After`.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from bot.diagnosis.errors import SourceUnavailable

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
CLOSED = "the HTTP client is closed"

# Optional per-request hook: seconds to wait before retrying this response, or None for the default
# (`Retry-After`, else exponential backoff). The 8x8 source uses it for `x-ratelimit-reset`.
RetryWait = Callable[["HttpResponse"], float | None]


def ssl_context() -> ssl.SSLContext:
    """TLS trust for outgoing calls: the system's CAs plus an operator-supplied bundle."""
    context = ssl.create_default_context()
    for variable in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        path = os.environ.get(variable)
        if path and os.path.isfile(path):
            context.load_verify_locations(cafile=path)
    return context


@dataclass
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON becomes a SourceUnavailable."""
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise SourceUnavailable(f"the answer (HTTP {self.status}) was not valid JSON") from error


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    total_seconds: float = 20.0  # never wait past this, whatever Retry-After says
    request_timeout: float = 10.0
    base_backoff: float = 0.5


class HttpClient:
    """A lazily created aiohttp session with retries. Create one per process; `close()` at exit.

    `close()` is final: afterwards every request is refused with SourceUnavailable rather than
    quietly opening a new session that nobody would close (a shared call-log search can outlive
    the diagnosis that started it, and so the shutdown).
    """

    def __init__(self, policy: RetryPolicy | None = None, *, sleep=asyncio.sleep):
        self.policy = policy or RetryPolicy()
        self._session: aiohttp.ClientSession | None = None
        self._sleep = sleep
        self._closed = False
        # (scheme, host, port) -> (proxy, its credentials): the environment read once per host.
        self._proxies: dict[
            tuple[str, str | None, int | None], tuple[URL | None, aiohttp.BasicAuth | None]
        ] = {}

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise SourceUnavailable(CLOSED)
        if self._session is None or self._session.closed:
            # Proxies come from the environment as with `trust_env`, but looked up once per host
            # (`_proxy_for`): aiohttp's `trust_env` looks them up, and `.netrc`, in a thread on every
            # request, which cost the call-log scan a tenth of its CPU (docs/benchmarks.md).
            self._session = aiohttp.ClientSession(
                trust_env=False,
                connector=aiohttp.TCPConnector(ssl=ssl_context(), limit=64),
                timeout=aiohttp.ClientTimeout(total=self.policy.request_timeout),
            )
        return self._session

    async def close(self) -> None:
        """Close the session for good; safe to call more than once."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def request(
        self,
        method: str,
        url: str | Any,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        what: str = "the request",
        policy: RetryPolicy | None = None,
        retry_wait: RetryWait | None = None,
        retry_statuses: frozenset[int] = RETRYABLE_STATUSES,
    ) -> HttpResponse:
        """Send with retries; return the final response (any status) or raise SourceUnavailable.

        `retry_statuses` narrows what is retried: a write that must not be sent twice retries only
        what the service did not act on (429), and gets a 5xx back to say so itself.

        4xx other than 429 come back to the caller, which knows what they mean. `url` may be a
        `yarl.URL(..., encoded=True)` to pass a server's link on without re-encoding it.
        `retry_wait` lets a caller read a service's own throttling headers; the total time budget
        still bounds whatever it answers.
        """
        policy = policy or self.policy
        deadline = time.monotonic() + policy.total_seconds
        last_problem = "no answer"
        for attempt in range(1, policy.attempts + 1):
            if self._closed:  # closed before the request, or while it waited to retry
                raise SourceUnavailable(f"{what} failed: {CLOSED}")
            try:
                proxy, proxy_auth = await self._proxy_for(url)
                async with self.session.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    json=json_body,
                    proxy=proxy,
                    proxy_auth=proxy_auth,
                    timeout=aiohttp.ClientTimeout(total=min(policy.request_timeout, _left(deadline))),
                ) as response:
                    body = await response.read()
                    result = HttpResponse(response.status, response.headers, body)
            except TimeoutError:
                last_problem = f"no answer within {policy.request_timeout:g} s"
                result = None
            except aiohttp.ClientError as error:
                last_problem = f"connection failed ({type(error).__name__})"
                result = None
            except Exception:
                if self._closed:  # aiohttp trips over its own closed connector (AssertionError)
                    raise SourceUnavailable(f"{what} failed: {CLOSED}") from None
                raise
            if result is not None and result.status not in retry_statuses:
                return result
            if self._closed:  # closed while the request was in flight: no retry on a new session
                raise SourceUnavailable(f"{what} failed: {CLOSED}")
            if result is not None:
                last_problem = _status_problem(result)
            wait = _wait_before_retry(result, attempt, policy.base_backoff, retry_wait)
            if attempt == policy.attempts or wait > _left(deadline):
                break
            log.info("retrying", extra={"what": what, "attempt": attempt, "wait_s": round(wait, 2)})
            await self._sleep(wait)
        raise SourceUnavailable(f"{what} failed: {last_problem}", retryable=True)

    async def _proxy_for(self, url: str | URL) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """The proxy `HTTPS_PROXY` / `HTTP_PROXY` name for `url` (none where `NO_PROXY` says so).
        Looked up in a thread (aiohttp reads `.netrc` for proxy credentials), once per host."""
        target = url if isinstance(url, URL) else URL(url)
        key = (target.scheme, target.host, target.port)
        if key not in self._proxies:
            self._proxies[key] = await asyncio.to_thread(_env_proxy, target)
        return self._proxies[key]


def _env_proxy(url: URL) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    try:
        return get_env_proxy_for_url(url)
    except LookupError:
        return None, None


def _left(deadline: float) -> float:
    return max(0.05, deadline - time.monotonic())


def _status_problem(response: HttpResponse) -> str:
    if response.status == 429:
        return "throttled (HTTP 429) beyond the retry budget"
    return f"the service answered HTTP {response.status}"


def _wait_before_retry(
    response: HttpResponse | None, attempt: int, base: float, retry_wait: RetryWait | None = None
) -> float:
    if response is not None and retry_wait is not None:
        wanted = retry_wait(response)
        if wanted is not None:
            return max(0.0, wanted)
    if response is not None:
        retry_after = retry_after_seconds(response.headers)
        if retry_after is not None:
            return retry_after
    return base * (2 ** (attempt - 1)) * (1 + random.random() / 4)


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
