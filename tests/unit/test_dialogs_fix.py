"""`offer_fix` as the typed "fix it" uses it (part of the conversation layer's contract): with a
diagnosis just made it plans without diagnosing again; for an ordinary user it says why not."""

from __future__ import annotations

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import ActivityTypes

from bot.diagnosis.engine import DiagnosisRequest
from dialogs.fix import offer_fix
from tests.dialog_harness import ADELE, MEGAN, cards_in, make_harness, text_of

ADELE_ID = "00000000-0000-0000-0000-00000000a002"


async def offered(sender, *, with_diagnosis: bool) -> tuple[list[dict], object]:
    harness = make_harness()
    services = (await harness.start()).bot.services
    request = DiagnosisRequest(problem="inbound-calls", user_id=ADELE_ID)
    diagnosis = await services.engine.diagnose(request) if with_diagnosis else None
    diagnosed = []
    engine_diagnose = services.engine.diagnose

    async def counting(*args, **kwargs):
        diagnosed.append(args)
        return await engine_diagnose(*args, **kwargs)

    services.engine.diagnose = counting
    fixes = []

    async def turn(context) -> None:
        fixes.append(await offer_fix(services, context, request, diagnosis=diagnosis))

    adapter = TestAdapter(turn)
    await adapter.receive_activity(harness.activity(ActivityTypes.message, sender, None, text="fix it"))
    for close in harness.services.closers:
        result = close()
        if hasattr(result, "__await__"):
            await result
    return cards_in(adapter.activity_buffer), (fixes[0], len(diagnosed))


async def test_a_typed_fix_it_after_its_diagnosis_plans_without_diagnosing_again():
    cards, (fix, diagnosed) = await offered(MEGAN, with_diagnosis=True)
    assert "Confirm 2 changes to Teams" in text_of(cards[-1])
    assert fix is not None and fix.status == "proposed" and diagnosed == 0


async def test_a_typed_fix_it_without_a_diagnosis_diagnoses_first():
    cards, (fix, diagnosed) = await offered(MEGAN, with_diagnosis=False)
    assert "Confirm 2 changes to Teams" in text_of(cards[-1]) and diagnosed == 1


async def test_an_ordinary_user_typing_fix_it_is_told_why_not():
    cards, (fix, diagnosed) = await offered(ADELE, with_diagnosis=True)
    assert fix is None and diagnosed == 0
    assert "Fixes are for the helpdesk's Teams admins" in text_of(cards[-1])
