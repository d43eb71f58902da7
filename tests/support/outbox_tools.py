"""Helpers for the outbox tests: fake pacing time, a worker wired to the test's clock, queued
messages, and other bot processes on the same database (with a clock the test moves)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import math
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select

from bot.app import GLUE
from bot.services.outbox import OnDelivered
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage
from bot.storage.outbox import Outbox
from bot.teams.delivery import OutboxWorker
from tests.support import teams
from tests.support.harness import Harness

ROOT = Path(__file__).resolve().parents[2]


class SteppedClock(Protocol):
    def __call__(self) -> datetime: ...

    def advance(self, **delta: float) -> None: ...


class SharedClock:
    """The test's fake time, in a file that every bot process it starts reads. The test moves it
    (`set`) only between the processes' ticks (`tick`: a shared lock on a file beside it), so
    that a tick sees one time throughout, as a real one sees the time hardly move. A process's
    own sleeps (`advance`, from its FakeTime's pacing) put its reading ahead by what it slept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = path.with_name(path.name + ".lock")
        self.ahead = timedelta()

    async def set(self, moment: datetime) -> None:
        """Move the time, as soon as no process is in a tick."""
        await asyncio.to_thread(self._set, moment)

    def _set(self, moment: datetime) -> None:
        staged = self.path.with_name(self.path.name + ".new")
        with self._locked(fcntl.LOCK_EX):
            staged.write_text(moment.isoformat())
            os.replace(staged, self.path)

    @contextlib.contextmanager
    def tick(self) -> Iterator[None]:
        with self._locked(fcntl.LOCK_SH):
            yield

    def __call__(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text()) + self.ahead

    def advance(self, **delta: float) -> None:
        self.ahead += timedelta(**delta)

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        with self.lock.open("a") as handle:
            fcntl.flock(handle, mode)  # released by the kernel, too, when a process is killed
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class FakeTime:
    """The worker's monotonic clock and sleep, on the test's fake clock: sleeping moves it."""

    def __init__(self, clock: SteppedClock) -> None:
        self.clock = clock
        self.start = clock()
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return (self.clock() - self.start).total_seconds()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(microseconds=math.ceil(seconds * 1_000_000))
        await asyncio.sleep(0)


def install_worker(
    bot: Harness,
    fake_time: FakeTime | None = None,
    *,
    send_timeout: float = 2.0,
    global_rate: float = 1000.0,
    max_attempts: int = 10,
    on_delivered: OnDelivered | None = None,
) -> OutboxWorker:
    """Replace the app's outbox worker with one on the test's clocks (`bot.drain_outbox()`
    then uses it), with a short send timeout and a fixed jitter."""
    assert bot.app is not None
    glue = bot.app[GLUE]
    extra: dict[str, Any] = {}
    if fake_time is not None:
        extra = {"monotonic": fake_time.monotonic, "sleep": fake_time.sleep}
    worker = OutboxWorker(
        glue.adapter,
        bot.sessions,
        bot.settings.app_id,
        clock=bot.clock,
        send_timeout=send_timeout,
        global_rate=global_rate,
        max_attempts=max_attempts,
        jitter=lambda: 0.5,
        on_delivered=on_delivered,
        **extra,
    )
    glue.outbox = worker
    return worker


def reference(service_url: str, conversation_id: str) -> dict[str, Any]:
    """A conversation reference as the glue stores it."""
    return {
        "channelId": "msteams",
        "serviceUrl": service_url,
        "conversation": {"id": conversation_id, "conversationType": "personal", "tenantId": teams.TENANT},
        "bot": {"id": teams.BOT_ID, "name": "Forumbot"},
        "user": {"id": f"29:{conversation_id}"},
    }


async def enqueue(
    bot: Harness,
    conversation_id: str,
    text: str,
    *,
    key: str | None = None,
    update_activity_id: str | None = None,
    service_url: str | None = None,
) -> int:
    payload: dict[str, Any] = {"text": text}
    if update_activity_id:
        payload["update_activity_id"] = update_activity_id
    key = key or f"test:{conversation_id}:{text}"
    async with unit_of_work(bot.sessions) as session:
        assert await Outbox(session).enqueue(
            key, reference(service_url or bot.connector.url, conversation_id), payload
        )
        entry_id = await session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
    assert entry_id is not None
    return entry_id


async def entry(bot: Harness, entry_id: int) -> OutboxMessage:
    async with bot.sessions() as session:
        found = await session.get(OutboxMessage, entry_id)
    assert found is not None
    return found


async def statuses(bot: Harness) -> dict[int, str]:
    async with bot.sessions() as session:
        rows = await session.execute(select(OutboxMessage.id, OutboxMessage.status))
        return dict(rows.tuples().all())


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, seconds: float = 20.0, every: float = 0.05
) -> None:
    """Poll `check` in real time, for what another OS process does; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("the other process did not get there in time")
        await asyncio.sleep(every)


async def start_worker_process(
    database_url: str,
    now: datetime | None = None,
    *,
    clock: SharedClock | None = None,
    run: bool = False,
    send_timeout: float = 60.0,
    batch: int = 50,
    task_batch: int = 50,
    global_rate: float = 1000.0,
) -> asyncio.subprocess.Process:
    """Another bot process (tests/support/outbox_process.py) on the same database: it drains the
    outbox once, or with `run` ticks the schedule and the outbox until it is stopped (see
    `started` and `stop_process`). Its time stands still at `now`, or follows `clock`."""
    if now is not None and clock is None:
        timing = ["--now", now.isoformat()]
    elif clock is not None and now is None:
        timing = ["--clock-file", str(clock.path)]
    else:
        raise ValueError("either a fixed `now` or a shared `clock`")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.outbox_process",
        database_url,
        *timing,
        *(["--run"] if run else []),
        "--send-timeout",
        str(send_timeout),
        "--batch",
        str(batch),
        "--task-batch",
        str(task_batch),
        "--global-rate",
        str(global_rate),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def started(child: asyncio.subprocess.Process, *, seconds: float = 30.0) -> None:
    """Wait for a process started with `run` to say it is ticking."""
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), seconds)
    if json.loads(line or "null") != {"ready": True}:
        _, err = await child.communicate()
        raise AssertionError(f"the bot process did not start: {err.decode()}")


def reports(out: bytes) -> list[dict[str, Any]]:
    """What a process printed, one JSON object a line."""
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


async def stop_process(child: asyncio.subprocess.Process, *, seconds: float = 30.0) -> list[dict[str, Any]]:
    """Stop a process started with `run` as the service manager would (SIGTERM), and return what
    it printed; it must have ended cleanly."""
    child.terminate()
    out, err = await asyncio.wait_for(child.communicate(), seconds)
    assert child.returncode == 0, err.decode()
    return reports(out)


def window_counts(times: list[float], seconds: float) -> int:
    """The most sends in any half-open stretch [t, t + seconds) that starts at a send."""
    ordered = sorted(times)
    most, last = 0, 0
    for first, start in enumerate(ordered):
        last = max(last, first)
        while last < len(ordered) and ordered[last] < start + seconds:
            last += 1
        most = max(most, last - first)
    return most


def after(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)
