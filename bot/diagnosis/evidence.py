"""What the diagnosis engine asks its sources, and the shapes they answer in.

The domain owns these: `bot.sources` implements the Protocols (Graph, the 8x8 Administration API,
the embedded demo tenant), and nothing above the sources imports them. Three kinds of source:

- `MicrosoftSource`: what Microsoft holds (Graph live, or the embedded demo tenant);
- `EightByEightSource`: what 8x8 holds (the 8x8 Administration API, or the demo tenant);
- `PortalSource`: what only the 8x8 Voice for Teams admin portal shows (it has no public API, so
  live this is empty and the admin pastes or tells it; the demo tenant simulates it).

A source that cannot answer raises a `SourceError` (`bot.diagnosis.errors`) whose message is one
sentence saying which source and why; the engine turns it into `unknown` checks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.diagnosis.catalogue import Direction, direction_of
from bot.diagnosis.repair import OperationResult

# Licences, as Graph's `assignedPlans` name them: by service plan id.
MCOEV_SERVICE_PLAN_ID = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"  # Teams Phone (MCOEV)
# The Teams Phone Resource Account licence (PHONESYSTEM_VIRTUALUSER): what auto attendants' and call
# queues' resource accounts hold instead of Teams Phone. Either counts as the phone licence.
MCOEV_VIRTUALUSER_SERVICE_PLAN_ID = "f47330e9-c134-43b3-9993-e7f004506889"
# How Teams marks a resource account: `teamsUserConfiguration.accountType`, and the
# `assignmentStatus` of the number assignment that gives it its number.
RESOURCE_ACCOUNT_TYPE = "resourceAccount"
VOICE_APPLICATION_ASSIGNED = "voiceApplicationAssigned"
# Microsoft Calling Plans are the service plans named MCOPSTN* (read by name from the tenant's
# subscribedSkus); Communications Credits (MCOPSTNC) is not one. These ids are the fallback when the
# names cannot be read.
CALLING_PLAN_PREFIX = "MCOPSTN"
NOT_CALLING_PLANS = frozenset({"MCOPSTNC"})
CALLING_PLAN_IDS: dict[str, str] = {
    "4ed3ff63-69d7-4fb7-b984-5aec7f605ca8": "MCOPSTN1",
    "3c8a8792-7866-409b-bb61-1b20ace0368b": "MCOPSTN1_GOV",
    "5a10155d-f5c1-411a-a8ec-e99aae125390": "MCOPSTN2",
    "54a152dc-90de-4996-93d2-bc47e670fc06": "MCOPSTN5",
}

# ---------------------------------------------------------------------------------------------
# Shapes


@dataclass(frozen=True)
class DirectoryUser:
    id: str
    user_principal_name: str
    display_name: str
    mail: str | None = None
    account_enabled: bool = True
    # Teams Phone (MCOEV, servicePlanId 4828c8ec-dc2e-4779-b502-87ac9ce28ab7) enabled in assignedPlans.
    phone_plan_enabled: bool = False
    phone_plan_since: datetime | None = None
    business_phones: tuple[str, ...] = ()
    # Enabled Microsoft Calling Plans (service plans MCOPSTN*), by name: 8x8 does not sync such users.
    calling_plans: tuple[str, ...] = ()
    # The Teams Phone Resource Account licence (MCOEV_VIRTUALUSER) enabled: only resource accounts
    # (auto attendants, call queues) hold it. `phone_plan_since` is then its date when MCOEV is absent.
    resource_account_plan: bool = False
    # The source knows this is a resource account (else the rules learn it from the Teams settings).
    resource_account: bool = False
    # Set when the tenant's service plan names could not be read: only CALLING_PLAN_IDS were looked
    # for, and this says why (the check shows it).
    calling_plans_by_id_only: str | None = field(default=None, compare=False)
    department: str | None = None  # Graph `department`, as the directory holds it (a sweep by place)
    office_location: str | None = None  # Graph `officeLocation` ("Leeds")

    @property
    def phone_licensed(self) -> bool:
        """Teams Phone (MCOEV) or the Teams Phone Resource Account licence: either lets Teams take calls."""
        return self.phone_plan_enabled or self.resource_account_plan


@dataclass(frozen=True)
class DirectoryGroup:
    """An Entra group (Graph `group`), as a sweep limited to a group finds it by name."""

    id: str
    display_name: str
    mail: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class NumberAssignment:
    """Graph `numberAssignment`; `telephone_number` always has its `+`."""

    telephone_number: str
    number_type: str | None = None  # directRouting, callingPlan, operatorConnect, ...
    activation_state: str | None = None  # activated, assignmentPending, assignmentFailed, ...
    assignment_status: str | None = None  # unassigned, userAssigned, ...
    assignment_category: str | None = None  # primary, private, alternate
    assignment_target_id: str | None = None


@dataclass(frozen=True)
class PolicyAssignment:
    """One of `effectivePolicyAssignments`: a policy's type and name, not its settings."""

    policy_type: str  # TeamsCallingPolicy, TeamsMeetingPolicy, ... (Graph does not document the list)
    display_name: str | None = None  # "Global" (the default) or the policy's name
    assignment_type: str | None = None  # direct, group, ...
    group_id: str | None = None


@dataclass(frozen=True)
class VoiceConfig:
    """Graph `teamsUserConfiguration` (the parts the rules use).

    `policies` is None when Graph gave no `effectivePolicyAssignments` at all (not the same as none).
    """

    enterprise_voice_enabled: bool | None = None
    telephone_numbers: tuple[str, ...] = ()
    account_type: str | None = None
    policies: tuple[PolicyAssignment, ...] | None = None


@dataclass(frozen=True)
class CallRecord:
    """One Direct Routing call (Graph `directRoutingLogRow`): an unsuccessful one, for our purposes."""

    correlation_id: str | None
    at: datetime | None  # failureDateTime, else inviteDateTime (0001-01-01 means unset -> None)
    call_type: str | None
    successful: bool
    caller_number: str | None
    callee_number: str | None
    sip_code: int | None
    sub_code: int | None
    phrase: str | None = None
    trunk_fqdn: str | None = None
    user_id: str | None = None
    user_principal_name: str | None = None
    partial_match: bool = False  # the user's number masked: matched on its visible prefix

    @property
    def direction(self) -> Direction | None:
        return direction_of(self.call_type)


@dataclass(frozen=True)
class CallQuery:
    """Whose unsuccessful calls to look for, in which direction, within which period.

    A row is the user's when its `userId` is `user_id`, or (the user was never found: reverse
    number lookup failed) when one of `numbers` (E.164) is its callee (inbound) or caller (outbound).
    """

    direction: Direction
    numbers: tuple[str, ...]
    since: datetime
    until: datetime
    user_id: str | None = None


@dataclass
class Tally:
    """How many of the user's calls had one signature, and when the newest was."""

    count: int = 0
    newest: datetime | None = None

    def add(self, at: datetime | None) -> None:
        self.count += 1
        if at is not None and (self.newest is None or at > self.newest):
            self.newest = at


# (direction, SIP code, Microsoft sub-code) of a call: what the failure catalogue reads.
Signature = tuple[str | None, int | None, int | None]


@dataclass
class CallSearch:
    """The user's unsuccessful calls within the span searched, newest first.

    `calls` keeps the newest of them (a bounded number); `signatures` counts every one by its codes,
    so counts stay true however many there were. `window_start` is how far back the search read:
    it stops early once it has read 24 hours before the newest failure (counts are then
    representative), and `complete` is False when the time budget or a fault stopped it. Records
    can appear 24-48 h late in any case: a missing row is inconclusive.
    """

    calls: list[CallRecord] = field(default_factory=list)
    window_start: datetime | None = None
    window_end: datetime | None = None
    pages_scanned: int = 0
    complete: bool = True
    signatures: dict[Signature, Tally] = field(default_factory=dict)
    rows_read: int = 0  # every row of the tenant's call log read in the span searched

    def __post_init__(self) -> None:
        if self.calls and not self.signatures:  # built from calls alone: count those
            for call in self.calls:
                self.tally(call)

    def tally(self, call: CallRecord) -> None:
        key = (call.direction, call.sip_code, call.sub_code)
        self.signatures.setdefault(key, Tally()).add(call.at)


@dataclass(frozen=True)
class CallPage:
    """One page of the tenant's Direct Routing call log, as the tenant-wide sweep reads it.

    `rows` counts every row of the page; `unsuccessful` holds its unsuccessful calls (whoever they
    belong to); `worked` names the users, of those the sweep asked about, who had a successful call
    in the page, with its direction (user id in lower case). `pace` is the request rate the source
    keeps to for the call log (requests a minute; None when it does not pace).
    """

    rows: int
    unsuccessful: tuple[CallRecord, ...] = ()
    worked: frozenset[tuple[str, Direction]] = frozenset()
    pace: float | None = None


@dataclass(frozen=True)
class Domain:
    id: str  # the FQDN
    is_verified: bool = False
    is_default: bool = False
    is_initial: bool = False
    supported_services: tuple[str, ...] = ()
    state_status: str | None = None  # Scheduled, InProgress, Failed
    state_operation: str | None = None
    state_last_action_at: datetime | None = None


@dataclass(frozen=True)
class EightByEightUser:
    user_id: str
    user_name: str
    primary_email: str | None = None
    status: str | None = None  # ACTIVE, INACTIVE
    display_name: str | None = None
    primary_number: str | None = None  # E.164
    numbers: tuple[str, ...] = ()  # every number on every extension, E.164
    ms_teams_enabled: bool | None = None
    # The list entry came without serviceInfo, so the user was read alone (`GET /users/{userId}`).
    read_alone: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class NumberChange:
    """When and from what a person's 8x8 number last changed (8x8's Audit Records)."""

    at: datetime
    old: str | None  # E.164, or None when the record shows the number added, not replaced
    new: str | None
    entity_type: str | None = None  # "user" or "extension", as 8x8 wrote it


def is_calling_plan(service_plan_name: str) -> bool:
    """A Microsoft Calling Plan by its service plan name (MCOPSTN1, MCOPSTN_5, MCOPSTN8, …)."""
    name = service_plan_name.strip().upper()
    return name.startswith(CALLING_PLAN_PREFIX) and name not in NOT_CALLING_PLANS


def best_eightbyeight_match(users: Sequence[EightByEightUser]) -> EightByEightUser:
    """The one of several 8x8 users found for a person: ACTIVE with Teams enabled, then ACTIVE,
    then Teams enabled, then the first as the service listed them."""
    return min(
        users,
        key=lambda u: (
            u.status != "ACTIVE" or u.ms_teams_enabled is not True,
            u.status != "ACTIVE",
            u.ms_teams_enabled is not True,
        ),
    )


@dataclass(frozen=True)
class NumberHolder:
    """A Microsoft 365 user holding a number: where Teams assigns it, or in the user's phone fields."""

    number: str  # E.164
    user: DirectoryUser
    where: str = "teams"  # "teams" (numberAssignments) or "phone field" (businessPhones, mobilePhone)


@dataclass(frozen=True)
class NumberOwners:
    """Who holds one number on each side: the finding when they differ.

    `teams` are the Microsoft 365 users Teams assigns the number to (reverse number lookup finds
    them); `phone_fields` those whose directory phone fields carry it when Teams assigns it to nobody
    (a way to find the person, never a holder that competes with 8x8);
    `eightbyeight` the 8x8 users whose extensions carry it, with `eightbyeight_accounts` their
    Microsoft 365 accounts where one was found (matched on 8x8's user name or e-mail).
    """

    number: str  # E.164
    teams: tuple[DirectoryUser, ...] = ()
    eightbyeight: tuple[EightByEightUser, ...] = ()
    phone_fields: tuple[DirectoryUser, ...] = ()
    eightbyeight_accounts: tuple[DirectoryUser, ...] = ()
    eightbyeight_error: str | None = None  # 8x8 could not be read: one sentence saying why

    @property
    def conflicting_teams_owners(self) -> tuple[DirectoryUser, ...]:
        """Teams holders of the number who are not its 8x8 owner: one number on two people."""
        if not self.eightbyeight_accounts:
            return ()
        owners = {u.id.lower() for u in self.eightbyeight_accounts}
        return tuple(u for u in self.teams if u.id.lower() not in owners)


# Microsoft's roles that may manage Teams phone numbers (Entra roleTemplateId -> name; FACTS.md,
# "Changing Teams numbers"). Fixes write with the bot's own permission, so only people holding one
# of these may confirm one.
NUMBER_MANAGING_ROLES: dict[str, str] = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
    "baf37b3a-610e-45da-9e62-d9d1e5e8914b": "Teams Communications Administrator",
    "aa38014f-0993-46e9-9b45-30501a20909d": "Teams Telephony Administrator",
}
# The same roles in words: "a Global, Teams, Teams Communications or Teams Telephony Administrator".
NUMBER_ROLES_WORDS = "a Global, Teams, Teams Communications or Teams Telephony Administrator"


@dataclass(frozen=True)
class HelpdeskStatus:
    is_helpdesk: bool
    reason: str = ""  # "member of the helpdesk group", "Teams Administrator", ...
    checked: bool = True  # False: the source could not answer (then is_helpdesk is False: fail closed)
    # holds one of NUMBER_MANAGING_ROLES (read with the same call); False when unknown: fail closed
    may_manage_numbers: bool = False


# ---------------------------------------------------------------------------------------------
# Protocols


@runtime_checkable
class MicrosoftSource(Protocol):
    name: str  # "graph" or "demo": shown as a check's source

    async def find_users(self, query: str) -> list[DirectoryUser]:
        """Users matching a UPN/e-mail, an object id, a phone number (E.164: among the Teams number
        assignments and the users' phone fields), or a first-name, last-name or display-name
        prefix. Empty list when none."""
        ...

    async def get_user(self, user_id: str) -> DirectoryUser | None: ...

    async def number_assignments(self, user_id: str) -> list[NumberAssignment]: ...

    async def voice_config(self, user_id: str) -> VoiceConfig | None: ...

    async def user_calls(self, query: CallQuery) -> CallSearch:
        """The user's unsuccessful Direct Routing calls in `query.direction` (see CallQuery)."""
        ...

    async def domains(self) -> list[Domain]: ...

    async def users_on_domain(self, fqdn: str) -> list[DirectoryUser]: ...

    async def users_named(self, display_name: str) -> list[DirectoryUser]: ...

    async def helpdesk_status(self, user_id: str) -> HelpdeskStatus: ...

    async def tenant_country(self) -> str | None:
        """The tenant's country (`organization.countryLetterCode`, ISO 3166), None when unknown:
        national numbers are read in it."""
        ...

    async def number_holders(self, number: str, *, teams_only: bool = False) -> list[NumberHolder]:
        """Who holds `number` (E.164): the users Teams assigns it to (`where` "teams"); only when
        Teams assigns it to nobody, the users whose phone fields carry it ("phone field"), unless
        `teams_only` (whom Teams gives a known person's 8x8 number to: one request, no bulk read)."""
        ...

    async def numbers_ending_with(self, digits: str) -> list[NumberHolder]:
        """Numbers (E.164) ending with `digits` (4 or more) and who holds them: the Teams number
        assignments and the users' phone fields (`businessPhones`, `mobilePhone`, read in the
        tenant's country, else the user's `usageLocation`). For "calls to 0102 don't ring" and for
        national numbers of users abroad."""
        ...

    # The whole tenant at once (the sweep): each an async generator (`async for`), read page by
    # page, never one request per user. A source that cannot read raises its SourceError on the
    # first iteration, or midway when a later page fails (what was yielded until then stays valid).

    def all_users(self) -> AsyncIterator[DirectoryUser]:
        """Every user of the tenant with their licences (`/users`, paged)."""
        ...

    def all_number_assignments(self) -> AsyncIterator[NumberAssignment]:
        """Every Teams number assignment of the tenant (`numberAssignments`, paged)."""
        ...

    def all_voice_configs(self) -> AsyncIterator[tuple[str, VoiceConfig]]:
        """(user id, voice settings) of every Teams user (`userConfigurations`, paged)."""
        ...

    def tenant_calls(
        self, since: datetime, until: datetime, *, worked_for: frozenset[str] = frozenset()
    ) -> AsyncIterator[CallPage]:
        """Every Direct Routing call of the tenant in [since, until], page by page, newest window
        first: pages are filtered as they come and dropped. `worked_for` (user ids, lower case)
        asks which of those users had a successful call."""
        ...


@runtime_checkable
class GroupSource(Protocol):
    """Entra groups, for a sweep limited to one ("everyone in Sales"). A Microsoft source may also
    be one; without it (or without `GroupMember.Read.All`) a sweep matches departments and offices."""

    async def groups_named(self, name: str) -> list[DirectoryGroup]:
        """The groups whose display name (or mail) is `name`, compared as the directory compares
        (case-insensitively). Empty list when none."""
        ...

    def group_members(self, group_id: str) -> AsyncIterator[str]:
        """The object ids of the group's users, nested groups' users included
        (`/groups/{id}/transitiveMembers/microsoft.graph.user`, paged)."""
        ...


@runtime_checkable
class EightByEightSource(Protocol):
    name: str  # "8x8" or "demo"

    async def find_user(self, user_principal_name: str, mail: str | None = None) -> EightByEightUser | None:
        """The 8x8 user by `basicInfo.userName`, then by `basicInfo.primaryEmail`."""
        ...

    def users(self) -> AsyncIterator[EightByEightUser]:
        """Every 8x8 user of the company, as the pages come (an async generator: `async for`).

        Live: `GET /users` scroll-paged (`pageSize` up to 1,000, then only `scrollId` while
        `pagination.hasMore`), within 8x8's rate limit (`x-ratelimit-*`, 429). The numbers are those
        the list entries carry (`serviceInfo.extensions[]`); an entry without `serviceInfo` is read
        alone (`GET /users/{userId}`) and comes with `read_alone` set. A
        source that cannot read them raises its `SourceError` on the first iteration, or midway
        when a later page fails (what was yielded until then stays valid).
        """
        ...

    async def number_change(self, user: EightByEightUser, now: datetime) -> NumberChange | None:
        """The newest change of `user`'s numbers in 8x8's Audit Records over the 30 days before
        `now`; None when the records show none. Raises its `SourceError` when the records cannot be
        read (the key lacks the product: 403): the engine then says "unknown", never an error."""
        ...


@runtime_checkable
class PortalSource(Protocol):
    """What only the Voice for Teams admin portal knows. Live: nothing (returns None)."""

    name: str

    async def first_complete_sync(self, user: DirectoryUser | None) -> datetime | None: ...

    async def call_data_text(self, user: DirectoryUser) -> str | None:
        """Text of the user's latest failed call's Call Data page, as an admin would paste it."""
        ...

    async def sync_history_text(self) -> str | None: ...


@runtime_checkable
class NumberWriter(Protocol):
    """Changes which number Teams holds (Graph's `assignNumber` / `unassignNumber`, or the demo's
    own data). Each call starts the operation and follows it until it succeeds or fails, or until a
    bound after which it answers `running` (a follow-up re-checks it with `operation`). Only the
    Fixer calls these, and only with the numbers of a plan a person confirmed."""

    name: str

    def unavailable_reason(self) -> str | None:
        """What rules writes out whatever the permissions (a national cloud): one sentence, or None."""
        ...

    async def write_access(self) -> str | None:
        """None when writes may be tried; else one sentence why not (the permission
        `TeamsTelephoneNumber.ReadWrite.All` not granted, read from the token before any write)."""
        ...

    async def assign_number(
        self,
        telephone_number: str,
        target_id: str,
        *,
        number_type: str = "directRouting",
        assignment_category: str = "primary",
    ) -> OperationResult: ...

    async def unassign_number(
        self, telephone_number: str, *, number_type: str = "directRouting"
    ) -> OperationResult: ...

    async def operation(self, operation_id: str) -> OperationResult:
        """The operation as it stands now (for a step that was still running)."""
        ...
