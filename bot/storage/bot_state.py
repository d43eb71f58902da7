"""Bot Framework turn state and the activities already handled. Never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.common import insert_for, now
from bot.storage.models import (
    BotStateRow,
    ProcessedActivity,
)


class ProcessedActivities:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, conversation_id: str, activity_id: str) -> bool:
        found = await self.session.get(ProcessedActivity, (conversation_id, activity_id))
        return found is not None

    async def mark(self, conversation_id: str, activity_id: str) -> None:
        """Insert the marker; a concurrent duplicate makes the commit fail with IntegrityError."""
        self.session.add(
            ProcessedActivity(conversation_id=conversation_id, activity_id=activity_id, received_at=now())
        )
        await self.session.flush()

    async def forget_before(self, moment: datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedActivity).where(ProcessedActivity.received_at < moment)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class BotStates:
    """Rows behind the Teams glue's state storage."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def read(self, keys: Sequence[str]) -> dict[str, tuple[dict[str, Any], str]]:
        if not keys:
            return {}
        rows = await self.session.scalars(select(BotStateRow).where(BotStateRow.key.in_(keys)))
        return {row.key: (row.data, row.etag) for row in rows}

    async def write(self, key: str, data: dict[str, Any], expected_etag: str | None) -> str:
        """Write `data`; `expected_etag` None or '*' overwrites. Raises StaleState on a mismatch."""
        new_etag = uuid.uuid4().hex
        if expected_etag in (None, "*"):
            statement = insert_for(self.session)(BotStateRow).values(
                key=key, data=data, etag=new_etag, updated_at=now()
            )
            statement = statement.on_conflict_do_update(
                index_elements=["key"],
                set_={"data": data, "etag": new_etag, "updated_at": now()},
            )
            await self.session.execute(statement)
            return new_etag
        result = await self.session.execute(
            update(BotStateRow)
            .where(BotStateRow.key == key, BotStateRow.etag == expected_etag)
            .values(data=data, etag=new_etag, updated_at=now())
        )
        if not getattr(result, "rowcount", 0):
            raise StaleState(key)
        return new_etag

    async def delete(self, keys: Sequence[str]) -> None:
        if keys:
            await self.session.execute(delete(BotStateRow).where(BotStateRow.key.in_(keys)))


class StaleState(Exception):
    """Someone else wrote this state since it was read."""
