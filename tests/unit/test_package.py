"""`python -m bot package`: exit codes, messages, and the zip Teams gets.

Most tests call bot.__main__.main in-process (fast); one runs the real `python -m bot package`
command exactly as the acceptance criterion states it.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from bot.__main__ import main
from bot.manifest import MANIFEST_DIR, ManifestError, values_from_env, write_package

APP_ID = "00000000-0000-0000-0000-000000000001"
TEST_SCHEMA = Path(__file__).parents[1] / "data" / "teams-manifest-v1.19.schema.json"
PROJECT_ROOT = Path(__file__).parents[2]
NO_ID = "Set MicrosoftAppId or pass --app-id: Teams needs the bot's Microsoft App ID.\n"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No bot identity or developer values from the machine, and no `.env`: work in an empty folder."""
    for name in (
        "MicrosoftAppId",
        "MicrosoftAppType",
        "MicrosoftAppTenantId",
        "VOICE_DOCTOR_DEVELOPER_NAME",
        "VOICE_DOCTOR_WEBSITE_URL",
        "VOICE_DOCTOR_PRIVACY_URL",
        "VOICE_DOCTOR_TERMS_URL",
        "VOICE_DOCTOR_BOT_DOMAIN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def read_package(path: Path) -> tuple[list[str], dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        files = {name: archive.read(name) for name in names}
    return names, json.loads(files["manifest.json"]), files


def png_dimensions(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def assert_teams_package(path: Path) -> dict[str, Any]:
    names, manifest, files = read_package(path)
    assert sorted(names) == ["color.png", "manifest.json", "outline.png"]
    assert all("/" not in name for name in names)
    assert list(Draft4Validator(json.loads(TEST_SCHEMA.read_text())).iter_errors(manifest)) == []
    assert png_dimensions(files["color.png"]) == (192, 192)
    assert png_dimensions(files["outline.png"]) == (32, 32)
    return manifest


def test_package_with_app_id_writes_a_valid_zip(capsys, tmp_path: Path) -> None:
    assert main(["package", "--app-id", APP_ID]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(Path("build") / "voice-doctor.zip")
    manifest = assert_teams_package(tmp_path / "build" / "voice-doctor.zip")
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert "VOICE_DOCTOR_PRIVACY_URL" in err  # the placeholders are pointed out, not silent


def test_package_without_any_app_id_exits_2_with_one_sentence(capsys, tmp_path: Path) -> None:
    assert main(["package"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", NO_ID)
    assert not (tmp_path / "build").exists()


def test_package_with_a_blank_app_id_is_no_app_id(capsys) -> None:
    assert main(["package", "--app-id", "  "]) == 2
    assert capsys.readouterr().err == NO_ID


@pytest.mark.parametrize(
    "bad", ["my-bot", "00000000-0000-0000-0000-0000000000012", "0000000000000000000000000000001"]
)
def test_package_with_a_bad_app_id_exits_2(capsys, bad: str, tmp_path: Path) -> None:
    assert main(["package", "--app-id", bad]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "must be a GUID" in err and "Traceback" not in err
    assert not (tmp_path / "build").exists()


def test_app_id_defaults_to_microsoft_app_id(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setenv("MicrosoftAppId", "11111111-2222-3333-4444-555555555555")
    assert main(["package", "--out", "pkg.zip"]) == 0
    manifest = assert_teams_package(tmp_path / "pkg.zip")
    assert manifest["composeExtensions"][0]["botId"] == "11111111-2222-3333-4444-555555555555"


def test_app_id_and_developer_values_are_read_from_dot_env(capsys, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "MicrosoftAppId=22222222-2222-2222-2222-222222222222\n"
        "VOICE_DOCTOR_DEVELOPER_NAME=Contoso IT\n"
        "VOICE_DOCTOR_WEBSITE_URL=https://contoso.com/it\n"
        "VOICE_DOCTOR_PRIVACY_URL=https://contoso.com/privacy\n"
        "VOICE_DOCTOR_TERMS_URL=https://contoso.com/terms\n"
        "VOICE_DOCTOR_BOT_DOMAIN=voicedoctor.contoso.com\n"
    )
    assert main(["package", "--out", "app.zip"]) == 0
    assert capsys.readouterr().err == ""
    manifest = assert_teams_package(tmp_path / "app.zip")
    assert manifest["id"] == "22222222-2222-2222-2222-222222222222"
    assert manifest["developer"]["name"] == "Contoso IT"
    assert manifest["validDomains"] == ["voicedoctor.contoso.com"]


def test_command_line_app_id_wins_over_the_environment(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setenv("MicrosoftAppId", "11111111-2222-3333-4444-555555555555")
    assert main(["package", "--app-id", APP_ID, "--out", "a.zip"]) == 0
    assert read_package(tmp_path / "a.zip")[1]["id"] == APP_ID


def test_an_unrelated_bad_setting_does_not_block_packaging_with_app_id(monkeypatch, capsys) -> None:
    monkeypatch.setenv("PORT", "not-a-port")
    assert main(["package", "--app-id", APP_ID]) == 0


def test_a_bad_setting_is_one_sentence_when_the_app_id_comes_from_settings(monkeypatch, capsys) -> None:
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    monkeypatch.setenv("MicrosoftAppType", "Sometimes")
    assert main(["package"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("MicrosoftAppType=") and err.count("\n") == 1


def test_version_option_overrides_pyproject(capsys, tmp_path: Path) -> None:
    assert main(["package", "--app-id", APP_ID, "--version", "4.5.6", "--out", "v.zip"]) == 0
    assert read_package(tmp_path / "v.zip")[1]["version"] == "4.5.6"


def test_bad_version_exits_2(capsys, tmp_path: Path) -> None:
    assert main(["package", "--app-id", APP_ID, "--version", "4.5"]) == 2
    assert "MAJOR.MINOR.PATCH" in capsys.readouterr().err
    assert not (tmp_path / "build").exists()


def test_bad_developer_url_exits_2(monkeypatch, capsys) -> None:
    monkeypatch.setenv("VOICE_DOCTOR_TERMS_URL", "http://contoso.com/terms")
    assert main(["package", "--app-id", APP_ID]) == 2
    assert capsys.readouterr().err.startswith(
        "VOICE_DOCTOR_TERMS_URL='http://contoso.com/terms' is not valid"
    )


def test_out_creates_folders_and_replaces_an_old_package(capsys, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "er" / "app.zip"
    out.parent.mkdir(parents=True)
    out.write_bytes(b"old package")
    assert main(["package", "--app-id", APP_ID, "--out", str(out)]) == 0
    assert_teams_package(out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["app.zip"]


def test_an_unwritable_out_is_one_sentence(capsys, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    assert main(["package", "--app-id", APP_ID, "--out", str(tmp_path / "file" / "app.zip")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Cannot write ") and err.count("\n") == 1


def test_same_inputs_give_the_same_zip(capsys, tmp_path: Path) -> None:
    assert main(["package", "--app-id", APP_ID, "--out", "1.zip"]) == 0
    assert main(["package", "--app-id", APP_ID, "--out", "2.zip"]) == 0
    assert (tmp_path / "1.zip").read_bytes() == (tmp_path / "2.zip").read_bytes()


def test_a_wrong_sized_icon_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "manifest"
    shutil.copytree(MANIFEST_DIR, broken)
    shutil.copy(broken / "outline.png", broken / "color.png")  # a 32x32 colour icon
    with pytest.raises(ManifestError, match=r"color icon .* is 32x32; Teams needs 192x192\."):
        write_package(values_from_env(APP_ID, "1.0.0", {}), tmp_path / "x.zip", broken)
    assert not (tmp_path / "x.zip").exists()


def test_a_broken_template_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "manifest"
    shutil.copytree(MANIFEST_DIR, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["bots"][0]["scopes"] = ["personal", "meetings"]
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ManifestError, match="not valid at bots/0/scopes/1: .meetings. is not one of"):
        write_package(values_from_env(APP_ID, "1.0.0", {}), tmp_path / "x.zip", broken)


def test_python_m_bot_package_acceptance(tmp_path: Path) -> None:
    """The acceptance criterion, as an operator would type it."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "package", "--app-id", APP_ID],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == str(Path("build") / "voice-doctor.zip") + "\n"
    assert_teams_package(tmp_path / "build" / "voice-doctor.zip")
