"""Another bot process for the tests that run several on one database, with the real outbox
worker and, with --run, the real schedule runner. The tests SIGKILL it mid-send.

    python -m tests.support.outbox_process DATABASE_URL (--now ISO-TIME | --clock-file PATH)
        [--run] [--send-timeout S] [--batch N] [--task-batch N] [--global-rate R]

Without --run it drains the outbox once and prints {"delivered": n}. With --run it does what a
bot process's scheduler does, tick after tick: the scheduled tasks due (meeting reminders,
through the handlers the app has), then the outbox; it prints {"ready": true} once it ticks,
{"done": [task ids]} after each tick that did tasks (committed by then), and {"delivered": n}
when SIGTERM stops it.

Its wall clock stands still at --now, the test's fake time, so that leases agree; or it follows
the time the test keeps in --clock-file (outbox_tools.SharedClock), and so does the worker's
pacing, so that nothing waits in real time for Teams' limits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import task_handlers
from bot.services.notices import keep_card_copy
from bot.services.schedule import TaskHandler, TaskRunner
from bot.settings import Settings, load_settings
from bot.storage import db
from bot.storage.schedule import TaskView
from bot.teams.adapter import create_adapter
from bot.teams.delivery import OutboxWorker
from tests.support.outbox_tools import FakeTime, SharedClock

INTERVAL = 0.1  # seconds between ticks while the clock stands still: the scheduler's, shortened


def say(report: dict[str, Any]) -> None:
    print(json.dumps(report), flush=True)


def make_worker(
    args: argparse.Namespace,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    **pacing: Any,
) -> OutboxWorker:
    """The worker as the app's glue builds it, with the test's clock and limits."""
    return OutboxWorker(
        create_adapter(settings),
        sessions,
        "",
        clock=clock,
        send_timeout=args.send_timeout,
        global_rate=args.global_rate,
        on_delivered=keep_card_copy,
        **pacing,
    )


def recorded(handler: TaskHandler, done: list[int]) -> TaskHandler:
    """The handler as it is, noting each task it did."""

    async def run(session: AsyncSession, task: TaskView, now: datetime) -> str:
        outcome = await handler(session, task, now)
        done.append(task.id)
        return outcome

    return run


async def tick_until_stopped(
    args: argparse.Namespace,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: SharedClock,
) -> int:
    fake = FakeTime(clock)
    worker = make_worker(args, settings, sessions, clock, monotonic=fake.monotonic, sleep=fake.sleep)
    done: list[int] = []
    handlers = {kind: recorded(handler, done) for kind, handler in task_handlers(settings).items()}
    runner = TaskRunner(sessions, handlers, clock=clock, batch=args.task_batch)
    await runner.check()
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    say({"ready": True})
    delivered = 0
    while not stopping.is_set():
        with clock.tick():  # the test moves the clock only between ticks
            seen = clock()
            # a task that fails stays pending (the runner logs it); anything else ends the process
            await runner.run_due()
            if done:
                say({"done": done})
                done.clear()
            sent = await worker.drain(batch=args.batch)
            delivered += sent
        # the next tick when the clock moves, or after a while (the other process may have
        # queued messages meanwhile)
        for _ in range(round(INTERVAL / 0.002)):
            if stopping.is_set() or clock() != seen:
                break
            await asyncio.sleep(0.002)
    await worker.stop(grace=30)
    return delivered


async def main_async(args: argparse.Namespace) -> int:
    settings = load_settings(database_url=args.database_url, app_id="", app_password="", env="development")
    engine = db.create_engine(settings.database_url)
    sessions = db.session_factory(engine)
    try:
        if args.run:
            return await tick_until_stopped(args, settings, sessions, SharedClock(Path(args.clock_file)))
        moment = datetime.fromisoformat(args.now)
        return await make_worker(args, settings, sessions, lambda: moment).drain(batch=args.batch)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    timing = parser.add_mutually_exclusive_group(required=True)
    timing.add_argument("--now")
    timing.add_argument("--clock-file")
    parser.add_argument("--run", action="store_true")
    parser.add_argument("--send-timeout", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--task-batch", type=int, default=50)
    parser.add_argument("--global-rate", type=float, default=1000.0)
    args = parser.parse_args()
    if args.run != bool(args.clock_file):
        parser.error("--run goes with --clock-file (time standing still, nothing would come due)")
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps({"delivered": asyncio.run(main_async(args))}), flush=True)


if __name__ == "__main__":
    main()
