"""What 8x8 holds for a user, from the 8x8 Administration API (User Management, v1).

Why it matters: the most telling check of the inbound-calls problem is whether the number 8x8
holds for the user is the number Microsoft holds. This module gets the 8x8 side.

The API (FACTS.md, "8x8"): `GET {base}/admin-provisioning/users?filter=<RSQL>` and
`GET {base}/admin-provisioning/users/{userId}`, header `x-api-key`, version chosen by media type
(`Accept: application/vnd.users.v1+json`), scroll paging (`pagination.nextScrollId` while
`pagination.hasMore`; the following pages carry *only* `scrollId` — with `filter` too the service
answers 400), RFC 7807 problem bodies, and a tight per-key rate limit signalled with
`x-ratelimit-remaining` / `x-ratelimit-reset`. The API is a limited-access beta: a 401 means the
key is missing, wrong or revoked (make a new one), a 403 that its app lacks the API product (add
"UC & CC User Admin") or that it is another customer's; the check says which instead of guessing.
Below 10 requests left the client spreads the rest until the reset. Where the key also reaches
8x8's Audit Records, `number_change` says when a person's number last changed.

Every failure is a `SourceError` whose message is one sentence naming 8x8, so the engine can put
it straight into an `unknown` check. The key never reaches a log line or an error message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from bot.config import Settings
from bot.diagnosis.errors import PermissionMissing, SourceError, SourceNotConfigured, SourceUnavailable
from bot.diagnosis.evidence import EightByEightUser, NumberChange, best_eightbyeight_match
from bot.diagnosis.phone import to_e164
from bot.sources.http import HttpClient, HttpResponse, RetryPolicy, retry_after_seconds

log = logging.getLogger(__name__)

SOURCE = "8x8"
MEDIA_TYPE = "application/vnd.users.v1+json"
API_PATH = "/admin-provisioning"
USER_NAME = "basicInfo.userName"
PRIMARY_EMAIL = "basicInfo.primaryEmail"

AUDIT_PATH = "/administration/audit/v1/audits"  # Audit Records, beside the Administration API
AUDIT_DAYS = 30  # 8x8 allows at most 31 days between startTime and endTime
AUDIT_PAGE_SIZE = 100  # the service's ceiling
MAX_AUDIT_PAGES = 5  # 500 user and extension changes in a month; past that the newest seen is kept
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000  # the service's ceiling
DEFAULT_MAX_PAGES = 20  # an equality filter matches a handful of users; this only stops a runaway scroll
MAX_SCAN_PAGES = 1000  # the whole company, 1,000 a page: a million users before a runaway scroll stops
MAX_DETAIL_FETCHES = 5
SCAN_MAX_WAIT = 90.0  # a scan's page waits this long for the rate limit to reset (a window is a minute)
SCAN_RETRY = RetryPolicy(
    attempts=6, total_seconds=120.0, request_timeout=30.0
)  # candidates whose list entry lacks serviceInfo, fetched one by one

# 8x8 user names are restricted to these characters (User API v1 schema): anything else cannot be
# a user name, so there is no point spending a rate-limited request on asking.
_USER_NAME_CHARACTERS = re.compile(r"^[A-Za-z0-9.@\-_/]+$")
# RSQL: a value containing any of these (or whitespace) must be quoted.
_RSQL_RESERVED = frozenset("\"'();,=!~<>\\")

# 401 and 403 mean different things and call for different fixes (FACTS.md, "8x8").
KEY_REFUSED = (
    "the key is missing, wrong or revoked — create a new API key in 8x8 Admin Console (API access) "
    "and set EIGHTBYEIGHT_API_KEY to it, or give the user's 8x8 number instead"
)
PRODUCT_MISSING = (
    'the key is not allowed to use 8x8\'s user management — add the API product "UC & CC User Admin" '
    "(User Management) to the key's app in 8x8 Admin Console (API access), or ask 8x8 to enable it; "
    "a key of another 8x8 customer is refused the same way"
)
SLOW_BELOW = 10  # 8x8 asks clients to slow down when fewer requests than this are left

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]


class EightByEightApiSource:
    """`EightByEightSource` backed by the live 8x8 Administration API.

    Shares the process's one `HttpClient` (its session, timeouts, retries, TLS trust and proxy
    settings) with the Graph source. `clock` returns epoch seconds and `sleep` waits: both are
    injectable so rate-limit waits can be tested without waiting.
    """

    name = SOURCE

    def __init__(
        self,
        settings: Settings,
        http: HttpClient,
        *,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_pages: int = DEFAULT_MAX_PAGES,
        scan_page_size: int = MAX_PAGE_SIZE,
        max_scan_pages: int = MAX_SCAN_PAGES,
        max_rate_limit_wait: float | None = None,
    ):
        self._key = settings.eightbyeight_api_key
        self._api = api_root(settings.eightbyeight_api_base)
        self._http = http
        self._clock: Clock = clock or time.time
        self._sleep = sleep
        self._page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self._max_pages = max(1, max_pages)
        self._scan_page_size = max(1, min(scan_page_size, MAX_PAGE_SIZE))
        self._max_scan_pages = max(1, max_scan_pages)
        # Never wait for a rate-limit window longer than the HTTP client would wait for a retry.
        self._max_wait = http.policy.total_seconds if max_rate_limit_wait is None else max_rate_limit_wait
        self._not_before = 0.0  # epoch seconds: the key's request budget is used up until then
        # (requests left, reset at, answered at): fewer than SLOW_BELOW left, so they are spread out
        self._low: tuple[int, float, float] | None = None

    def __repr__(self) -> str:  # the key stays out of reprs, hence out of logs and tracebacks
        return f"EightByEightApiSource(api={self._api!r})"

    # -----------------------------------------------------------------------------------------
    # EightByEightSource

    async def find_user(self, user_principal_name: str, mail: str | None = None) -> EightByEightUser | None:
        """The 8x8 user for a Microsoft user: by user name, then by primary e-mail, for the UPN
        and then for `mail`. None when 8x8 has no such user.

        Both fields are searched because they differ in practice: 8x8 user names cannot contain
        `'`, so a user whose e-mail has one was given some other user name.
        """
        self._require_key()
        for selector, value in search_order(user_principal_name, mail):
            found = await self._search(selector, value)
            if found:
                return await self._choose(found)
        return None

    async def users(self) -> AsyncIterator[EightByEightUser]:
        """Every 8x8 user, scroll-paged: the first page asks for `pageSize`, each following page
        sends only `scrollId` (the service rejects a scroll with other parameters). Every page goes
        through the same rate-limit manners as a search. List entries carry the numbers in their
        `serviceInfo`; 8x8 warns that list and single-user payloads may differ, so an entry
        without `serviceInfo` is read alone (`GET /users/{userId}`) before it counts as having no
        number. Such users come with `read_alone` set, so the sweep can say how many there were."""
        self._require_key()
        params: dict[str, str] = {"pageSize": str(self._scan_page_size)}
        for _ in range(self._max_scan_pages):
            page = await self._get_json(self._api + "/users", params, what="user list", scan=True)
            for raw in _list(page.get("data")):
                if not isinstance(raw, dict):
                    continue
                if "serviceInfo" in raw:
                    yield user_from_json(raw)
                else:
                    yield replace(user_from_json(await self._details(raw, scan=True)), read_alone=True)
            scroll_id = _next_scroll_id(page)
            if scroll_id is None:
                return
            params = {"scrollId": scroll_id}
        raise SourceUnavailable(
            f"8x8 was not read to the end: its user list went on past {self._max_scan_pages} pages.",
            source=SOURCE,
        )

    async def probe(self) -> tuple[bool, str]:
        """Whether the key works, with one minimal request (for `python -m bot doctor`)."""
        if not self._key:
            return False, (
                "EIGHTBYEIGHT_API_KEY is not set: without it the 8x8 checks are reported as not "
                "configured (the admin can give the user's 8x8 number instead)."
            )
        try:
            await self._get_json(self._api + "/users", {"pageSize": "1"}, what="probe")
        except PermissionMissing as error:
            return False, str(error)
        except SourceUnavailable as error:
            return False, f"{str(error).rstrip('.')}; check EIGHTBYEIGHT_API_BASE and the network path to it."
        return True, "8x8 Administration API reachable"

    async def number_change(self, user: EightByEightUser, now: datetime) -> NumberChange | None:
        """The newest change of the user's numbers in 8x8's Audit Records (`GET
        /administration/audit/v1/audits`, service `platform`, entity types user and extension, the
        30 days before `now`, scroll-paged by `scrollId` until it comes back null).

        A record is the user's when its `entityKey` (a user) or `correlationId` (an extension changed
        in the user's change set) is the user's id, or when the numbers it changed include one of
        the user's. The changed attributes are in `details`, a JSON string `{"new": {…}, "old":
        {…}}`; which attribute names carry numbers is not documented, so any phone-number-like
        value under a name with "phone" or "number" in it counts (inference). The key may lack the
        Audit Records product: that is a SourceError (the diagnosis says "unknown"), never a crash.
        """
        self._require_key()
        end = now.astimezone(UTC)
        params: dict[str, str] = {
            "startTime": _audit_time(end - timedelta(days=AUDIT_DAYS)),
            "endTime": _audit_time(end),
            "service": "platform",
            "entityTypes": "user,extension",
            "size": str(AUDIT_PAGE_SIZE),
        }
        newest: NumberChange | None = None
        for _ in range(MAX_AUDIT_PAGES):
            page = await self._get_json(
                self._audit_url,
                params,
                what="audit records",
                accept="application/json",
                product="Audit Records",
            )
            for record in _list(page.get("data")):
                change = number_change_of(record, user) if isinstance(record, dict) else None
                if change is not None and (newest is None or change.at > newest.at):
                    newest = change
            scroll_id = _str(_dict(page.get("meta")).get("scrollId"))
            if not scroll_id or not _list(page.get("data")):
                break
            params = {**params, "scrollId": scroll_id}
        return newest

    async def probe_audit(self, now: datetime) -> tuple[bool, str]:
        """Whether the key reaches 8x8's Audit Records (optional: `python -m bot doctor`)."""
        end = now.astimezone(UTC)
        params = {
            "startTime": _audit_time(end - timedelta(days=1)),
            "endTime": _audit_time(end),
            "service": "platform",
            "size": "1",
        }
        try:
            await self._get_json(
                self._audit_url,
                params,
                what="audit records",
                accept="application/json",
                product="Audit Records",
            )
        except SourceError as error:
            return False, str(error)
        return True, "8x8 Audit Records reachable: a number-mismatch says when 8x8's number changed"

    @property
    def _audit_url(self) -> str:
        return self._api.removesuffix(API_PATH) + AUDIT_PATH

    # -----------------------------------------------------------------------------------------
    # Searching and reading users

    async def _search(self, selector: str, value: str) -> list[dict[str, Any]]:
        """Every user matching `selector==value`, following the scroll to its end (bounded)."""
        params: dict[str, str] = {"filter": rsql_equals(selector, value), "pageSize": str(self._page_size)}
        users: list[dict[str, Any]] = []
        for _ in range(self._max_pages):
            page = await self._get_json(self._api + "/users", params, what="user search")
            users.extend(u for u in _list(page.get("data")) if isinstance(u, dict))
            scroll_id = _next_scroll_id(page)
            if scroll_id is None:
                return users
            params = {"scrollId": scroll_id}  # the service rejects filter + scrollId (400)
        log.warning("8x8 user search stopped after %d pages", self._max_pages)
        return users

    async def _choose(self, found: list[dict[str, Any]]) -> EightByEightUser:
        """The best of several matches: an ACTIVE user with Teams enabled, then any ACTIVE one."""
        complete = []
        for position, raw in enumerate(found):
            if "serviceInfo" not in raw and position < MAX_DETAIL_FETCHES:
                raw = await self._details(raw)
            complete.append(user_from_json(raw))
        return best_eightbyeight_match(complete)

    async def _details(self, raw: dict[str, Any], *, scan: bool = False) -> dict[str, Any]:
        """The full user (`GET /users/{userId}`) when the list entry came without serviceInfo."""
        user_id = _basic(raw).get("userId")
        if not isinstance(user_id, str) or not user_id:
            return raw
        url = f"{self._api}/users/{quote(user_id, safe='')}"
        detailed = await self._get_json(url, None, what="user details", missing_ok=True, scan=scan)
        return detailed if detailed is not None else raw

    # -----------------------------------------------------------------------------------------
    # HTTP

    async def _get_json(
        self,
        url: str,
        params: Mapping[str, str] | None,
        *,
        what: str,
        missing_ok: bool = False,
        scan: bool = False,
        accept: str = MEDIA_TYPE,
        product: str = "",
    ) -> Any:
        """One GET with the key, media type and rate-limit manners; the JSON body, or an error.

        A page of a whole-company scan (`scan`) waits out a whole rate-limit window (8x8 resets a
        minute at most) rather than give up: the sweep reading it is not a person waiting."""
        await self._wait_for_rate_limit(max(SCAN_MAX_WAIT, self._max_wait) if scan else self._max_wait)
        headers = {"x-api-key": self._key, "Accept": accept}
        if accept != MEDIA_TYPE:  # Audit Records document plain JSON and a content type
            headers["Content-Type"] = "application/json"
        try:
            response = await self._http.request(
                "GET",
                url,
                headers=headers,
                params=params,
                what=f"8x8 {what}",
                retry_wait=self._retry_wait,
                policy=SCAN_RETRY if scan else None,
            )
        except SourceUnavailable as error:
            throttled_for = self._not_before - self._clock()
            if "429" in str(error) and throttled_for > 0:
                raise self._rate_limited(throttled_for, "is throttling this key (HTTP 429)") from None
            raise SourceUnavailable(unavailable_sentence(str(error)), source=SOURCE, retryable=True) from None
        self._note_rate_limit(response.headers)
        if response.status == 200:
            body = _json_or_none(response)
            if not isinstance(body, dict):
                raise SourceUnavailable(
                    f"8x8 was not checked: the 8x8 Administration API's {what} answer was not the "
                    "expected JSON.",
                    source=SOURCE,
                )
            return body
        if response.status == 404 and missing_ok:
            return None
        if product and response.status in (403, 404):
            raise SourceUnavailable(
                f"8x8's {product} are not open to this key (HTTP {response.status}): adding that API product "
                "to the key's app in 8x8 Admin Console (API access) would show them.",
                source=SOURCE,
            )
        raise self._error_for(response, what)

    def _error_for(self, response: HttpResponse, what: str) -> Exception:
        """The one-sentence error for a non-200 answer that was not retried (or no longer)."""
        problem = self._scrub(problem_text(response))
        said = f" (8x8 said: {problem})" if problem else ""
        if response.status in (401, 403):
            what_to_do = KEY_REFUSED if response.status == 401 else PRODUCT_MISSING
            return PermissionMissing(
                f"8x8 refused the API key (HTTP {response.status}){said}: {what_to_do}.",
                permission="8x8 Administration API",
                source=SOURCE,
            )
        if response.status == 429:
            return SourceUnavailable(
                f"8x8 was not checked: the 8x8 Administration API kept throttling the {what} (HTTP 429){said}.",
                source=SOURCE,
                retryable=True,
            )
        return SourceUnavailable(
            f"8x8 was not checked: the 8x8 Administration API rejected the {what} "
            f"(HTTP {response.status}){said}.",
            source=SOURCE,
            retryable=response.status >= 500,
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key and text else text

    def _require_key(self) -> None:
        if not self._key:
            raise SourceNotConfigured(
                "8x8 was not checked: EIGHTBYEIGHT_API_KEY is not set (give the user's 8x8 number instead).",
                source=SOURCE,
            )

    # -----------------------------------------------------------------------------------------
    # Rate limits: 100 requests/min per key, bursts of 20 in 10 s

    async def _wait_for_rate_limit(self, max_wait: float) -> None:
        """Before a request: if the last answer said the budget is used up, wait for its reset;
        if it said fewer than `SLOW_BELOW` are left, spread those until the reset."""
        now = self._clock()
        wait = self._not_before - now
        if wait <= 0:
            wait = self._spread_wait(now)
            if wait <= 0:
                return
            log.info("slowing down for the 8x8 rate limit", extra={"wait_s": round(wait, 2)})
            await self._sleep(min(wait, max_wait))
            return
        if wait > max_wait:
            raise self._rate_limited(wait, "rate limit for this key is used up")
        log.info("waiting for the 8x8 rate limit to reset", extra={"wait_s": round(wait, 2)})
        await self._sleep(wait)

    def _spread_wait(self, now: float) -> float:
        """How long to wait so the last answer's few remaining requests last until its reset."""
        if self._low is None:
            return 0.0
        remaining, reset_at, last_at = self._low
        if reset_at <= now:
            self._low = None
            return 0.0
        gap = (reset_at - last_at) / (remaining + 1)
        return max(0.0, last_at + gap - now)

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        remaining = _int_or_none(headers.get("x-ratelimit-remaining"))
        if remaining is None:
            return
        now = self._clock()
        reset_at = reset_epoch(headers.get("x-ratelimit-reset"), now)
        if remaining == 0:
            if reset_at is not None:
                self._not_before = max(self._not_before, reset_at)
            self._low = None
        elif remaining < SLOW_BELOW and reset_at is not None:
            self._low = (remaining, reset_at, now)
        else:
            self._low = None

    def _retry_wait(self, response: HttpResponse) -> float | None:
        """For a 429: wait until `x-ratelimit-reset` (else `Retry-After`, else the default backoff).

        The reset is remembered too, so that later lookups wait for it (or give up at once)
        instead of spending the key's next requests on more 429s.
        """
        if response.status != 429:
            return None
        now = self._clock()
        reset_at = reset_epoch(response.headers.get("x-ratelimit-reset"), now)
        if reset_at is None:
            retry_after = retry_after_seconds(response.headers)
            reset_at = None if retry_after is None else now + retry_after
        if reset_at is None:
            return None
        self._not_before = max(self._not_before, reset_at)
        return max(0.0, reset_at - now)

    @staticmethod
    def _rate_limited(wait: float, what: str) -> SourceUnavailable:
        return SourceUnavailable(
            f"8x8 was not checked: the 8x8 Administration API {what} for another {wait:.0f} s "
            "(8x8 allows 100 requests a minute); try again after that.",
            source=SOURCE,
            retryable=True,
        )


# ---------------------------------------------------------------------------------------------
# Pure helpers (public: the fake, the benchmarks and the tests use them too)


def api_root(base: str) -> str:
    """`{EIGHTBYEIGHT_API_BASE}/admin-provisioning`, accepting a base that already ends with it."""
    base = base.rstrip("/")
    return base if base.endswith(API_PATH) else base + API_PATH


def search_order(user_principal_name: str, mail: str | None) -> list[tuple[str, str]]:
    """(selector, value) pairs to try, in order, without repeats or impossible user names."""
    order: list[tuple[str, str]] = []
    for value in (user_principal_name, mail):
        value = (value or "").strip()
        if not value:
            continue
        for selector in (USER_NAME, PRIMARY_EMAIL):
            if selector == USER_NAME and not _USER_NAME_CHARACTERS.match(value):
                continue
            if all((selector, value.lower()) != (s, v.lower()) for s, v in order):
                order.append((selector, value))
    return order


def rsql_value(value: str) -> str:
    """An RSQL argument: bare when safe, else double-quoted with `"` and `\\` escaped."""
    if value and not any(c in _RSQL_RESERVED or c.isspace() for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rsql_equals(selector: str, value: str) -> str:
    return f"{selector}=={rsql_value(value)}"


def reset_epoch(value: str | None, now: float) -> float | None:
    """`x-ratelimit-reset` as epoch seconds.

    The header is documented only by name, and services use it both ways: a large value is an
    epoch time (seconds, or milliseconds when larger still), a small one seconds from now.
    """
    try:
        number = float((value or "").strip())
    except ValueError:
        return None
    if number != number or number < 0:  # NaN or negative: unreadable
        return None
    if number >= 1e12:
        return number / 1000.0
    if number >= 1e9:
        return number
    return now + number


def user_from_json(raw: Mapping[str, Any]) -> EightByEightUser:
    """An `EightByEightUser` from a User API v1 `User` object (list entry or `GET /users/{id}`)."""
    basic = _basic(raw)
    extensions = [e for e in _list(_dict(raw.get("serviceInfo")).get("extensions")) if isinstance(e, dict)]
    teams_flags = [e.get("msTeamsEnabled") for e in extensions if isinstance(e.get("msTeamsEnabled"), bool)]
    names = [_str(basic.get("firstName")), _str(basic.get("lastName"))]
    return EightByEightUser(
        user_id=_str(basic.get("userId")) or "",
        user_name=_str(basic.get("userName")) or "",
        primary_email=_str(basic.get("primaryEmail")),
        status=(_str(basic.get("status")) or "").upper() or None,
        display_name=" ".join(n for n in names if n) or None,
        primary_number=primary_number(extensions),
        numbers=tuple(_unique(n for e in _ordered(extensions) for n in extension_numbers(e))),
        ms_teams_enabled=any(teams_flags) if teams_flags else None,
    )


def extension_numbers(extension: Mapping[str, Any]) -> list[str]:
    """An extension's numbers in E.164, primary first. The short `extensionNumber` is internal
    dialling only (not a DID), so it is not one of them."""
    raw: list[str] = []
    primary = _str(extension.get("primaryPhoneNumber"))
    if primary:
        raw.append(primary)
    entries = [p for p in _list(extension.get("phoneNumbers")) if isinstance(p, dict | str)]
    entries.sort(key=lambda p: not (isinstance(p, dict) and p.get("primary") is True))
    for entry in entries:
        number = _str(entry.get("phoneNumber")) if isinstance(entry, dict) else _str(entry)
        if number:
            raw.append(number)
    return _unique(e164 for e164 in (to_e164(n) for n in raw) if e164)


def primary_number(extensions: Sequence[Mapping[str, Any]]) -> str | None:
    """The number 8x8 gives Teams: the primary one of the Teams-enabled extension, when there is one."""
    for extension in _ordered(extensions):
        numbers = extension_numbers(extension)
        if numbers:
            return numbers[0]
    return None


def number_change_of(record: Mapping[str, Any], user: EightByEightUser) -> NumberChange | None:
    """An Audit Records entry as a change of `user`'s numbers, or None when it is not one."""
    details = _audit_details(record.get("details"))
    old, new = _phone_values(_dict(details.get("old"))), _phone_values(_dict(details.get("new")))
    if not old and not new or old == new:
        return None
    ids = {user.user_id} - {""}
    own = bool(ids & {_str(record.get("entityKey")), _str(record.get("correlationId"))})
    numbers = {user.primary_number, *user.numbers} - {None}
    if not own and not numbers & {*old, *new}:
        return None
    at = _audit_timestamp(record.get("auditTimestamp"))
    if at is None:
        return None
    return NumberChange(
        at=at,
        old=old[0] if old else None,
        new=new[0] if new else None,
        entity_type=_str(record.get("entityType")),
    )


def _audit_details(value: Any) -> Mapping[str, Any]:
    """`details` is JSON in a string (8x8's page); accept an object too."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return _dict(value)


def _phone_values(attributes: Mapping[str, Any]) -> list[str]:
    """The E.164 numbers among attributes named like phone numbers (the short extension aside)."""
    found: list[str] = []
    for name, value in attributes.items():
        lowered = str(name).lower()
        if "extension" in lowered or not ("phone" in lowered or "number" in lowered):
            continue
        for raw in value if isinstance(value, list) else [value]:
            if isinstance(raw, dict):
                raw = raw.get("phoneNumber")
            number = to_e164(raw) if isinstance(raw, str) and len(raw) >= 8 else None
            if number:
                found.append(number)
    return _unique(found)


def _audit_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _audit_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def problem_text(response: HttpResponse) -> str:
    """An RFC 7807 problem (`title`, `detail`, `errors[].message`) as one short line."""
    body = _json_or_none(response)
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    for part in (body.get("title"), body.get("detail")):
        if isinstance(part, str) and part.strip():
            parts.append(part.strip())
    for error in _list(body.get("errors")):
        message = _str(_dict(error).get("message"))
        if message:
            field = _str(_dict(error).get("field"))
            parts.append(f"{field}: {message}" if field else message)
    text = " — ".join(_unique(parts))
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def unavailable_sentence(http_message: str) -> str:
    """The HTTP client's "8x8 X failed: <reason>" as the check's sentence."""
    _, _, reason = http_message.partition(" failed: ")
    return f"8x8 was not checked: the 8x8 Administration API could not be used ({reason or http_message})."


# ---------------------------------------------------------------------------------------------
# JSON plumbing: the service's fields are all nullable


def _ordered(extensions: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Teams-enabled extensions first; otherwise the service's order."""
    return sorted(extensions, key=lambda e: e.get("msTeamsEnabled") is not True)


def _next_scroll_id(page: Mapping[str, Any]) -> str | None:
    pagination = _dict(page.get("pagination"))
    scroll_id = _str(pagination.get("nextScrollId"))
    return scroll_id if pagination.get("hasMore") is True and scroll_id else None


def _basic(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    return _dict(raw.get("basicInfo"))


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _int_or_none(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() else None


def _json_or_none(response: HttpResponse) -> Any:
    try:
        return response.json()
    except SourceUnavailable:
        return None
