"""The botbuilder state storage on our database: eTags, restarts, both databases."""

from __future__ import annotations

import pytest

from bot.storage import db
from bot.teams.state_storage import DatabaseStorage


@pytest.fixture
async def storage(database_url: str):
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    yield DatabaseStorage(db.session_factory(engine))
    await engine.dispose()


async def test_write_read_delete(storage: DatabaseStorage) -> None:
    assert await storage.read(["a"]) == {}
    await storage.write({"a": {"dialog": {"flow": {"name": "registration"}}}, "b": {"n": 1}})
    items = await storage.read(["a", "b", "c"])
    assert set(items) == {"a", "b"}
    assert items["a"]["dialog"]["flow"]["name"] == "registration"
    assert items["a"]["e_tag"]
    await storage.delete(["a"])
    assert set(await storage.read(["a", "b"])) == {"b"}


async def test_stale_etag_is_refused(storage: DatabaseStorage) -> None:
    await storage.write({"k": {"n": 1}})
    first = (await storage.read(["k"]))["k"]
    second = (await storage.read(["k"]))["k"]
    first["n"] = 2
    await storage.write({"k": first})
    second["n"] = 3
    with pytest.raises(KeyError, match="Etag conflict"):
        await storage.write({"k": second})
    assert (await storage.read(["k"]))["k"]["n"] == 2
    second["e_tag"] = "*"  # a wildcard overwrites
    await storage.write({"k": second})
    assert (await storage.read(["k"]))["k"]["n"] == 3


async def test_etag_changes_on_every_write(storage: DatabaseStorage) -> None:
    await storage.write({"k": {"n": 1}})
    item = (await storage.read(["k"]))["k"]
    tag = item["e_tag"]
    await storage.write({"k": item})
    assert item["e_tag"] != tag
    item["n"] = 5
    await storage.write({"k": item})  # the eTag handed back after a write is current
    assert (await storage.read(["k"]))["k"]["n"] == 5


async def test_state_survives_a_new_engine(database_url: str, storage: DatabaseStorage) -> None:
    await storage.write({"persist": {"flow": "x"}})
    engine = db.create_engine(database_url)
    try:
        assert (await DatabaseStorage(db.session_factory(engine)).read(["persist"]))["persist"]["flow"] == "x"
        assert await db.schema_is_current(engine)
    finally:
        await engine.dispose()


async def test_an_empty_new_item_is_not_written_but_an_emptied_one_is(storage: DatabaseStorage) -> None:
    # a turn that started no flow leaves no row behind, and reads back the same empty state
    await storage.write({"fresh": {"dialog": {}}})
    assert await storage.read(["fresh"]) == {}
    # a flow that ended is cleared in its row, under its eTag
    await storage.write({"k": {"dialog": {"flow": {"name": "registration"}}}})
    item = (await storage.read(["k"]))["k"]
    item["dialog"] = {}
    await storage.write({"k": item})
    assert (await storage.read(["k"]))["k"]["dialog"] == {}
