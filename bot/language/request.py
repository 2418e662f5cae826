"""What a message asks for, and what the conversation was about: plain values, JSON both ways.

`Request` is what the dialogs act on. Its first fields are those of the old `Intent` (the name
`dialogs.intents.Intent` still points here) and compare as they did; the fields added for the
conversation (everyone named, whether the direction was said, the period in words) do not take
part in equality, so old expectations keep their meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

INBOUND = "inbound-calls"
OUTBOUND = "outbound-calls"
SYNC = "sync-error"
CALL_PROBLEMS = (INBOUND, OUTBOUND)


@dataclass(frozen=True)
class Period:
    """A period named in words ("yesterday afternoon"): where it starts, in the reader's zone."""

    start: datetime  # aware
    words: str  # as typed: "yesterday afternoon"

    def since(self, now: datetime) -> timedelta:
        return max(now - self.start, timedelta(minutes=1))


@dataclass(frozen=True)
class Request:
    # kind: help, cancel, diagnose, self-report, paste, cases, set-helpdesk-channel, sweep, greeting,
    # fix, recheck, unknown
    kind: str
    problem: str | None = None
    user: str | None = None  # who is affected, as typed ("adele@contoso.com", "+1 425…", "Adele Vance", "me")
    text: str | None = None  # pasted portal text
    since: timedelta | None = None  # the call-log period named ("in the last 48 hours"); None: 7 days
    group: str | None = None  # a sweep limited to a group or a place, as typed ("Sales", "Leeds")
    # Everyone the message names, in order (`user` is the first); several: each diagnosed, one card.
    people: tuple[str, ...] = field(default=(), compare=False)
    direction_stated: bool = field(default=False, compare=False)  # False: inbound by default
    period: Period | None = field(default=None, compare=False)  # a time in words; `since` is set from it
    follow_up: bool = field(default=False, compare=False)  # continues the conversation's case

    @property
    def several(self) -> bool:
        return len(self.people) > 1


@dataclass(frozen=True)
class ConversationCase:
    """What the conversation was last about: the last diagnosis's problem and person.

    Kept in the conversation's state (JSON), so "what about Alex?", "and outbound?", "again" and
    "fix it" continue from it after a restart and on another instance."""

    problem: str
    user_id: str | None = None  # the Entra object id, when the person was resolved
    user: str | None = None  # as typed or found (an 8x8-only holder's address), when no id
    name: str | None = None  # display name, for the words of an answer
    since_seconds: int | None = None  # the period asked about, if any
    case_id: str | None = None

    @property
    def who(self) -> str | None:
        return self.user_id or self.user

    def to_json(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "userId": self.user_id,
            "user": self.user,
            "name": self.name,
            "since": self.since_seconds,
            "caseId": self.case_id,
        }

    @classmethod
    def from_json(cls, data: Any) -> ConversationCase | None:
        if not isinstance(data, dict) or not isinstance(data.get("problem"), str):
            return None
        text = lambda key: data.get(key) if isinstance(data.get(key), str) else None  # noqa: E731
        since = data.get("since")
        return cls(
            problem=data["problem"],
            user_id=text("userId"),
            user=text("user"),
            name=text("name"),
            since_seconds=since if isinstance(since, int) and since > 0 else None,
            case_id=text("caseId"),
        )
