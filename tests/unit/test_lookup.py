"""The 8x8 number map: one scroll shared by concurrent lookups, kept a while, never kept when it failed."""

from __future__ import annotations

import asyncio

import pytest

from bot.diagnosis.errors import SourceUnavailable
from bot.diagnosis.evidence import EightByEightUser
from bot.diagnosis.lookup import EightByEightNumbers


class Scrolls:
    """An EightByEightSource whose `users()` counts its scans and can fail once."""

    name = "8x8"

    def __init__(self, users: list[EightByEightUser], *, fail_first: bool = False):
        self.users_list = users
        self.scans = 0
        self.fail_first = fail_first

    async def find_user(self, user_principal_name, mail=None):
        return None

    async def users(self):
        self.scans += 1
        if self.fail_first and self.scans == 1:
            raise SourceUnavailable("8x8 was not checked: down.", source="8x8")
        for user in self.users_list:
            await asyncio.sleep(0)
            yield user


ADELE = EightByEightUser("u1", "adele@contoso.com", primary_number="+14255550102", numbers=("+14255550102",))
SAM = EightByEightUser(
    "u2", "sam@contoso.com", primary_number="+14255550199", numbers=("+14255550199", "+14255550102")
)


class Tick:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_one_scan_serves_concurrent_lookups_until_the_ttl_passes() -> None:
    source, tick = Scrolls([ADELE, SAM]), Tick()
    numbers = EightByEightNumbers(source, ttl=60, clock=tick)

    owners, ending = await asyncio.gather(numbers.owners("+14255550102"), numbers.numbers_ending_with("0199"))

    assert [u.user_id for u in owners] == ["u1", "u2"]  # one number on two 8x8 users
    assert ending == [("+14255550199", SAM)]
    assert source.scans == 1
    tick.now = 59
    await numbers.owners("+14255550102")
    assert source.scans == 1
    tick.now = 61
    await numbers.owners("+14255550102")
    assert source.scans == 2


async def test_a_failed_scan_is_not_kept() -> None:
    source = Scrolls([ADELE], fail_first=True)
    numbers = EightByEightNumbers(source, ttl=60, clock=Tick())

    with pytest.raises(SourceUnavailable):
        await numbers.owners("+14255550102")
    assert [u.user_id for u in await numbers.owners("+14255550102")] == ["u1"]
    assert source.scans == 2
