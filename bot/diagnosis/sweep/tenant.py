"""The tenant as the sweep holds it: its users, Teams numbers, voice settings and 8x8 accounts.

Why maps, read once: a sweep asks the same questions as a diagnosis, for every user at once. Asked
user by user that is thousands of requests against Graph's and 8x8's rate limits; read in bulk it
is a few dozen pages. So each source's whole collection is read once (`bot.sources` pages it) and
kept here as dicts keyed by what the questions look things up by: a user's object id, their
sign-in name or e-mail, a number. A source that could not be read is kept as the sentence saying
why (`errors`): the answers built from it are then `unknown`, exactly as in a diagnosis.

Who counts (`people`): the Microsoft 365 users who take part in Teams calling — those Teams holds
a number for, those with Teams Phone (MCOEV), those 8x8 knows — and the 8x8 users with Teams
enabled who have no Microsoft 365 account at all (Microsoft's reverse number lookup can never find
them). Resource accounts (auto attendants, call queues: usually the main line) count like people:
8x8 syncs their numbers the same way, and their number is the most important in the tenant. Only
8x8's "Temporary Domain Voice Activation User" accounts are left out: they hold a licence by design.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass, field

from bot.diagnosis.evidence import (
    RESOURCE_ACCOUNT_TYPE,
    VOICE_APPLICATION_ASSIGNED,
    DirectoryUser,
    EightByEightUser,
    NumberAssignment,
    VoiceConfig,
    best_eightbyeight_match,
)
from bot.diagnosis.phone import to_e164
from bot.diagnosis.rules.common import Answer

ACTIVATION_USER_NAME = "Temporary Domain Voice Activation User"  # 8x8 creates these (sync-error)
RESOURCE_ACCOUNT = RESOURCE_ACCOUNT_TYPE
EIGHTBYEIGHT_ONLY = "8x8:"  # the key prefix of an 8x8 user without a Microsoft 365 account


@dataclass(slots=True)
class Person:
    """Someone the sweep decides about: a Microsoft 365 user (`user`), or an 8x8 user with none.

    `key` is the object id in lower case, or `8x8:<userId>` for an 8x8 user without an account.
    """

    key: str
    user: DirectoryUser | None
    eightbyeight: EightByEightUser | None

    @property
    def query(self) -> str:
        """What a diagnosis of this person would be asked with: their sign-in name or 8x8 e-mail."""
        if self.user is not None:
            return self.user.user_principal_name
        account = self.eightbyeight
        return (account.primary_email or account.user_name) if account else self.key


@dataclass
class Tenant:
    """Every collection a sweep reads, as maps; `errors` says which could not be read and why."""

    users: dict[str, DirectoryUser] = field(default_factory=dict)  # object id (lower) -> user
    assignments: dict[str, list[NumberAssignment]] = field(default_factory=dict)  # target id (lower)
    teams_holders: dict[str, list[str]] = field(default_factory=dict)  # number -> object ids (lower)
    voice: dict[str, VoiceConfig] = field(default_factory=dict)  # object id (lower) -> settings
    eightbyeight: list[EightByEightUser] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # "users", "assignments", "voice", "8x8"
    eightbyeight_read_alone: int = 0  # 8x8 users whose list entry lacked serviceInfo (read one by one)
    _by_address: dict[str, str] = field(default_factory=dict)
    _by_8x8_name: dict[str, list[EightByEightUser]] = field(default_factory=dict)
    _by_8x8_email: dict[str, list[EightByEightUser]] = field(default_factory=dict)

    # -- filling ---------------------------------------------------------------------------------

    def add_user(self, user: DirectoryUser) -> None:
        key = user.id.lower()
        self.users[key] = user
        for address in (user.user_principal_name, user.mail):
            if address:
                self._by_address.setdefault(address.lower(), key)

    def add_assignment(self, assignment: NumberAssignment) -> None:
        target = (assignment.assignment_target_id or "").lower()
        if not target:
            return  # an unassigned number of the tenant's pool: nobody's
        self.assignments.setdefault(target, []).append(assignment)
        number = to_e164(assignment.telephone_number) or assignment.telephone_number
        holders = self.teams_holders.setdefault(number, [])
        if target not in holders:
            holders.append(target)

    def add_voice(self, user_id: str, config: VoiceConfig) -> None:
        self.voice[user_id.lower()] = config

    def add_eightbyeight(self, account: EightByEightUser) -> None:
        self.eightbyeight.append(account)
        self.eightbyeight_read_alone += account.read_alone
        if account.user_name:
            self._by_8x8_name.setdefault(account.user_name.lower(), []).append(account)
        if account.primary_email:
            self._by_8x8_email.setdefault(account.primary_email.lower(), []).append(account)

    # -- counts ----------------------------------------------------------------------------------

    @property
    def teams_numbers(self) -> int:
        return len(self.teams_holders)

    @property
    def eightbyeight_numbers(self) -> int:
        return len({n for account in self.eightbyeight for n in _numbers_of(account)})

    # -- answers, as a diagnosis would get them ---------------------------------------------------

    def assignments_of(self, user: DirectoryUser) -> Answer[list[NumberAssignment]]:
        if "assignments" in self.errors:
            return Answer(error=self.errors["assignments"])
        return Answer(list(self.assignments.get(user.id.lower(), ())))

    def voice_of(self, user: DirectoryUser) -> Answer[VoiceConfig]:
        if "voice" in self.errors:
            return Answer(error=self.errors["voice"])
        return Answer(self.voice.get(user.id.lower()))  # None: Graph has no settings for the user (404)

    def eightbyeight_of(self, upn: str, mail: str | None) -> Answer[EightByEightUser]:
        """The 8x8 user as `find_user` finds it: by user name, then by e-mail, for the sign-in name
        and then for the mail address; the best of several matches."""
        if "8x8" in self.errors:
            return Answer(error=self.errors["8x8"])
        for value in (upn, mail):
            for index in (self._by_8x8_name, self._by_8x8_email):
                found = index.get((value or "").strip().lower())
                if found:
                    return Answer(best_eightbyeight_match(found))
        return Answer(None)

    def account_of(self, account: EightByEightUser) -> DirectoryUser | None:
        """The Microsoft 365 user of an 8x8 account: by its e-mail, then by its user name."""
        for address in (account.primary_email, account.user_name):
            key = self._by_address.get((address or "").lower())
            if key is not None:
                return self.users[key]
        return None

    def is_resource_account(self, key: str) -> bool:
        """Whether the user with object id `key` (lower case) is a resource account, by the same
        signs a diagnosis reads (`UserFacts.resource_account`)."""
        user = self.users.get(key)
        if user is not None and (user.resource_account or user.resource_account_plan):
            return True
        voice = self.voice.get(key)
        if voice is not None and voice.account_type == RESOURCE_ACCOUNT:
            return True
        return any(a.assignment_status == VOICE_APPLICATION_ASSIGNED for a in self.assignments.get(key, ()))

    # -- who counts ------------------------------------------------------------------------------

    def people(self, also: Iterable[str] = (), skip: Container[str] = ()) -> list[Person]:
        """The people to decide about (module docstring); `also` adds users by object id (those a
        failed call names), `skip` leaves out people already counted (by key)."""
        keys = set(self.assignments) | {k for k, v in self.voice.items() if v.telephone_numbers}
        keys |= {k for k, u in self.users.items() if u.phone_licensed}
        keys |= {k.lower() for k in also}
        out: list[Person] = []
        chosen: set[str] = set()  # 8x8 user ids a Microsoft 365 user's lookup found
        accounts: dict[str, EightByEightUser] = {}
        for account in self.eightbyeight:
            if not _counts(account):
                continue
            owner = self.account_of(account)
            if owner is not None:
                keys.add(owner.id.lower())
            else:
                accounts[account.user_id] = account
        for key in sorted(keys):
            user = self.users.get(key)
            if user is None or not _takes_part(user, self.voice.get(key)):
                continue
            found = self.eightbyeight_of(user.user_principal_name, user.mail).value
            if found is not None:
                chosen.add(found.user_id)
            out.append(Person(key, user, found))
        for user_id, account in sorted(accounts.items()):
            if user_id not in chosen:
                out.append(Person(EIGHTBYEIGHT_ONLY + user_id, None, account))
        return [p for p in out if p.key not in skip]


def _counts(account: EightByEightUser) -> bool:
    """An 8x8 user the sweep looks at: active, not kept off Teams, with a number."""
    return (
        (account.status or "ACTIVE").upper() == "ACTIVE"
        and account.ms_teams_enabled is not False
        and bool(_numbers_of(account))
    )


def _takes_part(user: DirectoryUser, voice: VoiceConfig | None) -> bool:
    """Everyone but 8x8's temporary activation users (resource accounts included)."""
    return user.display_name != ACTIVATION_USER_NAME


def _numbers_of(account: EightByEightUser) -> list[str]:
    return [n for n in dict.fromkeys((account.primary_number, *account.numbers)) if n]
