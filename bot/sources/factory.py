"""Chooses the sources for the engine from Settings: the embedded demo tenant or the live services.

The engine itself is built by the composition roots (`app.py`, `python -m bot`) over these sources."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.diagnosis.evidence import EightByEightSource, MicrosoftSource, PortalSource
from bot.sources.base import NoPortal, NotConfiguredEightByEight
from bot.sources.http import HttpClient


@dataclass
class Sources:
    microsoft: MicrosoftSource
    eightbyeight: EightByEightSource
    portal: PortalSource
    data_source: str  # "demo" or "live"


def build_sources(settings: Settings, http: HttpClient) -> Sources:
    if settings.diagnostics_source == "demo":
        from bot.sources.demo import DemoTenant

        tenant = DemoTenant.load()
        return Sources(tenant.microsoft, tenant.eightbyeight, tenant.portal, "demo")

    from bot.sources.graph import GraphSource

    eightbyeight: EightByEightSource = NotConfiguredEightByEight()
    if settings.eightbyeight_configured:
        from bot.sources.eightbyeight import EightByEightApiSource

        eightbyeight = EightByEightApiSource(settings, http)
    return Sources(GraphSource(settings, http), eightbyeight, NoPortal(), "live")
