"""The botbuilder Storage contract, against SQLite and PostgreSQL alike (MemoryStorage's eTag rules)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from botbuilder.core import MemoryStorage, StoreItem

from bot.state import ETagConflictError, StateStoreError, open_storage
from tests.storage_backends import state_url  # noqa: F401

KEY = "msteams/conversations/19:abc@thread.v2/"


@pytest.fixture
async def stores(state_url):  # noqa: F811
    """Two storage objects on one database: two app instances (or one before and after a restart)."""
    opened = [await open_storage(state_url) for _ in range(2)]
    yield [storage for storage, _ in opened]
    for storage, cases in opened:
        await storage.close()
        await cases.close()


async def test_read_of_nothing_and_of_missing_keys_is_empty(stores) -> None:
    storage = stores[0]
    assert await storage.read([]) == {}
    assert await storage.read(["nobody/here"]) == {}


async def test_dict_round_trips_with_an_etag(stores) -> None:
    storage = stores[0]
    await storage.write({KEY: {"count": 1, "names": ["Adele", "Dara O'Brien"], "nested": {"a": None}}})
    item = (await storage.read([KEY]))[KEY]
    assert {k: v for k, v in item.items() if k != "e_tag"} == {
        "count": 1,
        "names": ["Adele", "Dara O'Brien"],
        "nested": {"a": None},
    }
    assert item["e_tag"] and item["e_tag"] != "*"


async def test_store_item_round_trips_as_a_store_item(stores) -> None:
    storage = stores[0]
    await storage.write({"user/1": StoreItem(name="Adele", seen=datetime(2026, 11, 20, 8, 30, tzinfo=UTC))})
    item = (await storage.read(["user/1"]))["user/1"]
    assert isinstance(item, StoreItem)
    assert item.name == "Adele"
    assert item.seen == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert item.e_tag


async def test_text_that_json_finds_awkward_round_trips(stores) -> None:
    storage = stores[0]
    awkward = {"nul": "a\x00b", "emoji": "☎️📞", "quotes": "'\"\\", "rtl": "שלום", "big": 2**62}
    await storage.write({"weird/ключ 'x'": dict(awkward)})
    item = (await storage.read(["weird/ключ 'x'"]))["weird/ключ 'x'"]
    item.pop("e_tag")
    assert item == awkward


async def test_delete_removes_and_ignores_missing_keys(stores) -> None:
    storage = stores[0]
    await storage.write({"a": {"v": 1}, "b": {"v": 2}})
    await storage.delete(["a", "never-written"])
    assert set(await storage.read(["a", "b"])) == {"b"}
    await storage.delete({"b"})  # BotState.delete passes a set
    assert await storage.read(["b"]) == {}


async def test_a_stale_etag_conflicts_and_changes_nothing(stores) -> None:
    storage = stores[0]
    await storage.write({KEY: {"step": 1}})
    first = (await storage.read([KEY]))[KEY]
    second = (await storage.read([KEY]))[KEY]
    first["step"] = 2
    await storage.write({KEY: first})
    second["step"] = 99
    with pytest.raises(ETagConflictError) as conflict:
        await storage.write({KEY: second})
    assert isinstance(conflict.value, KeyError)  # as MemoryStorage raises
    assert KEY in str(conflict.value) and "\\n" not in str(conflict.value)
    assert (await storage.read([KEY]))[KEY]["step"] == 2


async def test_star_and_a_missing_etag_overwrite(stores) -> None:
    storage = stores[0]
    await storage.write({KEY: {"v": 1}})
    await storage.write({KEY: {"v": 2, "e_tag": "*"}})
    assert (await storage.read([KEY]))[KEY]["v"] == 2
    await storage.write({KEY: {"v": 3}})
    assert (await storage.read([KEY]))[KEY]["v"] == 3
    await storage.write({KEY: StoreItem(v=4, e_tag="*")})
    assert (await storage.read([KEY]))[KEY].v == 4


async def test_an_empty_etag_is_refused_as_memory_storage_refuses_it(stores) -> None:
    with pytest.raises(Exception, match="etag missing"):
        await MemoryStorage().write({KEY: {"e_tag": ""}})
    with pytest.raises(StateStoreError, match="empty e_tag"):
        await stores[0].write({KEY: {"v": 1, "e_tag": ""}})


async def test_the_writer_keeps_its_new_etag_so_it_can_save_again(stores) -> None:
    """BotState saves the dict it read; a second save in the same turn must not conflict with itself."""
    storage = stores[0]
    await storage.write({KEY: {"v": 1}})
    state = (await storage.read([KEY]))[KEY]
    read_etag = state["e_tag"]
    state["v"] = 2
    await storage.write({KEY: state})
    assert state["e_tag"] != read_etag
    state["v"] = 3
    await storage.write({KEY: state})
    assert (await storage.read([KEY]))[KEY]["v"] == 3


async def test_a_write_of_several_keys_is_all_or_nothing(stores) -> None:
    storage = stores[0]
    await storage.write({"x": {"v": 1}, "y": {"v": 1}})
    stale = (await storage.read(["y"]))["y"]
    await storage.write({"y": {"v": 2}})
    with pytest.raises(ETagConflictError):
        await storage.write({"x": {"v": 10, "e_tag": "*"}, "y": {**stale, "v": 10}})
    values = await storage.read(["x", "y"])
    assert (values["x"]["v"], values["y"]["v"]) == (1, 2)


async def test_concurrent_writers_with_one_etag_exactly_one_wins(stores) -> None:
    """Two instances, many turns answered at once, each holding the same eTag: one write only."""
    await stores[0].write({KEY: {"v": 0}})
    etag = (await stores[0].read([KEY]))[KEY]["e_tag"]

    async def attempt(n: int) -> bool:
        try:
            await stores[n % 2].write({KEY: {"v": n, "e_tag": etag}})
        except ETagConflictError:
            return False
        return True

    results = await asyncio.gather(*(attempt(n) for n in range(24)))
    assert results.count(True) == 1
    winner = results.index(True)
    assert (await stores[1].read([KEY]))[KEY]["v"] == winner


async def test_concurrent_writes_of_many_keys_all_land(stores) -> None:
    await asyncio.gather(*(stores[n % 2].write({f"conv/{n}": {"n": n}}) for n in range(60)))
    values = await stores[0].read([f"conv/{n}" for n in range(60)])
    assert sorted(item["n"] for item in values.values()) == list(range(60))


async def test_last_writer_wins_under_concurrency_without_etags(stores) -> None:
    await asyncio.gather(*(stores[n % 2].write({KEY: {"n": n}}) for n in range(30)))
    assert (await stores[0].read([KEY]))[KEY]["n"] in range(30)


async def test_large_state_round_trips(stores) -> None:
    big = {"transcript": ["x" * 1023 for _ in range(1024)], "pasted": "é" * 200_000}  # over 1 MB
    await stores[0].write({KEY: big})
    item = (await stores[1].read([KEY]))[KEY]
    assert item["transcript"] == big["transcript"] and item["pasted"] == big["pasted"]


async def test_state_survives_closing_and_reopening(state_url) -> None:  # noqa: F811
    storage, cases = await open_storage(state_url)
    await storage.write({KEY: {"v": "kept"}})
    await storage.close()
    await cases.close()
    storage, cases = await open_storage(state_url)
    try:
        assert (await storage.read([KEY]))[KEY]["v"] == "kept"
    finally:
        await storage.close()
        await cases.close()


class NotAllowed:
    """A type from a module outside the allow-list (tests.*)."""

    def __init__(self) -> None:
        self.value = 1


async def test_stored_types_outside_the_allow_list_are_not_restored(stores) -> None:
    await stores[0].write({KEY: {"thing": NotAllowed()}})
    with pytest.raises(StateStoreError, match="outside the allowed modules"):
        await stores[0].read([KEY])


async def test_write_without_changes_is_refused_and_empty_changes_do_nothing(stores) -> None:
    with pytest.raises(StateStoreError, match="Changes are required"):
        await stores[0].write(None)
    await stores[0].write({})
    assert await stores[0].read([KEY]) == {}
