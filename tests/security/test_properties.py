"""Property-based tests: no exception escapes on arbitrary input, and escaping round-trips exactly.

- the portal-text parser, on arbitrary and adversarial text up to (and just past) its 64 KB limit,
  answers in bounded time (no catastrophic regex backtracking);
- the phone normaliser returns E.164 or None, is idempotent and symmetric;
- OData escaping: every string survives `odata_string` -> the strict fake Graph's `$filter` parser
  unchanged, path segments and query values survive percent-encoding, and `GraphSource.find_users`
  with arbitrary text never makes Graph answer 400;
- `dialogs.intents.recognise` places any text and never raises;
- the whole activity router: arbitrary text, card values, entities, senders and conversation kinds
  go through VoiceDoctorBot in-process (as app.py wires it) without an exception, and a message
  always gets an answer.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from botbuilder.schema import Activity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.diagnosis.errors import InputError, SourceError
from bot.diagnosis.phone import masked_prefix_match, same_number, to_e164
from bot.diagnosis.portal_text import (
    MAX_PASTE_BYTES,
    infer_problem,
    looks_like_portal_text,
    parse_portal_text,
)
from bot.manifest import MESSAGE_EXTENSION_COMMAND_ID, MESSAGE_EXTENSION_PARAMETER
from bot.sources.graph import GraphSource
from bot.sources.graph_odata import graph_url, odata_string, query, segment
from bot.sources.http import HttpClient, RetryPolicy
from dialogs.intents import recognise
from tests.dialog_harness import ADELE, BOT, MEGAN, TENANT, Harness, make_harness
from tests.fakes.graph_fixtures import Clock, contoso
from tests.fakes.graph_server import FakeMicrosoft, parse_filter

SAMPLES = Path(__file__).parents[2] / "bot/diagnosis/samples"
NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
E164 = re.compile(r"^\+[1-9]\d{7,14}$")
INTENT_KINDS = {
    "help",
    "cancel",
    "diagnose",
    "self-report",
    "paste",
    "cases",
    "set-helpdesk-channel",
    "greeting",
    "unknown",
}
PROBLEMS = {None, "inbound-calls", "sync-error"}

PORTAL_FRAGMENTS = [
    *(path.read_text() for path in sorted(SAMPLES.glob("*.txt"))),
    "Failure Advice: 404 Unallocated Number",
    "Invalid argument 404",
    'Reason: Q.850 ;cause=1 ;text="3f2b8c1e-7d4a-4e9b-a6c2-5b8e1f0d9a47;RNL"',
    'PSERROR1> PSTN Gateway not ready yet: "cnt0042-1.vt.8x8.example"',
    "Setup partially complete",
    "Sync completed 2026-11-21 10:00 UTC",
    "INVITE sip:+14255550104@sip.pstnhub.microsoft.com SIP/2.0",
    "+1 (425) 555-0104",
    "correlation id: ",
    "\u200b",
    "\u00a0",
    "\r\n",
    "\t",
    "\u201c",
    ";",
    "0",
    " ",
]
portalish = st.lists(st.sampled_from(PORTAL_FRAGMENTS) | st.text(max_size=20), max_size=60).map("".join)
any_text = st.one_of(
    st.text(max_size=500), portalish, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
)


# ---------------------------------------------------------------------------------------------
# Portal text


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_the_portal_parser_never_raises(text: str) -> None:
    evidence = parse_portal_text(text)
    assert evidence.kind in ("call-data", "sync-history", "none")
    assert evidence.called_number is None or E164.match(evidence.called_number)
    assert evidence.q850_cause is None or isinstance(evidence.q850_cause, int)
    assert infer_problem(text) in PROBLEMS
    assert isinstance(looks_like_portal_text(text), bool)


# Repeated runs of digits, separators and keywords: the shapes that make regexes backtrack.
BACKTRACKING_S = 20.0
adversarial_unit = st.sampled_from(
    [
        "1",
        "1 ",
        "+1 (",
        "-",
        "Failure Advice:",
        "Reason: Q.850 ;cause=",
        ";text=",
        "sync ",
        "PSERROR1>",
        "a" * 50,
        "\u200b",
    ]
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.lists(adversarial_unit, min_size=1, max_size=8))
def test_a_paste_near_the_limit_is_parsed_in_bounded_time(units: list[str]) -> None:
    unit = "".join(units)
    text = (
        (unit * (MAX_PASTE_BYTES // max(1, len(unit.encode())) + 1))
        .encode()[: MAX_PASTE_BYTES - 16]
        .decode("utf-8", "ignore")
    )
    started = time.perf_counter()
    parse_portal_text(text)
    # Not a speed target (those are in `make bench`): a parse takes ~0.03 s here; regex backtracking
    # on 64 KB takes minutes. The bound is far above what the slowest busy machine needs.
    assert time.perf_counter() - started < BACKTRACKING_S


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=5), st.integers(min_value=1, max_value=4096))
def test_a_paste_over_the_limit_is_one_sentence(unit: str, extra: int) -> None:
    text = unit * (MAX_PASTE_BYTES // len(unit.encode()) + extra)
    if len(text.encode()) <= MAX_PASTE_BYTES:
        return
    with pytest.raises(InputError) as refused:
        parse_portal_text(text)
    message = str(refused.value)
    assert message.endswith(".") and "\n" not in message and "KB limit" in message


# ---------------------------------------------------------------------------------------------
# Phone numbers


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60), st.text(alphabet="+0123456789 -().*x#;=extTELsip:@\u00a0\uff0b", max_size=40)
    )
)
def test_the_normaliser_is_total_idempotent_and_symmetric(text: str) -> None:
    number = to_e164(text)
    assert number is None or E164.match(number)
    if number is not None:
        assert to_e164(number) == number
        assert same_number(text, number) and same_number(number, text)
    assert same_number(text, "+14255550104") == same_number("+14255550104", text)
    assert isinstance(masked_prefix_match(text, "+14255550104"), bool)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789", min_size=0, max_size=4), st.integers(min_value=6, max_value=12))
def test_a_mostly_masked_number_matches_no_one(visible: str, hidden: int) -> None:
    """Fewer than five visible digits would match a whole tenant: never a match."""
    masked = "+" + visible + "*" * hidden
    assert not masked_prefix_match(masked, "+" + (visible or "1") + "4255550104"[: max(0, hidden - 1)])


# ---------------------------------------------------------------------------------------------
# OData escaping


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_an_odata_literal_round_trips_through_graphs_filter_parser(value: str) -> None:
    text = f"displayName eq {odata_string(value)} or startsWith(displayName,{odata_string(value)})"
    assert parse_filter(text, {"displayName"}, allow_starts_with=True) == [
        ("eq", "displayName", value),
        ("startsWith", "displayName", value),
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_segments_and_query_values_round_trip_and_cannot_change_the_path(name: str, value: str) -> None:
    url = graph_url(
        "https://graph.example", f"users/{segment(name)}", [("$filter", value), ("$select", "id")]
    )
    raw_path, _, raw_query = url.raw_path_qs.partition("?")
    segments = raw_path.split("/")
    assert segments[:3] == ["", "v1.0", "users"] and len(segments) == 4
    assert unquote(segments[3]) == name
    assert "#" not in url.raw_path_qs and " " not in url.raw_path_qs
    assert dict(parse_qsl(raw_query, keep_blank_values=True)) == {"$filter": value, "$select": "id"}
    assert query([("k", value)]) == "k=" + raw_query.split("&")[0].partition("=")[2]


@pytest.fixture(scope="module")
def graph(test_certificates) -> Iterator[tuple[asyncio.Runner, FakeMicrosoft, GraphSource]]:
    """One strict fake Graph and one GraphSource for all examples, on one event loop."""
    with pytest.MonkeyPatch.context() as patch, asyncio.Runner() as runner:
        patch.setenv("SSL_CERT_FILE", str(test_certificates.ca_file))
        patch.setenv("REQUESTS_CA_BUNDLE", str(test_certificates.ca_file))
        clock = Clock(NOW)
        fake = runner.run(FakeMicrosoft(test_certificates, contoso(NOW)).start())
        http = HttpClient(RetryPolicy(attempts=1, total_seconds=5, request_timeout=5), sleep=clock.sleep)
        try:
            yield runner, fake, GraphSource(fake.settings(), http, clock=clock)
        finally:
            runner.run(http.close())
            runner.run(fake.stop())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet="'\"%/?#&+=$@ ()\\\u00e9\u2019", max_size=20).map(lambda s: f"O'{s}@contoso.com"),
        st.text(alphabet="'\"%/?#&+=$ ()\\", max_size=20).map(lambda s: f"Dara {s}"),
    )
)
def test_find_users_with_any_text_never_makes_graph_answer_400(graph, text: str) -> None:
    runner, fake, source = graph
    asked = len(fake.graph_requests())
    try:
        users = runner.run(source.find_users(text))
    except SourceError as error:
        pytest.fail(f"Graph refused the query for {text!r}: {error}")
    assert isinstance(users, list)
    assert len(fake.graph_requests()) > asked or not text.strip(), "the query reached the fake"


# ---------------------------------------------------------------------------------------------
# recognise


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        any_text,
        st.tuples(
            st.sampled_from(
                [
                    "check calls for ",
                    "diagnose inbound calls for ",
                    "check sync ",
                    "calls to ",
                    "help",
                    "cases ",
                ]
            ),
            st.text(max_size=60),
        ).map("".join),
    )
)
def test_recognise_places_any_text(text: str) -> None:
    intent = recognise(text)
    assert intent.kind in INTENT_KINDS
    assert intent.problem in PROBLEMS
    if intent.kind == "paste":
        assert intent.text == text.strip()
    if intent.user not in (None, "me"):
        assert intent.user in " ".join(text.split()) or intent.user.strip("\"'“”") in text


# ---------------------------------------------------------------------------------------------
# The activity router


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
USER_IDS = st.sampled_from(
    [
        MEGAN.aad_object_id,
        ADELE.aad_object_id,
        "00000000-0000-0000-0000-00000000a003",
        "",
        " ",
        "x" * 300,
        "'; DROP",
    ]
)
card_values = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {
            "vd": st.sampled_from(
                ["start", "answer-user", "pick-user", "first-sync", "answer-8x8-number", "other"]
            )
            | st.text(max_size=8),
        },
        optional={
            "problem": st.sampled_from(["inbound-calls", "sync-error", "nonsense"]) | JSON,
            "userId": USER_IDS | JSON,
            "userText": st.text(max_size=80) | JSON,
            "choice": st.sampled_from(["lt1d", "1to3d", "gt3d", "exact", "unknown"]) | JSON,
            "firstSyncDate": st.text(max_size=20) | st.just("2026-11-20"),
            "firstSyncTime": st.text(max_size=8) | st.just("10:00"),
            "number8x8": st.text(max_size=30) | JSON,
            "skip": JSON,
        },
    ),
)
entities = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("mention")},
            optional={
                "text": st.text(max_size=30) | st.just("<at>Voice Doctor</at>"),
                "mentioned": st.just({"id": BOT.id, "name": BOT.name})
                | st.dictionaries(st.text(max_size=5), JSON, max_size=3),
            },
        ),
        st.dictionaries(st.sampled_from(["type", "text", "locale", "mentioned"]), JSON, max_size=4),
    ),
    max_size=3,
)
texts = st.one_of(
    st.none(),
    any_text,
    st.sampled_from(
        ["help", "cancel", "cases", "set helpdesk channel", "check sync", "my calls don't ring", "hi"]
    ),
    st.tuples(st.just("<at>Voice Doctor</at> "), st.text(max_size=80)).map("".join),
    st.tuples(st.just("check calls for "), st.text(max_size=80)).map("".join),
    st.integers(min_value=-8, max_value=8).map(lambda n: "x" * (64 * 1024 + n)),
)
SENDERS = [
    {"id": "29:megan-bowen", "name": "Megan Bowen", "aadObjectId": MEGAN.aad_object_id},
    {"id": "29:adele-vance", "name": "Adele Vance", "aadObjectId": ADELE.aad_object_id},
    {"id": "29:someone"},
]
CONVERSATIONS = [
    {"conversationType": "personal"},
    {"conversationType": "groupChat", "isGroup": True},
    {"conversationType": "channel", "isGroup": True},
]
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def router() -> Iterator[tuple[asyncio.Runner, Harness]]:
    with asyncio.Runner() as runner:
        yield runner, make_harness()


def activity_json(
    kind: dict[str, Any], sender: dict[str, Any], conversation_id: str, **fields: Any
) -> dict[str, Any]:
    return {
        "id": f"fuzz-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": "https://smba.example.test/",
        "from": sender,
        "recipient": {"id": BOT.id, "name": BOT.name},
        "conversation": {"id": conversation_id, "tenantId": TENANT, **kind},
        "channelData": {"tenant": {"id": TENANT}},
        **{k: v for k, v in fields.items() if v is not None},
    }


async def receive(harness: Harness, body: dict[str, Any]) -> list[Activity]:
    """What the bot sent for one activity, deserialised from JSON as the app deserialises it."""
    before = len(harness.adapter.activity_buffer)
    await harness.adapter.receive_activity(Activity().deserialize(body))
    return harness.adapter.activity_buffer[before:]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(
    st.lists(
        st.tuples(
            texts,
            st.none() | card_values,
            st.none() | entities,
            st.sampled_from(SENDERS),
            st.sampled_from(CONVERSATIONS),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_any_message_is_answered_without_an_exception(router, turns) -> None:
    runner, harness = router
    conversation_id = f"a:fuzz-{next(_ids)}"  # a few turns in one conversation: dialogs carry over
    for text, value, mentions, sender, kind in turns:
        body = activity_json(
            kind, sender, conversation_id, type="message", text=text, value=value, entities=mentions
        )
        sent = runner.run(receive(harness, body))
        assert [a for a in sent if a.type == "message"], f"no answer to {body!r}"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["recheck", "assign", "resolve", "shareToHelpdesk", "unknown"]) | st.text(max_size=12),
    st.dictionaries(st.sampled_from(["caseId", "userId", "problem", "x"]), USER_IDS | JSON, max_size=4),
    st.sampled_from(SENDERS),
    st.sampled_from(CONVERSATIONS),
)
def test_any_card_action_gets_a_card_back(router, verb, data, sender, kind) -> None:
    runner, harness = router
    body = activity_json(
        kind,
        sender,
        f"a:fuzz-{next(_ids)}",
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
    )
    sent = runner.run(receive(harness, body))
    responses = [a.value for a in sent if a.type == "invokeResponse"]
    assert len(responses) == 1 and responses[0].status == 200
    assert responses[0].body["type"] == "application/vnd.microsoft.card.adaptive"
    assert responses[0].body["value"]["type"] == "AdaptiveCard"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["composeExtension/query", "composeExtension/selectItem"]),
    st.one_of(
        st.fixed_dictionaries(
            {
                "commandId": st.sampled_from([MESSAGE_EXTENSION_COMMAND_ID, "other"]),
                "parameters": st.lists(
                    st.fixed_dictionaries(
                        {
                            "name": st.sampled_from([MESSAGE_EXTENSION_PARAMETER, "initialRun", "x"]),
                            "value": JSON,
                        }
                    ),
                    max_size=3,
                ),
            }
        ),
        st.dictionaries(st.sampled_from(["userId", "x"]), USER_IDS | JSON, max_size=2),
    ),
    st.sampled_from(SENDERS),
)
def test_any_message_extension_invoke_gets_an_answer(router, name, value, sender) -> None:
    runner, harness = router
    body = activity_json(
        CONVERSATIONS[0], sender, f"a:fuzz-{next(_ids)}", type="invoke", name=name, value=value
    )
    sent = runner.run(receive(harness, body))
    responses = [a.value for a in sent if a.type == "invokeResponse"]
    assert len(responses) == 1 and responses[0].status == 200
