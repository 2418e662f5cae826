"""Structured logging: one JSON object per line on stdout, carrying the conversation id.

The conversation id comes from a context variable that the bot sets at the start of each turn, so
every log line of that turn (sources and engine included) carries it without passing it around.
Secrets never reach logs: values of the configured secrets are masked in every line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

conversation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("conversation_id", default=None)

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {
    "message",
    "asctime",
}


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        conversation = conversation_id.get()
        if conversation:
            entry["conversation"] = conversation
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return self.mask(json.dumps(entry, default=str, ensure_ascii=False))

    def mask(self, line: str) -> str:
        for secret in self._secrets:
            line = line.replace(secret, "***")
        return line


def configure_logging(level: int = logging.INFO, secrets: Iterable[str] = (), stream=None) -> None:
    """Route all logging to one JSON handler on stdout (or `stream`), replacing earlier handlers."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # msal and the connector log request details (URLs with tenants, sometimes bodies) at DEBUG.
    for noisy in ("msal", "urllib3", "msrest", "azure", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
