"""The Teams app package: fill `manifest/manifest.json`, validate it, zip it with the icons.

`python -m bot package` (bot/cli/package.py) is the front end; the logic lives here so that tests
and other tools can build a package without a command line. Teams rejects a bad package with
little explanation, so everything Teams would check that we can check offline is checked here
first: the v1.19 schema, the things the draft-04 schema cannot say (`const`, semver), the icon
sizes, and the ids being GUIDs.

Decision: the manifest `id` is the bot's Microsoft App ID. Each organisation registers its own
bot, so the id is unique per installation, and rebuilding the package (a new version) updates the
installed app instead of adding a second one. It also means there is only one id to configure.

`COMMANDS` is the one list of bot commands per scope: the package's `commandLists` are written
from it, and the bot's tests send each of them to the bot to prove it understands them.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import struct
import tomllib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MANIFEST_DIR = PROJECT_ROOT / "manifest"
SCHEMA_PATH = MANIFEST_DIR / "schema" / "teams-manifest-v1.19.schema.json"
PYPROJECT_PATH = PROJECT_ROOT / "pyproject.toml"
DEFAULT_PACKAGE_PATH = Path("build") / "voice-doctor.zip"
MANIFEST_VERSION = "1.19"

# scope -> [(command title, description)], in menu order. Titles are what the bot's text router
# accepts; Teams limits a title to 32 characters, a description to 128, a list to 10 commands.
COMMANDS: dict[str, list[tuple[str, str]]] = {
    "personal": [
        ("help", "What Voice Doctor can check and how to ask."),
        ("check calls", "Why calls to a user fail: check calls for adele@contoso.com (or a name or number)."),
        ("check sync", "Why the 8x8 Voice for Teams sync fails (PSTN Gateway not ready yet)."),
        ("cases", "The diagnoses and reports you are following."),
        ("my calls don't ring", "Report that calls to you do not ring; the helpdesk gets your diagnosis."),
    ],
    "team": [
        ("help", "What Voice Doctor can check and how to ask."),
        ("check calls", "Why calls to a user fail: check calls for adele@contoso.com (or a name or number)."),
        ("check sync", "Why the 8x8 Voice for Teams sync fails (PSTN Gateway not ready yet)."),
        ("cases", "Open diagnoses and user reports for this helpdesk."),
        ("set helpdesk channel", "Send users' \"my calls don't ring\" reports to this channel."),
    ],
    "groupChat": [
        ("help", "What Voice Doctor can check and how to ask."),
        ("check calls", "Why calls to a user fail: check calls for adele@contoso.com (or a name or number)."),
        ("check sync", "Why the 8x8 Voice for Teams sync fails (PSTN Gateway not ready yet)."),
        ("cases", "Open diagnoses and user reports for this helpdesk."),
    ],
}

# The message extension (composeExtensions) the bot answers with
# on_teams_messaging_extension_query / on_teams_messaging_extension_select_item.
MESSAGE_EXTENSION_COMMAND_ID = "diagnoseUser"
MESSAGE_EXTENSION_PARAMETER = "query"

ICONS = {"color": ("color.png", 192), "outline": ("outline.png", 32)}

# Environment variables for the values that belong to whoever deploys the bot.
ENV_DEVELOPER_NAME = "VOICE_DOCTOR_DEVELOPER_NAME"
ENV_WEBSITE_URL = "VOICE_DOCTOR_WEBSITE_URL"
ENV_PRIVACY_URL = "VOICE_DOCTOR_PRIVACY_URL"
ENV_TERMS_URL = "VOICE_DOCTOR_TERMS_URL"
ENV_BOT_DOMAIN = "VOICE_DOCTOR_BOT_DOMAIN"
# Placeholders that say "not configured yet" in the app details Teams shows; `python -m bot
# package` names the variables still at these defaults.
DEFAULT_DEVELOPER_NAME = "Voice Doctor"
DEFAULT_WEBSITE_URL = "https://example.com/voice-doctor"
DEFAULT_PRIVACY_URL = "https://example.com/voice-doctor/privacy"
DEFAULT_TERMS_URL = "https://example.com/voice-doctor/terms"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # fixed, so the same inputs give the same zip


class ManifestError(ValueError):
    """The package cannot be built; the message is one sentence for the operator."""


@dataclass(frozen=True)
class ManifestValues:
    """Everything that differs between installations of Voice Doctor."""

    app_id: str
    version: str
    developer_name: str = DEFAULT_DEVELOPER_NAME
    website_url: str = DEFAULT_WEBSITE_URL
    privacy_url: str = DEFAULT_PRIVACY_URL
    terms_url: str = DEFAULT_TERMS_URL
    bot_domain: str = ""

    def defaults_in_use(self) -> list[str]:
        """Names of the developer variables still at their placeholder values."""
        pairs = (
            (ENV_DEVELOPER_NAME, self.developer_name, DEFAULT_DEVELOPER_NAME),
            (ENV_WEBSITE_URL, self.website_url, DEFAULT_WEBSITE_URL),
            (ENV_PRIVACY_URL, self.privacy_url, DEFAULT_PRIVACY_URL),
            (ENV_TERMS_URL, self.terms_url, DEFAULT_TERMS_URL),
        )
        return [name for name, value, default in pairs if value == default]


def check_app_id(value: str) -> str:
    """The bot's Microsoft App ID, lower-cased; a GUID or ManifestError."""
    value = value.strip()
    if not _GUID.match(value):
        raise ManifestError(
            f"The bot's Microsoft App ID must be a GUID such as 00000000-0000-0000-0000-000000000001, not {value!r}."
        )
    return value.lower()


def check_version(value: str) -> str:
    """Teams accepts only MAJOR.MINOR.PATCH (no pre-release or build suffix)."""
    value = value.strip()
    if not _SEMVER.match(value):
        raise ManifestError(
            f"Version {value!r} is not valid for Teams: use MAJOR.MINOR.PATCH, such as 1.2.0."
        )
    return value


def project_version(pyproject: Path = PYPROJECT_PATH) -> str:
    """`[project].version` from pyproject.toml: the app version follows the code's."""
    try:
        with pyproject.open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, tomllib.TOMLDecodeError, KeyError) as error:
        raise ManifestError(
            f"Cannot read [project].version from {pyproject}; pass --version instead."
        ) from error


def values_from_env(app_id: str, version: str, environ: Mapping[str, str] | None = None) -> ManifestValues:
    """Check `app_id` and `version` and read the developer values and bot domain from `environ`."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str) -> str:
        return (env.get(name) or "").strip() or default

    return ManifestValues(
        app_id=check_app_id(app_id),
        version=check_version(version),
        developer_name=_developer_name(get(ENV_DEVELOPER_NAME, DEFAULT_DEVELOPER_NAME)),
        website_url=_https_url(ENV_WEBSITE_URL, get(ENV_WEBSITE_URL, DEFAULT_WEBSITE_URL)),
        privacy_url=_https_url(ENV_PRIVACY_URL, get(ENV_PRIVACY_URL, DEFAULT_PRIVACY_URL)),
        terms_url=_https_url(ENV_TERMS_URL, get(ENV_TERMS_URL, DEFAULT_TERMS_URL)),
        bot_domain=_bot_domain(get(ENV_BOT_DOMAIN, "")),
    )


def _developer_name(value: str) -> str:
    if len(value) > 32:
        raise ManifestError(f"{ENV_DEVELOPER_NAME} is {len(value)} characters long; Teams allows at most 32.")
    return value


def _https_url(name: str, value: str) -> str:
    if not re.match(r"^https://[^/\s?#]+(/\S*)?$", value) or len(value) > 2048:
        raise ManifestError(
            f"{name}={value!r} is not valid: use an https:// URL such as https://contoso.com/privacy."
        )
    return value


def _bot_domain(value: str) -> str:
    """The bot's public host name, as Teams wants it in validDomains: no scheme, port or path."""
    if not value:
        return ""
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ManifestError(
            f"{ENV_BOT_DOMAIN}={value!r} is not valid: give the bot's public host name only, "
            "such as voicedoctor.contoso.com."
        )
    return value.rstrip(".").lower()


def load_template(manifest_dir: Path = MANIFEST_DIR) -> dict[str, Any]:
    """The manifest template, with `${{...}}` placeholders where installation values go."""
    path = manifest_dir / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ManifestError(f"Cannot read the manifest template {path}: {error.strerror}.") from error
    except json.JSONDecodeError as error:
        raise ManifestError(
            f"The manifest template {path} is not valid JSON (line {error.lineno})."
        ) from error


def command_lists() -> list[dict[str, Any]]:
    """`bots[0].commandLists` as Teams wants it: one list per scope, from COMMANDS."""
    return [
        {"scopes": [scope], "commands": [{"title": t, "description": d} for t, d in commands]}
        for scope, commands in COMMANDS.items()
    ]


def fill_manifest(template: Mapping[str, Any], values: ManifestValues) -> dict[str, Any]:
    """A complete manifest: the template with this installation's values set in their places.

    Values are set by key, never by text substitution, so no value can break the JSON.
    """
    manifest = copy.deepcopy(dict(template))
    manifest["id"] = values.app_id
    manifest["version"] = values.version
    manifest["developer"] = {
        **manifest.get("developer", {}),
        "name": values.developer_name,
        "websiteUrl": values.website_url,
        "privacyUrl": values.privacy_url,
        "termsOfUseUrl": values.terms_url,
    }
    for bot in manifest.get("bots", []):
        bot["botId"] = values.app_id
        bot["commandLists"] = command_lists()
    for extension in manifest.get("composeExtensions", []):
        extension["botId"] = values.app_id
    manifest["validDomains"] = [values.bot_domain] if values.bot_domain else []
    return manifest


@cache
def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    """The vendored Teams manifest v1.19 JSON schema (draft-04; it needs no network)."""
    return json.loads(path.read_text(encoding="utf-8"))


def validate_manifest(manifest: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> None:
    """Raise ManifestError (naming the first problem) unless Teams would accept `manifest`."""
    try:  # a build-time dependency: the running bot never needs it
        from jsonschema import Draft4Validator
        from jsonschema.exceptions import best_match
    except ImportError as error:
        raise ManifestError(
            "Checking the manifest needs the jsonschema package: pip install 'jsonschema>=4'."
        ) from error

    error = best_match(Draft4Validator(load_schema() if schema is None else schema).iter_errors(manifest))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise ManifestError(f"The manifest is not valid at {where}: {_first_line(error.message)}.")
    problems = _beyond_schema(manifest)
    if problems:
        raise ManifestError(problems[0])


def _beyond_schema(manifest: Mapping[str, Any]) -> list[str]:
    """Checks Teams makes that the draft-04 schema cannot express (it ignores `const`)."""
    problems = []
    if manifest.get("manifestVersion") != MANIFEST_VERSION:
        problems.append(f"The manifest's manifestVersion must be {MANIFEST_VERSION}.")
    if not _SEMVER.match(str(manifest.get("version", ""))):
        problems.append("The manifest's version must be MAJOR.MINOR.PATCH.")
    text = json.dumps(manifest)
    if "${{" in text:
        problems.append("The manifest still has a ${{...}} placeholder that was not filled in.")
    bot_ids = {bot.get("botId") for bot in manifest.get("bots", [])}
    bot_ids |= {ext.get("botId") for ext in manifest.get("composeExtensions", [])}
    if len(bot_ids) > 1:
        problems.append("The bot and the message extension must use the same bot id.")
    return problems


def _first_line(message: str) -> str:
    line = message.splitlines()[0] if message else "invalid"
    return line if len(line) <= 200 else line[:197] + "..."


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; ManifestError if `data` is not a PNG."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ManifestError("An icon is not a PNG file.")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def read_icons(manifest: Mapping[str, Any], manifest_dir: Path = MANIFEST_DIR) -> dict[str, bytes]:
    """The icon files the manifest names, checked for Teams' sizes; {file name: PNG bytes}."""
    icons = {}
    for key, (_, size) in ICONS.items():
        name = manifest["icons"][key]
        path = manifest_dir / name
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ManifestError(f"Cannot read the {key} icon {path}: {error.strerror}.") from error
        try:
            width, height = png_size(data)
        except ManifestError as error:
            raise ManifestError(f"The {key} icon {path} is not a PNG file.") from error
        if (width, height) != (size, size):
            raise ManifestError(f"The {key} icon {path} is {width}x{height}; Teams needs {size}x{size}.")
        icons[name] = data
    return icons


def build_manifest(values: ManifestValues, manifest_dir: Path = MANIFEST_DIR) -> dict[str, Any]:
    """The filled and validated manifest for `values`."""
    manifest = fill_manifest(load_template(manifest_dir), values)
    validate_manifest(manifest)
    return manifest


def package_bytes(values: ManifestValues, manifest_dir: Path = MANIFEST_DIR) -> bytes:
    """The app package zip: manifest.json and the two icons at its root."""
    manifest = build_manifest(values, manifest_dir)
    icons = read_icons(manifest, manifest_dir)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        entries = {
            "manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"),
            **icons,
        }
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
            info.external_attr = 0o644 << 16  # rw-r--r-- when unzipped
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def write_package(
    values: ManifestValues, out: Path = DEFAULT_PACKAGE_PATH, manifest_dir: Path = MANIFEST_DIR
) -> Path:
    """Build the package and write it to `out` (parents created; replaced whole, never half-written)."""
    data = package_bytes(values, manifest_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out
