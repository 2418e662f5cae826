"""Faults seen from Teams: the whole app, live against the fakes, while an upstream is failing.

The engine-level matrix (test_fault_matrix.py) proves each check turns `unknown` with its reason;
this proves the same survives the conversation layer: the helpdesk member who types
`check calls for …` or `check sync` gets the diagnosis card with the reason in it (not "something
went wrong"), and the process stays healthy for the next request.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.config import load_settings
from bot.sources.base import NoPortal
from bot.sources.eightbyeight import EightByEightApiSource
from bot.sources.factory import Sources
from bot.sources.graph import GraphSource
from bot.sources.http import HttpClient
from tests.apphost import activity, running_app
from tests.fakes.graph_fixtures import ADELE, HELPDESK_GROUP, HELPER
from tests.security.faults import FAULTS, POLICY, UPSTREAMS, fakes, inject
from tests.security.leaks import diagnosis_shown

HELPDESK_SENDER = {"id": "29:grady-archie", "name": "Grady Archie", "aadObjectId": HELPER.id}
SOMETHING_WENT_WRONG = "something went wrong"
# Without Microsoft sign-in nobody's helpdesk membership can be checked: those faults get their own test.
SIGN_IN = [u for u in UPSTREAMS if u.id.startswith("sign-in")]
THROUGH_THE_APP = [u for u in UPSTREAMS if u not in SIGN_IN]
SAMPLE_FAULTS = [f for f in FAULTS if f.id in ("403", "503", "slow", "reset")]
REASONS = {"403": "HTTP 403", "503": "HTTP 503", "slow": "no answer within", "reset": "connection failed"}


@pytest.fixture
async def services(trust_test_ca) -> AsyncIterator[tuple]:
    async with fakes(trust_test_ca) as (microsoft, eightbyeight):
        yield microsoft, eightbyeight


@pytest.mark.parametrize("fault", SAMPLE_FAULTS, ids=lambda f: f.id)
@pytest.mark.parametrize("upstream", THROUGH_THE_APP, ids=lambda u: u.id)
async def test_the_helpdesk_gets_the_diagnosis_with_the_reason(services, connector, upstream, fault):
    microsoft, eightbyeight = services
    settings = load_settings(
        {**microsoft.env(), **eightbyeight.env(), "HELPDESK_GROUP_ID": HELPDESK_GROUP}, env_file=None
    )
    http = HttpClient(POLICY)
    sources = Sources(GraphSource(settings, http), EightByEightApiSource(settings, http), NoPortal(), "live")
    text = "check sync" if upstream.problem == "sync-error" else f"check calls for {ADELE.upn}"
    try:
        async with running_app(settings, sources=sources) as app:
            inject(microsoft, eightbyeight, upstream, fault)
            assert (
                await app.post(
                    activity(
                        connector.url, text=text, sender=HELPDESK_SENDER, tenant=settings.graph_tenant_id
                    )
                )
            )[0] == 202
            await app.settle()
            shown = json.dumps(connector.cards())  # the diagnosis, then perhaps a question it raises
            assert diagnosis_shown([shown]), "a diagnosis card"
            assert REASONS[fault.id] in shown
            assert SOMETHING_WENT_WRONG not in json.dumps([r.body for r in connector.received]).lower()

            microsoft.faults.clear()
            eightbyeight.clear_faults()
            eightbyeight.reset = eightbyeight.truncate = False
            async with app.session.get(f"{app.url}/healthz") as response:
                assert response.status == 200
            before = len(connector.cards())
            await app.post(
                activity(connector.url, text=text, sender=HELPDESK_SENDER, tenant=settings.graph_tenant_id)
            )
            await app.settle()
            assert len(connector.cards()) > before and REASONS[fault.id] not in json.dumps(
                connector.cards()[-1]
            )
    finally:
        await http.close()


@pytest.mark.parametrize("fault", [f for f in SAMPLE_FAULTS if f.id != "slow"], ids=lambda f: f.id)
@pytest.mark.parametrize("upstream", SIGN_IN, ids=lambda u: u.id)
async def test_without_sign_in_the_helpdesk_is_told_why_nothing_could_be_checked(
    services, connector, upstream, fault
):
    """Access fails closed, and says so: not "you may not", but "I could not check", with the reason.

    (A slow sign-in that still answers within msal's own timeout simply lets the diagnosis run.)"""
    microsoft, eightbyeight = services
    settings = load_settings(
        {**microsoft.env(), **eightbyeight.env(), "HELPDESK_GROUP_ID": HELPDESK_GROUP}, env_file=None
    )
    http = HttpClient(POLICY)
    sources = Sources(GraphSource(settings, http), EightByEightApiSource(settings, http), NoPortal(), "live")
    try:
        async with running_app(settings, sources=sources) as app:
            inject(microsoft, eightbyeight, upstream, fault)
            text = f"check calls for {ADELE.upn}"
            await app.post(
                activity(connector.url, text=text, sender=HELPDESK_SENDER, tenant=settings.graph_tenant_id)
            )
            await app.settle()
            shown = json.dumps(connector.cards())
            assert "I couldn't check who you are" in shown
            assert "could not be checked" in shown
            assert diagnosis_shown([shown]) == []
            assert SOMETHING_WENT_WRONG not in json.dumps([r.body for r in connector.received]).lower()
            async with app.session.get(f"{app.url}/healthz") as response:
                assert response.status == 200
    finally:
        await http.close()
