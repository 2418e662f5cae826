"""Conversation flows with botbuilder-testing's TestAdapter against the embedded demo tenant."""

from __future__ import annotations

import pytest
from botbuilder.schema import ConversationAccount

from tests.cardschema import action_data, assert_valid_card
from tests.dialog_harness import ADELE, ALEX, MEGAN, TENANT, make_harness, text_of

ADELE_ID = "00000000-0000-0000-0000-00000000a002"
DARA_ID = "00000000-0000-0000-0000-00000000a003"


@pytest.fixture
def harness():
    return make_harness()


def cause_title(card: dict) -> str:
    return text_of(card)


async def test_one_line_request_is_answered_without_a_question(harness):
    turn = await harness.say("check calls for adele@contoso.example")
    assert turn.sent[0].type == "typing"  # progress shows at once
    progress = turn.cards[0]
    assert "Checking" in text_of(progress)
    result = turn.updated_cards[-1]  # the result replaces the progress card in place
    assert_valid_card(result)
    assert "different number" in text_of(result)
    assert "+1 425-555-0102" in text_of(result) and "+1 425-555-0120" in text_of(result)
    assert not any("Who is affected" in text_of(c) for c in turn.cards)


async def test_check_sync_needs_no_user(harness):
    turn = await harness.say("check sync")
    result = turn.updated_cards[-1]
    assert "voice routing domains" in text_of(result)
    assert "cnt0042-1.vt.8x8.example" in text_of(result)


async def test_free_text_asks_who_then_a_typed_answer_diagnoses(harness):
    turn = await harness.say("calls don't ring")
    question = turn.cards[-1]
    assert_valid_card(question)
    assert "Who is affected?" in text_of(question)
    assert '"graph.microsoft.com/users"' in str(question).replace("'", '"')  # people picker
    answer = await harness.say("dara.o'brien@contoso.example")
    result = answer.updated_cards[-1]
    assert "out of sync" in text_of(result)


async def test_people_picker_answer_by_object_id(harness):
    await harness.say("my user's phone doesn't ring")
    turn = await harness.say(value={"vd": "answer-user", "problem": "inbound-calls", "userId": DARA_ID})
    assert "Dara O'Brien" in text_of(turn.updated_cards[-1])


async def test_text_box_answer_from_the_card(harness):
    await harness.say("calls don't ring")
    turn = await harness.say(
        value={"vd": "answer-user", "problem": "inbound-calls", "userText": "adele@contoso.example"}
    )
    assert "Adele Vance" in text_of(turn.updated_cards[-1])


async def test_me_diagnoses_the_sender(harness):
    await harness.say("calls don't ring")
    turn = await harness.say("me")
    assert "Megan Bowen" in text_of(turn.updated_cards[-1])


async def test_unknown_person_is_said_and_asked_again(harness):
    await harness.say("calls don't ring")
    turn = await harness.say("nobody-here@contoso.example")
    card = turn.cards[-1]
    assert "couldn't find anyone" in text_of(card)
    assert "Who is affected?" in text_of(card)
    turn = await harness.say("adele@contoso.example")
    assert "Adele Vance" in text_of(turn.updated_cards[-1])


async def test_several_matches_get_a_choice_card(harness):
    turn = await harness.say("check calls for a")  # Adele Vance, and the temporary activation user
    choice = turn.cards[-1]
    assert_valid_card(choice)
    buttons = [a for a in str(choice).split("'vd'") if "pick-user" in a]
    assert len(buttons) >= 2
    turn = await harness.say(value={"vd": "pick-user", "problem": "inbound-calls", "userId": ADELE_ID})
    assert "Adele Vance" in text_of(turn.updated_cards[-1])


async def test_first_sync_is_asked_only_when_it_decides_the_cause(harness):
    turn = await harness.say("check calls for johannal@contoso.example")
    question = turn.cards[-1]
    assert "1–3 days ago" in text_of(question)
    turn = await harness.say(value={"vd": "first-sync", "choice": "gt3d"})
    assert "out of sync" in text_of(turn.updated_cards[-1])


async def test_first_sync_less_than_a_day_means_wait(harness):
    await harness.say("check calls for johannal@contoso.example")
    turn = await harness.say(value={"vd": "first-sync", "choice": "lt1d"})
    result = turn.updated_cards[-1]
    assert "Not enough time has elapsed" in text_of(result)
    assert "Re-check" in text_of(result)


async def test_the_8x8_number_is_asked_only_when_8x8_cannot_be_read():
    from bot.sources.base import NotConfiguredEightByEight
    from bot.sources.demo import DemoTenant
    from bot.sources.factory import Sources

    demo = DemoTenant.load()
    harness = make_harness(sources=Sources(demo.microsoft, NotConfiguredEightByEight(), demo.portal, "demo"))
    turn = await harness.say("check calls for adele@contoso.example")
    question = turn.cards[-1]
    assert_valid_card(question)
    assert "8x8" in text_of(question)
    turn = await harness.say(value={"vd": "answer-8x8-number", "number8x8": "+1 (425) 555-0102"})
    result = turn.updated_cards[-1]
    assert "Teams has a different number" in text_of(result)


async def test_an_ordinary_user_cannot_diagnose_someone_else(harness):
    turn = await harness.say("check calls for megan@contoso.example", sender=ADELE)
    card = turn.cards[-1]
    assert "I can only check your own calls" in text_of(card)
    assert not turn.updated  # no diagnosis ran
    turn = await harness.say(
        value={"vd": "answer-user", "problem": "inbound-calls", "userId": DARA_ID}, sender=ADELE
    )
    assert "I can only check your own calls" in text_of(turn.cards[-1])


async def test_an_ordinary_user_cannot_check_the_tenant_sync(harness):
    turn = await harness.say("check sync", sender=ADELE)
    assert "Only the helpdesk can check the sync" in text_of(turn.cards[-1])


async def test_self_report_answers_in_plain_language(harness):
    turn = await harness.say("my calls don't ring", sender=ADELE)
    card = turn.updated_cards[-1]
    assert "Your calls" in text_of(card)
    for jargon in ("Q.850", "RNL", "511404", "Direct Routing", "correlation"):
        assert jargon not in text_of(card)
    assert "What happens next" in text_of(card)


async def test_cancel_leaves_the_dialog(harness):
    await harness.say("calls don't ring")
    turn = await harness.say("cancel")
    assert "Stopped" in text_of(turn.cards[-1])
    turn = await harness.say("thanks")  # no longer waiting for an answer: not understood -> help
    assert "What I can do" in text_of(turn.cards[-1])
    # an e-mail alone is a request about that person (DESIGN "Chat"), never the help card
    turn = await harness.say("adele@contoso.example")
    assert "Checking inbound calls" in text_of(turn.cards[-1])
    assert "Adele" in text_of(turn.updated_cards[-1])


async def test_a_new_request_mid_dialog_starts_over(harness):
    await harness.say("calls don't ring")
    turn = await harness.say("check sync")
    assert "voice routing domains" in text_of(turn.updated_cards[-1])


async def test_pasted_call_data_is_read_without_a_command(harness):
    pasted = (
        "Call Data\nTo: +1 425 555 0104\nFailure Advice: 404 Unallocated Number\n\nDebug Output\n"
        "Invalid argument 404\n"
        'Reason: Q.850 ;cause=1 ;text="0f1e2d3c-4b5a-6978-8899-aabbccddeeff;RNL"\n'
    )
    turn = await harness.say(pasted)
    result = turn.updated_cards[-1]
    assert "Dara O'Brien" in text_of(result)
    assert "0f1e2d3c-4b5a-6978-8899-aabbccddeeff" in text_of(result)


async def test_pasted_sync_history_is_read_without_a_command(harness):
    pasted = (
        "Sync History\n2026-11-20 09:00:00 UTC Teams sync failed\n"
        'PSERROR1> PSTN Gateway not ready yet: "cnt9999-1.vt.8x8.example"\n'
    )
    turn = await harness.say(pasted)
    result = turn.updated_cards[-1]
    assert "cnt9999-1.vt.8x8.example" in text_of(result)


async def test_help_and_unknown_text_get_the_help_card(harness):
    for text in ("help", "what's the weather like?"):
        turn = await harness.say(text)
        assert "What I can do" in text_of(turn.cards[-1])


async def test_channel_mention_is_stripped(harness):
    channel = ConversationAccount(
        id="19:calls@thread.tacv2;messageid=1", conversation_type="channel", is_group=True, tenant_id=TENANT
    )
    from botbuilder.schema import Entity

    mention = Entity().deserialize(
        {
            "type": "mention",
            "text": "<at>Voice Doctor</at>",
            "mentioned": {"id": "28:voice-doctor", "name": "Voice Doctor"},
        }
    )
    turn = await harness.say(
        "<at>Voice Doctor</at> check calls for adele@contoso.example",
        conversation=channel,
        entities=[mention],
    )
    assert "Adele Vance" in text_of(turn.updated_cards[-1])


async def test_recheck_action_returns_the_refreshed_card_and_refuses_others(harness):
    turn = await harness.say("check calls for adele@contoso.example")
    case_id = action_data(turn.updated_cards[-1], "recheck")["caseId"]
    body = await harness.invoke(
        "adaptiveCard/action",
        {"action": {"type": "Action.Execute", "verb": "recheck", "data": {"caseId": case_id}}},
    )
    body = _plain(body)
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(body["value"])
    assert "Adele Vance" in text_of(body["value"])
    # Dara may not re-check Adele's case, whatever the card says.
    dara = type(MEGAN)(id="29:dara", name="Dara O'Brien", aad_object_id=DARA_ID)
    body = _plain(
        await harness.invoke(
            "adaptiveCard/action",
            {"action": {"type": "Action.Execute", "verb": "recheck", "data": {"caseId": case_id}}},
            sender=dara,
        )
    )
    assert "I can only check your own calls" in text_of(body["value"])
    body = _plain(
        await harness.invoke(
            "adaptiveCard/action",
            {
                "action": {
                    "type": "Action.Execute",
                    "verb": "recheck",
                    "data": {"problem": "inbound-calls", "userId": ADELE_ID, "caseId": "forged"},
                }
            },
            sender=dara,
        )
    )
    assert "I can only check your own calls" in text_of(body["value"])


async def test_cases_is_for_helpdesk(harness):
    await harness.say("check calls for nestorw@contoso.example")
    turn = await harness.say("cases")
    assert "Nestor Wilke" in text_of(turn.cards[-1])
    turn = await harness.say("cases", sender=ADELE)
    assert "Cases are for the helpdesk" in text_of(turn.cards[-1])


def _plain(body):
    from botbuilder.core.serializer_helper import serializer_helper

    return body if isinstance(body, dict) else serializer_helper(body)


async def test_cases_buttons_refresh_the_list_in_place(harness):
    await harness.say("check calls for adele@contoso.example")
    turn = await harness.say("cases")
    listing = turn.cards[-1]
    resolve = action_data(listing, "resolve")
    assert resolve["view"] == "cases"
    body = _plain(
        await harness.invoke(
            "adaptiveCard/action", {"action": {"type": "Action.Execute", "verb": "resolve", "data": resolve}}
        )
    )
    assert_valid_card(body["value"])
    assert "Adele Vance" not in text_of(body["value"])  # resolved: no longer open or waiting


async def test_in_a_channel_only_the_helpdesk_diagnoses(harness):
    channel = ConversationAccount(
        id="19:general@thread.tacv2;messageid=2", conversation_type="channel", is_group=True, tenant_id=TENANT
    )
    turn = await harness.say("my calls don't ring", sender=ADELE, conversation=channel)
    card = turn.cards[-1]
    assert "in private" in text_of(card)
    assert not turn.updated and "+1425" not in text_of(card)


async def test_an_ordinary_user_never_sees_a_list_of_other_people(harness):
    await harness.say("calls don't ring", sender=ADELE)
    turn = await harness.say("a", sender=ADELE)  # matches Adele and others
    shown = "\n".join(text_of(c) for c in turn.all_cards)
    assert "Temporary Domain Voice Activation User" not in shown
    assert "pick-user" not in str(turn.all_cards)
    turn = await harness.say("calls don't ring", sender=ADELE)
    turn = await harness.say("adele@contoso.example", sender=ADELE)  # herself, by e-mail: fine
    assert "Your calls" in text_of(turn.updated_cards[-1])


# ---------------------------------------------------------------------------------------------
# Finding the person from what the helpdesk heard (issue 14)

GRADY_ID = "00000000-0000-0000-0000-0000000b0001"


def without_8x8_key():
    from bot.sources.base import NotConfiguredEightByEight
    from bot.sources.demo import DemoTenant
    from bot.sources.factory import Sources

    demo = DemoTenant.load()
    return make_harness(sources=Sources(demo.microsoft, NotConfiguredEightByEight(), demo.portal, "demo"))


@pytest.mark.parametrize(
    "said",
    ["calls to +1 425 555 0102 don't ring", "calls to 0102 don't ring", "check calls for 0102"],
)
async def test_adele_is_found_by_the_number_callers_dial(harness, said):
    turn = await harness.say(said)
    result = turn.updated_cards[-1]
    assert "Adele Vance" in text_of(result) and "different number" in text_of(result)
    assert "One person holds the number" in text_of(result)
    assert not any("Who is affected" in text_of(c) for c in turn.cards)


async def test_a_uk_national_number_finds_the_user_abroad(harness):
    await harness.say("calls don't ring")
    turn = await harness.say("020 7946 0123")
    result = turn.updated_cards[-1]
    assert "Grady Archie" in text_of(result)
    assert "+44 20 7946 0123" in text_of(result)  # cards show numbers the international way


async def test_several_candidates_bring_the_picker_never_a_guess(harness):
    await harness.say("calls don't ring")
    turn = await harness.say("Gu")  # Lee Gu and Pradeep Gupta: last names
    card = turn.cards[-1]
    assert_valid_card(card)
    assert not turn.updated  # nobody was diagnosed
    assert "Lee Gu" in text_of(card) and "Pradeep Gupta" in text_of(card)


async def test_by_last_name(harness):
    turn = await harness.say("check calls for Vance")
    assert "Adele Vance" in text_of(turn.updated_cards[-1])


async def test_without_an_8x8_key_a_number_teams_does_not_hold_asks_for_the_email():
    harness = without_8x8_key()
    await harness.say("calls don't ring")
    turn = await harness.say("+1 425 555 0102")
    card = turn.cards[-1]
    assert "couldn't search 8x8" in text_of(card) and "e-mail" in text_of(card)
    assert "EIGHTBYEIGHT_API_KEY" in text_of(card)
    assert "Who is affected?" in text_of(card)


async def test_a_pending_question_then_sync_error_starts_the_sync_check(harness):
    await harness.say("calls don't ring")
    turn = await harness.say("sync error")
    assert "voice routing domains" in text_of(turn.updated_cards[-1])
    assert not any("couldn't find anyone" in text_of(c) for c in turn.all_cards)


async def test_a_pending_question_then_i_cant_call_out_starts_the_outbound_check(harness):
    await harness.say("calls don't ring")
    turn = await harness.say("I can't call out")
    texts = [text_of(c) for c in turn.all_cards]
    assert not any("couldn't find anyone" in t for t in texts)
    assert any("Checking outbound calls" in t for t in texts)  # its own flow, for the one who asked
    assert "Outbound calls" in text_of(turn.updated_cards[-1])
    follow = await harness.say("thanks")  # the old question is gone: not read as its answer
    assert not any("Teams has a different number" in text_of(c) for c in follow.all_cards)


async def test_a_pending_question_then_help_shows_help(harness):
    await harness.say("calls don't ring")
    turn = await harness.say("help")
    assert "What I can do" in text_of(turn.cards[-1])
    assert not turn.updated


async def test_a_pending_question_then_a_greeting_starts_over(harness):
    await harness.say("calls don't ring")
    turn = await harness.say("hello")
    assert "Voice Doctor" in text_of(turn.cards[-1])
    follow = await harness.say("thanks")  # no question waits any more
    assert not follow.updated


async def test_a_name_still_answers_the_pending_question(harness):
    await harness.say("calls don't ring")
    turn = await harness.say("Dara O'Brien")
    assert "Dara O'Brien" in text_of(turn.updated_cards[-1])


def requests_of(harness) -> list:
    """The DiagnosisRequests the engine is asked, from now on."""
    engine = harness.bot.services.engine
    asked: list = []
    diagnose = engine.diagnose

    async def spy(request, on_check=None):
        asked.append(request)
        return await diagnose(request, on_check=on_check)

    engine.diagnose = spy
    return asked


async def test_the_number_goes_with_the_request_for_the_helpdesk_only(harness):
    await harness.start()
    asked = requests_of(harness)
    await harness.say("calls to 0102 don't ring")
    await harness.say("calls don't ring", sender=ADELE)
    await harness.say("+1 425 555 0102", sender=ADELE)  # Adele's own 8x8 number

    assert [(r.user_id, r.named_number) for r in asked] == [
        (ADELE_ID, "+14255550102"),  # the helpdesk: who holds it on each side is part of the answer
        (ADELE_ID, None),  # Adele herself: that check may name other people
    ]


# --- issue 13: outbound calls, the period, the reader's time zone ------------------------------------------

ALEX_ID = "00000000-0000-0000-0000-00000000a010"


def fixed_harness(now, **kwargs):
    """A harness whose demo tenant and engine share one fixed clock (times on the cards are known)."""
    from bot.sources.demo import DemoTenant
    from bot.sources.factory import Sources

    demo = DemoTenant.load(lambda: now)
    sources = Sources(demo.microsoft, demo.eightbyeight, demo.portal, "demo")
    return make_harness(now=now, sources=sources, **kwargs)


def _execute(verb: str, data: dict) -> dict:
    return {"action": {"type": "Action.Execute", "verb": verb, "data": data}}


async def test_a_one_line_outbound_request_shows_the_timeline_and_the_8x8_request(harness):
    turn = await harness.say("check outbound calls for alexw@contoso.example")
    assert "Checking outbound calls" in text_of(turn.cards[0])  # the progress card plans outbound checks
    result = turn.updated_cards[-1]
    assert_valid_card(result)
    shown = text_of(result)
    assert "Outbound calls · Alex Wilber" in shown
    assert "Calls were set up but no audio could flow" in shown
    assert "**Out** · to +" in shown  # the timeline
    assert "8x8 support request" in shown and "Open 8x8 Support" in shown
    assert action_data(result, "recheck")["problem"] == "outbound-calls"


async def test_dial_pad_missing_asks_who_then_diagnoses_outbound(harness):
    turn = await harness.say("dial pad missing")
    question = turn.cards[-1]
    assert "Outbound calls" in text_of(question) and "Who is affected?" in text_of(question)
    turn = await harness.say("jonis@contoso.example")
    result = turn.updated_cards[-1]
    assert "The user is not Enterprise Voice enabled" in text_of(result)
    assert "Outbound calls · Joni Sherman" in text_of(result)


async def test_the_cant_call_out_button_starts_an_outbound_check(harness):
    turn = await harness.say(value={"vd": "start", "problem": "outbound-calls"})
    assert "Outbound calls" in text_of(turn.cards[-1])
    turn = await harness.say(
        value={"vd": "answer-user", "problem": "outbound-calls", "userText": "lynner@contoso.example"}
    )
    assert "No voice route matches" in text_of(turn.updated_cards[-1])


async def test_an_ordinary_user_reports_each_direction_for_themself(harness):
    turn = await harness.say("I can't call out", sender=ALEX)
    mine = turn.updated_cards[-1]
    assert_valid_card(mine)
    assert "Your calls" in text_of(mine) and "What happens next" in text_of(mine)
    assert "connected but failed because no audio could get through" in text_of(mine)
    assert "8x8 support request" not in text_of(mine)  # the admin's card is the helpdesk's
    turn = await harness.say("my calls don't ring", sender=ALEX)
    mine = text_of(turn.updated_cards[-1])
    assert "could not ring because Teams was not signed in" in mine
    assert "You can fix this yourself; nobody else needs to act." in mine


async def test_an_ordinary_user_is_told_how_to_check_their_own_outbound_calls(harness):
    turn = await harness.say("check outbound calls for megan@contoso.example", sender=ADELE)
    assert "Type “I can't call out” to check yours" in text_of(turn.cards[-1])


async def test_the_period_typed_in_chat_is_the_period_searched_and_rechecked():
    from datetime import UTC, datetime

    harness = fixed_harness(datetime(2026, 11, 22, 21, 0, tzinfo=UTC))
    turn = await harness.say("check calls for alexw@contoso.example in the last 48 hours")
    result = turn.updated_cards[-1]
    assert "Searched Fri 21:00 UTC to Sun 21:00 UTC (2 days)" in text_of(result)
    body = _plain(
        await harness.invoke(
            "adaptiveCard/action", _execute("recheck", {"caseId": action_data(result, "recheck")["caseId"]})
        )
    )
    assert "Searched Fri 21:00 UTC to Sun 21:00 UTC (2 days)" in text_of(body["value"])


async def test_the_readers_time_zone_is_used_for_the_timeline_and_the_words():
    from datetime import UTC, datetime

    harness = fixed_harness(datetime(2026, 11, 22, 21, 0, tzinfo=UTC))
    turn = await harness.say("my calls don't ring", sender=ALEX, local_timezone="Europe/Moscow")
    mine = text_of(turn.updated_cards[-1])
    assert "3 calls since yesterday could not ring" in mine  # Sunday evening UTC is Monday in Moscow
    assert "yesterday 23:30 · from +1 206-555-0143" in mine and "Times in Europe/Moscow." in mine
    turn = await harness.say("check calls for alexw@contoso.example", local_timezone="Europe/Berlin")
    shown = text_of(turn.updated_cards[-1])
    assert "Newest first, times in Europe/Berlin." in shown and "today 21:30" in shown
    turn = await harness.say("check calls for alexw@contoso.example")  # no zone from the client: UTC
    assert "Newest first, times in UTC." in text_of(turn.updated_cards[-1])


async def test_recheck_of_a_card_without_a_case_keeps_its_problem(harness):
    body = _plain(
        await harness.invoke(
            "adaptiveCard/action",
            _execute(
                "recheck", {"problem": "outbound-calls", "userId": ALEX_ID, "caseId": "from-another-store"}
            ),
        )
    )
    assert_valid_card(body["value"])
    assert "Outbound calls · Alex Wilber" in text_of(body["value"])


async def test_the_message_extension_diagnoses_outbound_when_asked(harness):
    from bot.manifest import MESSAGE_EXTENSION_COMMAND_ID, MESSAGE_EXTENSION_PARAMETER

    query = {
        "commandId": MESSAGE_EXTENSION_COMMAND_ID,
        "parameters": [{"name": MESSAGE_EXTENSION_PARAMETER, "value": "outbound alexw@contoso.example"}],
    }
    listing = _plain(await harness.invoke("composeExtension/query", query))
    preview = listing["composeExtension"]["attachments"][0]["preview"]["content"]
    assert preview["subtitle"] == "alexw@contoso.example · outbound calls"
    assert preview["tap"]["value"] == {"userId": ALEX_ID, "problem": "outbound-calls"}
    picked = _plain(await harness.invoke("composeExtension/selectItem", preview["tap"]["value"]))
    card = picked["composeExtension"]["attachments"][0]["content"]
    assert_valid_card(card)
    assert "Outbound calls · Alex Wilber" in text_of(card)
    assert action_data(card, "recheck")["problem"] == "outbound-calls"


async def test_a_request_the_engine_refuses_says_why_in_place_of_the_progress_card(harness):
    from bot.diagnosis.errors import InputError

    services = await harness.start()

    async def refuse(request, on_check=None):
        raise InputError("Microsoft keeps the call log for a limited time: ask about 90 days (90d) at most.")

    services.bot.services.engine.diagnose = refuse
    turn = await harness.say("check calls for adele@contoso.example")
    assert "Checking" in text_of(turn.cards[-1])
    notice = turn.updated_cards[-1]
    assert_valid_card(notice)
    assert "I can't check that" in text_of(notice) and "90 days" in text_of(notice)
    turn = await harness.say("thanks")  # the dialog has ended: not read as an answer
    assert "What I can do" in text_of(turn.cards[-1])


async def test_an_ordinary_user_sees_no_one_elses_calls_when_the_lookup_fails(harness):
    from bot.diagnosis.errors import SourceUnavailable
    from tests.dialog_harness import ADELE

    services = await harness.start()

    async def down(query):
        raise SourceUnavailable("Microsoft Graph did not answer (HTTP 503).", source="graph")

    services.bot.services.engine.look_up = down
    turn = await harness.say("check calls for megan@contoso.example", sender=ADELE)
    texts = [text_of(c) for c in turn.all_cards]
    assert any("I can only check your own calls" in t for t in texts)
    assert not any("Megan Bowen" in t for t in texts)
    assert not turn.updated  # nothing was diagnosed
