"""The check "one person holds the number on both sides": when the user was named by a number,
and whenever Teams gives the user's 8x8 number to someone else (however they were named).

Why: callers dial the number 8x8 holds; Microsoft's reverse number lookup sends a call to whoever
Teams assigns that number to. When 8x8 gives a number to one person and Teams to another, calls
meant for the first reach the second (or nobody), whatever else is right: that is a finding in
itself, and the number must leave the other person in Teams before it can be the right one's.

Pure: the engine gathers `NumberOwners` (`bot.diagnosis.lookup`), this only words them. Numbers
are written the way people read them (`+1 425-555-0102`); the JSON's structured fields keep E.164.
"""

from __future__ import annotations

from typing import Any

from bot.diagnosis.evidence import DirectoryUser, EightByEightUser, NumberOwners
from bot.diagnosis.model import Check
from bot.diagnosis.phone import international
from bot.diagnosis.rules.common import Answer, join_names, sentence, unknown

# How a resource account is named wherever a check names someone (cards say the same).
RESOURCE_ACCOUNT_WORDS = "auto attendant / call queue (resource account)"

CHECK_ID = "number-owner"


def number_owner_check(
    owners: Answer[NumberOwners] | None, title: str, link: str | None, how_to_look: str
) -> Check | None:
    """The check, or None when no number was named (then there is nothing to say)."""
    if owners is None:
        return None
    if not owners.ok or owners.value is None:
        return unknown(CHECK_ID, title, "graph", f"Not checked: {sentence(owners.error or '')}", link)
    found = owners.value
    number = international(found.number) or found.number
    teams = people(found.teams)
    if found.eightbyeight_error is not None:
        held = f"Teams gives {number} to {teams}." if found.teams else f"Teams gives {number} to nobody."
        return unknown(
            CHECK_ID,
            title,
            "8x8",
            f"{held} Who holds it in 8x8 is unknown: {found.eightbyeight_error} {how_to_look}",
            link,
        )
    eight = _eight_people(found)
    if not found.eightbyeight:
        if not found.teams:
            return Check(CHECK_ID, title, "fail", f"Neither 8x8 nor Teams holds {number}.", "8x8", link)
        return Check(
            CHECK_ID,
            title,
            "warn",
            f"Teams gives {number} to {teams}, but no 8x8 user has it: calls to it do not come in "
            "through 8x8.",
            "8x8",
            link,
        )
    others = found.conflicting_teams_owners
    if others:
        return Check(
            CHECK_ID,
            title,
            "fail",
            f"8x8 gives {number} to {eight}, but Teams gives it to {people(others)}: Microsoft's "
            f"reverse number lookup sends the calls 8x8 delivers for {_short_eight(found)} to "
            f"{_names(others)}. Remove the number from {_names(others)} in Teams before assigning it "
            f"to {_short_eight(found)}.",
            "8x8",
            link,
        )
    if found.teams:
        return Check(CHECK_ID, title, "pass", f"8x8 and Teams both give {number} to {eight}.", "8x8", link)
    return Check(
        CHECK_ID, title, "pass", f"8x8 gives {number} to {eight}; Teams gives it to nobody.", "8x8", link
    )


def holder_check(
    number: str,
    user: DirectoryUser,
    holders: tuple[DirectoryUser, ...],
    title: str,
    link: str | None,
    resource_account: bool = False,
) -> Check:
    """Teams gives `user`'s 8x8 `number` to `holders`: the calls 8x8 delivers reach them instead."""
    shown = international(number) or number
    subject = _person(user, resource_account)
    others, short = people(holders), _names(holders)
    return Check(
        CHECK_ID,
        title,
        "fail",
        f"8x8 gives {shown} to {subject}, but Teams gives it to {others}: Microsoft's reverse number "
        f"lookup sends the calls 8x8 delivers for {user.display_name} to {short}. Remove the number "
        f"from {short} in Teams before it can be {user.display_name}'s: Sync Now cannot move it while "
        "it is held.",
        "graph",
        link,
    )


def holder_json(user: DirectoryUser, number: str, own_numbers: dict[str, str | None]) -> dict[str, Any]:
    """One holder of the subject's 8x8 number, for the JSON's `evidence.numberHeldBy`."""
    return {
        "id": user.id,
        "userPrincipalName": user.user_principal_name,
        "displayName": user.display_name,
        "kind": "resourceAccount" if is_resource_account(user) else "user",
        "telephoneNumber": number,
        "eightByEightNumber": own_numbers.get(user.id.lower()),
    }


def is_resource_account(user: DirectoryUser) -> bool:
    """What a directory entry alone says: a resource account's licence, or the source knew."""
    return user.resource_account or user.resource_account_plan


def people(users: tuple[DirectoryUser, ...]) -> str:
    """ "Christie Cline (christiec@contoso.example)", resource accounts said as such."""
    return join_names([_person(u, is_resource_account(u)) for u in users], limit=3)


def _person(user: DirectoryUser, resource_account: bool) -> str:
    if resource_account:
        return f"{user.display_name} ({user.user_principal_name}, {RESOURCE_ACCOUNT_WORDS})"
    return f"{user.display_name} ({user.user_principal_name})"


def _names(users: tuple[DirectoryUser, ...]) -> str:
    """Display names alone: for a second mention in the same sentence."""
    return join_names([u.display_name for u in users], limit=3)


def _short_eight(found: NumberOwners) -> str:
    if found.eightbyeight_accounts:
        return _names(found.eightbyeight_accounts)
    return join_names([u.user_name for u in found.eightbyeight], limit=3)


def _eight_people(found: NumberOwners) -> str:
    if found.eightbyeight_accounts:
        return people(found.eightbyeight_accounts)
    return join_names([_eight_name(u) for u in found.eightbyeight], limit=3)


def _eight_name(user: EightByEightUser) -> str:
    return f"8x8 user {user.user_name} (no Microsoft 365 account found)"
