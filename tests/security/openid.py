"""A local stand-in for Bot Framework's token signing: OpenID metadata, signing keys, minted tokens.

The Bot Connector signs the token it sends with every activity; the SDK (botframework-connector
4.17.1) checks it against the keys published at
`https://login.botframework.com/v1/.well-known/openidconfiguration` (and, for tokens whose issuer
is one of the Emulator's, at Microsoft's common v2.0 metadata). `OpenIdServer` serves both
documents and their JSON Web Key Sets over HTTPS on loopback, shaped as Microsoft publishes them
(RSA keys with `kid` and the channels that endorse them), and `TokenMinter` signs tokens with those
keys — or with a key nobody published, or with no signature at all — so the product's real
validation code runs unchanged.

Why a thread: the SDK fetches the metadata with blocking `requests.get` (in the product now from
a worker thread, see bot/connector_auth.py), and a test must be able to tell whether the event loop
was blocked meanwhile: this server runs its own loop in a daemon thread, so it answers either way.
`hold_keys` makes the key endpoints hold their answers until the test releases them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.tls import TestCertificates

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
EMULATOR_ISSUER = "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0"
CHANNEL_METADATA_PATH = "/v1/.well-known/openidconfiguration"
CHANNEL_KEYS_PATH = "/v1/.well-known/keys"
EMULATOR_METADATA_PATH = "/common/v2.0/.well-known/openid-configuration"
EMULATOR_KEYS_PATH = "/common/discovery/v2.0/keys"
# What Microsoft's keys list: the channels whose activities a key may sign.
TEAMS_ENDORSEMENTS = ("msteams", "skype", "webchat", "directline", "emulator")
HOLD_LIMIT_S = 30.0  # a held key answer goes out after this long even if the test never releases it


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair with the `kid` the token header names and the channels that endorse it."""

    kid: str
    private_key: rsa.RSAPrivateKey
    endorsements: tuple[str, ...] = TEAMS_ENDORSEMENTS

    @classmethod
    def generate(cls, endorsements: tuple[str, ...] = TEAMS_ENDORSEMENTS) -> SigningKey:
        return cls(
            uuid.uuid4().hex, rsa.generate_private_key(public_exponent=65537, key_size=2048), endorsements
        )

    def jwk(self) -> dict[str, Any]:
        key = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**key, "use": "sig", "kid": self.kid, "endorsements": list(self.endorsements)}


@dataclass
class OpenIdServer:
    """Serves the channel and Emulator OpenID documents and their key sets; counts requests."""

    certificates: TestCertificates
    channel_keys: list[SigningKey]
    emulator_keys: list[SigningKey]
    requests: list[str] = field(default_factory=list)
    keys_answered: int = 0  # key-set answers sent
    keys_status: int = 200  # anything else: the key endpoints answer with that error
    hold_keys: threading.Event = field(default_factory=threading.Event)  # set: key answers wait
    base_url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None

    @property
    def channel_metadata_url(self) -> str:
        return self.base_url + CHANNEL_METADATA_PATH

    @property
    def emulator_metadata_url(self) -> str:
        return self.base_url + EMULATOR_METADATA_PATH

    def start(self) -> OpenIdServer:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="openid-server", daemon=True)
        self._thread.start()
        self.base_url = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self.hold_keys.clear()
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop.close()
        self._loop = None

    async def _serve(self) -> str:
        app = web.Application()
        app.router.add_get(CHANNEL_METADATA_PATH, self._channel_metadata)
        app.router.add_get(CHANNEL_KEYS_PATH, self._channel_keys)
        app.router.add_get(EMULATOR_METADATA_PATH, self._emulator_metadata)
        app.router.add_get(EMULATOR_KEYS_PATH, self._emulator_keys)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.certificates.server_context())
        await site.start()
        return f"https://127.0.0.1:{self._runner.addresses[0][1]}"

    async def _channel_metadata(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(
            {
                "issuer": BOT_FRAMEWORK_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": self.base_url + CHANNEL_KEYS_PATH,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _channel_keys(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        await self._while_held()
        self.keys_answered += 1
        if self.keys_status != 200:
            return web.json_response({"error": "unavailable"}, status=self.keys_status)
        return web.json_response({"keys": [key.jwk() for key in self.channel_keys]})

    async def _emulator_metadata(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(
            {
                "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
                "jwks_uri": self.base_url + EMULATOR_KEYS_PATH,
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _emulator_keys(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        await self._while_held()
        self.keys_answered += 1
        return web.json_response({"keys": [key.jwk() for key in self.emulator_keys]})

    async def _while_held(self) -> None:
        deadline = time.monotonic() + HOLD_LIMIT_S
        while self.hold_keys.is_set() and time.monotonic() < deadline:  # noqa: ASYNC110 - set from another thread
            await asyncio.sleep(0.01)


@dataclass(frozen=True)
class TokenMinter:
    """Signs Bot Connector -> bot tokens: valid ones by default, forged ones on request."""

    app_id: str
    key: SigningKey

    def claims(self, service_url: str, **overrides: Any) -> dict[str, Any]:
        """The claims the Bot Connector puts in its token (overrides with None drop a claim)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "serviceurl": service_url,
            "nbf": now - 60,
            "exp": now + 3600,
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": self.app_id,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(
        self,
        service_url: str,
        *,
        key: SigningKey | None = None,
        algorithm: str = "RS256",
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        key = key or self.key
        headers = {"kid": kid if kid is not None else key.kid}
        payload = self.claims(service_url, **claims)
        if algorithm == "HS256":
            return _hs256_with_public_key(payload, headers, key)
        signing_key = None if algorithm == "none" else key.private_key
        return jwt.encode(payload, signing_key, algorithm=algorithm, headers=headers)

    def header(self, service_url: str, **options: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(service_url, **options)}"}


def _hs256_with_public_key(payload: dict[str, Any], headers: dict[str, str], key: SigningKey) -> str:
    """The "algorithm confusion" forgery: HMAC-signed with the published public key (PEM) as the secret.

    PyJWT refuses to produce one, rightly, so it is put together by hand.
    """
    secret = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", **headers}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
