"""What both call problems know about the user: the account, Teams Phone, no Calling Plan,
Enterprise Voice, the number Teams holds, and their calls in Microsoft's log.

Inbound and outbound calls fail for the same account-level reasons before the call log says
anything, so the facts, the check builders and the choice of words live here once; each problem's
playbook gives the checks and causes their words (titles, where to look).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import ClassVar

from bot.diagnosis.evidence import (
    CALLING_PLAN_IDS,
    RESOURCE_ACCOUNT_TYPE,
    VOICE_APPLICATION_ASSIGNED,
    CallSearch,
    DirectoryUser,
    NumberAssignment,
    VoiceConfig,
)
from bot.diagnosis.model import DEFAULT_PERIOD, Check
from bot.diagnosis.phone import to_e164
from bot.diagnosis.playbook import CauseWords, Playbook, load_playbook, render
from bot.diagnosis.rules.call_log import CallLog
from bot.diagnosis.rules.common import (
    TEAMS_ADMIN_USERS_URL,
    Answer,
    join_names,
    not_asked_yet,
    sentence,
    unknown,
)
from bot.diagnosis.rules.number_owner import RESOURCE_ACCOUNT_WORDS
from bot.diagnosis.times import format_utc

# Words that keep their capital inside a sentence (the start of a source's message).
PROPER_NOUNS = frozenset({"Microsoft", "Teams", "Graph", "Entra", "Azure", "Office", "Windows", "PowerShell"})
PENDING_STATES = frozenset({"assignmentPending", "updatePending"})
FAILED_STATES = frozenset({"assignmentFailed", "updateFailed"})


@dataclass
class UserFacts:
    """Who the user is and how Microsoft has set them up for calling, source by source."""

    problem: ClassVar[str] = ""  # each problem's facts name their problem (and so their playbook)
    direction: ClassVar[str] = ""  # and the direction of the calls that matter
    now: datetime
    query: str | None
    user: Answer[DirectoryUser]
    matches: int = 0
    assignments: Answer[list[NumberAssignment]] = not_asked_yet()
    voice: Answer[VoiceConfig] = not_asked_yet()
    zone: tzinfo = UTC  # the reader's time zone: "3 calls today" is their today
    calls: Answer[CallSearch] = not_asked_yet()
    period: tuple[datetime, datetime] | None = None  # the period asked about
    seed_cause: str | None = None  # the cause of a seed-article failure (404 / 511404), once known

    @property
    def call_log(self) -> CallLog:
        """The user's calls in this problem's direction, as read (read anew once `calls` is set)."""
        cached = self.__dict__.get("_call_log")
        resource = self.resource_account
        if cached is None or cached.answer is not self.calls or cached.resource_account != resource:
            period = self.period or (self.now - DEFAULT_PERIOD, self.now)
            seed = (lambda: self.seed_cause or "") if self.seed_cause is not None else None
            cached = CallLog(self.direction, self.calls, period, seed_cause=seed, resource_account=resource)
            self.__dict__["_call_log"] = cached
        return cached

    @property
    def found_user(self) -> DirectoryUser | None:
        return self.user.value if self.user.ok else None

    @property
    def resource_account(self) -> bool:
        """The subject is a resource account (an auto attendant's or call queue's): its Teams Phone
        Resource Account licence, Teams' `accountType`, or a number Teams gives it as a voice
        application's (FACTS.md, "Resource accounts"). Sign-in disabled is then its normal state."""
        user = self.found_user
        if user is None:
            return False
        if user.resource_account or user.resource_account_plan:
            return True
        if self.voice.ok and self.voice.value is not None:
            if self.voice.value.account_type == RESOURCE_ACCOUNT_TYPE:
                return True
        assignments = self.assignments.value if self.assignments.ok else None
        return any(a.assignment_status == VOICE_APPLICATION_ASSIGNED for a in assignments or ())

    @property
    def subject_kind(self) -> str:
        """The subject's `kind` in the JSON: "resourceAccount" or "user"."""
        return "resourceAccount" if self.resource_account else "user"

    @property
    def user_missing(self) -> bool:
        return self.user.ok and self.user.value is None

    @property
    def user_lookup_failed(self) -> bool:
        """Microsoft 365 did not answer the user lookup (sign-in or Graph failed): not "no such user"."""
        return not self.user.ok

    @property
    def user_id(self) -> str | None:
        return self.found_user.id if self.found_user else None

    @property
    def teams_assignment(self) -> NumberAssignment | None:
        """The user's primary number assignment (Direct Routing first), if Teams holds any."""
        if not self.assignments.ok or not self.assignments.value:
            return None

        def rank(a: NumberAssignment) -> tuple[int, int]:
            return (
                a.assignment_category not in (None, "primary"),
                a.number_type not in (None, "directRouting"),
            )

        return sorted(self.assignments.value, key=rank)[0]

    @property
    def teams_number_known(self) -> bool:
        return self.assignments.ok or (self.voice.ok and self.voice.value is not None)

    @property
    def teams_number(self) -> str | None:
        assignment = self.teams_assignment
        if assignment is not None:
            return to_e164(assignment.telephone_number) or assignment.telephone_number
        if self.voice.ok and self.voice.value and self.voice.value.telephone_numbers:
            raw = self.voice.value.telephone_numbers[0]
            return to_e164(raw) or raw
        return None

    @property
    def calling_plan_conflict(self) -> bool | None:
        user = self.found_user
        return None if user is None else bool(user.calling_plans)

    @property
    def enterprise_voice(self) -> bool | None:
        """Enterprise Voice as Graph says: on, off, or not known."""
        if self.found_user is None or not self.voice.ok or self.voice.value is None:
            return None
        return self.voice.value.enterprise_voice_enabled

    def words(self, check_id: str) -> tuple[str, str | None, str]:
        """A check's title, link (the user's own admin page where there is one) and where to look."""
        words = load_playbook(self.problem).check(check_id, {"user_id": self.user_id or ""})
        link = words.link
        if link and "/users//" in link:
            link = TEAMS_ADMIN_USERS_URL
        return words.title, link, words.how_to_look

    @property
    def domain(self) -> str:
        """The company's domain as 8x8 knows it: the part of the user's sign-in name after the @."""
        upn = self.found_user.user_principal_name if self.found_user else (self.query or "")
        return upn.rsplit("@", 1)[-1] if "@" in upn else "not known"

    def cause_words(
        self, playbook: Playbook, cause: str, values: dict[str, str]
    ) -> tuple[CauseWords, list[str]]:
        """The cause's words and action ids; when the cause is undecided only because Microsoft 365
        could not be read (the lookup failed), its `whenUnchecked` words say that instead of claiming it."""
        unchecked = playbook.data["causes"][cause].get("whenUnchecked")
        if unchecked and cause == "user-not-found" and self.user_lookup_failed:
            words = CauseWords(
                title=render(unchecked["title"], values),
                summary=render(unchecked["summary"], values),
                explanation=tuple(render(line, values) for line in unchecked["explanation"]),
            )
            return words, list(unchecked["actions"])
        return playbook.cause(cause, values), list(playbook.data["causeActions"][cause])

    def not_checked(self) -> str:
        if self.user_missing:
            return "Not checked: the user was not found in Microsoft 365."
        return f"Not checked: {lower_first(self.user.error)}"


# ---------------------------------------------------------------------------------------------
# Checks


def user_check(facts: UserFacts) -> Check:
    title, link, _ = facts.words("user-found")
    if facts.user_lookup_failed:
        return unknown(
            "user-found",
            title,
            "graph",
            f"{sentence(facts.user.error or 'Microsoft 365 did not answer.')} Whether a user matches "
            f"{facts.query} could not be checked: a failed lookup is not a missing user, so no such user "
            "stays only a possible cause until Microsoft 365 answers.",
            link,
        )
    user = facts.user.value
    if user is None:
        return Check(
            "user-found", title, "fail", f"No user matches {facts.query} in Microsoft 365.", "graph", link
        )
    detail = f"{user.display_name} ({user.user_principal_name}), object id {user.id}."
    if facts.resource_account:
        detail = f"{user.display_name} ({user.user_principal_name}), an {RESOURCE_ACCOUNT_WORDS}, object id {user.id}."
        if not user.account_enabled:
            detail += " Sign-in is disabled, as it should be for a resource account."
        return Check("user-found", title, "pass", detail, "graph", link)
    if not user.account_enabled:
        return Check(
            "user-found", title, "warn", f"{detail} The account is disabled (sign-in blocked).", "graph", link
        )
    return Check("user-found", title, "pass", detail, "graph", link)


def license_check(facts: UserFacts) -> Check:
    title, link, _ = facts.words("phone-license")
    user = facts.found_user
    if user is None:
        return unknown("phone-license", title, "graph", facts.not_checked(), link)
    since = f" since {format_utc(user.phone_plan_since)}" if user.phone_plan_since else ""
    if user.phone_plan_enabled:
        return Check("phone-license", title, "pass", f"Teams Phone (MCOEV) is enabled{since}.", "graph", link)
    if user.resource_account_plan:
        return Check(
            "phone-license",
            title,
            "pass",
            f"The Teams Phone Resource Account licence (MCOEV_VIRTUALUSER) is enabled{since}: the "
            "licence of an auto attendant's or call queue's resource account.",
            "graph",
            link,
        )
    if facts.resource_account:
        return Check(
            "phone-license",
            title,
            "fail",
            f"{user.display_name} is a resource account with neither the Teams Phone Resource Account "
            "licence (MCOEV_VIRTUALUSER) nor Teams Phone (MCOEV): Teams cannot take its calls.",
            "graph",
            link,
        )
    return Check(
        "phone-license",
        title,
        "fail",
        f"{user.display_name} has no enabled Teams Phone (MCOEV) service plan in their licences.",
        "graph",
        link,
    )


def calling_plan_check(facts: UserFacts) -> Check:
    title, link, how = facts.words("calling-plan")
    user = facts.found_user
    if user is None:
        return unknown("calling-plan", title, "graph", facts.not_checked(), link)
    if user.calling_plans:
        plans = join_names(list(user.calling_plans))
        return Check(
            "calling-plan",
            title,
            "fail",
            f"{user.display_name} holds an enabled Microsoft Calling Plan ({plans}). 8x8 does not sync "
            "such users: Voice for Teams users cannot be assigned a Microsoft Calling Plan.",
            "graph",
            link,
        )
    if user.calling_plans_by_id_only:
        known = join_names(sorted(set(CALLING_PLAN_IDS.values())))
        return Check(
            "calling-plan",
            title,
            "pass",
            f"No enabled Microsoft Calling Plan among those known by id ({known}) in the user's licences. "
            f"Other Calling Plans are recognised by name only, and the names could not be read: "
            f"{sentence(user.calling_plans_by_id_only)} Meanwhile the Microsoft 365 admin center shows "
            "the user's licences (Licenses and apps).",
            "graph",
            link,
        )
    return Check(
        "calling-plan",
        title,
        "pass",
        "No enabled Microsoft Calling Plan (a service plan named MCOPSTN*) in the user's licences.",
        "graph",
        link,
    )


def enterprise_voice_check(facts: UserFacts, off_words: str) -> Check:
    """`off_words` says what Enterprise Voice being off does to this problem's calls."""
    title, link, _ = facts.words("enterprise-voice")
    if facts.found_user is None:
        return unknown("enterprise-voice", title, "graph", facts.not_checked(), link)
    if not facts.voice.ok:
        return unknown("enterprise-voice", title, "graph", facts.voice.error or "", link)
    enabled = facts.enterprise_voice
    if enabled is None:
        return unknown(
            "enterprise-voice", title, "graph", "Microsoft Graph returned no Teams voice settings.", link
        )
    if enabled:
        return Check("enterprise-voice", title, "pass", "Enterprise Voice is enabled.", "graph", link)
    return Check(
        "enterprise-voice",
        title,
        "warn" if facts.problem == "inbound-calls" else "fail",
        off_words,
        "graph",
        link,
    )


def activation_check(facts: UserFacts) -> Check:
    title, link, _ = facts.words("number-activation")
    if facts.found_user is None:
        return unknown("number-activation", title, "graph", facts.not_checked(), link)
    if not facts.assignments.ok:
        return unknown("number-activation", title, "graph", facts.assignments.error or "", link)
    assignment = facts.teams_assignment
    if assignment is None:
        return unknown(
            "number-activation", title, "graph", "Not checked: Teams holds no number assignment.", link
        )
    number, state, kind = assignment.telephone_number, assignment.activation_state, assignment.number_type
    if kind and kind != "directRouting":
        return Check(
            "number-activation",
            title,
            "warn",
            f"The number {number} is a {kind} number, not Direct Routing: calls to it do not come through 8x8.",
            "graph",
            link,
        )
    if state in PENDING_STATES:
        return Check(
            "number-activation",
            title,
            "warn",
            f"Microsoft has not finished activating {number} ({state}); calls can fail until it has.",
            "graph",
            link,
        )
    if state in FAILED_STATES:
        return Check(
            "number-activation",
            title,
            "warn",
            f"Microsoft failed to activate {number} ({state}): run Sync Now in the 8x8 Voice for Teams admin portal.",
            "graph",
            link,
        )
    if state is None:
        return unknown(
            "number-activation", title, "graph", "Microsoft Graph did not give the activation state.", link
        )
    return Check("number-activation", title, "pass", f"The number {number} is {state}.", "graph", link)


def lower_first(text: str | None) -> str:
    """A source's sentence continued after "Not checked: ": lower-case its first word only when it
    is an ordinary word ("The service…"), never a name ("Microsoft sign-in…", "Teams", "8x8")."""
    text = sentence(text or "")
    first = text.split(" ", 1)[0]
    if first.isalpha() and first[1:].islower() and first not in PROPER_NOUNS:
        return text[0].lower() + text[1:]
    return text
