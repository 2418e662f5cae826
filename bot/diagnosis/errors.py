"""Errors of the diagnosis domain that the edges (command line, chat) show to people."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from the person asking: `str()` is one clear sentence.

    The command line prints it and exits 2; the chat replies with it. It never carries a traceback
    or anything the person did not type themselves.
    """
