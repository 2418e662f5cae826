"""The tenant sweep on the embedded demo tenant, its report, and its call counts.

The demo tenant holds one user per cause of both call problems: a sweep must list each of them
under the cause a diagnosis gives them (and nobody it finds nothing wrong with), print DESIGN.md's
JSON, and keep its memory in the number of people, not of call rows.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.evidence import CallPage, CallRecord
from bot.diagnosis.model import CAUSES
from bot.diagnosis.sweep import Sweeper
from bot.diagnosis.sweep.calls import CallCounts, owners_for
from bot.diagnosis.sweep.report import CSV_COLUMNS, SWEEP_CAUSES, cause_title, sweep_todo
from bot.sources.demo import DemoTenant, demo_users
from tests.fakes.graph_fixtures import Clock

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def demo(clock) -> DemoTenant:
    return DemoTenant.load(clock)


async def demo_sweep(demo, clock, **options):
    sweeper = Sweeper(demo.microsoft, demo.eightbyeight, demo.portal, data_source="demo", clock=clock)
    return await sweeper.sweep(**options)


MAIN_LINE = "mainline@contoso.example"


async def test_every_demo_user_with_a_problem_is_listed_under_the_cause_diagnose_gives(demo, clock):
    report = (await demo_sweep(demo, clock)).report
    engine = Engine(demo.microsoft, demo.eightbyeight, demo.portal, data_source="demo", clock=clock)

    listed = {(f.problem, s.user_principal_name): f.cause for f in report.findings for s in f.subjects}
    expected = {
        (r["problem"], r["user"]): r["sweep"] for r in demo_users() if r["cause"] != "no-failure-found"
    }
    assert listed == expected
    assert listed[("inbound-calls", MAIN_LINE)] == "number-conflict"  # the receptionist holds its number
    diagnosed = {(r["problem"], r["user"]): r["cause"] for r in demo_users()}
    for problem, upn in listed:
        diagnosis = await engine.diagnose(DiagnosisRequest(problem=problem, user=upn))
        assert diagnosis.cause == diagnosed[(problem, upn)], upn
    assert report.complete and report.notes == []


async def test_a_sweep_finds_every_cause_of_the_demo_users(demo, clock):
    report = (await demo_sweep(demo, clock)).report

    for problem in ("inbound-calls", "outbound-calls"):
        found = {f.cause for f in report.findings if f.problem == problem}
        sweep_only = {"number-conflict"} if problem == "inbound-calls" else set()
        assert found == set(CAUSES[problem]) - {"no-failure-found"} | sweep_only


async def test_the_json_is_designs(demo, clock):
    report = (await demo_sweep(demo, clock, since=timedelta(hours=24))).report
    data = json.loads(json.dumps(report.to_json()))

    assert {"schema", "kind", "period", "counted", "findings", "complete", "notes", "dataSource"} <= set(data)
    assert (data["schema"], data["kind"], data["dataSource"], data["complete"]) == (1, "sweep", "demo", True)
    assert data["period"] == {"from": "2026-11-22T14:30:00Z", "to": "2026-11-23T14:30:00Z"}
    assert {"users", "teamsNumbers", "eightByEightNumbers", "callRows", "failedCalls"} <= set(data["counted"])
    users = [f["users"] for f in data["findings"]]
    assert users == sorted(users, reverse=True)
    for finding in data["findings"]:
        assert {"cause", "problem", "users", "failedCalls", "subjects"} <= set(finding)
        assert finding["users"] == len(finding["subjects"])
        assert finding["failedCalls"] == sum(s["failedCalls"] for s in finding["subjects"])
        for subject in finding["subjects"]:
            assert {
                "id",
                "userPrincipalName",
                "displayName",
                "phoneNumbers",
                "failedCalls",
                "lastFailedAt",
            } <= set(subject)
            assert set(subject["phoneNumbers"]) == {"8x8", "teams"}
    adele = next(f for f in data["findings"] if f["cause"] == "number-mismatch")["subjects"][0]
    assert adele["phoneNumbers"] == {"8x8": "+14255550102", "teams": "+14255550120"}
    assert (
        adele["failedCalls"] == 1 and adele["lastFailedAt"] == "2026-11-23T09:30:00Z"
    )  # the 29 h one is older


async def test_the_period_is_the_one_asked_for(demo, clock):
    day = (await demo_sweep(demo, clock, since=timedelta(hours=24))).report
    week = (await demo_sweep(demo, clock)).report

    def calls(report, upn):
        return next(
            s.failed_calls for f in report.findings for s in f.subjects if s.user_principal_name == upn
        )

    assert (calls(day, "dara.o'brien@contoso.example"), calls(week, "dara.o'brien@contoso.example")) == (1, 3)
    assert week.counted.call_rows > day.counted.call_rows


async def test_csv_has_one_row_per_affected_person(demo, clock):
    report = (await demo_sweep(demo, clock)).report
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(report.csv_rows())

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == report.affected == 19  # the main line and the receptionist among them
    assert {r["userPrincipalName"] for r in rows if r["kind"] == "resourceAccount"} == {MAIN_LINE}
    jordan = [r for r in rows if r["userPrincipalName"] == "jordan.reyes@contoso.example"]
    assert len(jordan) == 1 and jordan[0]["id"] == "" and jordan[0]["eightByEightNumber"] == "+14255550108"
    assert (jordan[0]["inboundCause"], jordan[0]["outboundCause"]) == ("user-not-found", "user-not-found")
    lynne = next(r for r in rows if r["userPrincipalName"] == "lynner@contoso.example")
    assert (lynne["inboundCause"], lynne["outboundCause"], lynne["outboundFailedCalls"]) == (
        "",
        "no-voice-route",
        "4",
    )
    johanna = next(r for r in rows if r["userPrincipalName"] == "johannal@contoso.example")
    assert (johanna["inboundConfidence"], johanna["inboundAlternatives"]) == (
        "possible",
        "microsoft-out-of-sync",
    )
    failed = [int(r["inboundFailedCalls"] or 0) + int(r["outboundFailedCalls"] or 0) for r in rows]
    assert failed == sorted(failed, reverse=True)


def test_the_sweeps_own_causes_have_words():
    assert set(SWEEP_CAUSES) == {"number-conflict", "number-activation-pending", "number-activation-failed"}
    for cause in SWEEP_CAUSES:
        assert cause_title("inbound-calls", cause) and sweep_todo(cause)
    assert cause_title("outbound-calls", "no-voice-route") and sweep_todo("no-voice-route") is None


# --- call counts ----------------------------------------------------------------------------------


def record(
    at: datetime, *, callee: str, user_id: str | None = None, sub: int = 511404, sip: int = 404
) -> CallRecord:
    return CallRecord(
        correlation_id=f"c-{at.timestamp()}-{callee}",
        at=at,
        call_type="ByotIn",
        successful=False,
        caller_number="+13125550199",
        callee_number=callee,
        sip_code=sip,
        sub_code=sub,
        user_id=user_id,
    )


PERIOD = (NOW - timedelta(days=1), NOW)


def counts_of(*records: CallRecord) -> CallCounts:
    counts = CallCounts()
    counts.add(CallPage(rows=len(records) * 10, unsuccessful=records))
    return counts


def test_a_masked_number_goes_to_the_one_person_it_fits_and_is_marked_partial():
    counts = counts_of(record(NOW, callee="+1425640****"))
    owners = owners_for(
        [("isaiah", "i-1", {"inbound": ["+14256400109"]}), ("megan", "m-1", {"inbound": ["+14255550100"]})]
    )

    assert counts.share_out(owners, masked_limit=3) == 0
    search = counts.search_for("isaiah", "inbound", PERIOD, complete=True)
    assert [c.partial_match for c in search.calls] == [True]
    assert counts.search_for("megan", "inbound", PERIOD, complete=True).calls == []


def test_a_masked_number_that_fits_too_many_people_names_nobody():
    counts = counts_of(record(NOW, callee="+1425555****"))
    owners = owners_for([(f"p{i}", None, {"inbound": [f"+142555501{i:02d}"]}) for i in range(5)])

    assert counts.share_out(owners, masked_limit=3) == 1
    assert all(not counts.search_for(f"p{i}", "inbound", PERIOD, complete=True).calls for i in range(5))


def test_a_call_goes_to_the_user_microsoft_found_and_to_whoever_holds_the_number_as_a_diagnosis_counts_it():
    counts = counts_of(record(NOW, callee="+14255550102", user_id="A-1", sub=10037, sip=480))
    owners = owners_for(
        [("a", "a-1", {"inbound": ["+14255550120"]}), ("b", "b-1", {"inbound": ["+14255550102"]})]
    )
    counts.share_out(owners, masked_limit=3)

    for key in ("a", "b"):
        search = counts.search_for(key, "inbound", PERIOD, complete=True)
        assert sum(t.count for t in search.signatures.values()) == 1


def test_counts_stay_the_size_of_the_numbers_not_of_the_rows():
    counts = CallCounts()
    for page in range(200):
        at = NOW - timedelta(minutes=page)
        counts.add(
            CallPage(rows=1000, unsuccessful=tuple(record(at, callee=f"+1425555{n:04d}") for n in range(25)))
        )

    assert counts.rows == 200_000 and counts.failed == 5_000
    assert counts.keys == 25  # one aggregate per number reached, however many pages
    owners = owners_for([("p", None, {"inbound": ["+14255550007"]})])
    counts.share_out(owners, masked_limit=3)
    search = counts.search_for("p", "inbound", PERIOD, complete=True)
    assert sum(t.count for t in search.signatures.values()) == 200 and len(search.calls) == 1


# --- the tenant's call log, streamed -----------------------------------------------------------


def _page(rows: int, link: str | None, key: str = "@odata.nextLink") -> bytes:
    from tests.fakes.graph_server import call_row

    body: dict = {"value": [call_row(NOW, callee="+14255550101", successful=True) for _ in range(rows)]}
    if link:
        body[key] = link
    return json.dumps(body).encode()


ENDPOINT = "https://graph.example"


async def test_the_stream_asks_for_the_next_page_before_it_reads_this_one_and_follows_any_case():
    import asyncio

    from yarl import URL

    from bot.sources.graph_calls import stream_tenant_calls

    pages = {
        "p1": _page(2, f"{ENDPOINT}/v1.0/x?$skiptoken=p2"),
        "p2": _page(3, f"{ENDPOINT}/v1.0/x?$skiptoken=p3", key="@odata.NEXTLINK"),  # not Graph's spelling
        "p3": _page(1, None),
        "w2": _page(4, None),
    }
    asked: list[str] = []
    order: list[str] = []

    async def fetch(url: URL) -> bytes:
        key = str(url).rsplit("=", 1)[-1] if "=" in str(url) else str(url).rsplit("/", 1)[-1]
        asked.append(key)
        await asyncio.sleep(0)
        return pages[key]

    firsts = [URL(f"{ENDPOINT}/v1.0/p1", encoded=True), URL(f"{ENDPOINT}/v1.0/w2", encoded=True)]
    async for page in stream_tenant_calls(firsts, fetch, ENDPOINT):
        order.append((page.rows, list(asked)))

    assert [rows for rows, _ in order] == [2, 3, 1, 4]
    assert order[0][1] == ["p1", "p2"]  # p2 was on its way before p1 was handed out
    assert asked == ["p1", "p2", "p3", "w2"]  # each page once, the second window after the first


async def test_the_stream_refuses_a_link_to_another_host_and_cancels_what_it_asked_for():
    import asyncio

    import pytest
    from yarl import URL

    from bot.diagnosis.errors import SourceUnavailable
    from bot.sources.graph_calls import stream_tenant_calls

    waiting = asyncio.Event()
    cancelled = []

    async def fetch(url: URL) -> bytes:
        if str(url).endswith("p1"):
            return _page(1, f"{ENDPOINT}/v1.0/x?$skiptoken=p2")
        try:
            await waiting.wait()
        except asyncio.CancelledError:
            cancelled.append(str(url))
            raise
        return b""

    stream = stream_tenant_calls([URL(f"{ENDPOINT}/v1.0/p1", encoded=True)], fetch, ENDPOINT)
    first = await anext(stream)
    assert first.rows == 1
    await stream.aclose()  # the consumer stops (a time budget): the request under way is cancelled
    assert cancelled == [f"{ENDPOINT}/v1.0/x?$skiptoken=p2"]

    async def elsewhere(url: URL) -> bytes:
        return _page(1, "https://attacker.example/v1.0/x?$skiptoken=p2")

    with pytest.raises(SourceUnavailable, match="outside Microsoft Graph"):
        async for _ in stream_tenant_calls([URL(f"{ENDPOINT}/v1.0/p1", encoded=True)], elsewhere, ENDPOINT):
            pass


def test_the_next_link_is_read_off_the_end_of_a_page_only_when_it_is_the_pages_own():
    from bot.sources.graph_calls import peek_next_link

    assert (
        peek_next_link(_page(1, f"{ENDPOINT}/v1.0/x?$skiptoken=%2B%2F"))
        == f"{ENDPOINT}/v1.0/x?$skiptoken=%2B%2F"
    )
    assert peek_next_link(json.dumps({"value": [{"@odata.nextLink": "a row's"}]}).encode()) is None
    assert peek_next_link(json.dumps({"@odata.nextLink": "first", "value": []}).encode()) is None
    assert peek_next_link(b'{"value":[],"@odata.nextLink":"a\\/b"}') == "a/b"
