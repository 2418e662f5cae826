"""Microsoft Graph, app-only: what Microsoft holds about a user, their number and their calls.

Everything the 8x8 articles ask an admin to look up by hand on the Microsoft side: the user and
their Teams Phone (MCOEV) plan, the number Teams holds (numberAssignments), the voice settings
(userConfigurations), failed inbound calls in the Direct Routing log, the tenant's domains and the
users on them, and the "Temporary Domain Voice Activation User" accounts. Also who may use the bot:
membership of `HELPDESK_GROUP_ID` and the Teams admin roles.

How it talks to Graph, and why:

- Tokens come from msal (`graph_auth.GraphTokenProvider`), one app object for the process.
- HTTP goes through the shared `HttpClient` (one aiohttp session, timeouts, proxies, the operator's
  CA; 429 / 5xx / timeouts retried within a bounded time, honouring `Retry-After`).
- URLs are built by `graph_odata` from escaped literals and encoded segments, never by pasting
  user input into a string.
- A 403 names the missing application permission ("grant CallRecords.Read.All and give admin
  consent"); the engine shows it as an `unknown` check rather than failing the diagnosis.
- The call log is searched newest first in adaptively sized windows and shared between concurrent
  diagnoses (`graph_calls`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from yarl import URL

from bot.config import Settings
from bot.diagnosis.errors import PermissionMissing, SourceError, SourceUnavailable
from bot.diagnosis.evidence import (
    NUMBER_MANAGING_ROLES,
    VOICE_APPLICATION_ASSIGNED,
    CallPage,
    CallQuery,
    CallSearch,
    DirectoryGroup,
    DirectoryUser,
    Domain,
    HelpdeskStatus,
    NumberAssignment,
    NumberHolder,
    VoiceConfig,
)
from bot.diagnosis.names import rank_people, words_of
from bot.diagnosis.phone import to_e164
from bot.sources.graph_auth import GraphTokenProvider, SignInFailed
from bot.sources.graph_calls import (
    CallLogLimits,
    CallLogSearch,
    WindowCache,
    stream_tenant_calls,
    sweep_windows,
)
from bot.sources.graph_odata import (
    graph_url,
    is_guid,
    key_insensitive,
    odata_string,
    same_origin,
    segment,
)
from bot.sources.graph_phones import PHONES_TTL, PhoneDirectory
from bot.sources.graph_shapes import (
    PlanNames,
    directory_group,
    directory_user,
    domain,
    number_assignment,
    plan_names,
    voice_config,
)
from bot.sources.http import RETRYABLE_STATUSES, HttpClient, HttpResponse, RetryPolicy, RetryWait
from bot.sources.pacing import Pacer

log = logging.getLogger(__name__)

# A sweep reads the call log for minutes: a page may wait out longer throttling than a diagnosis.
SWEEP_RETRY = RetryPolicy(attempts=8, total_seconds=180.0, request_timeout=30.0)
USER_SELECT = "id,displayName,userPrincipalName,mail,accountEnabled,assignedPlans,businessPhones"
PHONES_SELECT = USER_SELECT + ",mobilePhone,usageLocation"
SWEEP_USER_SELECT = USER_SELECT + ",department,officeLocation"  # a sweep limited to a place
GROUP_SELECT = "id,displayName,mail,description"
NAME_SEARCH_LIMIT = 25
FUZZY_SEARCH_LIMIT = 100  # people read to rank a name typed with a typo (one page)
FUZZY_PREFIX = 3  # the letters of each typed word the ranked people must start with

# Entra built-in role template ids (learn.microsoft.com: "Microsoft Entra built-in roles").
TEAMS_ADMIN_ROLES: dict[str, str] = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
    "baf37b3a-610e-45da-9e62-d9d1e5e8914b": "Teams Communications Administrator",
    "aa38014f-0993-46e9-9b45-30501a20909d": "Teams Telephony Administrator",
    "f70938a0-fc10-4177-9e90-2178f8765737": "Teams Communications Support Engineer",
    "fcf91098-03e3-41a9-b5ba-6f0ec8188a12": "Teams Communications Support Specialist",
}

# Application permissions, by what they are needed for.
USER_READ = "User.Read.All"
NUMBERS_READ = "TeamsTelephoneNumber.Read.All"
VOICE_READ = "TeamsUserConfiguration.Read.All"
CALLS_READ = "CallRecords.Read.All"
DOMAINS_READ = "Domain.Read.All"
# optional: without it national numbers are read as US ones, and Calling Plans are known by id only
ORGANIZATION_READ = "Organization.Read.All"
OPTIONAL_PERMISSIONS = frozenset({ORGANIZATION_READ})
GROUPS_READ = "GroupMember.Read.All"
GROUPS_OPTIONAL_PURPOSE = (
    "limit a sweep to an Entra group (optional: without it, a group or place is matched on the "
    "users' department and office only)"
)
ROLES_READ = "RoleManagement.Read.Directory"

NUMBER_ASSIGNMENTS = "admin/teams/telephoneNumberManagement/numberAssignments"
ASSIGNMENTS_TOP = 1000  # Graph's maximum `$top` for numberAssignments
MAX_ASSIGNMENT_PAGES = 2000  # two million numbers: past that a runaway paging stops, and says so
USER_CONFIGURATIONS = "admin/teams/userConfigurations"


@dataclass(frozen=True)
class PermissionProbe:
    """The answer to "may the app do this?" for one permission (`python -m bot doctor`)."""

    permission: str
    purpose: str
    ok: bool | None  # None: not probed (not needed with this configuration)
    detail: str = ""
    denied: bool = False  # Graph answered 403: the permission is missing or not consented
    optional: bool = False  # missing only loses a part (says which in `purpose`): a warning


class GraphSource:
    """`MicrosoftSource` backed by Microsoft Graph. One per process; safe for concurrent diagnoses."""

    name = "graph"

    def __init__(
        self,
        settings: Settings,
        http: HttpClient,
        *,
        clock: Callable[[], datetime] | None = None,
        call_log_limits: CallLogLimits | None = None,
        call_log_cache: WindowCache | None = None,
        tokens: GraphTokenProvider | None = None,
        call_log_pace: Pacer | None = None,
    ):
        self._settings = settings
        self._http = http
        self._clock = clock or (lambda: datetime.now(UTC))
        self._tokens = tokens or GraphTokenProvider(settings)
        self._pace = call_log_pace or Pacer()  # the sweep's call-log reads, Microsoft's rate
        limits = call_log_limits or CallLogLimits()
        self._country: tuple[str | None, float] | None = None  # countryLetterCode, until (monotonic)
        self._names: tuple[PlanNames, float] | None = None  # service plan names, until (monotonic)
        self._names_lock = asyncio.Lock()
        self._phones = PhoneDirectory(self._all_assignments, self._all_phone_users, self._user)
        self._calls = CallLogSearch(
            settings.graph_endpoint,
            self._call_log_page,
            call_log_cache or WindowCache(limits.cache_ttl, self._clock),
            limits,
            clock=self._clock,
        )

    # -- users -----------------------------------------------------------------------------------

    async def find_users(self, query: str) -> list[DirectoryUser]:
        """By object id, UPN / e-mail, phone number (via the number Teams holds), else name prefix."""
        text = (query or "").strip()
        if not text:
            return []
        if is_guid(text):
            user = await self.get_user(text)
            return [user] if user else []
        if "@" in text and " " not in text:
            return await self._users_by_address(text)
        number = to_e164(text)
        if number is not None:
            return await self._users_by_number(number)
        literal = odata_string(text)
        names = " or ".join(
            f"startsWith({field},{literal})" for field in ("displayName", "givenName", "surname")
        )
        found = await self._user_list([("$filter", names)], limit=NAME_SEARCH_LIMIT)
        if found or any(ch.isdigit() for ch in text):
            return found
        return await self._users_like(text)

    async def _users_like(self, text: str) -> list[DirectoryUser]:
        """A name typed with a typo or in another order ("Adel Vance", "Vance Adele"): the people
        whose given name or surname starts like any word typed (its first letters), ranked by how
        well their whole name reads as what was typed (bot.diagnosis.names)."""
        starts = list(dict.fromkeys(w[:FUZZY_PREFIX] for w in words_of(text) if len(w) >= 2))[:4]
        if not starts:
            return []
        clauses = " or ".join(
            f"startsWith({field},{odata_string(start)})"
            for start in starts
            for field in ("givenName", "surname")
        )
        near = await self._user_list([("$filter", clauses)], limit=FUZZY_SEARCH_LIMIT)
        return rank_people(text, near)

    async def get_user(self, user_id: str) -> DirectoryUser | None:
        if not (user_id or "").strip():
            return None
        _, body = await asyncio.gather(  # the plan names are read once, beside the first user
            self._plan_names(),
            self._get(
                f"users/{segment(user_id.strip())}",
                [("$select", USER_SELECT)],
                USER_READ,
                "the user",
                allow_404=True,
            ),
        )
        return self._user(body) if body else None

    async def users_named(self, display_name: str) -> list[DirectoryUser]:
        return await self._user_list([("$filter", f"displayName eq {odata_string(display_name)}")])

    async def users_on_domain(self, fqdn: str) -> list[DirectoryUser]:
        """The users on a domain. A 404 is not "no users": Graph does not know the domain (the engine
        asks only about domains `/domains` just listed), so it is a fault and the check stays unknown."""
        path = f"domains/{segment(fqdn)}/domainNameReferences/microsoft.graph.user"
        await self._plan_names()
        try:
            rows = await self._collect(
                path, [("$select", USER_SELECT)], DOMAINS_READ, "the users on a domain"
            )
        except GraphNotFound as error:
            raise SourceError(
                f"Microsoft Graph answered HTTP 404{error.code_words} for the users on {fqdn}: it does not "
                "know that domain, so whether any user is on it could not be checked.",
                source="graph",
            ) from None
        return [self._user(row) for row in rows]

    async def _users_by_address(self, address: str) -> list[DirectoryUser]:
        # `/users/{upn}` cannot carry a `'` or a leading `$`; the filter can (quotes doubled).
        if "'" not in address and not address.startswith("$"):
            user = await self.get_user(address)
            if user is not None:
                return [user]
        literal = odata_string(address)
        return await self._user_list(
            [("$filter", f"userPrincipalName eq {literal} or mail eq {literal}")], limit=NAME_SEARCH_LIMIT
        )

    async def _users_by_number(self, number: str) -> list[DirectoryUser]:
        return [holder.user for holder in await self.number_holders(number)]

    async def number_holders(self, number: str, *, teams_only: bool = False) -> list[NumberHolder]:
        """Whom Teams assigns `number` (E.164) to; only when nobody, whose phone fields carry it
        (the tenant's phone fields are read in bulk, so only then)."""
        assignments = await self._assignments(f"telephoneNumber eq {odata_string(number)}")
        holders: list[NumberHolder] = []
        voice_apps = {
            (a.assignment_target_id or "").lower()
            for a in assignments
            if a.assignment_status == VOICE_APPLICATION_ASSIGNED
        }
        for target in dict.fromkeys(a.assignment_target_id for a in assignments if a.assignment_target_id):
            user = await self.get_user(target)
            if user is not None:
                if target.lower() in voice_apps:  # an auto attendant's or call queue's resource account
                    user = replace(user, resource_account=True)
                holders.append(NumberHolder(number, user, "teams"))
        if holders or teams_only:
            return holders
        seen: set[str] = set()
        for holder in await self._phones.holders(await self._country_or_none()):
            if holder.number == number and holder.user.id.lower() not in seen:
                seen.add(holder.user.id.lower())
                holders.append(NumberHolder(number, holder.user, "phone field"))
        return holders

    async def numbers_ending_with(self, digits: str) -> list[NumberHolder]:
        holders = await self._phones.holders(await self._country_or_none())
        return [h for h in holders if h.number.endswith(digits)]

    async def tenant_country(self) -> str | None:
        """`organization.countryLetterCode` (Organization.Read.All), kept `PHONES_TTL` seconds.

        The permission is optional: without it the answer is None (national numbers are then read
        in each user's usage location, else the US), asked again only when the time is up."""
        if self._country is not None and time.monotonic() < self._country[1]:
            return self._country[0]
        try:
            rows = await self._collect(
                "organization", [("$select", "id,countryLetterCode")], ORGANIZATION_READ, "the organization"
            )
        except PermissionMissing:
            rows = []
        codes = [r.get("countryLetterCode") for r in rows if isinstance(r.get("countryLetterCode"), str)]
        country = (codes[0].strip().upper() or None) if codes else None
        self._country = (country, time.monotonic() + PHONES_TTL)
        return country

    async def _country_or_none(self) -> str | None:
        try:
            return await self.tenant_country()
        except SourceError:
            return None  # phone fields are then read in each user's usage location, else the US

    # -- the whole tenant (the sweep) ------------------------------------------------------------

    async def all_users(self) -> AsyncIterator[DirectoryUser]:
        params = [("$select", SWEEP_USER_SELECT), ("$top", "999")]
        await self._plan_names()
        async for rows in self._pages("users", params, USER_READ, "the users"):
            for row in rows:
                yield self._user(row)

    async def all_number_assignments(self) -> AsyncIterator[NumberAssignment]:
        async for rows in self._assignment_pages([]):
            for row in rows:
                if isinstance(row.get("telephoneNumber"), str):
                    yield number_assignment(row)

    async def all_voice_configs(self) -> AsyncIterator[tuple[str, VoiceConfig]]:
        async for rows in self._pages(
            USER_CONFIGURATIONS, [("$top", "999")], VOICE_READ, "the voice settings"
        ):
            for row in rows:
                if isinstance(row.get("id"), str):
                    yield row["id"], voice_config(row)

    async def tenant_calls(
        self, since: datetime, until: datetime, *, worked_for: frozenset[str] = frozenset()
    ) -> AsyncIterator[CallPage]:
        """The tenant's call log for the period, a day at a time, newest first, at a steady rate
        (`pacing.Pacer`: Microsoft's 200 requests a minute unless told otherwise)."""
        urls = [self._calls.first_page_url(start, end) for start, end in sweep_windows(since, until)]
        pages = stream_tenant_calls(
            urls,
            self._sweep_page,
            self._settings.graph_endpoint,
            worked_for=worked_for,
            pace=lambda: self._pace.per_minute,
        )
        async with contextlib.aclosing(pages) as stream:
            async for page in stream:
                yield page

    async def _sweep_page(self, url: URL) -> bytes:
        await self._pace.wait()
        return await self._call_log_page(url, policy=SWEEP_RETRY, retry_wait=self._pace.retry_wait)

    async def _all_assignments(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        async for page in self._assignment_pages([]):
            rows.extend(page)
        return rows

    async def _all_phone_users(self) -> list[dict[str, Any]]:
        await self._plan_names()
        return await self._collect(
            "users", [("$select", PHONES_SELECT), ("$top", "999")], USER_READ, "the users' phone numbers"
        )

    async def _user_list(
        self, params: list[tuple[str, str]], limit: int | None = None
    ) -> list[DirectoryUser]:
        top = str(min(limit or 999, 999))
        _, rows = await asyncio.gather(
            self._plan_names(),
            self._collect(
                "users", [*params, ("$select", USER_SELECT), ("$top", top)], USER_READ, "users", limit=limit
            ),
        )
        return [self._user(row) for row in rows]

    def _user(self, row: dict[str, Any]) -> DirectoryUser:
        """A Graph user, its Calling Plans named with the tenant's plan names as last read."""
        return directory_user(row, self._names[0] if self._names else None)

    async def _plan_names(self) -> PlanNames:
        """The tenant's service plan names (`GET /subscribedSkus`, Organization.Read.All), read once
        and kept `PHONES_TTL` seconds: `assignedPlans` carries only ids, and Calling Plans are the
        plans named MCOPSTN*. Without the permission they are known by `CALLING_PLAN_IDS` only, and
        the users carry the sentence saying so."""
        async with self._names_lock:
            if self._names is not None and time.monotonic() < self._names[1]:
                return self._names[0]
            try:
                rows = await self._collect(
                    "subscribedSkus",
                    [("$select", "skuId,skuPartNumber,servicePlans")],
                    ORGANIZATION_READ,
                    "the tenant's licences (service plan names)",
                )
                names = PlanNames(plan_names(rows))
            except SourceError as error:
                names = PlanNames(error=str(error))
            self._names = (names, time.monotonic() + PHONES_TTL)
            return names

    # -- groups (a sweep limited to one) ----------------------------------------------------------

    async def groups_named(self, name: str) -> list[DirectoryGroup]:
        """`GET /groups?$filter=displayName eq '…' or mail eq '…'`, or `GET /groups/{id}` for an
        object id (GroupMember.Read.All)."""
        if is_guid(name.strip()):
            body = await self._get(
                f"groups/{segment(name.strip())}",
                [("$select", GROUP_SELECT)],
                GROUPS_READ,
                "the group",
                allow_404=True,
            )
            return [directory_group(body)] if body and isinstance(body.get("id"), str) else []
        literal = odata_string(name.strip())
        rows = await self._collect(
            "groups",
            [
                ("$filter", f"displayName eq {literal} or mail eq {literal}"),
                ("$select", GROUP_SELECT),
                ("$top", "100"),
            ],
            GROUPS_READ,
            "the groups",
            limit=100,
        )
        return [directory_group(row) for row in rows if isinstance(row.get("id"), str)]

    async def group_members(self, group_id: str) -> AsyncIterator[str]:
        """The group's users, nested groups' included, page by page (GroupMember.Read.All)."""
        path = f"groups/{segment(group_id)}/transitiveMembers/microsoft.graph.user"
        async for rows in self._pages(
            path, [("$select", "id"), ("$top", "999")], GROUPS_READ, "the group's members"
        ):
            for row in rows:
                if isinstance(row.get("id"), str):
                    yield row["id"]

    # -- numbers and voice settings --------------------------------------------------------------

    async def number_assignments(self, user_id: str) -> list[NumberAssignment]:
        return await self._assignments(f"assignmentTargetId eq {odata_string(user_id)}")

    async def _assignments(self, odata_filter: str) -> list[NumberAssignment]:
        rows: list[dict[str, Any]] = []
        async for page in self._assignment_pages([("$filter", odata_filter)]):
            rows.extend(page)
        return [number_assignment(row) for row in rows if isinstance(row.get("telephoneNumber"), str)]

    async def _assignment_pages(self, params: list[tuple[str, str]]) -> AsyncIterator[list[dict[str, Any]]]:
        """Teams' number assignments page by page: `@odata.nextLink` when Graph sends one, else the
        next `$skip` while a page comes back full. Microsoft documents this list with `$top` and
        `$skip` only (its examples carry no next link): a tenant with more than 1,000 numbers must
        never be cut to its first page in silence."""
        thing = "the number assignments"
        url: URL | None = graph_url(
            self._settings.graph_endpoint, NUMBER_ASSIGNMENTS, [*params, ("$top", str(ASSIGNMENTS_TOP))]
        )
        skip, first_of_last_page = 0, None
        for _ in range(MAX_ASSIGNMENT_PAGES):
            if url is None:
                return
            body = await self._send("GET", url, NUMBERS_READ, thing)
            values = (body or {}).get("value")
            if not isinstance(values, list):
                raise SourceUnavailable(
                    f"Microsoft Graph answered for {thing} without a list.", source="graph"
                )
            rows = [v for v in values if isinstance(v, dict)]
            first = _assignment_key(rows[0]) if rows else None
            if first is not None and skip and first == first_of_last_page:
                raise SourceUnavailable(
                    f"Microsoft Graph answered $skip={skip} for {thing} with the page before it again: only "
                    f"the first {skip:,} numbers could be read.",
                    source="graph",
                )
            yield rows
            skip += len(values)
            first_of_last_page = first
            url = self._next_link(body or {}, thing)
            if url is None and len(values) >= ASSIGNMENTS_TOP:
                url = graph_url(
                    self._settings.graph_endpoint,
                    NUMBER_ASSIGNMENTS,
                    [*params, ("$top", str(ASSIGNMENTS_TOP)), ("$skip", str(skip))],
                )
        raise SourceUnavailable(
            f"Microsoft Graph's {thing} went on past {MAX_ASSIGNMENT_PAGES:,} pages: only the first "
            f"{skip:,} numbers were read.",
            source="graph",
        )

    async def voice_config(self, user_id: str) -> VoiceConfig | None:
        body = await self._get(
            f"{USER_CONFIGURATIONS}/{segment(user_id)}", [], VOICE_READ, "the voice settings", allow_404=True
        )
        return voice_config(body) if body else None

    # -- calls -----------------------------------------------------------------------------------

    async def user_calls(self, query: CallQuery) -> CallSearch:
        return await self._calls.user_calls(query)

    async def _call_log_page(
        self, url: URL, *, policy: RetryPolicy | None = None, retry_wait: RetryWait | None = None
    ) -> bytes:
        """One page of the call log, undecoded: `graph_calls` decodes only the fields it reads."""
        response = await self._respond(
            "GET", url, "the Direct Routing call log", policy=policy, retry_wait=retry_wait
        )
        self._pace.answered(response)
        if 200 <= response.status < 300:
            return response.body
        _answer(response, CALLS_READ, "the Direct Routing call log", allow_404=False)  # raises
        raise AssertionError("unreachable: _answer raises for every status but 2xx")

    # -- domains ---------------------------------------------------------------------------------

    async def domains(self) -> list[Domain]:
        rows = await self._collect("domains", [], DOMAINS_READ, "the domains")
        return [domain(row) for row in rows if isinstance(row.get("id"), str)]

    # -- who may use the bot ---------------------------------------------------------------------

    async def helpdesk_status(self, user_id: str) -> HelpdeskStatus:
        """In `HELPDESK_GROUP_ID` (transitively), or holding one of the Teams admin roles; and, read
        with the same roles call, whether they hold a role that may manage Teams numbers.

        A check that could not answer is only an error when the other one did not say yes; roles that
        could not be read never count as a number-managing role (fail closed).
        """
        problems: list[SourceError] = []
        group_id = self._settings.helpdesk_group_id
        in_group = False
        if group_id:
            try:
                in_group = await self._in_group(user_id, group_id)
            except SourceError as error:
                problems.append(error)
        templates: list[str] = []
        try:
            templates = await self._role_templates(user_id)
        except SourceError as error:
            problems.append(error)
        manages = any(t in NUMBER_MANAGING_ROLES for t in templates)
        if in_group:
            return HelpdeskStatus(True, "member of the helpdesk group", may_manage_numbers=manages)
        role = next((TEAMS_ADMIN_ROLES[t] for t in templates if t in TEAMS_ADMIN_ROLES), None)
        if role:
            return HelpdeskStatus(True, role, may_manage_numbers=manages)
        if problems:
            raise problems[0]
        where = "not in the helpdesk group and " if group_id else ""
        return HelpdeskStatus(False, f"{where}holds no Teams admin role")

    async def _in_group(self, user_id: str, group_id: str) -> bool:
        body = await self._send(
            "POST",
            graph_url(self._settings.graph_endpoint, f"users/{segment(user_id)}/checkMemberGroups"),
            GROUPS_READ,
            "group membership",
            json_body={"groupIds": [group_id]},
            allow_404=True,
        )
        values = (body or {}).get("value") or []
        return any(isinstance(v, str) and v.lower() == group_id.lower() for v in values)

    async def _role_templates(self, user_id: str) -> list[str]:
        """The role template ids (lower case) of the directory roles the user holds, transitively."""
        path = f"users/{segment(user_id)}/transitiveMemberOf/microsoft.graph.directoryRole"
        rows = await self._collect(
            path,
            [("$select", "id,displayName,roleTemplateId")],
            ROLES_READ,
            "directory roles",
            allow_404=True,
        )
        templates = [
            row["roleTemplateId"].lower() for row in rows if isinstance(row.get("roleTemplateId"), str)
        ]
        if len(templates) < len(rows) and not any(t in TEAMS_ADMIN_ROLES for t in templates):
            # Graph hides role details from apps without the permission
            raise _permission_missing(ROLES_READ, "directory roles")
        return templates

    # -- doctor ----------------------------------------------------------------------------------

    async def sign_in(self) -> None:
        """Get a token, or raise the SourceError that says why not."""
        await self._tokens.token()

    async def probe_permissions(self) -> list[PermissionProbe]:
        """The smallest request that needs each permission the bot uses, all at once."""
        now = self._clock()
        endpoint = self._settings.graph_endpoint
        probes: list[tuple[str, str, URL | None]] = [
            (
                USER_READ,
                "find users and their Teams Phone licence",
                _url(endpoint, "users", top=1, select="id"),
            ),
            (NUMBERS_READ, "read the number Teams holds", _url(endpoint, NUMBER_ASSIGNMENTS, top=1)),
            (VOICE_READ, "read Teams voice settings", _url(endpoint, USER_CONFIGURATIONS, top=1)),
            (
                CALLS_READ,
                "read the Direct Routing call log",
                self._calls.first_page_url(now - timedelta(minutes=1), now),
            ),
            (DOMAINS_READ, "read domains and who is on them", _url(endpoint, "domains", select="id")),
            self._groups_probe(endpoint),
            (ROLES_READ, "recognise Teams admins by their role", _url(endpoint, "directoryRoles")),
            (
                ORGANIZATION_READ,
                "read the tenant's country (national phone numbers) and its licences' service plan names "
                "(Calling Plans by name)",
                _url(endpoint, "organization", select="countryLetterCode"),
            ),
        ]
        return list(await asyncio.gather(*(self._probe(*probe) for probe in probes)))

    def _groups_probe(self, endpoint: str) -> tuple[str, str, URL | None]:
        """GroupMember.Read.All: needed for HELPDESK_GROUP_ID (its members are read); else optional,
        for a sweep limited to an Entra group (without it, departments and offices only)."""
        if self._settings.helpdesk_group_id:
            path = f"groups/{segment(self._settings.helpdesk_group_id)}/members"
            return (
                GROUPS_READ,
                "recognise helpdesk group members and limit a sweep to an Entra group",
                _url(endpoint, path, top=1, select="id"),
            )
        return (GROUPS_READ, GROUPS_OPTIONAL_PURPOSE, _url(endpoint, "groups", top=1, select="id"))

    async def _probe(self, permission: str, purpose: str, url: URL | None) -> PermissionProbe:
        optional = purpose == GROUPS_OPTIONAL_PURPOSE or permission in OPTIONAL_PERMISSIONS
        if url is None:
            return PermissionProbe(permission, purpose, None, "not needed: HELPDESK_GROUP_ID is not set")
        try:
            body = await self._send("GET", url, permission, purpose, allow_404=permission == GROUPS_READ)
        except PermissionMissing as error:
            return PermissionProbe(permission, purpose, False, str(error), denied=True, optional=optional)
        except SourceError as error:
            return PermissionProbe(permission, purpose, False, str(error), optional=optional)
        if body is None:
            return PermissionProbe(
                permission, purpose, False, "HELPDESK_GROUP_ID names no group in this tenant."
            )
        return PermissionProbe(permission, purpose, True, "granted")

    # -- HTTP ------------------------------------------------------------------------------------

    @property
    def tokens(self) -> GraphTokenProvider:
        """The app's tokens (the number writes read the granted permissions from them)."""
        return self._tokens

    async def respond(
        self,
        method: str,
        url: URL,
        thing: str,
        *,
        json_body: Any = None,
        retry_statuses: frozenset[int] = RETRYABLE_STATUSES,
    ) -> HttpResponse:
        """One Graph request, its answer as it came (any status): for callers that read statuses
        themselves (the number writes and their operations)."""
        return await self._respond(method, url, thing, json_body=json_body, retry_statuses=retry_statuses)

    async def _get(
        self,
        path: str,
        params: list[tuple[str, str]],
        permission: str,
        thing: str,
        *,
        allow_404: bool = False,
    ) -> dict[str, Any] | None:
        url = graph_url(self._settings.graph_endpoint, path, params)
        return await self._send("GET", url, permission, thing, allow_404=allow_404)

    async def _collect(
        self,
        path: str,
        params: list[tuple[str, str]],
        permission: str,
        thing: str,
        *,
        limit: int | None = None,
        allow_404: bool = False,
    ) -> list[dict[str, Any]]:
        """Every row of a collection, following `@odata.nextLink` untouched (up to `limit` rows)."""
        rows: list[dict[str, Any]] = []
        pages = self._pages(path, params, permission, thing, allow_404=allow_404)
        async with contextlib.aclosing(pages) as stream:
            async for page in stream:
                rows.extend(page)
                if limit is not None and len(rows) >= limit:
                    return rows[:limit]
        return rows

    async def _pages(
        self,
        path: str,
        params: list[tuple[str, str]],
        permission: str,
        thing: str,
        *,
        allow_404: bool = False,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """A collection page by page, following `@odata.nextLink` untouched."""
        url: URL | None = graph_url(self._settings.graph_endpoint, path, params)
        while url is not None:
            body = await self._send("GET", url, permission, thing, allow_404=allow_404)
            if body is None:
                return
            values = body.get("value")
            if not isinstance(values, list):
                raise SourceUnavailable(
                    f"Microsoft Graph answered for {thing} without a list.", source="graph"
                )
            yield [v for v in values if isinstance(v, dict)]
            url = self._next_link(body, thing)

    def _next_link(self, body: dict[str, Any], thing: str) -> URL | None:
        link = key_insensitive(body, "@odata.nextLink")
        if not link:
            return None
        if not isinstance(link, str):
            raise SourceUnavailable(
                f"Microsoft Graph sent an unreadable next link for {thing}.", source="graph"
            )
        if not same_origin(link, self._settings.graph_endpoint):
            raise SourceUnavailable(f"Microsoft Graph linked {thing} to another host.", source="graph")
        return URL(link, encoded=True)

    async def _send(
        self,
        method: str,
        url: URL,
        permission: str,
        thing: str,
        *,
        json_body: Any = None,
        allow_404: bool = False,
    ) -> dict[str, Any] | None:
        """One Graph request with a bearer token, its answer read (`_answer`)."""
        response = await self._respond(method, url, thing, json_body=json_body)
        return _answer(response, permission, thing, allow_404=allow_404)

    async def _respond(
        self,
        method: str,
        url: URL,
        thing: str,
        *,
        json_body: Any = None,
        policy: RetryPolicy | None = None,
        retry_wait: RetryWait | None = None,
        retry_statuses: frozenset[int] = RETRYABLE_STATUSES,
    ) -> HttpResponse:
        """One Graph request with a bearer token; a 401 gets one retry with a fresh token."""
        response: HttpResponse | None = None
        for attempt in (1, 2):
            token = await self._tokens.token()
            try:
                response = await self._http.request(
                    method,
                    url,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    json_body=json_body,
                    what=f"reading {thing} from Microsoft Graph",
                    policy=policy,
                    retry_wait=retry_wait,
                    retry_statuses=retry_statuses,
                )
            except SourceUnavailable as error:
                error.source = error.source or "graph"
                raise
            if response.status == 401 and attempt == 1:
                await self._tokens.invalidate(token)
                continue
            break
        assert response is not None
        return response


# ---------------------------------------------------------------------------------------------
# Answers


class GraphNotFound(SourceUnavailable):
    """Graph answered 404 where the thing asked about should exist (`allow_404` was not given)."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message, source="graph")
        self.code = code

    @property
    def code_words(self) -> str:
        return f" ({self.code})" if self.code else ""


def _answer(response: HttpResponse, permission: str, thing: str, *, allow_404: bool) -> dict[str, Any] | None:
    status = response.status
    if 200 <= status < 300:
        try:
            body = response.json()
        except SourceUnavailable as error:
            raise SourceUnavailable(
                f"Microsoft Graph answered for {thing} with {error}.", source="graph"
            ) from None
        if not isinstance(body, dict):
            raise SourceUnavailable(
                f"Microsoft Graph answered for {thing} with something unexpected.", source="graph"
            )
        return body
    if status == 404 and allow_404:
        return None
    if status == 403:
        raise _permission_missing(permission, thing)
    if status == 401:
        raise SignInFailed(
            f"Microsoft Graph did not accept the app's token for {thing} (HTTP 401): check that GRAPH_ENDPOINT "
            "and GRAPH_CLOUD match the tenant's cloud.",
            source="graph",
        )
    code = _error_code(response)
    message = f"Microsoft Graph could not answer for {thing} (HTTP {status}{', ' + code if code else ''})."
    if status == 404:
        raise GraphNotFound(message, code=code)
    raise SourceUnavailable(message, source="graph")


def _assignment_key(row: dict[str, Any]) -> tuple[object, object]:
    return row.get("telephoneNumber"), row.get("assignmentTargetId")


def _permission_missing(permission: str, thing: str) -> PermissionMissing:
    return PermissionMissing(
        f"Microsoft Graph refused to read {thing} (HTTP 403): grant {permission} and give admin consent.",
        permission=permission,
        source="graph",
    )


def _error_code(response: HttpResponse) -> str:
    try:
        error = response.json().get("error")
    except (SourceUnavailable, AttributeError):
        return ""
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and len(code) < 80 else ""


def _url(endpoint: str, path: str, *, top: int | None = None, select: str | None = None) -> URL:
    params: list[tuple[str, str]] = []
    if select:
        params.append(("$select", select))
    if top is not None:
        params.append(("$top", str(top)))
    return graph_url(endpoint, path, params)
