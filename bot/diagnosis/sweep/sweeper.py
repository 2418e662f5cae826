"""The tenant sweep: every user at once, with the causes a diagnosis of each would give.

How, and why so:

- Read in bulk, all at once. The users with their licences, Teams' number assignments, the voice
  settings, 8x8's users and the call log for the period are five paged collections, read
  concurrently (`tenant.Tenant`, `calls.CallCounts`); nothing is asked user by user. The call log
  is by far the longest of them, so the others never hold it up, and it is folded into counts page
  by page (memory does not grow with its rows).
- Decide with the diagnosis's own rules. For each person the sweep builds the facts a diagnosis
  would have gathered (`InboundFacts`, `OutboundFacts`) from the maps, and calls the same `decide`.
  So the sweep's cause is the diagnosis's cause by construction, also where a source could not be
  read (the same `unknown`s, alternatives and confidence). Where only the 8x8 portal knows the
  first complete sync, it is asked as a diagnosis asks it (live the portal has no API: unknown).
- Then what only the whole tenant shows: a number 8x8 gives to one person and Teams to another
  (`number-conflict`, in place of the number cause), and number assignments Microsoft left pending
  or failed for someone nothing else is wrong with.
- A source that fails or a time budget that runs out leaves `complete` false and a note saying
  what was not read; what was read still counts.
- Limited to a group or a place (`group=`, `scope.py`): the name is understood first (an Entra
  group, else a department or office among the users, read first for it), then the tenant is read
  as always — the call log and the number maps are the tenant's, so calls and number conflicts are
  attributed as in a full sweep — and only the members are decided about and listed.

Nothing here does I/O of its own: the sources come in through the Protocols of
`bot.diagnosis.evidence`, the clock as an argument.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.diagnosis.catalogue import is_failure
from bot.diagnosis.errors import InputError, PermissionMissing, SourceError
from bot.diagnosis.evidence import (
    CallSearch,
    DirectoryUser,
    EightByEightSource,
    GroupSource,
    MicrosoftSource,
    PortalSource,
)
from bot.diagnosis.model import DEFAULT_PERIOD, MAX_PERIOD, NO_FAULT, Diagnosis
from bot.diagnosis.rules import inbound_calls, outbound_calls
from bot.diagnosis.rules.common import Answer, Verdict, sentence
from bot.diagnosis.rules.user import FAILED_STATES, PENDING_STATES
from bot.diagnosis.sweep.calls import CallCounts, owners_for
from bot.diagnosis.sweep.report import Counted, Finding, SweepReport, SweepSubject
from bot.diagnosis.sweep.scope import (
    GROUPS_PERMISSION,
    ScopeNotFound,
    SweepScope,
    ambiguous,
    clean_name,
    group_scope,
    not_found,
    place_scope,
)
from bot.diagnosis.sweep.tenant import Person, Tenant
from bot.diagnosis.times import as_utc, human_duration

log = logging.getLogger(__name__)

# Causes that come before a number problem: a number conflict does not replace them.
ACCOUNT_CAUSES = frozenset({"user-not-found", "no-phone-license", "calling-plan-conflict"})
NOT_FOUND_ASKED = "Not asked: the user was not found in Microsoft 365."
YIELD_EVERY = 200  # items a reader takes before it lets the others run


@dataclass(frozen=True)
class SweepLimits:
    time_budget_s: float = 1800.0  # after this the sweep reports what it has read, complete false
    masked_owners: int = 3  # a masked number that fits more people than this is nobody's
    progress_every_s: float = 0.5


@dataclass(frozen=True)
class SweepProgress:
    """What a sweep has read so far (for a progress line or card)."""

    stage: str  # "reading", "deciding", "done"
    users: int
    teams_numbers: int
    eightbyeight_accounts: int
    call_rows: int
    pages: int
    failed_calls: int
    elapsed_s: float
    pace: float | None  # call-log requests a minute the source keeps to (Microsoft's limit)


OnProgress = Callable[[SweepProgress], None]


class SweepResult:
    """A sweep's report, and what the watch needs beyond it: who had a working call, and each
    affected person's full diagnosis (rebuilt from the sweep's maps and counts, no request more)."""

    def __init__(self, report: SweepReport, worked: frozenset[tuple[str, str]], run: _Run):
        self.report = report
        self.worked = worked  # (object id in lower case, direction) of a successful call in the period
        self._run = run

    def diagnosis(self, problem: str, key: str) -> Diagnosis | None:
        """The diagnosis of one person (a finding's subject, by `key`), as `diagnose` presents it."""
        facts = self._run.facts(problem, key)
        if facts is None:
            return None
        rules = inbound_calls if problem == "inbound-calls" else outbound_calls
        built = {c.id: c for stage in (1, 2, 3) for c in rules.build_checks(stage, facts)}
        checks = [built[check_id] for check_id, _, _ in rules.CHECKS if check_id in built]
        return rules.assemble(facts, checks, self.report.data_source)


class Sweeper:
    def __init__(
        self,
        microsoft: MicrosoftSource,
        eightbyeight: EightByEightSource,
        portal: PortalSource,
        *,
        data_source: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        limits: SweepLimits | None = None,
    ):
        self.microsoft = microsoft
        self.eightbyeight = eightbyeight
        self.portal = portal
        self.data_source = data_source
        self._clock = clock
        self._monotonic = monotonic
        self.limits = limits or SweepLimits()

    async def sweep(
        self,
        since: timedelta | None = None,
        *,
        period: tuple[datetime, datetime] | None = None,
        worked_for: frozenset[str] = frozenset(),
        on_progress: OnProgress | None = None,
        group: str | None = None,
    ) -> SweepResult:
        """Sweep the tenant over the last `since` (7 days unless given), or over `period`; with
        `group`, only the members of that Entra group, department or office (`scope.py`).

        Raises InputError for a period Microsoft does not keep, and its `ScopeNotFound` /
        `ScopeAmbiguous` for a group nobody or several are; every source problem is a note."""
        now = as_utc(self._clock())
        period = _period(now, since, period)
        asked = clean_name(group) if group is not None else None
        return await _Run(self, period, worked_for, on_progress, asked).go(now)


async def _nothing() -> None:
    return None


def _period(
    now: datetime, since: timedelta | None, period: tuple[datetime, datetime] | None
) -> tuple[datetime, datetime]:
    if period is not None:
        start, end = as_utc(period[0]), as_utc(period[1])
    else:
        span = DEFAULT_PERIOD if since is None else since
        start, end = now - span, now
    if end <= start:
        raise InputError("The period must be longer than zero: say e.g. 24h or 7d.")
    if end - start > MAX_PERIOD:
        raise InputError("Microsoft keeps the call log for a limited time: sweep 90 days (90d) at most.")
    return start, end


# ---------------------------------------------------------------------------------------------


class _Run:
    """One sweep: the reading, then the deciding."""

    def __init__(
        self,
        sweeper: Sweeper,
        period: tuple[datetime, datetime],
        worked_for: frozenset[str],
        on_progress: OnProgress | None,
        asked: str | None = None,
    ):
        self.s = sweeper
        self.asked = asked  # the group or place asked for; None: everyone
        self.scope: SweepScope | None = None
        self._users_read = False  # the users were read already, to find a department or office
        self.period = period
        self.worked_for = frozenset(w.lower() for w in worked_for)
        self.on_progress = on_progress
        self.tenant = Tenant()
        self.calls = CallCounts()
        self.notes: list[str] = []
        self.calls_error: str | None = None
        self.calls_cut = False
        self.people: dict[str, Person] = {}
        self.inbound: dict[str, inbound_calls.InboundFacts] = {}
        self.outbound: dict[str, outbound_calls.OutboundFacts] = {}
        self.first_syncs: dict[str, datetime] = {}
        self.undecided = 0
        self.now = datetime.now(UTC)
        self.started = sweeper._monotonic()
        self.deadline = self.started + sweeper.limits.time_budget_s
        self._reported = 0.0

    # -- reading ---------------------------------------------------------------------------------

    async def go(self, now: datetime) -> SweepResult:
        """Read everything at once; while the call log is still coming in (it is the longest),
        get everyone's facts ready; then share the calls out and decide."""
        self.now = now
        t, ms = self.tenant, self.s.microsoft
        if self.asked is not None:
            await self._resolve_scope(self.asked)
        calls = asyncio.ensure_future(
            self._drain(
                "calls", lambda: ms.tenant_calls(*self.period, worked_for=self.worked_for), self.calls.add
            )
        )
        try:
            problems = await asyncio.gather(
                self._drain("users", lambda: ms.all_users(), t.add_user)
                if not self._users_read
                else _nothing(),
                self._drain("assignments", lambda: ms.all_number_assignments(), t.add_assignment),
                self._drain("voice", lambda: ms.all_voice_configs(), lambda pair: t.add_voice(*pair)),
                self._drain("8x8", lambda: self.s.eightbyeight.users(), t.add_eightbyeight),
            )
            for what, problem in zip(("users", "assignments", "voice", "8x8"), problems, strict=True):
                if problem is not None:
                    t.errors[what] = problem
                    _forget(t, what)  # half a map would answer wrongly: unknown instead
                    self.notes.append(_note(what, problem, self.calls))
            if t.eightbyeight_read_alone:
                self.notes.append(_read_alone_note(t.eightbyeight_read_alone))
            # The maps hold a few objects per user and stay alive throughout: left to the
            # collector, every collection from here on would walk all of them again.
            gc.freeze()
            try:
                await self._prepare(t.people() if "users" not in t.errors else [])
                problem = await calls
                if problem is not None:
                    self.calls_error, self.calls_cut = problem, self.calls.pages > 0
                    self.notes.append(_note("calls", problem, self.calls))
                self._progress("deciding", force=True)
                if "users" not in t.errors:  # users Microsoft named in failed calls, not yet counted
                    await self._prepare(t.people(also=self.calls.user_ids(), skip=self.people))
                return self._decide()
            finally:
                gc.unfreeze()
        finally:
            if not calls.done():
                calls.cancel()
                with contextlib.suppress(BaseException):
                    await calls

    async def _resolve_scope(self, asked: str) -> None:
        """Understand the group or place (module `scope`): an Entra group, else a department or
        office among the users, which are then read here (and not again). Raises its InputErrors."""
        groups_note: str | None = None
        ms = self.s.microsoft
        if isinstance(ms, GroupSource):
            try:
                groups = await ms.groups_named(asked)
            except PermissionMissing:
                groups, groups_note = [], f"{GROUPS_PERMISSION} is not granted."
            except SourceError as error:
                groups, groups_note = [], sentence(str(error))
            if len(groups) > 1:
                raise ambiguous(asked, groups)
            if groups:
                members: list[str] = []
                try:
                    async with contextlib.aclosing(ms.group_members(groups[0].id)) as stream:
                        async for member in stream:
                            members.append(member)
                except SourceError as error:
                    raise InputError(
                        f"The Entra group “{groups[0].display_name}” was found, but its members could "
                        f"not be read: {sentence(str(error))}"
                    ) from None
                self.scope = group_scope(asked, groups[0], members)
                if not self.scope.keys:
                    raise ScopeNotFound(
                        f"The Entra group “{groups[0].display_name}” has no users as members (nor have its "
                        "nested groups): nobody to check."
                    )
                return
        problem = await self._drain("users", lambda: ms.all_users(), self.tenant.add_user)
        if problem is not None:
            raise InputError(f"The users could not be read to find “{asked}”: {problem}")
        self._users_read = True
        self.scope = place_scope(asked, self.tenant.users.values())
        if self.scope is None:
            raise not_found(asked, groups_note)
        if groups_note:
            note = (
                f"Matched “{asked}” on department and office only: the Entra groups could not be read "
                f"({groups_note.rstrip('.')})."
            )
            self.scope = replace(self.scope, note=note)
            self.notes.append(note)

    async def _drain(self, what: str, open_stream: Callable[[], AsyncIterator[Any]], add) -> str | None:
        """Read one collection to its end into `add`; None, or the sentence saying why not.

        Every few hundred items it lets the other readers run: a page of a thousand users is read
        item by item, and the call log's next request should not wait for all of it."""
        left = self.deadline - self.s._monotonic()
        count = 0
        try:
            async with asyncio.timeout(max(0.0, left)):
                async with contextlib.aclosing(open_stream()) as stream:
                    async for item in stream:
                        add(item)
                        count += 1
                        if count % YIELD_EVERY == 0:
                            await asyncio.sleep(0)
                        self._progress("reading")
                        if self.s._monotonic() >= self.deadline:
                            return self._out_of_time(what)
        except TimeoutError:
            return self._out_of_time(what)
        except SourceError as error:
            return sentence(str(error))
        except InputError as error:
            return sentence(str(error))
        except Exception as error:  # a bug or a surprise in one source must not sink the sweep
            log.exception("sweep source failed", extra={"what": what, "error_type": type(error).__name__})
            return f"Reading {_WHAT[what]} failed unexpectedly ({type(error).__name__})."
        return None

    def _out_of_time(self, what: str) -> str:
        budget = human_duration(timedelta(seconds=self.s.limits.time_budget_s))
        return f"The sweep's time budget ({budget}) ran out before {_WHAT[what]} had been read to the end."

    def _progress(self, stage: str, *, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = self.s._monotonic()
        if not force and now - self._reported < self.s.limits.progress_every_s:
            return
        self._reported = now
        t = self.tenant
        self.on_progress(
            SweepProgress(
                stage=stage,
                users=len(t.users),
                teams_numbers=t.teams_numbers,
                eightbyeight_accounts=len(t.eightbyeight),
                call_rows=self.calls.rows,
                pages=self.calls.pages,
                failed_calls=self.calls.failed,
                elapsed_s=now - self.started,
                pace=self.calls.pace,
            )
        )

    # -- deciding --------------------------------------------------------------------------------

    async def _prepare(self, people: list[Person]) -> None:
        """Everyone's facts but their calls, and the numbers their calls would come in on."""
        await self._first_syncs(people)
        for person in people:
            self.people[person.key] = person
            self.inbound[person.key] = self._inbound_facts(person)
            self.outbound[person.key] = self._outbound_facts(person)

    def _decide(self) -> SweepResult:
        t, now = self.tenant, self.now
        people = list(self.people.values())
        inbound, outbound = self.inbound, self.outbound
        owners = owners_for(
            (
                p.key,
                p.user.id if p.user else None,
                {"inbound": inbound[p.key].numbers, "outbound": outbound[p.key].numbers},
            )
            for p in people
        )
        unattributed = self.calls.share_out(owners, masked_limit=self.s.limits.masked_owners)
        if unattributed and "users" not in t.errors:  # without the users nobody could be matched
            self.notes.append(
                f"{unattributed:,} failed calls reached numbers that neither Teams nor 8x8 gives anyone "
                "(or a masked number that fits too many people): they are counted, not listed."
            )
        findings: dict[tuple[str, str], Finding] = {}
        conflicts = self._conflicts(people)
        if self.scope is not None:  # everyone's calls and numbers were shared out; members decided
            people = [p for p in people if p.key in self.scope.keys]
        self._decide_each(people, inbound, outbound, conflicts, findings)
        self._progress("done", force=True)
        report = SweepReport(
            period=self.period,
            counted=Counted(
                users=len(t.users),
                teams_numbers=t.teams_numbers,
                eightbyeight_numbers=t.eightbyeight_numbers,
                call_rows=self.calls.rows,
                failed_calls=self.calls.failed,
                pages=self.calls.pages,
                people=len(people),
                undecided=self.undecided,
                eightbyeight_read_alone=t.eightbyeight_read_alone,
            ),
            findings=list(findings.values()),
            complete=self.complete,
            notes=self.notes,
            data_source=self.s.data_source,
            checked_at=now,
            elapsed_s=self.s._monotonic() - self.started,
            scope=self.scope,
        )
        return SweepResult(report, frozenset(self.calls.worked), self)

    def _decide_each(
        self,
        people: list[Person],
        inbound: dict[str, inbound_calls.InboundFacts],
        outbound: dict[str, outbound_calls.OutboundFacts],
        conflicts: dict[str, list[dict[str, str | None]]],
        findings: dict[tuple[str, str], Finding],
    ) -> None:
        for person in people:
            facts_in, facts_out = inbound.pop(person.key), outbound.pop(person.key)
            self._calls_into(person, facts_in, facts_out)
            verdict_in, verdict_out = inbound_calls.decide(facts_in), outbound_calls.decide(facts_out)
            cause_in = self._inbound_cause(person, facts_in, verdict_in, conflicts)
            for problem, cause, facts, verdict in (
                ("inbound-calls", cause_in, facts_in, verdict_in),
                ("outbound-calls", verdict_out.cause, facts_out, verdict_out),
            ):
                if cause == verdict.cause and not _shows_problem(verdict, facts):
                    self.undecided += cause != NO_FAULT
                    continue
                subject = self._subject(person, facts, facts_in, verdict)
                if cause != verdict.cause:  # one of the sweep's own findings
                    subject.confidence, subject.alternatives = "confirmed", []
                    subject.conflicts_with = (
                        conflicts.get(person.key, []) if cause == "number-conflict" else []
                    )
                findings.setdefault((problem, cause), Finding(problem, cause)).subjects.append(subject)

    def facts(self, problem: str, key: str) -> Any:
        """One person's facts with their calls, as the deciding built them (for a full diagnosis)."""
        person = self.people.get(key)
        if person is None:
            return None
        inbound, outbound = self._inbound_facts(person), self._outbound_facts(person)
        self._calls_into(person, inbound, outbound)
        return inbound if problem == "inbound-calls" else outbound

    @property
    def complete(self) -> bool:
        """Every collection read to its end."""
        return not self.tenant.errors and self.calls_error is None

    # -- facts, as the engine gathers them -------------------------------------------------------

    def _inbound_facts(self, person: Person) -> inbound_calls.InboundFacts:
        t, user = self.tenant, person.user
        facts = inbound_calls.InboundFacts(now=self.now, query=person.query, user=Answer(user), matches=1)
        facts.window = facts.period = self.period
        first_sync = self.first_syncs.get(person.key)
        if first_sync is not None:
            facts.first_sync_at, facts.first_sync_source = first_sync, "portal"
        if user is not None:
            facts.assignments = t.assignments_of(user)
            facts.voice = t.voice_of(user)
            facts.eightbyeight = t.eightbyeight_of(user.user_principal_name, user.mail)
            self._holders_into(facts, user)
        else:
            facts.assignments = facts.voice = Answer.not_asked(NOT_FOUND_ASKED)
            facts.eightbyeight = Answer(person.eightbyeight)
        return facts

    def _holders_into(self, facts: inbound_calls.InboundFacts, user: DirectoryUser) -> None:
        """Whom else Teams gives the user's 8x8 number to, as a diagnosis asks it (from the maps)."""
        t, number = self.tenant, facts.eightbyeight_number
        if number is None or "assignments" in t.errors:
            return
        mine = user.id.lower()
        others = tuple(
            replace(t.users[key], resource_account=t.is_resource_account(key))
            for key in t.teams_holders.get(number, ())
            if key != mine and key in t.users
        )
        if not others:
            return
        facts.holders = Answer(others)
        for other in others:
            account = t.eightbyeight_of(other.user_principal_name, other.mail)
            if account.ok:
                own = account.value
                facts.holder_numbers[other.id.lower()] = (
                    next((n for n in (own.primary_number, *own.numbers) if n), None) if own else None
                )

    def _outbound_facts(self, person: Person) -> outbound_calls.OutboundFacts:
        user = person.user
        facts = outbound_calls.OutboundFacts(
            now=self.now, query=person.query, user=Answer(user), matches=1, period=self.period
        )
        if user is None:
            facts.assignments = facts.voice = Answer.not_asked(NOT_FOUND_ASKED)
            facts.calls = Answer.not_asked("Microsoft's call log was not searched: the user is not known.")
        else:
            facts.assignments = self.tenant.assignments_of(user)
            facts.voice = self.tenant.voice_of(user)
        return facts

    def _calls_into(
        self, person: Person, inbound: inbound_calls.InboundFacts, outbound: outbound_calls.OutboundFacts
    ) -> None:
        inbound.calls = self._calls_answer(person, "inbound", inbound.numbers)
        if person.user is not None:  # a diagnosis searches outbound calls of a known user only
            outbound.calls = self._calls_answer(person, "outbound", outbound.numbers)

    def _calls_answer(self, person: Person, direction: str, numbers: list[str]) -> Answer[CallSearch]:
        if not numbers and person.user is None:
            return Answer.not_asked(
                "Microsoft's call log was not searched: neither the user nor a number of theirs is known."
            )
        if self.calls_error is not None and not self.calls_cut:
            return Answer(error=self.calls_error)
        complete = self.calls_error is None
        return Answer(self.calls.search_for(person.key, direction, self.period, complete=complete))

    async def _first_syncs(self, people: list[Person]) -> None:
        """The first complete sync of each user, asked of the portal as a diagnosis asks it (live the
        portal has no API and knows nothing: the first-sync causes then stay undecided, as in a
        diagnosis). Kept only where known."""
        found = [p for p in people if p.user is not None]
        for start in range(0, len(found), 256):
            batch = found[start : start + 256]
            answers = await asyncio.gather(
                *(self.s.portal.first_complete_sync(p.user) for p in batch), return_exceptions=True
            )
            for person, answer in zip(batch, answers, strict=True):
                if isinstance(answer, datetime):
                    self.first_syncs[person.key] = as_utc(answer)

    # -- what only the whole tenant shows ---------------------------------------------------------

    def _conflicts(self, people: list[Person]) -> dict[str, list[dict[str, str | None]]]:
        """Person key -> the other people Teams gives their 8x8 number to."""
        t = self.tenant
        if "8x8" in t.errors or "assignments" in t.errors:
            return {}
        out: dict[str, list[dict[str, str | None]]] = {}
        for person in people:
            account = person.eightbyeight
            if account is None:
                continue
            mine = person.user.id.lower() if person.user else None
            for number in dict.fromkeys(n for n in (account.primary_number, *account.numbers) if n):
                for holder in t.teams_holders.get(number, ()):
                    other = t.users.get(holder)
                    if holder == mine or other is None:
                        continue
                    out.setdefault(person.key, []).append(
                        {
                            "number": number,
                            "id": other.id,
                            "userPrincipalName": other.user_principal_name,
                            "displayName": other.display_name,
                            "kind": "resourceAccount" if t.is_resource_account(holder) else "user",
                        }
                    )
        return out

    def _inbound_cause(
        self,
        person: Person,
        facts: inbound_calls.InboundFacts,
        verdict: Verdict,
        conflicts: dict[str, list[dict[str, str | None]]],
    ) -> str:
        if person.key in conflicts and verdict.cause not in ACCOUNT_CAUSES:
            return "number-conflict"
        if verdict.cause == NO_FAULT or not _shows_problem(verdict, facts):
            state = _activation(facts)
            if state in PENDING_STATES:
                return "number-activation-pending"
            if state in FAILED_STATES:
                return "number-activation-failed"
        return verdict.cause

    def _subject(
        self, person: Person, facts: Any, facts_in: inbound_calls.InboundFacts, verdict: Verdict
    ) -> SweepSubject:
        user, account = person.user, person.eightbyeight
        log_ = facts.call_log
        failed = log_.failed_count if facts.calls.ok else 0
        state = _activation(facts)
        return SweepSubject(
            key=person.key,
            id=user.id if user else None,
            user_principal_name=user.user_principal_name if user else person.query,
            display_name=user.display_name if user else (account.display_name if account else None),
            eightbyeight_number=facts_in.eightbyeight_number,
            teams_number=facts.teams_number,
            failed_calls=failed,
            last_failed_at=_last_failure(facts.calls.value, log_.direction) if failed else None,
            confidence=verdict.confidence,
            alternatives=list(verdict.alternatives),
            activation_state=state if state and state != "activated" else None,
            kind=facts_in.subject_kind,
        )


_WHAT = {
    "users": "Microsoft 365's users",
    "assignments": "Teams' number assignments",
    "voice": "the Teams voice settings",
    "8x8": "8x8's users",
    "calls": "Microsoft's call log",
}
_WITHOUT = {
    "users": "nobody could be checked.",
    "assignments": "the numbers Teams holds come from the voice settings alone.",
    "voice": "whether Enterprise Voice is on is not known.",
    "8x8": "this sweep reconciles what Graph alone shows: no 8x8 numbers to compare Teams' with, "
    "no 8x8 users without a Microsoft 365 account, no numbers given to two people.",
}


def _note(what: str, problem: str, calls: CallCounts) -> str:
    if what == "calls":
        if calls.pages:
            return (
                f"{problem} Microsoft's call log was read in part: {calls.rows:,} calls in {calls.pages:,} "
                "pages were counted; there may be more failed calls."
            )
        return f"{problem} No failed call could be counted."
    return f"{problem} Without {_WHAT[what]}, {_WITHOUT[what]}"


def _forget(tenant: Tenant, what: str) -> None:
    if what == "users":
        tenant.users.clear()
    elif what == "assignments":
        tenant.assignments.clear()
        tenant.teams_holders.clear()
    elif what == "voice":
        tenant.voice.clear()
    elif what == "8x8":
        tenant.eightbyeight.clear()
        tenant.eightbyeight_read_alone = 0


def _shows_problem(verdict: Verdict, facts: Any) -> bool:
    """Whether a person is listed under their cause: it holds, or (undecided for want of a source
    or of the first sync time) their calls did fail in the period. A cause only `possible` because
    nothing could be seen is not a finding: `counted.undecided` counts those people instead."""
    if verdict.cause == NO_FAULT:
        return False
    return verdict.confidence != "possible" or (facts.calls.ok and facts.call_log.any_failure is True)


def _activation(facts: Any) -> str | None:
    assignment = facts.teams_assignment
    return assignment.activation_state if assignment is not None else None


def _last_failure(search: CallSearch | None, direction: str) -> datetime | None:
    if search is None:
        return None
    times = [
        tally.newest
        for (d, sip, sub), tally in search.signatures.items()
        if d == direction and tally.newest is not None and is_failure(d, sip, sub)
    ]
    return max(times) if times else None


def _read_alone_note(count: int) -> str:
    people = "user" if count == 1 else "users"
    return (
        f"8x8's user list gave {count:,} {people} without their numbers (no serviceInfo): "
        f"{'it was' if count == 1 else 'they were'} read one by one before counting as having no number."
    )
