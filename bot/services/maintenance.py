"""Housekeeping run by the scheduler."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.bot_state import ProcessedActivities
from bot.storage.db import unit_of_work

# Teams redelivers an activity within minutes; a week of ids is ample to recognise a repeat.
KEEP_PROCESSED = timedelta(days=7)


async def prune_processed_activities(
    sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
) -> int:
    """Forget inbound activity ids older than KEEP_PROCESSED; returns how many were removed."""
    async with unit_of_work(sessions) as session:
        return await ProcessedActivities(session).forget_before(clock() - KEEP_PROCESSED)
