"""Changing which number Teams holds, through Microsoft Graph v1.0 (FACTS.md, "Changing Teams numbers").

`POST …/numberAssignments/assignNumber` and `…/unassignNumber` answer `202 Accepted` with no body
and a `Location` header naming a `telephoneNumberLongRunningOperation`; that operation is polled
until it succeeds or fails, with a growing interval that honours `Retry-After` (429s are retried
by the shared HTTP client, honouring it too), within a bound after which the step is reported
`running` and a follow-up re-checks it (`operation`).

Why the checks come first: the app may only write with `TeamsTelephoneNumber.ReadWrite.All`, and
an app-only token lists the granted application permissions in its `roles` claim, so the token
is read (its payload only: no signature check is needed to read our own token) before any write
is sent; a 403 still means "not granted". Microsoft offers these writes in its global service
only: with `GRAPH_CLOUD` other than `public`, or a Graph or sign-in host of a national cloud,
fixes are off and say why. (An explicit `GRAPH_ENDPOINT` elsewhere, such as a proxy or a test
server, is taken to stand for the global service.)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from yarl import URL

from bot.config import GRAPH_CLOUDS, Settings
from bot.diagnosis.errors import PermissionMissing, SourceUnavailable
from bot.diagnosis.repair import OperationResult, OperationStatus
from bot.sources.graph import NUMBER_ASSIGNMENTS, GraphSource
from bot.sources.graph_odata import graph_url, same_origin, segment
from bot.sources.http import HttpResponse, retry_after_seconds

log = logging.getLogger(__name__)

NUMBERS_WRITE = "TeamsTelephoneNumber.ReadWrite.All"
OPERATIONS = "admin/teams/telephoneNumberManagement/operations"
WRITE_RETRIES = frozenset({429})
STATUSES: tuple[OperationStatus, ...] = ("notStarted", "running", "succeeded", "failed", "skipped")
_NATIONAL = {cloud: hosts for cloud, hosts in GRAPH_CLOUDS.items() if cloud != "public"}
_NATIONAL_HOSTS = {URL(host).host for hosts in _NATIONAL.values() for host in hosts}
_OPERATION_ID = re.compile(r"operations(?:\('(?P<quoted>[^']+)'\)|/(?P<plain>[^/?]+))")


@dataclass(frozen=True)
class PollPolicy:
    """How an operation is followed: the first wait, its growth, the longest wait, and the bound
    (seconds waited in all) after which the step is "still running"."""

    first: float = 0.5
    factor: float = 1.25  # a result is seen at most a quarter of the time waited after it came
    longest: float = 10.0
    bound: float = 180.0


def national_cloud_reason(settings: Settings) -> str | None:
    """Why fixes are off in this cloud, or None in Microsoft's global service."""
    if settings.graph_cloud != "public":
        return (
            f"Fixes are off in this cloud (GRAPH_CLOUD={settings.graph_cloud}): Microsoft offers the Teams "
            "number writes (assignNumber, unassignNumber) in its global service only."
        )
    for name, value in (
        ("GRAPH_ENDPOINT", settings.graph_endpoint),
        ("GRAPH_AUTHORITY_HOST", settings.graph_authority_host),
    ):
        if URL(value).host in _NATIONAL_HOSTS:
            return (
                f"Fixes are off in this cloud ({name} is {value}, a national cloud): Microsoft offers the Teams "
                "number writes (assignNumber, unassignNumber) in its global service only."
            )
    return None


def token_roles(token: str) -> frozenset[str] | None:
    """The application permissions an app-only access token lists in its `roles` claim.

    Only the payload is read (no signature check: this is our own token, read to know what it may
    do). None when the token is not a readable JWT; an empty set when it lists no roles."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(claims, dict):
        return None
    roles = claims.get("roles")
    if not isinstance(roles, list):
        return frozenset()
    return frozenset(r for r in roles if isinstance(r, str))


def not_granted() -> str:
    return (
        f"The app may not change Teams numbers: Microsoft Graph has not granted it {NUMBERS_WRITE} "
        "(application permission). Grant it and give admin consent, then try again."
    )


class GraphNumberWriter:
    """`NumberWriter` over Microsoft Graph; shares the Graph source's token and HTTP client."""

    name = "graph"

    def __init__(
        self,
        settings: Settings,
        graph: GraphSource,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        poll: PollPolicy | None = None,
    ):
        self._settings = settings
        self._graph = graph
        self._sleep = sleep
        self._poll = poll or PollPolicy()

    def unavailable_reason(self) -> str | None:
        return national_cloud_reason(self._settings)

    async def write_access(self) -> str | None:
        reason = self.unavailable_reason()
        if reason is not None:
            return reason
        roles = token_roles(await self._graph.tokens.token())
        if roles is not None and NUMBERS_WRITE not in roles:
            return not_granted()
        return None  # granted, or a token that cannot be read: a 403 will still say so

    async def assign_number(
        self,
        telephone_number: str,
        target_id: str,
        *,
        number_type: str = "directRouting",
        assignment_category: str = "primary",
    ) -> OperationResult:
        body = {
            "telephoneNumber": telephone_number,
            "assignmentTargetId": target_id,
            "numberType": number_type,
            "assignmentCategory": assignment_category,
        }
        return await self._start("assignNumber", body)

    async def unassign_number(
        self, telephone_number: str, *, number_type: str = "directRouting"
    ) -> OperationResult:
        return await self._start(
            "unassignNumber", {"telephoneNumber": telephone_number, "numberType": number_type}
        )

    async def operation(self, operation_id: str) -> OperationResult:
        url = graph_url(self._settings.graph_endpoint, f"{OPERATIONS}/{segment(operation_id)}")
        response = await self._graph.respond("GET", url, "a number operation")
        return self._read(response, operation_id) or OperationResult(operation_id, "running")

    # ---------------------------------------------------------------------------------------------

    async def _start(self, action: str, body: dict[str, Any]) -> OperationResult:
        refusal = await self.write_access()
        if refusal is not None:  # the Fixer asks first; this is the last line of defence
            raise PermissionMissing(refusal, permission=NUMBERS_WRITE, source="graph")
        url = graph_url(self._settings.graph_endpoint, f"{NUMBER_ASSIGNMENTS}/{action}")
        # Only a 429 is retried: Microsoft did not act on it. A 5xx may have been acted on, so it is
        # not sent again but reported (the plan stops; the diagnosis after it says what is true).
        response = await self._graph.respond(
            "POST", url, f"the number change ({action})", json_body=body, retry_statuses=WRITE_RETRIES
        )
        if response.status == 403:
            raise PermissionMissing(not_granted(), permission=NUMBERS_WRITE, source="graph")
        if response.status >= 500:
            return OperationResult(
                None,
                "failed",
                f"Microsoft Graph answered {action} with HTTP {response.status}: whether it took effect is "
                "unknown, so it was not sent again.",
            )
        if response.status != 202:
            return OperationResult(None, "failed", _error_words(response, action))
        location = response.headers.get("Location")
        if not location:
            return OperationResult(
                None,
                "failed",
                f"Microsoft Graph accepted {action} but named no operation to follow (no Location).",
            )
        link = urljoin(self._settings.graph_endpoint + "/", location)
        if not same_origin(link, self._settings.graph_endpoint):
            raise SourceUnavailable(
                f"Microsoft Graph linked the {action} operation to another host.", source="graph"
            )
        return await self._follow(URL(link, encoded=True), _operation_id(location))

    async def _follow(self, url: URL, operation_id: str | None) -> OperationResult:
        """Poll until the operation ends, or answer `running` once the bound is reached."""
        waited, interval = self._poll.first, self._poll.first * self._poll.factor
        await self._sleep(waited)  # no operation ends the moment it was accepted
        while True:
            response = await self._graph.respond("GET", url, "a number operation")
            result = self._read(response, operation_id)
            if result is not None and result.status in ("succeeded", "failed", "skipped"):
                return result
            operation_id = (result.operation_id if result else None) or operation_id
            wait = max(interval, retry_after_seconds(response.headers) or 0.0)
            if waited + wait > self._poll.bound:
                log.info(
                    "number operation still running", extra={"operation": operation_id, "waited_s": waited}
                )
                return OperationResult(operation_id, "running")
            await self._sleep(wait)
            waited += wait
            interval = min(interval * self._poll.factor, self._poll.longest)

    def _read(self, response: HttpResponse, operation_id: str | None) -> OperationResult | None:
        """A `telephoneNumberLongRunningOperation`, bare or wrapped in `{"value": …}`; None while
        Graph does not know it yet (404 right after the 202) or answers with no status."""
        if response.status == 404:
            return None
        if response.status == 403:  # the change was accepted already: a failure to follow it, not a refusal
            raise SourceUnavailable(
                "Microsoft Graph accepted the number change but refused to say how it went (HTTP 403): "
                f"grant {NUMBERS_WRITE} (or TeamsTelephoneNumber.Read.All) and give admin consent.",
                source="graph",
            )
        if response.status != 200:
            raise SourceUnavailable(
                f"Microsoft Graph could not say how the number change went (HTTP {response.status}).",
                source="graph",
            )
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("value"), dict):
            body = body["value"]
        if not isinstance(body, dict) or body.get("status") not in STATUSES:
            return None
        status: OperationStatus = body["status"]
        ident = body.get("id") if isinstance(body.get("id"), str) else operation_id
        details = [
            n.get("statusDetail")
            for n in body.get("numbers") or []
            if isinstance(n, dict) and isinstance(n.get("statusDetail"), str) and n.get("statusDetail")
        ]
        failed_numbers = [
            n for n in body.get("numbers") or [] if isinstance(n, dict) and n.get("status") == "failed"
        ]
        if status == "succeeded" and failed_numbers:
            status = "failed"  # the operation ended, but not for our number
        detail = " ".join(details) or None
        if status == "failed" and detail is None:
            detail = "Microsoft gave no reason."
        return OperationResult(ident, status, detail if status != "succeeded" else None)


def _operation_id(location: str) -> str | None:
    found = _OPERATION_ID.search(location)
    if not found:
        return None
    return found.group("quoted") or found.group("plain")


def _error_words(response: HttpResponse, action: str) -> str:
    """Microsoft's reason for refusing the request, as it said it."""
    try:
        error = response.json().get("error")
    except (SourceUnavailable, AttributeError):
        error = None
    message = error.get("message") if isinstance(error, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    said = f": {message}" if isinstance(message, str) and message else ""
    label = f"HTTP {response.status}" + (f", {code}" if isinstance(code, str) and code else "")
    return f"Microsoft Graph refused {action} ({label}){said}"
