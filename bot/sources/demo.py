"""The embedded demo tenant: Voice Doctor's default source when no credentials are configured.

Why: anyone can try every diagnosis — each cause id has a demo user — without a Microsoft 365
tenant or an 8x8 account, and the tests have a realistic tenant to run against. The tenant lives
in `demo_tenant.json` next to this module. Times there are relative ("hoursAgo") and are turned
into absolute ones with the clock when asked, so the demo never goes stale.

The demo answers through the same Protocols as the live sources (`bot.diagnosis.evidence`), with the
same shapes and the same matching rules (numbers compared as E.164, masked numbers on their
visible digits), so the engine cannot tell the difference; every diagnosis still says
`"dataSource": "demo"`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from bot.diagnosis.evidence import (
    MCOEV_SERVICE_PLAN_ID,
    MCOEV_VIRTUALUSER_SERVICE_PLAN_ID,
    NUMBER_MANAGING_ROLES,
    VOICE_APPLICATION_ASSIGNED,
    CallPage,
    CallQuery,
    CallRecord,
    CallSearch,
    DirectoryGroup,
    DirectoryUser,
    Domain,
    EightByEightSource,
    EightByEightUser,
    HelpdeskStatus,
    MicrosoftSource,
    NumberAssignment,
    NumberChange,
    NumberHolder,
    NumberWriter,
    PortalSource,
    VoiceConfig,
)
from bot.diagnosis.names import rank_people
from bot.diagnosis.phone import first_e164, to_e164
from bot.diagnosis.repair import OperationResult
from bot.sources.graph_calls import match_callee
from bot.sources.graph_shapes import calling_plans, policy_assignments

DATA_FILE = Path(__file__).with_name("demo_tenant.json")
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@cache
def demo_data() -> dict[str, Any]:
    """The demo tenant file, read once (docs and tests read it too)."""
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def _policy_rows(policies: Any) -> list[dict[str, Any]] | None:
    """The demo's short policy list in Graph's `effectivePolicyAssignments` shape."""
    if not isinstance(policies, list):
        return None
    return [
        {
            "policyType": p["policyType"],
            "policyAssignment": {k: p[k] for k in ("displayName", "assignmentType", "groupId") if k in p},
        }
        for p in policies
    ]


def _ago(clock: Clock, hours: float) -> datetime:
    return clock().astimezone(UTC).replace(microsecond=0) - timedelta(hours=hours)


# ---------------------------------------------------------------------------------------------
# Microsoft (what Graph would say)


class DemoMicrosoft:
    name = "demo"

    def __init__(self, data: dict[str, Any], clock: Clock):
        self._data = data
        self._clock = clock

    def _users(self) -> list[dict[str, Any]]:
        return list(self._data["users"]) + list(self._data.get("activationUsers", []))

    def _directory_user(self, raw: dict[str, Any]) -> DirectoryUser:
        plan = self._enabled_plan(raw, MCOEV_SERVICE_PLAN_ID)
        virtual = self._enabled_plan(raw, MCOEV_VIRTUALUSER_SERVICE_PLAN_ID)
        shown = plan or virtual
        return DirectoryUser(
            id=raw["id"],
            user_principal_name=raw["userPrincipalName"],
            display_name=raw["displayName"],
            mail=raw.get("mail"),
            account_enabled=raw.get("accountEnabled", True),
            phone_plan_enabled=plan is not None,
            phone_plan_since=_ago(self._clock, shown["assignedDaysAgo"] * 24) if shown else None,
            business_phones=tuple(raw.get("businessPhones", [])),
            calling_plans=calling_plans(raw.get("assignedPlans"), _plan_names(raw.get("assignedPlans"))),
            resource_account_plan=virtual is not None,
            department=raw.get("department"),
            office_location=raw.get("officeLocation"),
        )

    @staticmethod
    def _enabled_plan(raw: dict[str, Any], plan_id: str) -> dict[str, Any] | None:
        return next(
            (
                p
                for p in raw.get("assignedPlans", [])
                if p.get("servicePlanId") == plan_id and p.get("capabilityStatus") == "Enabled"
            ),
            None,
        )

    def _raw(self, user_id: str) -> dict[str, Any] | None:
        return next((u for u in self._users() if u["id"].lower() == user_id.lower()), None)

    async def find_users(self, query: str) -> list[DirectoryUser]:
        text = (query or "").strip()
        if not text:
            return []
        lowered = text.lower()
        number = first_e164(text, [self._country()])
        found = []
        for raw in self._users():
            if number is not None:
                hit = number in self._numbers(raw)
            else:
                hit = (
                    lowered
                    in (raw["userPrincipalName"].lower(), (raw.get("mail") or "").lower(), raw["id"].lower())
                    or raw["displayName"].lower().startswith(lowered)
                    or any(part.lower().startswith(lowered) for part in raw["displayName"].split()[1:])
                )
            if hit:
                found.append(self._directory_user(raw))
        if not found and number is None and "@" not in text and not any(ch.isdigit() for ch in text):
            # a typo, another order, a name heard on the phone: the likeliest people, as Graph's source
            return rank_people(text, [self._directory_user(raw) for raw in self._users()])
        return found

    def _numbers(self, raw: dict[str, Any]) -> dict[str, str]:
        """E.164 -> where ("teams" or "phone field"); phone fields read as Graph's source reads them."""
        teams = raw.get("teams", {})
        out = {
            n: "teams"
            for n in (to_e164(a["telephoneNumber"]) for a in teams.get("numberAssignments", []))
            if n
        }
        regions = [self._country(), raw.get("usageLocation")]
        for field in [*raw.get("businessPhones", []), raw.get("mobilePhone") or ""]:
            number = first_e164(field, regions)
            if number:
                out.setdefault(number, "phone field")
        return out

    def _country(self) -> str | None:
        return self._data["tenant"].get("countryLetterCode")

    async def tenant_country(self) -> str | None:
        return self._country()

    async def number_holders(self, number: str, *, teams_only: bool = False) -> list[NumberHolder]:
        holders = [
            NumberHolder(number, self._holder(raw, number), where)
            for raw in self._users()
            for found, where in self._numbers(raw).items()
            if found == number
        ]
        assigned = [h for h in holders if h.where == "teams"]
        return assigned or ([] if teams_only else holders)

    def _holder(self, raw: dict[str, Any], number: str) -> DirectoryUser:
        """As Graph's source reads a holder: a resource account when Teams gives it the number as a
        voice application's (`assignmentStatus` voiceApplicationAssigned)."""
        user = self._directory_user(raw)
        voice_app = any(
            to_e164(a["telephoneNumber"]) == number
            and a.get("assignmentStatus") == VOICE_APPLICATION_ASSIGNED
            for a in raw.get("teams", {}).get("numberAssignments", [])
        )
        return replace(user, resource_account=True) if voice_app else user

    async def numbers_ending_with(self, digits: str) -> list[NumberHolder]:
        return [
            NumberHolder(number, self._directory_user(raw), where)
            for raw in self._users()
            for number, where in self._numbers(raw).items()
            if number.endswith(digits)
        ]

    async def get_user(self, user_id: str) -> DirectoryUser | None:
        raw = self._raw(user_id)
        return self._directory_user(raw) if raw else None

    async def number_assignments(self, user_id: str) -> list[NumberAssignment]:
        raw = self._raw(user_id) or {}
        return [
            NumberAssignment(
                telephone_number=a["telephoneNumber"],
                number_type=a.get("numberType"),
                activation_state=a.get("activationState"),
                assignment_status=a.get("assignmentStatus"),
                assignment_category=a.get("assignmentCategory"),
                assignment_target_id=user_id,
            )
            for a in raw.get("teams", {}).get("numberAssignments", [])
        ]

    async def voice_config(self, user_id: str) -> VoiceConfig | None:
        raw = self._raw(user_id)
        if raw is None or "teams" not in raw:
            return None
        teams = raw["teams"]
        return VoiceConfig(
            enterprise_voice_enabled=teams.get("enterpriseVoiceEnabled"),
            telephone_numbers=tuple(teams.get("telephoneNumbers", [])),
            account_type=teams.get("accountType", "user"),
            policies=policy_assignments(_policy_rows(teams.get("policies"))),
        )

    async def user_calls(self, query: CallQuery) -> CallSearch:
        """Like Graph's getDirectRoutingCalls: every unsuccessful call of the tenant, filtered here
        exactly as the live search filters (the user's id, else their numbers; masked on their
        visible digits). The demo's log is small, so the whole period is always read."""
        wanted = [n for n in (to_e164(x) for x in query.numbers) if n]
        search = CallSearch(window_start=query.since, window_end=query.until, pages_scanned=1, complete=True)
        for owner in [*self._data["users"], *self._data.get("eightbyeightOnlyUsers", [])]:
            for raw in owner.get("failedCalls", []):
                record = self._call(raw, owner)
                search.rows_read += 1
                if record.at is None or not query.since <= record.at <= query.until or record.successful:
                    continue
                if record.direction != query.direction:
                    continue
                matched = self._match(record, query, wanted)
                if matched is not None:
                    search.tally(matched)
                    search.calls.append(matched)
        search.calls.sort(key=lambda c: c.at or query.since, reverse=True)
        return search

    @staticmethod
    def _match(record: CallRecord, query: CallQuery, wanted: list[str]) -> CallRecord | None:
        """The live search's rule: a row with a user is that user's; one without, its numbers'."""
        if record.user_id:
            return record if (query.user_id or "").lower() == record.user_id.lower() else None
        if query.direction == "inbound":
            return match_callee(record, wanted)
        mirrored = replace(record, callee_number=record.caller_number)
        matched = match_callee(mirrored, wanted)
        return replace(record, partial_match=matched.partial_match) if matched else None

    def _call(self, raw: dict[str, Any], owner: dict[str, Any]) -> CallRecord:
        # A reverse-number-lookup failure never found the user: no userId (FACTS.md, inference).
        found_user = raw.get("callEndSubReason") != 511404 and "id" in owner
        return CallRecord(
            correlation_id=raw["correlationId"],
            at=_ago(self._clock, raw["hoursAgo"]),
            call_type=raw.get("callType", "ByotIn"),
            successful=raw.get("successfulCall", False),
            caller_number=raw.get("callerNumber"),
            callee_number=raw.get("calleeNumber"),
            sip_code=raw.get("finalSipCode"),
            sub_code=raw.get("callEndSubReason"),
            phrase=raw.get("finalSipCodePhrase"),
            trunk_fqdn=raw.get("trunkFullyQualifiedDomainName"),
            user_id=owner["id"] if found_user else None,
            user_principal_name=owner["userPrincipalName"] if found_user else None,
        )

    # -- the whole tenant (the sweep) ------------------------------------------------------------

    async def all_users(self) -> AsyncIterator[DirectoryUser]:
        for raw in self._users():
            yield self._directory_user(raw)

    async def all_number_assignments(self) -> AsyncIterator[NumberAssignment]:
        for raw in self._users():
            for assignment in await self.number_assignments(raw["id"]):
                yield assignment

    async def all_voice_configs(self) -> AsyncIterator[tuple[str, VoiceConfig]]:
        for raw in self._users():
            config = await self.voice_config(raw["id"])
            if config is not None:
                yield raw["id"], config

    async def tenant_calls(
        self, since: datetime, until: datetime, *, worked_for: frozenset[str] = frozenset()
    ) -> AsyncIterator[CallPage]:
        """The demo's whole call log for the period, as one page (the demo's log is small)."""
        rows = [
            self._call(raw, owner)
            for owner in [*self._data["users"], *self._data.get("eightbyeightOnlyUsers", [])]
            for raw in owner.get("failedCalls", [])
        ]
        rows = [r for r in rows if r.at is not None and since <= r.at <= until]
        worked = frozenset(
            (r.user_id.lower(), r.direction)
            for r in rows
            if r.successful and r.user_id and r.direction and r.user_id.lower() in worked_for
        )
        yield CallPage(rows=len(rows), unsuccessful=tuple(r for r in rows if not r.successful), worked=worked)

    async def domains(self) -> list[Domain]:
        return [self._domain(raw) for raw in self._data.get("domains", [])]

    def _domain(self, raw: dict[str, Any]) -> Domain:
        state = raw.get("state") or {}
        return Domain(
            id=raw["id"],
            is_verified=raw.get("isVerified", False),
            is_default=raw.get("isDefault", False),
            is_initial=raw.get("isInitial", False),
            supported_services=tuple(raw.get("supportedServices", [])),
            state_status=state.get("status"),
            state_operation=state.get("operation"),
            state_last_action_at=_ago(self._clock, state["lastActionHoursAgo"])
            if "lastActionHoursAgo" in state
            else None,
        )

    async def users_on_domain(self, fqdn: str) -> list[DirectoryUser]:
        suffix = "@" + fqdn.lower()
        return [
            self._directory_user(u) for u in self._users() if u["userPrincipalName"].lower().endswith(suffix)
        ]

    async def users_named(self, display_name: str) -> list[DirectoryUser]:
        wanted = display_name.strip().lower()
        return [self._directory_user(u) for u in self._users() if u["displayName"].lower() == wanted]

    # -- groups (a sweep limited to one) ----------------------------------------------------------

    async def groups_named(self, name: str) -> list[DirectoryGroup]:
        wanted = name.strip().casefold()
        return [
            DirectoryGroup(g["id"], g["displayName"], g.get("mail"), g.get("description"))
            for g in self._data.get("groups", [])
            if wanted in (g["displayName"].casefold(), (g.get("mail") or "").casefold(), g["id"].casefold())
        ]

    async def group_members(self, group_id: str) -> AsyncIterator[str]:
        for group in self._data.get("groups", []):
            if group["id"].lower() == group_id.lower():
                for member in group.get("members", []):
                    yield member

    async def helpdesk_status(self, user_id: str) -> HelpdeskStatus:
        raw = self._raw(user_id)
        if raw and raw.get("helpdesk"):  # a Teams admin role's name, or "member of the helpdesk group"
            manages = raw["helpdesk"] in NUMBER_MANAGING_ROLES.values()
            return HelpdeskStatus(True, raw["helpdesk"], may_manage_numbers=manages)
        return HelpdeskStatus(False, "")


# ---------------------------------------------------------------------------------------------
# 8x8 (what the Administration API would say)


class DemoEightByEight:
    name = "demo"

    def __init__(self, data: dict[str, Any]):
        self._accounts = [u["eightbyeight"] for u in data["users"] if u.get("eightbyeight")]
        self._accounts += list(data.get("eightbyeightOnlyUsers", []))

    async def find_user(self, user_principal_name: str, mail: str | None = None) -> EightByEightUser | None:
        """By `basicInfo.userName`, then by `basicInfo.primaryEmail` (8x8 user names cannot hold `'`)."""
        name = (user_principal_name or "").strip().lower()
        emails = {e.strip().lower() for e in (mail, user_principal_name) if e}
        account = next((a for a in self._accounts if a["userName"].lower() == name), None)
        if account is None:
            account = next(
                (a for a in self._accounts if (a.get("primaryEmail") or "").lower() in emails), None
            )
        return None if account is None else _eightbyeight_user(account)

    async def users(self) -> AsyncIterator[EightByEightUser]:
        """Every 8x8 account of the demo, as the live source's scroll would yield them."""
        for account in self._accounts:
            yield _eightbyeight_user(account)

    async def number_change(self, user: EightByEightUser, now: datetime) -> NumberChange | None:
        """The demo account's `numberChanges` (days ago, from, to), as 8x8's Audit Records would
        show them: the newest within the 30 days before `now`."""
        account = next((a for a in self._accounts if a["userId"] == user.user_id), None)
        changes = [
            NumberChange(
                at=now - timedelta(days=float(c["daysAgo"])),
                old=to_e164(c.get("from") or ""),
                new=to_e164(c.get("to") or ""),
                entity_type=c.get("entityType"),
            )
            for c in (account or {}).get("numberChanges", [])
            if float(c["daysAgo"]) <= 30
        ]
        return max(changes, key=lambda c: c.at) if changes else None


def _plan_names(plans: object) -> dict[str, str]:
    """The demo keeps each plan's name in `service` (live, the tenant's subscribedSkus name them)."""
    return {
        str(p["servicePlanId"]).lower(): str(p["service"])
        for p in (plans if isinstance(plans, list) else [])
        if isinstance(p, dict) and p.get("servicePlanId") and p.get("service")
    }


def _eightbyeight_user(account: dict[str, Any]) -> EightByEightUser:
    """In the live source's shape: numbers in E.164 (the demo file keeps them as 8x8's admins type them)."""
    numbers = [n for n in (to_e164(raw) for raw in account.get("phoneNumbers", [])) if n]
    return EightByEightUser(
        user_id=account["userId"],
        user_name=account["userName"],
        primary_email=account.get("primaryEmail"),
        status=account.get("status"),
        display_name=account.get("displayName"),
        primary_number=to_e164(account.get("primaryPhoneNumber") or ""),
        numbers=tuple(dict.fromkeys(numbers)),
        ms_teams_enabled=account.get("msTeamsEnabled"),
    )


# ---------------------------------------------------------------------------------------------
# The Voice for Teams admin portal (what an admin would paste)


class DemoPortal:
    name = "demo"

    def __init__(self, data: dict[str, Any], clock: Clock):
        self._data = data
        self._clock = clock

    def _raw(self, user: DirectoryUser) -> dict[str, Any] | None:
        return next((u for u in self._data["users"] if u["id"] == user.id), None)

    async def first_complete_sync(self, user: DirectoryUser | None) -> datetime | None:
        if user is None:
            hours = self._data["tenant"].get("firstCompleteSyncHoursAgo")
        else:
            raw = self._raw(user)
            hours = raw.get("firstCompleteSyncHoursAgo") if raw else None
        return _ago(self._clock, hours) if hours is not None else None

    async def call_data_text(self, user: DirectoryUser) -> str | None:
        raw = self._raw(user)
        page = raw.get("callData") if raw else None
        if not page:
            return None
        at = _ago(self._clock, page["hoursAgo"])
        called = to_e164(page["calledNumber"]) or page["calledNumber"]
        return CALL_DATA_PAGE.format(
            start=at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            clock=at.strftime("%H:%M:%S"),
            calling=page["callingNumber"],
            called=page["calledNumber"],
            called_e164=called,
            correlation_id=page["correlationId"],
        )

    async def sync_history_text(self) -> str | None:
        rows = self._data.get("syncHistory") or []
        if not rows:
            return None
        lines = ["Sync History", f"{'Date':<26}{'Type':<13}{'Status':<11}Details"]
        for row in sorted(rows, key=lambda r: r["hoursAgo"]):
            stamp = _ago(self._clock, row["hoursAgo"]).strftime("%Y-%m-%d %H:%M:%S UTC")
            lines.append(f"{stamp:<26}{row['type']:<13}{row['status']:<11}{row['details']}")
        return "\n".join(lines) + "\n"


CALL_DATA_PAGE = """Call Data

Start Time: {start}
From: {calling}
To: {called}
Direction: Inbound
Duration: 0:00
Result: Failed
Failure Advice: 404 Unallocated Number

Debug Output
{clock}.112 INVITE sip:{called_e164}@sip.pstnhub.microsoft.com:5061;user=phone SIP/2.0
{clock}.145 SIP/2.0 100 Trying
{clock}.389 SIP/2.0 404 Not Found
{clock}.389 Reason: Q.850 ;cause=1 ;text="{correlation_id};RNL"
{clock}.390 Invalid argument 404
"""


# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Fixes (what Graph's assignNumber / unassignNumber would do)

DEMO_OPERATION_SECONDS = 1.5  # a demo operation takes a moment, as Microsoft's do (minutes, live)


class DemoNumberWriter:
    """`NumberWriter` over the demo tenant's own data: a fix changes what the demo then answers.

    Like Microsoft: an operation takes a moment; a number Teams gives someone else cannot be
    assigned ("already assigned"); a user marked `refusesAssignment` is refused with that reason
    (the demo's fix that fails on purpose). The data is this tenant's copy, so every process (and
    every `DemoTenant.load()`) starts from the file again."""

    name = "demo"

    def __init__(self, data: dict[str, Any], *, delay: float | None = None):
        self._data = data
        self._delay = DEMO_OPERATION_SECONDS if delay is None else delay
        self._operations: dict[str, OperationResult] = {}
        self._lock = asyncio.Lock()

    def unavailable_reason(self) -> str | None:
        return None

    async def write_access(self) -> str | None:
        return None

    async def assign_number(
        self,
        telephone_number: str,
        target_id: str,
        *,
        number_type: str = "directRouting",
        assignment_category: str = "primary",
    ) -> OperationResult:
        async with self._lock:
            await asyncio.sleep(self._delay)
            target = self._raw(target_id)
            holder = self._holder_of(telephone_number)
            if target is None:
                return self._done("failed", f"No user or resource account has the id {target_id}.")
            teams = target.setdefault("teams", {})
            if holder is not None:
                return self._done(
                    "failed",
                    f"The telephone number {telephone_number} is already assigned to {holder['userPrincipalName']}.",
                )
            if teams.get("refusesAssignment"):
                return self._done("failed", teams["refusesAssignment"])
            teams.setdefault("numberAssignments", []).append(
                {
                    "telephoneNumber": telephone_number,
                    "numberType": number_type,
                    "activationState": "activated",
                    "assignmentStatus": "userAssigned",
                    "assignmentCategory": assignment_category,
                }
            )
            teams.setdefault("telephoneNumbers", []).append(telephone_number)
            teams["enterpriseVoiceEnabled"] = True  # as Microsoft does when it assigns a number
            return self._done("succeeded")

    async def unassign_number(
        self, telephone_number: str, *, number_type: str = "directRouting"
    ) -> OperationResult:
        async with self._lock:
            await asyncio.sleep(self._delay)
            holder = self._holder_of(telephone_number)
            if holder is None:
                return self._done("failed", f"The telephone number {telephone_number} is not assigned.")
            teams = holder["teams"]
            teams["numberAssignments"] = [
                a for a in teams["numberAssignments"] if to_e164(a["telephoneNumber"]) != telephone_number
            ]
            teams["telephoneNumbers"] = [
                n for n in teams.get("telephoneNumbers", []) if to_e164(n) != telephone_number
            ]
            return self._done("succeeded")

    async def operation(self, operation_id: str) -> OperationResult:
        return self._operations.get(operation_id) or OperationResult(
            operation_id, "failed", "No such operation in the demo tenant."
        )

    def _raw(self, user_id: str) -> dict[str, Any] | None:
        users = [*self._data["users"], *self._data.get("resourceAccounts", [])]
        return next((u for u in users if u["id"].lower() == user_id.lower()), None)

    def _holder_of(self, number: str) -> dict[str, Any] | None:
        for raw in [*self._data["users"], *self._data.get("resourceAccounts", [])]:
            for assignment in (raw.get("teams") or {}).get("numberAssignments", []):
                if to_e164(assignment["telephoneNumber"]) == number:
                    return raw
        return None

    def _done(self, status: str, detail: str | None = None) -> OperationResult:
        result = OperationResult(str(uuid.uuid4()), status, detail)  # type: ignore[arg-type]
        self._operations[result.operation_id or ""] = result
        return result


# ---------------------------------------------------------------------------------------------


@dataclass
class DemoTenant:
    microsoft: MicrosoftSource
    eightbyeight: EightByEightSource
    portal: PortalSource
    writer: NumberWriter | None = None

    @classmethod
    def load(cls, clock: Clock | None = None, *, operation_seconds: float | None = None) -> DemoTenant:
        """The demo tenant, its relative times read against `clock` (default: now, UTC).

        Each tenant has its own copy of the data: a fix changes this tenant only."""
        data = copy.deepcopy(demo_data())
        clock = clock or _utc_now
        return cls(
            DemoMicrosoft(data, clock),
            DemoEightByEight(data),
            DemoPortal(data, clock),
            DemoNumberWriter(data, delay=operation_seconds),
        )


def demo_users(problem: str | None = None) -> list[dict[str, str]]:
    """One row per demo user and call problem: who, the problem, the cause the demo shows, what it
    shows (for docs and tests). Inbound rows first, in the file's order; `problem` keeps one kind.
    `sweep` is the cause the sweep lists them under: the same, but where only the whole tenant shows
    more (the main line's number is another's in Teams: `number-conflict`)."""
    data = demo_data()
    people = [(u["userPrincipalName"], u["displayName"], u["demo"]) for u in data["users"]]
    people += [(u["userName"], u["userName"], u["demo"]) for u in data.get("eightbyeightOnlyUsers", [])]
    rows = [
        {
            "user": user,
            "name": name,
            "problem": "inbound-calls",
            "cause": demo["cause"],
            "sweep": demo.get("sweep", demo["cause"]),
            "shows": demo["shows"],
        }
        for user, name, demo in people
    ]
    rows += [
        {
            "user": user,
            "name": name,
            "problem": "outbound-calls",
            "cause": demo["outbound"]["cause"],
            "sweep": demo["outbound"].get("sweep", demo["outbound"]["cause"]),
            "shows": demo["outbound"]["shows"],
        }
        for user, name, demo in people
        if "outbound" in demo
    ]
    return [row for row in rows if problem is None or row["problem"] == problem]
