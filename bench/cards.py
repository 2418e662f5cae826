"""Issue 9, item 4: the largest card Voice Doctor sends, for the worst data it can meet.

Worst case, made of everything that makes a card long: display names and UPNs at Entra's limits
(256 and 113 characters), the name in non-ASCII letters (each one 6 bytes once JSON-escaped, as
Bot Framework sends it), 50 failed calls with long trunk names and correlation ids, 20 voice routing domains of
long FQDNs with a "Temporary Domain Voice Activation User" on each. The data goes through the real
engine (in-memory sources speaking the `bot.diagnosis.evidence` Protocols), so the diagnoses carry every
check, action and support request the rules write for it; then through every card builder that
shows a diagnosis. The size is that of the JSON the bot sends (`json.dumps`, ASCII-escaped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.evidence import (
    CallQuery,
    CallRecord,
    CallSearch,
    DirectoryUser,
    Domain,
    EightByEightUser,
    HelpdeskStatus,
    NumberAssignment,
    NumberChange,
    NumberHolder,
    VoiceConfig,
)
from bot.diagnosis.model import Diagnosis
from cards.context import CardContext
from cards.diagnosis import diagnosis_card, helpdesk_report_card, progress_card, result_card, self_report_card

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
FAILED_CALLS = 50
DOMAINS = 20
NAME = ("Zoë-Åsa Łukasiewicz-Ørstedçà " * 10)[:256]  # Entra's longest displayName, all escaped
UPN = ("zoe.asa.lukasiewicz.orsted." * 4)[:88] + "@contoso-holdings.example"  # 113, ASCII as UPNs are
TEAMS_NUMBER = "+14255550101"
EIGHT_NUMBER = "+14255550199"
ACTIVATION_NAME = "Temporary Domain Voice Activation User"


def _domain(i: int) -> str:
    return f"cnt{i:04d}-customer-tenant-{i:02d}.voice-routing.vt.8x8.example"


class WorstMicrosoft:
    name = "graph"

    def __init__(self, teams_number: str):
        self.user = DirectoryUser(
            id="8c9d0e1f-2a3b-4c5d-8e6f-7a8b9c0d1e2f",
            user_principal_name=UPN,
            display_name=NAME,
            mail=UPN,
            phone_plan_enabled=True,
            phone_plan_since=NOW - timedelta(days=400),
            business_phones=(teams_number,),
        )
        self.teams_number = teams_number

    async def find_users(self, query: str) -> list[DirectoryUser]:
        return [self.user]

    async def get_user(self, user_id: str) -> DirectoryUser | None:
        return self.user

    async def number_assignments(self, user_id: str) -> list[NumberAssignment]:
        return [
            NumberAssignment(
                self.teams_number, "directRouting", "activated", "userAssigned", "primary", user_id
            )
        ]

    async def voice_config(self, user_id: str) -> VoiceConfig | None:
        return VoiceConfig(True, (self.teams_number,), "user")

    async def number_holders(self, number: str, *, teams_only: bool = False) -> list[NumberHolder]:
        """The worst case holds the user's 8x8 number too: Teams gives it to a call queue."""
        holder = DirectoryUser(
            id="9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a",
            user_principal_name="customer-service-overflow-queue@contoso-international.example",
            display_name="Customer Service Overflow Queue (after hours, all regions)",
            account_enabled=False,
            resource_account_plan=True,
        )
        return [NumberHolder(number, holder, "teams")]

    async def user_calls(self, query: CallQuery) -> CallSearch:
        since, until, numbers = query.since, query.until, query.numbers
        calls = [
            CallRecord(
                correlation_id=f"{i:08x}-7d4a-4e9b-a6c2-5b8e1f0d9a47",
                at=until - timedelta(minutes=7 * i + 1),
                call_type="ByotIn",
                successful=False,
                caller_number=f"+1206555{i:04d}",
                callee_number=numbers[0],
                sip_code=404,
                sub_code=511404,
                phrase="Not Found",
                trunk_fqdn=_domain(i % DOMAINS),
            )
            for i in range(FAILED_CALLS)
        ]
        search = CallSearch(calls=calls, window_start=since, window_end=until, pages_scanned=700)
        for call in calls:
            search.tally(call)
        return search

    async def domains(self) -> list[Domain]:
        return [Domain(id=_domain(i), is_verified=True) for i in range(DOMAINS)]

    async def users_on_domain(self, fqdn: str) -> list[DirectoryUser]:
        return [self._activation_user(fqdn)]

    async def users_named(self, display_name: str) -> list[DirectoryUser]:
        return [self._activation_user(_domain(i)) for i in range(DOMAINS)]

    async def helpdesk_status(self, user_id: str) -> HelpdeskStatus:
        return HelpdeskStatus(True, "Teams Administrator")

    def _activation_user(self, fqdn: str) -> DirectoryUser:
        return DirectoryUser(
            id=f"{abs(hash(fqdn)) % 10**8:08d}-0000-4000-8000-000000000000",
            user_principal_name=f"tempvoiceactivation@{fqdn}",
            display_name=ACTIVATION_NAME,
            phone_plan_enabled=True,
        )


class WorstEightByEight:
    name = "8x8"

    def __init__(self, number: str):
        self.number = number

    async def find_user(self, user_principal_name: str, mail: str | None = None) -> EightByEightUser | None:
        return EightByEightUser(
            user_id="hM2xV9bT4kQe7sLw1pZc8A",
            user_name=UPN,
            primary_email=UPN,
            status="ACTIVE",
            display_name=NAME,
            primary_number=self.number,
            numbers=(self.number,),
            ms_teams_enabled=True,
        )

    async def number_change(self, user: EightByEightUser, now: datetime) -> NumberChange | None:
        """The longest answer the audit records give: a number replaced by another."""
        return NumberChange(
            at=now - timedelta(days=3), old="+14255550199", new=self.number, entity_type="extension"
        )


class WorstPortal:
    name = "portal"

    async def first_complete_sync(self, user: DirectoryUser | None) -> datetime | None:
        return NOW - timedelta(days=30)

    async def call_data_text(self, user: DirectoryUser) -> str | None:
        return None

    async def sync_history_text(self) -> str | None:
        first = NOW - timedelta(days=3)
        lines = ["Sync History", "Date                      Type         Status     Details"]
        for i in range(DOMAINS):
            stamp = (first + timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S UTC")
            lines.append(
                f'{stamp}   Teams sync   Failed     PSERROR1> PSTN Gateway not ready yet:  "{_domain(i)}"'
            )
        return "\n".join(lines)


async def worst_diagnoses() -> list[Diagnosis]:
    """Out of sync (support request, 50 calls), a number mismatch, and the 20-domain sync error."""
    out = []
    for teams, eight in ((TEAMS_NUMBER, TEAMS_NUMBER), (TEAMS_NUMBER, EIGHT_NUMBER)):
        engine = Engine(
            WorstMicrosoft(teams),
            WorstEightByEight(eight),
            WorstPortal(),
            data_source="live",
            clock=lambda: NOW,
        )
        out.append(await engine.diagnose(DiagnosisRequest(problem="inbound-calls", user=UPN)))
    engine = Engine(
        WorstMicrosoft(TEAMS_NUMBER),
        WorstEightByEight(TEAMS_NUMBER),
        WorstPortal(),
        data_source="live",
        clock=lambda: NOW,
    )
    out.append(await engine.diagnose(DiagnosisRequest(problem="sync-error", user=UPN)))
    return out


@dataclass(frozen=True)
class CardSize:
    card: str
    cause: str
    size: int


def card_sizes(diagnoses: list[Diagnosis]) -> list[CardSize]:
    """Every diagnosis through every card builder that shows one, with its size in bytes."""
    sizes = []
    for d in diagnoses:
        ctx = CardContext(
            now=NOW, case_id="c" * 36, can_share_to_helpdesk=True, last_checked=NOW, data_source="live"
        )
        cards: dict[str, dict[str, Any]] = {
            "diagnosis": diagnosis_card(d, ctx),
            "helpdesk report": helpdesk_report_card(
                d, ctx, reporter_name=NAME, reporter_id="29:" + "x" * 120, assigned_to=NAME, status="assigned"
            ),
            "self report": self_report_card(d, ctx, helpdesk_notified=True),
            "result": result_card(d, ctx),
            "progress": progress_card(d.problem, list(d.checks), subject_name=NAME, ctx=ctx),
        }
        sizes += [CardSize(name, d.cause, len(json.dumps(card).encode())) for name, card in cards.items()]
    return sizes


async def max_card_bytes() -> tuple[int, list[CardSize]]:
    diagnoses = await worst_diagnoses()
    causes = [d.cause for d in diagnoses]
    if causes != ["microsoft-out-of-sync", "number-mismatch", "gateway-activation-failed"]:
        raise RuntimeError(f"the worst-case data did not produce the intended diagnoses: {causes}")
    sizes = card_sizes(diagnoses)
    return max(s.size for s in sizes), sizes
