"""What the watch does with what is new: cases, the digest in the helpdesk channel, cases resolved.

The watch (`bot/watch.py`) decides what is new; this is the Teams side of it:

- every new finding becomes a case (the case store and its follow-ups: a "wait" answer is
  re-checked when its wait is over), with the diagnosis the sweep already holds for the person —
  no request more; a person told of before under another cause gets their case re-checked instead;
- one digest card, a new thread in the helpdesk channel (`HELPDESK_CHANNEL_ID`, or the channel set
  in chat), with each case's reference to that thread so the follow-ups speak there;
- who works again: their case resolved, their name in the digest.

Posting outside any turn needs what a turn gives: the service URL, the bot's account and the
tenant. They are kept from the activities the bot receives (`remember`), in the state store, so
the watch can post once the bot has heard from the tenant — and after a restart.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from botbuilder.core import BotAdapter
from botbuilder.schema import Activity, ChannelAccount

from bot.case_service import CaseRecord
from bot.diagnosis.engine import DiagnosisRequest
from bot.diagnosis.sweep import sweep_todo
from bot.watch import WatchRound
from cards.context import CardContext
from cards.sweep import Recovered, digest_card
from dialogs.presenter import Presenter, start_channel_thread
from dialogs.services import card_message, fixes_unavailable, tenant_of

log = logging.getLogger("voice_doctor.watch")

ENDPOINT_KEY = "voice-doctor/watch/endpoint"
WATCH_NAME = "Voice Doctor watch"
MAX_CASES_PER_ROUND = 500  # a first sweep of a large tenant: the rest are in the digest and the CSV


class WatchPoster:
    def __init__(self, presenter: Presenter, adapter: BotAdapter, app_id: str, storage: Any):
        self.presenter = presenter
        self.services = presenter.services
        self.adapter = adapter
        self.app_id = app_id
        self.storage = storage
        self._known: dict[str, Any] | None = None

    # --- where to post --------------------------------------------------------------------------------

    async def remember(self, activity: Activity) -> bool:
        """Keep the service URL, the bot's account and the tenant of an activity the bot received;
        True when they are new (the watch may now post)."""
        recipient = activity.recipient
        if not activity.service_url or recipient is None or not recipient.id:
            return False
        endpoint = {
            "serviceUrl": activity.service_url,
            "botId": recipient.id,
            "botName": recipient.name,
            "tenantId": tenant_of(activity),
        }
        if self._known is None:
            self._known = await self._endpoint() or {}
        if all(self._known.get(k) == v for k, v in endpoint.items()):
            return False
        await self.storage.write({ENDPOINT_KEY: {**endpoint, "e_tag": "*"}})
        self._known = endpoint
        return True

    async def ready(self) -> bool:
        """Whether the watch can tell anyone: the bot has heard from the tenant, a channel is set."""
        endpoint = await self._endpoint()
        return endpoint is not None and bool(
            await self.presenter.tenant_helpdesk_channel(endpoint["tenantId"])
        )

    async def _endpoint(self) -> dict[str, Any] | None:
        item = (await self.storage.read([ENDPOINT_KEY])).get(ENDPOINT_KEY)
        return item if isinstance(item, dict) and item.get("serviceUrl") and item.get("botId") else None

    # --- telling ------------------------------------------------------------------------------------

    async def report(self, round_: WatchRound) -> dict[tuple[str, str], str | None] | None:
        """Open or re-check the cases, post the digest, resolve who works again; the case id of each
        new finding, or None when there is nowhere to post yet."""
        endpoint = await self._endpoint()
        channel = await self.presenter.tenant_helpdesk_channel(endpoint["tenantId"]) if endpoint else None
        if endpoint is None or not channel:
            return None
        tenant = endpoint["tenantId"]
        cases = await self._cases(round_, tenant)
        recovered = [Recovered(t.name, t.problem, t.cause) for t in round_.recovered]
        ctx = CardContext(
            now=self.services.clock(),
            conversation="channel",
            data_source=self.services.data_source,
            can_fix=fixes_unavailable(self.services) is None,
        )
        case_ids = {key: record.id if record else None for key, record in cases.items()}
        card = digest_card(round_.new, ctx, watch=True, recovered=recovered, case_ids=case_ids)
        reference, activity_id = await start_channel_thread(
            self.adapter,
            ChannelAccount(id=endpoint["botId"], name=endpoint.get("botName")),
            endpoint["serviceUrl"],
            tenant,
            channel,
            card_message(card),
            self.app_id,
        )
        log.info("watch digest posted", extra={"new": len(cases), "recovered": len(recovered)})
        thread = reference.serialize() if reference else {}
        for record in cases.values():
            if record is not None:
                await self.services.cases.add_reference(record, thread, None, "watch")
        await self._resolve(round_)
        return {key: (record.id if record else None) for key, record in cases.items()}

    async def _cases(
        self, round_: WatchRound, tenant: str | None
    ) -> dict[tuple[str, str], CaseRecord | None]:
        out: dict[tuple[str, str], CaseRecord | None] = {}
        opened = 0
        for finding in round_.new.findings:
            for subject in finding.subjects:
                key = (finding.problem, subject.key)
                diagnosis = round_.result.diagnosis(finding.problem, subject.key)
                if diagnosis is not None and diagnosis.cause != finding.cause:
                    # one of the sweep's own findings (a number on two people, a stuck activation):
                    # the case says it, with the diagnosis's checks as its evidence
                    diagnosis = replace(
                        diagnosis,
                        cause=finding.cause,
                        title=finding.title,
                        summary=sweep_todo(finding.cause) or diagnosis.summary,
                        confidence="confirmed",
                        alternatives=[],
                    )
                before = round_.changed.get(key)
                record = await self.services.cases.get(before.case_id) if before and before.case_id else None
                if diagnosis is None:
                    out[key] = record
                elif record is not None:
                    out[key] = await self.services.cases.record_check(record, diagnosis)
                elif opened < MAX_CASES_PER_ROUND:
                    opened += 1
                    request = DiagnosisRequest(
                        problem=finding.problem,
                        user_id=subject.id,
                        user=None
                        if subject.id
                        else (subject.eightbyeight_number or subject.user_principal_name),
                    )
                    out[key] = await self.services.cases.open(
                        diagnosis, request, tenant_id=tenant, reporter_id=None, reporter_name=WATCH_NAME
                    )
                else:
                    out[key] = None
        return out

    async def _resolve(self, round_: WatchRound) -> None:
        for entry in round_.recovered:
            record = await self.services.cases.get(entry.case_id) if entry.case_id else None
            if record is not None and record.status != "resolved":
                await self.services.cases.resolve(record, WATCH_NAME)
