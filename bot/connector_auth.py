"""Bot Framework's authentication and Bot Connector clients, made to hold up under load.

`ConnectorAuthentication` is what `app.py` gives the SDK's `CloudAdapter`. Two of the SDK's sign-in
calls are blocking `requests` on the event loop, so while one of them waits no other conversation
is served; and every turn it builds clients that cost more CPU than the reply they send.

- **Inbound**: every activity's token is checked against signing keys that
  `jwt_token_extractor._OpenIdMetadata` fetches (OpenID metadata, then the key set) with
  `requests.get` and no timeout, once a day and at most hourly when a token names an unknown key
  id. `SigningKeys` takes its place (`install_signing_keys()`): the same rules, but the fetch runs
  in a worker thread with a timeout, concurrent callers share one fetch, and keys that are merely
  due for their daily refresh stay in use while one background refresh runs. Only a process
  without keys yet (or with keys too old to trust) and a token signed with a key not seen before
  (a rotation) wait for the fetch — and only they: other conversations go on.
- **Outbound**: every turn the SDK builds new credentials, and so a new msal application, whose
  first token request (authority discovery, then the token endpoint) runs on the loop when the
  reply is sent. `CredentialFactory` keeps one credential per (app id, scope, sign-in endpoint)
  for the life of the process and fetches its token in a worker thread before the SDK asks for
  it; the SDK's synchronous call then gets the token already in hand.
- **Connector clients**: the SDK builds a `ConnectorClient` and a `TokenApiClient` for every turn
  (msrest's retry policy alone costs ~3 ms of CPU each to construct) and serialises every activity
  three times over, the Adaptive Card's every node included (msrest turns the model into a model,
  validates it, then walks it into JSON). `ConnectorAuthentication` keeps one client per app id,
  service URL and audience (so their HTTP connections are reused too), and its serializer leaves
  attachment content that is already plain JSON — the cards, which `cards/` builds as JSON — out
  of msrest's walk and puts it back as it is. docs/benchmarks.md has the profiles.

The SDK is archived (no release after 4.17.1), so the private names used here will not move; the
tests in tests/security/test_event_loop.py and tests/http/test_connector_client.py fail if they did.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import requests
from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity
from botframework.connector import models as connector_models
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    jwt_token_extractor,
)
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from msrest import Serializer

log = logging.getLogger("voice_doctor.connector_auth")

FETCH_TIMEOUT_S = 10.0  # each of the two requests of a key fetch
REFRESH_AFTER_S = 24 * 3600.0  # the SDK's rule: keys older than a day are refreshed ...
MAX_AGE_S = 5 * 24 * 3600.0  # ... and here used meanwhile, but never past this age
UNKNOWN_KEY_EVERY_S = 3600.0  # the SDK's rule: an unknown key id refetches at most hourly
RETRY_AFTER_S = 300.0  # a failed background refresh is tried again after this long
TOKEN_REUSE_S = 240.0  # msal hands out tokens with at least 5 minutes left: good for 4 more


def fetch_signing_keys(metadata_url: str) -> list[dict[str, Any]]:
    """The key set the OpenID metadata at `metadata_url` points to (blocking: run it in a thread)."""
    metadata = requests.get(metadata_url, timeout=FETCH_TIMEOUT_S)
    metadata.raise_for_status()
    keys = requests.get(metadata.json()["jwks_uri"], timeout=FETCH_TIMEOUT_S)
    keys.raise_for_status()
    return keys.json()["keys"]


class SigningKeys(jwt_token_extractor._OpenIdMetadata):
    """One OpenID metadata URL's signing keys, fetched off the event loop (see the module docstring).

    `monotonic` is the clock the ages are measured on (tests move it)."""

    monotonic: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self, url: str):
        super().__init__(url)
        self._fetched_at: float | None = None  # when the keys in hand were fetched
        self._tried_at: float | None = None  # when the last fetch ended, well or not
        self._fetch: asyncio.Task | None = None

    async def get(self, key_id: str):
        """The key `key_id` names, as the SDK's `_OpenIdMetadata.get` returns it."""
        age = self._age()
        if not self.keys or age > MAX_AGE_S:
            await self._refreshed()
        elif age > REFRESH_AFTER_S and self._since_tried() > RETRY_AFTER_S:
            self._start_fetch()  # the keys in hand serve meanwhile
        if not self._has(key_id) and self._since_tried() > UNKNOWN_KEY_EVERY_S:
            await self._refreshed()
        return self._find(key_id)

    async def _refresh(self) -> None:  # what the SDK's own code would call
        await self._refreshed()

    async def _refreshed(self) -> None:
        """Wait for a fetch (the one under way, or a new one); its failure is the caller's."""
        await asyncio.shield(self._start_fetch())

    def _start_fetch(self) -> asyncio.Task:
        loop = asyncio.get_running_loop()
        if self._fetch is None or self._fetch.done() or self._fetch.get_loop() is not loop:
            self._fetch = loop.create_task(self._fetch_keys())
            self._fetch.add_done_callback(_log_failure)
        return self._fetch

    async def _fetch_keys(self) -> None:
        try:
            keys = await asyncio.to_thread(fetch_signing_keys, self.url)
        finally:
            self._tried_at = self.monotonic()
        self.keys, self._fetched_at = keys, self._tried_at
        log.info("signing keys fetched", extra={"keys": len(keys)})

    def _has(self, key_id: str) -> bool:
        return any(key.get("kid") == key_id for key in self.keys)

    def _age(self) -> float:
        return float("inf") if self._fetched_at is None else self.monotonic() - self._fetched_at

    def _since_tried(self) -> float:
        return float("inf") if self._tried_at is None else self.monotonic() - self._tried_at


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("signing keys could not be fetched", extra={"error": type(task.exception()).__name__})


def install_signing_keys() -> None:
    """Make the SDK use `SigningKeys` for every metadata URL, from now on and for those it has seen."""
    jwt_token_extractor._OpenIdMetadata = SigningKeys
    cache = JwtTokenExtractor.metadataCache
    for url, metadata in list(cache.items()):
        if not isinstance(metadata, SigningKeys):
            cache[url] = SigningKeys(url)


class CredentialFactory(ConfigurationServiceClientCredentialFactory):
    """The SDK's credential factory (password, single-tenant or managed identity, as configured),
    with one credential per (app id, scope, sign-in endpoint) whose token is fetched in a worker
    thread before the SDK's synchronous `get_access_token` asks for it on the event loop."""

    def __init__(self, configuration: Any, *, monotonic: Callable[[], float] = time.monotonic):
        super().__init__(configuration)
        self._monotonic = monotonic
        self._credentials: dict[tuple, Any] = {}
        self._tokens: dict[tuple, tuple[str, float]] = {}  # key -> (token, fetched at)
        self._locks: dict[tuple, asyncio.Lock] = {}

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ):
        key = (app_id, oauth_scope, login_endpoint, validate_authority)
        credentials = self._credentials.get(key)
        if credentials is None:
            credentials = await super().create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
            credentials = self._credentials.setdefault(key, credentials)
        if not await self.is_authentication_disabled():
            await self._token_in_hand(key, credentials)
        return credentials

    async def _token_in_hand(self, key: tuple, credentials: Any) -> None:
        if self._fresh(key):
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if self._fresh(key):  # fetched while this turn waited for the lock
                return
            fetch = type(credentials).get_access_token  # the SDK's (msal's) own, blocking
            token = await asyncio.to_thread(fetch, credentials)
            self._tokens[key] = (token, self._monotonic())
            # The SDK calls `credentials.get_access_token()` on the loop: hand it this token.
            credentials.get_access_token = lambda force_refresh=False, _key=key: self._tokens[_key][0]

    def _fresh(self, key: tuple) -> bool:
        held = self._tokens.get(key)
        return held is not None and self._monotonic() - held[1] < TOKEN_REUSE_S


class ConnectorAuthentication(ConfigurationBotFrameworkAuthentication):
    """The SDK's configuration-based authentication, with the credential factory above and with
    Bot Connector and user-token clients reused rather than built for every turn."""

    def __init__(self, configuration: Any):
        self.credentials = CredentialFactory(configuration)
        super().__init__(configuration, credentials_factory=self.credentials)
        self._connectors: dict[tuple, Any] = {}
        self._token_clients: dict[str | None, Any] = {}

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        """The SDK's validation; the connector factory of its result (the turn's) reuses clients."""
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self._reusing(result.connector_factory)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        """For proactive messages and new conversations (follow-ups, the helpdesk channel)."""
        return self._reusing(super().create_connector_factory(claims_identity))

    def _reusing(self, factory: ConnectorFactory) -> ConnectorFactory:
        return _ReusingConnectorFactory(factory, self.credentials, self._connectors)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity):
        app_id = claims_identity.get_claim_value(
            AuthenticationConstants.AUDIENCE_CLAIM
        ) or claims_identity.get_claim_value(AuthenticationConstants.APP_ID_CLAIM)
        client = self._token_clients.get(app_id)
        if client is None:
            client = await super().create_user_token_client(claims_identity)
            client = self._token_clients.setdefault(app_id, client)
        return client


class _ReusingConnectorFactory(ConnectorFactory):
    """Hands out one `ConnectorClient` per (app id, service URL, audience). The credential is
    asked for on every call all the same: that keeps its token fresh (and off the loop)."""

    def __init__(self, inner: Any, credentials: CredentialFactory, clients: dict[tuple, Any]):
        self._inner = inner  # the SDK's _ConnectorFactoryImpl: its settings are read, not copied
        self._credentials = credentials
        self._clients = clients

    async def create(self, service_url: str, audience: str = None):
        inner = self._inner
        audience = audience or inner._to_channel_from_bot_oauth_scope
        credentials = await self._credentials.create_credentials(
            inner._app_id, audience, inner._login_endpoint, inner._validate_authority
        )
        key = (inner._app_id, service_url, audience)
        client = self._clients.get(key)
        if client is None or client.config.credentials is not credentials:
            client = await inner.create(service_url, audience)
            client._serialize = client.conversations._serialize = PlainContentSerializer(CONNECTOR_MODELS)
            self._clients[key] = client
        return client


CONNECTOR_MODELS = {k: v for k, v in connector_models.__dict__.items() if isinstance(v, type)}


class PlainContentSerializer(Serializer):
    """msrest's serializer, except that an activity's attachment content that is plain JSON (a
    finished card) bypasses it: msrest would rebuild it, validate it and walk it into the same JSON."""

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        if data_type != "Activity" or not isinstance(data, Activity) or not data.attachments:
            return super().body(data, data_type, **kwargs)
        attachments = list(data.attachments)
        contents = [attachment.content for attachment in attachments]
        plain = [isinstance(content, (dict, list)) for content in contents]
        for attachment, is_plain in zip(attachments, plain, strict=True):
            if is_plain:
                attachment.content = None
        try:
            body = super().body(data, data_type, **kwargs)
        finally:
            for attachment, content in zip(attachments, contents, strict=True):
                attachment.content = content
        for serialized, content, is_plain in zip(body["attachments"], contents, plain, strict=True):
            if is_plain:
                serialized["content"] = content
        return body
