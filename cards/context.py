"""What a card needs to know about where and when it is shown, beyond the diagnosis itself.

Cards are pure functions: the dialog that calls them passes the clock and the conversation in, so the
same diagnosis renders the same card in a test and in Teams.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["CardContext", "CaseSummary"]


@dataclass(frozen=True)
class CardContext:
    """Where a card is shown and what its viewer may do there.

    `can_share_to_helpdesk` is decided by the caller (personal chat, a helpdesk channel is known, the
    viewer is helpdesk); the card only shows the button. `data_source` labels cards that carry no
    Diagnosis (welcome, help, cases, progress) as demo data when the bot runs on the demo tenant.
    `time_zone` is the reader's IANA zone (Teams' `localTimezone`); None shows times in UTC, and
    every card says which zone its times are in.
    """

    now: datetime
    conversation: str = "personal"  # "personal" | "channel" | "groupChat"
    case_id: str | None = None
    can_share_to_helpdesk: bool = False
    last_checked: datetime | None = None
    data_source: str | None = None  # "demo" | "live"; None when unknown
    time_zone: str | None = None  # "Europe/Berlin"; None: UTC
    # Fix it (DESIGN "Repair"): shown for a cause with a plan when the caller decided fixes are usable
    # here; else `fix_note`, one line for the helpdesk saying why fixes are off (None: say nothing).
    can_fix: bool = False
    fix_note: str | None = None


@dataclass(frozen=True)
class CaseSummary:
    """One row of the helpdesk's `cases` list."""

    id: str
    user_display_name: str
    problem: str
    cause: str
    title: str
    status: str  # "open" | "waiting" | "resolved"
    recheck_at: datetime | None
    updated_at: datetime
    last_fix: str | None = None  # "Fixed and verified by Megan Bowen" — the newest fix, in words
