"""Failed inbound calls from Microsoft's Direct Routing call log, found without reading all of it.

`getDirectRoutingCalls` returns every Direct Routing call of the tenant in a time window, 1,000 rows
a page, and Microsoft allows about 200 such requests a minute per app and tenant. Seven days of a
tenant with 100,000 calls a day is some 700 pages: minutes of paging for one diagnosis. So:

- Newest first. The failure an admin asks about is usually recent; the search walks back from
  `until` in windows and stops at the first window that holds a failed call to the user's numbers.
- Windows sized from the traffic seen so far, so each one fills about one page: a window that holds
  1,050 rows costs two requests, one that holds 900 costs one. The first window is short (10 min);
  each next one is the last one's call rate times the target, never more than `growth` times longer
  (a quiet night says little about the morning).
- Shared, short-lived results. Two diagnoses running at once walk the same windows (the first ends
  on a whole minute and the sizes follow deterministically from the same pages), and a window's
  result is fetched once and kept for `cache_ttl`. What is kept is every failed inbound row of the
  window, whatever its number, so any diagnosis can use it.
- Pages are streamed: each page is filtered as it arrives and dropped.

Rows that decide "inbound calls fail" have no user (Microsoft could not find one by reverse number
lookup), so rows are matched on `calleeNumber`; masked numbers (`+1425555****`) on their visible
digits, and such a match is marked partial.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from yarl import URL

from bot.diagnosis.phone import is_masked, masked_prefix_match, to_e164
from bot.sources.base import CallRecord, CallSearch, SourceUnavailable
from bot.sources.graph_odata import API_VERSION, key_insensitive, odata_time, parse_time

log = logging.getLogger(__name__)

PAGE_ROWS = 1000  # Graph's page size for the call log
MAX_PAGES_PER_WINDOW = 5000  # a safety net against a server that links back to itself
INBOUND_PREFIX = "byotin"

PageFetcher = Callable[[URL], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class CallLogLimits:
    """How the call log is searched. Tests and benchmarks shrink or stretch these."""

    first_window: timedelta = timedelta(minutes=10)
    target_rows: int = 900  # aim a little under one page: 1,001 rows cost two requests
    growth: float = 4.0
    min_window: timedelta = timedelta(minutes=1)
    max_span: timedelta = timedelta(days=90)  # Graph's limit for one query
    # After this the search returns what it has, marked incomplete: under the engine's 25 s limit
    # per source question, so that a slow search still reports the windows it did read.
    time_budget_s: float = 20.0
    cache_ttl: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class WindowScan:
    """One window of the call log, read to its last page (or not: `complete`)."""

    start: datetime
    end: datetime
    rows: int
    pages: int
    failed_inbound: tuple[CallRecord, ...]
    complete: bool = True


# ---------------------------------------------------------------------------------------------
# Rows


def is_failed_inbound(row: dict[str, Any]) -> bool:
    """`callType` starting `ByotIn` (any case) and `successfulCall` false."""
    call_type = row.get("callType")
    return (
        isinstance(call_type, str)
        and call_type.lower().startswith(INBOUND_PREFIX)
        and row.get("successfulCall") is False
    )


def call_record(row: dict[str, Any]) -> CallRecord:
    """A `directRoutingLogRow` as a CallRecord; unset times (`0001-01-01…`) become None."""
    return CallRecord(
        correlation_id=_text(row.get("correlationId")),
        at=parse_time(row.get("failureDateTime"))
        or parse_time(row.get("inviteDateTime"))
        or parse_time(row.get("startDateTime")),
        call_type=_text(row.get("callType")),
        successful=row.get("successfulCall") is True,
        caller_number=_text(row.get("callerNumber")),
        callee_number=_text(row.get("calleeNumber")),
        sip_code=_int(row.get("finalSipCode")),
        sub_code=_int(row.get("callEndSubReason")),
        phrase=_text(row.get("finalSipCodePhrase")),
        trunk_fqdn=_text(row.get("trunkFullyQualifiedDomainName")),
        user_id=_text(row.get("userId")),
        user_principal_name=_text(row.get("userPrincipalName")),
    )


def match_callee(record: CallRecord, targets: Sequence[str]) -> CallRecord | None:
    """The record if its callee is one of `targets` (E.164), marked partial when matched on a mask."""
    callee = record.callee_number
    if not callee:
        return None
    if is_masked(callee):
        if any(masked_prefix_match(callee, target) for target in targets):
            return _with_partial(record)
        return None
    number = to_e164(callee)
    return record if number is not None and number in targets else None


def _with_partial(record: CallRecord) -> CallRecord:
    return replace(record, partial_match=True)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


# ---------------------------------------------------------------------------------------------
# Shared window cache


@dataclass
class _Entry:
    task: asyncio.Task[WindowScan]
    expires: datetime | None = None


class WindowCache:
    """Window results shared by concurrent searches: one fetch per window, kept `ttl` after it ends.

    A window being fetched is shared too: the second search awaits the first one's task. A fetch
    that fails or stops early is forgotten at once, so the next search tries again.
    """

    def __init__(self, ttl: timedelta, clock: Callable[[], datetime]):
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[tuple[str, str, str], _Entry] = {}

    async def get(self, key: tuple[str, str, str], fetch: Callable[[], Awaitable[WindowScan]]) -> WindowScan:
        self._purge()
        entry = self._entries.get(key)
        if entry is None:
            task: asyncio.Task[WindowScan] = asyncio.ensure_future(fetch())
            entry = _Entry(task)
            self._entries[key] = entry
            task.add_done_callback(lambda done: self._settled(key, entry, done))
        return await asyncio.shield(entry.task)

    def __len__(self) -> int:
        return len(self._entries)

    def _settled(self, key: tuple[str, str, str], entry: _Entry, task: asyncio.Task[WindowScan]) -> None:
        failed = task.cancelled() or task.exception() is not None
        if failed or not task.result().complete:
            if self._entries.get(key) is entry:
                del self._entries[key]
            return
        entry.expires = self._clock() + self._ttl

    def _purge(self) -> None:
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.expires is not None and e.expires <= now]:
            del self._entries[key]


# ---------------------------------------------------------------------------------------------
# The search


@dataclass
class _Progress:
    matches: list[CallRecord] = field(default_factory=list)
    pages: int = 0
    oldest: datetime | None = None
    complete: bool = True


class CallLogSearch:
    """Walks the Direct Routing call log newest first; see the module docstring for why."""

    def __init__(
        self,
        endpoint: str,
        fetch_page: PageFetcher,
        cache: WindowCache,
        limits: CallLogLimits | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._endpoint = endpoint.rstrip("/")
        self._fetch_page = fetch_page
        self._cache = cache
        self.limits = limits or CallLogLimits()
        self._clock = clock

    async def failed_inbound(self, numbers: Iterable[str], since: datetime, until: datetime) -> CallSearch:
        targets = sorted({n for n in (to_e164(raw) for raw in numbers if raw) if n})
        since, until = _utc(since), _utc(until)
        since = max(since, until - self.limits.max_span)
        if not targets or since >= until:
            return CallSearch(window_start=since, window_end=until, pages_scanned=0, complete=True)

        deadline = self._clock() + timedelta(seconds=self.limits.time_budget_s)
        progress = _Progress()
        end = _ceil_minute(until)
        size = self.limits.first_window
        while end > since:
            if self._clock() >= deadline:
                progress.complete = False
                break
            start = max(since, end - size)
            try:
                scan = await self._window(start, end, deadline)
            except SourceUnavailable:
                if progress.pages == 0:
                    raise
                progress.complete = False  # what was read still counts
                break
            self._take(scan, targets, progress)
            if progress.matches or not scan.complete:
                break
            size = self._next_size(scan)
            end = start

        progress.matches.sort(key=lambda r: r.at or datetime.min.replace(tzinfo=UTC), reverse=True)
        return CallSearch(
            calls=progress.matches,
            window_start=progress.oldest or since,
            window_end=until,
            pages_scanned=progress.pages,
            complete=progress.complete,
        )

    # -- windows -------------------------------------------------------------------------------

    async def _window(self, start: datetime, end: datetime, deadline: datetime) -> WindowScan:
        key = (self._endpoint, odata_time(start), odata_time(end))
        return await self._cache.get(key, lambda: self._read_window(start, end, deadline))

    async def _read_window(self, start: datetime, end: datetime, deadline: datetime) -> WindowScan:
        url: URL | None = self.first_page_url(start, end)
        rows = pages = 0
        failed: list[CallRecord] = []
        seen: set[str] = set()
        while url is not None:
            if pages >= MAX_PAGES_PER_WINDOW or str(url) in seen:
                raise SourceUnavailable("the call log kept linking to pages already read", source="graph")
            seen.add(str(url))
            page = await self._fetch_page(url)
            pages += 1
            values = page.get("value")
            if not isinstance(values, list):
                raise SourceUnavailable("a page of the call log had no list of calls", source="graph")
            rows += len(values)
            failed.extend(
                call_record(row) for row in values if isinstance(row, dict) and is_failed_inbound(row)
            )
            url = self._next_url(page)
            if url is not None and self._clock() >= deadline:
                log.info("call log window cut short by the time budget", extra={"pages": pages})
                return WindowScan(start, end, rows, pages, tuple(failed), complete=False)
        log.debug("call log window", extra={"from": odata_time(start), "to": odata_time(end), "rows": rows})
        return WindowScan(start, end, rows, pages, tuple(failed))

    def first_page_url(self, start: datetime, end: datetime) -> URL:
        function = f"getDirectRoutingCalls(fromDateTime={odata_time(start)},toDateTime={odata_time(end)})"
        return URL(f"{self._endpoint}/{API_VERSION}/communications/callRecords/{function}", encoded=True)

    def _next_url(self, page: dict[str, Any]) -> URL | None:
        """`@odata.nextLink`, passed on exactly as sent, and only to the Graph host we trust."""
        link = key_insensitive(page, "@odata.nextLink")
        if not link:
            return None
        if not isinstance(link, str) or not _same_origin(link, self._endpoint):
            raise SourceUnavailable("the call log linked to a page outside Microsoft Graph", source="graph")
        return URL(link, encoded=True)

    def _next_size(self, scan: WindowScan) -> timedelta:
        """About `target_rows` at the call rate of the window just read, within growth limits."""
        limits = self.limits
        span = scan.end - scan.start
        ceiling = span * limits.growth
        if scan.rows == 0:
            proposed = ceiling
        else:
            proposed = span * (limits.target_rows / scan.rows)
        size = max(limits.min_window, min(proposed, ceiling))
        return timedelta(seconds=math.floor(size.total_seconds()))

    @staticmethod
    def _take(scan: WindowScan, targets: Sequence[str], progress: _Progress) -> None:
        progress.pages += scan.pages
        progress.oldest = scan.start
        if not scan.complete:
            progress.complete = False
        for record in scan.failed_inbound:
            matched = match_callee(record, targets)
            if matched is not None:
                progress.matches.append(matched)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ceil_minute(value: datetime) -> datetime:
    """Window ends on whole minutes, so searches started within the same minute share windows."""
    floor = value.replace(second=0, microsecond=0)
    return floor if floor == value else floor + timedelta(minutes=1)


def _same_origin(link: str, endpoint: str) -> bool:
    try:
        left, right = URL(link, encoded=True), URL(endpoint)
    except ValueError:
        return False
    return (left.scheme, left.host, left.port) == (right.scheme, right.host, right.port)
