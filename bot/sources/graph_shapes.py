"""Graph's JSON shapes read into the domain's evidence types: users, numbers, voice settings, domains.

Pure functions, shared by the live source (`graph.py`) and the demo tenant (which stores its users
in Graph's own shapes), so both read a licence, a Calling Plan or a policy list the same way. A
field of an unexpected type counts as absent; nothing here raises on odd input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.diagnosis.evidence import (
    CALLING_PLAN_IDS,
    MCOEV_SERVICE_PLAN_ID,
    MCOEV_VIRTUALUSER_SERVICE_PLAN_ID,
    DirectoryGroup,
    DirectoryUser,
    Domain,
    NumberAssignment,
    PolicyAssignment,
    VoiceConfig,
    is_calling_plan,
)
from bot.diagnosis.phone import to_e164
from bot.sources.graph_odata import parse_time


@dataclass(frozen=True)
class PlanNames:
    """The tenant's service plan names (`/subscribedSkus`: servicePlanId, lower case -> name), or why
    they could not be read (`error`): then Calling Plans are known only by `CALLING_PLAN_IDS`."""

    names: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None


def plan_names(skus: object) -> dict[str, str]:
    """servicePlanId (lower case) -> servicePlanName from a `/subscribedSkus` list."""
    names: dict[str, str] = {}
    for sku in skus if isinstance(skus, list) else []:
        plans = sku.get("servicePlans") if isinstance(sku, dict) else None
        for plan in plans if isinstance(plans, list) else []:
            if isinstance(plan, dict) and isinstance(plan.get("servicePlanId"), str):
                name = plan.get("servicePlanName")
                if isinstance(name, str) and name:
                    names[plan["servicePlanId"].lower()] = name
    return names


def directory_user(row: dict[str, Any], names: PlanNames | None = None) -> DirectoryUser:
    """A Graph user as a DirectoryUser; the Teams Phone plan (or a resource account's Teams Phone
    Resource Account plan) read from `assignedPlans`, Calling Plans by name when the tenant's plan
    names are given (else by the known ids)."""
    plans = row.get("assignedPlans")
    since = mcoev_enabled_since(plans)
    virtual = mcoev_enabled_since(plans, MCOEV_VIRTUALUSER_SERVICE_PLAN_ID)
    shown = since if since is not None else virtual
    phones = row.get("businessPhones")
    return DirectoryUser(
        id=str(row.get("id") or ""),
        user_principal_name=str(row.get("userPrincipalName") or ""),
        display_name=str(row.get("displayName") or ""),
        mail=row.get("mail") if isinstance(row.get("mail"), str) else None,
        account_enabled=row.get("accountEnabled") is not False,
        phone_plan_enabled=since is not None,
        phone_plan_since=shown if shown is not None and shown.year > 1 else None,
        business_phones=tuple(p for p in phones if isinstance(p, str)) if isinstance(phones, list) else (),
        calling_plans=calling_plans(row.get("assignedPlans"), names.names if names else None),
        calling_plans_by_id_only=names.error if names else None,
        resource_account_plan=virtual is not None,
        department=_text(row.get("department")),
        office_location=_text(row.get("officeLocation")),
    )


def _text(value: object) -> str | None:
    """A directory text field: None when absent, empty or not a string."""
    return value.strip() or None if isinstance(value, str) else None


def directory_group(row: dict[str, Any]) -> DirectoryGroup:
    return DirectoryGroup(
        id=str(row.get("id") or ""),
        display_name=str(row.get("displayName") or ""),
        mail=_text(row.get("mail")),
        description=_text(row.get("description")),
    )


def calling_plans(plans: object, names: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The names of the enabled Microsoft Calling Plans (service plans named MCOPSTN*) in
    `assignedPlans`. `assignedPlans` carries ids only: `names` (servicePlanId -> name, from the
    tenant's subscribedSkus) names them; without it only `CALLING_PLAN_IDS` are recognised."""
    if not isinstance(plans, list):
        return ()
    found: list[str] = []
    for plan in plans:
        if not isinstance(plan, dict) or plan.get("capabilityStatus") != "Enabled":
            continue
        plan_id = str(plan.get("servicePlanId", "")).lower()
        name = (names or {}).get(plan_id) or CALLING_PLAN_IDS.get(plan_id)
        if name and is_calling_plan(name):
            found.append(name)
    return tuple(dict.fromkeys(found))


def mcoev_enabled_since(plans: object, plan_id: str = MCOEV_SERVICE_PLAN_ID) -> datetime | None:
    """When the earliest enabled MCOEV plan (or `plan_id`) was assigned; None when there is no
    enabled one.

    An enabled plan without a readable date still counts: it answers as `datetime.min` (UTC),
    which `directory_user` reports as "enabled, since unknown".
    """
    if not isinstance(plans, list):
        return None
    enabled = [
        plan
        for plan in plans
        if isinstance(plan, dict)
        and str(plan.get("servicePlanId", "")).lower() == plan_id
        and str(plan.get("capabilityStatus", "")) == "Enabled"
    ]
    if not enabled:
        return None
    dates = [d for d in (parse_time(plan.get("assignedDateTime")) for plan in enabled) if d is not None]
    return min(dates) if dates else datetime.min.replace(tzinfo=UTC)


def number_assignment(row: dict[str, Any]) -> NumberAssignment:
    number = str(row["telephoneNumber"])
    return NumberAssignment(
        telephone_number=to_e164(number) or number,
        number_type=_str(row.get("numberType")),
        activation_state=_str(row.get("activationState")),
        assignment_status=_str(row.get("assignmentStatus")),
        assignment_category=_str(row.get("assignmentCategory")),
        assignment_target_id=_str(row.get("assignmentTargetId")),
    )


def voice_config(row: dict[str, Any]) -> VoiceConfig:
    numbers = row.get("telephoneNumbers")
    telephone_numbers = tuple(
        to_e164(entry["telephoneNumber"]) or entry["telephoneNumber"]
        for entry in (numbers if isinstance(numbers, list) else [])
        if isinstance(entry, dict) and isinstance(entry.get("telephoneNumber"), str)
    )
    enabled = row.get("isEnterpriseVoiceEnabled")
    return VoiceConfig(
        enterprise_voice_enabled=enabled if isinstance(enabled, bool) else None,
        telephone_numbers=telephone_numbers,
        account_type=_str(row.get("accountType")),
        policies=policy_assignments(row.get("effectivePolicyAssignments")),
    )


def policy_assignments(value: object) -> tuple[PolicyAssignment, ...] | None:
    """`effectivePolicyAssignments` as read: None when Graph sent none at all."""
    if not isinstance(value, list):
        return None
    out: list[PolicyAssignment] = []
    for item in value:
        if not isinstance(item, dict) or not _str(item.get("policyType")):
            continue
        assignment = item.get("policyAssignment") if isinstance(item.get("policyAssignment"), dict) else {}
        out.append(
            PolicyAssignment(
                policy_type=str(item["policyType"]),
                display_name=_str(assignment.get("displayName")),
                assignment_type=_str(assignment.get("assignmentType")),
                group_id=_str(assignment.get("groupId")),
            )
        )
    return tuple(out)


def domain(row: dict[str, Any]) -> Domain:
    state = row.get("state") if isinstance(row.get("state"), dict) else {}
    services = row.get("supportedServices")
    return Domain(
        id=str(row["id"]),
        is_verified=row.get("isVerified") is True,
        is_default=row.get("isDefault") is True,
        is_initial=row.get("isInitial") is True,
        supported_services=tuple(s for s in services if isinstance(s, str))
        if isinstance(services, list)
        else (),
        state_status=_str(state.get("status")),
        state_operation=_str(state.get("operation")),
        state_last_action_at=parse_time(state.get("lastActionDateTime")),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
