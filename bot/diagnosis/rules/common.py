"""What the rules of every problem share: answers from sources, and choosing the cause.

Why tri-state: a cause can hold, not hold, or be undecidable because a source did not answer
(Graph not configured, 8x8 timed out, the portal has no API). The rules never turn "could not see"
into "is fine"; an undecidable cause ahead of the chosen one lowers the confidence and is listed in
`alternatives`, so the person asking knows what would settle it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.diagnosis.model import Action, Check, Confidence, Diagnosis, Evidence, Subject, SupportRequest

if TYPE_CHECKING:
    from bot.diagnosis.playbook import CauseWords

T = TypeVar("T")

ADMIN_8X8_URL = "https://admin.8x8.com"
M365_ADMIN_URL = "https://admin.microsoft.com"
TEAMS_ADMIN_USERS_URL = "https://admin.teams.microsoft.com/users"
CORRELATION_PLACEHOLDER = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
# Characters that make a word a name rather than an ordinary word (see `sentence`).
NAME_MARKS = re.compile(r"[@./:+\d_]")


@dataclass
class Answer(Generic[T]):
    """What one source said: `value` (None can be an answer: "no such user"), or why it could not.

    `asked` is False when the engine did not ask (nothing to ask about, or told by the admin);
    `error` then says why, in a sentence fit for a check's detail.
    """

    value: T | None = None
    error: str | None = None
    asked: bool = True

    @property
    def ok(self) -> bool:
        return self.asked and self.error is None

    @classmethod
    def not_asked(cls, why: str) -> Answer[T]:
        return cls(error=why, asked=False)


def not_asked_yet() -> Any:
    """A facts field for an `Answer` the engine fills in once it asks the source."""
    return field(default_factory=lambda: Answer.not_asked("not asked"))


@dataclass
class Verdict:
    cause: str
    confidence: Confidence
    alternatives: list[str] = field(default_factory=list)
    recheck_at: datetime | None = None
    needs: list[str] = field(default_factory=list)


def verdict_diagnosis(
    problem: str,
    verdict: Verdict,
    words: CauseWords,
    *,
    now: datetime,
    data_source: str,
    subject: Subject | None,
    checks: list[Check],
    evidence: Evidence,
    actions: list[Action],
    support_request: SupportRequest | None = None,
) -> Diagnosis:
    """The diagnosis of a verdict: its cause, confidence, alternatives, re-check time and needs, in the cause's words."""
    return Diagnosis(
        problem=problem,
        cause=verdict.cause,
        title=words.title,
        confidence=verdict.confidence,
        subject=subject,
        checks=checks,
        evidence=evidence,
        actions=actions,
        support_request=support_request,
        alternatives=verdict.alternatives,
        recheck_at=verdict.recheck_at,
        data_source=data_source,  # type: ignore[arg-type]
        summary=words.summary,
        checked_at=now,
        needs=verdict.needs,
    )


def choose_cause(
    priority: Sequence[str],
    holds: Mapping[str, bool | None],
    *,
    decisive_unknowns: frozenset[str] = frozenset(),
) -> Verdict:
    """The first cause in `priority` that holds; undecidable causes before it become alternatives.

    Confidence: `confirmed` when nothing before the cause was undecidable; `possible` when the cause
    itself is undecidable, or when one of `decisive_unknowns` (a cause that a single missing fact
    would decide, e.g. the first sync time) is among the alternatives; `likely` otherwise.
    """
    undecided: list[str] = []
    for cause in priority:
        verdict = holds.get(cause)
        if verdict is True:
            if not undecided:
                return Verdict(cause, "confirmed")
            confidence: Confidence = "possible" if decisive_unknowns & set(undecided) else "likely"
            return Verdict(cause, confidence, alternatives=undecided)
        if verdict is None:
            undecided.append(cause)
    if undecided:
        return Verdict(undecided[0], "possible", alternatives=undecided[1:])
    return Verdict(priority[-1], "possible")


def sentence(text: str) -> str:
    """One sentence, ending with a full stop, whatever a source's message looked like.

    The first letter is capitalised only when the first word is an ordinary word: a domain, a UPN,
    a number or a URL is written as it is (`a1b2.voice.8x8.example`, never `A1b2.voice…`).
    """
    text = " ".join(str(text).split())
    if not text:
        return "No reason was given."
    if not _is_name(text.split(" ", 1)[0]):
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _is_name(word: str) -> bool:
    """A domain, UPN/e-mail address, phone number, URL or id: its letters' case is not ours to change."""
    word = word.rstrip(",;:")
    return bool(NAME_MARKS.search(word))


def unknown(check_id: str, title: str, source: str, why: str, link: str | None = None) -> Check:
    return Check(check_id, title, "unknown", sentence(why), source, link)


def count(n: int, noun: str) -> str:
    """`1 call`, `2 calls`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def join_names(names: Sequence[str], limit: int = 6) -> str:
    """`a`, `a and b`, `a, b and c`, `a, b, c and 4 more`."""
    names = list(names)
    if not names:
        return ""
    if len(names) > limit:
        shown = names[: limit - 1]
        return f"{', '.join(shown)} and {len(names) - len(shown)} more"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"
