"""`python -m bot package [--app-id ID] [--out PATH] [--version V]`: build the Teams app zip.

The zip holds `manifest.json`, `color.png` and `outline.png` at its root, ready for "Upload a custom
app" in Teams or the Teams admin center. The bot id defaults to `MicrosoftAppId` (environment or
`.env`), because the package must name the same bot the server authenticates as. The developer
values come from VOICE_DOCTOR_DEVELOPER_NAME, VOICE_DOCTOR_WEBSITE_URL, VOICE_DOCTOR_PRIVACY_URL,
VOICE_DOCTOR_TERMS_URL and validDomains from VOICE_DOCTOR_BOT_DOMAIN (see bot/manifest.py).

Exit status: 0 written (its path on stdout), 2 bad input or configuration, 1 anything else; the
reason is always one sentence on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import ConfigError, load_settings, read_environment
from bot.manifest import (
    DEFAULT_PACKAGE_PATH,
    ManifestError,
    project_version,
    values_from_env,
    write_package,
)

HELP = "build the Teams app package (manifest.json and icons in a zip) to upload to Teams"
NO_APP_ID = "Set MicrosoftAppId or pass --app-id: Teams needs the bot's Microsoft App ID."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--app-id", help="the bot's Microsoft App ID (default: MicrosoftAppId)")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_PACKAGE_PATH,
        help=f"where to write the zip (default: {DEFAULT_PACKAGE_PATH})",
    )
    parser.add_argument("--version", help="the app version, MAJOR.MINOR.PATCH (default: pyproject.toml's)")


def run(args: argparse.Namespace) -> int:
    try:
        environ = read_environment()
        app_id = args.app_id if args.app_id is not None else load_settings(environ, env_file=None).app_id
        if not app_id.strip():
            raise ManifestError(NO_APP_ID)
        values = values_from_env(app_id, args.version or project_version(), environ)
    except (ConfigError, ManifestError) as error:
        print(error, file=sys.stderr)
        return 2
    try:
        path = write_package(values, args.out)
    except ManifestError as error:  # the template or icons in manifest/ are broken
        print(error, file=sys.stderr)
        return 1
    except OSError as error:
        print(f"Cannot write {args.out}: {error.strerror or error}.", file=sys.stderr)
        return 1
    unset = values.defaults_in_use()
    if unset:
        print(
            f"Note: {', '.join(unset)} unset: the app details in Teams show placeholders for them.",
            file=sys.stderr,
        )
    print(path)
    return 0
