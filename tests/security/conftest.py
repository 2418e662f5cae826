"""Fixtures for the security and reliability tests: Bot Framework token signing, the app with auth on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from botframework.connector.auth import (
    AuthenticationConstants,
    ChannelValidation,
    MicrosoftAppCredentials,
)

from tests.fakes.tls import TestCertificates
from tests.security.openid import OpenIdServer, SigningKey, TokenMinter

APP_ID = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
APP_PASSWORD = "vd-app-password~Q7wE9rT1yU3iO5pA"
OUTBOUND_TOKEN = "vd-outbound-connector-token.Z8xC6vB4nM2"  # what the bot sends to the connector


@dataclass(frozen=True)
class BotFrameworkKeys:
    channel: SigningKey  # published for channel tokens, endorsed for Teams
    emulator: SigningKey  # published for Emulator tokens
    webchat_only: SigningKey  # published, but endorsed only for Web Chat
    unpublished: SigningKey  # nobody published it: a forger's key


@pytest.fixture(scope="session")
def bot_framework_keys() -> BotFrameworkKeys:
    return BotFrameworkKeys(
        channel=SigningKey.generate(),
        emulator=SigningKey.generate(),
        webchat_only=SigningKey.generate(endorsements=("webchat",)),
        unpublished=SigningKey.generate(),
    )


@pytest.fixture(scope="session")
def openid_server(test_certificates: TestCertificates, bot_framework_keys) -> Iterator[OpenIdServer]:
    server = OpenIdServer(
        test_certificates,
        channel_keys=[bot_framework_keys.channel, bot_framework_keys.webchat_only],
        emulator_keys=[bot_framework_keys.emulator],
    ).start()
    yield server
    server.stop()


@pytest.fixture
def bot_framework(openid_server, bot_framework_keys, trust_test_ca, monkeypatch) -> TokenMinter:
    """Point the SDK's token validation at the local OpenID server; tokens for the outbound direction.

    Production reads `ChannelValidation.open_id_metadata_endpoint` (None: Microsoft's URL) and
    `AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL` at validation time, so the
    product code is unchanged. Replies to the connector need an app token from Microsoft sign-in,
    which a test cannot reach: the outbound credential hands out a fixed one instead. The inbound
    direction, which these tests are about, is the SDK's real code.
    """
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", openid_server.channel_metadata_url)
    monkeypatch.setattr(
        AuthenticationConstants,
        "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL",
        openid_server.emulator_metadata_url,
    )
    monkeypatch.setattr(
        MicrosoftAppCredentials, "get_access_token", lambda self, force_refresh=False: OUTBOUND_TOKEN
    )
    return TokenMinter(APP_ID, bot_framework_keys.channel)
