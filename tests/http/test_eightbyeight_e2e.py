"""The number-mismatch rule end to end: 8x8's number from the 8x8 fake, Teams' from the Graph fake.

Both services are real HTTPS servers on loopback; the engine, the Graph source and the 8x8
source run unchanged. The acceptance of issue 5: a user whose 8x8 number differs from the Teams
number gets `number-mismatch`; with the 8x8 API failing the diagnosis still completes, its 8x8
check `unknown` with the reason, and `python -m bot diagnose` exits 0.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.model import Diagnosis
from bot.sources.http import RetryPolicy
from tests.fakes.eightbyeight_server import FakeEightByEight, make_extension, make_user
from tests.fakes.graph_fixtures import ADELE, DARA, Clock, contoso
from tests.fakes.graph_server import FakeMicrosoft
from tests.http.graph_helpers import live_engine, run_bot

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
FAST = RetryPolicy(attempts=3, total_seconds=20.0, request_timeout=2.0, base_backoff=0.01)
OTHER_NUMBER = "+14255550199"


def eight_user(upn: str, number: str, *, user_name: str | None = None) -> dict:
    return make_user(user_name or upn, email=upn, extensions=[make_extension(number, [number])])


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def microsoft(trust_test_ca) -> AsyncIterator[FakeMicrosoft]:
    async with FakeMicrosoft(trust_test_ca, contoso(NOW)) as server:
        yield server


@pytest.fixture
async def eightbyeight(trust_test_ca) -> AsyncIterator[FakeEightByEight]:
    async with FakeEightByEight(trust_test_ca) as server:
        yield server


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return FAST


@pytest.fixture
def engine(microsoft, eightbyeight, http, clock) -> Engine:
    return live_engine(microsoft, http, clock, eightbyeight)


async def diagnose(engine: Engine, user: str, **extra) -> Diagnosis:
    return await engine.diagnose(DiagnosisRequest(user=user, first_sync_at=NOW - timedelta(days=10), **extra))


# ---------------------------------------------------------------------------------------------
# In process: engine + Graph source + 8x8 source


async def test_a_different_8x8_number_is_a_number_mismatch(engine, eightbyeight):
    eightbyeight.add_user(eight_user(ADELE.upn, OTHER_NUMBER))

    diagnosis = await diagnose(engine, ADELE.upn)

    assert diagnosis.cause == "number-mismatch" and diagnosis.data_source == "live"
    assert diagnosis.subject is not None
    assert (diagnosis.subject.eightbyeight_number, diagnosis.subject.teams_number) == (
        OTHER_NUMBER,
        ADELE.number,
    )
    check = diagnosis.check("8x8-number")
    assert check is not None and check.status == "pass" and check.source == "8x8"
    assert OTHER_NUMBER in check.detail
    teams = diagnosis.check("teams-number")
    assert teams is not None and teams.status == "fail"
    assert OTHER_NUMBER in teams.detail and ADELE.number in teams.detail
    assert eightbyeight.requests and all(r.api_key_ok for r in eightbyeight.requests)


async def test_the_same_number_in_another_format_is_no_mismatch(engine, eightbyeight):
    eightbyeight.add_user(eight_user(ADELE.upn, "1 (425) 555-0101"))

    diagnosis = await diagnose(engine, ADELE.upn)

    assert diagnosis.cause != "number-mismatch" and "number-mismatch" not in diagnosis.alternatives
    assert diagnosis.subject is not None and diagnosis.subject.eightbyeight_number == ADELE.number
    teams = diagnosis.check("teams-number")
    assert teams is not None and teams.status == "pass"


async def test_a_user_found_only_by_an_email_with_a_quote(engine, eightbyeight):
    eightbyeight.add_user(eight_user(DARA.upn, OTHER_NUMBER, user_name="dara.obrien@contoso.com"))

    diagnosis = await diagnose(engine, DARA.upn)

    assert diagnosis.cause == "number-mismatch"
    assert diagnosis.subject is not None and diagnosis.subject.eightbyeight_number == OTHER_NUMBER
    filters = [r.params.get("filter") for r in eightbyeight.requests]
    assert filters[0] == 'basicInfo.primaryEmail=="dara.o\'brien@contoso.com"'


async def test_8x8_failing_leaves_an_unknown_check_with_the_reason(engine, eightbyeight):
    eightbyeight.add_user(eight_user(ADELE.upn, OTHER_NUMBER))
    eightbyeight.fail(503, times=None)

    diagnosis = await diagnose(engine, ADELE.upn)

    check = diagnosis.check("8x8-number")
    assert check is not None and check.status == "unknown" and check.source == "8x8"
    assert "HTTP 503" in check.detail and "8x8" in check.detail
    assert diagnosis.cause != "number-mismatch"
    assert diagnosis.subject is not None and diagnosis.subject.teams_number == ADELE.number
    assert len(eightbyeight.requests) == FAST.attempts  # bounded: one search, its retries, no more


async def test_a_key_8x8_has_not_enabled_says_so(engine, eightbyeight):
    eightbyeight.fail(401, times=None)

    diagnosis = await diagnose(engine, ADELE.upn)

    check = diagnosis.check("8x8-number")
    assert check is not None and check.status == "unknown"
    assert "create a new API key" in check.detail


async def test_without_a_key_the_admins_number_still_decides(microsoft, http, clock):
    engine = live_engine(microsoft, http, clock)

    told = await diagnose(engine, ADELE.upn, eightbyeight_number="+1 425 555 0199")
    untold = await diagnose(engine, ADELE.upn)

    assert told.cause == "number-mismatch"
    check = told.check("8x8-number")
    assert check is not None and check.source == "admin"
    check = untold.check("8x8-number")
    assert check is not None and check.status == "unknown" and "EIGHTBYEIGHT_API_KEY" in check.detail


# ---------------------------------------------------------------------------------------------
# The command line, configured only through the environment


async def run_cli(*fakes, tmp_path: Path, args: tuple[str, ...]) -> tuple[int, dict | None, str]:
    env: dict[str, str] = {}
    for fake in fakes:
        env.update(fake.env())
    code, out, err = await run_bot("diagnose", *args, "--json", env=env, cwd=tmp_path, timeout=90)
    return code, json.loads(out) if out.strip() else None, err


def cli_args(user: str) -> tuple[str, ...]:
    first_sync = (datetime.now(UTC) - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ("--user", user, "--first-sync-at", first_sync)


async def test_cli_number_mismatch_with_both_fakes(microsoft, eightbyeight, tmp_path):
    eightbyeight.add_user(eight_user(ADELE.upn, OTHER_NUMBER))

    code, diagnosis, err = await run_cli(microsoft, eightbyeight, tmp_path=tmp_path, args=cli_args(ADELE.upn))

    assert code == 0, err
    assert diagnosis is not None and diagnosis["cause"] == "number-mismatch"
    assert diagnosis["subject"]["phoneNumbers"] == {"8x8": OTHER_NUMBER, "teams": ADELE.number}
    assert eightbyeight.api_key not in err


async def test_cli_with_8x8_failing_exits_0_with_the_8x8_check_unknown(microsoft, eightbyeight, tmp_path):
    eightbyeight.add_user(eight_user(ADELE.upn, OTHER_NUMBER))
    eightbyeight.fail(503, times=None)

    code, diagnosis, err = await run_cli(microsoft, eightbyeight, tmp_path=tmp_path, args=cli_args(ADELE.upn))

    assert code == 0, err
    assert diagnosis is not None and diagnosis["dataSource"] == "live"
    [check] = [c for c in diagnosis["checks"] if c["id"] == "8x8-number"]
    assert check["status"] == "unknown" and check["source"] == "8x8" and "HTTP 503" in check["detail"]
    assert diagnosis["subject"]["phoneNumbers"]["teams"] == ADELE.number
    assert eightbyeight.api_key not in err and eightbyeight.api_key not in json.dumps(diagnosis)
