"""A strict local fake of the 8x8 Administration API (User Management v1), over HTTPS on loopback.

Why strict: the product is tested against this instead of 8x8, so it must refuse what 8x8 refuses
(FACTS.md, "8x8"; the User API v1 OpenAPI document) or a mistake would pass here and fail live:

- `x-api-key` missing or wrong -> 401; `Accept` without `application/vnd.users.v1+json` -> 406;
- RSQL filters parsed for real: `==` / `!=`, `;` (and), `,` (or), quoted (`"…"` or `'…'`, with
  backslash escapes) and bare values; a bare value with a reserved character (`'`, `"`, space,
  `(`, `)`, `;`, `,`, …) -> 400, as is an unknown selector;
- scroll paging: `pageSize` (1..1000) and `pagination.nextScrollId` while `hasMore`; a request
  with `scrollId` and any other parameter -> 400 `CONFLICTING_QUERY_PARAMETER`;
- errors are RFC 7807 problem JSON with 8x8's `errors[]`;
- optionally the real rate limit (100 a minute) with `x-ratelimit-*` headers;
- Audit Records (`GET /administration/audit/v1/audits`): `startTime`, `endTime` (at most 31 days
  apart) and `service=platform` required, `size` 1..100, `entityTypes` filtered, scroll paging by
  `scrollId` (null on the last page), entries with `details` as a JSON string (`make_audit`);
- API products per key (`products`): a key without "users" or "audit" gets 403 there; list
  entries without `serviceInfo` for all users (`list_service_info=False`) or some (`bare_in_list`).

Fault injection (`fail`, `throttle`, `slow`, `inject`) covers 429 with reset headers, 401, 403,
5xx, answers slower than the client's timeout and custom problem bodies. Every request is
recorded (`requests`), with the key itself replaced by whether it was right.

Reusable by the HTTP tests, the end-to-end tests, benchmarks and fault matrices:

    async with FakeEightByEight(certificates, users=[make_user(...)]) as fake:
        settings = Settings(eightbyeight_api_key=fake.api_key, eightbyeight_api_base=fake.base_url)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.fakes.tls import TestCertificates

MEDIA_TYPE = "application/vnd.users.v1+json"
PROBLEM_TYPE = "application/problem+json"
DEFAULT_API_KEY = "eght_fake_3f9c0a7d5e1b4c2a"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
USERS_PATH = "/admin-provisioning/users"
AUDIT_PATH = "/administration/audit/v1/audits"
LIST_PARAMETERS = frozenset({"filter", "pageSize", "sort", "scrollId"})
AUDIT_PARAMETERS = frozenset(
    {
        "startTime",
        "endTime",
        "service",
        "displayName",
        "eventTypes",
        "entityTypes",
        "auditUserId",
        "size",
        "scrollId",
    }
)
AUDIT_MAX_DAYS = 31
AUDIT_MAX_SIZE = 100

SELECTORS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "basicInfo.userId": lambda u: u["basicInfo"].get("userId"),
    "basicInfo.userName": lambda u: u["basicInfo"].get("userName"),
    "basicInfo.primaryEmail": lambda u: u["basicInfo"].get("primaryEmail"),
    "basicInfo.status": lambda u: u["basicInfo"].get("status"),
    "basicInfo.firstName": lambda u: u["basicInfo"].get("firstName"),
    "basicInfo.lastName": lambda u: u["basicInfo"].get("lastName"),
}
_RESERVED = frozenset("\"'();,=!~<>\\")


# ---------------------------------------------------------------------------------------------
# Payload builders (the documented User API v1 shapes)


def make_extension(
    primary: str | None = None,
    numbers: Sequence[str | Mapping[str, Any]] = (),
    *,
    extension_number: str | None = "1001",
    ms_teams_enabled: bool | None = True,
    country: str = "US",
) -> dict[str, Any]:
    """A `serviceInfo.extensions[]` entry; `numbers` are strings or whole `PhoneNumber` objects."""
    phone_numbers = []
    for entry in numbers:
        if isinstance(entry, Mapping):
            phone_numbers.append(dict(entry))
        else:
            phone_numbers.append(
                {"country": country, "origin": "CLAIMED", "phoneNumber": entry, "primary": entry == primary}
            )
    return {
        "id": secrets.token_urlsafe(16),
        "extensionNumber": extension_number,
        "fqExtensionNumber": f"23{extension_number}" if extension_number else None,
        "extensionType": "UC",
        "msTeamsEnabled": ms_teams_enabled,
        "primaryPhoneNumber": primary,
        "phoneNumbers": phone_numbers,
        "externalCallerIdNumber": primary,
        "dialPlanCallingCountry": "NANP",
    }


def make_user(
    user_name: str,
    *,
    email: str | None = None,
    user_id: str | None = None,
    first_name: str = "Test",
    last_name: str = "User",
    status: str = "ACTIVE",
    extensions: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A User API v1 `User` object."""
    return {
        "basicInfo": {
            "userId": user_id or secrets.token_urlsafe(16),
            "customerId": "0012J00042NkZQIQA3",
            "userName": user_name,
            "firstName": first_name,
            "lastName": last_name,
            "status": status,
            "primaryEmail": email or user_name,
            "locale": "en-US",
            "timezone": "America/Los_Angeles",
            "site": {"id": "SAH3U8guQaK4WQhpDZi0rQ", "name": "Headquarters", "pbxName": "contoso01"},
        },
        "directoryInfo": {"displayInDirectory": True, "directoryScope": "PBX"},
        "serviceInfo": {"licenses": [], "extensions": [dict(e) for e in extensions]},
        "assignmentInfo": {"profilePolicy": {"name": "8x8 Master User Template"}},
    }


def make_audit(
    at: datetime,
    *,
    entity_type: str = "extension",
    entity_key: str = "",
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    event_type: str = "update",
    display_name: str = "",
    correlation_type: str | None = None,
    correlation_id: str | None = None,
) -> dict[str, Any]:
    """An Audit Records entry as 8x8's page shows it: `details` is JSON *in a string*."""
    return {
        "id": secrets.token_hex(16),
        "displayName": display_name,
        "customerId": "0012J00042NkZQIQA3",
        "auditTimestamp": at.astimezone(UTC).isoformat(timespec="milliseconds"),
        "eventType": event_type,
        "service": "platform",
        "entityType": entity_type,
        "entityKey": entity_key or secrets.token_urlsafe(8),
        "auditUserId": "UgDHZNAZTduIVLE5lkjOkg",
        "impersonator": None,
        "details": json.dumps({"new": dict(new or {}), "old": dict(old or {})}),
        "correlationType": correlation_type,
        "correlationId": correlation_id,
    }


def problem(status: int, title: str, message: str | None = None, *, code: str = "", field_: str = "") -> dict:
    """An RFC 7807 problem as 8x8 writes it (`errors[]` with a code)."""
    body: dict[str, Any] = {"status": status, "title": title, "time": _utc_now()}
    if message:
        error: dict[str, Any] = {"code": code or _default_code(status), "message": message}
        if field_:
            error["field"] = field_
        body["errors"] = [error]
    return body


# ---------------------------------------------------------------------------------------------
# Time, faults and records


class EpochClock:
    """Epoch seconds (the fake's `clock`) that only move when told to or when someone sleeps:
    waits are measured, never spent."""

    def __init__(self, now: float = 1_900_000_000.0):
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Fault:
    """What to do instead of (or before) answering normally.

    `status` None with a `delay` answers normally but late. `times` None means every request.
    `path` limits the fault to requests whose path ends with it (e.g. "/users").
    """

    status: int | None = 503
    times: int | None = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # JSON body (default: a problem for `status`); bytes are sent as they are
    delay: float = 0.0
    path: str | None = None

    def applies_to(self, path: str) -> bool:
        return (self.times is None or self.times > 0) and (self.path is None or path.endswith(self.path))


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: tuple[tuple[str, str], ...]  # decoded, in order, duplicates kept
    raw_query: str
    accept: str | None
    api_key_ok: bool  # the key itself is never recorded
    api_key_sent: bool

    @property
    def params(self) -> dict[str, str]:
        return dict(self.query)


@dataclass
class RateLimit:
    """A fixed window: `limit` requests per `window` seconds, like 8x8's 100 a minute."""

    limit: int = 100
    window: float = 60.0
    reset_style: str = "delta"  # "delta": seconds until the reset; "epoch": epoch seconds
    _window_start: float = 0.0
    _used: int = 0

    def take(self, now: float) -> tuple[bool, dict[str, str]]:
        if now - self._window_start >= self.window:
            self._window_start, self._used = now, 0
        allowed = self._used < self.limit
        if allowed:
            self._used += 1
        return allowed, self.headers(now)

    def headers(self, now: float) -> dict[str, str]:
        reset_at = self._window_start + self.window
        reset = reset_at if self.reset_style == "epoch" else max(0.0, reset_at - now)
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(max(0, self.limit - self._used)),
            "x-ratelimit-reset": str(int(reset + 0.999)),
        }


class FilterError(ValueError):
    """An RSQL expression the service would reject (400)."""


# ---------------------------------------------------------------------------------------------
# The fake


class FakeEightByEight:
    """The fake service. `start()` binds 127.0.0.1 on a free port; `base_url` is then its address."""

    def __init__(
        self,
        certificates: TestCertificates,
        *,
        users: Iterable[Mapping[str, Any]] = (),
        api_key: str = DEFAULT_API_KEY,
        list_service_info: bool = True,
        bare_in_list: Iterable[str] = (),
        products: Iterable[str] = ("users", "audit"),
        rate_limit: RateLimit | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.certificates = certificates
        self.users: list[dict[str, Any]] = [dict(u) for u in users]
        self.api_key = api_key
        self.list_service_info = list_service_info  # False: list entries lack serviceInfo
        self.bare_in_list = set(bare_in_list)  # user ids whose list entry lacks serviceInfo
        # The API products the key's app holds: "users" (UC & CC User Admin / User Management),
        # "audit" (Audit Records). A request to an API whose product the key lacks gets 403.
        self.products = set(products)
        self.rate_limit = rate_limit
        self.clock = clock
        self.audits: list[dict[str, Any]] = []  # Audit Records entries (`make_audit`)
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self._scrolls: dict[str, tuple[list[dict[str, Any]], int, int, str | None]] = {}
        self._scroll_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self.port = 0

    # lifecycle ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What EIGHTBYEIGHT_API_BASE is set to (the API lives under /admin-provisioning)."""
        return f"https://127.0.0.1:{self.port}"

    def env(self, **extra: str) -> dict[str, str]:
        """Environment variables that point the product (e.g. `python -m bot`) at this fake."""
        return {"EIGHTBYEIGHT_API_KEY": self.api_key, "EIGHTBYEIGHT_API_BASE": self.base_url, **extra}

    async def start(self) -> str:
        self._stopping.clear()
        app = web.Application(middlewares=[self._middleware])
        app.router.add_route("*", USERS_PATH, self._list_users)
        app.router.add_route("*", USERS_PATH + "/{user_id}", self._get_user)
        app.router.add_route("*", AUDIT_PATH, self._audits)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.certificates.server_context())
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.base_url

    async def stop(self) -> None:
        self._stopping.set()  # slow answers in flight end now
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeEightByEight:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # test controls --------------------------------------------------------------------------

    def add_user(self, user: Mapping[str, Any]) -> dict[str, Any]:
        self.users.append(dict(user))
        return self.users[-1]

    def inject(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def fail(self, status: int, *, times: int | None = 1, body: Any = None, path: str | None = None) -> Fault:
        """The next `times` requests (None: all) answer `status` with a problem body."""
        return self.inject(Fault(status=status, times=times, body=body, path=path))

    def throttle(
        self,
        *,
        times: int | None = 1,
        reset: float = 2,
        reset_style: str = "delta",
        retry_after: float | None = None,
    ) -> Fault:
        """429 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` in `reset` seconds,
        written as seconds from now ("delta") or as an epoch time ("epoch")."""
        value = self.clock() + reset if reset_style == "epoch" else reset
        headers = {
            "x-ratelimit-limit": "100",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(value)),
        }
        if retry_after is not None:
            headers["Retry-After"] = str(int(retry_after))
        return self.inject(Fault(status=429, times=times, headers=headers))

    def slow(self, delay: float, *, times: int | None = None, status: int | None = None) -> Fault:
        """Answer `delay` seconds late (beyond the client's timeout, typically)."""
        return self.inject(Fault(status=status, times=times, delay=delay))

    def clear_faults(self) -> None:
        self.faults.clear()

    def list_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == USERS_PATH]

    # request pipeline -----------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler) -> web.StreamResponse:
        self._record(request)
        fault = self._take_fault(request.path)
        if fault is not None:
            if fault.delay:
                await self._pause(fault.delay)
            if fault.status is not None:
                return _answer(fault.status, _fault_body(fault), fault.headers)
        sent_key = request.headers.get("x-api-key")
        if not sent_key or not secrets.compare_digest(sent_key, self.api_key):
            return _answer(401, problem(401, "Unauthorized", "Missing or invalid API key", code="FORBIDDEN"))
        product = "audit" if request.path.startswith(AUDIT_PATH) else "users"
        if product not in self.products:
            return _answer(
                403,
                problem(
                    403, "Forbidden", "The API key is not subscribed to this API product", code="FORBIDDEN"
                ),
            )
        # Audit Records answer plain JSON (`Accept: application/json`); the User API wants its media type.
        if product == "users" and MEDIA_TYPE not in _media_types(request.headers.get("Accept", "")):
            return _answer(
                406, problem(406, "Not Acceptable", f"Accept must include {MEDIA_TYPE}", code="BAD_REQUEST")
            )
        if request.method != "GET":
            return _answer(405, problem(405, "Method Not Allowed", f"{request.method} is not supported here"))
        limit_headers: dict[str, str] = {}
        if self.rate_limit is not None:
            allowed, limit_headers = self.rate_limit.take(self.clock())
            if not allowed:
                return _answer(
                    429,
                    problem(429, "Too Many Requests", "Rate limit exceeded, please try again later"),
                    limit_headers,
                )
        try:
            response = await handler(request)
        except web.HTTPException as error:  # unknown paths and the like: a problem, like the rest
            return _answer(
                error.status, problem(error.status, error.reason, f"{request.path}: {error.reason}")
            )
        response.headers.update(limit_headers)
        return response

    def _record(self, request: web.Request) -> None:
        sent_key = request.headers.get("x-api-key")
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=tuple(request.query.items()),
                raw_query=request.raw_path.partition("?")[2],
                accept=request.headers.get("Accept"),
                api_key_ok=bool(sent_key) and secrets.compare_digest(sent_key or "", self.api_key),
                api_key_sent=sent_key is not None,
            )
        )

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.applies_to(path):
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    # endpoints ------------------------------------------------------------------------------

    async def _list_users(self, request: web.Request) -> web.Response:
        keys = [k for k, _ in request.query.items()]
        unknown = sorted(set(keys) - LIST_PARAMETERS)
        if unknown:
            return _bad_request(f"Unknown query parameter: {unknown[0]}", field_=unknown[0])
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            return _bad_request(f"Query parameter given more than once: {repeated[0]}", field_=repeated[0])
        if "scrollId" in request.query:
            if len(keys) > 1:
                return _answer(
                    400,
                    problem(
                        400,
                        "Conflicting query parameters",
                        "Cannot use scrollId with other first-page query parameters",
                        code="CONFLICTING_QUERY_PARAMETER",
                    ),
                )
            return self._next_page(request.query["scrollId"])
        page_size = request.query.get("pageSize", str(DEFAULT_PAGE_SIZE))
        if not page_size.isdigit() or not 1 <= int(page_size) <= MAX_PAGE_SIZE:
            return _bad_request(f"pageSize must be a number from 1 to {MAX_PAGE_SIZE}", field_="pageSize")
        expression = request.query.get("filter")
        try:
            matches = [u for u in self.users if expression is None or matches_filter(u, expression)]
        except FilterError as error:
            return _bad_request(f"Invalid filter syntax: {error}", field_="filter")
        return self._page(matches, 0, int(page_size), expression)

    def _next_page(self, scroll_id: str) -> web.Response:
        session = self._scrolls.pop(scroll_id, None)
        if session is None:
            return _bad_request("Invalid or expired scrollId", field_="scrollId")
        matches, offset, page_size, expression = session
        return self._page(matches, offset, page_size, expression)

    def _page(
        self, matches: list[dict[str, Any]], offset: int, page_size: int, expression: str | None
    ) -> web.Response:
        chunk = matches[offset : offset + page_size]
        has_more = offset + page_size < len(matches)
        next_id = None
        if has_more:
            next_id = f"scr-{next(self._scroll_ids)}-{secrets.token_urlsafe(8)}"
            self._scrolls[next_id] = (matches, offset + page_size, page_size, expression)
        body = {
            "data": [self._list_entry(u) for u in chunk],
            "pagination": {
                "pageSize": page_size,
                "pageNumber": offset // page_size,
                "hasMore": has_more,
                "filter": expression,
                "sort": None,
                "nextScrollId": next_id,
            },
            "_links": {"self": {"href": USERS_PATH}},
        }
        return _answer(200, body)

    def _list_entry(self, user: Mapping[str, Any]) -> dict[str, Any]:
        if self.list_service_info and user["basicInfo"].get("userId") not in self.bare_in_list:
            return dict(user)
        return {k: v for k, v in user.items() if k not in ("serviceInfo", "assignmentInfo")}

    async def _audits(self, request: web.Request) -> web.Response:
        """`GET /administration/audit/v1/audits` as 8x8's Audit Records page documents it."""
        if request.method != "GET":
            return _answer(405, problem(405, "Method Not Allowed", f"{request.method} is not supported here"))
        if request.path != AUDIT_PATH:
            return _answer(404, problem(404, "Not Found", "Resource not found", code="NOT_FOUND"))
        query = request.query
        unknown = sorted(set(query) - AUDIT_PARAMETERS)
        if unknown:
            return _bad_request(f"Unknown query parameter: {unknown[0]}", field_=unknown[0])
        for name in ("startTime", "endTime", "service"):
            if not query.get(name):
                return _bad_request(f"{name} is required", field_=name)
        if query["service"] != "platform":
            return _bad_request("Unknown service", field_="service")
        try:
            start, end = _iso(query["startTime"]), _iso(query["endTime"])
        except ValueError:
            return _bad_request("startTime and endTime must be ISO 8601 times", field_="startTime")
        if not timedelta(0) <= end - start <= timedelta(days=AUDIT_MAX_DAYS):
            return _bad_request(
                f"startTime must be at most {AUDIT_MAX_DAYS} days before endTime", field_="startTime"
            )
        size = query.get("size", "20")
        if not size.isdigit() or not 1 <= int(size) <= AUDIT_MAX_SIZE:
            return _bad_request(f"size must be a number from 1 to {AUDIT_MAX_SIZE}", field_="size")
        types = {t.strip().lower() for t in query.get("entityTypes", "").split(",") if t.strip()}
        matches = [
            a
            for a in self.audits
            if start <= _iso(a["auditTimestamp"]) <= end and (not types or a["entityType"].lower() in types)
        ]
        offset = 0
        if "scrollId" in query:
            session = self._scrolls.pop(query["scrollId"], None)
            if session is None:
                return _bad_request("Invalid or expired scrollId", field_="scrollId")
            offset = session[1]
        chunk = matches[offset : offset + int(size)]
        next_id = None
        if offset + int(size) < len(matches):
            next_id = str(uuid.uuid4())
            self._scrolls[next_id] = (matches, offset + int(size), int(size), None)
        body = {"meta": {"totalRecordCount": len(matches), "scrollId": next_id}, "data": chunk}
        return web.json_response(body, status=200)

    async def _get_user(self, request: web.Request) -> web.Response:
        user_id = request.match_info["user_id"]
        for user in self.users:
            if user["basicInfo"].get("userId") == user_id:
                return _answer(200, user)
        return _answer(404, problem(404, "Not Found", "Resource not found", code="NOT_FOUND"))


# ---------------------------------------------------------------------------------------------
# RSQL (the subset 8x8 documents: comparisons joined with ; and ,)


def matches_filter(user: Mapping[str, Any], expression: str) -> bool:
    """Whether `user` matches the RSQL `expression`; FilterError when the service would say 400."""
    tokens = _Tokens(expression)
    result = _parse_or(tokens, user)
    if not tokens.at_end():
        raise FilterError(f"unexpected {tokens.peek()!r} at position {tokens.pos}")
    return result


class _Tokens:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if not self.at_end() else ""

    def take(self, literal: str) -> bool:
        if self.text.startswith(literal, self.pos):
            self.pos += len(literal)
            return True
        return False


def _parse_or(tokens: _Tokens, user: Mapping[str, Any]) -> bool:
    results = [_parse_and(tokens, user)]
    while tokens.take(","):
        results.append(_parse_and(tokens, user))
    return any(results)


def _parse_and(tokens: _Tokens, user: Mapping[str, Any]) -> bool:
    results = [_parse_comparison(tokens, user)]
    while tokens.take(";"):
        results.append(_parse_comparison(tokens, user))
    return all(results)


def _parse_comparison(tokens: _Tokens, user: Mapping[str, Any]) -> bool:
    match = re.compile(r"[A-Za-z][A-Za-z0-9_.]*").match(tokens.text, tokens.pos)
    if not match:
        raise FilterError(f"a selector was expected at position {tokens.pos}")
    selector = match.group()
    tokens.pos = match.end()
    if selector not in SELECTORS:
        raise FilterError(f"unknown selector {selector}")
    if tokens.take("=="):
        negate = False
    elif tokens.take("!="):
        negate = True
    else:
        raise FilterError(f"an operator (== or !=) was expected after {selector}")
    value, wildcard = _parse_value(tokens)
    actual = SELECTORS[selector](user)
    found = isinstance(actual, str) and _equal(actual, value, wildcard)
    return found != negate


def _parse_value(tokens: _Tokens) -> tuple[str, bool]:
    quote = tokens.peek()
    if quote in ("'", '"'):
        tokens.pos += 1
        chars: list[str] = []
        while not tokens.at_end():
            char = tokens.text[tokens.pos]
            tokens.pos += 1
            if char == "\\":
                if tokens.at_end():
                    break
                chars.append(tokens.text[tokens.pos])
                tokens.pos += 1
            elif char == quote:
                return "".join(chars), False
            else:
                chars.append(char)
        raise FilterError("an unterminated quoted value")
    start = tokens.pos
    while not tokens.at_end() and tokens.peek() not in _RESERVED and not tokens.peek().isspace():
        tokens.pos += 1
    if tokens.pos == start:
        raise FilterError(f"a value was expected at position {start}")
    if not tokens.at_end() and tokens.peek() not in (";", ","):
        raise FilterError(f"reserved character {tokens.peek()!r} in an unquoted value (quote the value)")
    value = tokens.text[start : tokens.pos]
    return value, "*" in value


def _equal(actual: str, wanted: str, wildcard: bool) -> bool:
    """Case-insensitive, as user names and e-mail addresses are; `*` matches anything when bare."""
    if not wildcard:
        return actual.casefold() == wanted.casefold()
    pattern = ".*".join(re.escape(part) for part in wanted.split("*"))
    return re.fullmatch(pattern, actual, flags=re.IGNORECASE) is not None


# ---------------------------------------------------------------------------------------------
# HTTP plumbing


def _answer(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    if isinstance(body, bytes):
        return web.Response(status=status, body=body, headers=dict(headers or {}))
    content_type = MEDIA_TYPE if status < 400 else PROBLEM_TYPE
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": content_type, "X-Response-Id": secrets.token_hex(16), **(headers or {})},
    )


def _bad_request(message: str, *, field_: str = "") -> web.Response:
    return _answer(400, problem(400, "Validation error", message, code="VALIDATION_ERROR", field_=field_))


def _fault_body(fault: Fault) -> Any:
    if fault.body is not None:
        return fault.body
    titles = {
        401: ("Unauthorized", "Missing or invalid API key"),
        403: ("Forbidden", "API access is not enabled for this customer"),
        429: ("Too Many Requests", "Rate limit exceeded, please try again later"),
        500: ("Internal Server Error", "An unexpected error occurred"),
        503: ("Service unavailable", "Service unavailable"),
    }
    title, message = titles.get(fault.status or 500, ("Error", "Injected failure"))
    return problem(fault.status or 500, title, message)


def _default_code(status: int) -> str:
    return {
        400: "VALIDATION_ERROR",
        401: "FORBIDDEN",
        403: "FORBIDDEN",
        404: "NOT_FOUND",
        408: "REQUEST_TIMEOUT",
        429: "TOO_MANY_REQUESTS",
        503: "SERVICE_UNAVAILABLE",
    }.get(status, "UNKNOWN")


def _iso(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _media_types(accept: str) -> set[str]:
    return {part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()}


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
