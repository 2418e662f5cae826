"""A user's unsuccessful calls from Microsoft's Direct Routing call log, found without reading all of it.

`getDirectRoutingCalls` returns every Direct Routing call of the tenant in a time window, 1,000 rows
a page, and Microsoft allows about 200 such requests a minute per app and tenant. Seven days of a
tenant with 100,000 calls a day is some 700 pages: minutes of paging for one diagnosis. So:

- Newest first. The failure an admin asks about is usually recent; the search walks back from
  `until` in windows. With no failure it reads the whole period (only then is "no failure found"
  true); once it has found one it reads on until it has covered 24 hours before the newest failure,
  so that counts and signatures are representative, and stops there: a bounded cost, not a week
  of a large tenant.
- Windows sized from the traffic seen so far, so each one fills about one page: a window that holds
  1,050 rows costs two requests, one that holds 900 costs one. The first window is short (10 min);
  each next one is the last one's call rate times the target, never more than `growth` times longer
  (a quiet night says little about the morning).
- Shared, short-lived results. Two diagnoses running at once walk the same windows (the first ends
  on a whole minute and the sizes follow deterministically from the same pages), and a window's
  result is fetched once and kept for `cache_ttl`. What is kept is every unsuccessful row of the
  window, in both directions and whatever its number, so any diagnosis can use it.
- Pages are streamed: each page is filtered as it arrives and dropped. They are decoded with
  msgspec into a struct of the 14 fields the search reads (the rest is skipped, not built), then
  filtered on those fields; only the user's unsuccessful calls become `CallRecord`s. A
  100,000-call day costs a fraction of what `json.loads` alone would (docs/benchmarks.md).
- Memory does not grow with the tenant's call volume: a window keeps at most
  `MAX_SHARED_FAILED` unsuccessful calls for other searches; past that it keeps only those of the
  user of the search that read it, and another search re-reads the window for its own user. A
  search keeps the newest `MAX_CALLS_KEPT` of the user's calls and counts the rest by signature.
- The call rate is remembered for an hour: the next search starts with a window sized to hold
  about one page at that rate instead of the blind 10 minutes. A quiet tenant's week is then one
  request instead of five or six sequential ones; a busy tenant's first window is one page, not two.

A row is the user's when its `userId` is the user's. Rows of reverse-number-lookup failures have
no user (Microsoft never found one), so inbound rows are also matched on `calleeNumber`, outbound
ones on `callerNumber`; masked numbers (`+1425555****`) on their visible digits, and such a match
is marked partial.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from yarl import URL

from bot.diagnosis.catalogue import Direction, direction_of, is_failure
from bot.diagnosis.errors import SourceUnavailable
from bot.diagnosis.evidence import CallPage, CallQuery, CallRecord, CallSearch
from bot.diagnosis.phone import is_masked, masked_prefix_match, to_e164
from bot.diagnosis.times import as_utc
from bot.sources.graph_odata import API_VERSION, key_insensitive, odata_time, parse_time, same_origin

log = logging.getLogger(__name__)

PAGE_ROWS = 1000  # Graph's page size for the call log
MAX_PAGES_PER_WINDOW = 5000  # a safety net against a server that links back to itself
MAX_SHARED_FAILED = 2000  # unsuccessful calls a window keeps for other searches (about 1.5 MB)
MAX_CALLS_KEPT = 500  # the user's newest calls a search keeps as records; the rest are only counted
REPRESENTATIVE_SPAN = timedelta(hours=24)  # read this far before the newest failure, then stop

PageFetcher = Callable[[URL], Awaitable[bytes]]  # one page's body, undecoded


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
    rate_ttl: timedelta = timedelta(hours=1)  # how long a search's call rate sizes the next first window


@dataclass(frozen=True)
class WindowScan:
    """One window of the call log, read to its last page (or not: `complete`)."""

    start: datetime
    end: datetime
    rows: int
    pages: int
    unsuccessful: tuple[Row, ...]  # as decoded: a CallRecord is made only for a match
    complete: bool = True
    # None: every unsuccessful call of the window is in `unsuccessful`. Otherwise the window had
    # more than MAX_SHARED_FAILED of them and only those of this user were kept.
    kept_for: _User | None = None

    def serves(self, user: _User) -> bool:
        """Whether this scan holds every unsuccessful call of `user` (or must be re-read for it)."""
        return self.kept_for is None or self.kept_for.covers(user)


@dataclass(frozen=True)
class _User:
    """Whom a search looks for: a user id and/or numbers (E.164), in any direction."""

    numbers: tuple[str, ...]
    user_id: str | None

    def covers(self, other: _User) -> bool:
        return set(self.numbers).issuperset(other.numbers) and (
            other.user_id is None or other.user_id.lower() == (self.user_id or "").lower()
        )

    def owns(self, row: Row) -> bool:
        """Whether `row` may be this user's call, in either direction."""
        if _user_of(row) is not None:
            return self.is_me(row)
        return (
            callee_match(row.calleeNumber, self.numbers) is not None
            or callee_match(row.callerNumber, self.numbers) is not None
        )

    def is_me(self, row: Row) -> bool:
        return bool(self.user_id) and (_user_of(row) or "").lower() == (self.user_id or "").lower()


def _user_of(row: Row) -> str | None:
    """The row's `userId`: Microsoft found the user. A row without one (a reverse number lookup that
    found no one) can only be matched on its numbers; a row with another user's id is never ours,
    whatever its numbers (masked ones would match a whole block of a company's numbers)."""
    return row.userId if isinstance(row.userId, str) and row.userId.strip() else None


# ---------------------------------------------------------------------------------------------
# Rows


class Row(msgspec.Struct, gc=False):
    """The fields of a `directRoutingLogRow` the search reads (named as Graph names them, so msgspec
    maps them as they are); decoding skips all the others."""

    callType: str | None = None
    successfulCall: bool | None = None
    calleeNumber: str | None = None
    callerNumber: str | None = None
    correlationId: str | None = None
    failureDateTime: str | None = None
    inviteDateTime: str | None = None
    startDateTime: str | None = None
    finalSipCode: int | str | None = None
    callEndSubReason: int | str | None = None
    finalSipCodePhrase: str | None = None
    trunkFullyQualifiedDomainName: str | None = None
    userId: str | None = None
    userPrincipalName: str | None = None


ROW_FIELDS = Row.__struct_fields__


class _Page(msgspec.Struct):
    value: list[Row] | None = None
    next_link: str | None = msgspec.field(name="@odata.nextLink", default=None)


_PAGE = msgspec.json.Decoder(_Page)
_TOP_LEVEL = msgspec.json.Decoder(dict[str, msgspec.Raw])


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_link: object  # `@odata.nextLink` (any case) as sent: a string, absent (None) or garbage


def decode_page(body: bytes) -> Page:
    """A call-log page: its rows (as `Row`s) and its next link; SourceUnavailable when unreadable.

    One pass straight into `Row`s for the page as Graph writes it. A page whose fields have types
    Graph does not document (a number as a string, an object where text belongs) is decoded again
    generically and read leniently, as `call_record` always did: one odd row must not cost the
    whole search. The next link's key is read in any case, as FACTS.md asks, at the price of a
    second look only at pages without Graph's own spelling of it (a window's last page).
    """
    try:
        page = _PAGE.decode(body)
    except msgspec.ValidationError:
        return _lenient_page(body)
    except msgspec.DecodeError:
        raise SourceUnavailable("a page of the call log was not a JSON object", source="graph") from None
    if page.value is None:
        raise SourceUnavailable("a page of the call log had no list of calls", source="graph")
    next_link: object = page.next_link
    if next_link is None:
        next_link = _next_link(_TOP_LEVEL.decode(body))
    return Page(rows=page.value, next_link=next_link)


def _lenient_page(body: bytes) -> Page:
    try:
        top = _TOP_LEVEL.decode(body)
    except msgspec.DecodeError:
        raise SourceUnavailable("a page of the call log was not a JSON object", source="graph") from None
    raw_rows = top.get("value")
    if raw_rows is None:
        raise SourceUnavailable("a page of the call log had no list of calls", source="graph")
    return Page(rows=_lenient_rows(raw_rows), next_link=_next_link(top))


def _next_link(top: dict[str, msgspec.Raw]) -> object:
    link = key_insensitive(top, "@odata.nextLink")
    return msgspec.json.decode(link) if isinstance(link, msgspec.Raw) else link


def _lenient_rows(raw: msgspec.Raw) -> list[Row]:
    values = json.loads(bytes(raw))
    if not isinstance(values, list):
        raise SourceUnavailable("a page of the call log had no list of calls", source="graph")
    return [row_from_mapping(v) for v in values if isinstance(v, dict)]


def row_from_mapping(row: Mapping[str, Any]) -> Row:
    """A `Row` from a row of any shape: a field of an unexpected type counts as absent."""
    kept: dict[str, Any] = {}
    for name in ROW_FIELDS:
        value = row.get(name)
        if name == "successfulCall":
            kept[name] = value if isinstance(value, bool) else None
        elif name in ("finalSipCode", "callEndSubReason"):
            kept[name] = value if isinstance(value, (int, str)) and not isinstance(value, bool) else None
        else:
            kept[name] = value if isinstance(value, str) else None
    return Row(**kept)


def is_unsuccessful(row: Row | Mapping[str, Any]) -> bool:
    """`successfulCall` false and a Direct Routing `callType` (`ByotIn…` or `ByotOut…`, any case)."""
    if isinstance(row, Row):
        successful, call_type = row.successfulCall, row.callType
    else:
        successful, call_type = row.get("successfulCall"), row.get("callType")
    return successful is False and direction_of(call_type) is not None


def call_record(row: Row | Mapping[str, Any]) -> CallRecord:
    """A `directRoutingLogRow` as a CallRecord; unset times (`0001-01-01…`) become None."""
    if not isinstance(row, Row):
        row = row_from_mapping(row)
    return CallRecord(
        correlation_id=_text(row.correlationId),
        at=parse_time(row.failureDateTime) or parse_time(row.inviteDateTime) or parse_time(row.startDateTime),
        call_type=_text(row.callType),
        successful=row.successfulCall is True,
        caller_number=_text(row.callerNumber),
        callee_number=_text(row.calleeNumber),
        sip_code=_int(row.finalSipCode),
        sub_code=_int(row.callEndSubReason),
        phrase=_text(row.finalSipCodePhrase),
        trunk_fqdn=_text(row.trunkFullyQualifiedDomainName),
        user_id=_text(row.userId),
        user_principal_name=_text(row.userPrincipalName),
    )


def match_callee(record: CallRecord, targets: Sequence[str]) -> CallRecord | None:
    """The record if its callee is one of `targets` (E.164), marked partial when matched on a mask."""
    how = callee_match(record.callee_number, targets)
    if how is None:
        return None
    return _with_partial(record) if how == "partial" else record


def callee_match(callee: str | None, targets: Sequence[str]) -> str | None:
    """ "exact" when `callee` is one of `targets` (E.164), "partial" when it fits one on its visible
    digits (a masked number), None otherwise."""
    if not callee:
        return None
    if (
        callee[:1] == "+" and callee[1:].isascii() and callee[1:].isdigit()
    ):  # Graph's usual E.164: no need to parse it
        return "exact" if callee in targets else None
    if is_masked(callee):
        return "partial" if any(masked_prefix_match(callee, target) for target in targets) else None
    number = to_e164(callee)
    return "exact" if number is not None and number in targets else None


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


class _Progress:
    """What a search has found so far: the user's calls in its direction, counted and kept."""

    def __init__(self, direction: str, user: _User):
        self.direction = direction
        self.user = user
        self.search = CallSearch()
        self.pages = 0
        self.oldest: datetime | None = None
        self.complete = True
        self.rows = 0
        self.span = timedelta(0)
        self.newest_failure: datetime | None = None

    def take(self, scan: WindowScan) -> None:
        self.pages += scan.pages
        # A window cut short was read only in part (its rows come in no time order): the search
        # reached back to its end, not its start.
        self.oldest = scan.start if scan.complete else scan.end
        self.rows += scan.rows
        self.span += scan.end - scan.start
        if not scan.complete:
            self.complete = False
        for row in scan.unsuccessful:
            record = self._record(row)
            if record is None:
                continue
            self.search.tally(record)
            self.search.calls.append(record)
            if record.at is not None and is_failure(self.direction, record.sip_code, record.sub_code):
                if self.newest_failure is None or record.at > self.newest_failure:
                    self.newest_failure = record.at
        if len(self.search.calls) > 2 * MAX_CALLS_KEPT:
            self._trim()

    def representative(self, start: datetime) -> bool:
        """Read far enough: 24 hours before the newest failure found."""
        return self.newest_failure is not None and start <= self.newest_failure - REPRESENTATIVE_SPAN

    def result(self, since: datetime, until: datetime) -> CallSearch:
        self._trim()
        search = self.search
        search.window_start = self.oldest or (since if self.complete else until)
        search.window_end = until
        search.pages_scanned = self.pages
        search.rows_read = self.rows
        search.complete = self.complete
        return search

    def _record(self, row: Row) -> CallRecord | None:
        if direction_of(row.callType) != self.direction:
            return None
        if _user_of(row) is not None:
            how = "exact" if self.user.is_me(row) else None
        else:
            number = row.calleeNumber if self.direction == "inbound" else row.callerNumber
            how = callee_match(number, self.user.numbers)
        if how is None:
            return None
        record = call_record(row)
        return _with_partial(record) if how == "partial" else record

    def _trim(self) -> None:
        self.search.calls.sort(key=lambda r: r.at or _OLDEST, reverse=True)
        del self.search.calls[MAX_CALLS_KEPT:]


_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Rate:
    rows_per_second: float
    learned_at: datetime


@dataclass(frozen=True)
class _FirstWindow:
    size: timedelta
    chosen_at: datetime


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
        self._rate: _Rate | None = None
        self._first: _FirstWindow | None = None

    async def user_calls(self, query: CallQuery) -> CallSearch:
        """The user's unsuccessful calls in `query.direction`, newest first (module docstring)."""
        user = _User(
            tuple(sorted({n for n in (to_e164(raw) for raw in query.numbers if raw) if n})),
            (query.user_id or "").strip() or None,
        )
        since, until = as_utc(query.since), as_utc(query.until)
        since = max(since, until - self.limits.max_span)
        if (not user.numbers and not user.user_id) or since >= until:
            return CallSearch(window_start=since, window_end=until, pages_scanned=0, complete=True)

        deadline = self._clock() + timedelta(seconds=self.limits.time_budget_s)
        progress = _Progress(query.direction, user)
        end = _ceil_minute(until)
        size = self._first_size()
        while end > since:
            if self._clock() >= deadline:
                progress.complete = False
                break
            start = max(since, end - size)
            try:
                scan = await self._window(start, end, deadline, user)
            except SourceUnavailable:
                if progress.pages == 0:
                    raise
                progress.complete = False  # what was read still counts
                break
            progress.take(scan)
            if not scan.complete or progress.representative(start):
                break
            size = self._next_size(scan)
            end = start

        if progress.complete and progress.span:
            self._learn(progress)
        return progress.result(since, until)

    # -- windows -------------------------------------------------------------------------------

    async def _window(self, start: datetime, end: datetime, deadline: datetime, user: _User) -> WindowScan:
        key = (self._endpoint, odata_time(start), odata_time(end))
        scan = await self._cache.get(key, lambda: self._read_window(start, end, deadline, user))
        if scan.serves(user):
            return scan
        # A crowded window read for another user kept only theirs: read it again for ours.
        return await self._read_window(start, end, deadline, user)

    async def _read_window(
        self, start: datetime, end: datetime, deadline: datetime, user: _User
    ) -> WindowScan:
        url: URL | None = self.first_page_url(start, end)
        rows = pages = 0
        kept = _Kept(user)
        seen: set[int] = set()
        while url is not None:
            if pages >= MAX_PAGES_PER_WINDOW or hash(str(url)) in seen:
                raise SourceUnavailable("the call log kept linking to pages already read", source="graph")
            seen.add(hash(str(url)))
            page = decode_page(await self._fetch_page(url))
            pages += 1
            rows += len(page.rows)
            for row in page.rows:
                if row.successfulCall is False and is_unsuccessful(row):  # the cheap test first
                    kept.add(row)
            url = self._next_url(page.next_link)
            if url is not None and self._clock() >= deadline:
                log.info("call log window cut short by the time budget", extra={"pages": pages})
                return kept.scan(start, end, rows, pages, complete=False)
        log.debug("call log window", extra={"from": odata_time(start), "to": odata_time(end), "rows": rows})
        return kept.scan(start, end, rows, pages, complete=True)

    def first_page_url(self, start: datetime, end: datetime) -> URL:
        return call_log_url(self._endpoint, start, end)

    def _next_url(self, link: object) -> URL | None:
        return next_page_url(link, self._endpoint)

    # -- window sizes --------------------------------------------------------------------------

    def _first_size(self) -> timedelta:
        """The first window: the last search's while its windows may still be cached (so that the
        two share them), else about one page at the rate seen within the hour, else `first_window`."""
        now = self._clock()
        last = self._first
        if last is not None and now - last.chosen_at <= self.limits.cache_ttl:
            return last.size
        size = self._size_for_rate(now)
        self._first = _FirstWindow(size, now)
        return size

    def _size_for_rate(self, now: datetime) -> timedelta:
        limits, rate = self.limits, self._rate
        if rate is None or now - rate.learned_at > limits.rate_ttl:
            return limits.first_window
        if rate.rows_per_second <= 0:
            return limits.max_span
        seconds = limits.target_rows / rate.rows_per_second
        size = max(limits.min_window, min(timedelta(seconds=seconds), limits.max_span))
        return timedelta(seconds=math.floor(size.total_seconds()))

    def _learn(self, progress: _Progress) -> None:
        self._rate = _Rate(progress.rows / progress.span.total_seconds(), self._clock())

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


def call_log_url(endpoint: str, start: datetime, end: datetime) -> URL:
    """The first page of the call log for [start, end]."""
    function = f"getDirectRoutingCalls(fromDateTime={odata_time(start)},toDateTime={odata_time(end)})"
    return URL(f"{endpoint.rstrip('/')}/{API_VERSION}/communications/callRecords/{function}", encoded=True)


def next_page_url(link: object, endpoint: str) -> URL | None:
    """`@odata.nextLink`, passed on exactly as sent, and only to the Graph host we trust."""
    if not link:
        return None
    if not isinstance(link, str) or not same_origin(link, endpoint):
        raise SourceUnavailable("the call log linked to a page outside Microsoft Graph", source="graph")
    return URL(link, encoded=True)


# ---------------------------------------------------------------------------------------------
# The whole tenant's log (the sweep)

SWEEP_WINDOW = timedelta(days=1)  # the period is read a day at a time, the newest day first


def sweep_windows(
    since: datetime, until: datetime, span: timedelta = SWEEP_WINDOW
) -> list[tuple[datetime, datetime]]:
    """[since, until] as windows of at most `span`, newest first: a sweep the time budget stops
    early has read the most recent calls, and no window grows past MAX_PAGES_PER_WINDOW pages."""
    windows = []
    end = as_utc(until)
    since = as_utc(since)
    while end > since:
        start = max(since, end - span)
        windows.append((start, end))
        end = start
    return windows


async def stream_tenant_calls(
    first_urls: Sequence[URL],
    fetch_page: PageFetcher,
    endpoint: str,
    *,
    worked_for: frozenset[str] = frozenset(),
    pace: Callable[[], float | None] = lambda: None,
) -> AsyncIterator[CallPage]:
    """Every page of every window, in order, each as a `CallPage`.

    The chain of next links is the one wait a sweep cannot avoid, so a fetcher of its own walks it:
    it reads each page's next link off the page's end (`peek_next_link`) and asks for the next page
    at once, while the pages already in are decoded and counted here. At most `PREFETCHED` pages
    wait between the two, so memory stays that of a few pages."""
    pages: asyncio.Queue[tuple[bytes, object] | BaseException | None] = asyncio.Queue(PREFETCHED)
    fetcher = asyncio.ensure_future(_walk(list(first_urls), fetch_page, endpoint, pages))
    try:
        while True:
            item = await pages.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            body, link = item
            page = decode_page(body)
            if link is not _UNREAD and str(next_page_url(page.next_link, endpoint)) != str(link):
                raise SourceUnavailable(
                    "a page of the call log named two different next pages", source="graph"
                )
            yield call_page(page.rows, worked_for, pace())
    finally:
        fetcher.cancel()
        with contextlib.suppress(BaseException):
            await fetcher


PREFETCHED = 2  # pages fetched ahead of the one being read
_UNREAD = object()  # the fetcher could not read the next link off the page's end: the page decides


async def _walk(urls: list[URL], fetch_page: PageFetcher, endpoint: str, pages: asyncio.Queue) -> None:
    """Fetch every page of every window one after another onto `pages`; then None, or the error."""
    try:
        seen: set[int] = set()
        for first in urls:
            url: URL | None = first
            in_window = 0
            while url is not None:
                if hash(str(url)) in seen or in_window >= MAX_PAGES_PER_WINDOW:
                    raise SourceUnavailable("the call log kept linking to pages already read", source="graph")
                seen.add(hash(str(url)))
                body = await fetch_page(url)
                in_window += 1
                peeked = peek_next_link(body)
                if peeked is not None:
                    url = next_page_url(peeked, endpoint)
                    told: object = url
                else:  # not at the end where Graph writes it: the page is read for it, in any case
                    url, told = next_page_url(decode_page(body).next_link, endpoint), _UNREAD
                await pages.put((body, told))
        await pages.put(None)
    except asyncio.CancelledError:
        raise
    except Exception as error:  # the reader raises it, in order, after the pages before it
        await pages.put(error)


# `…, "@odata.nextLink": "https://…"}` at the very end of a page: the top-level object's last member
# (a member of a row would be followed by `}]`, not by the end of the document).
_TAIL_LINK = re.compile(rb'[,{]\s*"@odata\.nextLink"\s*:\s*"((?:[^"\\]|\\.)*)"\s*}\s*$')


def peek_next_link(body: bytes) -> str | None:
    """The next link when Graph wrote it as the page's last member (as it does), else None (the
    decoded page then says, in any case and any position)."""
    found = _TAIL_LINK.search(body[-4096:])
    if found is None:
        return None
    try:
        link = json.loads(b'"' + found.group(1) + b'"')
    except ValueError:
        return None
    return link if isinstance(link, str) else None


def call_page(rows: Sequence[Row], worked_for: frozenset[str], pace: float | None = None) -> CallPage:
    """A page's rows read for the sweep: its unsuccessful calls as records, and which of the
    users in `worked_for` (object ids in lower case) had a successful call."""
    unsuccessful = []
    worked: set[tuple[str, Direction]] = set()
    for row in rows:
        if row.successfulCall is False:
            if is_unsuccessful(row):
                unsuccessful.append(call_record(row))
        elif worked_for and row.successfulCall is True and isinstance(row.userId, str):
            user = row.userId.lower()
            direction = direction_of(row.callType) if user in worked_for else None
            if direction is not None:
                worked.add((user, direction))
    return CallPage(len(rows), tuple(unsuccessful), frozenset(worked), pace)


class _Kept:
    """The unsuccessful calls a window keeps: all of them up to MAX_SHARED_FAILED (so that other
    searches can use the window), past that only those of `user` (so memory stays flat)."""

    def __init__(self, user: _User):
        self.user = user
        self.rows: list[Row] = []
        self.crowded = False

    def add(self, row: Row) -> None:
        if self.crowded:
            if self.user.owns(row):
                self.rows.append(row)
            return
        self.rows.append(row)
        if len(self.rows) > MAX_SHARED_FAILED:
            self.crowded = True
            self.rows = [r for r in self.rows if self.user.owns(r)]

    def scan(self, start: datetime, end: datetime, rows: int, pages: int, *, complete: bool) -> WindowScan:
        kept_for = self.user if self.crowded else None
        return WindowScan(start, end, rows, pages, tuple(self.rows), complete, kept_for)


def _ceil_minute(value: datetime) -> datetime:
    """Window ends on whole minutes, so searches started within the same minute share windows."""
    floor = value.replace(second=0, microsecond=0)
    return floor if floor == value else floor + timedelta(minutes=1)
