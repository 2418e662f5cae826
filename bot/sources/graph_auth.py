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
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from bot.config import Settings
from bot.sources.base import SourceError, SourceNotConfigured, SourceUnavailable

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
        except ValueError as error:  # OIDC discovery answered 4xx: unknown tenant, bad authority
            raise SignInFailed(
                f"Microsoft sign-in at {settings.graph_authority_host} does not know tenant "
                f"{settings.graph_tenant_id!r}{_aadsts_hint(str(error))}: check GRAPH_TENANT_ID"
                " (and GRAPH_CLOUD / GRAPH_AUTHORITY_HOST).",
                source="graph",
            ) from error
        except Exception as error:
            raise _unreachable(settings, error) from error


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
