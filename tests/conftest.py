"""Shared fixtures. Fakes of the outside services live in tests/fakes/."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.connector import FakeConnector
from tests.fakes.tls import TestCertificates, make_certificates


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
