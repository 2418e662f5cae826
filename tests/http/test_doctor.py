"""`python -m bot doctor` against the fake Microsoft sign-in + Graph (and the fake 8x8 API)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.cli import doctor
from tests.fakes.eightbyeight_server import FakeEightByEight
from tests.fakes.graph_fixtures import HELPDESK_GROUP
from tests.http.graph_helpers import run_bot

PERMISSIONS = [
    "User.Read.All",
    "TeamsTelephoneNumber.Read.All",
    "TeamsUserConfiguration.Read.All",
    "CallRecords.Read.All",
    "Domain.Read.All",
    "GroupMember.Read.All",
    "RoleManagement.Read.Directory",
    "Organization.Read.All",
]


async def run_doctor(env: dict[str, str], tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """The real command in a subprocess (no .env in its directory), while this loop serves the fakes."""
    return await run_bot("doctor", *args, env=env, cwd=tmp_path, timeout=60)


def row(output: str, check: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(check + " "))


async def test_everything_granted(fake, tmp_path):
    code, out, err = await run_doctor(fake.env(HELPDESK_GROUP_ID=HELPDESK_GROUP), tmp_path)

    assert code == 0, out + err
    assert " ok " in row(out, "sign-in")
    for permission in PERMISSIONS:
        assert " ok " in row(out, permission), out
    assert "The bot can work" in out
    assert fake.tenant.client_secret not in out + err


async def test_each_missing_permission_is_named_with_the_consent_url(fake, tmp_path):
    fake.tenant.granted -= {
        "CallRecords.Read.All",
        "TeamsTelephoneNumber.Read.All",
        "RoleManagement.Read.Directory",
    }

    code, out, err = await run_doctor(fake.env(), tmp_path)

    assert code == 2, out + err
    consent = f"{fake.authority_host}/{fake.tenant.tenant_id}/adminconsent?client_id={fake.tenant.client_id}"
    for permission in (
        "CallRecords.Read.All",
        "TeamsTelephoneNumber.Read.All",
        "RoleManagement.Read.Directory",
    ):
        assert "FAIL" in row(out, permission)
        assert f"fix: grant {permission} (application permission) and give admin consent: {consent}" in out
    for permission in ("User.Read.All", "TeamsUserConfiguration.Read.All", "Domain.Read.All"):
        assert " ok " in row(out, permission)
    assert " ok " in row(out, "GroupMember.Read.All")  # optional without HELPDESK_GROUP_ID
    assert (
        "cannot work until these are fixed: TeamsTelephoneNumber.Read.All, CallRecords.Read.All, RoleManagement.Read.Directory"
        in out
    )


async def test_group_permission_is_optional_without_a_helpdesk_group(fake, tmp_path):
    fake.tenant.granted.discard("GroupMember.Read.All")

    code, out, err = await run_doctor(fake.env(), tmp_path)

    assert code == 0, out + err
    line = row(out, "GroupMember.Read.All")
    assert "warn" in line and "department and office only" in line
    assert "The bot can work" in out


async def test_group_permission_is_needed_with_a_helpdesk_group(fake, tmp_path):
    fake.tenant.granted.discard("GroupMember.Read.All")

    code, out, _ = await run_doctor(fake.env(HELPDESK_GROUP_ID=HELPDESK_GROUP), tmp_path)

    assert code == 2
    assert "FAIL" in row(out, "GroupMember.Read.All")


async def test_json_output(fake, tmp_path):
    fake.tenant.granted.discard("Domain.Read.All")

    code, out, _ = await run_doctor(fake.env(), tmp_path, "--json")

    report = json.loads(out)
    assert code == 2 and report["usable"] is False
    statuses = {c["check"]: c["status"] for c in report["checks"]}
    assert statuses["Domain.Read.All"] == "FAIL" and statuses["User.Read.All"] == "ok"


async def test_wrong_secret(fake, tmp_path):
    code, out, err = await run_doctor(fake.env(GRAPH_CLIENT_SECRET="wrong-secret-value-77"), tmp_path)

    assert code == 2
    assert "FAIL" in row(out, "sign-in") and "AADSTS7000215" in row(out, "sign-in")
    assert "wrong-secret-value-77" not in out + err
    assert "Traceback" not in err


async def test_unknown_helpdesk_group(fake, tmp_path):
    code, out, _ = await run_doctor(
        fake.env(HELPDESK_GROUP_ID="11111111-2222-4333-8444-555555555555"), tmp_path
    )

    assert code == 2
    assert "HELPDESK_GROUP_ID names no group" in row(out, "GroupMember.Read.All")


async def test_graph_down_is_a_failure_not_a_traceback(fake, tmp_path):
    fake.fail("/v1.0/domains", 503, times=-1)

    code, out, err = await run_doctor(fake.env(), tmp_path)

    assert code == 2 and "Traceback" not in err
    assert "HTTP 503" in row(out, "Domain.Read.All")


async def test_demo_mode_says_so_and_what_to_set(tmp_path):
    code, out, err = await run_doctor({}, tmp_path)

    assert code == 0, out + err
    line = row(out, "Microsoft Graph")
    assert "demo mode" in line
    assert "GRAPH_TENANT_ID, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET" in out


async def test_live_without_credentials_cannot_work(tmp_path):
    code, out, _ = await run_doctor(
        {"DIAGNOSTICS_SOURCE": "live", "GRAPH_TENANT_ID": "contoso.com"}, tmp_path
    )

    assert code == 2
    assert "GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET are not set" in row(out, "Microsoft Graph")


async def test_bad_configuration_is_one_sentence(tmp_path):
    code, out, err = await run_doctor({"GRAPH_CLOUD": "mars"}, tmp_path)

    assert code == 2 and out == ""
    assert err.strip().startswith("Configuration error: GRAPH_CLOUD='mars' is not valid")
    assert len(err.strip().splitlines()) == 1


async def test_eightbyeight_key_probed(fake, trust_test_ca, tmp_path):
    async with FakeEightByEight(trust_test_ca) as eightbyeight:
        code, out, _ = await run_doctor({**fake.env(), **eightbyeight.env()}, tmp_path)
        assert code == 0 and " ok " in row(out, "8x8 API key")

        code, out, _ = await run_doctor(
            {**fake.env(), **eightbyeight.env(EIGHTBYEIGHT_API_KEY="eght_wrong")}, tmp_path
        )
        assert code == 0  # the bot still works: the admin gives the 8x8 number instead
        assert "warn" in row(out, "8x8 API key") and "create a new API key" in out


async def test_doctor_tells_8x8_401_from_403_and_the_audit_records_apart(fake, trust_test_ca, tmp_path):
    async with FakeEightByEight(trust_test_ca) as eightbyeight:
        code, out, _ = await run_doctor({**fake.env(), **eightbyeight.env()}, tmp_path)
        assert code == 0 and " ok " in row(out, "8x8 audit records")

        eightbyeight.products.discard("audit")  # the optional product: a warning naming it
        code, out, _ = await run_doctor({**fake.env(), **eightbyeight.env()}, tmp_path)
        assert code == 0 and " ok " in row(out, "8x8 API key")
        assert "warn" in row(out, "8x8 audit records") and "Audit Records" in row(out, "8x8 audit records")

        eightbyeight.products.discard("users")  # 403: the product, not a new key
        code, out, _ = await run_doctor({**fake.env(), **eightbyeight.env()}, tmp_path)
        assert code == 0 and "warn" in row(out, "8x8 API key")
        assert "UC & CC User Admin" in out and "create a new API key" not in out


async def test_in_process_rows(fake):
    rows = await doctor.check(fake.settings())
    assert [r.check for r in rows][:3] == ["configuration", "sign-in", "User.Read.All"]
    assert rows[-1].check == "8x8 API key" and rows[-1].status == "skip"
    assert doctor.admin_consent_url(fake.settings()).endswith(
        f"/adminconsent?client_id={fake.tenant.client_id}"
    )


async def test_without_organization_read_national_numbers_only_weaken(fake, tmp_path):
    fake.tenant.granted.discard("Organization.Read.All")

    code, out, err = await run_doctor(fake.env(HELPDESK_GROUP_ID=HELPDESK_GROUP), tmp_path)

    assert code == 0, out + err  # usable: national numbers are then read as US ones
    assert "warn" in row(out, "Organization.Read.All") and "national phone numbers" in out


def fixes(rows) -> doctor.Row:
    return next(r for r in rows if r.check == "fixes")


async def test_fixes_usable_with_the_setting_and_the_permission(fake):
    row_ = fixes(await doctor.check(fake.settings(fixes=True)))

    assert row_.status == "ok" and "TeamsTelephoneNumber.ReadWrite.All" in row_.detail


async def test_fixes_off_says_what_to_set(fake):
    row_ = fixes(await doctor.check(fake.settings()))

    assert row_.status == "info" and "FIXES is off" in row_.detail and "FIXES=on" in row_.fix


async def test_fixes_without_the_permission_name_it_from_the_token(fake):
    fake.tenant.granted.discard("TeamsTelephoneNumber.ReadWrite.All")

    rows = await doctor.check(fake.settings(fixes=True))

    row_ = fixes(rows)
    assert row_.status == "warn" and "TeamsTelephoneNumber.ReadWrite.All" in row_.detail
    assert "adminconsent" in row_.fix
    assert not any(r.blocks for r in rows)  # fixes are optional: the bot still works
    assert not [r for r in fake.graph_requests("assignNumber|unassignNumber")]


async def test_fixes_in_a_national_cloud_are_off(fake):
    row_ = fixes(await doctor.check(fake.settings(fixes=True, graph_cloud="china")))

    assert row_.status == "warn" and "GRAPH_CLOUD=china" in row_.detail


async def test_demo_mode_has_fixes_on(tmp_path):
    code, out, err = await run_doctor({}, tmp_path)

    assert code == 0 and " ok " in row(out, "fixes") and "demo" in row(out, "fixes")
