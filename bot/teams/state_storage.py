"""A botbuilder Storage on Forumbot's database, with eTag optimistic concurrency."""

from __future__ import annotations

from typing import Any

from botbuilder.core import Storage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.bot_state import BotStates, StaleState
from bot.storage.db import unit_of_work


class DatabaseStorage(Storage):
    """Stores dict state items as JSON. A write whose eTag is out of date raises KeyError,
    as botbuilder's MemoryStorage does; eTag '*' or none overwrites. A new item with nothing in
    it (a turn that started no flow, such as most button presses) is not written: reading it back
    gives the same empty state, and the turn is spared a transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def read(self, keys: list[str]) -> dict[str, Any]:
        async with unit_of_work(self.sessions) as session:
            rows = await BotStates(session).read(keys)
        return {key: {**data, "e_tag": etag} for key, (data, etag) in rows.items()}

    async def write(self, changes: dict[str, Any]) -> None:
        items = {}
        for key, item in changes.items():
            data = dict(item) if isinstance(item, dict) else dict(vars(item))
            etag = data.pop("e_tag", None)
            if etag is None and not any(data.values()):
                continue
            items[key] = (item, data, etag)
        if not items:
            return
        async with unit_of_work(self.sessions) as session:
            states = BotStates(session)
            for key, (item, data, etag) in items.items():
                try:
                    new_etag = await states.write(key, data, etag)
                except StaleState as error:
                    raise KeyError(f"Etag conflict for {key}") from error
                if isinstance(item, dict):
                    item["e_tag"] = new_etag

    async def delete(self, keys: list[str]) -> None:
        async with unit_of_work(self.sessions) as session:
            await BotStates(session).delete(keys)
