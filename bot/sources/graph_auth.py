"""App-only tokens for Microsoft Graph from msal's ConfidentialClientApplication.

msal is blocking and its constructor already talks to the network (OIDC discovery of the tenant),
so the app object is built lazily, once, in a thread, and every token request runs in a thread too.
One app object per process: msal serves tokens from its in-memory cache until they are about to
expire, and it remembers 429/5xx answers for their `Retry-After`, so a fresh object per call would
both hammer sign-in and forget throttling.

TLS and proxies: msal uses `requests`, which honours `REQUESTS_CA_BUNDLE` and `HTTPS_PROXY` by itself.

Failures become one sentence (`SignInFailed` for anything the operator must fix, `SourceUnavailable`
when sign-in could not be reached); the client secret never appears in a message or a log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from bot.config import Settings
from bot.diagnosis.errors import SourceError, SourceNotConfigured, SourceUnavailable

log = logging.getLogger(__name__)

SIGN_IN_TIMEOUT_S = 10.0
TOKEN_REFRESH_MARGIN_S = 300.0  # ask for a new token this long before the old one expires
# AADSTS codes an operator can act on, and what to do about each.
AADSTS_FIXES: dict[str, str] = {
    "AADSTS7000215": "the client secret is wrong: create a new one and set GRAPH_CLIENT_SECRET",
    "AADSTS7000222": "the client secret has expired: create a new one and set GRAPH_CLIENT_SECRET",
    "AADSTS700016": "no app with GRAPH_CLIENT_ID exists in this tenant: check GRAPH_CLIENT_ID and GRAPH_TENANT_ID",
    "AADSTS90002": "the tenant was not found: check GRAPH_TENANT_ID",
    "AADSTS900023": "GRAPH_TENANT_ID is not a valid tenant id or domain",
    "AADSTS70011": "the scope is not valid: check GRAPH_ENDPOINT",
    "AADSTS500011": "the resource was not found in the tenant: check GRAPH_ENDPOINT",
    "AADSTS7000112": "the app is disabled in the tenant: enable it in Enterprise applications",
}


class SignInFailed(SourceError):
    """Microsoft sign-in refused the app's credentials or configuration."""


class GraphTokenProvider:
    """Hands out bearer tokens for `settings.graph_scope`; safe to share between tasks."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: Any = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._settings = settings
        self._http_client = http_client  # msal's `http_client=` (tests may pass their own)
        self._monotonic = monotonic
        self._app: Any = None
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._token_until = 0.0

    async def token(self) -> str:
        """A valid access token. Kept until shortly before it expires, so that most Graph requests
        need no thread hop, and fetched by one task at a time, so that a burst of concurrent
        requests at start-up asks sign-in once."""
        if self._token is not None and self._monotonic() < self._token_until:
            return self._token
        async with self._lock:
            if self._token is not None and self._monotonic() < self._token_until:
                return self._token
            if self._app is None:
                self._app = await asyncio.to_thread(self._build)
            result = await self._acquire(self._app)
            lifetime = result.get("expires_in")
            seconds = float(lifetime) if isinstance(lifetime, (int, float)) else 0.0
            self._token = str(result["access_token"])
            self._token_until = self._monotonic() + max(0.0, seconds - TOKEN_REFRESH_MARGIN_S)
            return self._token

    async def invalidate(self, rejected: str | None = None) -> None:
        """Forget the token Graph rejected (401): the next `token()` asks sign-in for a new one.

        With `rejected`, a token another task has already replaced is left alone.
        """
        async with self._lock:
            if rejected is not None and rejected != self._token:
                return
            self._token = None
            if self._app is not None:
                await asyncio.to_thread(_drop_access_tokens, self._app.token_cache)

    async def _acquire(self, app: Any) -> dict[str, Any]:
        try:
            result = await asyncio.to_thread(
                app.acquire_token_for_client, scopes=[self._settings.graph_scope]
            )
        except Exception as error:  # msal raises for 5xx and transport errors
            raise _unreachable(self._settings, error) from error
        if not isinstance(result, dict) or "access_token" not in result:
            raise _token_error(self._settings, result if isinstance(result, dict) else {})
        return result

    def _build(self) -> Any:
        settings = self._settings
        if not settings.graph_configured:
            raise SourceNotConfigured(
                "Microsoft Graph is not configured: set GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET.",
                source="graph",
            )
        import msal

        options: dict[str, Any] = {"timeout": SIGN_IN_TIMEOUT_S}
        if self._http_client is not None:
            options["http_client"] = self._http_client
        try:
            return msal.ConfidentialClientApplication(
                settings.graph_client_id,
                client_credential=settings.graph_client_secret,
                authority=settings.graph_authority,
                instance_discovery=settings.graph_instance_discovery,
                **options,
            )
        except ValueError as error:  # OIDC discovery failed: msal says the same for every 4xx
            raise _discovery_error(settings, error) from error
        except Exception as error:
            raise _unreachable(settings, error) from error


def _discovery_error(settings: Settings, error: ValueError) -> SourceError:
    """msal's ValueError from OIDC discovery -> what actually happened.

    msal raises one ValueError ("Unable to get authority configuration … double check your tenant")
    for any 4xx of the discovery document and for a body that is not JSON; the status survives only
    in the exception it replaced ("… HTTP status: 429, Error: …"). Only 400/404 mean Microsoft does
    not know the tenant (AADSTS90002); 429 and 5xx mean sign-in is busy (try again), and other
    statuses are reported as they are.
    """
    status, text = _discovery_status(error)
    host, tenant = settings.graph_authority_host, settings.graph_tenant_id
    if status == 429 or (status is not None and status >= 500):
        busy = "throttled" if status == 429 else "could not answer"
        return SourceUnavailable(
            f"Microsoft sign-in at {host} {busy} the discovery of tenant {tenant!r} (HTTP {status}): "
            "it is busy or unavailable, not refusing the tenant; try again in a minute.",
            source="graph",
            retryable=True,
        )
    if status is None and _chain_has(error, json.JSONDecodeError):
        return SourceUnavailable(
            f"Microsoft sign-in at {host} answered the discovery of tenant {tenant!r} with a document "
            "that is not valid JSON; try again in a minute.",
            source="graph",
            retryable=True,
        )
    if status in (None, 400, 404):  # no status: msal refused the authority URL itself
        return SignInFailed(
            f"Microsoft sign-in at {host} does not know tenant {tenant!r}{_aadsts_hint(text)}: check "
            "GRAPH_TENANT_ID (and GRAPH_CLOUD / GRAPH_AUTHORITY_HOST).",
            source="graph",
        )
    code = _aadsts_code(text)
    fix = AADSTS_FIXES.get(code or "") or (
        "check GRAPH_TENANT_ID and GRAPH_AUTHORITY_HOST, and that no proxy blocks sign-in"
    )
    return SignInFailed(
        f"Microsoft sign-in at {host} refused the discovery of tenant {tenant!r} "
        f"(HTTP {status}{', ' + code if code else ''}): {fix}.",
        source="graph",
    )


def _discovery_status(error: BaseException) -> tuple[int | None, str]:
    """The HTTP status msal saw during OIDC discovery, and all the messages of the exception chain."""
    texts: list[str] = []
    status: int | None = None
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts.append(str(current))
        found = re.search(r"HTTP status: (\d{3})", str(current))
        if found and status is None:
            status = int(found.group(1))
        current = current.__cause__ or current.__context__
    return status, " ".join(texts)


def _chain_has(error: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _drop_access_tokens(cache: Any) -> None:
    for item in list(cache.search(cache.CredentialType.ACCESS_TOKEN)):
        cache.remove_at(item)


def _aadsts_code(text: str) -> str | None:
    match = re.search(r"AADSTS\d+", text or "")
    return match.group(0) if match else None


def _aadsts_hint(text: str) -> str:
    code = _aadsts_code(text)
    return f" ({code})" if code else ""


def _token_error(settings: Settings, result: dict[str, Any]) -> SourceError:
    """msal's error dict -> one sentence. `error_description` never holds the secret, but may be long."""
    error = str(result.get("error") or "no token")
    description = str(result.get("error_description") or "")
    code = _aadsts_code(description)
    if error in {"temporarily_unavailable", "server_error"}:
        return SourceUnavailable(
            f"Microsoft sign-in is busy or unavailable ({error}); try again in a minute.",
            source="graph",
            retryable=True,
        )
    fix = AADSTS_FIXES.get(code or "")
    if fix is None:
        if error == "invalid_client":
            fix = "check GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET"
        elif error == "unauthorized_client":
            fix = "check GRAPH_CLIENT_ID and that the app is registered in tenant GRAPH_TENANT_ID"
        else:
            fix = "check GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET"
    label = f"{error}, {code}" if code else error
    log.warning("graph sign-in refused", extra={"error": error, "aadsts": code})
    return SignInFailed(f"Microsoft sign-in refused the app ({label}): {fix}.", source="graph")


def _unreachable(settings: Settings, error: BaseException) -> SourceError:
    if isinstance(error, SourceError):
        return error
    kind = type(error).__name__
    hint = ""
    if "SSL" in kind or "SSL" in str(error) or "certificate" in str(error).lower():
        hint = " (TLS: if a proxy re-signs traffic, point REQUESTS_CA_BUNDLE and SSL_CERT_FILE at its CA)"
    status = re.search(r"HTTP Error: (\d{3})", str(error))
    if status:
        return SourceUnavailable(
            f"Microsoft sign-in at {settings.graph_authority_host} answered HTTP {status.group(1)}; try again in a minute.",
            source="graph",
            retryable=True,
        )
    return SourceUnavailable(
        f"Microsoft sign-in at {settings.graph_authority_host} could not be reached ({kind}){hint}.",
        source="graph",
        retryable=True,
    )
