"""Every error of the domain in one place, and what the edges do with each.

    Exception
    ├── InputError (ValueError)    bad input from the person asking: the CLI exits 2, the chat replies
    └── SourceError                a source could not answer: the engine makes its checks `unknown`
        ├── SourceNotConfigured    no credentials or key for the source
        ├── PermissionMissing      Graph 403 (a permission), 8x8 401/403 (the key is not enabled)
        └── SourceUnavailable      timeouts, 5xx, throttling past the retry budget, malformed answers

`str(error)` is always one sentence fit for a person: it never carries a traceback, a secret, or
anything the person did not type themselves. The sources (`bot.sources`) raise the `SourceError`
family, translating their transport's errors in one place (`bot.sources.http`).
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from the person asking: `str()` is one clear sentence.

    The command line prints it and exits 2; the chat replies with it. It never carries a traceback
    or anything the person did not type themselves.
    """


class SourceError(Exception):
    """A source could not answer. `str(error)` is a sentence fit for a check's detail."""

    def __init__(self, message: str, *, source: str = "", retryable: bool = False):
        super().__init__(message)
        self.source = source
        self.retryable = retryable


class SourceNotConfigured(SourceError):
    """No credentials or key for this source."""


class PermissionMissing(SourceError):
    """The app lacks a permission (Graph 403) or the key is not enabled (8x8 401/403)."""

    def __init__(self, message: str, *, permission: str = "", source: str = ""):
        super().__init__(message, source=source)
        self.permission = permission


class SourceUnavailable(SourceError):
    """Timeouts, 5xx, throttling beyond the retry budget, malformed answers."""
