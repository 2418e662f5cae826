"""The diagnosis engine: asks every source what it knows, concurrently, then applies the rules.

Why it is built this way:

- Each question to a source has its own time limit, and a source that is not configured, fails
  or is slow turns into `unknown` checks that say which source and why — never into a failed
  diagnosis. Only bad input (`InputError`) stops a diagnosis.
- Questions are asked in three rounds because later ones need earlier answers: who the user is;
  then (at once) their numbers, voice settings, 8x8 account and first sync; then the call log for
  that user and those numbers, in the direction of the problem, over the period asked about. After each round the checks it settles are reported through `on_check`, so a
  "Checking…" card can fill in while the call log is still being searched.
- Nothing here knows Bot Framework, HTTP or cards: sources come in through the Protocols of
  `bot.diagnosis.evidence`, words come from the playbooks.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bot.diagnosis.errors import InputError, SourceError
from bot.diagnosis.evidence import (
    CallQuery,
    DirectoryUser,
    EightByEightSource,
    EightByEightUser,
    MicrosoftSource,
    NumberOwners,
    PortalSource,
)
from bot.diagnosis.lookup import Lookup, UserLookup
from bot.diagnosis.model import DEFAULT_PERIOD, MAX_PERIOD, PROBLEMS, Check, Diagnosis, Subject
from bot.diagnosis.phone import first_e164, to_e164
from bot.diagnosis.playbook import load_playbook
from bot.diagnosis.portal_text import PortalEvidence, infer_problem, parse_portal_text
from bot.diagnosis.rules import inbound_calls, outbound_calls, sync_error
from bot.diagnosis.rules import user as user_rules
from bot.diagnosis.rules.common import Answer, join_names, sentence
from bot.diagnosis.times import as_utc, zone_named

log = logging.getLogger(__name__)

T = TypeVar("T")
OnCheck = Callable[[Check], Awaitable[None]]
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
MAX_QUERY = 256
RULES = {"inbound-calls": inbound_calls, "outbound-calls": outbound_calls, "sync-error": sync_error}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class DiagnosisRequest:
    problem: str | None = (
        None  # "inbound-calls" | "sync-error" | None: inferred from the evidence, else inbound-calls
    )
    user: str | None = None  # UPN/e-mail, Entra object id, or phone number in any common format
    evidence_text: str | None = None  # text pasted from the 8x8 portal
    first_sync_at: datetime | None = None  # told by the admin (or from pasted sync history)
    eightbyeight_number: str | None = None  # told by the admin when 8x8 cannot be read
    user_id: str | None = None  # an already-resolved Entra object id (people picker) wins over `user`
    since: timedelta | None = None  # how far back to read the call log (default 7 days, at most 90)
    time_zone: str | None = None  # the reader's IANA time zone ("Europe/London"): "3 calls today" is theirs
    named_number: str | None = None  # the number the user was looked up by: who holds it on each side


class Engine:
    def __init__(
        self,
        microsoft: MicrosoftSource,
        eightbyeight: EightByEightSource,
        portal: PortalSource,
        *,
        data_source: str,
        clock: Callable[[], datetime] = utc_now,
        source_timeout: float = 25.0,
    ):
        self.microsoft = microsoft
        self.eightbyeight = eightbyeight
        self.portal = portal
        self.data_source = data_source
        self._clock = clock
        self._timeout = source_timeout
        self._lookup = UserLookup(microsoft, eightbyeight)

    # -- public ----------------------------------------------------------------------------------

    async def diagnose(self, request: DiagnosisRequest, on_check: OnCheck | None = None) -> Diagnosis:
        """A diagnosis for `request`. Raises InputError for bad input, nothing else."""
        pasted = parse_portal_text(request.evidence_text) if request.evidence_text else None
        problem = request.problem or (infer_problem(request.evidence_text or "")) or "inbound-calls"
        if problem not in PROBLEMS:
            raise InputError(f"{problem!r} is not a problem I know: use {' or '.join(PROBLEMS)}.")
        now = as_utc(self._clock())
        emit = _Emitter(on_check)
        if problem == "sync-error":
            return await self._sync_error(request, pasted, now, emit)
        period = (now - _period(request.since), now)
        if problem == "outbound-calls":
            return await self._outbound_calls(request, period, now, emit)
        return await self._inbound_calls(request, pasted, period, now, emit)

    async def find_users(self, query: str) -> list[DirectoryUser]:
        """Users matching a UPN/e-mail, an object id, a phone number (8x8's or Teams'), its last
        digits, or a first or last name (0, 1 or many).

        A source that cannot answer raises its SourceError: "no answer" is not "no such user".
        """
        return (await self.look_up(query)).users

    async def look_up(self, query: str) -> Lookup:
        """`find_users` with what a number told on each side (`bot.diagnosis.lookup`)."""
        return await self._lookup.resolve(_directory_query(query))

    def planned_checks(self, problem: str) -> list[Check]:
        """The checks a diagnosis of `problem` will run, all `unknown` and "Checking…"."""
        if problem not in PROBLEMS:
            raise InputError(f"{problem!r} is not a problem I know: use {' or '.join(PROBLEMS)}.")
        rules = RULES[problem]
        playbook = load_playbook(problem)
        return [
            Check(cid, playbook.check_title(cid), "unknown", "Checking…", source)
            for cid, source, _ in rules.CHECKS
            if cid not in inbound_calls.OPTIONAL_CHECKS
        ]

    # -- inbound calls ---------------------------------------------------------------------------

    async def _inbound_calls(
        self,
        request: DiagnosisRequest,
        pasted: PortalEvidence | None,
        period: tuple[datetime, datetime],
        now: datetime,
        emit: _Emitter,
    ) -> Diagnosis:
        told_number = _told_number(request.eightbyeight_number)
        query = (request.user or "").strip() or None
        call_data = pasted if pasted and pasted.has_call_data else None
        if not request.user_id and not query:
            if call_data and call_data.called_number:
                query = call_data.called_number
            else:
                raise InputError(
                    "Name the affected user: their e-mail address (UPN), Entra object id or phone number."
                )
        facts = inbound_calls.InboundFacts(
            now=now, query=query or request.user_id, user=Answer(), zone=zone_named(request.time_zone)
        )
        facts.told_8x8_number = told_number
        facts.call_data = call_data
        facts.window = facts.period = period
        if request.first_sync_at is not None:
            facts.first_sync_at, facts.first_sync_source = as_utc(request.first_sync_at), "admin"
        elif pasted and pasted.first_complete_sync_at:
            facts.first_sync_at, facts.first_sync_source = pasted.first_complete_sync_at, "portal"
            facts.first_sync_zone_assumed = pasted.zone_assumed_utc
        facts.unread_paste = bool(pasted and not pasted.has_call_data and not pasted.first_complete_sync_at)

        facts.user, facts.matches, owners = await self._resolve_user(request.user_id, query)
        facts.number_owners = owners or await self._owners_of(request.named_number)
        await emit(inbound_calls.build_checks(1, facts))

        await self._inbound_round_two(facts, query)
        await emit(inbound_calls.build_checks(2, facts) + _resource_account_rechecked(facts))

        calls = self._user_calls("inbound", facts.numbers, facts.user_id, period)
        holders = self._holders(facts)
        if inbound_calls.numbers_differ(facts) and facts.eightbyeight_user is not None:
            change = self._ask(
                self._label(self.eightbyeight), self.eightbyeight.number_change(facts.eightbyeight_user, now)
            )
            facts.calls, (facts.holders, facts.holder_numbers), facts.number_change = await asyncio.gather(
                calls, holders, change
            )
        else:
            facts.calls, (facts.holders, facts.holder_numbers) = await asyncio.gather(calls, holders)
        searched = facts.calls.value
        if searched is not None and searched.window_start is not None:
            facts.window = (as_utc(searched.window_start), as_utc(searched.window_end or period[1]))
        checks = inbound_calls.build_checks(3, facts)
        owner = inbound_calls.BUILDERS["number-owner"](facts)
        await emit(checks + ([owner] if owner is not None else []))
        return inbound_calls.assemble(facts, emit.ordered(inbound_calls.CHECKS), self.data_source)

    async def _user_calls(
        self, direction: str, numbers: list[str], user_id: str | None, period: tuple[datetime, datetime]
    ) -> Answer[Any]:
        if not numbers and not user_id:
            return Answer.not_asked(
                "Microsoft's call log was not searched: neither the user nor a number of theirs is known."
            )
        query = CallQuery(direction, tuple(numbers), period[0], period[1], user_id)  # type: ignore[arg-type]
        return await self._ask(self._label(self.microsoft), self.microsoft.user_calls(query))

    # -- outbound calls --------------------------------------------------------------------------

    async def _outbound_calls(
        self, request: DiagnosisRequest, period: tuple[datetime, datetime], now: datetime, emit: _Emitter
    ) -> Diagnosis:
        query = (request.user or "").strip() or None
        if not request.user_id and not query:
            raise InputError(
                "Name the affected user: their e-mail address (UPN), Entra object id or phone number."
            )
        facts = outbound_calls.OutboundFacts(
            now=now,
            query=query or request.user_id,
            user=Answer(),
            zone=zone_named(request.time_zone),
            period=period,
        )
        facts.user, facts.matches, _ = await self._resolve_user(request.user_id, query)
        await emit(outbound_calls.build_checks(1, facts))
        user = facts.found_user
        if user is None:
            why = "Not asked: the user was not found in Microsoft 365."
            if not facts.user.ok:
                why = f"Not asked: {facts.user.error}"
            facts.assignments = facts.voice = Answer.not_asked(why)
        else:
            ms = self._label(self.microsoft)
            facts.assignments, facts.voice = await asyncio.gather(
                self._ask(ms, self.microsoft.number_assignments(user.id)),
                self._ask(ms, self.microsoft.voice_config(user.id)),
            )
        await emit(outbound_calls.build_checks(2, facts) + _resource_account_rechecked(facts))
        if user is None:
            facts.calls = Answer.not_asked("Microsoft's call log was not searched: the user is not known.")
        else:
            facts.calls = await self._user_calls("outbound", facts.numbers, user.id, period)
        checks = outbound_calls.build_checks(3, facts)
        await emit(checks)
        return outbound_calls.assemble(facts, emit.ordered(outbound_calls.CHECKS), self.data_source)

    async def _resolve_user(
        self, user_id: str | None, query: str | None
    ) -> tuple[Answer[DirectoryUser], int, Answer[NumberOwners] | None]:
        """The user, how many matched, and who holds the number on each side when one was named."""
        label = self._label(self.microsoft)
        if user_id:
            answer = await self._ask(label, self.microsoft.get_user(user_id.strip()))
            return answer, int(answer.value is not None), None
        if query is None:
            raise InputError(
                "Name the affected user: their e-mail address (UPN), Entra object id or phone number."
            )
        found = await self._ask(label, self._lookup.resolve(_directory_query(query)), input_errors=False)
        if not found.ok or found.value is None:
            return Answer(error=found.error), 0, None
        lookup = found.value
        owners = Answer(lookup.owners) if lookup.owners is not None else None
        users = lookup.users
        if len(users) > 1:
            exact = [u for u in users if _same_person(u, query)]
            if len(exact) != 1:
                names = join_names([f"{u.display_name} ({u.user_principal_name})" for u in users], limit=5)
                raise InputError(f"{query} matches {len(users)} users ({names}): name one by e-mail address.")
            users = exact
        return Answer(users[0] if users else None), len(users), owners

    async def _owners_of(self, number: str | None) -> Answer[NumberOwners] | None:
        """Who holds a number named earlier in the conversation (the user was then picked by id)."""
        e164 = first_e164(number or "", [await self._lookup.region()]) if number else None
        if e164 is None:
            return None
        return await self._ask(self._label(self.microsoft), self._lookup.owners(e164))

    async def _holders(
        self, facts: inbound_calls.InboundFacts
    ) -> tuple[Answer[tuple[DirectoryUser, ...]] | None, dict[str, str | None]]:
        """Whom else Teams gives the user's 8x8 number to, and their own 8x8 numbers (however the
        user was named: by a name too, not only by that number). One Graph request (none when the
        user was named by that very number), and one 8x8 request per holder."""
        number, user = facts.eightbyeight_number, facts.found_user
        if number is None or user is None:
            return None, {}
        named = facts.number_owners
        if named is not None and named.ok and named.value is not None and named.value.number == number:
            teams = named.value.teams
        else:
            answer = await self._ask(
                self._label(self.microsoft), self.microsoft.number_holders(number, teams_only=True)
            )
            if not answer.ok:
                return Answer(error=answer.error), {}
            teams = tuple(h.user for h in answer.value or () if h.where == "teams")
        others = tuple(u for u in teams if u.id.lower() != user.id.lower())
        eight = self._label(self.eightbyeight)
        found = await asyncio.gather(
            *(
                self._ask(eight, self.eightbyeight.find_user(u.user_principal_name, u.mail))
                for u in others[:3]
            )
        )
        numbers = {u.id.lower(): _first_number(a.value) for u, a in zip(others, found, strict=False) if a.ok}
        return Answer(others), numbers

    async def _inbound_round_two(self, facts: inbound_calls.InboundFacts, query: str | None) -> None:
        """Numbers, voice settings, the 8x8 account, the first sync and the call data: all at once."""
        user = facts.found_user
        jobs: dict[str, Coroutine[Any, Any, Answer[Any]]] = {}
        ms, eight, portal = (
            self._label(self.microsoft),
            self._label(self.eightbyeight),
            self._label(self.portal),
        )
        if user is not None:
            jobs["assignments"] = self._ask(ms, self.microsoft.number_assignments(user.id))
            jobs["voice"] = self._ask(ms, self.microsoft.voice_config(user.id))
        if facts.told_8x8_number is None:
            if user is not None:
                jobs["8x8"] = self._ask(
                    eight, self.eightbyeight.find_user(user.user_principal_name, user.mail)
                )
            elif query and "@" in query:  # Graph did not answer or has no such user: 8x8 may still know
                jobs["8x8"] = self._ask(eight, self.eightbyeight.find_user(query, query))
        lookup_portal = user is not None or not facts.user.ok
        if facts.first_sync_at is None and lookup_portal:
            jobs["first-sync"] = self._ask(portal, self.portal.first_complete_sync(user))
        if facts.call_data is None and user is not None:
            jobs["call-data"] = self._ask(portal, self.portal.call_data_text(user))
        results = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))

        why_not = "Not asked: the user was not found in Microsoft 365."
        if not facts.user.ok:
            why_not = f"Not asked: {facts.user.error}"
        facts.assignments = results.get("assignments", Answer.not_asked(why_not))
        facts.voice = results.get("voice", Answer.not_asked(why_not))
        facts.eightbyeight = results.get("8x8", Answer.not_asked(_why_8x8_not_asked(facts)))
        if "first-sync" in results:
            answer = results["first-sync"]
            if answer.ok and answer.value is not None:
                facts.first_sync_at, facts.first_sync_source = as_utc(answer.value), "portal"
            elif not answer.ok:
                facts.first_sync_error = answer.error
        if "call-data" in results:
            answer = results["call-data"]
            if not answer.ok:
                facts.call_data_error = answer.error
            elif answer.value:
                facts.call_data = self._parse_source_text(answer.value, "call data")

    # -- sync error ------------------------------------------------------------------------------

    async def _sync_error(
        self, request: DiagnosisRequest, pasted: PortalEvidence | None, now: datetime, emit: _Emitter
    ) -> Diagnosis:
        facts = sync_error.SyncFacts(now=now)
        ms, portal = self._label(self.microsoft), self._label(self.portal)
        jobs: dict[str, Coroutine[Any, Any, Answer[Any]]] = {
            "domains": self._ask(ms, self.microsoft.domains()),
            "activation-users": self._ask(ms, self.microsoft.users_named(sync_error.ACTIVATION_USER_NAME)),
        }
        if pasted is not None and pasted.has_sync_history:
            facts.history = pasted
        else:
            facts.unread_paste = pasted is not None
            jobs["history"] = self._ask(portal, self.portal.sync_history_text())
        if request.user_id or (request.user or "").strip():
            jobs["subject"] = self._subject(request)
        results = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))
        facts.domains = results["domains"]
        facts.activation_users = results["activation-users"]
        if "history" in results:
            answer = results["history"]
            if not answer.ok:
                facts.history_error = answer.error
            elif answer.value:
                facts.history = self._parse_source_text(answer.value, "sync history")
        if "subject" in results and results["subject"].ok:
            facts.subject = results["subject"].value
        await emit(sync_error.build_checks(1, facts))

        domains = [d.id for d in facts.graph_voice_domains][: sync_error.MAX_DOMAINS_LOOKED_AT]
        answers = await asyncio.gather(*(self._ask(ms, self.microsoft.users_on_domain(d)) for d in domains))
        facts.domain_users = dict(zip(domains, answers, strict=True))
        await emit(sync_error.build_checks(2, facts))
        return sync_error.assemble(facts, emit.ordered(sync_error.CHECKS), self.data_source)

    async def _subject(self, request: DiagnosisRequest) -> Answer[Subject]:
        """The user named with a sync error (optional: the problem is tenant-wide)."""
        try:
            answer, _, _ = await self._resolve_user(request.user_id, (request.user or "").strip() or None)
        except InputError as error:
            return Answer(error=str(error))
        user = answer.value if answer.ok else None
        if user is None:
            return Answer(error=answer.error or "no such user")
        kind = "resourceAccount" if user.resource_account or user.resource_account_plan else "user"
        return Answer(
            Subject(
                id=user.id,
                user_principal_name=user.user_principal_name,
                display_name=user.display_name,
                kind=kind,
            )
        )

    # -- asking sources --------------------------------------------------------------------------

    async def _ask(self, who: str, call: Awaitable[T], *, input_errors: bool = True) -> Answer[T]:
        """Await one source call within the time limit; any failure becomes an Answer with a reason.

        `input_errors=False`: bad input from the person asking (what they typed cannot name anyone)
        is raised as it is, to be answered as bad input, never shown as a source that failed."""
        try:
            return Answer(await asyncio.wait_for(call, self._timeout))
        except SourceError as error:
            return Answer(error=sentence(str(error)))
        except TimeoutError:
            return Answer(error=f"{who} did not answer within {self._timeout:g} seconds.")
        except InputError as error:
            if not input_errors:
                raise
            return Answer(error=sentence(str(error)))
        except Exception as error:  # a bug or a surprise in a source must not sink the diagnosis
            log.exception("source failed", extra={"source": who, "error_type": type(error).__name__})
            return Answer(
                error=f"{who} failed unexpectedly ({type(error).__name__}), so this could not be checked."
            )

    def _parse_source_text(self, text: str, what: str) -> PortalEvidence | None:
        try:
            return parse_portal_text(text)
        except InputError:
            log.warning("portal source text too long", extra={"what": what})
            return None

    @staticmethod
    def _label(source: object) -> str:
        name = getattr(source, "name", "")
        return {
            "graph": "Microsoft Graph",
            "demo": "The demo tenant",
            "8x8": "The 8x8 Administration API",
            "portal": "The 8x8 portal",
        }.get(name, f"The {name or 'source'}")


class _Emitter:
    """Reports checks as they are settled; a failing callback is logged and otherwise ignored."""

    def __init__(self, on_check: OnCheck | None):
        self._on_check = on_check
        self.checks: dict[str, Check] = {}

    async def __call__(self, checks: list[Check]) -> None:
        for check in checks:
            self.checks[check.id] = check
            if self._on_check is None:
                continue
            try:
                await self._on_check(check)
            except Exception:
                log.exception("on_check callback failed", extra={"check": check.id})

    def ordered(self, plan: tuple[tuple[str, str, int], ...]) -> list[Check]:
        return [self.checks[check_id] for check_id, _, _ in plan if check_id in self.checks]


# ---------------------------------------------------------------------------------------------


def _directory_query(query: str) -> str:
    """The query, checked: numbers are read by the lookup, in the tenant's country."""
    if not isinstance(query, str) or not query.strip():
        raise InputError("Name the user: their e-mail address (UPN), Entra object id or phone number.")
    text = query.strip()
    if len(text) > MAX_QUERY:
        raise InputError(
            f"That user name is {len(text)} characters long; a user name has at most {MAX_QUERY}."
        )
    if any(ord(ch) < 32 for ch in text):
        raise InputError(
            "That user name contains control characters; give an e-mail address, object id or number."
        )
    return text


def _period(since: timedelta | None) -> timedelta:
    """How far back the call log is read: 7 days unless asked, never more than Graph allows."""
    if since is None:
        return DEFAULT_PERIOD
    if since <= timedelta(0):
        raise InputError("The period must be longer than zero: say e.g. 48h or 7d.")
    if since > MAX_PERIOD:
        raise InputError("Microsoft keeps the call log for a limited time: ask about 90 days (90d) at most.")
    return since


def _told_number(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    number = to_e164(raw)
    if number is None:
        raise InputError(f"{raw.strip()!r} is not a phone number I can read: give it like +1 425 555 0101.")
    return number


def _same_person(user: DirectoryUser, query: str) -> bool:
    q = query.strip().lower()
    return q in (user.user_principal_name.lower(), (user.mail or "").lower(), user.id.lower())


def _resource_account_rechecked(facts: Any) -> list[Check]:
    """The account and licence checks again once the Teams settings show a resource account (its
    sign-in is disabled by design: no warning; its licence may be the resource account's), which
    the directory alone may not have shown."""
    if not facts.resource_account:
        return []
    return [user_rules.user_check(facts), user_rules.license_check(facts)]


def _first_number(account: EightByEightUser | None) -> str | None:
    if account is None:
        return None
    return next(
        (n for n in (to_e164(x or "") for x in (account.primary_number, *account.numbers)) if n), None
    )


def _why_8x8_not_asked(facts: inbound_calls.InboundFacts) -> str:
    if facts.told_8x8_number is not None:
        return "Not asked: the 8x8 number was given."
    return "Not asked: with no Microsoft 365 account or e-mail address, there was nothing to look up in 8x8."
