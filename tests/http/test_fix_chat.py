"""Fix it in the running bot, over the demo tenant's own writes and a fake Bot Connector: the plan,
Confirm, the card edited as each step ends, the proof; who may press; once only; the audit trail."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app import SERVICES
from bot.cases.fixes import fixes_of
from bot.config import load_settings
from bot.sources.demo import DemoTenant
from bot.sources.factory import Sources
from tests.apphost import ADELE, MEGAN, activity, channel_conversation, running_app
from tests.cardschema import assert_valid_card, execute_data, submit_data
from tests.fakes.graph_fixtures import Clock
from tests.storage_backends import fresh_schema

DEMO = load_settings({"DIAGNOSTICS_SOURCE": "demo"}, env_file=None)


class CountingWriter:
    """The demo's writer, counting the writes that reach it (what Graph would receive)."""

    def __init__(self, writer):
        self._writer = writer
        self.writes: list[tuple[str, str]] = []

    def __getattr__(self, name):
        return getattr(self._writer, name)

    async def assign_number(self, telephone_number, target_id, **kwargs):
        self.writes.append(("assignNumber", telephone_number))
        return await self._writer.assign_number(telephone_number, target_id, **kwargs)

    async def unassign_number(self, telephone_number, **kwargs):
        self.writes.append(("unassignNumber", telephone_number))
        return await self._writer.unassign_number(telephone_number, **kwargs)


def demo_sources() -> Sources:
    """The demo tenant with quick operations (a twentieth of a second each) and its writes counted."""
    tenant = DemoTenant.load(operation_seconds=0.05)
    return Sources(
        tenant.microsoft, tenant.eightbyeight, tenant.portal, "demo", CountingWriter(tenant.writer)
    )


GRADY = {
    "id": "29:grady-archie",
    "name": "Grady Archie",
    "aadObjectId": "00000000-0000-0000-0000-0000000b0001",
}
ADELE_ID = ADELE["aadObjectId"]


def execute(
    service_url: str, verb: str, data: dict[str, Any], *, sender=MEGAN, reply_to: str | None = None, **extra
):
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}
    return activity(
        service_url,
        type="invoke",
        name="adaptiveCard/action",
        value=value,
        sender=sender,
        replyToId=reply_to,
        **extra,
    )


def card_of(body: str) -> dict[str, Any]:
    return json.loads(body)["value"]


def words(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


def sent_cards(connector) -> list[tuple[str | None, dict[str, Any]]]:
    """(activity id given by the connector, card) of every card sent (not updated)."""
    out = []
    for r in connector.received:
        if r.method in ("send", "reply"):
            for a in r.body.get("attachments") or []:
                out.append((r.body.get("id"), a["content"]))
    return out


async def diagnose_adele(app, connector, sender=MEGAN) -> dict[str, Any]:
    await app.post(activity(connector.url, text="check calls for adele@contoso.example", sender=sender))
    await app.settle()
    return [c for c in connector.cards() if "Teams has a different number" in words(c)][-1]


async def plan_card(app, connector, diagnosis: dict[str, Any], sender=MEGAN) -> tuple[dict, str | None]:
    """Press Fix it on the diagnosis card; the plan card sent, and its activity id at the connector."""
    status, body = await app.post(
        execute(connector.url, "fix", execute_data(diagnosis, "fix"), sender=sender)
    )
    assert status == 200
    plans = [
        r for r in connector.received if r.method in ("send", "reply") and "Confirm" in json.dumps(r.body)
    ]
    assert plans, "no plan card was sent"
    return plans[-1].body["attachments"][0]["content"], plans[-1].activity_id


async def test_fix_it_confirm_fixes_adele_and_proves_it(connector):
    async with running_app(DEMO, sources=demo_sources()) as app:
        diagnosis = await diagnose_adele(app, connector)
        assert execute_data(diagnosis, "fix"), "Fix it is not offered to a Teams Administrator"
        plan, _ = await plan_card(app, connector, diagnosis)
        assert_valid_card(plan)
        text = words(plan)
        assert "Take +1 425-555-0120 from Adele Vance" in text and "Give Adele Vance +1 425-555-0102" in text
        assert "Asked by" in text and "Megan Bowen" in text

        status, body = await app.post(execute(connector.url, "fixConfirm", execute_data(plan, "fixConfirm")))
        assert status == 200 and "Fixing" in words(card_of(body))
        await app.app[SERVICES].fixes.settle()

        updates = [r.body["attachments"][0]["content"] for r in connector.received if r.method == "update"]
        final = updates[-1]
        assert_valid_card(final)
        assert "Fixed and verified" in words(final)
        assert "operation" in words(final) and "Confirmed by" in words(final)
        assert any("Fixing" in words(u) and "✓" in words(u) for u in updates), "no card per step"

        seen = len(connector.received)
        status, body = await app.post(execute(connector.url, "fixCheck", execute_data(final, "fixCheck")))
        assert "Fixed and verified" in words(card_of(body))  # the fix's card stays
        checked = [r for r in connector.received[seen:] if r.method in ("send", "reply")]
        assert checked and "Adele Vance" in json.dumps(checked[-1].body)
        assert "Teams has a different number" not in json.dumps(checked[-1].body)
        assert "out of sync" not in json.dumps(checked[-1].body)  # the calls before the fix do not count

        await app.post(activity(connector.url, text="cases"))
        await app.settle()
        cases = words(connector.cards()[-1])
        assert "Fix: fixed and verified, confirmed by Megan Bowen" in cases


async def test_cancel_changes_nothing(connector):
    async with running_app(DEMO, sources=demo_sources()) as app:
        diagnosis = await diagnose_adele(app, connector)
        plan, _ = await plan_card(app, connector, diagnosis)
        status, body = await app.post(execute(connector.url, "fixCancel", execute_data(plan, "fixCancel")))
        assert "Cancelled by Megan Bowen" in words(card_of(body)) and "Nothing was changed" in words(
            card_of(body)
        )
        status, body = await app.post(execute(connector.url, "fixConfirm", execute_data(plan, "fixConfirm")))
        assert "Cancelled" in words(card_of(body))  # a Confirm after Cancel runs nothing
        await app.app[SERVICES].fixes.settle()
        assert "Teams has a different number" in words(await diagnose_adele(app, connector))


@pytest.mark.parametrize(
    ("sender", "says"),
    [(ADELE, "Fixes are for the helpdesk's Teams admins"), (GRADY, "you hold none of these roles")],
)
async def test_only_a_helpdesk_member_with_a_number_role_may_press_fix_it_or_confirm(connector, sender, says):
    async with running_app(DEMO, sources=demo_sources()) as app:
        diagnosis = await diagnose_adele(app, connector)
        plan, _ = await plan_card(app, connector, diagnosis)
        channel = channel_conversation()  # the card shared in a channel: anyone there can press
        for verb, data in (
            ("fix", execute_data(diagnosis, "fix")),
            ("fixConfirm", execute_data(plan, "fixConfirm")),
            ("fixCancel", execute_data(plan, "fixCancel")),
        ):
            seen = len(connector.received)
            status, body = await app.post(
                execute(connector.url, verb, data, sender=sender, conversation=channel)
            )
            assert status == 200
            refusal = card_of(body)
            assert says in words(refusal) and "I changed nothing" in words(refusal)
            assert not connector.received[seen:], "the refusal is for the presser alone"
        await app.app[SERVICES].fixes.settle()
        case = await app.app[SERVICES].bot.services.cases.get(execute_data(plan, "fixConfirm")["caseId"])
        assert [f.status for f in fixes_of(case.case)] == ["proposed"]
        assert "Teams has a different number" in words(await diagnose_adele(app, connector))


async def test_grady_sees_why_there_is_no_fix_it_button(connector):
    async with running_app(DEMO, sources=demo_sources()) as app:
        diagnosis = await diagnose_adele(app, connector, sender=GRADY)
        assert execute_data(diagnosis, "fix") is None
        assert "Fix it needs a Global, Teams" in words(diagnosis)


async def test_a_replayed_confirm_runs_the_plan_once(connector):
    async with running_app(DEMO, sources=demo_sources()) as app:
        diagnosis = await diagnose_adele(app, connector)
        plan, _ = await plan_card(app, connector, diagnosis)
        confirm = execute_data(plan, "fixConfirm")
        writer = app.app[SERVICES].bot.services.fixer.writer
        answers = await asyncio.gather(
            app.post(execute(connector.url, "fixConfirm", confirm)),
            app.post(execute(connector.url, "fixConfirm", confirm)),
        )
        await app.app[SERVICES].fixes.settle()
        status, again = await app.post(execute(connector.url, "fixConfirm", confirm))
        assert "Fixed and verified" in words(card_of(again))
        case = await app.app[SERVICES].bot.services.cases.get(confirm["caseId"])
        confirmed = [h for h in case.history if h.get("event") == "fix-confirmed"]
        assert len(confirmed) == 1, confirmed
        assert all(s == 200 for s, _ in answers)
        assert writer.writes == [("unassignNumber", "+14255550120"), ("assignNumber", "+14255550102")]


async def test_forged_card_data_changes_nothing(connector):
    async with running_app(DEMO, sources=demo_sources()) as app:
        diagnosis = await diagnose_adele(app, connector)
        plan, _ = await plan_card(app, connector, diagnosis)
        confirm = execute_data(plan, "fixConfirm")
        writer = app.app[SERVICES].bot.services.fixer.writer
        gone = (
            {**confirm, "fixId": "not-a-fix"},
            {"caseId": "nosuchcase00", "fixId": confirm["fixId"]},
            {"caseId": ["x"], "fixId": {"a": 1}},
        )
        for forged in gone:
            status, body = await app.post(execute(connector.url, "fixConfirm", forged))
            assert status == 200 and "is gone" in words(card_of(body))
        other_tenant = execute(
            connector.url, "fixConfirm", confirm, tenant="11111111-2222-3333-4444-555555555555"
        )
        status, body = await app.post(other_tenant)  # another tenant's case is never theirs to confirm
        assert "That case is gone" in words(card_of(body))
        assert writer.writes == []

        # extra keys are ignored: the plan the case keeps runs, re-read from Teams and 8x8
        forged = {
            **confirm,
            "fingerprint": "x",
            "telephoneNumber": "+14255550199",
            "steps": [{"action": "assignNumber"}],
        }
        await app.post(execute(connector.url, "fixConfirm", forged))
        await app.app[SERVICES].fixes.settle()
        assert {number for _, number in writer.writes} == {"+14255550120", "+14255550102"}


@pytest.mark.postgres
async def test_two_instances_on_one_postgresql_run_one_confirm_once(postgres_url, connector):
    async for url in fresh_schema(postgres_url):
        settings = load_settings({"DIAGNOSTICS_SOURCE": "demo", "STATE_STORE": url}, env_file=None)
        sources = demo_sources()  # one tenant, two instances of the bot
        async with (
            running_app(settings, sources=sources) as first,
            running_app(settings, sources=sources) as second,
        ):
            await _two_instances(first, second, connector)


async def test_two_instances_on_one_sqlite_file_run_one_confirm_once(tmp_path, connector):
    settings = load_settings(
        {"DIAGNOSTICS_SOURCE": "demo", "STATE_STORE": f"sqlite:///{tmp_path}/state.db"}, env_file=None
    )
    sources = demo_sources()
    async with (
        running_app(settings, sources=sources) as first,
        running_app(settings, sources=sources) as second,
    ):
        await _two_instances(first, second, connector)


async def _two_instances(first, second, connector) -> None:
    diagnosis = await diagnose_adele(first, connector)
    plan, _ = await plan_card(first, connector, diagnosis)
    confirm = execute_data(plan, "fixConfirm")
    answers = await asyncio.gather(
        first.post(execute(connector.url, "fixConfirm", confirm)),
        second.post(execute(connector.url, "fixConfirm", confirm)),
    )
    await asyncio.gather(first.app[SERVICES].fixes.settle(), second.app[SERVICES].fixes.settle())
    running = [s for s, body in answers if "Fixing" in words(card_of(body))]
    assert running, answers
    case = await first.app[SERVICES].bot.services.cases.get(confirm["caseId"])
    assert len([h for h in case.history if h.get("event") == "fix-confirmed"]) == 1
    assert [f.status for f in fixes_of(case.case)] == ["fixed"]
    assert len(first.app[SERVICES].bot.services.fixer.writer.writes) == 2


async def test_a_plan_that_changed_before_confirm_is_shown_again_and_nothing_is_written(connector):
    async with running_app(DEMO, sources=demo_sources()) as app:
        diagnosis = await diagnose_adele(app, connector)
        plan, _ = await plan_card(app, connector, diagnosis)
        writer = app.app[SERVICES].bot.services.fixer.writer
        await writer._writer.unassign_number("+14255550120")  # someone changed Teams meanwhile
        status, body = await app.post(execute(connector.url, "fixConfirm", execute_data(plan, "fixConfirm")))
        await app.app[SERVICES].fixes.settle()
        assert writer.writes == []
        final = [r.body["attachments"][0]["content"] for r in connector.received if r.method == "update"][-1]
        assert_valid_card(final)
        text = words(final)
        assert "Teams or 8x8 changed since the plan was drawn" in text and "Confirm 1 change to Teams" in text
        assert "Take +1 425-555-0120" not in text
        status, body = await app.post(execute(connector.url, "fixConfirm", execute_data(final, "fixConfirm")))
        await app.app[SERVICES].fixes.settle()
        final = [r.body["attachments"][0]["content"] for r in connector.received if r.method == "update"][-1]
        assert "Fixed and verified" in words(final)
        assert writer.writes == [("assignNumber", "+14255550102")]


async def test_a_failed_step_says_microsofts_reason_and_stops(connector):
    async with running_app(DEMO, sources=demo_sources()) as app:
        await app.post(activity(connector.url, text="check calls for leeg@contoso.example"))
        await app.settle()
        lee = [c for c in connector.cards() if "Lee Gu" in words(c) and execute_data(c, "fix")][-1]
        plan, _ = await plan_card(app, connector, lee)
        await app.post(execute(connector.url, "fixConfirm", execute_data(plan, "fixConfirm")))
        await app.app[SERVICES].fixes.settle()
        final = [r.body["attachments"][0]["content"] for r in connector.received if r.method == "update"][-1]
        text = words(final)
        assert "Step 1 of 1 failed" in text
        assert "Reason: The telephone number +14255550106 cannot be assigned" in text
        assert "usage location" in text and "Nothing further was tried" in text
        case = await app.app[SERVICES].bot.services.cases.get(execute_data(plan, "fixConfirm")["caseId"])
        assert case.history[-1]["event"] == "fix" and case.history[-1]["outcome"] == "failed"
        assert case.status == "open"


async def test_accepted_but_activating_is_rechecked_by_the_case_follow_up(connector):
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    sources = demo_sources()
    writer = sources.writer
    assign = writer.assign_number

    async def pending(number, target, **kwargs):  # Microsoft accepts, then activates for a while
        result = await assign(number, target, **kwargs)
        for user in writer._writer._data["users"]:
            for a in (user.get("teams") or {}).get("numberAssignments", []):
                if a["telephoneNumber"] == number:
                    a["activationState"] = "assignmentPending"
        return result

    writer.assign_number = pending
    async with running_app(DEMO, sources=sources, clock=clock) as app:
        diagnosis = await diagnose_adele(app, connector)
        plan, _ = await plan_card(app, connector, diagnosis)
        await app.post(execute(connector.url, "fixConfirm", execute_data(plan, "fixConfirm")))
        await app.app[SERVICES].fixes.settle()
        final = [r.body["attachments"][0]["content"] for r in connector.received if r.method == "update"][-1]
        assert "Accepted, activating — I'll re-check at" in words(final)
        case = await app.app[SERVICES].bot.services.cases.get(execute_data(plan, "fixConfirm")["caseId"])
        assert case.recheck_at == clock.now + timedelta(minutes=10)

        for user in writer._writer._data["users"]:  # Microsoft finishes
            for a in (user.get("teams") or {}).get("numberAssignments", []):
                a["activationState"] = "activated"
        clock.now += timedelta(minutes=11)
        seen = len(connector.received)
        assert len(await app.app[SERVICES].scheduler.run_due_once()) == 1
        notices = [r for r in connector.received[seen:] if r.method in ("send", "reply")]
        assert notices and "Checked again" in json.dumps(notices[-1].body)
        assert "Microsoft was still activating the number change Voice Doctor made" in json.dumps(
            notices[-1].body
        )
        assert "now work" in json.dumps(notices[-1].body)


async def test_fix_it_on_a_digest_row_sends_the_plan(connector):
    async with running_app(DEMO, sources=demo_sources()) as app:
        await app.post(activity(connector.url, text="check everyone"))
        await app.settle()
        await connector.wait_for(lambda got: any("people affected" in json.dumps(r.body) for r in got))
        digest = [r.body for r in connector.received if "people affected" in json.dumps(r.body)][-1]
        fix_rows = [d for d in submit_data(digest) if d.get("vd") == "fix"]
        assert {"vd": "fix", "problem": "inbound-calls", "userId": ADELE_ID} in fix_rows
        assert all(d["userId"] for d in fix_rows)
        await app.post(
            activity(connector.url, value={"vd": "fix", "problem": "inbound-calls", "userId": ADELE_ID})
        )
        await app.settle()
        assert "Confirm 2 changes to Teams" in words(connector.cards()[-1])
        await app.post(
            activity(
                connector.url,
                value={"vd": "fix", "problem": "inbound-calls", "userId": ADELE_ID},
                sender=ADELE,
            )
        )
        await app.settle()
        assert "I changed nothing" in words(connector.cards()[-1])


async def test_with_fixes_off_the_helpdesk_is_told_why_and_nothing_is_offered(connector):
    settings = load_settings({"DIAGNOSTICS_SOURCE": "demo", "FIXES": "off"}, env_file=None)
    async with running_app(settings, sources=demo_sources()) as app:
        diagnosis = await diagnose_adele(app, connector)
        assert execute_data(diagnosis, "fix") is None
        assert "Fixes are off: set FIXES=on" in words(diagnosis)
        status, body = await app.post(
            execute(connector.url, "fix", {"problem": "inbound-calls", "userId": ADELE_ID})
        )
        assert "Fixes are off" in words(card_of(body))
        assert app.app[SERVICES].bot.services.fixer.writer.writes == []


async def test_fix_it_on_the_watchs_post_keeps_the_fix_with_the_watchs_case(connector):
    settings = load_settings(
        {
            "DIAGNOSTICS_SOURCE": "demo",
            "WATCH_INTERVAL": "15m",
            "HELPDESK_CHANNEL_ID": "19:helpdesk-calls@thread.tacv2",
        },
        env_file=None,
    )
    async with running_app(settings, sources=demo_sources()) as app:
        await app.post(activity(connector.url, text="help"))
        await app.settle()
        await connector.wait_for(lambda got: any(r.method == "create" for r in got), timeout=60)
        [post] = [r.body["activity"] for r in connector.received if r.method == "create"]
        adele = next(d for d in submit_data(post) if d.get("vd") == "fix" and d.get("userId") == ADELE_ID)
        assert adele.get("caseId"), "the watch's case is named"
        await app.post(activity(connector.url, value=adele, conversation=channel_conversation()))
        await app.settle()
        plan = connector.cards()[-1]
        assert "Confirm 2 changes to Teams" in words(plan)
        assert execute_data(plan, "fixConfirm")["caseId"] == adele["caseId"]


async def test_a_second_plan_of_the_same_case_waits_for_the_run_under_way(connector):
    sources = demo_sources()
    release = asyncio.Event()
    unassign = sources.writer.unassign_number

    async def slow(number, **kwargs):
        await release.wait()
        return await unassign(number, **kwargs)

    sources.writer.unassign_number = slow
    async with running_app(DEMO, sources=sources) as app:
        diagnosis = await diagnose_adele(app, connector)
        first, _ = await plan_card(app, connector, diagnosis)
        second, _ = await plan_card(app, connector, diagnosis)
        assert execute_data(first, "fixConfirm")["fixId"] != execute_data(second, "fixConfirm")["fixId"]
        await app.post(execute(connector.url, "fixConfirm", execute_data(first, "fixConfirm")))
        status, body = await app.post(
            execute(connector.url, "fixConfirm", execute_data(second, "fixConfirm"))
        )
        assert "Another fix of this case is running" in words(card_of(body))
        release.set()
        await app.app[SERVICES].fixes.settle()
        assert len(sources.writer.writes) == 2


async def test_a_run_that_breaks_on_our_side_ends_on_the_card_and_in_the_case(connector):
    sources = demo_sources()

    async def broken(number, target, **kwargs):
        raise RuntimeError("a bug")

    sources.writer.assign_number = broken
    async with running_app(DEMO, sources=sources) as app:
        diagnosis = await diagnose_adele(app, connector)
        plan, _ = await plan_card(app, connector, diagnosis)
        await app.post(execute(connector.url, "fixConfirm", execute_data(plan, "fixConfirm")))
        await app.app[SERVICES].fixes.settle()
        final = [r.body["attachments"][0]["content"] for r in connector.received if r.method == "update"][-1]
        assert "Step 2 of 2 failed" in words(final)
        assert "Reason: Voice Doctor stopped on an error of its own (RuntimeError)" in words(final)
        case = await app.app[SERVICES].bot.services.cases.get(execute_data(plan, "fixConfirm")["caseId"])
        [fix] = fixes_of(case.case)
        assert fix.status == "failed" and fix.lease_owner is None
        assert [s["status"] for s in fix.steps] == ["succeeded", "failed"]


async def test_a_second_plan_confirmed_after_the_first_fixed_it_runs_nothing(connector):
    async with running_app(DEMO, sources=demo_sources()) as app:
        diagnosis = await diagnose_adele(app, connector)
        first, _ = await plan_card(app, connector, diagnosis)
        second, _ = await plan_card(app, connector, diagnosis)
        await app.post(execute(connector.url, "fixConfirm", execute_data(first, "fixConfirm")))
        await app.app[SERVICES].fixes.settle()
        writer = app.app[SERVICES].bot.services.fixer.writer
        done = len(writer.writes)
        await app.post(execute(connector.url, "fixConfirm", execute_data(second, "fixConfirm")))
        await app.app[SERVICES].fixes.settle()
        assert len(writer.writes) == done
        final = [r.body["attachments"][0]["content"] for r in connector.received if r.method == "update"][-1]
        assert "Nothing to fix now" in words(final) and "Nothing was changed" in words(final)
