"""The schedule in our tables: a task is done once at its time (faked), survives a restart, is taken
by one of several runners on one database, fails loudly when its kind is unknown, and is retried
after an error rather than dropped."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import TASKS, create_app
from bot.domain.notices import ItemRef
from bot.services.schedule import TaskRunner, UnknownTaskKind
from bot.settings import Settings
from bot.storage import db
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage, ScheduledTask
from bot.storage.outbox import Outbox
from bot.storage.schedule import Schedule, TaskView
from tests.support.harness import FakeClock, Harness

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class Recorder:
    """A task handler that queues one outbox entry keyed by the task, and counts its calls."""

    def __init__(self, outcome: str = "on_time") -> None:
        self.calls: list[int] = []
        self.outcome = outcome
        self.fail = False

    async def __call__(self, session: AsyncSession, task: TaskView, now: datetime) -> str:
        self.calls.append(task.id)
        if self.fail:
            raise RuntimeError("the handler broke")
        await Outbox(session).enqueue(
            f"schedule:{task.id}", {"conversation": {"id": "c"}}, {"text": task.kind}
        )
        return self.outcome


async def plan(sessions, *tasks: tuple[str, int, datetime]) -> None:
    async with unit_of_work(sessions) as session:
        for kind, item_id, due in tasks:
            await Schedule(session).plan(kind, ItemRef("meeting", item_id), due)


async def rows(sessions) -> list[ScheduledTask]:
    async with sessions() as session:
        return list(await session.scalars(select(ScheduledTask).order_by(ScheduledTask.id)))


async def outbox_count(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_a_task_runs_once_at_its_time(bot: Harness) -> None:
    recorder = Recorder()
    runner = TaskRunner(bot.sessions, {"meeting.agenda": recorder}, clock=bot.clock)
    bot.clock.moment = T0
    await plan(bot.sessions, ("meeting.agenda", 1, T0 + timedelta(hours=1)))
    assert await runner.run_due() == 0  # not yet
    bot.clock.advance(minutes=59)
    assert await runner.run_due() == 0
    bot.clock.advance(minutes=1)
    assert await runner.run_due() == 1
    assert await runner.run_due() == 0  # and never again
    (task,) = await rows(bot.sessions)
    assert (task.status, task.outcome, task.done_at) == ("done", "on_time", T0 + timedelta(hours=1))
    assert recorder.calls == [task.id] and await outbox_count(bot.sessions) == 1


async def test_replanning_moves_a_task_and_cancel_stops_it(bot: Harness) -> None:
    recorder = Recorder()
    runner = TaskRunner(
        bot.sessions, {"meeting.agenda": recorder, "meeting.short": recorder}, clock=bot.clock
    )
    bot.clock.moment = T0
    await plan(bot.sessions, ("meeting.agenda", 1, T0), ("meeting.short", 1, T0))
    await plan(bot.sessions, ("meeting.agenda", 1, T0 + timedelta(days=1)))  # the meeting moved
    async with unit_of_work(bot.sessions) as session:
        assert await Schedule(session).cancel(ItemRef("meeting", 1), ["meeting.short"]) == 1
    assert await runner.run_due() == 0
    bot.clock.advance(days=1)
    assert await runner.run_due() == 1
    assert [(r.kind, r.status) for r in await rows(bot.sessions)] == [
        ("meeting.agenda", "done"),
        ("meeting.short", "cancelled"),
    ]
    # planned again for the time it was done at: nothing to do twice
    await plan(bot.sessions, ("meeting.agenda", 1, T0 + timedelta(days=1)))
    assert await runner.run_due() == 0 and len(recorder.calls) == 1


async def test_a_task_survives_a_restart_between_planning_and_firing(bot: Harness) -> None:
    recorder = Recorder()
    bot.clock.moment = T0
    await plan(bot.sessions, ("meeting.agenda", 1, T0 + timedelta(minutes=30)))
    bot.extra_tasks["meeting.agenda"] = recorder  # the version that starts knows the kind
    await bot.restart()
    bot.clock.advance(minutes=45)  # it came due while the bot was down
    assert await bot.app[TASKS].run_due() == 1
    assert len(recorder.calls) == 1


async def test_a_failing_task_stays_pending_and_is_retried(bot: Harness) -> None:
    recorder, other = Recorder(), Recorder()
    recorder.fail = True
    runner = TaskRunner(bot.sessions, {"meeting.agenda": recorder, "meeting.short": other}, clock=bot.clock)
    bot.clock.moment = T0
    await plan(bot.sessions, ("meeting.agenda", 1, T0), ("meeting.short", 1, T0))
    assert await runner.run_due() == 1  # the other task is not undone by the failure
    failed = next(r for r in await rows(bot.sessions) if r.kind == "meeting.agenda")
    assert failed.status == "pending" and "broke" in (failed.last_error or "")
    assert await outbox_count(bot.sessions) == 1  # the failed handler's write was rolled back
    recorder.fail = False
    assert await runner.run_due() == 1
    assert await outbox_count(bot.sessions) == 2


async def test_unknown_kinds_fail_loudly_at_start(settings: Settings, connector, clock: FakeClock) -> None:
    harness = Harness(settings, connector, clock)
    await harness.start()
    await plan(harness.sessions, ("meeting.from_the_future", 1, T0))
    await harness.stop()
    with pytest.raises(UnknownTaskKind, match=r"meeting\.from_the_future"):
        await Harness(settings, connector, clock).start()
    # a runner that meets one at run time leaves it pending
    engine = db.create_engine(settings.database_url)
    runner = TaskRunner(db.session_factory(engine), {}, clock=lambda: T0)
    assert await runner.run_due() == 0
    assert [r.status for r in await rows(db.session_factory(engine))] == ["pending"]
    await engine.dispose()
    assert create_app  # the app factory is what refused above


async def test_two_runners_on_one_database_do_each_task_once(settings: Settings, bot: Harness) -> None:
    """Two processes' runners, each with its own connection pool, tick at the same moments."""
    bot.clock.moment = T0
    await plan(bot.sessions, *[(f"kind.{i % 3}", i, T0 + timedelta(seconds=i)) for i in range(150)])
    engines = [db.create_engine(settings.database_url) for _ in range(2)]
    recorders = [Recorder(), Recorder()]
    runners = [
        TaskRunner(db.session_factory(e), {f"kind.{k}": r for k in range(3)}, clock=bot.clock, batch=7)
        for e, r in zip(engines, recorders, strict=True)
    ]
    try:
        for _ in range(6):
            bot.clock.advance(seconds=30)
            await asyncio.gather(*(runner.run_due() for runner in runners))
    finally:
        for engine in engines:
            await engine.dispose()
    calls = recorders[0].calls + recorders[1].calls
    assert len(calls) == 150 and len(set(calls)) == 150
    assert await outbox_count(bot.sessions) == 150
    assert all(r.status == "done" for r in await rows(bot.sessions))
