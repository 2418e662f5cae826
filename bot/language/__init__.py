"""What people type + the conversation's case -> a structured request; words as data.

The domain of language: no Bot Framework, cards or dialogs. `interpret` is the one entry; the
words it reads are in `phrases.json`.
"""

from bot.language.interpret import interpret
from bot.language.periods import warm_up
from bot.language.request import CALL_PROBLEMS, INBOUND, OUTBOUND, SYNC, ConversationCase, Period, Request

__all__ = [
    "CALL_PROBLEMS",
    "INBOUND",
    "OUTBOUND",
    "SYNC",
    "ConversationCase",
    "Period",
    "Request",
    "interpret",
    "warm_up",
]
