"""What both databases hold, and how a case row becomes a `Case` and back.

Two tables (PostgreSQL: `timestamptz` and `json` columns; SQLite: ISO 8601 text, which sorts like
time because every value is written in one fixed-width UTC format):

- `voice_doctor_state`: bot state items (conversation, dialog, user state) by storage key, each with
  its eTag and its jsonpickle document;
- `voice_doctor_cases`: one row per case. The whole case is the JSON `document`; the columns the
  queries need are kept beside it, and the follow-up lease lives only in columns. `status` and
  `recheck_at` columns are authoritative (follow-up bookkeeping changes them without rewriting the
  document), so a case is read as its document with those columns laid over it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.cases.model import CASE_STATUSES, Case
from bot.diagnosis.times import as_utc

SCHEMA_VERSION = 1
STATE_TABLE = "voice_doctor_state"
CASES_TABLE = "voice_doctor_cases"
META_TABLE = "voice_doctor_meta"


def case_document(case: Case) -> str:
    return json.dumps(case.to_json(), ensure_ascii=False, separators=(",", ":"))


def case_from_row(
    document: str | dict[str, Any], status: str, recheck_at: datetime | None, attempts: int
) -> Case:
    data = json.loads(document) if isinstance(document, str) else document
    case = Case.from_json(data)
    case.status = status if status in CASE_STATUSES else case.status  # type: ignore[assignment]
    case.recheck_at = as_utc(recheck_at) if recheck_at else None
    case.followup_attempts = int(attempts or 0)
    return case
