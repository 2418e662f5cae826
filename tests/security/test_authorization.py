"""An ordinary user cannot obtain a diagnosis of another user: not by message, card or search.

Adele is an ordinary user of the demo tenant; Megan is helpdesk (a Teams Administrator). Every way
in — typed requests, pasted portal text, answers to the bot's questions, Action.Submit values,
Action.Execute verbs with forged `caseId` / `userId`, the message extension's query and select
item, `cases` — is tried by Adele against Dara (or Johanna), and each attempt must show none of the
victim's data. The same attempt by Megan is the control: it does show the data, so the detector is
known to work on that path and the refusal is not an accident of a broken path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.schema import ActivityTypes, ConversationAccount
from msrest.serialization import Model

from bot.manifest import MESSAGE_EXTENSION_COMMAND_ID, MESSAGE_EXTENSION_PARAMETER
from tests.cardschema import action_data
from tests.dialog_harness import ADELE, MEGAN, TENANT, Harness, make_harness
from tests.security.leaks import Victim, diagnosis_shown

DARA = Victim.from_demo("dara.o'brien@contoso.example")
JOHANNA = Victim.from_demo("johannal@contoso.example")
ADELE_ID = ADELE.aad_object_id
CALL_DATA = (Path(__file__).parents[2] / "bot/diagnosis/samples/call-data-404-rnl.txt").read_text()
assert "+1 (425) 555-0104" in CALL_DATA  # the sample is a failed call to Dara


@dataclass
class Seen:
    """Everything one attempt made visible: messages sent, cards updated, the invoke's answer."""

    payloads: list[Any]

    def leaks(self, victim: Victim) -> list[str]:
        return victim.found_in(self.payloads) + diagnosis_shown(self.payloads)


def plain(value: Any) -> Any:
    if isinstance(value, Model):
        try:
            return serializer_helper(value)
        except Exception:  # the SDK's own error answers hold an Exception (app.py sends its text)
            return str(vars(value))
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


async def attempt_message(
    harness: Harness, sender, text: str | None = None, value: dict | None = None, conversation=None
) -> Seen:
    turn = await harness.say(text, value=value, sender=sender, conversation=conversation)
    return Seen([plain(a) for a in turn.sent + turn.updated])


async def attempt_invoke(harness: Harness, sender, name: str, value: Any) -> Seen:
    """One invoke; what it sent and its own invoke response (not an earlier one's)."""
    adapter = harness.adapter
    before_sent, before_updated = len(adapter.activity_buffer), len(adapter.updated_activities)
    await adapter.receive_activity(
        harness.activity(ActivityTypes.invoke, sender, None, name=name, value=value)
    )
    new = adapter.activity_buffer[before_sent:] + adapter.updated_activities[before_updated:]
    responses = [a.value.body for a in new if a.type == "invokeResponse"]
    return Seen([plain(a) for a in new if a.type != "invokeResponse"] + [plain(r) for r in responses])


@pytest.fixture
def harness() -> Harness:
    return make_harness()


async def megans_case_about(harness: Harness, victim: Victim) -> str:
    """Megan diagnoses the victim; the case id her result card carries."""
    turn = await harness.say(f"check calls for {victim.user_principal_name}", sender=MEGAN)
    card = turn.updated_cards[-1]
    return action_data(card, "recheck")["caseId"]  # the main buttons sit with the answer


def execute(verb: str, data: Any) -> dict[str, Any]:
    return {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}


# ---------------------------------------------------------------------------------------------
# Messages


MESSAGES = [
    f"check calls for {DARA.user_principal_name}",
    f"check calls for {DARA.display_name}",
    "check calls for Dara",
    "check calls for +1 (425) 555-0104",
    "check calls for 4255550104",
    f"check calls for {DARA.id}",
    f"inbound calls fail for {DARA.user_principal_name}",
    "404 errors for +14255550104",
    "calls to Dara O'Brien don't ring",
    CALL_DATA,
    f"check calls for {DARA.user_principal_name.upper()}",
    f"check calls for  {DARA.user_principal_name}  ",
]


@pytest.mark.parametrize("text", MESSAGES)
async def test_no_message_gets_another_users_diagnosis(harness, text):
    seen = await attempt_message(harness, ADELE, text)
    assert seen.leaks(DARA) == []
    control = await attempt_message(make_harness(), MEGAN, text)
    assert control.leaks(DARA), "the helpdesk's identical request shows the data"


async def test_answering_the_who_question_with_someone_else_is_refused(harness):
    await attempt_message(harness, ADELE, "my colleague's calls don't ring")
    seen = await attempt_message(harness, ADELE, DARA.user_principal_name)
    assert seen.leaks(DARA) == []


SUBMITS = [
    {"vd": "answer-user", "problem": "inbound-calls", "userId": DARA.id},
    {"vd": "pick-user", "problem": "inbound-calls", "userId": DARA.id},
    {"vd": "answer-user", "problem": "inbound-calls", "userText": "+1 425 555 0104"},
    {"vd": "answer-user", "userId": DARA.id.upper()},
    {"vd": "answer-user", "userId": f" {DARA.id} "},
    {"vd": "answer-user", "userId": DARA.user_principal_name},
    {"vd": "start", "problem": "inbound-calls", "userId": DARA.id},
    {"vd": "answer-8x8-number", "number8x8": "+14255550104", "userId": DARA.id},
    {"vd": "first-sync", "choice": "gt3d", "userId": DARA.id},
]


@pytest.mark.parametrize("value", SUBMITS, ids=lambda v: f"{v['vd']}:{sorted(v)}")
@pytest.mark.parametrize("mid_dialog", [False, True], ids=["old card", "mid-dialog"])
async def test_no_submitted_card_value_gets_another_users_diagnosis(harness, value, mid_dialog):
    if mid_dialog:
        await attempt_message(harness, ADELE, "my colleague's calls don't ring")  # the bot asks who
    seen = await attempt_message(harness, ADELE, value=value)
    assert seen.leaks(DARA) == []


async def test_a_submitted_answer_by_the_helpdesk_does_show_the_data(harness):
    seen = await attempt_message(harness, MEGAN, value=SUBMITS[0])
    assert seen.leaks(DARA)


async def test_answering_the_helpdesks_question_in_a_group_chat_does_not_continue_their_diagnosis(harness):
    """Megan asks about Johanna in a group chat; the bot asks when the first sync was; Adele answers."""
    group = ConversationAccount(
        id="19:group-chat@thread.v2", conversation_type="groupChat", is_group=True, tenant_id=TENANT
    )
    await attempt_message(
        harness, MEGAN, f"check calls for {JOHANNA.user_principal_name}", conversation=group
    )
    seen = await attempt_message(
        harness, ADELE, value={"vd": "first-sync", "choice": "gt3d"}, conversation=group
    )
    assert diagnosis_shown(seen.payloads) == [] and JOHANNA.found_in(seen.payloads) == []
    # The control: Megan's own answer would have finished it.
    control = make_harness()
    await attempt_message(
        control, MEGAN, f"check calls for {JOHANNA.user_principal_name}", conversation=group
    )
    assert diagnosis_shown(
        (
            await attempt_message(
                control, MEGAN, value={"vd": "first-sync", "choice": "gt3d"}, conversation=group
            )
        ).payloads
    )


async def test_the_tenant_wide_sync_check_is_for_the_helpdesk(harness):
    for attempt in (
        "check sync",
        "sync error",
        'PSERROR1> PSTN Gateway not ready yet: "cnt0042-1.vt.8x8.example"',
    ):
        seen = await attempt_message(harness, ADELE, attempt)
        assert diagnosis_shown(seen.payloads) == [] and "cnt0042-1.vt.8x8.example" not in str(
            seen.payloads[1:]
        )
    assert diagnosis_shown((await attempt_message(harness, MEGAN, "check sync")).payloads)


async def test_cases_are_not_listed_to_an_ordinary_user(harness):
    await megans_case_about(harness, DARA)
    seen = await attempt_message(harness, ADELE, "cases")
    assert DARA.display_name not in str(seen.payloads)
    assert DARA.display_name in str((await attempt_message(harness, MEGAN, "cases")).payloads)


async def test_adele_can_still_check_her_own_calls(harness):
    """The positive control for all of the above: an ordinary user is not simply refused everything."""
    seen = await attempt_message(harness, ADELE, "my calls don't ring")
    assert diagnosis_shown(seen.payloads) and DARA.found_in(seen.payloads) == []
    recheck = next(
        a
        for p in seen.payloads[::-1]
        for at in (p.get("attachments") or [])
        for a in at["content"].get("actions", [])
        if a.get("verb") == "recheck"
    )
    again = await attempt_invoke(harness, ADELE, "adaptiveCard/action", execute("recheck", recheck["data"]))
    answer = str(again.payloads)
    assert "your calls are sent to" in answer and "I can only check your own calls" not in answer


# ---------------------------------------------------------------------------------------------
# Action.Execute with forged data


FORGED_DATA = [
    lambda case: {"caseId": case},
    lambda case: {"caseId": case, "userId": ADELE_ID},
    lambda case: {"caseId": case, "problem": "inbound-calls", "userId": ADELE_ID},
    lambda case: {"caseId": "forged-case", "problem": "inbound-calls", "userId": DARA.id},
    lambda case: {"problem": "inbound-calls", "userId": DARA.id},
    lambda case: {"problem": "inbound-calls", "userId": DARA.id.upper()},
    lambda case: {"problem": "sync-error"},
    lambda case: {"caseId": [case], "userId": DARA.id, "problem": "inbound-calls"},
    lambda case: {"caseId": {"id": case}},
]


@pytest.mark.parametrize("verb", ["recheck", "assign", "resolve", "shareToHelpdesk"])
@pytest.mark.parametrize("forge", range(len(FORGED_DATA)))
async def test_no_card_action_gets_or_changes_another_users_case(harness, verb, forge):
    case_id = await megans_case_about(harness, DARA)
    case = await harness.services.bot.services.cases.get(case_id)
    before = (case.status, case.assigned_to, len(case.history), len(case.references))

    seen = await attempt_invoke(
        harness, ADELE, "adaptiveCard/action", execute(verb, FORGED_DATA[forge](case_id))
    )

    assert seen.leaks(DARA) == []
    assert (case.status, case.assigned_to, len(case.history), len(case.references)) == before


@pytest.mark.parametrize("verb", ["recheck", "assign", "resolve"])
async def test_the_helpdesk_may_act_on_the_case(harness, verb):
    case_id = await megans_case_about(harness, DARA)
    seen = await attempt_invoke(harness, MEGAN, "adaptiveCard/action", execute(verb, {"caseId": case_id}))
    assert seen.leaks(DARA)


async def test_a_recheck_without_a_case_by_the_helpdesk_shows_the_data(harness):
    seen = await attempt_invoke(
        harness,
        MEGAN,
        "adaptiveCard/action",
        execute("recheck", {"problem": "inbound-calls", "userId": DARA.id}),
    )
    assert seen.leaks(DARA)


@pytest.mark.parametrize(
    "value",
    [
        None,
        {"action": None},
        {"action": {"verb": 7, "data": "x"}},
        {"action": {"type": "Action.Execute", "verb": "recheck", "data": [1, 2]}},
        {"action": {"type": "Action.Execute", "verb": "recheck", "data": {"caseId": 7, "userId": None}}},
        {"action": {"type": "Action.Execute", "verb": "🙂" * 100, "data": {}}},
    ],
)
async def test_malformed_actions_get_an_answer_not_a_crash(harness, value):
    seen = await attempt_invoke(harness, ADELE, "adaptiveCard/action", value)
    assert seen.payloads and seen.leaks(DARA) == []


# ---------------------------------------------------------------------------------------------
# Message extension


def extension_query(text: Any) -> dict[str, Any]:
    return {
        "commandId": MESSAGE_EXTENSION_COMMAND_ID,
        "parameters": [{"name": MESSAGE_EXTENSION_PARAMETER, "value": text}],
        "queryOptions": {"skip": 0, "count": 25},
    }


@pytest.mark.parametrize("text", ["Dara", DARA.user_principal_name, "+14255550104", DARA.id])
async def test_the_message_extension_search_is_for_the_helpdesk(harness, text):
    seen = await attempt_invoke(harness, ADELE, "composeExtension/query", extension_query(text))
    assert DARA.display_name not in str(seen.payloads) and seen.leaks(DARA) == []
    control = await attempt_invoke(harness, MEGAN, "composeExtension/query", extension_query(text))
    assert DARA.display_name in str(control.payloads)


@pytest.mark.parametrize(
    "value",
    [
        {"userId": DARA.id},
        {"userId": DARA.id.upper()},
        {"userId": DARA.user_principal_name},
        {"userId": "+14255550104"},
    ],
)
async def test_a_forged_select_item_gets_no_diagnosis(harness, value):
    seen = await attempt_invoke(harness, ADELE, "composeExtension/selectItem", value)
    assert seen.leaks(DARA) == []


async def test_select_item_by_the_helpdesk_inserts_the_diagnosis(harness):
    seen = await attempt_invoke(harness, MEGAN, "composeExtension/selectItem", {"userId": DARA.id})
    assert seen.leaks(DARA)
