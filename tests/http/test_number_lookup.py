"""Finding the person from the number the helpdesk heard, through the Graph and 8x8 fakes (issue 14).

Both services are real HTTPS servers on loopback and the engine, the Graph source and the 8x8
source run unchanged: a number is looked up among Teams' number assignments, the users' phone
fields and 8x8's users (one scroll of `/users`, since 8x8 documents no filter on numbers); national
numbers are read in the tenant's country (`organization.countryLetterCode`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.errors import InputError
from bot.sources.http import RetryPolicy
from tests.fakes.eightbyeight_server import USERS_PATH, FakeEightByEight, make_extension, make_user
from tests.fakes.graph_fixtures import ADELE, DARA, graph_user, number_assignment
from tests.fakes.graph_server import FakeTenant
from tests.http.graph_helpers import live_engine, run_bot

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
FAST = RetryPolicy(attempts=3, total_seconds=20.0, request_timeout=2.0, base_backoff=0.01)
ADELE_8X8 = "+14255550199"  # the number callers dial; Teams holds ADELE.number (+14255550101)
ABROAD_ID = "6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b"


def eight_user(upn: str, number: str) -> dict:
    return make_user(upn, email=upn, extensions=[make_extension(number, [number])])


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return FAST


@pytest.fixture
async def eightbyeight(trust_test_ca) -> AsyncIterator[FakeEightByEight]:
    async with FakeEightByEight(trust_test_ca, users=[eight_user(ADELE.upn, ADELE_8X8)]) as server:
        yield server


@pytest.fixture
def engine(fake, eightbyeight, http, clock) -> Engine:
    return live_engine(fake, http, clock, eightbyeight)


@pytest.fixture
def graph_only(fake, http, clock) -> Engine:
    """No EIGHTBYEIGHT_API_KEY: only Microsoft's side can be searched."""
    return live_engine(fake, http, clock)


def names(users) -> list[str]:
    return [u.display_name for u in users]


def abroad(tenant: FakeTenant, country: str, number: str, *, business_phone: str | None = None) -> None:
    """The tenant in `country`, with a user holding `number` in Teams."""
    tenant.organization["countryLetterCode"] = country
    tenant.users.append(
        graph_user(
            ABROAD_ID, "sam.abroad@contoso.com", "Sam Abroad", business_phones=[business_phone or number]
        )
    )
    tenant.number_assignments.append(number_assignment(number, ABROAD_ID))


# ---------------------------------------------------------------------------------------------
# Both sides


async def test_by_the_8x8_number_teams_does_not_hold(engine, eightbyeight):
    lookup = await engine.look_up("+1 (425) 555-0199")

    assert names(lookup.users) == ["Adele Vance"] and lookup.number == ADELE_8X8
    assert lookup.owners is not None and names(lookup.owners.teams) == []
    [scan] = eightbyeight.list_requests()
    assert scan.params == {"pageSize": "1000"}  # 8x8 has no number filter: one scroll of /users

    diagnosis = await engine.diagnose(DiagnosisRequest(user="+1 425 555 0199"))
    assert diagnosis.cause == "number-mismatch"
    assert diagnosis.subject is not None and diagnosis.subject.user_principal_name == ADELE.upn
    check = diagnosis.check("number-owner")
    assert check is not None and check.status == "pass"
    assert "8x8 gives +1 425-555-0199 to Adele Vance" in check.detail
    scans = [r for r in eightbyeight.list_requests() if "filter" not in r.params]
    assert len(scans) == 1  # the number map is kept: no second scroll (the rest are user searches)


async def test_by_the_teams_number(engine):
    lookup = await engine.look_up("425.555.0101")

    assert names(lookup.users) == ["Adele Vance"]
    assert lookup.owners is not None and names(lookup.owners.teams) == ["Adele Vance"]
    assert lookup.owners.eightbyeight == ()  # 8x8 gives Adele another number


async def test_a_number_on_two_people_diagnoses_the_8x8_owner_and_says_so(engine, eightbyeight):
    eightbyeight.users[0] = eight_user(ADELE.upn, DARA.number)  # 8x8: Dara's Teams number is Adele's

    lookup = await engine.look_up(DARA.number)
    assert names(lookup.users) == ["Adele Vance"]
    assert lookup.owners is not None and names(lookup.owners.conflicting_teams_owners) == ["Dara O'Brien"]

    diagnosis = await engine.diagnose(DiagnosisRequest(user="+1 425 555 0142"))
    assert diagnosis.subject is not None and diagnosis.subject.display_name == "Adele Vance"
    check = diagnosis.check("number-owner")
    assert check is not None and check.status == "fail"
    assert "8x8 gives +1 425-555-0142 to Adele Vance" in check.detail
    assert "Teams gives it to Dara O'Brien" in check.detail


async def test_a_number_only_in_someones_phone_field_is_no_conflict(tenant, engine, eightbyeight):
    # Dara typed Adele's 8x8 number into her business phone; Teams assigns it to nobody.
    tenant.users = [u for u in tenant.users if u["id"] != DARA.id]
    tenant.users.append(graph_user(DARA.id, DARA.upn, "Dara O'Brien", business_phones=[ADELE_8X8]))

    lookup = await engine.look_up(ADELE_8X8)
    assert names(lookup.users) == ["Adele Vance"]  # 8x8's holder, with her account
    assert lookup.owners is not None and names(lookup.owners.phone_fields) == ["Dara O'Brien"]
    assert lookup.owners.conflicting_teams_owners == ()  # reverse number lookup does not read phone fields

    diagnosis = await engine.diagnose(DiagnosisRequest(user=ADELE_8X8))
    check = diagnosis.check("number-owner")
    assert check is not None and check.status == "pass" and "Dara" not in check.detail


async def test_a_number_8x8_gives_someone_without_an_account(engine, eightbyeight):
    eightbyeight.add_user(eight_user("sam@contoso.com", "+14255550155"))

    lookup = await engine.look_up("+1 425 555 0155")

    assert lookup.users == [] and [u.user_name for u in lookup.eightbyeight_only] == ["sam@contoso.com"]


async def test_the_named_number_follows_a_picked_user(engine):
    diagnosis = await engine.diagnose(DiagnosisRequest(user_id=ADELE.id, named_number="(425) 555-0199"))

    check = diagnosis.check("number-owner")
    assert check is not None and check.status == "pass" and "Adele Vance" in check.detail


async def test_without_a_number_there_is_no_owner_check(engine):
    diagnosis = await engine.diagnose(DiagnosisRequest(user=ADELE.upn))
    assert diagnosis.check("number-owner") is None


# ---------------------------------------------------------------------------------------------
# National numbers, by the tenant's country


@pytest.mark.parametrize(
    ("country", "number", "national"),
    [
        ("GB", "+442079460123", "020 7946 0123"),
        ("DE", "+4930901820", "030 901820"),
        ("FR", "+33123456789", "01 23 45 67 89"),
        ("AU", "+61293744000", "(02) 9374 4000"),
        ("US", "+14255550188", "(425) 555-0188"),
    ],
)
async def test_a_national_number_in_the_tenants_country(tenant, fake, graph_only, country, number, national):
    abroad(tenant, country, number)

    lookup = await graph_only.look_up(national)

    assert names(lookup.users) == ["Sam Abroad"] and lookup.number == number
    [org] = fake.graph_requests("^/v1.0/organization$")
    assert org.query == {"$select": "id,countryLetterCode"}


async def test_a_phone_field_written_nationally_is_read_in_the_tenants_country(tenant, engine):
    tenant.organization["countryLetterCode"] = "GB"
    tenant.users.append(
        graph_user(ABROAD_ID, "sam.abroad@contoso.com", "Sam Abroad", business_phones=["020 7946 0999"])
    )

    assert names(await engine.find_users("+44 20 7946 0999")) == ["Sam Abroad"]


async def test_a_national_number_of_a_user_abroad_in_a_us_tenant(tenant, engine):
    tenant.users.append(
        {**graph_user(ABROAD_ID, "sam.abroad@contoso.com", "Sam Abroad"), "usageLocation": "GB"}
    )
    tenant.number_assignments.append(number_assignment("+442079460123", ABROAD_ID))

    lookup = await engine.look_up("020 7946 0123")

    assert names(lookup.users) == ["Sam Abroad"] and lookup.number == "+442079460123"


async def test_without_organization_read_national_numbers_are_read_in_the_us(tenant, engine):
    tenant.granted.discard("Organization.Read.All")

    assert names(await engine.find_users("(425) 555-0101")) == ["Adele Vance"]


# ---------------------------------------------------------------------------------------------
# Partial input


async def test_last_digits_of_the_8x8_number(engine):
    lookup = await engine.look_up("0199")
    assert names(lookup.users) == ["Adele Vance"] and lookup.number == ADELE_8X8


async def test_last_digits_of_a_teams_number(engine):
    assert names(await engine.find_users("0142")) == ["Dara O'Brien"]


async def test_last_digits_on_several_people_are_candidates_never_a_guess(tenant, engine):
    tenant.users.append(graph_user(ABROAD_ID, "sam@contoso.com", "Sam Other"))
    tenant.number_assignments.append(number_assignment("+12065550142", ABROAD_ID))

    assert sorted(names(await engine.find_users("0142"))) == ["Dara O'Brien", "Sam Other"]
    with pytest.raises(InputError) as raised:
        await engine.diagnose(DiagnosisRequest(user="0142"))
    assert "matches 2 users" in str(raised.value)


async def test_too_few_digits_is_one_sentence(engine):
    with pytest.raises(InputError) as raised:
        await engine.find_users("42")
    assert "at least 4 digits" in str(raised.value)


@pytest.mark.parametrize(("typed", "found"), [("Vance", ["Adele Vance"]), ("Dara", ["Dara O'Brien"])])
async def test_a_first_or_last_name(engine, typed, found):
    assert names(await engine.find_users(typed)) == found


async def test_without_an_8x8_key_a_number_teams_does_not_hold_asks_for_the_email(graph_only):
    lookup = await graph_only.look_up("+1 425 555 0199")

    assert lookup.users == []
    assert lookup.ask_for_email is not None and "e-mail" in lookup.ask_for_email
    assert "EIGHTBYEIGHT_API_KEY" in lookup.ask_for_email


async def test_8x8_failing_still_finds_the_teams_holder_and_says_what_was_not_read(engine, eightbyeight):
    eightbyeight.fail(503, times=None, path=USERS_PATH)

    lookup = await engine.look_up(DARA.number)

    assert names(lookup.users) == ["Dara O'Brien"]
    assert lookup.eightbyeight_error is not None and "HTTP 503" in lookup.eightbyeight_error


# ---------------------------------------------------------------------------------------------
# The command line: a UK national number in a GB tenant


async def test_cli_resolves_a_uk_national_number_in_a_gb_tenant(tenant, fake, tmp_path: Path):
    abroad(tenant, "GB", "+442079460123", business_phone="020 7946 0123")
    first_sync = (datetime.now(UTC) - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")

    code, out, err = await run_bot(
        "diagnose",
        "--user",
        "020 7946 0123",
        "--first-sync-at",
        first_sync,
        "--json",
        env=fake.env(),
        cwd=tmp_path,
        timeout=90,
    )

    assert code == 0, err
    diagnosis = json.loads(out)
    assert diagnosis["subject"]["displayName"] == "Sam Abroad"
    assert diagnosis["subject"]["phoneNumbers"]["teams"] == "+442079460123"  # JSON keeps E.164
