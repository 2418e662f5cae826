"""`python -m bot doctor`: can the bot work with this configuration, and if not, what to fix.

A table of checks, each with its fix: the configuration loads, the app can sign in, each Microsoft
Graph application permission the bot uses is granted (the smallest request that needs it), and the
8x8 key works. A missing permission names itself and the tenant's admin consent URL, because that
is the one page a Teams admin has to open. Exit 0 when the bot can work, 2 when it cannot.

In demo mode (no Graph credentials) it says so plainly, and what to set to connect a tenant.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict, dataclass
from typing import Literal
from urllib.parse import quote

from bot.config import ConfigError, Settings, load_settings

HELP = "check configuration, Microsoft sign-in, each Graph permission and the 8x8 key"
Status = Literal["ok", "FAIL", "warn", "skip", "info"]
CONNECT_DOC = "docs/connect-tenant.md"
GRAPH_VARIABLES = ("GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET")


@dataclass(frozen=True)
class Row:
    check: str
    status: Status
    detail: str
    fix: str = ""

    @property
    def blocks(self) -> bool:
        """A FAIL means the bot cannot work until it is fixed; warnings only weaken diagnoses."""
        return self.status == "FAIL"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the checks as one JSON object")


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    rows = asyncio.run(check(settings))
    usable = not any(row.blocks for row in rows)
    if getattr(args, "json", False):
        print(json.dumps({"usable": usable, "checks": [asdict(row) for row in rows]}, indent=2))
    else:
        print(render(rows, usable))
    return 0 if usable else 2


# ---------------------------------------------------------------------------------------------
# The checks


async def check(settings: Settings) -> list[Row]:
    """Every row of the report, in the order an admin would fix them."""
    rows = [configuration_row(settings)]
    if settings.graph_configured:
        rows += await graph_rows(settings)
        if settings.diagnostics_source == "demo":
            rows.append(
                Row(
                    "data source",
                    "info",
                    "DIAGNOSTICS_SOURCE=demo: the bot answers from the embedded demo tenant although Graph "
                    "credentials are set.",
                    "unset DIAGNOSTICS_SOURCE (or set it to live) to diagnose your tenant",
                )
            )
    elif settings.diagnostics_source == "demo":
        rows.append(
            Row(
                "Microsoft Graph",
                "info",
                "demo mode: no Graph credentials are set, so the bot answers from its embedded demo tenant.",
                f"to diagnose your tenant set {', '.join(GRAPH_VARIABLES)} (see {CONNECT_DOC})",
            )
        )
        rows.append(demo_fixes_row(settings))
    else:
        missing = _missing_graph_variables(settings)
        rows.append(
            Row(
                "Microsoft Graph",
                "FAIL",
                f"DIAGNOSTICS_SOURCE=live but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set.",
                f"set {', '.join(missing)} (see {CONNECT_DOC}), or DIAGNOSTICS_SOURCE=demo",
            )
        )
    rows.append(await eightbyeight_row(settings))
    if rows[-1].status == "ok":
        rows.append(await eightbyeight_audit_row(settings))
    return rows


def configuration_row(settings: Settings) -> Row:
    parts = [f"data: {settings.diagnostics_source}"]
    if settings.graph_configured:
        parts.append(
            f"Graph {settings.graph_endpoint} (sign-in {settings.graph_authority_host}), "
            f"tenant {settings.graph_tenant_id}, app {settings.graph_client_id}"
        )
    parts.append("helpdesk group " + ("set" if settings.helpdesk_group_id else "not set"))
    return Row("configuration", "ok", "; ".join(parts) + ".")


async def graph_rows(settings: Settings) -> list[Row]:
    from bot.diagnosis.errors import SourceError
    from bot.sources.graph import OPTIONAL_PERMISSIONS, GraphSource

    http = _probe_http()
    try:
        source = GraphSource(settings, http)
        try:
            await source.sign_in()
        except SourceError as error:
            return [
                Row("sign-in", "FAIL", str(error), "fix the sign-in first; permissions are checked after it")
            ]
        rows = [Row("sign-in", "ok", f"app-only token for {settings.graph_scope}")]
        consent = admin_consent_url(settings)
        for probe in await source.probe_permissions():
            if probe.ok:
                rows.append(Row(probe.permission, "ok", f"granted: {probe.purpose}"))
            elif probe.ok is None:
                rows.append(Row(probe.permission, "skip", probe.detail))
            elif probe.denied:
                fix = f"grant {probe.permission} (application permission) and give admin consent: {consent}"
                status: Status = (
                    "warn" if probe.optional or probe.permission in OPTIONAL_PERMISSIONS else "FAIL"
                )
                rows.append(Row(probe.permission, status, f"missing: needed to {probe.purpose}.", fix))
            else:
                rows.append(
                    Row(
                        probe.permission,
                        "warn" if probe.optional else "FAIL",
                        probe.detail,
                        "check the detail, then run doctor again",
                    )
                )
        rows.append(await fixes_row(settings, source))
        return rows
    finally:
        await http.close()


FIXES_ON = (
    "set FIXES=on and grant TeamsTelephoneNumber.ReadWrite.All (application permission) with admin consent"
)


def demo_fixes_row(settings: Settings) -> Row:
    if settings.fixes:
        return Row(
            "fixes", "ok", "usable: FIXES=on (the demo's default); fixes change the demo tenant's own data."
        )
    return Row(
        "fixes", "info", "FIXES=off: the demo shows the steps of a fix but changes nothing.", "unset FIXES"
    )


async def fixes_row(settings: Settings, source) -> Row:
    """Whether the helpdesk's Teams admins may let Voice Doctor change Teams numbers, and what is missing."""
    from bot.diagnosis.errors import SourceError
    from bot.sources.graph_numbers import GraphNumberWriter

    writer = GraphNumberWriter(settings, source)
    cloud = writer.unavailable_reason()
    if not settings.fixes:
        missing = "FIXES is off" + (f"; besides, {cloud[0].lower()}{cloud[1:]}" if cloud else "")
        return Row(
            "fixes",
            "info",
            f"not usable: {missing} Voice Doctor shows the steps but changes nothing.",
            FIXES_ON,
        )
    if cloud:
        return Row("fixes", "warn", f"not usable: {cloud}", "fixes stay steps for a person in this cloud")
    try:
        refusal = await writer.write_access()
    except SourceError as error:
        return Row("fixes", "warn", f"unknown: {error}", "fix the sign-in, then run doctor again")
    if refusal:
        return Row(
            "fixes",
            "warn",
            f"not usable: {refusal}",
            f"grant TeamsTelephoneNumber.ReadWrite.All and give admin consent: {admin_consent_url(settings)}",
        )
    return Row(
        "fixes",
        "ok",
        "usable: FIXES=on and TeamsTelephoneNumber.ReadWrite.All is granted (the token's roles).",
    )


async def eightbyeight_row(settings: Settings) -> Row:
    if not settings.eightbyeight_configured:
        return Row(
            "8x8 API key",
            "skip",
            "EIGHTBYEIGHT_API_KEY is not set: 8x8 checks are reported as not configured "
            "(the admin can give the user's 8x8 number instead).",
        )
    from bot.sources.eightbyeight import EightByEightApiSource

    http = _probe_http()
    try:
        ok, detail = await EightByEightApiSource(settings, http).probe()
        if ok:
            return Row("8x8 API key", "ok", detail)
        # 8x8's Administration API is limited access: without it the admin types the 8x8 number.
        return Row("8x8 API key", "warn", detail, "check EIGHTBYEIGHT_API_KEY and EIGHTBYEIGHT_API_BASE")
    finally:
        await http.close()


async def eightbyeight_audit_row(settings: Settings) -> Row:
    """8x8's Audit Records (optional): when a person's 8x8 number changed, for a number-mismatch."""
    from datetime import UTC, datetime

    from bot.sources.eightbyeight import EightByEightApiSource

    http = _probe_http()
    try:
        ok, detail = await EightByEightApiSource(settings, http).probe_audit(datetime.now(UTC))
        if ok:
            return Row("8x8 audit records", "ok", detail)
        return Row(
            "8x8 audit records",
            "warn",
            f"{detail.rstrip('.')}; optional: without it a number-mismatch does not say when 8x8's number changed.",
            "add the Audit Records API product to the key's app in 8x8 Admin Console (optional)",
        )
    finally:
        await http.close()


def _probe_http():
    """A client for the probes: two tries and a short budget, so doctor answers promptly."""
    from bot.sources.http import HttpClient, RetryPolicy

    return HttpClient(RetryPolicy(attempts=2, total_seconds=20.0, request_timeout=10.0))


def admin_consent_url(settings: Settings) -> str:
    """Where a Global Administrator grants the app's permissions for the tenant."""
    return (
        f"{settings.graph_authority_host}/{quote(settings.graph_tenant_id, safe='')}/adminconsent"
        f"?client_id={quote(settings.graph_client_id, safe='')}"
    )


def _missing_graph_variables(settings: Settings) -> list[str]:
    values = (settings.graph_tenant_id, settings.graph_client_id, settings.graph_client_secret)
    return [name for name, value in zip(GRAPH_VARIABLES, values, strict=True) if not value]


# ---------------------------------------------------------------------------------------------
# Output


def render(rows: list[Row], usable: bool) -> str:
    width = max(len(row.check) for row in rows) + 2
    lines = [f"{'CHECK':<{width}}{'RESULT':<8}DETAIL"]
    for row in rows:
        lines.append(f"{row.check:<{width}}{row.status:<8}{row.detail}")
        if row.fix:
            lines.append(f"{'':<{width + 8}}fix: {row.fix}")
    lines.append("")
    if usable:
        lines.append("The bot can work with this configuration.")
    else:
        failed = ", ".join(row.check for row in rows if row.blocks)
        lines.append(f"The bot cannot work until these are fixed: {failed}.")
    return "\n".join(lines)
