"""Chooses the sources for the engine from Settings: the embedded demo tenant or the live services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from bot.diagnosis.engine import Engine
from bot.sources.base import (
    EightByEightSource,
    MicrosoftSource,
    NoPortal,
    NotConfiguredEightByEight,
    PortalSource,
)
from bot.sources.http import HttpClient


@dataclass
class Sources:
    microsoft: MicrosoftSource
    eightbyeight: EightByEightSource
    portal: PortalSource
    data_source: str  # "demo" or "live"

    def engine(self, clock: Callable[[], datetime] | None = None) -> Engine:
        """The diagnosis engine over these sources."""
        extra = {"clock": clock} if clock else {}
        return Engine(self.microsoft, self.eightbyeight, self.portal, data_source=self.data_source, **extra)


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
