"""Shared fixtures. Fakes of the outside services live in tests/fakes/.

The end of the run names, in one loud line each, whatever the machine lacked that made tests skip
(PostgreSQL's server, Chromium): see tests/prerequisites.py.

No test depends on the machine's speed (docs/reliability.md, "Tests on a busy machine"): Hypothesis
has no per-example deadline and no "generation too slow" health check here, since both are
wall-clock limits a busy machine trips without anything being wrong.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.fakes.connector import FakeConnector
from tests.fakes.tls import TestCertificates, make_certificates
from tests.prerequisites import summary_lines
from tests.storage_backends import postgres_server

settings.register_profile("voice-doctor", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("voice-doctor")


def pytest_unconfigure(config: pytest.Config) -> None:
    """After pytest's own summary, so that these are the last lines of the run."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    for line in summary_lines(reporter.stats.get("skipped", [])):
        reporter.write_line(line, red=True, bold=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The PostgreSQL server of the run: started once, when the first test needs it (see
    `tests.storage_backends.postgres_server`)."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def test_certificates(tmp_path_factory) -> TestCertificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trust_test_ca(test_certificates, monkeypatch) -> TestCertificates:
    """Trust the test CA as an operator would trust a corporate CA (SSL_CERT_FILE / REQUESTS_CA_BUNDLE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(test_certificates.ca_file))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(test_certificates.ca_file))
    return test_certificates


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    """A fake Bot Connector to use as the activities' serviceUrl."""
    fake = await FakeConnector().start()
    yield fake
    await fake.stop()
