"""The pure parts of the Graph number writes: the token's roles, national clouds, operation ids."""

from __future__ import annotations

import base64
import json

import pytest

from bot.config import load_settings
from bot.sources.graph_numbers import NUMBERS_WRITE, _operation_id, national_cloud_reason, token_roles


def jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


def test_roles_are_read_from_the_payload():
    assert token_roles(jwt({"roles": [NUMBERS_WRITE, "User.Read.All"]})) == {NUMBERS_WRITE, "User.Read.All"}


def test_a_token_without_roles_grants_nothing():
    assert token_roles(jwt({"appid": "x"})) == frozenset()


@pytest.mark.parametrize(
    "token", ["opaque-token", "a.b", "a.!!!.c", f"x.{base64.urlsafe_b64encode(b'[1]').decode()}.y"]
)
def test_an_unreadable_token_is_unknown_not_refused(token):
    assert token_roles(token) is None


@pytest.mark.parametrize("cloud", ["usgov", "usgovdod", "china"])
def test_national_clouds_turn_fixes_off(cloud):
    reason = national_cloud_reason(load_settings({"GRAPH_CLOUD": cloud}, env_file=None))

    assert reason and f"GRAPH_CLOUD={cloud}" in reason and "global service" in reason


def test_a_national_graph_host_turns_fixes_off_even_with_cloud_public():
    settings = load_settings({"GRAPH_ENDPOINT": "https://graph.microsoft.us"}, env_file=None)

    assert "GRAPH_ENDPOINT" in (national_cloud_reason(settings) or "")


def test_the_global_service_and_private_endpoints_allow_fixes():
    assert national_cloud_reason(load_settings({}, env_file=None)) is None
    assert (
        national_cloud_reason(load_settings({"GRAPH_ENDPOINT": "https://127.0.0.1:8443"}, env_file=None))
        is None
    )


@pytest.mark.parametrize(
    ("location", "operation_id"),
    [
        (
            "https://graph.microsoft.com/v1.0/admin/teams/telephoneNumberManagement/operations('abc-1')",
            "abc-1",
        ),
        ("https://graph.microsoft.com/v1.0/admin/teams/telephoneNumberManagement/operations/abc-2", "abc-2"),
        ("https://graph.microsoft.com/v1.0/somewhere/else", None),
    ],
)
def test_operation_id_from_the_location(location, operation_id):
    assert _operation_id(location) == operation_id
