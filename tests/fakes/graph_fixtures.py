"""Graph payloads and ready-made tenants for the fake in `graph_server.py`.

Builders return Graph's JSON exactly as documented (FACTS.md), so tests state the data the way
Microsoft would send it. `contoso()` is a small tenant with one user per situation the rules know.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.graph_server import CallList, FakeTenant, call_row, iso

MCOEV = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"
# The Teams Phone Resource Account licence (PHONESYSTEM_VIRTUALUSER): auto attendants, call queues
MCOEV_VIRTUALUSER = "f47330e9-c134-43b3-9993-e7f004506889"
TEAMS_ADMIN = "69091246-20e8-4a56-aa4d-066075b2a7a8"
GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
TEMPORARY_USER_NAME = "Temporary Domain Voice Activation User"


def assigned_plan(
    service_plan_id: str, *, enabled: bool = True, since: datetime | None = None, service: str = ""
) -> dict:
    return {
        "assignedDateTime": iso(since or datetime(2026, 1, 5, tzinfo=UTC)),
        "capabilityStatus": "Enabled" if enabled else "Suspended",
        "service": service
        or ("MicrosoftCommunicationsOnline" if service_plan_id in (MCOEV, MCOEV_VIRTUALUSER) else "exchange"),
        "servicePlanId": service_plan_id,
    }


def graph_user(
    user_id: str,
    upn: str,
    display_name: str,
    *,
    mail: str | None = None,
    phone_plan: bool | None = True,  # True enabled, False suspended, None absent
    plan_since: datetime | None = None,
    account_enabled: bool = True,
    business_phones: Iterable[str] = (),
) -> dict[str, Any]:
    plans = [assigned_plan("efb87545-963c-4e0d-99df-69c6916d9eb0")]  # Exchange Online, irrelevant
    if phone_plan is not None:
        plans.append(assigned_plan(MCOEV, enabled=phone_plan, since=plan_since))
    return {
        "id": user_id,
        "userPrincipalName": upn,
        "displayName": display_name,
        "mail": mail if mail is not None else upn,
        "accountEnabled": account_enabled,
        "assignedPlans": plans,
        "businessPhones": list(business_phones),
        "givenName": display_name.split(" ")[0],
        "surname": display_name.split(" ")[-1],
    }


def number_assignment(
    number: str,
    target_id: str | None,
    *,
    number_type: str = "directRouting",
    activation_state: str = "activated",
    category: str = "primary",
    status: str | None = None,  # "voiceApplicationAssigned" for a resource account's number
) -> dict[str, Any]:
    return {
        "id": f"na-{number}",
        "telephoneNumber": number,
        "numberType": number_type,
        "activationState": activation_state,
        "assignmentStatus": status or ("userAssigned" if target_id else "unassigned"),
        "assignmentTargetId": target_id,
        "assignmentCategory": category,
        "reverseNumberLookupOptions": [],
        "numberSource": "online",
        "isoCountryCode": "US",
    }


def user_configuration(
    user_id: str,
    upn: str,
    numbers: Iterable[str],
    *,
    voice: bool = True,
    policies: Iterable[dict[str, Any]] | None = None,
    account_type: str = "user",  # "resourceAccount" for an auto attendant's or call queue's
) -> dict[str, Any]:
    return {
        "id": user_id,
        "tenantId": "8f0c2a6e-4b1d-4c3e-9a57-2d6b1e0f7a11",
        "userPrincipalName": upn,
        "isEnterpriseVoiceEnabled": voice,
        "accountType": account_type,
        "telephoneNumbers": [{"telephoneNumber": n, "assignmentCategory": "primary"} for n in numbers],
        "effectivePolicyAssignments": list(policies)
        if policies is not None
        else [{"policyType": "OnlineVoiceRoutingPolicy", "policyAssignment": {"displayName": "8x8-Voice"}}],
        "featureTypes": ["Teams", "PhoneSystem"],
    }


def resource_account(
    tenant: FakeTenant,
    user_id: str,
    upn: str,
    display_name: str,
    number: str | None,
    *,
    plan: str | None = MCOEV_VIRTUALUSER,  # or MCOEV (a full Teams Phone licence), None: neither
) -> None:
    """An auto attendant's or call queue's resource account as Graph shows it (FACTS.md): an Entra
    user with sign-in disabled and no mailbox, the Teams Phone Resource Account licence, `accountType`
    resourceAccount, and its number assigned as a voice application's (`voiceApplicationAssigned`)."""
    user = graph_user(user_id, upn, display_name, mail="", phone_plan=None, account_enabled=False)
    user["mail"] = None
    user["assignedPlans"] = [assigned_plan(plan)] if plan else []
    tenant.users.append(user)
    if number:
        tenant.number_assignments.append(
            number_assignment(number, user_id, status="voiceApplicationAssigned")
        )
    tenant.user_configurations.append(
        user_configuration(user_id, upn, [number] if number else [], account_type="resourceAccount")
    )


def graph_domain(
    fqdn: str,
    *,
    verified: bool = True,
    default: bool = False,
    initial: bool = False,
    services: Iterable[str] = (),
    status: str | None = None,
    operation: str | None = None,
    last_action: datetime | None = None,
) -> dict[str, Any]:
    state = None
    if status:
        state = {
            "status": status,
            "operation": operation or "SetupVoiceDomain",
            "lastActionDateTime": iso(last_action or datetime(2026, 11, 20, tzinfo=UTC)),
        }
    return {
        "id": fqdn,
        "authenticationType": "Managed",
        "isVerified": verified,
        "isDefault": default,
        "isInitial": initial,
        "isRoot": True,
        "supportedServices": list(services),
        "state": state,
    }


@dataclass(frozen=True)
class Person:
    """A test user: Graph object id, UPN, display name and the number Teams holds (if any)."""

    id: str
    upn: str
    name: str
    number: str | None = None


ADELE = Person(
    "3b1f2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "adele.vance@contoso.com", "Adele Vance", "+14255550101"
)
DARA = Person(
    "7c8d9e0f-1a2b-4c3d-8e5f-6a7b8c9d0e1f", "dara.o'brien@contoso.com", "Dara O'Brien", "+14255550142"
)
NOLIC = Person("9a0b1c2d-3e4f-4a5b-8c7d-8e9f0a1b2c3d", "lee.gu@contoso.com", "Lee Gu", "+14255550177")
NONUM = Person("1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a", "megan.bowen@contoso.com", "Megan Bowen", None)
HELPER = Person("5f6a7b8c-9d0e-4f1a-8b3c-4d5e6f7a8b9c", "grady.archie@contoso.com", "Grady Archie", None)
HELPDESK_GROUP = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
VOICE_DOMAINS = ("a1b2c3d4.voice.8x8.example", "a1b2c3d4-2.voice.8x8.example")


def failed_call(
    person: Person, at: datetime, *, callee: str | None = None, correlation_id: str | None = None
) -> dict:
    """A reverse-number-lookup failure: 404 / 511404, and no user (Microsoft did not find one)."""
    return call_row(at, callee=callee or person.number or "", correlation_id=correlation_id)


def contoso(now: datetime, *, calls: Iterable[dict] = ()) -> FakeTenant:
    """Adele (licensed, numbered), Dara O'Brien, Lee (no Teams Phone), Megan (no number), Grady (helpdesk)."""
    tenant = FakeTenant()
    for person, plan in ((ADELE, True), (DARA, True), (NOLIC, None), (NONUM, True), (HELPER, None)):
        tenant.users.append(
            graph_user(
                person.id,
                person.upn,
                person.name,
                phone_plan=plan,
                business_phones=[person.number] if person.number else [],
            )
        )
        if person.number:
            tenant.number_assignments.append(number_assignment(person.number, person.id))
            tenant.user_configurations.append(user_configuration(person.id, person.upn, [person.number]))
    tenant.domains = [
        graph_domain("contoso.com", default=True, services=["Email", "OfficeCommunicationsOnline"]),
        graph_domain("contoso.onmicrosoft.com", initial=True, services=["Email"]),
        *(graph_domain(d) for d in VOICE_DOMAINS),
    ]
    tenant.groups = {HELPDESK_GROUP: {HELPER.id}}
    tenant.roles = {ADELE.id: [GLOBAL_READER]}
    tenant.calls = [CallList(calls)]
    return tenant


def hours_ago(now: datetime, hours: float) -> datetime:
    return now - timedelta(hours=hours)


class Clock:
    """Wall-clock time that moves only when told to, and a `sleep` that records instead of waiting."""

    def __init__(self, now: datetime):
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


# ---------------------------------------------------------------------------------------------
# The embedded demo tenant, as Microsoft Graph and the 8x8 API would serve it


def demo_as_graph(now: datetime) -> FakeTenant:
    """The demo tenant (`bot/sources/demo_tenant.json`) as Graph JSON, its relative times read at `now`."""
    from bot.sources.demo import demo_data

    data = demo_data()
    base = now.astimezone(UTC).replace(microsecond=0)
    tenant = FakeTenant()
    rows: list[dict] = []
    for raw in data["users"]:
        tenant.users.append(_demo_user(raw, base))
        teams = raw.get("teams") or {}
        for assignment in teams.get("numberAssignments", []):
            tenant.number_assignments.append(
                {**assignment, "id": f"na-{assignment['telephoneNumber']}", "assignmentTargetId": raw["id"]}
            )
        if teams:
            config = user_configuration(
                raw["id"],
                raw["userPrincipalName"],
                teams.get("telephoneNumbers", []),
                voice=bool(teams.get("enterpriseVoiceEnabled")),
                account_type=teams.get("accountType", "user"),
                policies=[
                    {
                        "policyType": p["policyType"],
                        "policyAssignment": {
                            "displayName": p.get("displayName"),
                            "assignmentType": p.get("assignmentType", "direct"),
                            "policyId": None,
                            "groupId": p.get("groupId"),
                        },
                    }
                    for p in teams.get("policies", [])
                ],
            )
            tenant.user_configurations.append(config)
        if teams.get("refusesAssignment") and raw.get("eightbyeight"):  # the demo's fix refused on purpose
            number = raw["eightbyeight"]["primaryPhoneNumber"].replace(" ", "").replace("-", "")
            tenant.refuse_numbers[number] = teams["refusesAssignment"]
        if raw.get("helpdesk") == "Teams Administrator":
            tenant.roles[raw["id"]] = [TEAMS_ADMIN]
    for owner in [*data["users"], *data.get("eightbyeightOnlyUsers", [])]:
        rows += [_demo_call(call, base, owner) for call in owner.get("failedCalls", [])]
    for raw in data.get("activationUsers", []):
        user = graph_user(
            raw["id"],
            raw["userPrincipalName"],
            raw["displayName"],
            phone_plan=True if raw.get("licensed") else None,
        )
        tenant.users.append(user)
        domain = raw["userPrincipalName"].split("@", 1)[1].lower()
        tenant.domain_users.setdefault(domain, []).append(raw["id"])
    for raw in data.get("domains", []):
        state = raw.get("state")
        tenant.domains.append(
            {
                **{k: v for k, v in raw.items() if k != "state"},
                "state": None
                if not state
                else {
                    "status": state["status"],
                    "operation": state.get("operation"),
                    "lastActionDateTime": iso(base - timedelta(hours=state["lastActionHoursAgo"])),
                },
            }
        )
    for group in data.get("groups", []):
        tenant.groups[group["id"]] = set(group.get("members", []))
        tenant.group_info[group["id"]] = {k: group.get(k) for k in ("displayName", "mail", "description")} | {
            "mailEnabled": True,
            "securityEnabled": True,
            "groupTypes": [],
        }
    tenant.calls = [CallList(rows)]
    return tenant


def demo_as_eightbyeight() -> list[dict[str, Any]]:
    """The demo's 8x8 accounts as 8x8 Administration API `User` objects."""
    from bot.sources.demo import demo_data
    from tests.fakes.eightbyeight_server import make_extension, make_user

    data = demo_data()
    accounts = [u["eightbyeight"] for u in data["users"] if u.get("eightbyeight")]
    accounts += list(data.get("eightbyeightOnlyUsers", []))
    return [
        make_user(
            account["userName"],
            email=account.get("primaryEmail"),
            user_id=account["userId"],
            status=account.get("status", "ACTIVE"),
            extensions=[
                make_extension(
                    account.get("primaryPhoneNumber"),
                    account.get("phoneNumbers", []),
                    extension_number=account.get("extensionNumber"),
                    ms_teams_enabled=account.get("msTeamsEnabled"),
                )
            ],
        )
        for account in accounts
    ]


def demo_as_audits(now: datetime) -> list[dict[str, Any]]:
    """The demo's 8x8 number changes (`numberChanges`) as 8x8 Audit Records entries."""
    from bot.sources.demo import demo_data
    from tests.fakes.eightbyeight_server import make_audit

    data = demo_data()
    accounts = [u["eightbyeight"] for u in data["users"] if u.get("eightbyeight")]
    return [
        make_audit(
            now - timedelta(days=float(change["daysAgo"])),
            entity_type=change.get("entityType", "extension"),
            old={"primaryPhoneNumber": change["from"]},
            new={"primaryPhoneNumber": change["to"]},
            correlation_type="user",
            correlation_id=account["userId"],
        )
        for account in accounts
        for change in account.get("numberChanges", [])
    ]


def _demo_user(raw: dict, base: datetime) -> dict[str, Any]:
    return {
        "id": raw["id"],
        "userPrincipalName": raw["userPrincipalName"],
        "displayName": raw["displayName"],
        "mail": raw.get("mail"),
        "accountEnabled": raw.get("accountEnabled", True),
        "assignedPlans": [
            {
                "assignedDateTime": iso(base - timedelta(days=plan.get("assignedDaysAgo", 0))),
                "capabilityStatus": plan["capabilityStatus"],
                "service": plan.get("service", ""),
                "servicePlanId": plan["servicePlanId"],
            }
            for plan in raw.get("assignedPlans", [])
        ],
        "businessPhones": list(raw.get("businessPhones", [])),
        "mobilePhone": raw.get("mobilePhone"),
        "usageLocation": raw.get("usageLocation"),
        # as Entra fills them for a person: the first and the last word of the name
        "givenName": raw.get("givenName") or raw["displayName"].split(" ")[0],
        "surname": raw.get("surname") or raw["displayName"].split(" ")[-1],
        "department": raw.get("department"),
        "officeLocation": raw.get("officeLocation"),
    }


def _demo_call(call: dict, base: datetime, owner: dict) -> dict[str, Any]:
    # Microsoft found the user for every failure but a reverse-number-lookup one (FACTS.md).
    found = call.get("callEndSubReason") != 511404 and "id" in owner
    row = call_row(
        base - timedelta(hours=call["hoursAgo"]),
        callee=call["calleeNumber"],
        caller=call.get("callerNumber", "+12065550143"),
        user_id=owner["id"] if found else None,
        user_principal_name=owner["userPrincipalName"] if found else None,
        user_display_name=owner["displayName"] if found else None,
        successful=call.get("successfulCall", False),
        call_type=call.get("callType", "ByotIn"),
        sip_code=call.get("finalSipCode", 404),
        sub_code=call.get("callEndSubReason", 511404),
        phrase=call.get("finalSipCodePhrase", "Not Found"),
        correlation_id=call["correlationId"],
        trunk=call.get("trunkFullyQualifiedDomainName", "sbc1.vt.8x8.example"),
    )
    row["failureDateTime"] = row["inviteDateTime"]  # the demo dates a failure at its invite
    return row
