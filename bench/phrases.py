"""Item 8: what people type. The phrase corpus (tests/data/phrases.jsonl) interpreted in process:
the share understood as its rows expect (`phrases_understood`, target 100 %) and the time of one
interpretation alone (`phrase_ms`, p99 over every row, several rounds; target <= 5 ms).

dateparser is warmed first, as the app does at start-up: its first parse (~100 ms) is start-up
time, not a turn's. The time is the thread's CPU time: interpretation does no I/O, and on a shared
two-core machine wall time would measure the scheduler (a 12 ms time slice lost now and then).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.measure import percentile
from bot.language import ConversationCase, interpret, warm_up
from tests.phrase_corpus import NOW, ZONE, mismatches, rows


@dataclass(frozen=True)
class PhraseResult:
    rows: int
    understood: int
    p50_ms: float
    p99_ms: float
    misread: list[str]

    @property
    def share(self) -> float:
        return 100.0 * self.understood / self.rows if self.rows else 0.0


def measure(rounds: int) -> PhraseResult:
    warm_up(NOW)
    corpus = rows()
    cases = [ConversationCase.from_json(row.get("case")) for row in corpus]
    samples: list[float] = []
    understood, misread = 0, []
    for round_ in range(rounds):
        for row, case in zip(corpus, cases, strict=True):
            start = time.thread_time()
            request = interpret(row["text"], case, now=NOW, time_zone=ZONE)
            samples.append((time.thread_time() - start) * 1000.0)
            if round_ == 0:
                if mismatches(row, request):
                    misread.append(row["text"])
                else:
                    understood += 1
    return PhraseResult(len(corpus), understood, percentile(samples, 50), percentile(samples, 99), misread)
