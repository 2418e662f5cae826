"""Who the helpdesk means, from whatever they heard: an e-mail, an object id, the number callers
dial (8x8's or Teams'), a national number, its last digits, or a first or last name.

Why both sides: callers dial the number 8x8 holds for a person, and when Teams holds another (the
article's number mismatch) a lookup among Teams' number assignments alone can never find the one
person whose calls fail. So a number is looked up in Teams (number assignments and the users' phone
fields) *and* in 8x8; when 8x8 gives it to one person and Teams to another, that is a finding in
itself (`NumberOwners.conflicting_teams_owners`), and the person callers reach — the 8x8 owner — is
the one to diagnose.

Why a scan of 8x8: the 8x8 Administration API documents no `/users` filter on numbers (its RSQL
fields are `basicInfo.*` and `directoryInfo.department`; a filter on the nested
`serviceInfo.extensions[].phoneNumbers[]` is neither documented nor in the OpenAPI document), and
its Phone Number Management API says whether a number is ASSIGNED but not to whom. So the numbers
come from one scroll through `/users` (1,000 a page, 100 requests a minute), kept as a number ->
user map for `INDEX_TTL` seconds: a helpdesk asking about several numbers in a row costs one scan.

National numbers are read in the tenant's country (`organization.countryLetterCode`), else the US;
a number that is not valid there may be a national number of a user abroad, so it is also matched
against the numbers the tenant holds, as each is dialled inside its own country (a GB user's
`020 7946 0123` in a US tenant).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.diagnosis.errors import InputError, SourceError
from bot.diagnosis.evidence import (
    DirectoryUser,
    EightByEightSource,
    EightByEightUser,
    MicrosoftSource,
    NumberOwners,
)
from bot.diagnosis.phone import default_region, digits_of, first_e164, national_digits
from bot.diagnosis.rules.common import sentence

INDEX_TTL = 600.0  # seconds the 8x8 number map (and the tenant's country) is kept
MIN_DIGITS = 4  # "0102": fewer digits would match half the company
_NUMBER_CHARACTERS = frozenset("+0123456789 -.()/\u00a0")
_GUID_LENGTH = 36


class EightByEightNumbers:
    """Number -> 8x8 users, from one scroll of `EightByEightSource.users()`, kept `ttl` seconds.

    Concurrent lookups share one scan (a lock); a failed scan is not kept, so the next lookup
    tries again. The tenant sweep reads the same `users()`.
    """

    def __init__(
        self,
        source: EightByEightSource,
        *,
        ttl: float = INDEX_TTL,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._source = source
        self._ttl = ttl
        self._clock = clock
        self._lock = asyncio.Lock()
        self._users: list[EightByEightUser] | None = None
        self._by_number: dict[str, list[EightByEightUser]] = {}
        self._expires = 0.0

    async def owners(self, number: str) -> list[EightByEightUser]:
        """The 8x8 users whose extensions carry `number` (E.164)."""
        await self._load()
        return list(self._by_number.get(number, ()))

    async def numbers_ending_with(self, digits: str) -> list[tuple[str, EightByEightUser]]:
        """(number, 8x8 user) for every 8x8 number ending with `digits`."""
        await self._load()
        return [
            (number, user)
            for number, users in self._by_number.items()
            if number.endswith(digits)
            for user in users
        ]

    async def _load(self) -> None:
        async with self._lock:
            if self._users is not None and self._clock() < self._expires:
                return
            users = [user async for user in self._source.users()]
            by_number: dict[str, list[EightByEightUser]] = {}
            for user in users:
                for number in dict.fromkeys(n for n in (user.primary_number, *user.numbers) if n):
                    by_number.setdefault(number, []).append(user)
            self._users, self._by_number = users, by_number
            self._expires = self._clock() + self._ttl


@dataclass(frozen=True)
class Lookup:
    """The answer to "who is that?": candidates, and what a number told on each side."""

    query: str
    kind: str  # "id", "address", "number", "digits", "name"
    users: list[DirectoryUser] = field(default_factory=list)
    number: str | None = None  # E.164 when the query was (or resolved to) one whole number
    owners: NumberOwners | None = None
    eightbyeight_only: tuple[EightByEightUser, ...] = ()  # 8x8 holders with no Microsoft 365 account
    eightbyeight_error: str | None = None  # why 8x8 could not be searched

    @property
    def ask_for_email(self) -> str | None:
        """When nobody was found by a number and 8x8 could not be searched: what to say instead.

        Callers dial the 8x8 number, which Teams may not hold for the person (the very fault
        being looked for), so only 8x8 could have named them."""
        if self.users or self.eightbyeight_only or self.kind not in ("number", "digits"):
            return None
        if self.eightbyeight_error is None:
            return None
        return (
            f"Nobody in Teams has a number matching {self.query}, and I couldn't search 8x8 for it "
            f"({self.eightbyeight_error.rstrip('.')}). Callers dial the 8x8 number, which Teams may not "
            "hold for that person: give me their e-mail address instead."
        )


class UserLookup:
    """Resolves what the helpdesk typed into Microsoft 365 users, asking both sides for numbers."""

    def __init__(
        self,
        microsoft: MicrosoftSource,
        eightbyeight: EightByEightSource,
        *,
        ttl: float = INDEX_TTL,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._microsoft = microsoft
        self._numbers = EightByEightNumbers(eightbyeight, ttl=ttl, clock=clock)
        self._ttl = ttl
        self._clock = clock
        self._region: tuple[str, float] | None = None

    async def region(self) -> str:
        """The region national numbers are read in: the tenant's country, else the US. Kept a
        while; a tenant whose country cannot be read (no permission, an outage) reads in the US."""
        if self._region is not None and self._clock() < self._region[1]:
            return self._region[0]
        try:
            country = await self._microsoft.tenant_country()
        except SourceError:
            country = None
        region = default_region(country)
        self._region = (region, self._clock() + self._ttl)
        return region

    async def resolve(self, text: str) -> Lookup:
        """Candidates for `text` (already checked for length and control characters).

        Microsoft 365 not answering raises its SourceError (no answer is not "nobody"); 8x8 not
        answering is reported in the Lookup, since Teams may still know the number."""
        if len(text) == _GUID_LENGTH and text.count("-") == 4:
            return Lookup(text, "id", await self._microsoft.find_users(text))
        if "@" in text:
            return Lookup(text, "address", await self._microsoft.find_users(text))
        if not any(ch.isdigit() for ch in text):
            return Lookup(text, "name", await self._microsoft.find_users(text))
        number = first_e164(text, [await self.region()])
        if number is not None:
            return await self._by_number(text, number)
        if _number_like(text):
            return await self._by_digits(text, digits_of(text))
        return Lookup(text, "name", await self._microsoft.find_users(text))

    async def owners(self, number: str) -> NumberOwners:
        """Who holds `number` (E.164) in Teams and in 8x8."""
        holders = await self._microsoft.number_holders(number)
        teams = tuple(h.user for h in holders if h.where == "teams")
        fields = tuple(h.user for h in holders if h.where != "teams")
        try:
            eight = await self._numbers.owners(number)
        except SourceError as error:
            return NumberOwners(number, teams, phone_fields=fields, eightbyeight_error=sentence(str(error)))
        accounts = [a for _, a in await self._accounts(eight) if a is not None]
        return NumberOwners(number, teams, tuple(eight), fields, tuple(_unique(accounts)))

    async def _by_number(self, text: str, number: str) -> Lookup:
        owners = await self.owners(number)
        users = list(owners.eightbyeight_accounts) or list(owners.teams) or list(owners.phone_fields)
        without = () if owners.eightbyeight_accounts else _unique_8x8(owners.eightbyeight)
        return Lookup(
            text,
            "number",
            _unique(users),
            number=number,
            owners=owners,
            eightbyeight_only=without,
            eightbyeight_error=owners.eightbyeight_error,
        )

    async def _by_digits(self, text: str, digits: str) -> Lookup:
        """Last digits ("0102"), or a national number of a user abroad ("020 7946 0123").

        One search serves both: numbers ending with the digits less any leading trunk `0`. Those
        dialled exactly so inside their own country are the national reading; those ending with
        every digit typed are the last-digits reading. One number either way is a whole number."""
        if len(digits) < MIN_DIGITS:
            raise InputError(
                f"“{text}” is too short to look a number up by: give at least {MIN_DIGITS} digits, "
                "the whole number, an e-mail address or a name."
            )
        suffix = digits.lstrip("0") or digits
        holders = [(h.number, h.user) for h in await self._microsoft.numbers_ending_with(suffix)]
        error = None
        try:
            eight = await self._numbers.numbers_ending_with(suffix)
        except SourceError as failure:
            eight, error = [], sentence(str(failure))
        numbers = {n for n, _ in [*holders, *eight]}
        whole = {n for n in numbers if national_digits(n) == digits}
        ending = {n for n in numbers if n.endswith(digits)}
        for reading in (whole, ending):
            if len(reading) == 1:  # one number dialled that way: look it up as a whole number
                return await self._by_number(text, reading.pop())
        holders = [(n, u) for n, u in holders if n in ending]
        pairs = await self._accounts(_unique_8x8(u for n, u in eight if n in ending))
        return Lookup(
            text,
            "digits",
            _unique([*(u for _, u in holders), *(a for _, a in pairs if a is not None)]),
            eightbyeight_only=tuple(u for u, a in pairs if a is None),
            eightbyeight_error=error,
        )

    async def _accounts(
        self, users: Iterable[EightByEightUser]
    ) -> list[tuple[EightByEightUser, DirectoryUser | None]]:
        return [(user, await self._account_of(user)) for user in users]

    async def _account_of(self, user: EightByEightUser) -> DirectoryUser | None:
        """The Microsoft 365 account of an 8x8 user: by its e-mail, then its user name."""
        for address in dict.fromkeys(a for a in (user.primary_email, user.user_name) if a and "@" in a):
            found = await self._microsoft.find_users(address)
            exact = [
                u for u in found if address.lower() in (u.user_principal_name.lower(), (u.mail or "").lower())
            ]
            if exact:
                return exact[0]
        return None


def _number_like(text: str) -> bool:
    """Digits and the characters people put between them (or a tel:/sip: URI): not a name."""
    lowered = text.lower()
    if lowered.startswith(("tel:", "sip:", "sips:")):
        return True
    return any(ch.isdigit() for ch in text) and all(ch in _NUMBER_CHARACTERS or ch.isdigit() for ch in text)


def _unique(users: Iterable[DirectoryUser]) -> list[DirectoryUser]:
    return list({u.id.lower(): u for u in users}.values())


def _unique_8x8(users: Iterable[EightByEightUser]) -> tuple[EightByEightUser, ...]:
    return tuple({u.user_id: u for u in users}.values())
