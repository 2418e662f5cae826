"""GraphSource against the strict HTTPS fake of Microsoft sign-in and Graph (msal's real token flow)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.diagnosis.errors import PermissionMissing, SourceError, SourceNotConfigured, SourceUnavailable
from bot.diagnosis.evidence import CallQuery, MicrosoftSource
from bot.sources.graph import GraphSource
from bot.sources.graph_auth import SignInFailed
from bot.sources.http import HttpClient, RetryPolicy
from tests.fakes.graph_fixtures import (
    ADELE,
    DARA,
    HELPDESK_GROUP,
    HELPER,
    NOLIC,
    NONUM,
    TEAMS_ADMIN,
    TEMPORARY_USER_NAME,
    VOICE_DOMAINS,
    contoso,
    failed_call,
    graph_user,
)
from tests.fakes.graph_server import CallList, FakeMicrosoft, parse_filter
from tests.http.graph_helpers import NOW

FAST = RetryPolicy(attempts=4, total_seconds=60.0, request_timeout=2.0, base_backoff=0.01)


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return FAST


@pytest.fixture
def source(fake, http, clock) -> GraphSource:
    # A fresh source (and so a fresh msal app) per test: msal remembers 429s across calls.
    return GraphSource(fake.settings(helpdesk_group_id=HELPDESK_GROUP), http, clock=clock)


# ---------------------------------------------------------------------------------------------
# Sign-in


async def test_msal_discovers_the_tenant_then_gets_one_token_for_many_calls(fake, source):
    assert isinstance(source, MicrosoftSource) and source.name == "graph"

    assert [u.id for u in await source.find_users(ADELE.upn)] == [ADELE.id]
    assert await source.get_user(NOLIC.id) is not None

    login = [(r.method, r.path) for r in fake.requests if r.server == "login"]
    tenant_id = fake.tenant.tenant_id
    assert login == [
        ("GET", f"/{tenant_id}/v2.0/.well-known/openid-configuration"),
        ("POST", f"/{tenant_id}/oauth2/v2.0/token"),
    ]
    assert all(r.status == 200 for r in fake.requests)


async def test_wrong_secret_is_one_sentence_without_the_secret(fake, http, clock, caplog):
    caplog.set_level(logging.DEBUG)
    settings = fake.settings(graph_client_secret="not-the-secret-Zq9")
    source = GraphSource(settings, http, clock=clock)

    with pytest.raises(SignInFailed) as caught:
        await source.find_users(ADELE.upn)

    message = str(caught.value)
    assert "AADSTS7000215" in message and "GRAPH_CLIENT_SECRET" in message
    assert message.count(".") >= 1 and "\n" not in message
    assert "not-the-secret-Zq9" not in message + caplog.text
    assert fake.tenant.client_secret not in caplog.text


async def test_unknown_tenant_says_check_the_tenant_id(fake, http, clock):
    source = GraphSource(fake.settings(graph_tenant_id="no-such-tenant.example"), http, clock=clock)

    with pytest.raises(SignInFailed, match="GRAPH_TENANT_ID"):
        await source.get_user(ADELE.id)


async def test_without_credentials_the_source_says_what_to_set(http, clock):
    from bot.config import Settings

    source = GraphSource(Settings(diagnostics_source="live"), http, clock=clock)
    with pytest.raises(SourceNotConfigured, match="GRAPH_CLIENT_SECRET"):
        await source.find_users(ADELE.upn)


async def test_a_revoked_token_is_replaced_once(fake, source):
    await source.get_user(ADELE.id)
    fake.revoke_tokens()

    assert (await source.get_user(ADELE.id)).id == ADELE.id

    tokens = [r for r in fake.requests if r.path.endswith("/token")]
    assert len(tokens) == 2
    assert [r.status for r in fake.graph_requests("/users/")] == [200, 401, 200]


async def test_a_burst_of_first_requests_signs_in_once(fake, source):
    users = await asyncio.gather(*(source.get_user(p.id) for p in (ADELE, DARA, NOLIC, NONUM, HELPER)))

    assert [u.id for u in users] == [ADELE.id, DARA.id, NOLIC.id, NONUM.id, HELPER.id]
    assert len([r for r in fake.requests if r.path.endswith("/token")]) == 1


async def test_sign_in_throttled_is_one_sentence(fake, source):
    fake.fail(
        "/oauth2/v2.0/token",
        429,
        retry_after="30",
        server="login",
        body={
            "error": "temporarily_unavailable",
            "error_description": "AADSTS50196: The server terminated an operation.",
        },
    )
    with pytest.raises(
        SourceUnavailable, match=r"^Microsoft sign-in is busy or unavailable \(temporarily_unavailable\)"
    ):
        await source.get_user(ADELE.id)


@pytest.mark.parametrize("path", ["/oauth2/v2.0/token", "openid-configuration"])
async def test_sign_in_5xx_is_one_sentence(fake, source, path):
    fake.fail(path, 503, server="login", times=-1)
    with pytest.raises(SourceUnavailable, match=r"answered HTTP 503; try again in a minute\.$"):
        await source.get_user(ADELE.id)


DISCOVERY = "openid-configuration"
TENANT_NOT_FOUND = {"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant not found."}


@pytest.mark.parametrize("retry_after", [None, "1"])
async def test_a_throttled_discovery_is_busy_not_an_unknown_tenant(fake, source, retry_after):
    fake.fail(DISCOVERY, 429, retry_after=retry_after, server="login", times=-1, body={"error": "throttled"})

    with pytest.raises(SourceUnavailable) as caught:
        await source.get_user(ADELE.id)

    message = str(caught.value)
    assert not isinstance(caught.value, SignInFailed) and caught.value.retryable
    assert "does not know tenant" not in message and "GRAPH_TENANT_ID" not in message
    assert "throttled the discovery of tenant" in message and "(HTTP 429)" in message
    assert message.endswith("try again in a minute.") and "\n" not in message


@pytest.mark.parametrize("status", [400, 404])
async def test_a_discovery_that_does_not_know_the_tenant_says_check_the_tenant_id(fake, source, status):
    fake.fail(DISCOVERY, status, server="login", times=-1, body=TENANT_NOT_FOUND)

    with pytest.raises(SignInFailed) as caught:
        await source.get_user(ADELE.id)

    assert str(caught.value) == (
        f"Microsoft sign-in at {fake.authority_host} does not know tenant {fake.tenant.tenant_id!r} "
        "(AADSTS90002): check GRAPH_TENANT_ID (and GRAPH_CLOUD / GRAPH_AUTHORITY_HOST)."
    )
    assert not caught.value.retryable


async def test_another_refused_discovery_names_its_status_not_an_unknown_tenant(fake, source):
    fake.fail(DISCOVERY, 403, server="login", times=-1, body={"error": "forbidden"})

    with pytest.raises(SignInFailed) as caught:
        await source.get_user(ADELE.id)

    message = str(caught.value)
    assert "refused the discovery of tenant" in message and "(HTTP 403)" in message
    assert "does not know tenant" not in message


async def test_a_discovery_document_that_is_not_json_is_unavailable(fake, source):
    fake.fail(DISCOVERY, 200, server="login", times=-1, body="<html>proxy login page</html>")

    with pytest.raises(SourceUnavailable, match="not valid JSON; try again in a minute") as caught:
        await source.get_user(ADELE.id)
    assert not isinstance(caught.value, SignInFailed) and caught.value.retryable


async def test_an_untrusted_certificate_says_how_to_trust_a_corporate_ca(
    test_certificates, monkeypatch, clock
):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    async with FakeMicrosoft(test_certificates, contoso(NOW)) as fake:
        client = HttpClient(FAST, sleep=clock.sleep)
        try:
            source = GraphSource(fake.settings(), client, clock=clock)
            with pytest.raises(SourceUnavailable, match="REQUESTS_CA_BUNDLE and SSL_CERT_FILE"):
                await source.get_user(ADELE.id)
        finally:
            await client.close()


# ---------------------------------------------------------------------------------------------
# Finding users


async def test_user_by_upn_with_licence_and_select(fake, source):
    [user] = await source.find_users(ADELE.upn)

    assert (user.id, user.user_principal_name, user.display_name) == (ADELE.id, ADELE.upn, ADELE.name)
    assert user.phone_plan_enabled and user.phone_plan_since == datetime(2026, 1, 5, tzinfo=UTC)
    assert user.business_phones == (ADELE.number,)
    [request] = fake.graph_requests("/users/")
    assert request.query == {
        "$select": "id,displayName,userPrincipalName,mail,accountEnabled,assignedPlans,businessPhones"
    }


async def test_user_without_teams_phone(source):
    [user] = await source.find_users(NOLIC.upn.upper())
    assert user.id == NOLIC.id and not user.phone_plan_enabled and user.phone_plan_since is None


async def test_suspended_teams_phone_is_not_a_licence(fake, source):
    fake.tenant.users.append(
        graph_user("0f0e0d0c-0b0a-4909-8807-060504030201", "sam@contoso.com", "Sam", phone_plan=False)
    )
    [user] = await source.find_users("sam@contoso.com")
    assert not user.phone_plan_enabled


async def test_user_by_object_id(source):
    assert [u.user_principal_name for u in await source.find_users(NONUM.id)] == [NONUM.upn]


@pytest.mark.parametrize("typed", ["+1 (425) 555-0101", "425.555.0101", "tel:+14255550101", "14255550101"])
async def test_user_by_phone_number_via_the_number_teams_holds(fake, source, typed):
    [user] = await source.find_users(typed)

    assert user.id == ADELE.id
    [lookup] = fake.graph_requests("numberAssignments")
    assert lookup.query["$filter"] == "telephoneNumber eq '+14255550101'"
    assert "%2B14255550101" in lookup.raw  # a raw `+` would reach Graph as a space
    # Teams assigns it: the tenant's phone fields are not read in bulk for that.
    assert fake.graph_requests("^/v1.0/users$") == []


async def test_a_number_teams_assigns_to_nobody_is_looked_for_in_phone_fields(fake, source):
    assert await source.find_users("+1 425 555 0199") == []
    lookup, whole = fake.graph_requests("numberAssignments")
    assert lookup.query["$filter"] == "telephoneNumber eq '+14255550199'"
    assert whole.query == {"$top": "1000"}  # then every assignment and the users' phone fields
    assert len(fake.graph_requests("^/v1.0/users$")) == 1


async def test_user_by_name_prefix_escapes_the_quote(fake, source):
    [user] = await source.find_users("Dara O'Bri")

    assert user.id == DARA.id
    [lookup] = fake.graph_requests("^/v1.0/users$")
    assert lookup.query["$filter"] == (
        "startsWith(displayName,'Dara O''Bri') or startsWith(givenName,'Dara O''Bri') "
        "or startsWith(surname,'Dara O''Bri')"
    )
    assert "O%27%27Bri" in lookup.raw


async def test_upn_with_a_quote_is_looked_up_by_filter(fake, source):
    [user] = await source.find_users(DARA.upn)

    assert user.display_name == "Dara O'Brien"
    [lookup] = fake.graph_requests("^/v1.0/users$")
    assert (
        lookup.query["$filter"]
        == "userPrincipalName eq 'dara.o''brien@contoso.com' or mail eq 'dara.o''brien@contoso.com'"
    )


async def test_the_fake_refuses_an_unescaped_quote_like_graph():
    with pytest.raises(Exception, match="Syntax error"):
        parse_filter("startsWith(displayName,'Dara O'Brien')", {"displayName"}, True)
    assert parse_filter("displayName eq 'O''Brien'", {"displayName"}, False) == [
        ("eq", "displayName", "O'Brien")
    ]


async def test_a_user_that_does_not_exist(fake, source):
    assert await source.find_users("nobody@contoso.com") == []
    assert await source.get_user("00000000-0000-4000-8000-000000000000") is None
    assert await source.find_users("+1 206 555 9999") == []
    assert await source.find_users("Nobody Here") == []
    statuses = [r.status for r in fake.graph_requests()]
    assert 404 in statuses and all(s in (200, 404) for s in statuses)


async def test_path_segments_are_encoded(fake, source):
    assert await source.get_user("a/b?c#d") is None
    [request] = fake.graph_requests("/users/")
    assert request.raw.startswith("/v1.0/users/a%2Fb%3Fc%23d?")
    assert request.path == "/v1.0/users/a/b?c#d"


# ---------------------------------------------------------------------------------------------
# Numbers, voice settings, domains


async def test_number_assignments_and_voice_settings(fake, source):
    [assignment] = await source.number_assignments(ADELE.id)
    assert (assignment.telephone_number, assignment.number_type, assignment.activation_state) == (
        ADELE.number,
        "directRouting",
        "activated",
    )
    assert assignment.assignment_target_id == ADELE.id
    config = await source.voice_config(ADELE.id)
    assert config.enterprise_voice_enabled is True and config.telephone_numbers == (ADELE.number,)
    assert config.account_type == "user"
    assert await source.number_assignments(NONUM.id) == []
    assert await source.voice_config(NONUM.id) is None


async def test_number_assignments_follow_the_next_link(fake, source):
    from tests.fakes.graph_fixtures import number_assignment

    fake.tenant.number_assignments = [number_assignment(f"+1425555{i:04d}", ADELE.id) for i in range(1500)]
    assert len(await source.number_assignments(ADELE.id)) == 1500
    assert len(fake.graph_requests("numberAssignments")) == 2


async def test_domains_users_on_them_and_temporary_users(fake, source):
    temp_id = "6e7f8a9b-0c1d-4e2f-8a4b-5c6d7e8f9a0b"
    fake.tenant.users.append(graph_user(temp_id, f"tdvau@{VOICE_DOMAINS[0]}", TEMPORARY_USER_NAME))
    fake.tenant.domain_users[VOICE_DOMAINS[0]] = [temp_id]
    fake.tenant.domains[2]["state"] = {
        "status": "Failed",
        "operation": "SetupVoiceDomain",
        "lastActionDateTime": "2026-11-20T08:00:00Z",
    }

    domains = {d.id: d for d in await source.domains()}
    assert set(domains) >= set(VOICE_DOMAINS)
    failed = domains[VOICE_DOMAINS[0]]
    assert failed.state_status == "Failed" and failed.state_last_action_at == datetime(
        2026, 11, 20, 8, tzinfo=UTC
    )
    assert domains["contoso.com"].is_default and domains["contoso.com"].supported_services
    assert [u.id for u in await source.users_on_domain(VOICE_DOMAINS[0])] == [temp_id]
    assert [u.display_name for u in await source.users_named(TEMPORARY_USER_NAME)] == [TEMPORARY_USER_NAME]


async def test_a_domain_graph_does_not_know_is_a_fault_not_a_domain_without_users(fake, source):
    """/domains listed it a moment ago: a 404 for its users is unknown, never "no users"."""
    with pytest.raises(SourceError) as caught:
        await source.users_on_domain("gone.example")

    message = str(caught.value)
    assert caught.value.source == "graph"
    assert message == (
        "Microsoft Graph answered HTTP 404 (Request_ResourceNotFound) for the users on gone.example: "
        "it does not know that domain, so whether any user is on it could not be checked."
    )
    fake.fail("/domainNameReferences/", 404, times=-1)
    with pytest.raises(SourceError, match="HTTP 404"):
        await source.users_on_domain(VOICE_DOMAINS[0])


# ---------------------------------------------------------------------------------------------
# Who may use the bot


async def test_helpdesk_group_member(source):
    status = await source.helpdesk_status(HELPER.id)
    assert status.is_helpdesk and status.reason == "member of the helpdesk group"


async def test_teams_admin_role_by_template_id(fake, source):
    fake.tenant.roles[NONUM.id] = [TEAMS_ADMIN]
    status = await source.helpdesk_status(NONUM.id)
    assert status.is_helpdesk and status.reason == "Teams Administrator"


async def test_a_teams_administrator_may_manage_numbers(fake, source):
    fake.tenant.roles[NONUM.id] = [TEAMS_ADMIN]
    assert (await source.helpdesk_status(NONUM.id)).may_manage_numbers


async def test_a_helpdesk_group_member_without_a_number_role_may_not_manage_numbers(fake, source):
    status = await source.helpdesk_status(HELPER.id)
    assert status.is_helpdesk and not status.may_manage_numbers
    fake.tenant.roles[HELPER.id] = ["aa38014f-0993-46e9-9b45-30501a20909d"]  # Teams Telephony Administrator
    status = await source.helpdesk_status(HELPER.id)
    assert status.reason == "member of the helpdesk group" and status.may_manage_numbers


async def test_a_support_engineer_is_helpdesk_but_may_not_manage_numbers(fake, source):
    fake.tenant.roles[NONUM.id] = ["f70938a0-fc10-4177-9e90-2178f8765737"]
    status = await source.helpdesk_status(NONUM.id)
    assert status.is_helpdesk and status.reason == "Teams Communications Support Engineer"
    assert not status.may_manage_numbers


async def test_a_group_member_whose_roles_cannot_be_read_may_not_manage_numbers(fake, source):
    fake.tenant.granted.discard("RoleManagement.Read.Directory")
    fake.tenant.roles[HELPER.id] = [TEAMS_ADMIN]
    status = await source.helpdesk_status(HELPER.id)
    assert status.is_helpdesk and not status.may_manage_numbers  # fail closed


async def test_other_roles_do_not_count(source):
    status = await source.helpdesk_status(ADELE.id)  # Global Reader only
    assert not status.is_helpdesk and "Teams admin role" in status.reason


async def test_hidden_role_details_name_the_permission(fake, source):
    fake.tenant.granted.discard("RoleManagement.Read.Directory")
    with pytest.raises(PermissionMissing) as caught:
        await source.helpdesk_status(ADELE.id)
    assert caught.value.permission == "RoleManagement.Read.Directory"
    assert "grant RoleManagement.Read.Directory and give admin consent" in str(caught.value)


async def test_group_check_refused_but_role_says_yes(fake, source):
    fake.tenant.granted.discard("GroupMember.Read.All")
    fake.tenant.roles[NONUM.id] = [TEAMS_ADMIN]
    assert (await source.helpdesk_status(NONUM.id)).is_helpdesk
    with pytest.raises(PermissionMissing, match="GroupMember.Read.All"):
        await source.helpdesk_status(HELPER.id)


# ---------------------------------------------------------------------------------------------
# Errors


async def test_403_names_the_permission(fake, source):
    fake.tenant.granted.discard("TeamsTelephoneNumber.Read.All")
    with pytest.raises(PermissionMissing) as caught:
        await source.number_assignments(ADELE.id)
    assert caught.value.permission == "TeamsTelephoneNumber.Read.All"
    assert str(caught.value) == (
        "Microsoft Graph refused to read the number assignments (HTTP 403): "
        "grant TeamsTelephoneNumber.Read.All and give admin consent."
    )


async def test_429_waits_for_retry_after(fake, source, clock):
    fake.fail("/users/", 429, retry_after="7", times=2)
    assert (await source.get_user(ADELE.id)).id == ADELE.id
    assert clock.sleeps == [7.0, 7.0]


async def test_503_then_success(fake, source, clock):
    fake.fail("/users/", 503, times=1)
    assert (await source.get_user(ADELE.id)).id == ADELE.id
    assert len(clock.sleeps) == 1 and clock.sleeps[0] < 1


async def test_503_beyond_the_budget_is_one_sentence(fake, source):
    fake.fail("/users/", 503, times=-1)
    with pytest.raises(SourceUnavailable) as caught:
        await source.get_user(ADELE.id)
    assert caught.value.source == "graph"
    assert str(caught.value) == "reading the user from Microsoft Graph failed: the service answered HTTP 503"


async def test_connection_reset_and_truncated_body_are_retried(fake, source):
    fake.fail("/users/", reset=True, times=1)
    fake.fail("/users/", truncate=True, times=1)
    assert (await source.get_user(ADELE.id)).id == ADELE.id
    assert len(fake.graph_requests("/users/")) == 3


async def test_timeout_is_retried(fake, trust_test_ca, clock):
    """The first answer never comes (the fake holds it until it stops); the retry is answered. The
    timeout is far above what an answer needs on a busy machine, so only the held one times out."""
    client = HttpClient(
        RetryPolicy(attempts=2, total_seconds=30, request_timeout=2.0, base_backoff=0.01), sleep=clock.sleep
    )
    try:
        source = GraphSource(fake.settings(), client, clock=clock)
        fake.fail("/users/", delay=3600, times=1)
        assert (await source.get_user(ADELE.id)).id == ADELE.id
        assert len(fake.graph_requests("/users/")) == 2
    finally:
        await client.close()


# ---------------------------------------------------------------------------------------------
# The call log (the large-tenant behaviour is in test_graph_call_log.py)


async def test_failed_calls_for_a_user(fake, source):
    at = NOW - timedelta(hours=30)
    fake.tenant.calls = [
        CallList([failed_call(ADELE, at, correlation_id="c0ffee00-1111-4222-8333-444455556666")])
    ]

    search = await source.user_calls(CallQuery("inbound", (ADELE.number,), NOW - timedelta(days=7), NOW))

    [call] = search.calls
    assert call.correlation_id == "c0ffee00-1111-4222-8333-444455556666"
    assert (call.sip_code, call.sub_code, call.user_id) == (404, 511404, None)
    assert call.at == at + timedelta(milliseconds=350) and not call.partial_match
    assert search.complete and search.window_end == NOW


async def test_403_on_the_call_log(fake, source):
    fake.tenant.granted.discard("CallRecords.Read.All")
    with pytest.raises(
        PermissionMissing, match="grant CallRecords.Read.All and give admin consent"
    ) as caught:
        await source.user_calls(CallQuery("inbound", (ADELE.number,), NOW - timedelta(days=7), NOW))
    assert caught.value.permission == "CallRecords.Read.All"
