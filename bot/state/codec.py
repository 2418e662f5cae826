"""How bot state items become JSON and come back: jsonpickle, as botbuilder-azure's stores do.

Bot Framework state is not plain JSON: ConversationState holds a `DialogState` whose stack holds
`DialogInstance`s whose state holds `PromptOptions` with `Activity` objects. jsonpickle's `Pickler`
/ `Unpickler` (what `BotState` itself uses to hash state, and what the Cosmos DB and Blob stores
use to persist it) keep the types, so a dialog continues after a restart exactly where it stopped.

The `e_tag` is not part of the stored document: it lives in its own column and is put back on the
item when it is read. Decoding names Python types, so only types from an allow-list of modules are
restored (the state comes from our own database, but a database is not a reason to import anything).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler

from bot.state.errors import StateStoreError

# Modules whose types may be restored from stored state (a dotted name equal to one, or under it).
DEFAULT_ALLOWED_MODULES: tuple[str, ...] = (
    "botbuilder",
    "botframework",
    "bot",
    "dialogs",
    "cards",
    "builtins",
    "datetime",
    "decimal",
    "collections",
    "enum",
    "uuid",
)
_TYPE_TAGS = ("py/object", "py/type", "py/function", "py/mod")


def item_etag(item: Any) -> str | None:
    """The `e_tag` a caller put on a dict or a StoreItem-like object (None when there is none)."""
    if isinstance(item, dict):
        value = item.get("e_tag")
    else:
        value = getattr(item, "e_tag", None)
    return None if value is None else str(value)


def set_etag(item: Any, etag: str) -> None:
    """Put the stored eTag on an item, so the next write of it is checked against what was read."""
    if isinstance(item, dict):
        item["e_tag"] = etag
    elif hasattr(item, "__dict__"):
        try:
            item.e_tag = etag
        except AttributeError:  # a read-only or slotted object: it just carries no eTag
            pass


def encode_item(key: str, item: Any) -> str:
    """The item as JSON text, without its `e_tag`."""
    try:
        flat = Pickler().flatten(item)  # a new structure: the caller's item is not touched
        if isinstance(flat, dict):
            flat.pop("e_tag", None)
        return json.dumps(flat, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as error:
        raise StateStoreError(f"The state item {key!r} cannot be stored as JSON: {error}.") from error


def prepare_write(key: str, item: Any) -> tuple[str, str | None, str]:
    """(key, expected eTag or None for last-write-wins, JSON document), taken before any await."""
    etag = item_etag(item)
    if etag == "":
        raise StateStoreError(f"The state item {key!r} has an empty e_tag: use '*' to overwrite.")
    expected = None if etag in (None, "*") else etag
    return key, expected, encode_item(key, item)


def decode_item(
    key: str, text: str, etag: str, allowed_modules: Iterable[str] = DEFAULT_ALLOWED_MODULES
) -> Any:
    """The stored item back as the object it was written as, with its `e_tag` set."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise StateStoreError(f"The stored state item {key!r} is not valid JSON.") from error
    _check_types(key, document, tuple(allowed_modules))
    item = Unpickler(safe=True).restore(document)
    set_etag(item, etag)
    return item


def _check_types(key: str, document: Any, allowed: tuple[str, ...]) -> None:
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for tag in _TYPE_TAGS:
                name = node.get(tag)
                if isinstance(name, str) and not _allowed(name, allowed):
                    raise StateStoreError(
                        f"The stored state item {key!r} names the type {name!r}, which is outside the allowed modules."
                    )
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _allowed(name: str, allowed: tuple[str, ...]) -> bool:
    module = name.split("/")[0]  # py/mod values look like "module/attribute"
    return any(module == prefix or module.startswith(prefix + ".") for prefix in allowed)
