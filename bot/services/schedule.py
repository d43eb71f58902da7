"""Runs the schedule: every process ticks with one short APScheduler job that takes the due rows of
the `schedule` table and hands each to the handler of its kind, in the same transaction that marks
it done. A handler only writes (e.g. queues posts in the outbox with a key unique to the task), so
a task's effects and its being done commit together: done exactly once, also with several
processes on one PostgreSQL (rows taken with SKIP LOCKED) and when a process dies mid-run (its
transaction rolls back and another process takes the task)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import telemetry
from bot.logs import log_context
from bot.storage.db import unit_of_work
from bot.storage.schedule import Schedule, TaskView

log = logging.getLogger(__name__)

# Does a task inside the caller's transaction and says how it went: on_time | late | missed | skipped.
TaskHandler = Callable[[AsyncSession, TaskView, datetime], Awaitable[str]]


class UnknownTaskKind(RuntimeError):
    """Pending tasks of a kind this code has no handler for: never dropped silently."""


class TaskRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        handlers: Mapping[str, TaskHandler],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch: int = 50,
    ) -> None:
        self.sessions = sessions
        self.handlers = dict(handlers)
        self.clock = clock
        self.batch = batch

    async def check(self) -> None:
        """At start: every pending task's kind has a handler, or the process refuses to start."""
        async with unit_of_work(self.sessions) as session:
            unknown = await Schedule(session).pending_kinds() - set(self.handlers)
        if unknown:
            raise UnknownTaskKind(
                "The schedule holds pending tasks of kinds this version does not know: "
                + ", ".join(sorted(unknown))
                + ". Run the version that planned them, or cancel them deliberately."
            )

    async def run_due(self) -> int:
        """Do every task due now; returns how many were done."""
        done = 0
        while True:
            moment = self.clock()
            async with unit_of_work(self.sessions) as session:
                schedule = Schedule(session)
                rows = await schedule.take_due(moment, self.batch)
                finished = 0
                for row in rows:
                    handler = self.handlers.get(row.kind)
                    if handler is None:
                        log.error("task %s of unknown kind %s left pending", row.id, row.kind)
                        continue
                    try:
                        with log_context(task_id=row.id, task_kind=row.kind):
                            async with session.begin_nested():
                                outcome = await handler(session, schedule.view(row), moment)
                    except Exception as error:  # one task's failure must not undo the others
                        with log_context(task_id=row.id, task_kind=row.kind):
                            log.exception("task %s (%s) failed; it stays pending", row.id, row.kind)
                        row.last_error = f"{type(error).__name__}: {error}"[:2000]
                        continue
                    schedule.finish(row, outcome, moment)
                    telemetry.TASKS.add(1, {"kind": row.kind, "outcome": str(outcome)})
                    finished += 1
            done += finished
            if len(rows) < self.batch or finished == 0:
                return done
