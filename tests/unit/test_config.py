"""Settings: exactly the names of DESIGN.md, defaults, fallbacks, and one clear sentence for bad values."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings


def settings(**env):
    return load_settings(env, env_file=None)


def test_defaults_serve_the_demo_tenant_on_loopback():
    s = settings()
    assert (s.host, s.port) == ("127.0.0.1", 3978)
    assert s.diagnostics_source == "demo"
    assert s.app_type == "MultiTenant"
    assert s.graph_endpoint == "https://graph.microsoft.com"
    assert s.graph_authority_host == "https://login.microsoftonline.com"
    assert s.eightbyeight_api_base == "https://api.8x8.com"
    assert s.state_store.startswith("sqlite:///")
    assert not s.auth_enabled


def test_graph_credentials_fall_back_to_the_bot_identity_and_make_the_source_live():
    s = settings(MicrosoftAppId="app", MicrosoftAppPassword="secret", MicrosoftAppTenantId="tenant")
    assert (s.graph_client_id, s.graph_client_secret, s.graph_tenant_id) == ("app", "secret", "tenant")
    assert s.diagnostics_source == "live"
    assert s.graph_scope == "https://graph.microsoft.com/.default"
    assert s.graph_authority == "https://login.microsoftonline.com/tenant"


def test_explicit_graph_settings_win_and_demo_can_be_forced():
    s = settings(
        MicrosoftAppId="app",
        MicrosoftAppPassword="secret",
        GRAPH_CLIENT_ID="graph-app",
        GRAPH_CLIENT_SECRET="graph-secret",
        GRAPH_TENANT_ID="graph-tenant",
        DIAGNOSTICS_SOURCE="demo",
    )
    assert (s.graph_client_id, s.graph_tenant_id) == ("graph-app", "graph-tenant")
    assert s.diagnostics_source == "demo"


@pytest.mark.parametrize(
    ("cloud", "endpoint", "authority"),
    [
        ("usgov", "https://graph.microsoft.us", "https://login.microsoftonline.us"),
        ("usgovdod", "https://dod-graph.microsoft.us", "https://login.microsoftonline.us"),
        ("china", "https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
    ],
)
def test_national_clouds(cloud, endpoint, authority):
    s = settings(GRAPH_CLOUD=cloud)
    assert (s.graph_endpoint, s.graph_authority_host) == (endpoint, authority)
    assert s.graph_instance_discovery


def test_explicit_hosts_override_the_cloud_and_turn_instance_discovery_off():
    s = settings(
        GRAPH_CLOUD="usgov",
        GRAPH_ENDPOINT="https://127.0.0.1:8443/",
        GRAPH_AUTHORITY_HOST="https://127.0.0.1:8444",
    )
    assert s.graph_endpoint == "https://127.0.0.1:8443"
    assert s.graph_authority_host == "https://127.0.0.1:8444"
    assert not s.graph_instance_discovery


def test_single_tenant_defaults_the_allow_list_to_its_own_tenant():
    s = settings(
        MicrosoftAppId="app",
        MicrosoftAppPassword="p",
        MicrosoftAppType="singletenant",
        MicrosoftAppTenantId="t1",
    )
    assert s.app_type == "SingleTenant"
    assert s.allowed_tenant_ids == ("t1",)
    assert settings(ALLOWED_TENANT_IDS=" a, b ,,").allowed_tenant_ids == ("a", "b")


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"PORT": "abc"}, "PORT='abc' is not valid"),
        ({"PORT": "70000"}, "PORT='70000' is not valid"),
        (
            {"GRAPH_CLOUD": "mars"},
            "GRAPH_CLOUD='mars' is not valid: use one of public, usgov, usgovdod, china.",
        ),
        ({"GRAPH_ENDPOINT": "http://graph.local"}, "GRAPH_ENDPOINT='http://graph.local' is not valid"),
        ({"DIAGNOSTICS_SOURCE": "maybe"}, "DIAGNOSTICS_SOURCE='maybe' is not valid"),
        ({"STATE_STORE": "redis://x"}, "STATE_STORE='redis://x' is not valid"),
        ({"MicrosoftAppType": "Other"}, "MicrosoftAppType='Other' is not valid"),
        ({"MicrosoftAppId": "a", "MicrosoftAppType": "SingleTenant"}, "MicrosoftAppTenantId must be set"),
    ],
)
def test_bad_values_stop_with_one_sentence(env, words):
    with pytest.raises(ConfigError) as error:
        settings(**env)
    message = str(error.value)
    assert words in message
    assert message.endswith(".") and "\n" not in message


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=4000\nHELPDESK_GROUP_ID=group-from-file\n")
    s = load_settings({"PORT": "5000"}, env_file=env_file)
    assert s.port == 5000
    assert s.helpdesk_group_id == "group-from-file"


def test_secrets_are_not_in_the_repr():
    s = settings(MicrosoftAppPassword="very-secret-password", EIGHTBYEIGHT_API_KEY="eght_secret_key")
    assert "very-secret-password" not in repr(s)
    assert "eght_secret_key" not in repr(s)


def test_bad_port_stops_the_app_with_one_sentence_and_exit_2():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "app.py"],
        env={"PORT": "abc", "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "Voice Doctor cannot start: PORT='abc' is not valid: use a number from 1 to 65535."
    )


def test_a_live_multi_tenant_bot_serves_only_the_graph_tenant_by_default():
    s = settings(MicrosoftAppId="app", MicrosoftAppPassword="p", GRAPH_TENANT_ID="graph-tenant")
    assert s.app_type == "MultiTenant" and s.diagnostics_source == "live"
    assert s.allowed_tenant_ids == ("graph-tenant",)
    assert settings(
        ALLOWED_TENANT_IDS="a,b", GRAPH_TENANT_ID="t", GRAPH_CLIENT_ID="c", GRAPH_CLIENT_SECRET="s"
    ).allowed_tenant_ids == ("a", "b")
    assert settings().allowed_tenant_ids == ()  # the demo tenant holds no one's data


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("", None), ("off", None), ("30s", 30.0), ("15m", 900.0), ("1h", 3600.0), (" 2 hours ", 7200.0)],
)
def test_watch_interval(value, seconds):
    assert load_settings({"WATCH_INTERVAL": value}, env_file=None).watch_interval == seconds


@pytest.mark.parametrize("value", ["5s", "soon", "-1m", "15"])
def test_a_watch_interval_that_is_not_a_duration_of_ten_seconds_or_more_stops_start_up(value):
    with pytest.raises(ConfigError, match="WATCH_INTERVAL=.* is not valid"):
        load_settings({"WATCH_INTERVAL": value}, env_file=None)


@pytest.mark.parametrize(
    ("env", "fixes"),
    [
        ({}, True),  # the demo fixes its own data
        ({"FIXES": "off"}, False),
        ({"FIXES": "ON"}, True),
        ({"GRAPH_TENANT_ID": "t", "GRAPH_CLIENT_ID": "c", "GRAPH_CLIENT_SECRET": "s"}, False),  # live: off
        ({"GRAPH_TENANT_ID": "t", "GRAPH_CLIENT_ID": "c", "GRAPH_CLIENT_SECRET": "s", "FIXES": "on"}, True),
    ],
)
def test_fixes_setting(env, fixes):
    assert load_settings(env, env_file=None).fixes is fixes


def test_fixes_setting_bad_value():
    with pytest.raises(ConfigError, match="FIXES='yes please' is not valid: use on or off"):
        load_settings({"FIXES": "yes please"}, env_file=None)
