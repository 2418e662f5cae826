"""Every phrasing of the corpus (tests/data/phrases.jsonl) gives its expected request: adding a
phrasing people use is adding a row there (and, if need be, its words to bot/language/phrases.json)."""

from __future__ import annotations

import pytest

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
