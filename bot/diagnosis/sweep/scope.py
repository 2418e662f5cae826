"""A sweep limited to a group or a place: "everyone in Sales", "the Leeds office", "all of Finance".

How a name is understood, in this order, and why:

1. An Entra group of that display name (or mail): a group is what an admin made on purpose to
   name these people, so it wins. Its users are read transitively (nested groups' users count),
   page by page (`GroupSource.group_members`). This needs `GroupMember.Read.All`; without it, or
   where the source has no groups, the next step is taken and a note says so.
2. Else the users whose `department` or `officeLocation` is that name, compared without case and
   without a leading "the" or a trailing "office"/"department" ("the Leeds office" is "Leeds").
   These come from the users the sweep reads anyway (`/users` with both fields selected), so a
   place costs no request more — and Graph could only filter `officeLocation` as an advanced query.

Several groups of that name: the sweep does not guess, it says which there are (`ScopeAmbiguous`).
Nothing matches: one sentence saying what was tried (`ScopeNotFound`), never an empty "all fine".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.diagnosis.errors import InputError
from bot.diagnosis.evidence import DirectoryGroup, DirectoryUser

GROUP = "group"
DEPARTMENT = "department"
OFFICE = "officeLocation"
MAX_NAME_CHARS = 120  # Entra display names are at most 256; a sentence is not a group name
GROUPS_PERMISSION = "GroupMember.Read.All"

_AROUND = re.compile(r"^(?:the\s+)?(?P<core>.+?)(?:\s+(?:office|department|dept\.?|site))?$", re.I)


class ScopeNotFound(InputError):
    """No group, department or office of that name: the sentence says what was tried."""


class ScopeAmbiguous(InputError):
    """Several groups of that name: the sentence names them, and how to say which."""

    def __init__(self, message: str, groups: list[DirectoryGroup]):
        super().__init__(message)
        self.groups = groups


@dataclass(frozen=True)
class SweepScope:
    """Whom a limited sweep is about, and how the name was understood.

    `keys` are the members' object ids in lower case (the sweep's person keys); `matched_by` is
    "group", "department", "officeLocation" or "department+officeLocation"; `label` is the name as
    the directory spells it ("Sales", "Leeds").
    """

    asked: str
    label: str
    matched_by: str
    keys: frozenset[str]
    group_id: str | None = None
    note: str | None = None  # e.g. the groups could not be read, so departments and offices only

    @property
    def members(self) -> int:
        return len(self.keys)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "group": self.label,
            "asked": self.asked,
            "matchedBy": self.matched_by,
            "members": self.members,
        }
        if self.group_id:
            out["groupId"] = self.group_id
        if self.note:
            out["note"] = self.note
        return out

    @property
    def command(self) -> str:
        """The command line that sweeps the same members."""
        quoted = (
            self.asked if re.fullmatch(r"[\w.@-]+", self.asked) else '"' + self.asked.replace('"', "") + '"'
        )
        return f"--group {quoted}"

    @property
    def words(self) -> str:
        """'the Entra group Sales', 'the Sales department', 'the Leeds office'."""
        if self.matched_by == GROUP:
            return f"the Entra group {self.label}"
        if self.matched_by == DEPARTMENT:
            return f"the {self.label} department"
        if self.matched_by == OFFICE:
            return f"the {self.label} office"
        return f"{self.label} (department or office)"


def clean_name(name: str | None) -> str:
    """The name as asked, trimmed; InputError when there is none or it is not a name."""
    text = " ".join((name or "").split()).strip(" \"'“”‘’.")
    if not text:
        raise InputError("Say which group or place to check, e.g. --group Sales.")
    if len(text) > MAX_NAME_CHARS:
        raise InputError(f"A group name is at most {MAX_NAME_CHARS} characters.")
    return text


def comparable(value: str | None) -> str:
    """A department, office or asked name as compared: no case, no "the", no trailing "office"."""
    text = " ".join((value or "").split()).casefold()
    found = _AROUND.match(text)
    return found.group("core") if found else text


def group_scope(asked: str, group: DirectoryGroup, member_ids: Iterable[str]) -> SweepScope:
    return SweepScope(
        asked=asked,
        label=group.display_name or asked,
        matched_by=GROUP,
        keys=frozenset(i.lower() for i in member_ids if i),
        group_id=group.id,
    )


def place_scope(asked: str, users: Iterable[DirectoryUser]) -> SweepScope | None:
    """The users whose department or office is `asked`; None when nobody's is."""
    wanted = comparable(asked)
    keys: set[str] = set()
    by: set[str] = set()
    spelled: dict[str, int] = {}
    for user in users:
        for field, value in ((DEPARTMENT, user.department), (OFFICE, user.office_location)):
            if value and comparable(value) == wanted:
                keys.add(user.id.lower())
                by.add(field)
                spelled[value.strip()] = spelled.get(value.strip(), 0) + 1
    if not keys:
        return None
    matched_by = "+".join(f for f in (DEPARTMENT, OFFICE) if f in by)
    # the spelling most users have; of equals, a capitalised one ("Leeds" over "leeds")
    label = max(spelled, key=lambda v: (spelled[v], v != v.lower(), v))
    return SweepScope(asked=asked, label=label, matched_by=matched_by, keys=frozenset(keys))


def ambiguous(asked: str, groups: list[DirectoryGroup]) -> ScopeAmbiguous:
    shown = "; ".join(_group_words(g) for g in groups[:5])
    more = f" and {len(groups) - 5} more" if len(groups) > 5 else ""
    return ScopeAmbiguous(
        f"{len(groups)} Entra groups are called “{asked}” ({shown}{more}): say which by its e-mail "
        "address or object id.",
        groups,
    )


def not_found(asked: str, groups_note: str | None) -> ScopeNotFound:
    if groups_note:
        tried = f"No user has “{asked}” as department or office, and the Entra groups could not be read: {groups_note}"
    else:
        tried = f"No Entra group is called “{asked}”, and no user has it as department or office."
    return ScopeNotFound(tried.rstrip(".") + ".")


def _group_words(group: DirectoryGroup) -> str:
    return ", ".join(x for x in (group.mail, f"id {group.id}") if x)
