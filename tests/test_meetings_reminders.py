"""Meeting reminders into the forum channel on a faked clock: at their times, each exactly once
(run twice, two runners), across both daylight-saving changes, not for a skipped holiday, after a
restart, and after downtime (posted late while the meeting is ahead, else the coordinators told)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import TASKS
from bot.services import task_handlers
from bot.services.schedule import TaskRunner
from bot.storage.models import Meeting, ScheduledTask
from tests.conftest import COORDINATOR
from tests.support.harness import Harness, card_text, cards_of
from tests.support.teams import CHANNEL_ID
from tests.test_meetings import SV, forum, set_up

TITLE = "Operativt möte"
AGENDA = SV("meeting.reminder_headline.agenda", title=TITLE)
SHORT = SV("meeting.reminder_headline.short", title=TITLE)


def channel_posts(bot: Harness) -> list[str]:
    return [card_text(card) for card in cards_of(bot.connector.sent(CHANNEL_ID))]


def personal_texts(bot: Harness, person=COORDINATOR) -> list[str]:
    sent = bot.connector.sent(person.personal_conversation)
    return [a.get("text", "") for a in sent] + [card_text(c) for c in cards_of(sent)]


async def tick(bot: Harness, at: datetime) -> int:
    bot.clock.moment = at
    done = await bot.app[TASKS].run_due()
    await bot.drain_outbox()
    return done


async def tasks(bot: Harness) -> list[ScheduledTask]:
    async with bot.sessions() as session:
        return list(await session.scalars(select(ScheduledTask).order_by(ScheduledTask.due_at)))


async def test_the_agenda_and_the_short_reminder_are_posted_once_each_at_their_times(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)  # Tuesdays 09.00–10.30 from 1 December
    second = TaskRunner(bot.sessions, task_handlers(bot.settings), clock=bot.clock)

    # the nudge to report status is due three working days before, at 09.00 (tests/test_reports.py)
    assert await tick(bot, datetime(2026, 11, 26, 8, 0, tzinfo=UTC)) == 1
    # two working days before Tuesday 1 December at 09.00 is Friday 27 November, 08.00 UTC
    assert await tick(bot, datetime(2026, 11, 27, 7, 59, tzinfo=UTC)) == 0
    bot.clock.moment = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert sum(await asyncio.gather(bot.app[TASKS].run_due(), second.run_due())) == 1
    assert await bot.app[TASKS].run_due() == 0 and await second.run_due() == 0
    await bot.drain_outbox()
    (agenda,) = [p for p in channel_posts(bot) if AGENDA in p]
    assert "tisdag 1 december 2026 kl. 09.00–10.30" in agenda and SV("poll.attendance.below") in agenda
    assert "⚠" not in agenda
    assert any(SV("meeting.summary_headline", title=TITLE) in text for text in personal_texts(bot))

    # the compiled status picture, one working day before at 12.00 (tests/test_reports.py)
    assert await tick(bot, datetime(2026, 11, 30, 11, 0, tzinfo=UTC)) == 1
    # an hour before: the time, the place
    assert await tick(bot, datetime(2026, 12, 1, 6, 59, tzinfo=UTC)) == 0
    assert await tick(bot, datetime(2026, 12, 1, 7, 0, tzinfo=UTC)) == 1
    assert await tick(bot, datetime(2026, 12, 1, 7, 1, tzinfo=UTC)) == 0
    (short,) = [p for p in channel_posts(bot) if SHORT in p]
    assert "Stadshuset, rum 3" in short and "kl. 09.00–10.30" in short
    # the new series' announcement, the agenda and the attendance poll, the compiled status picture,
    # the short one
    assert len(channel_posts(bot)) == 5


async def sunday_series_at_half_past_two(bot: Harness, first: str) -> None:
    # Easter and Whit Sunday are holidays: skipped, as the holiday card offers by default
    await set_up(
        bot, weekday="6", first_date=first, start_time="02:30", end_time="03:30", holidays_chosen=True
    )


async def short_posts_between(bot: Harness, start: datetime, end: datetime) -> list[str]:
    moment = start
    while moment <= end:
        await tick(bot, moment)
        moment += timedelta(minutes=10)
    return [p for p in channel_posts(bot) if SHORT in p]


async def test_on_the_spring_change_a_meeting_at_half_past_two_is_reminded_once(bot: Harness) -> None:
    await forum(bot)
    bot.clock.moment = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    await sunday_series_at_half_past_two(bot, "2026-03-29")
    async with bot.sessions() as session:
        first = await session.scalar(select(Meeting).order_by(Meeting.starts_at))
    # 02.30 does not exist that night: the meeting is at 03.30 summer time
    assert first.starts_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    short = await short_posts_between(
        bot, datetime(2026, 3, 28, 22, 0, tzinfo=UTC), datetime(2026, 3, 29, 3, 0, tzinfo=UTC)
    )
    assert len(short) == 1 and "söndag 29 mars 2026 kl. 03.30" in short[0]
    assert "⚠" not in short[0]


async def test_on_the_autumn_change_a_meeting_at_half_past_two_is_reminded_once(bot: Harness) -> None:
    await forum(bot)
    bot.clock.moment = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    await sunday_series_at_half_past_two(bot, "2026-10-25")
    async with bot.sessions() as session:
        first = await session.scalar(select(Meeting).order_by(Meeting.starts_at))
    # 02.30 happens twice that night: the meeting is at the first, in summer time
    assert first.starts_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    short = await short_posts_between(
        bot, datetime(2026, 10, 24, 22, 0, tzinfo=UTC), datetime(2026, 10, 25, 4, 0, tzinfo=UTC)
    )
    assert len(short) == 1 and "söndag 25 oktober 2026 kl. 02.30" in short[0]


async def test_a_skipped_holiday_gets_no_reminders(bot: Harness) -> None:
    await forum(bot)
    data_fields = {
        "weekday": "3",
        "first_date": "2026-12-03",
        "holidays_chosen": True,
        "holiday_2026-12-24": "skip",
    }
    await set_up(bot, **data_fields)  # Thursdays; Julafton and Nyårsafton skipped
    async with bot.sessions() as session:
        christmas = await session.scalar(
            select(Meeting)
            .where(Meeting.starts_at < datetime(2026, 12, 25, tzinfo=UTC))
            .order_by(Meeting.starts_at.desc())
        )
    assert christmas.status == "cancelled"
    assert [t for t in await tasks(bot) if t.item_id == christmas.id] == []
    await tick(bot, datetime(2026, 12, 15, 8, 0, tzinfo=UTC))  # the agenda of the meeting before
    assert [p for p in channel_posts(bot) if "17 december" in p]
    for moment in (datetime(2026, 12, 22, 8, 0, tzinfo=UTC), datetime(2026, 12, 24, 7, 0, tzinfo=UTC)):
        await tick(bot, moment)
    assert not [p for p in channel_posts(bot) if "24 december" in p]


async def test_a_reminder_planned_before_a_restart_is_posted_after_it(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    await bot.restart()
    assert await tick(bot, datetime(2026, 11, 27, 8, 0, tzinfo=UTC)) == 2  # the agenda, the nudge to report
    assert len([p for p in channel_posts(bot) if AGENDA in p]) == 1


async def test_after_downtime_a_reminder_is_posted_late_or_the_coordinators_are_told(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    # down from Friday morning to Monday: the agenda (and the nudge to report) late, the meeting ahead
    assert await tick(bot, datetime(2026, 11, 30, 10, 0, tzinfo=UTC)) == 2
    (agenda,) = [p for p in channel_posts(bot) if AGENDA in p]
    assert "⚠ " + SV("meeting.reminder_late", due="fredag 27 november 2026 kl. 09.00") in agenda
    # down again across the compiled picture and the short reminder until the meeting had begun:
    # neither posted, coordinators told; the attendance poll closed
    assert await tick(bot, datetime(2026, 12, 1, 8, 15, tzinfo=UTC)) == 3
    assert not [p for p in channel_posts(bot) if SHORT in p]
    told = SV(
        "meeting.reminder_missed",
        reminder=SV("meeting.reminder.short"),
        title=TITLE,
        when="tisdag 1 december 2026 kl. 09.00–10.30",
    )
    assert told in personal_texts(bot)
    outcomes = {(t.kind, t.outcome) for t in await tasks(bot) if t.status == "done"}
    assert outcomes == {
        ("meeting.agenda", "late"),
        ("meeting.short", "missed"),
        ("meeting.report_nudge", "late"),
        ("meeting.compiled", "missed"),
        ("poll.close", "late"),  # the attendance poll, made with the agenda, closed as the meeting began
    }
