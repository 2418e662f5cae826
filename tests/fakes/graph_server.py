"""A strict local fake of Microsoft sign-in and Microsoft Graph, over HTTPS on loopback.

Two servers, as in real life: sign-in (`authority_host`: OIDC discovery and the token endpoint msal
really calls) and Graph (`graph_endpoint`). The product runs against them unchanged, trusting the
test CA through `SSL_CERT_FILE` / `REQUESTS_CA_BUNDLE`.

Why strict: a request Graph would refuse must be refused here too, or a bug passes the tests and
fails on a real tenant. So the fake

- requires a bearer token it issued (401 `InvalidAuthenticationToken` otherwise), and the client
  id, secret, grant type and scope (`{graph}/.default`) at the token endpoint;
- answers 403 `Authorization_RequestDenied` for every route whose application permission is not in
  `tenant.granted` (and, like Graph, hides directory-role details from an app without
  RoleManagement.Read.Directory instead of refusing);
- rejects unknown query parameters, unknown `$select` fields, `$top` above the route's maximum, and
  `$filter`s it cannot parse: string literals must double their quotes (`'O''Brien'`), so an
  unescaped quote is a 400 "Syntax error", as on Graph;
- decodes the query itself: a raw `+` is a space, as on Graph, so `telephoneNumber eq '+1…'` only
  matches when the `+` was sent as `%2B`;
- pages the call log 1,000 rows at a time with an `@odata.nextLink` whose `$skiptoken` is base64
  with `+`, `/` and `=` percent-encoded: a client that re-encodes or decodes the link gets a 400;
- refuses call-log windows that are empty, reversed or longer than 90 days.

Tests fill a `FakeTenant` (users, number assignments, voice settings, domains, groups, roles and
call-log row sources such as `CallList` and `UniformTraffic`), inject faults per path (`fail`:
status, Retry-After, delay, truncated body, connection reset) and read `requests` afterwards.

    async with FakeMicrosoft(certificates, tenant) as fake:
        source = GraphSource(fake.settings(), HttpClient())
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, unquote

from aiohttp import web

from tests.fakes.tls import TestCertificates

DEFAULT_TENANT_ID = "8f0c2a6e-4b1d-4c3e-9a57-2d6b1e0f7a11"
DEFAULT_CLIENT_ID = "5b7e9c1a-2f3d-4e6a-8b0c-1d2e3f4a5b6c"
DEFAULT_CLIENT_SECRET = "fake~secret.K9pQ2rS4tU6vW8xY0z"  # a secret the product must never log

ALL_PERMISSIONS = frozenset(
    {
        "User.Read.All",
        "TeamsTelephoneNumber.Read.All",
        "TeamsUserConfiguration.Read.All",
        "CallRecords.Read.All",
        "Domain.Read.All",
        "GroupMember.Read.All",
        "RoleManagement.Read.Directory",
        "Organization.Read.All",
        "TeamsTelephoneNumber.ReadWrite.All",
    }
)
NUMBERS_WRITE = "TeamsTelephoneNumber.ReadWrite.All"
NUMBER_TYPES = frozenset({"directRouting", "callingPlan", "operatorConnect"})
ASSIGNMENT_CATEGORIES = frozenset({"primary", "private", "alternate"})
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
OPERATION_PATH = re.compile(r"^operations(?:\('(?P<quoted>[^']+)'\))?$")

SKU_FIELDS = frozenset(
    {
        "id",
        "accountId",
        "accountName",
        "appliesTo",
        "capabilityStatus",
        "consumedUnits",
        "prepaidUnits",
        "servicePlans",
        "skuId",
        "skuPartNumber",
        "subscriptionIds",
    }
)


def subscribed_sku(
    sku_id: str, part_number: str, plans: Mapping[str, str], *, units: int = 25
) -> dict[str, Any]:
    """A `subscribedSku` as Graph lists it; `plans` maps servicePlanId -> servicePlanName."""
    return {
        "id": f"{DEFAULT_TENANT_ID}_{sku_id}",
        "accountId": DEFAULT_TENANT_ID,
        "accountName": "Contoso",
        "appliesTo": "User",
        "capabilityStatus": "Enabled",
        "consumedUnits": 10,
        "prepaidUnits": {"enabled": units, "suspended": 0, "warning": 0, "lockedOut": 0},
        "servicePlans": [
            {
                "servicePlanId": plan_id,
                "servicePlanName": name,
                "provisioningStatus": "Success",
                "appliesTo": "User",
            }
            for plan_id, name in plans.items()
        ],
        "skuId": sku_id,
        "skuPartNumber": part_number,
        "subscriptionIds": [f"sub-{sku_id[:8]}"],
    }


# Learn's "Product names and service plan identifiers for licensing" (a few of them).
DEFAULT_SKUS = (
    subscribed_sku(
        "6fd2c87f-b296-42f0-b197-1e91e994b900",
        "ENTERPRISEPACK",
        {
            "efb87545-963c-4e0d-99df-69c6916d9eb0": "EXCHANGE_S_ENTERPRISE",
            "57ff2da0-773e-42df-b2af-ffb7a2317929": "TEAMS1",
        },
    ),
    subscribed_sku(
        "e43b5b99-8dfb-405f-9987-dc307f34bcbd", "MCOEV", {"4828c8ec-dc2e-4779-b502-87ac9ce28ab7": "MCOEV"}
    ),
    subscribed_sku(
        "440eaaa8-b3e0-484b-a8be-62870b9ba70a",
        "PHONESYSTEM_VIRTUALUSER",
        {"f47330e9-c134-43b3-9993-e7f004506889": "MCOEV_VIRTUALUSER"},
    ),
    subscribed_sku(
        "0dab259f-bf13-4952-b7f8-7db8f131b28d",
        "MCOPSTN1",
        {"4ed3ff63-69d7-4fb7-b984-5aec7f605ca8": "MCOPSTN1"},
    ),
    subscribed_sku(
        "d3b4fe1f-9992-4930-8acb-ca6ec609365e",
        "MCOPSTN2",
        {"5a10155d-f5c1-411a-a8ec-e99aae125390": "MCOPSTN2"},
    ),
    subscribed_sku(
        "47794cd0-f0e5-45c5-9033-2eb6b5fc84e0",
        "MCOPSTNC",
        {"505e180f-f7e0-4b65-91d4-00d670bbd18c": "MCOPSTNC"},
    ),
)

USER_FIELDS = frozenset(
    {
        "id",
        "displayName",
        "userPrincipalName",
        "mail",
        "accountEnabled",
        "assignedPlans",
        "businessPhones",
        "givenName",
        "surname",
        "jobTitle",
        "mobilePhone",
        "usageLocation",
        "department",
        "officeLocation",
    }
)
GROUP_FIELDS = frozenset(
    {"id", "displayName", "mail", "description", "mailEnabled", "securityEnabled", "groupTypes"}
)
DEFAULT_USER_FIELDS = ("id", "displayName", "userPrincipalName", "mail", "businessPhones")
ORGANIZATION_FIELDS = frozenset(
    {"id", "displayName", "countryLetterCode", "preferredLanguage", "city", "country", "verifiedDomains"}
)
ROLE_FIELDS = frozenset({"id", "displayName", "description", "roleTemplateId"})
DOMAIN_FIELDS = frozenset(
    {
        "id",
        "isVerified",
        "isDefault",
        "isInitial",
        "supportedServices",
        "state",
        "authenticationType",
        "isRoot",
    }
)
ASSIGNMENT_FIELDS = frozenset(
    {
        "id",
        "telephoneNumber",
        "numberType",
        "activationState",
        "assignmentStatus",
        "assignmentTargetId",
        "assignmentCategory",
        "reverseNumberLookupOptions",
        "numberSource",
        "city",
        "locationId",
        "civicAddressId",
        "isoCountryCode",
        "operatorId",
        "supportedCapabilities",
        "networkSiteId",
    }
)
CONFIG_FIELDS = frozenset(
    {
        "id",
        "tenantId",
        "userPrincipalName",
        "isEnterpriseVoiceEnabled",
        "telephoneNumbers",
        "accountType",
        "effectivePolicyAssignments",
        "featureTypes",
        "createdDateTime",
        "modifiedDateTime",
    }
)
MAX_WINDOW = timedelta(days=90)
CALL_LOG_FUNCTION = re.compile(
    r"^getDirectRoutingCalls\(fromDateTime=(?P<from>[^,()]+),toDateTime=(?P<to>[^,()]+)\)$"
)
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class GraphError(Exception):
    """Answered as Graph's error JSON: {"error": {"code", "message"}}."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# ---------------------------------------------------------------------------------------------
# Call-log row sources


class CallRows(Protocol):
    """Rows of the Direct Routing log whose start falls in [start, end), in a stable order."""

    def count(self, start: datetime, end: datetime) -> int: ...

    def rows(self, start: datetime, end: datetime, offset: int, limit: int) -> list[dict[str, Any]]: ...


class CallList:
    """Explicit rows (the calls a test is about), windowed on `inviteDateTime`."""

    def __init__(self, rows: Iterable[dict[str, Any]] = ()):
        self.items: list[dict[str, Any]] = list(rows)

    def _in(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        return [r for r in self.items if start <= parse_time(r["inviteDateTime"]) < end]

    def count(self, start: datetime, end: datetime) -> int:
        return len(self._in(start, end))

    def rows(self, start: datetime, end: datetime, offset: int, limit: int) -> list[dict[str, Any]]:
        return self._in(start, end)[offset : offset + limit]


class UniformTraffic:
    """A busy tenant: one call every `86400 / calls_per_day` seconds, forever, generated on demand.

    Calls are to and from numbers in +1 206 555 xxxx (never a test user's), mostly successful; every
    `failure_every`-th call is a failed inbound call to someone else, as noise the filter must skip.
    """

    def __init__(self, calls_per_day: int, *, epoch: datetime | None = None, failure_every: int = 40):
        self.interval_us = max(1, round(86_400_000_000 / calls_per_day))
        self.epoch = epoch or datetime(2026, 1, 1, tzinfo=UTC)
        self.failure_every = failure_every

    def _index(self, when: datetime) -> int:
        """The first call index at or after `when`."""
        delta_us = (when - self.epoch) // timedelta(microseconds=1)
        return math.ceil(delta_us / self.interval_us)

    def count(self, start: datetime, end: datetime) -> int:
        return max(0, self._index(end) - self._index(start))

    def rows(self, start: datetime, end: datetime, offset: int, limit: int) -> list[dict[str, Any]]:
        first, stop = self._index(start) + offset, self._index(end)
        return [self._row(k) for k in range(first, min(stop, first + limit))]

    def _row(self, k: int) -> dict[str, Any]:
        at = self.epoch + timedelta(microseconds=k * self.interval_us)
        inbound = k % 2 == 0
        failed = k % self.failure_every == 0
        local = f"+1206555{k % 10000:04d}"
        remote = f"+1312555{(k * 7) % 10000:04d}"
        return call_row(
            at,
            callee=local if inbound else remote,
            caller=remote if inbound else local,
            successful=not failed,
            call_type="ByotIn" if inbound or failed else "ByotOut",
            sip_code=404 if failed else 200,
            sub_code=511404 if failed else 540200,
            phrase="Not Found" if failed else "OK",
            row_id=f"traffic-{k}",
        )


# ---------------------------------------------------------------------------------------------
# Payload builders (Graph's documented shapes)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0Z"


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


UNSET = "0001-01-01T00:00:00Z"


def call_row(
    at: datetime,
    *,
    callee: str,
    caller: str = "+13125550199",
    successful: bool = False,
    call_type: str = "ByotIn",
    sip_code: int = 404,
    sub_code: int = 511404,
    phrase: str = "Not Found",
    correlation_id: str | None = None,
    user_id: str | None = None,
    user_principal_name: str | None = None,
    user_display_name: str | None = None,
    trunk: str = "sbc1.voice.8x8.example",
    row_id: str | None = None,
) -> dict[str, Any]:
    """A `directRoutingLogRow`. A failed call has unset start/end times, as Graph writes them."""
    return {
        "id": row_id or str(uuid.uuid4()),
        "correlationId": correlation_id or str(uuid.uuid4()),
        "userId": user_id,
        "userPrincipalName": user_principal_name,
        "userDisplayName": user_display_name,
        "inviteDateTime": iso(at),
        "startDateTime": iso(at) if successful else UNSET,
        "failureDateTime": UNSET if successful else iso(at + timedelta(milliseconds=350)),
        "endDateTime": iso(at + timedelta(minutes=3)) if successful else UNSET,
        "duration": 180 if successful else 0,
        "callType": call_type,
        "successfulCall": successful,
        "callerNumber": caller,
        "calleeNumber": callee,
        "mediaPathLocation": "USWE",
        "signalingLocation": "USWE",
        "finalSipCode": sip_code,
        "callEndSubReason": sub_code,
        "finalSipCodePhrase": phrase,
        "trunkFullyQualifiedDomainName": trunk,
        "mediaBypassEnabled": False,
    }


# ---------------------------------------------------------------------------------------------
# The tenant


@dataclass
class FakeTenant:
    """What the fake Microsoft knows. Rows are Graph JSON, exactly as Graph would return them."""

    tenant_id: str = DEFAULT_TENANT_ID
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    users: list[dict[str, Any]] = field(default_factory=list)
    number_assignments: list[dict[str, Any]] = field(default_factory=list)
    user_configurations: list[dict[str, Any]] = field(default_factory=list)
    domains: list[dict[str, Any]] = field(default_factory=list)
    domain_users: dict[str, list[str]] = field(default_factory=dict)  # fqdn -> user ids
    groups: dict[str, set[str]] = field(default_factory=dict)  # group id -> user ids (transitive)
    # group id -> the group's Graph JSON (displayName, mail, …): a group listed by `/groups`
    group_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)  # user id -> role template ids
    calls: list[CallRows] = field(default_factory=list)
    granted: set[str] = field(default_factory=lambda: set(ALL_PERMISSIONS))
    page_size: int = 1000
    # Graph may answer a list with fewer rows than `$top` asks for (server-driven paging): at most
    # this many users, number assignments or voice settings a page, when set.
    list_page_size: int | None = None
    # numberAssignments: Microsoft documents `$top` + `$skip` paging and shows no next link. False:
    # pages carry no `@odata.nextLink` (the client must ask for the next `$skip` while pages are full).
    assignment_next_link: bool = True
    token_lifetime_s: int = 3599
    # The tenant's subscriptions (`/subscribedSkus`): service plan ids -> names (`subscribed_sku`).
    subscribed_skus: list[dict[str, Any]] = field(default_factory=lambda: [dict(s) for s in DEFAULT_SKUS])
    next_link_key: str = "@odata.nextLink"  # the call log's; clients must read it case-insensitively
    # The number writes: how many polls an operation answers `running` before it ends (-1: never),
    # whether it is answered wrapped in {"value": …} (Microsoft's own example), the activationState
    # a new assignment starts in, and numbers Microsoft refuses (number -> statusDetail).
    operation_polls: int = 1
    operation_seconds: float | None = None  # set: an operation runs this long (wall clock) instead
    operation_wrapped: bool = False
    new_activation_state: str = "activated"
    pending_reads: int = 0  # set: a new assignment reads assignmentPending this many times, then activated
    refuse_numbers: dict[str, str] = field(default_factory=dict)
    organization: dict[str, Any] = field(
        default_factory=lambda: {
            "id": DEFAULT_TENANT_ID,
            "displayName": "Contoso",
            "countryLetterCode": "US",
            "preferredLanguage": "en-US",
        }
    )

    def user(self, key: str) -> dict[str, Any] | None:
        lowered = key.lower()
        for user in self.users:
            if user["id"].lower() == lowered or str(user.get("userPrincipalName", "")).lower() == lowered:
                return user
        return None


@dataclass
class Fault:
    """Something to go wrong for requests whose path matches `path` (a regex, searched)."""

    path: str
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    body: Any = None
    times: int = 1  # -1: every time
    reset: bool = False  # drop the connection without an answer
    truncate: bool = False  # promise a long body, send a few bytes, drop the connection
    method: str | None = None
    server: str = "graph"  # "graph", "login" or "any"
    skip: int = 0  # let this many matching requests through first (a fault mid-way)
    hits: int = 0

    def matches(self, server: str, method: str, path: str) -> bool:
        found = (
            self.times != 0
            and self.server in (server, "any")
            and (self.method is None or self.method == method)
            and re.search(self.path, path) is not None
        )
        if found and self.skip > 0:
            self.skip -= 1
            return False
        return found


@dataclass
class RecordedRequest:
    server: str  # "login" or "graph"
    method: str
    path: str  # decoded
    raw: str  # path and query exactly as sent
    query: dict[str, str]
    status: int = 0
    body: Any = None


# ---------------------------------------------------------------------------------------------
# $filter


_FILTER_TERM = re.compile(
    r"(?:(?P<field>[A-Za-z]+) eq '|startsWith\((?P<sfield>[A-Za-z]+),')",
)


def parse_filter(text: str, fields: Iterable[str], allow_starts_with: bool) -> list[tuple[str, str, str]]:
    """`a eq 'x' or startsWith(b,'y')` -> [("eq", "a", "x"), ("startsWith", "b", "y")]; 400 otherwise.

    String literals end at a single `'`; `''` is an escaped quote. Anything else is a syntax error.
    """
    allowed = set(fields)
    terms: list[tuple[str, str, str]] = []
    position = 0
    while True:
        match = _FILTER_TERM.match(text, position)
        if not match:
            raise _syntax_error(text, position)
        operator = "eq" if match.group("field") else "startsWith"
        name = match.group("field") or match.group("sfield")
        if name not in allowed or (operator == "startsWith" and not allow_starts_with):
            raise GraphError(
                400, "Request_UnsupportedQuery", f"Unsupported or invalid query filter clause: {name}"
            )
        value, position = _literal(text, match.end())
        if operator == "startsWith":
            if not text.startswith(")", position):
                raise _syntax_error(text, position)
            position += 1
        terms.append((operator, name, value))
        if position == len(text):
            return terms
        if not text.startswith(" or ", position):
            raise _syntax_error(text, position)
        position += len(" or ")


def _literal(text: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    index = start
    while index < len(text):
        ch = text[index]
        if ch == "'":
            if text.startswith("''", index):
                out.append("'")
                index += 2
                continue
            return "".join(out), index + 1
        out.append(ch)
        index += 1
    raise _syntax_error(text, index)


def _syntax_error(text: str, position: int) -> GraphError:
    return GraphError(
        400, "BadRequest", f"Invalid filter clause: Syntax error at position {position} in '{text}'."
    )


def _matches(item: Mapping[str, Any], terms: Sequence[tuple[str, str, str]]) -> bool:
    for operator, name, value in terms:
        actual = item.get(name)
        if not isinstance(actual, str):
            continue
        if operator == "eq" and actual.casefold() == value.casefold():
            return True
        if operator == "startsWith" and actual.casefold().startswith(value.casefold()):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# The servers


class FakeMicrosoft:
    """Fake sign-in + Graph. `start()` / `stop()`, or `async with`."""

    def __init__(self, certificates: TestCertificates, tenant: FakeTenant | None = None):
        self.certificates = certificates
        self.tenant = tenant or FakeTenant()
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self._tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self._token_roles: dict[str, frozenset[str]] = {}  # token -> the roles it was issued with
        self.operations: dict[str, dict[str, Any]] = {}  # id -> operation state (the number writes)
        self._runners: list[web.AppRunner] = []
        self._stopping = asyncio.Event()
        self.authority_host = ""
        self.graph_endpoint = ""

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> FakeMicrosoft:
        self._stopping.clear()
        self.authority_host = await self._serve(self._login)
        self.graph_endpoint = await self._serve(self._graph)
        return self

    async def stop(self) -> None:
        self._stopping.set()  # delayed answers in flight end now
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    async def __aenter__(self) -> FakeMicrosoft:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve(self, handler: Callable[[web.Request], Any]) -> str:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self.certificates.server_context())
        await site.start()
        self._runners.append(runner)
        port = runner.addresses[0][1]
        return f"https://127.0.0.1:{port}"

    # -- for tests -------------------------------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        """Environment variables that point the product at this fake."""
        return {
            "GRAPH_TENANT_ID": self.tenant.tenant_id,
            "GRAPH_CLIENT_ID": self.tenant.client_id,
            "GRAPH_CLIENT_SECRET": self.tenant.client_secret,
            "GRAPH_ENDPOINT": self.graph_endpoint,
            "GRAPH_AUTHORITY_HOST": self.authority_host,
            "DIAGNOSTICS_SOURCE": "live",
            **extra,
        }

    def settings(self, **overrides: Any):
        from bot.config import load_settings

        settings = load_settings(self.env(), env_file=None)
        if overrides:
            from dataclasses import replace

            settings = replace(settings, **overrides)
        return settings

    def fail(self, path: str, status: int | None = None, **options: Any) -> Fault:
        fault = Fault(path, status, **options)
        self.faults.append(fault)
        return fault

    def revoke_tokens(self) -> None:
        """Every token issued so far is rejected from now on (as after a key roll-over)."""
        self._tokens.clear()

    def graph_requests(self, path: str = "") -> list[RecordedRequest]:
        return [r for r in self.requests if r.server == "graph" and re.search(path, r.path)]

    def call_log_pages(self) -> list[RecordedRequest]:
        """Call-log requests that were answered with a page."""
        return [r for r in self.graph_requests("getDirectRoutingCalls") if r.status == 200]

    # -- dispatch --------------------------------------------------------------------------------

    async def _login(self, request: web.Request) -> web.StreamResponse:
        return await self._dispatch("login", request, self._login_routes)

    async def _graph(self, request: web.Request) -> web.StreamResponse:
        return await self._dispatch("graph", request, self._graph_routes)

    async def _dispatch(self, server: str, request: web.Request, routes: Callable) -> web.StreamResponse:
        raw = request.raw_path
        raw_path, _, raw_query = raw.partition("?")
        segments = [unquote(s) for s in raw_path.split("/")[1:]]
        path = "/" + "/".join(segments)
        try:
            query = dict(parse_qsl(raw_query, keep_blank_values=True, strict_parsing=bool(raw_query)))
        except ValueError:
            query = {}
        record = RecordedRequest(server, request.method, path, raw, query)
        self.requests.append(record)
        fault = next((f for f in self.faults if f.matches(server, request.method, path)), None)
        if fault is not None:
            fault.hits += 1
            if fault.times > 0:
                fault.times -= 1
            response = await self._inject(fault, request)
            if response is not None:
                record.status = response.status
                return response
        try:
            if request.can_read_body:
                record.body = await request.read()
            status, body, headers = await routes(request, segments, query, record)
        except GraphError as error:
            status, body, headers = (
                error.status,
                {"error": {"code": error.code, "message": error.message}},
                {},
            )
        record.status = status
        if body is None:  # 202 Accepted: no body, a Location header
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    async def _inject(self, fault: Fault, request: web.Request) -> web.StreamResponse | None:
        if fault.delay:
            try:  # a delay longer than the test (an answer that never comes) ends when the fake stops
                await asyncio.wait_for(self._stopping.wait(), fault.delay)
            except TimeoutError:
                pass
        if fault.reset:
            request.transport.abort()
            return web.Response(status=499)
        if fault.truncate:
            response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
            response.content_length = 100_000
            await response.prepare(request)
            await response.write(b'{"value": [{"id": "')
            request.transport.abort()
            return response
        if fault.status is None:
            return None
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        body = fault.body
        if body is None:
            codes = {429: "TooManyRequests", 503: "ServiceUnavailable", 500: "InternalServerError"}
            body = {"error": {"code": codes.get(fault.status, "Error"), "message": "Injected by the test."}}
        if isinstance(body, (bytes, str)):
            return web.Response(status=fault.status, body=body, headers=headers)
        return web.json_response(body, status=fault.status, headers=headers)

    # -- sign-in ---------------------------------------------------------------------------------

    async def _login_routes(self, request: web.Request, segments: list[str], query: dict, record):
        tenant = self.tenant
        if len(segments) >= 2 and segments[0] != tenant.tenant_id:
            return (
                400,
                {
                    "error": "invalid_tenant",
                    "error_description": f"AADSTS90002: Tenant '{segments[0]}' not found. Check to make sure you "
                    "have the correct tenant ID and are signing into the correct cloud.",
                },
                {},
            )
        if request.method == "GET" and segments[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            base = f"{self.authority_host}/{tenant.tenant_id}"
            return (
                200,
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0",
                    "jwks_uri": f"{self.authority_host}/{tenant.tenant_id}/discovery/v2.0/keys",
                    "response_types_supported": ["code", "id_token", "token"],
                    "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                },
                {},
            )
        if request.method == "POST" and segments[1:] == ["oauth2", "v2.0", "token"]:
            return self._token(await request.post(), request.headers.get("Authorization", ""))
        return (
            404,
            {"error": "not_found", "error_description": f"No such sign-in endpoint: {request.path}"},
            {},
        )

    def _token(self, form: Mapping[str, str], authorization: str):
        tenant = self.tenant
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            basic_id, _, basic_secret = decoded.partition(":")
            client_id, secret = client_id or unquote(basic_id), secret or unquote(basic_secret)
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003: bad grant"}, {}
        if client_id != tenant.client_id:
            return (
                400,
                {
                    "error": "unauthorized_client",
                    "error_description": f"AADSTS700016: Application with identifier '{client_id}' was not found "
                    f"in the directory '{tenant.tenant_id}'.",
                },
                {},
            )
        if secret != tenant.client_secret:
            return (
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
                    f"sent in the request is the client secret value, not the client secret ID, for a secret "
                    f"added to app '{tenant.client_id}'.",
                },
                {},
            )
        if form.get("scope") != f"{self.graph_endpoint}/.default":
            return (
                400,
                {
                    "error": "invalid_scope",
                    "error_description": f"AADSTS70011: The provided value for scope {form.get('scope')} is not valid.",
                },
                {},
            )
        token = _jwt(tenant, sorted(tenant.granted))
        self._tokens[token] = time.monotonic() + tenant.token_lifetime_s
        self._token_roles[token] = frozenset(tenant.granted)
        return (
            200,
            {
                "token_type": "Bearer",
                "expires_in": tenant.token_lifetime_s,
                "ext_expires_in": tenant.token_lifetime_s,
                "access_token": token,
            },
            {},
        )

    # -- Graph -----------------------------------------------------------------------------------

    async def _graph_routes(self, request: web.Request, segments: list[str], query: dict, record):
        self._authorize(request)
        if not segments or segments[0] != "v1.0":
            raise GraphError(400, "BadRequest", "Invalid version.")
        parts = segments[1:]
        method = request.method
        route = _route(method, parts)
        if route is None:
            raise GraphError(400, "BadRequest", f"Resource not found for the segment '{'/'.join(parts)}'.")
        name, args = route
        handler = getattr(self, f"_r_{name}")
        if name in ("assign_number", "unassign_number"):
            self._require_write(request)
            return handler(query, record, request)
        result = handler(query, record, *args)
        return 200, result, {}

    def _require_write(self, request: web.Request) -> None:
        """Graph goes by the token's roles: a permission granted after the token was issued, or
        taken away since, counts only with the next token; both must allow it here."""
        token = request.headers.get("Authorization", "")[7:]
        if NUMBERS_WRITE not in self.tenant.granted or NUMBERS_WRITE not in self._token_roles.get(token, ()):
            raise GraphError(403, "Forbidden", "Insufficient privileges to complete the operation.")

    def _authorize(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        expiry = self._tokens.get(header[7:])
        if expiry is None or expiry < time.monotonic():
            raise GraphError(
                401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."
            )

    def _served(self, top: int) -> int:
        """How many rows a list page holds: what `$top` asks, or fewer where the tenant says so."""
        return min(top, self.tenant.list_page_size or top)

    def _require(self, permission: str) -> None:
        if permission not in self.tenant.granted:
            raise GraphError(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )

    # Users

    def _r_user(self, query: dict, record, key: str) -> dict:
        self._require("User.Read.All")
        _only(query, {"$select"})
        fields = _select(query, USER_FIELDS, DEFAULT_USER_FIELDS)
        if "'" in key or key.startswith("("):
            raise GraphError(400, "BadRequest", "Bad Request - Error in query syntax.")
        user = self.tenant.user(key)
        if user is None:
            raise GraphError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.",
            )
        return _project(user, fields, "users/$entity", self.graph_endpoint)

    def _r_users(self, query: dict, record) -> dict:
        self._require("User.Read.All")
        _only(query, {"$select", "$filter", "$top", "$skiptoken"})
        fields = _select(query, USER_FIELDS, DEFAULT_USER_FIELDS)
        top = self._served(_top(query, 999, default=100))
        items = self.tenant.users
        if "$filter" in query:
            terms = parse_filter(
                query["$filter"], {"displayName", "userPrincipalName", "mail", "givenName", "surname"}, True
            )
            items = [u for u in items if _matches(u, terms)]
        return self._page(items, query, top, fields, "users", "users")

    def _r_organization(self, query: dict, record) -> dict:
        self._require("Organization.Read.All")
        _only(query, {"$select"})
        fields = _select(query, ORGANIZATION_FIELDS, ("id", "displayName", "countryLetterCode"))
        return {
            "@odata.context": f"{self.graph_endpoint}/v1.0/$metadata#organization",
            "value": [_project(self.tenant.organization, fields)],
        }

    def _r_subscribed_skus(self, query: dict, record) -> dict:
        """`GET /subscribedSkus` (v1.0): `$select` only; Organization.Read.All, or the least privileged
        LicenseAssignment.Read.All, or Directory.Read.All."""
        if not self.tenant.granted & {
            "Organization.Read.All",
            "LicenseAssignment.Read.All",
            "Directory.Read.All",
        }:
            self._require("Organization.Read.All")
        _only(query, {"$select"})
        fields = _select(query, SKU_FIELDS, tuple(SKU_FIELDS))
        return {
            "@odata.context": f"{self.graph_endpoint}/v1.0/$metadata#subscribedSkus",
            "value": [_project(sku, fields) for sku in self.tenant.subscribed_skus],
        }

    def _r_member_groups(self, query: dict, record, user_id: str) -> dict:
        self._require("GroupMember.Read.All")
        _only(query, set())
        if self.tenant.user(user_id) is None:
            raise GraphError(404, "Request_ResourceNotFound", f"Resource '{user_id}' does not exist.")
        try:
            body = json.loads(record.body or b"")
            ids = body["groupIds"]
            assert isinstance(ids, list) and 0 < len(ids) <= 20 and all(isinstance(i, str) for i in ids)
        except (ValueError, KeyError, TypeError, AssertionError):
            raise GraphError(
                400, "Request_BadRequest", "groupIds must be a list of 1 to 20 group ids."
            ) from None
        user = self.tenant.user(user_id)
        member_of = [g for g in ids if user["id"] in self.tenant.groups.get(g, set())]
        return {
            "@odata.context": f"{self.graph_endpoint}/v1.0/$metadata#Collection(Edm.String)",
            "value": member_of,
        }

    def _r_user_roles(self, query: dict, record, user_id: str) -> dict:
        self._require("User.Read.All")
        _only(query, {"$select", "$top"})
        fields = _select(query, ROLE_FIELDS, ("id", "displayName", "description", "roleTemplateId"))
        user = self.tenant.user(user_id)
        if user is None:
            raise GraphError(404, "Request_ResourceNotFound", f"Resource '{user_id}' does not exist.")
        readable = "RoleManagement.Read.Directory" in self.tenant.granted
        rows = []
        for template in self.tenant.roles.get(user["id"], []):
            role = {
                "@odata.type": "#microsoft.graph.directoryRole",
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, template)),
                "displayName": ROLE_NAMES.get(template, "Some role"),
                "description": "",
                "roleTemplateId": template,
            }
            # Like Graph: an app that may not read roles still sees that there is one, not which.
            rows.append(
                {k: v for k, v in role.items() if k in fields or k == "@odata.type"}
                if readable
                else {"@odata.type": role["@odata.type"], "id": role["id"]}
            )
        return {"@odata.context": f"{self.graph_endpoint}/v1.0/$metadata#directoryRoles", "value": rows}

    def _r_directory_roles(self, query: dict, record) -> dict:
        self._require("RoleManagement.Read.Directory")
        _only(query, {"$select"})
        templates = sorted({t for ts in self.tenant.roles.values() for t in ts})
        rows = [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, t)), "roleTemplateId": t} for t in templates]
        return {"@odata.context": f"{self.graph_endpoint}/v1.0/$metadata#directoryRoles", "value": rows}

    def _r_group_members(self, query: dict, record, group_id: str) -> dict:
        self._require("GroupMember.Read.All")
        _only(query, {"$select", "$top"})
        _top(query, 999, default=100)
        if group_id not in self.tenant.groups:
            raise GraphError(404, "Request_ResourceNotFound", f"Resource '{group_id}' does not exist.")
        members = [
            {"@odata.type": "#microsoft.graph.user", "id": i} for i in sorted(self.tenant.groups[group_id])
        ]
        return {"@odata.context": f"{self.graph_endpoint}/v1.0/$metadata#directoryObjects", "value": members}

    def _r_groups(self, query: dict, record) -> dict:
        """`/groups?$filter=displayName eq '…' or mail eq '…'`: the groups `group_info` names."""
        self._require("GroupMember.Read.All")
        _only(query, {"$select", "$filter", "$top", "$skiptoken"})
        fields = _select(query, GROUP_FIELDS, ("id", "displayName", "mail", "description"))
        top = self._served(_top(query, 999, default=100))
        items = [{"id": gid, **info} for gid, info in sorted(self.tenant.group_info.items())]
        if "$filter" in query:
            items = [
                g for g in items if _matches(g, parse_filter(query["$filter"], {"displayName", "mail"}, True))
            ]
        return self._page(items, query, top, fields, "groups", "groups")

    def _r_group(self, query: dict, record, group_id: str) -> dict:
        self._require("GroupMember.Read.All")
        _only(query, {"$select"})
        fields = _select(query, GROUP_FIELDS, ("id", "displayName", "mail", "description"))
        if group_id not in self.tenant.group_info:
            raise GraphError(404, "Request_ResourceNotFound", f"Resource '{group_id}' does not exist.")
        return _project(
            {"id": group_id, **self.tenant.group_info[group_id]},
            fields,
            "groups/$entity",
            self.graph_endpoint,
        )

    def _r_group_users(self, query: dict, record, group_id: str) -> dict:
        """`/groups/{id}/transitiveMembers/microsoft.graph.user`, paged like the user lists."""
        self._require("GroupMember.Read.All")
        _only(query, {"$select", "$top", "$skiptoken"})
        fields = _select(query, USER_FIELDS, DEFAULT_USER_FIELDS)
        top = self._served(_top(query, 999, default=100))
        if group_id not in self.tenant.groups:
            raise GraphError(404, "Request_ResourceNotFound", f"Resource '{group_id}' does not exist.")
        members = [u for u in self.tenant.users if u["id"] in self.tenant.groups[group_id]]
        path = f"groups/{group_id}/transitiveMembers/microsoft.graph.user"
        return self._page(members, query, top, fields, path, "users")

    # Teams

    def _r_assignments(self, query: dict, record) -> dict:
        self._require("TeamsTelephoneNumber.Read.All")
        _only(query, {"$filter", "$top", "$skip", "$select"})
        top = self._served(_top(query, 1000, default=500))
        fields = _select(query, ASSIGNMENT_FIELDS, tuple(ASSIGNMENT_FIELDS))
        items = self.tenant.number_assignments
        if "$filter" in query:
            terms = parse_filter(query["$filter"], {"assignmentTargetId", "telephoneNumber"}, False)
            items = [a for a in items if _matches(a, terms)]
        skip = _int_param(query, "$skip", 0)
        page = [_project(a, fields) for a in items[skip : skip + top]]
        for served in items[skip : skip + top]:  # Microsoft activates a new number after a while
            if served.get("_pending"):
                served["_pending"] -= 1
                if not served["_pending"]:
                    served["activationState"] = "activated"
        body: dict[str, Any] = {
            "@odata.context": f"{self.graph_endpoint}/v1.0/$metadata#admin/teams/telephoneNumberManagement/numberAssignments",
            "value": page,
        }
        if skip + top < len(items) and self.tenant.assignment_next_link:
            params = {**query, "$skip": str(skip + top)}
            body["@odata.nextLink"] = (
                f"{self.graph_endpoint}/v1.0/admin/teams/telephoneNumberManagement/numberAssignments?"
                + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
            )
        return body

    def _r_configs(self, query: dict, record) -> dict:
        self._require("TeamsUserConfiguration.Read.All")
        _only(query, {"$top", "$select", "$filter", "$skiptoken"})
        top = self._served(_top(query, 999, default=100))
        fields = _select(query, CONFIG_FIELDS, tuple(CONFIG_FIELDS))
        path = "admin/teams/userConfigurations"
        return self._page(self.tenant.user_configurations, query, top, fields, path, path)

    def _r_config(self, query: dict, record, user_id: str) -> dict:
        self._require("TeamsUserConfiguration.Read.All")
        _only(query, {"$select"})
        for config in self.tenant.user_configurations:
            if config["id"].lower() == user_id.lower():
                return {
                    "@odata.context": f"{self.graph_endpoint}/v1.0/$metadata#admin/teams/userConfigurations/$entity",
                    **config,
                }
        raise GraphError(404, "NotFound", f"User configuration for '{user_id}' was not found.")

    # Teams number writes (FACTS.md, "Changing Teams numbers")

    def _write_body(
        self, query: dict, record, request: web.Request, allowed: set[str], required: set[str]
    ) -> dict:
        _only(query, set())
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            raise GraphError(415, "UnsupportedMediaType", "Content-Type must be application/json.")
        try:
            body = json.loads(record.body or b"")
        except ValueError:
            raise GraphError(400, "BadRequest", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "The request body must be an object.")
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise GraphError(400, "BadRequest", f"The property '{unknown[0]}' does not exist on this action.")
        missing = sorted(required - set(body))
        if missing:
            raise GraphError(400, "BadRequest", f"The parameter '{missing[0]}' is required.")
        if not isinstance(body["telephoneNumber"], str) or not E164.match(body["telephoneNumber"]):
            raise GraphError(400, "BadRequest", "telephoneNumber must be an E.164 number with its +.")
        if body["numberType"] not in NUMBER_TYPES:
            raise GraphError(400, "BadRequest", f"numberType '{body['numberType']}' is not valid.")
        return body

    def _r_assign_number(self, query: dict, record, request: web.Request):
        body = self._write_body(
            query,
            record,
            request,
            {"telephoneNumber", "assignmentTargetId", "numberType", "assignmentCategory", "locationId"},
            {"telephoneNumber", "assignmentTargetId", "numberType"},
        )
        target = body["assignmentTargetId"]
        if not isinstance(target, str) or not GUID.match(target):
            raise GraphError(400, "BadRequest", "assignmentTargetId must be an object id.")
        if body.get("assignmentCategory", "primary") not in ASSIGNMENT_CATEGORIES:
            raise GraphError(400, "BadRequest", "assignmentCategory is not valid.")
        return self._accept("assign", body)

    def _r_unassign_number(self, query: dict, record, request: web.Request):
        body = self._write_body(
            query, record, request, {"telephoneNumber", "numberType"}, {"telephoneNumber", "numberType"}
        )
        return self._accept("unassign", body)

    def _accept(self, kind: str, body: dict) -> tuple[int, None, dict[str, str]]:
        """202, no body, the operation's Location: it runs a while (polls), then ends."""
        operation_id = str(uuid.uuid4())
        self.operations[operation_id] = {
            "kind": kind,
            "body": body,
            "created": datetime.now(UTC),
            "started": time.monotonic(),
            "polls_left": self.tenant.operation_polls,
            "status": "running",
            "detail": None,
        }
        location = (
            f"{self.graph_endpoint}/v1.0/admin/teams/telephoneNumberManagement/operations('{operation_id}')"
        )
        return 202, None, {"Location": location}

    def _r_operation(self, query: dict, record, operation_id: str) -> dict:
        if not {"TeamsTelephoneNumber.Read.All", NUMBERS_WRITE} & self.tenant.granted:  # either will do
            self._require("TeamsTelephoneNumber.Read.All")
        _only(query, {"$select"})
        operation = self.operations.get(operation_id)
        if operation is None:
            raise GraphError(404, "NotFound", f"Operation '{operation_id}' was not found.")
        if operation["status"] == "running" and self.tenant.operation_seconds is not None:
            if time.monotonic() - operation["started"] >= self.tenant.operation_seconds:
                operation["status"], operation["detail"] = self._apply(operation["kind"], operation["body"])
        elif operation["status"] == "running":
            if operation["polls_left"] == 0:
                operation["status"], operation["detail"] = self._apply(operation["kind"], operation["body"])
            elif operation["polls_left"] > 0:
                operation["polls_left"] -= 1
        number = operation["body"]["telephoneNumber"]
        answer = {
            "id": operation_id,
            "createdDateTime": iso(operation["created"]),
            "status": operation["status"],
            "numbers": [
                {
                    "resourceLocation": f"{self.graph_endpoint}/v1.0/admin/teams/telephoneNumberManagement/numberAssignments('{number}')",
                    "status": operation["status"],
                    "statusDetail": operation["detail"],
                }
            ],
        }
        context = (
            f"{self.graph_endpoint}/v1.0/$metadata#admin/teams/telephoneNumberManagement/operations/$entity"
        )
        if self.tenant.operation_wrapped:
            return {"@odata.context": context, "value": answer}
        return {"@odata.context": context, **answer}

    def _apply(self, kind: str, body: dict) -> tuple[str, str | None]:
        """What the operation does to the tenant when it ends: (status, statusDetail)."""
        number = body["telephoneNumber"]
        rows = [
            a
            for a in self.tenant.number_assignments
            if a["telephoneNumber"] == number and a.get("assignmentTargetId")
        ]
        if number in self.tenant.refuse_numbers:
            return "failed", self.tenant.refuse_numbers[number]
        if kind == "unassign":
            if not rows:
                return "failed", f"Telephone number {number} is not assigned to any user or resource account."
            if any(a.get("numberType") != body["numberType"] for a in rows):
                return "failed", f"Telephone number {number} is not of type {body['numberType']}."
            self.tenant.number_assignments = [a for a in self.tenant.number_assignments if a not in rows]
            for row in rows:
                self._config_numbers(row["assignmentTargetId"], drop=number)
            return "succeeded", None
        target = body["assignmentTargetId"]
        if rows:
            return (
                "failed",
                f"Telephone number {number} is already assigned to another user or resource account.",
            )
        if self.tenant.user(target) is None:
            return "failed", f"The user or resource account '{target}' was not found."
        category = body.get("assignmentCategory", "primary")
        if category == "primary" and any(
            a.get("assignmentTargetId") == target and a.get("assignmentCategory") == "primary"
            for a in self.tenant.number_assignments
        ):
            return "failed", f"The user '{target}' already has a primary telephone number."
        self.tenant.number_assignments.append(
            {
                "id": f"na-{number}",
                "telephoneNumber": number,
                "numberType": body["numberType"],
                "activationState": "assignmentPending"
                if self.tenant.pending_reads
                else self.tenant.new_activation_state,
                "_pending": self.tenant.pending_reads,  # never served: not an assignment field
                "assignmentStatus": "userAssigned",
                "assignmentTargetId": target,
                "assignmentCategory": category,
                "reverseNumberLookupOptions": [],
                "numberSource": "online",
            }
        )
        self._config_numbers(target, add=(number, category))
        return "succeeded", None

    def _config_numbers(
        self, user_id: str, *, drop: str | None = None, add: tuple[str, str] | None = None
    ) -> None:
        config = next(
            (c for c in self.tenant.user_configurations if c["id"].lower() == user_id.lower()), None
        )
        if config is None:
            user = self.tenant.user(user_id) or {}
            config = {
                "id": user_id,
                "tenantId": self.tenant.tenant_id,
                "userPrincipalName": user.get("userPrincipalName"),
                "isEnterpriseVoiceEnabled": False,
                "accountType": "user",
                "telephoneNumbers": [],
                "effectivePolicyAssignments": [],
                "featureTypes": ["Teams", "PhoneSystem"],
            }
            self.tenant.user_configurations.append(config)
        numbers = [n for n in config.get("telephoneNumbers") or [] if n.get("telephoneNumber") != drop]
        if add is not None:
            numbers.append({"telephoneNumber": add[0], "assignmentCategory": add[1]})
            config["isEnterpriseVoiceEnabled"] = True  # as Microsoft does when it assigns a number
        config["telephoneNumbers"] = numbers

    # Call records

    def _r_call_log(self, query: dict, record, function: str) -> dict:
        self._require("CallRecords.Read.All")
        _only(query, {"$skiptoken"})
        match = CALL_LOG_FUNCTION.match(function)
        if not match:
            raise GraphError(400, "BadRequest", f"Bad function parameters: {function}")
        try:
            start, end = parse_time(match.group("from")), parse_time(match.group("to"))
        except ValueError:
            raise GraphError(
                400, "BadRequest", "fromDateTime and toDateTime must be DateTimeOffset values."
            ) from None
        if not start < end or end - start > MAX_WINDOW:
            raise GraphError(400, "BadRequest", "The time range must be positive and at most 90 days.")
        offset = 0
        if "$skiptoken" in query:
            offset = _read_skiptoken(query["$skiptoken"], match.group("from"), match.group("to"))
        sources = self.tenant.calls
        counts = [s.count(start, end) for s in sources]
        total = sum(counts)
        size = self.tenant.page_size
        page: list[dict[str, Any]] = []
        skip = offset
        for source, count in zip(sources, counts, strict=True):
            if skip >= count:
                skip -= count
                continue
            page.extend(source.rows(start, end, skip, size - len(page)))
            skip = 0
            if len(page) >= size:
                break
        body: dict[str, Any] = {
            "@odata.context": f"{self.graph_endpoint}/v1.0/$metadata#Collection(microsoft.graph.callRecords.directRoutingLogRow)",
            "@odata.count": len(page),
            "value": page,
        }
        if offset + size < total:
            token = _skiptoken(offset + size, match.group("from"), match.group("to"))
            body[self.tenant.next_link_key] = (
                f"{self.graph_endpoint}/v1.0/communications/callRecords/{function}?$skiptoken={quote(token, safe='')}"
            )
        return body

    # Domains

    def _r_domains(self, query: dict, record) -> dict:
        self._require("Domain.Read.All")
        _only(query, {"$select"})
        fields = _select(query, DOMAIN_FIELDS, tuple(DOMAIN_FIELDS))
        return {
            "@odata.context": f"{self.graph_endpoint}/v1.0/$metadata#domains",
            "value": [_project(d, fields) for d in self.tenant.domains],
        }

    def _r_domain(self, query: dict, record, fqdn: str) -> dict:
        self._require("Domain.Read.All")
        _only(query, {"$select"})
        fields = _select(query, DOMAIN_FIELDS, tuple(DOMAIN_FIELDS))
        return _project(self._domain(fqdn), fields)

    def _r_domain_users(self, query: dict, record, fqdn: str) -> dict:
        self._require("Domain.Read.All")
        self._require("User.Read.All")
        _only(query, {"$select", "$top"})
        fields = _select(query, USER_FIELDS, DEFAULT_USER_FIELDS)
        top = _top(query, 999, default=100)
        self._domain(fqdn)
        ids = self.tenant.domain_users.get(fqdn.lower(), [])
        users = [u for u in (self.tenant.user(i) for i in ids) if u is not None]
        return {
            "@odata.context": f"{self.graph_endpoint}/v1.0/$metadata#users",
            "value": [_project(u, fields) for u in users[:top]],
        }

    def _domain(self, fqdn: str) -> dict:
        for item in self.tenant.domains:
            if item["id"].lower() == fqdn.lower():
                return item
        raise GraphError(404, "Request_ResourceNotFound", f"Resource '{fqdn}' does not exist.")

    # Paging for user lists: `$skiptoken` carries the offset, other parameters are repeated.

    def _page(
        self, items: list[dict], query: dict, top: int, fields: Sequence[str], path: str, context: str
    ) -> dict:
        offset = 0
        if "$skiptoken" in query:
            offset = _read_skiptoken(query["$skiptoken"], path, "")
        page = items[offset : offset + top]
        body: dict[str, Any] = {
            "@odata.context": f"{self.graph_endpoint}/v1.0/$metadata#{context}",
            "value": [_project(i, fields) for i in page],
        }
        if offset + top < len(items):
            params = {k: v for k, v in query.items() if k != "$skiptoken"}
            params["$skiptoken"] = _skiptoken(offset + top, path, "")
            body["@odata.nextLink"] = f"{self.graph_endpoint}/v1.0/{path}?" + "&".join(
                f"{k}={quote(v, safe='')}" for k, v in params.items()
            )
        return body


ROLE_NAMES = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
    "baf37b3a-610e-45da-9e62-d9d1e5e8914b": "Teams Communications Administrator",
    "f70938a0-fc10-4177-9e90-2178f8765737": "Teams Communications Support Engineer",
    "fcf91098-03e3-41a9-b5ba-6f0ec8188a12": "Teams Communications Support Specialist",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
}


def _route(method: str, parts: list[str]) -> tuple[str, tuple[str, ...]] | None:
    """Which handler serves `method parts`, with its path arguments."""
    n = len(parts)
    if method == "GET":
        if parts == ["users"]:
            return "users", ()
        if parts == ["organization"]:
            return "organization", ()
        if parts == ["subscribedSkus"]:
            return "subscribed_skus", ()
        if n == 2 and parts[0] == "users":
            return "user", (parts[1],)
        if (
            n == 4
            and parts[0] == "users"
            and parts[2:] == ["transitiveMemberOf", "microsoft.graph.directoryRole"]
        ):
            return "user_roles", (parts[1],)
        if parts == ["directoryRoles"]:
            return "directory_roles", ()
        if n == 3 and parts[0] == "groups" and parts[2] == "members":
            return "group_members", (parts[1],)
        if parts == ["groups"]:
            return "groups", ()
        if n == 2 and parts[0] == "groups":
            return "group", (parts[1],)
        if n == 4 and parts[0] == "groups" and parts[2:] == ["transitiveMembers", "microsoft.graph.user"]:
            return "group_users", (parts[1],)
        if parts == ["admin", "teams", "telephoneNumberManagement", "numberAssignments"]:
            return "assignments", ()
        if parts == ["admin", "teams", "userConfigurations"]:
            return "configs", ()
        if n == 4 and parts[:3] == ["admin", "teams", "userConfigurations"]:
            return "config", (parts[3],)
        if (
            n == 3
            and parts[:2] == ["communications", "callRecords"]
            and parts[2].startswith("getDirectRoutingCalls")
        ):
            return "call_log", (parts[2],)
        if parts == ["domains"]:
            return "domains", ()
        if n == 2 and parts[0] == "domains":
            return "domain", (parts[1],)
        if n == 4 and parts[0] == "domains" and parts[2:] == ["domainNameReferences", "microsoft.graph.user"]:
            return "domain_users", (parts[1],)
    if method == "POST" and n == 3 and parts[0] == "users" and parts[2] == "checkMemberGroups":
        return "member_groups", (parts[1],)
    numbers = ["admin", "teams", "telephoneNumberManagement", "numberAssignments"]
    if method == "POST" and parts in ([*numbers, "assignNumber"], [*numbers, "unassignNumber"]):
        return ("assign_number" if parts[-1] == "assignNumber" else "unassign_number"), ()
    if method == "GET" and parts[:3] == ["admin", "teams", "telephoneNumberManagement"] and n in (4, 5):
        found = OPERATION_PATH.match(parts[3])
        if found and found.group("quoted") and n == 4:
            return "operation", (found.group("quoted"),)
        if parts[3] == "operations" and n == 5:
            return "operation", (parts[4],)
    return None


def _only(query: Mapping[str, str], allowed: set[str]) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise GraphError(400, "BadRequest", f"Query option '{unknown[0]}' is not allowed here.")


def _select(query: Mapping[str, str], known: frozenset[str], default: Sequence[str]) -> tuple[str, ...]:
    if "$select" not in query:
        return tuple(default)
    fields = tuple(f.strip() for f in query["$select"].split(","))
    bad = [f for f in fields if f not in known]
    if bad or not fields:
        raise GraphError(400, "BadRequest", f"Could not find a property named '{bad[0] if bad else ''}'.")
    return fields


def _top(query: Mapping[str, str], maximum: int, default: int) -> int:
    top = _int_param(query, "$top", default)
    if not 1 <= top <= maximum:
        raise GraphError(
            400, "BadRequest", f"Invalid page size specified: '{top}'. Must be between 1 and {maximum}."
        )
    return top


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise GraphError(400, "BadRequest", f"Invalid value '{value}' for {name}.")
    return int(value)


def _project(item: Mapping[str, Any], fields: Sequence[str], context: str = "", endpoint: str = "") -> dict:
    out: dict[str, Any] = {}
    if context:
        out["@odata.context"] = f"{endpoint}/v1.0/$metadata#{context}"
    out.update({f: item.get(f) for f in fields})
    return out


_TOKEN_PREFIX = b"\xfb\xef\xbe\xff"  # makes the base64 start with "++++/": it must survive the round trip


def _skiptoken(offset: int, a: str, b: str) -> str:
    return base64.b64encode(_TOKEN_PREFIX + json.dumps([offset, a, b]).encode()).decode()


def _read_skiptoken(token: str, a: str, b: str) -> int:
    try:
        raw = base64.b64decode(token, validate=True)
        assert raw.startswith(_TOKEN_PREFIX)
        offset, token_a, token_b = json.loads(raw[len(_TOKEN_PREFIX) :])
        assert (token_a, token_b) == (a, b) and isinstance(offset, int)
    except (binascii.Error, ValueError, AssertionError, TypeError):
        raise GraphError(
            400, "BadRequest", "The skip token is not valid (was the next link changed?)."
        ) from None
    return offset


def _jwt(tenant: FakeTenant, roles: list[str]) -> str:
    """An app-only access token shaped like Microsoft's: a JWT whose payload lists the granted
    application permissions in `roles` (the signature is random: only the fake checks tokens)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {
        "aud": "https://graph.microsoft.com",
        "iss": f"https://sts.windows.net/{tenant.tenant_id}/",
        "iat": now,
        "nbf": now,
        "exp": now + tenant.token_lifetime_s,
        "appid": tenant.client_id,
        "idtyp": "app",
        "tid": tenant.tenant_id,
        "roles": roles,
    }
    return f"{part({'typ': 'JWT', 'alg': 'RS256'})}.{part(claims)}.{secrets.token_urlsafe(32)}"
