"""Housekeeping: old processed-activity ids are forgotten by a nightly job (time faked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.app import SCHEDULER
from bot.services.maintenance import prune_processed_activities
from bot.storage.models import ProcessedActivity
from tests.conftest import STRANGER
from tests.support.harness import Harness


async def processed(bot: Harness) -> int:
    async with bot.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ProcessedActivity)) or 0)


async def test_old_activity_ids_are_forgotten(bot: Harness) -> None:
    await bot.say(STRANGER, "hjälp")
    await bot.say(STRANGER, "vem är jag")
    assert await processed(bot) == 2
    now = datetime.now(UTC)
    assert await prune_processed_activities(bot.sessions, lambda: now + timedelta(days=6)) == 0
    assert await processed(bot) == 2
    assert await prune_processed_activities(bot.sessions, lambda: now + timedelta(days=8)) == 2
    assert await processed(bot) == 0


async def test_pruning_runs_nightly_in_stockholm_time(bot: Harness) -> None:
    assert bot.app is not None
    trigger = bot.app[SCHEDULER].get_job("prune-processed-activities").trigger
    stockholm = ZoneInfo("Europe/Stockholm")
    # the night daylight saving time ends: 03:17 still comes once, in local time
    fire = trigger.get_next_fire_time(None, datetime(2026, 10, 24, 12, 0, tzinfo=stockholm))
    assert (fire.astimezone(stockholm).date().isoformat(), fire.astimezone(stockholm).hour) == (
        "2026-10-25",
        3,
    )
    assert fire.astimezone(stockholm).minute == 17
