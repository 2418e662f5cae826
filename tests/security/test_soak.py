"""The soak (tests/security/soak.py) in its short form: 1,000 activities, or SOAK_ACTIVITIES of them.

The recorded 10,000-activity run is `python -m tests.security.soak`; its numbers are in
docs/reliability.md.
"""

from __future__ import annotations

import os

from tests.security.soak import MAX_RSS_GROWTH, soak

ACTIVITIES = int(os.environ.get("SOAK_ACTIVITIES", "1000"))


async def test_a_thousand_activities_without_an_error_or_a_leak():
    result = await soak(ACTIVITIES)

    assert result.problems == []
    assert sum(result.kinds.values()) == ACTIVITIES
    assert result.rss_growth < MAX_RSS_GROWTH, result.summary()
