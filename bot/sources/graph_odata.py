"""Building Microsoft Graph URLs without ever interpolating user input raw.

Names people type ("Dara O'Brien", "+1 (425) 555-0101", "adele@contoso.com") end up in OData string
literals, path segments and query strings. Each has its own escaping, and getting one wrong is
either a 400 from Graph or, worse, a different query than intended. So every URL the Graph source
sends is built here: literals with `odata_string`, segments with `segment`, queries with `query`,
and the result handed to aiohttp as an already-encoded `yarl.URL` so nothing re-encodes it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from yarl import URL

API_VERSION = "v1.0"
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
UNSET_TIME = "0001-01-01"  # Graph's "no value" for a DateTimeOffset


def odata_string(value: str) -> str:
    """An OData string literal: quoted, with each `'` doubled (`O'Brien` -> `'O''Brien'`)."""
    return "'" + value.replace("'", "''") + "'"


def segment(value: str) -> str:
    """One path segment, percent-encoded so `/`, `?`, `#`, `%` and quotes cannot change the path."""
    return quote(value, safe="@")


def query(params: Sequence[tuple[str, str]]) -> str:
    """A query string with every value percent-encoded (`+` -> `%2B`, space -> `%20`, `'` -> `%27`).

    Keys keep their `$` (`$filter`, `$select`), as Graph's documentation writes them.
    """
    return "&".join(f"{quote(key, safe='$')}={quote(value, safe='')}" for key, value in params)


def graph_url(endpoint: str, path: str, params: Sequence[tuple[str, str]] = ()) -> URL:
    """`{endpoint}/v1.0/{path}?{params}` as an encoded URL. `path` must already be built from `segment`s."""
    text = f"{endpoint.rstrip('/')}/{API_VERSION}/{path.lstrip('/')}"
    if params:
        text += "?" + query(params)
    return URL(text, encoded=True)


def is_guid(value: str) -> bool:
    return bool(GUID_RE.match(value.strip()))


def odata_time(value: datetime) -> str:
    """A DateTimeOffset for a function parameter: UTC, seconds precision, `Z` suffix."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object) -> datetime | None:
    """A Graph DateTimeOffset as an aware UTC datetime; `0001-01-01T00:00:00Z`, empty or unreadable -> None."""
    if not isinstance(value, str) or not value.strip() or value.startswith(UNSET_TIME):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def key_insensitive(mapping: dict, key: str) -> object:
    """`mapping[key]` compared case-insensitively (Graph has sent `@odata.nextLink` in other cases)."""
    if key in mapping:
        return mapping[key]
    lowered = key.lower()
    for name, value in mapping.items():
        if isinstance(name, str) and name.lower() == lowered:
            return value
    return None


def same_origin(link: str, endpoint: str) -> bool:
    """Does `link` (a server's next link, taken as already encoded) point at `endpoint`'s scheme, host and port?"""
    try:
        left, right = URL(link, encoded=True), URL(endpoint)
    except ValueError:
        return False
    return (left.scheme, left.host, left.port) == (right.scheme, right.host, right.port)
