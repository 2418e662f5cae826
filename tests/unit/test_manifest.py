"""The filled manifest is one Teams accepts: v1.19 schema, limits, commands, message extension.

Validation here uses the test copy of the schema (tests/data) with jsonschema directly, so a
mistake in bot.manifest's own validation cannot hide one in the manifest.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from bot.manifest import (
    COMMANDS,
    MANIFEST_DIR,
    MESSAGE_EXTENSION_COMMAND_ID,
    MESSAGE_EXTENSION_PARAMETER,
    PROJECT_ROOT,
    SCHEMA_PATH,
    ManifestError,
    build_manifest,
    fill_manifest,
    load_template,
    project_version,
    validate_manifest,
    values_from_env,
)

APP_ID = "00000000-0000-0000-0000-000000000001"
TEST_SCHEMA = Path(__file__).parents[1] / "data" / "teams-manifest-v1.19.schema.json"
GUID = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(TEST_SCHEMA.read_text())


@pytest.fixture
def manifest() -> dict[str, Any]:
    return build_manifest(values_from_env(APP_ID, project_version(), environ={}))


def schema_errors(schema: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    return [error.message for error in Draft4Validator(schema).iter_errors(manifest)]


def test_the_test_schema_is_the_shared_v1_19_schema_and_the_runtime_copy(schema: dict[str, Any]) -> None:
    Draft4Validator.check_schema(schema)
    assert schema["properties"]["manifestVersion"]["const"] == "1.19"
    assert json.loads(SCHEMA_PATH.read_text()) == schema


def test_built_manifest_validates_against_the_v1_19_schema(schema, manifest) -> None:
    assert schema_errors(schema, manifest) == []
    assert manifest["manifestVersion"] == "1.19"
    assert manifest["$schema"].endswith("/v1.19/MicrosoftTeams.schema.json")


def test_the_schema_is_strict_enough_to_catch_a_bad_manifest(schema, manifest) -> None:
    """Guards the test above: the schema does reject what Teams rejects."""
    manifest["description"]["short"] = "x" * 81
    manifest["bots"][0]["botId"] = "not-a-guid"
    manifest["surprise"] = True
    assert len(schema_errors(schema, manifest)) == 3


def test_ids_are_the_bot_app_id_everywhere(manifest) -> None:
    assert manifest["id"] == APP_ID
    assert [bot["botId"] for bot in manifest["bots"]] == [APP_ID]
    assert [ext["botId"] for ext in manifest["composeExtensions"]] == [APP_ID]


def test_upper_case_app_id_is_normalised() -> None:
    values = values_from_env(APP_ID.upper().replace("0", "A"), "1.0.0", environ={})
    assert GUID.match(values.app_id)


def test_version_comes_from_pyproject(manifest) -> None:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as file:
        assert manifest["version"] == tomllib.load(file)["project"]["version"]


def test_project_version_reads_any_pyproject(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\nversion = "3.4.5"\n')
    assert project_version(pyproject) == "3.4.5"
    pyproject.write_text('[project]\nname = "x"\n')
    with pytest.raises(ManifestError, match="--version"):
        project_version(pyproject)


def test_names_and_descriptions_fit_teams_limits(manifest) -> None:
    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["name"]["full"]) <= 100
    assert 0 < len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["short"]) < len(manifest["description"]["full"]) <= 4000
    assert "8x8" in manifest["description"]["full"] and "Teams" in manifest["description"]["short"]


def test_bot_serves_personal_team_and_group_chat(manifest) -> None:
    (bot,) = manifest["bots"]
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert bot["isNotificationOnly"] is False


def test_command_lists_are_commands_per_scope(manifest) -> None:
    lists = manifest["bots"][0]["commandLists"]
    assert {scope for entry in lists for scope in entry["scopes"]} == {"personal", "team", "groupChat"}
    for entry in lists:
        (scope,) = entry["scopes"]
        assert [(c["title"], c["description"]) for c in entry["commands"]] == COMMANDS[scope]


def test_commands_are_the_ones_the_bot_understands() -> None:
    titles = {scope: [title for title, _ in commands] for scope, commands in COMMANDS.items()}
    assert titles == {
        "personal": ["help", "check calls", "check sync", "cases", "my calls don't ring"],
        "team": ["help", "check calls", "check sync", "cases", "set helpdesk channel"],
        "groupChat": ["help", "check calls", "check sync", "cases"],
    }
    for commands in COMMANDS.values():
        assert len(commands) <= 10
        for title, description in commands:
            assert 0 < len(title) <= 32 and 0 < len(description) <= 128


def test_template_command_lists_say_what_the_package_gets() -> None:
    """The readable template must not drift from COMMANDS, from which the package is filled."""
    template = load_template()
    lists = {entry["scopes"][0]: entry["commands"] for entry in template["bots"][0]["commandLists"]}
    assert {scope: [(c["title"], c["description"]) for c in cs] for scope, cs in lists.items()} == COMMANDS


def test_message_extension_is_a_diagnose_a_user_search(manifest) -> None:
    (extension,) = manifest["composeExtensions"]
    (command,) = extension["commands"]
    assert command["id"] == MESSAGE_EXTENSION_COMMAND_ID == "diagnoseUser"
    assert command["type"] == "query"
    assert command["title"] == "Diagnose a user"
    assert command["initialRun"] is False
    assert command["context"] == ["compose", "commandBox"]
    (parameter,) = command["parameters"]
    assert parameter["name"] == MESSAGE_EXTENSION_PARAMETER == "query"
    assert parameter["title"] == "Name, e-mail or number"


def test_icons_named_in_the_manifest_exist(manifest) -> None:
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert all((MANIFEST_DIR / name).is_file() for name in manifest["icons"].values())


def test_developer_values_and_domain_come_from_the_environment(schema) -> None:
    environ = {
        "VOICE_DOCTOR_DEVELOPER_NAME": "Contoso IT",
        "VOICE_DOCTOR_WEBSITE_URL": "https://it.contoso.com/voice",
        "VOICE_DOCTOR_PRIVACY_URL": "https://contoso.com/privacy",
        "VOICE_DOCTOR_TERMS_URL": "https://contoso.com/terms",
        "VOICE_DOCTOR_BOT_DOMAIN": "VoiceDoctor.Contoso.com",
    }
    manifest = build_manifest(values_from_env(APP_ID, "2.0.1", environ))
    assert manifest["developer"] == {
        "name": "Contoso IT",
        "websiteUrl": "https://it.contoso.com/voice",
        "privacyUrl": "https://contoso.com/privacy",
        "termsOfUseUrl": "https://contoso.com/terms",
    }
    assert manifest["validDomains"] == ["voicedoctor.contoso.com"]
    assert manifest["version"] == "2.0.1"
    assert schema_errors(schema, manifest) == []


def test_defaults_are_https_and_reported() -> None:
    values = values_from_env(APP_ID, "1.0.0", environ={})
    for url in (values.website_url, values.privacy_url, values.terms_url):
        assert url.startswith("https://")
    assert values.bot_domain == ""
    assert values.defaults_in_use() == [
        "VOICE_DOCTOR_DEVELOPER_NAME",
        "VOICE_DOCTOR_WEBSITE_URL",
        "VOICE_DOCTOR_PRIVACY_URL",
        "VOICE_DOCTOR_TERMS_URL",
    ]
    assert fill_manifest(load_template(), values)["validDomains"] == []


@pytest.mark.parametrize(
    ("app_id", "version", "environ", "message"),
    [
        ("00000000-0000-0000-0000-00000000001", "1.0.0", {}, "must be a GUID"),
        ("{00000000-0000-0000-0000-000000000001}", "1.0.0", {}, "must be a GUID"),
        (APP_ID, "1.0", {}, "MAJOR.MINOR.PATCH"),
        (APP_ID, "1.0.0-beta", {}, "MAJOR.MINOR.PATCH"),
        (APP_ID, "01.0.0", {}, "MAJOR.MINOR.PATCH"),
        (
            APP_ID,
            "1.0.0",
            {"VOICE_DOCTOR_PRIVACY_URL": "http://contoso.com/privacy"},
            "VOICE_DOCTOR_PRIVACY_URL",
        ),
        (APP_ID, "1.0.0", {"VOICE_DOCTOR_TERMS_URL": "contoso.com/terms"}, "VOICE_DOCTOR_TERMS_URL"),
        (APP_ID, "1.0.0", {"VOICE_DOCTOR_WEBSITE_URL": "https:// x"}, "VOICE_DOCTOR_WEBSITE_URL"),
        (APP_ID, "1.0.0", {"VOICE_DOCTOR_DEVELOPER_NAME": "C" * 33}, "at most 32"),
        (APP_ID, "1.0.0", {"VOICE_DOCTOR_BOT_DOMAIN": "https://bot.contoso.com"}, "host name only"),
        (APP_ID, "1.0.0", {"VOICE_DOCTOR_BOT_DOMAIN": "bot.contoso.com:443"}, "host name only"),
        (APP_ID, "1.0.0", {"VOICE_DOCTOR_BOT_DOMAIN": "localhost"}, "host name only"),
    ],
)
def test_bad_values_get_one_sentence(
    app_id: str, version: str, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ManifestError, match=re.escape(message)) as raised:
        values_from_env(app_id, version, environ)
    text = str(raised.value)
    assert "\n" not in text and text.endswith(".")


def test_validate_catches_what_the_draft4_schema_cannot(manifest) -> None:
    wrong_version = {**manifest, "manifestVersion": "1.17"}
    with pytest.raises(ManifestError, match="manifestVersion must be 1.19"):
        validate_manifest(wrong_version)

    placeholder = json.loads(json.dumps(manifest).replace("Voice Doctor for", "${{APP_NAME}} for"))
    with pytest.raises(ManifestError, match="placeholder"):
        validate_manifest(placeholder)

    other_bot = json.loads(json.dumps(manifest))
    other_bot["composeExtensions"][0]["botId"] = "00000000-0000-0000-0000-000000000002"
    with pytest.raises(ManifestError, match="same bot id"):
        validate_manifest(other_bot)


def test_validate_names_where_the_schema_fails(manifest) -> None:
    manifest["name"]["short"] = "Voice Doctor for 8x8 Voice for Teams"
    with pytest.raises(ManifestError, match=r"^The manifest is not valid at name/short: .*\.$"):
        validate_manifest(manifest)


def test_the_unfilled_template_is_not_a_valid_manifest() -> None:
    with pytest.raises(ManifestError):
        validate_manifest(load_template())
