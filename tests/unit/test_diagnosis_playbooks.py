"""The playbooks carry every verification step, solution step and warning of the two 8x8 articles.

The phrases below are copied from the articles (`../shared/seeds/`); when the articles are at hand
the test also proves each phrase is really in them. The playbooks may add the case's values around
the phrases, never change them.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.diagnosis.engine import RULES, DiagnosisRequest, Engine
from bot.diagnosis.model import CAUSES, PROBLEMS
from bot.diagnosis.playbook import PLACEHOLDER, PLACEHOLDERS, load_playbook, render, template_strings
from bot.sources.demo import DemoTenant, demo_users

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "seeds"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

INBOUND_VERIFICATION = [
    "navigate to Home > Users in the 8x8 Admin Console and verify that the user's assigned phone number is correct",
    "navigate to the Microsoft Teams admin center > Users and verify that the affected user's 8x8 phone number is correctly assigned in Microsoft Teams",
    "in the 8x8 Voice for Teams admin portal, navigate to Users and locate an affected user",
    "In the Calls column at the right, note that their down arrow (inbound calls) will be red, indicating an inbound call issue.",
    "Hover your mouse cursor over the user's Calls area, and click View Recent Call Log in the Recent Calls popup.",
    "In the Recent Call Log window, note that the red x indicates a failed call.",
    "next to the red x",
    "In the popped Call Data browser tab, the issue outlined in this article is confirmed by the error",
    "Failure Advice: 404 Unallocated Number",
    "Scroll down the Call Data page to the Debug Output section. The issue is further defined by the presence of the following",
    "Invalid argument 404",
    "RNL at the end of the Reason header line",
]
INBOUND_CAUSES = [
    "Not enough time has elapsed since the first complete sync",
    "This often occurs when an account is new. Microsoft requires sufficient time to perform its own backend processing of the sync request.",
    "The Microsoft platform is out of sync",
    "This will cause the Microsoft Teams phone number associated with the user to be different (on Microsoft backend services) from that set in 8x8 Admin Console and in the 8x8 Voice for Teams admin portal.",
    "This creates the mismatch on Microsoft's back end services, which prevents inbound phone calls from reaching the correct phone number.",
    "The solution to this specific cause is to wait until Microsoft has completed its backend processing. This can take up to 72 hours from initial sync completion, and possibly even longer if Microsoft experiences a more significant backlog.",
    "This is a Microsoft performance issue. Unfortunately 8x8 has no control over accelerating this part of the sync process.",
]
SOLUTION_1 = [
    "Log into the 8x8 Admin Console as an admin.",
    "In Home > Users, edit the affected user by clicking on their Edit icon",
    "In Voice basic settings > Phone numbers, click on the X to remove the user's current phone number",
    "Now select a different available phone number from the drop-down list.",
    "Click Save at the bottom of the page.",
    "Now return to the 8x8 Voice for Teams admin portal, and click Sync Now to perform a full PBX and Teams sync. This will push the new phone number from 8x8 to Microsoft Teams.",
    "Allow the sync to complete, and then wait for a few minutes for Microsoft to make the change to the user's phone number.",
    "In the Users section of the Microsoft Teams admin center, you should verify that the user has been assigned the new phone number before proceeding",
    "Finally, follow the instructions above again, this time to change the user's phone number back to the original, correct number",
    "Then in 8x8 Voice for Teams admin portal click Sync Now again to complete the process.",
]
SOLUTION_1_NOTES = [
    "Solution 1: Temporarily change the user's phone number",
    "This process only releases the user's assigned 8x8 phone number to your 8x8 service. It does not remove the phone number from your 8x8 service.",
]
SOLUTION_2 = [
    "Log in to the Microsoft 365 admin center at",
    "On the left side menu bar, scroll down and select Show All (below Admin Centers) to display the Support option (above Admin Centers), in the same menu bar.",
    "Click Support to expand the options, and click New service request. A sidebar will open at the right side of the admin interface.",
    "Type a concise explanation of the problem into the search field and press <Enter>.",
    "Unable to receive calls in Teams (404 error)",
    "I am experiencing an issue with dialing in or out",
    "Incoming calls fail",
    "Yes I am using Direct Routing",
    "Run the Teams Direct Routing Diagnostic.",
    "In the search field at the top, type the following text and press <enter>: Diag: Teams Direct Routing",
    "In Run diagnostics, enter the Microsoft user ID of the person experiencing the problem, and click Run Tests",
    "Scroll down to the bottom of the sidebar and click on Contact Support.",
    "Complete the form and submit it to Microsoft, providing information about the issue.",
]
SOLUTION_2_NOTES = [
    "Solution 2: Report the issue to Microsoft",
    "If the process in Solution 1 above does not resolve the issue, you must report the issue to Microsoft.",
    "This must be performed by the service owner experiencing the problem, as Microsoft will only deal with the account owner. There is no additional action that can be performed by the administrator to resolve this issue. Microsoft can re-sync the account.",
    "The Microsoft diagnostic may not find the issue.",
    "In the Description of your support request",
    "In the text= area of the Reason header, be sure to insert the code you obtained by following the verification instructions, above.",
]
SUPPORT_BULLETS = [
    "All inbound PSTN calls to the Teams user fail.",
    "The user can place outbound PSTN calls with no issue.",
    "The user has a valid Phone System license, and has no Calling Plan assigned.",
    "Direct Routing is being used through 8x8's Voice for Microsoft Teams service.",
    "Microsoft Approved Direct Routing SBCs are being used through the 8x8 service.",
    "The user's correct phone number is displayed in the Teams admin center, on the user's Teams dial pad, and in the user's 8x8 service account.",
    "The calling service receives a 404 rejection error from Microsoft Direct Routing when sending the call to Teams, with the following message:",
    "Reason header: Q.850 ;cause=1 ;text=",
]
SYNC_PHRASES = [
    "PSERROR1> PSTN Gateway not ready yet",
    "Setup partially complete",
    "two or more unique 8x8 voice routing domains are generated and then activated in the customer's Microsoft Teams tenant.",
    "Occasionally the Microsoft domain activation process fails to properly enable the voice routing domains. This is a symptom of Microsoft not properly enabling the domains in their back end services.",
    "Solution 1: Wait a short while and perform another Sync",
    "This issue may resolve after a period of time between 1 and 24 hours. As this issue occurs on the Microsoft side, this resolution is entirely dependent on Microsoft.",
    "by clicking the admin portal Sync Now button",
    "Note that repeatedly initiating the Sync Now process without an appropriate wait time will not prove effective in resolving this issue.",
    "Solution 2: Reset the admin portal Teams service and delete existing domains",
    "it can likely be resolved by re-initializing the process with new domains for validation",
]
RESET_WARNINGS = [
    "This solution process is service-affecting, and will result in your Teams users' inability to make and receive Voice for Teams calls.",
    "Due to the general unpredictability of Microsoft's activation service, this process may take a significant amount of time. It is best performed during an off-peak time where a change-window of several hours is available.",
    "The final step in this process will require Microsoft Global Administrator to perform.",
    "If you use Large Tenant Mode, be sure to enable it first, and add your Azure AD Groups.",
    "If there are users already configured in the admin portal when the above process is performed, they may become disconnected and require manual re-connection.",
]
RESET_STEPS = [
    "In the Services > Teams tab of the Voice for Teams admin portal, click the trash can icon to delete the Teams service.",
    "Click Delete Service to confirm.",
    "In the Microsoft 365 admin center, navigate to Settings > Domains.",
    "for which an error was shown in the Voice for Teams admin portal sync log",
    "Click Remove domain, and confirm that you want to remove the selected domain.",
    "Repeat this deletion process until those 8x8 domains are deleted",
    "You may also need to delete temporary users which were created as part of the original domain activation process.",
    "In the Microsoft 365 user admin portal Users > Active users, locate and delete any users that have the name Temporary Domain Voice Activation User. There may be between 0-2 users with this name.",
    "This step requires a Microsoft Global Administrator to perform.",
    "In the Services > Teams tab of the Voice for Teams admin portal, click the Enable Service button to start the domain setup again with new domains assigned.",
    "The Enable Service function typically takes around 15 minutes to complete but can take longer depending on Microsoft's service.",
    "Finally, refresh your admin portal web page, then click Sync Now if needed, to perform required syncs until you see Sync Now with a green check mark.",
    "the PBX SIP User would remain as an unattached in the Users tab, and the corresponding Teams User would need to be re-selected from the specific user's drop-down menu. Simply select the appropriate User from Select a user and then click Save.",
]
INBOUND_PHRASES = (
    INBOUND_VERIFICATION
    + INBOUND_CAUSES
    + SOLUTION_1
    + SOLUTION_1_NOTES
    + SOLUTION_2
    + SOLUTION_2_NOTES
    + SUPPORT_BULLETS
)
SYNC_ALL = SYNC_PHRASES + RESET_WARNINGS + RESET_STEPS


def norm(text: str) -> str:
    """Compare text as people read it: straight quotes, single spaces."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split())


def playbook_text(problem: str) -> str:
    return norm(" \n ".join(template_strings(load_playbook(problem).data)))


@pytest.mark.parametrize(
    ("problem", "phrases"),
    [("inbound-calls", INBOUND_PHRASES), ("sync-error", SYNC_ALL)],
    ids=["inbound", "sync"],
)
def test_every_article_phrase_is_in_the_playbook(problem: str, phrases: list[str]) -> None:
    text = playbook_text(problem)
    missing = [p for p in phrases if norm(p) not in text]
    assert not missing, missing
    if SEEDS.is_dir():  # the articles themselves: the phrases above are really theirs
        seeds = norm(" ".join(p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")))
        assert [p for p in phrases if norm(p) not in seeds] == []


def _in_order(steps: list[str], phrases: list[str]) -> list[int]:
    return [next(i for i, step in enumerate(steps) if norm(p) in norm(step)) for p in phrases]


def test_solutions_keep_the_articles_order() -> None:
    playbook = load_playbook("inbound-calls")
    solution_1 = playbook.action("solution-1-number-swap", {}, set())
    positions = _in_order(solution_1.steps, SOLUTION_1)
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    solution_2 = playbook.action("solution-2-microsoft-support", {}, set())
    positions = _in_order(solution_2.steps, SOLUTION_2[:4] + SOLUTION_2[6:])
    assert positions == sorted(positions)
    reset = load_playbook("sync-error").action("solution-2-reset", {}, set())
    positions = _in_order(reset.steps, RESET_STEPS)
    assert positions == sorted(positions)
    assert playbook.data["causeActions"]["microsoft-out-of-sync"] == [
        "solution-1-number-swap",
        "solution-2-microsoft-support",
    ]


def test_reset_procedure_warnings_come_before_its_steps() -> None:
    reset = load_playbook("sync-error").action("solution-2-reset", {"domains": "a.example"}, set())
    warnings = norm(" ".join(reset.warnings))
    assert all(norm(w) in warnings for w in RESET_WARNINGS)
    wait = load_playbook("sync-error").action("solution-1-wait-and-sync", {}, set())
    assert wait.warnings[0].startswith("Do not press Sync Now repeatedly")


def test_support_request_has_every_bullet_and_the_reason_header() -> None:
    playbook = load_playbook("inbound-calls")
    guid = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    request = playbook.support_request({"correlation_id": guid}, {"correlation_known"})
    description = norm(request.description)
    assert all(norm(bullet) in description for bullet in SUPPORT_BULLETS)
    assert f'Reason header: Q.850 ;cause=1 ;text="{guid};RNL"' in request.description
    assert request.title == "Unable to receive calls in Teams (404 error)"
    assert any("Diag: Teams Direct Routing" in step for step in request.how_to_file)


def test_without_a_correlation_id_the_placeholder_stays_and_says_where_to_find_it() -> None:
    playbook = load_playbook("inbound-calls")
    values = {"correlation_id": "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"}
    request = playbook.support_request(values, set())
    assert 'text="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx;RNL"' in request.description
    notes = " ".join(playbook.action("solution-2-microsoft-support", values, set()).notes)
    assert "be sure to insert the code" in notes and "View Recent Call Log" in notes


@pytest.mark.parametrize("problem", PROBLEMS)
def test_playbook_covers_every_cause_and_check(problem: str) -> None:
    playbook = load_playbook(problem)
    assert set(playbook.data["causes"]) == set(CAUSES[problem])
    assert set(playbook.data["causeActions"]) == set(CAUSES[problem])
    for actions in playbook.data["causeActions"].values():
        assert actions and all(a in playbook.data["actions"] for a in actions)
    assert {c for c, _, _ in RULES[problem].CHECKS} == set(playbook.check_ids)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_placeholders_are_all_known(problem: str) -> None:
    used = {
        m.group(1) for s in template_strings(load_playbook(problem).data) for m in PLACEHOLDER.finditer(s)
    }
    assert used <= PLACEHOLDERS


def test_render_inserts_values_as_text() -> None:
    assert render("call {user}", {"user": "{teams_number} O'Brien"}) == "call {teams_number} O'Brien"
    assert render("left {unknown}", {}) == "left {unknown}"


async def test_no_placeholder_is_left_in_any_demo_diagnosis() -> None:
    tenant = DemoTenant.load(lambda: NOW)
    engine = Engine(
        tenant.microsoft, tenant.eightbyeight, tenant.portal, data_source="demo", clock=lambda: NOW
    )
    requests = [DiagnosisRequest(user=row["user"], problem=row["problem"]) for row in demo_users()]
    requests += [DiagnosisRequest(problem="sync-error"), DiagnosisRequest(user="nobody@contoso.example")]
    requests += [
        DiagnosisRequest(
            problem="sync-error", evidence_text="PSERROR1> PSTN Gateway not ready yet: 'x.example'"
        )
    ]
    for request in requests:
        text = json.dumps((await engine.diagnose(request)).to_json())
        assert not re.search(r"\{[a-z_]+\}", text), (request, re.findall(r"\{[a-z_]+\}", text))
