"""Every phrasing of the corpus (tests/data/phrases.jsonl) gives its expected request: adding a
phrasing people use is adding a row there (and, if need be, its words to bot/language/phrases.json)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.phrase_corpus import mismatches, rows

CORPUS = rows()


def test_the_corpus_is_large_and_varied():
    assert len(CORPUS) >= 150
    kinds = {row["expect"]["kind"] for row in CORPUS}
    assert {"diagnose", "self-report", "fix", "recheck", "sweep", "help", "unknown"} <= kinds
    assert sum(1 for row in CORPUS if row.get("case")) >= 30  # follow-ups
    assert sum(1 for row in CORPUS if row["expect"].get("group")) >= 10
    assert sum(1 for row in CORPUS if row["expect"].get("since_hours")) >= 10


@pytest.mark.parametrize("row", CORPUS, ids=[f"{i}:{row['text'][:40]}" for i, row in enumerate(CORPUS)])
def test_each_phrasing_is_understood(row):
    assert mismatches(row) == {}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.booleans())
def test_any_text_gives_a_request_never_an_error(text, with_case):
    from bot.language import ConversationCase, interpret
    from tests.phrase_corpus import NOW, ZONE

    case = ConversationCase("inbound-calls", user_id="u-adele") if with_case else None
    request = interpret(text, case, now=NOW, time_zone=ZONE)
    assert request.kind
    assert all(isinstance(p, str) and p for p in request.people)
