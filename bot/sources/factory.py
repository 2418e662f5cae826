"""Chooses the sources for the engine from Settings: the embedded demo tenant or the live services.

The engine itself is built by the composition roots (`app.py`, `python -m bot`) over these sources."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.diagnosis.engine import Engine
from bot.diagnosis.evidence import EightByEightSource, MicrosoftSource, NumberWriter, PortalSource
from bot.diagnosis.fixer import Fixer
from bot.sources.base import NoPortal, NotConfiguredEightByEight
from bot.sources.http import HttpClient


@dataclass
class Sources:
    microsoft: MicrosoftSource
    eightbyeight: EightByEightSource
    portal: PortalSource
    data_source: str  # "demo" or "live"
    writer: NumberWriter | None = None  # changes Teams numbers (fixes); None where nothing can


def build_sources(settings: Settings, http: HttpClient) -> Sources:
    if settings.diagnostics_source == "demo":
        from bot.sources.demo import DemoTenant

        tenant = DemoTenant.load()
        return Sources(tenant.microsoft, tenant.eightbyeight, tenant.portal, "demo", tenant.writer)

    from bot.sources.graph import GraphSource
    from bot.sources.graph_numbers import GraphNumberWriter

    eightbyeight: EightByEightSource = NotConfiguredEightByEight()
    if settings.eightbyeight_configured:
        from bot.sources.eightbyeight import EightByEightApiSource

        eightbyeight = EightByEightApiSource(settings, http)
    graph = GraphSource(settings, http)
    return Sources(graph, eightbyeight, NoPortal(), "live", GraphNumberWriter(settings, graph))


def build_fixer(settings: Settings, sources: Sources, engine: Engine) -> Fixer:
    """The Fixer over these sources: fixes on only with `FIXES=on` (the demo's default)."""
    return Fixer(engine, sources.writer, enabled=settings.fixes)
