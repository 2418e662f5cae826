"""The fault matrix (tests/security/faults.py): each upstream times each fault, against the local fakes.

For every pair the diagnosis completes within its time budget, the checks that depend on the
faulty upstream say `unknown` and why (naming the service and the fault), and once the fault clears
the same HTTP client gives the same diagnosis as before it. The results are kept in
docs/reliability.md (`python -m tests.security.faults` prints them).
"""

from __future__ import annotations

import re

import pytest

from tests.security.faults import BUDGET, FAULTS, UPSTREAMS, FaultKind, Upstream, cases, run_case

SERVICE = {"login": r"Microsoft (sign-in|Graph)", "graph": r"Microsoft Graph", "8x8": r"8x8"}
REASON = {
    "401": r"401|invalid_client|does not know tenant",
    "403": r"403|unauthorized_client|does not know tenant",
    "404": r"404|tenant was not found|does not know tenant|no Teams voice settings",
    "429-retry-after": r"429|busy|throttl|did not answer within",
    "429": r"429|busy|throttl|did not answer within",
    "500": r"500",
    "503": r"503",
    "truncated": r"ClientPayloadError|ChunkedEncodingError|not valid JSON|could not be reached",
    "slow": r"no answer within|did not answer within",
    "reset": r"ServerDisconnectedError|ClientOSError|ConnectionError|connection failed|could not be reached",
}
# Where the upstream's answer legitimately decides the check (documented in docs/reliability.md):
# a 404 for `/users/{upn}` means "no user with that key", and the source then searches by filter.
DECIDED_BY_THE_ANSWER = {("graph-user", "404"): {"pass"}}


@pytest.mark.parametrize(("upstream", "fault"), list(cases()), ids=[f"{u.id}-{f.id}" for u, f in cases()])
async def test_a_faulty_upstream_makes_its_checks_unknown_within_the_budget(
    trust_test_ca, upstream: Upstream, fault: FaultKind
):
    outcome = await run_case(trust_test_ca, upstream, fault)

    assert outcome.seconds < BUDGET, f"{outcome.seconds:.1f} s"
    assert outcome.hits > 0, "the fault was never hit"
    assert outcome.recovered, "after the fault cleared, the diagnosis differs from before it"
    allowed = DECIDED_BY_THE_ANSWER.get((upstream.id, fault.id), set()) | {"unknown"}
    for check_id, status, detail in outcome.affected:
        assert status in allowed, (check_id, status, detail)
        if status != "unknown":
            continue
        assert re.search(SERVICE[upstream.server], detail, re.IGNORECASE), (check_id, detail)
        assert re.search(REASON[fault.id], detail), (check_id, detail)
        assert "Traceback" not in detail and "\n" not in detail


async def test_retries_wait_as_told_and_never_in_a_tight_loop(trust_test_ca):
    """429 with Retry-After beyond the budget: one request, no wait; without it, a short bounded backoff (recorded, not slept)."""
    graph = next(u for u in UPSTREAMS if u.id == "graph-numbers")
    with_header = next(f for f in FAULTS if f.id == "429-retry-after")
    # Two questions reach numberAssignments: the user's numbers, and who holds their 8x8 number.
    outcome = await run_case(trust_test_ca, graph, with_header)
    assert outcome.hits == 2  # Retry-After (5 s) exceeds the 2 s budget: no second request of either
    without = await run_case(trust_test_ca, graph, next(f for f in FAULTS if f.id == "429"))
    assert without.hits == 2 * 3 and all(0 < s < 1 for s in without.sleeps)  # exponential backoff, bounded
