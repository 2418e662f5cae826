"""The conversation layer's edge to `bot.language`: what the person wants, from what they typed.

The parsing lives in `bot/language` (words as data in `phrases.json`); the names dialogs and tests
have always used are kept here.
"""

from bot.language.commands import (
    Intent,
    could_be_a_person,
    first_phone_number,
    last_digits,
    mentioned_user,
    named_person,
    problem_named,
    recognise,
    take_period,
)
from bot.language.interpret import interpret
from bot.language.request import ConversationCase, Period, Request

__all__ = [
    "ConversationCase",
    "Intent",
    "Period",
    "Request",
    "could_be_a_person",
    "first_phone_number",
    "interpret",
    "last_digits",
    "mentioned_user",
    "named_person",
    "problem_named",
    "recognise",
    "take_period",
]
