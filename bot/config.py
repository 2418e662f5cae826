"""One Settings object, read from the environment and a `.env` file in the working directory.

The variable names are an interface (see DESIGN.md): operators and scripts set them, so they are
only ever added to, never renamed. A bad value stops start-up with one clear sentence
(`ConfigError`), never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from bot.diagnosis.times import parse_duration

GRAPH_CLOUDS: dict[str, tuple[str, str]] = {
    # cloud: (Graph endpoint, sign-in host)
    "public": ("https://graph.microsoft.com", "https://login.microsoftonline.com"),
    "usgov": ("https://graph.microsoft.us", "https://login.microsoftonline.us"),
    "usgovdod": ("https://dod-graph.microsoft.us", "https://login.microsoftonline.us"),
    "china": ("https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
}
MICROSOFT_AUTHORITY_HOSTS = frozenset(host for _, host in GRAPH_CLOUDS.values())
APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
DATA_SOURCES = ("demo", "live")
DEFAULT_8X8_API_BASE = "https://api.8x8.com"


class ConfigError(ValueError):
    """A configuration value is unusable; the message is one sentence for the operator."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 3978
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    graph_tenant_id: str = ""
    graph_client_id: str = ""
    graph_client_secret: str = field(default="", repr=False)
    graph_cloud: str = "public"
    graph_endpoint: str = GRAPH_CLOUDS["public"][0]
    graph_authority_host: str = GRAPH_CLOUDS["public"][1]
    eightbyeight_api_key: str = field(default="", repr=False)
    eightbyeight_api_base: str = DEFAULT_8X8_API_BASE
    diagnostics_source: str = "demo"
    state_store: str = "sqlite:///data/voice-doctor.db"
    helpdesk_group_id: str = ""
    helpdesk_channel_id: str = ""
    allowed_tenant_ids: tuple[str, ...] = ()
    watch_interval: float | None = None  # seconds between the watch's sweeps; None: no watch
    fixes: bool = False  # FIXES=on: the helpdesk's Teams admins may let Voice Doctor change Teams numbers

    # Bot Framework's ConfigurationBotFrameworkAuthentication reads these attribute names.
    @property
    def APP_ID(self) -> str:  # noqa: N802
        return self.app_id

    @property
    def APP_PASSWORD(self) -> str:  # noqa: N802
        return self.app_password

    @property
    def APP_TYPE(self) -> str:  # noqa: N802
        return self.app_type

    @property
    def APP_TENANTID(self) -> str:  # noqa: N802
        return self.app_tenant_id

    @property
    def graph_configured(self) -> bool:
        return bool(self.graph_tenant_id and self.graph_client_id and self.graph_client_secret)

    @property
    def eightbyeight_configured(self) -> bool:
        return bool(self.eightbyeight_api_key)

    @property
    def auth_enabled(self) -> bool:
        """An empty app id turns inbound authentication off (local tools, the Agents Playground)."""
        return bool(self.app_id)

    @property
    def graph_authority(self) -> str:
        return f"{self.graph_authority_host}/{self.graph_tenant_id}"

    @property
    def graph_scope(self) -> str:
        return f"{self.graph_endpoint}/.default"

    @property
    def graph_instance_discovery(self) -> bool:
        """msal's instance discovery only knows Microsoft's own sign-in hosts."""
        return self.graph_authority_host in MICROSOFT_AUTHORITY_HOSTS


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Build Settings from `environ` (default: the process environment) over an optional `.env` file.

    Real environment variables win over the file, as with python-dotenv's defaults.
    """
    return _settings_from(read_environment(environ, env_file))


def read_environment(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> dict[str, str]:
    """`environ` (default: the process environment) over an optional `.env` file, as one dict."""
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return values


def _settings_from(env: Mapping[str, str]) -> Settings:
    def get(name: str, default: str = "") -> str:
        return (env.get(name) or default).strip()

    app_id, app_password, app_tenant = (
        get("MicrosoftAppId"),
        get("MicrosoftAppPassword"),
        get("MicrosoftAppTenantId"),
    )
    app_type = _choice(
        "MicrosoftAppType", get("MicrosoftAppType", "MultiTenant"), APP_TYPES, case_insensitive=True
    )
    if app_type == "SingleTenant" and app_id and not app_tenant:
        raise ConfigError("MicrosoftAppType is SingleTenant, so MicrosoftAppTenantId must be set too.")

    cloud = _choice("GRAPH_CLOUD", get("GRAPH_CLOUD", "public").lower(), tuple(GRAPH_CLOUDS))
    cloud_endpoint, cloud_authority = GRAPH_CLOUDS[cloud]
    graph_endpoint = _https_url("GRAPH_ENDPOINT", get("GRAPH_ENDPOINT")) or cloud_endpoint
    authority_host = _https_url("GRAPH_AUTHORITY_HOST", get("GRAPH_AUTHORITY_HOST")) or cloud_authority

    graph_tenant = get("GRAPH_TENANT_ID") or app_tenant
    graph_client = get("GRAPH_CLIENT_ID") or app_id
    graph_secret = get("GRAPH_CLIENT_SECRET") or app_password
    graph_ready = bool(graph_tenant and graph_client and graph_secret)
    source = get("DIAGNOSTICS_SOURCE").lower() or ("live" if graph_ready else "demo")
    _choice("DIAGNOSTICS_SOURCE", source, DATA_SOURCES)

    allowed = tuple(t.strip() for t in get("ALLOWED_TENANT_IDS").split(",") if t.strip())
    if not allowed and app_type == "SingleTenant" and app_tenant:
        allowed = (app_tenant,)
    if not allowed and source == "live" and graph_tenant:
        # Live answers come from this one tenant's Graph: nobody from another tenant may read them.
        allowed = (graph_tenant,)

    return Settings(
        host=get("HOST", "127.0.0.1"),
        port=_port(get("PORT", "3978")),
        app_id=app_id,
        app_password=app_password,
        app_type=app_type,
        app_tenant_id=app_tenant,
        graph_tenant_id=graph_tenant,
        graph_client_id=graph_client,
        graph_client_secret=graph_secret,
        graph_cloud=cloud,
        graph_endpoint=graph_endpoint,
        graph_authority_host=authority_host,
        eightbyeight_api_key=get("EIGHTBYEIGHT_API_KEY"),
        eightbyeight_api_base=_https_url("EIGHTBYEIGHT_API_BASE", get("EIGHTBYEIGHT_API_BASE"))
        or DEFAULT_8X8_API_BASE,
        diagnostics_source=source,
        state_store=_state_store(get("STATE_STORE", "sqlite:///data/voice-doctor.db")),
        helpdesk_group_id=get("HELPDESK_GROUP_ID"),
        helpdesk_channel_id=get("HELPDESK_CHANNEL_ID"),
        allowed_tenant_ids=allowed,
        watch_interval=_watch_interval(get("WATCH_INTERVAL")),
        fixes=_fixes(get("FIXES"), demo=source == "demo"),
    )


def _choice(name: str, value: str, allowed: tuple[str, ...], case_insensitive: bool = False) -> str:
    if case_insensitive:
        for option in allowed:
            if option.lower() == value.lower():
                return option
    elif value in allowed:
        return value
    raise ConfigError(f"{name}={value!r} is not valid: use one of {', '.join(allowed)}.")


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"PORT={value!r} is not valid: use a number from 1 to 65535.")
    return int(value)


def _https_url(name: str, value: str) -> str:
    if not value:
        return ""
    parsed = urlparse(value)
    if parsed.scheme != "https" or not parsed.netloc:
        raise ConfigError(f"{name}={value!r} is not valid: use an https:// URL such as https://host.example.")
    return value.rstrip("/")


MIN_WATCH_INTERVAL_S = 10
FIXES_VALUES = {"on": True, "off": False}


def _fixes(value: str, *, demo: bool) -> bool:
    """`FIXES` = `on` | `off`: off unless set, except in the demo (it fixes its own data)."""
    if not value:
        return demo
    lowered = value.lower()
    if lowered not in FIXES_VALUES:
        raise ConfigError(f"FIXES={value!r} is not valid: use on or off.")
    return FIXES_VALUES[lowered]


def _watch_interval(value: str) -> float | None:
    """`WATCH_INTERVAL` (`30s`, `15m`, `1h`) in seconds; unset (or `off`) means no watch."""
    if not value or value.lower() in ("off", "none", "0"):
        return None
    duration = parse_duration(value)
    if duration is None or duration.total_seconds() < MIN_WATCH_INTERVAL_S:
        raise ConfigError(
            f"WATCH_INTERVAL={value!r} is not valid: use a duration of {MIN_WATCH_INTERVAL_S} seconds or more, "
            "such as 30s, 15m or 1h (unset it to turn the watch off)."
        )
    return duration.total_seconds()


def _state_store(value: str) -> str:
    if value.startswith(("sqlite:///", "postgresql://", "postgres://")):
        return value
    raise ConfigError(
        f"STATE_STORE={value!r} is not valid: use sqlite:///path/file.db or a postgresql:// URL."
    )
