"""Cases: every diagnosis kept, re-checked when its wait is over, and resolved.

- `bot.cases.model`: the `Case` and the pure functions that change it;
- `bot.cases.store`: the `CaseStore` interface (durable backends are in `bot.state`);
- `bot.cases.followup`: what a follow-up message says.

No Bot Framework in here: conversation references are plain dicts.
"""

from bot.cases.followup import FollowUpOutcome, describe_followup
from bot.cases.model import (
    ACTIVE_STATUSES,
    CASE_STATUSES,
    Case,
    CaseStatus,
    new_case,
    new_case_id,
    status_for,
)
from bot.cases.store import CaseExistsError, CaseNotFoundError, CaseStore, CaseStoreBase

__all__ = [
    "ACTIVE_STATUSES",
    "CASE_STATUSES",
    "Case",
    "CaseExistsError",
    "CaseNotFoundError",
    "CaseStatus",
    "CaseStore",
    "CaseStoreBase",
    "FollowUpOutcome",
    "describe_followup",
    "new_case",
    "new_case_id",
    "status_for",
]
