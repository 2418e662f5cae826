"""Adaptive Cards: pure functions from a Diagnosis (or a question) to a card dict. No I/O here."""

from cards.context import CardContext, CaseSummary
from cards.conversation import (
    ask_8x8_number_card,
    ask_first_sync_card,
    ask_user_card,
    cases_card,
    choose_user_card,
    help_card,
    notice_card,
    welcome_card,
)
from cards.diagnosis import (
    diagnosis_card,
    helpdesk_report_card,
    progress_card,
    result_card,
    self_report_card,
)
from cards.time import when

__all__ = [
    "CardContext",
    "CaseSummary",
    "ask_8x8_number_card",
    "ask_first_sync_card",
    "ask_user_card",
    "cases_card",
    "choose_user_card",
    "diagnosis_card",
    "help_card",
    "helpdesk_report_card",
    "notice_card",
    "progress_card",
    "result_card",
    "self_report_card",
    "welcome_card",
    "when",
]
