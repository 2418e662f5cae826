"""The sources a command-line run diagnoses or sweeps with, opened and closed around it.

A composition root like `app.py`: it chooses the sources from Settings (the demo tenant, or Graph,
8x8 and no portal live) over one HTTP client that is closed when the command is done.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from bot.config import Settings
from bot.sources.factory import Sources, build_sources
from bot.sources.http import HttpClient


class LiveUnavailable(Exception):
    """The live sources could not be loaded (their module is missing or broken)."""


@contextlib.asynccontextmanager
async def opened_sources(settings: Settings) -> AsyncIterator[Sources]:
    http = HttpClient()
    try:
        try:
            sources = build_sources(settings, http)
        except ImportError as error:
            raise LiveUnavailable(
                f"Live diagnostics are not available in this installation ({error.name or 'a module'} could "
                "not be loaded): set DIAGNOSTICS_SOURCE=demo to use the demo tenant."
            ) from None
        yield sources
    finally:
        await http.close()
