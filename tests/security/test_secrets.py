"""Secrets never reach logs or error messages.

Distinctive values are set for the app password, the Graph client secret and the 8x8 key; the app
runs live against the local fakes with inbound authentication on, through succeeding and failing
flows (a diagnosis, Graph faults, a revoked token and a wrong client secret, 8x8 refusing the key,
a forged inbound token, the connector going away mid-turn). Then everything the process wrote is
searched: the JSON log lines as production formats them, the raw log records before any masking
(so the code does not merely rely on the mask), stdout/stderr, HTTP answers and what the users were
sent. Besides the configured secrets, every bearer token involved is searched for: the Graph access
tokens the fake issued, the Bot Connector's inbound token and the bot's outbound one.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from urllib3.util.retry import Retry

from bot.config import load_settings
from bot.logs import configure_logging
from bot.sources.base import NoPortal
from bot.sources.eightbyeight import EightByEightApiSource
from bot.sources.factory import Sources
from bot.sources.graph import GraphSource
from bot.sources.http import HttpClient, RetryPolicy
from tests.apphost import activity, running_app
from tests.fakes.eightbyeight_server import FakeEightByEight, make_extension, make_user
from tests.fakes.graph_fixtures import ADELE, HELPDESK_GROUP, HELPER, contoso, failed_call
from tests.fakes.graph_server import FakeMicrosoft
from tests.security.conftest import APP_ID, APP_PASSWORD, OUTBOUND_TOKEN
from tests.security.faults import NOW

GRAPH_SECRET = "vd-graph-client-secret~Hq3Wm8Zp1Lx6"
EIGHT_KEY = "eght_vd_distinctive_K4n7Rt2Yb9Vc5"
HELPDESK_SENDER = {"id": "29:grady-archie", "name": "Grady Archie", "aadObjectId": HELPER.id}
FAST = RetryPolicy(attempts=2, total_seconds=10.0, request_timeout=5.0, base_backoff=0.01)


class RawRecords(logging.Handler):
    """Every record as the code logged it, before the formatter's mask: message, extras, traceback."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = {k: v for k, v in vars(record).items() if k not in ("msg", "args", "exc_info")}
        text = record.getMessage() + " " + json.dumps(fields, default=repr)
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.texts.append(text)


@dataclass
class Captured:
    stream: io.StringIO
    raw: RawRecords
    elsewhere: list[str] = field(default_factory=list)  # HTTP answers, what users were sent

    def everything(self, capfd) -> dict[str, str]:
        out, err = capfd.readouterr()
        return {
            "log lines": self.stream.getvalue(),
            "raw log records": "\n".join(self.raw.texts),
            "stdout": out,
            "stderr": err,
            "answers and messages": "\n".join(self.elsewhere),
        }


@pytest.fixture
def captured() -> Iterator[Captured]:
    """Logging as `python app.py` configures it (secrets masked), plus an unmasked record capture."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    noisy = {
        name: logging.getLogger(name).level
        for name in ("msal", "urllib3", "msrest", "azure", "aiohttp.access")
    }
    stream = io.StringIO()
    configure_logging(secrets=(APP_PASSWORD, GRAPH_SECRET, EIGHT_KEY), stream=stream)
    root.setLevel(logging.DEBUG)  # stricter than production's INFO
    raw = RawRecords()
    root.addHandler(raw)
    try:
        yield Captured(stream, raw)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
async def microsoft(trust_test_ca) -> AsyncIterator[FakeMicrosoft]:
    tenant = contoso(NOW, calls=[failed_call(ADELE, NOW.replace(hour=9))])
    tenant.client_secret = GRAPH_SECRET
    async with FakeMicrosoft(trust_test_ca, tenant) as fake:
        yield fake


@pytest.fixture
async def eightbyeight(trust_test_ca) -> AsyncIterator[FakeEightByEight]:
    users = [make_user("adele.vance@contoso.com", extensions=[make_extension(ADELE.number, [ADELE.number])])]
    async with FakeEightByEight(trust_test_ca, users=users, api_key=EIGHT_KEY) as fake:
        yield fake


def issued_tokens(fake: FakeMicrosoft) -> set[str]:
    return set(fake._tokens)  # the fake's record of the access tokens it handed out


def variants(secret: str) -> set[str]:
    """The secret as it could be written: as is, URL-encoded (a form body), in halves' worth of it."""
    return {secret, quote(secret, safe=""), secret[: len(secret) // 2 + 4]}


async def test_no_secret_or_token_is_logged_or_shown(
    captured, capfd, monkeypatch, bot_framework, connector, microsoft, eightbyeight
):
    settings = load_settings(
        {
            **microsoft.env(),
            **eightbyeight.env(),
            "MicrosoftAppId": APP_ID,
            "MicrosoftAppPassword": APP_PASSWORD,
            "HELPDESK_GROUP_ID": HELPDESK_GROUP,
        },
        env_file=None,
    )
    assert (settings.graph_client_secret, settings.eightbyeight_api_key) == (GRAPH_SECRET, EIGHT_KEY)
    assert GRAPH_SECRET not in repr(settings) and APP_PASSWORD not in repr(settings)
    http = HttpClient(FAST)
    sources = Sources(GraphSource(settings, http), EightByEightApiSource(settings, http), NoPortal(), "live")
    tokens: set[str] = set()
    inbound_tokens: set[str] = set()

    async with running_app(settings, sources=sources) as app:

        async def say(text: str, **options) -> None:
            body = activity(
                connector.url, text=text, sender=HELPDESK_SENDER, tenant=settings.graph_tenant_id, **options
            )
            header = bot_framework.header(connector.url)
            inbound_tokens.add(header["Authorization"][7:])
            status, answer = await app.post(body, headers=header)
            captured.elsewhere.append(answer)
            await app.settle()
            tokens.update(issued_tokens(microsoft))

        # 1. A complete diagnosis.
        await say(f"check calls for {ADELE.upn}")
        assert any("Adele Vance" in json.dumps(c) for c in connector.cards()), "the diagnosis ran"
        # 2. Graph failing: 500s on the numbers, 503 on the call log.
        microsoft.fail("numberAssignments", 500, times=-1)
        microsoft.fail("getDirectRoutingCalls", 503, times=-1)
        await say(f"check calls for {ADELE.upn}")
        microsoft.faults.clear()
        # 3. 8x8 refusing the key.
        eightbyeight.fail(401, times=None)
        await say(f"check calls for {ADELE.upn}")
        eightbyeight.clear_faults()
        # 4. Every token revoked and the client secret rotated under the app: Graph 401, then sign-in
        #    refuses the old secret (AADSTS7000215).
        microsoft.revoke_tokens()
        microsoft.tenant.client_secret = "rotated-secret-the-app-does-not-know"
        await say(f"check calls for {ADELE.upn}")
        # 5. A forged inbound token.
        forged = bot_framework.token(connector.url, aud="someone-else")
        status, answer = await app.post(
            activity(connector.url, text="help"), headers={"Authorization": f"Bearer {forged}"}
        )
        assert status == 401
        inbound_tokens.add(forged)
        captured.elsewhere.append(answer)
        # 6. The connector goes away mid-conversation: the turn fails and is logged. (Its client's
        #    retries back off for seconds; that waiting is not what is tested here.)
        monkeypatch.setattr(Retry, "get_backoff_time", lambda self: 0)
        await connector.stop()
        await say("help")
    await http.close()

    captured.elsewhere.extend(json.dumps(r.body) for r in connector.received)
    assert tokens, "the fake issued Graph tokens"
    searched = captured.everything(capfd)
    # The failing flows really failed, and said so where the secrets could have slipped in:
    for said in (
        "retrying",
        "graph sign-in refused",
        "request refused: the token is not valid",
        "turn failed",
    ):
        assert said in searched["log lines"], said
    assert "8x8 refused the API key" in searched["answers and messages"]
    secrets = {
        "MicrosoftAppPassword": variants(APP_PASSWORD),
        "GRAPH_CLIENT_SECRET": variants(GRAPH_SECRET),
        "EIGHTBYEIGHT_API_KEY": variants(EIGHT_KEY),
        "a Graph access token": set().union(*(variants(t) for t in tokens)),
        "the Bot Connector's token": set().union(*(variants(t) for t in inbound_tokens)),
        "the bot's outbound token": variants(OUTBOUND_TOKEN),
    }
    found = [
        f"{name} in {where}"
        for name, values in secrets.items()
        for where, text in searched.items()
        if any(value in text for value in values)
    ]
    assert found == []
    assert "Bearer " not in searched["log lines"] and "Bearer " not in searched["raw log records"]
    assert "x-api-key" not in searched["raw log records"].lower()
