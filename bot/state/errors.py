"""Errors of the state stores. Each message is one sentence for the operator, with no secret in it."""

from __future__ import annotations


class StateStoreError(Exception):
    """The state store cannot be opened or used (bad `STATE_STORE`, unreachable server, ...)."""


class ETagConflictError(StateStoreError, KeyError):
    """A write carried an `e_tag` that is no longer current: someone else wrote the item first.

    A `KeyError` too, because that is what botbuilder's MemoryStorage raises for the same conflict,
    so code written against it keeps working.
    """

    def __init__(self, key: str):
        super().__init__(
            f"The stored item {key!r} was changed by someone else since it was read (eTag conflict)."
        )
        self.key = key

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])
