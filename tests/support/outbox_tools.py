"""Helpers for the outbox tests: fake pacing time, a worker wired to the test's clock, queued
messages, and a second bot process that drains the same database."""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import GLUE
from bot.services.outbox import OnDelivered
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage
from bot.storage.outbox import Outbox
from bot.teams.delivery import OutboxWorker
from tests.support import teams
from tests.support.harness import FakeClock, Harness

ROOT = Path(__file__).resolve().parents[2]


class FakeTime:
    """The worker's monotonic clock and sleep, on the test's fake clock: sleeping moves it."""

    def __init__(self, clock: FakeClock) -> None:
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


async def wait_until(check: Callable[[], Awaitable[bool]], *, seconds: float = 20.0) -> None:
    """Poll `check` in real time, for what another OS process does; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("the other process did not get there in time")
        await asyncio.sleep(0.05)


async def start_worker_process(
    database_url: str,
    now: datetime,
    *,
    send_timeout: float = 60.0,
    batch: int = 50,
    global_rate: float = 1000.0,
) -> asyncio.subprocess.Process:
    """A second bot process (tests/support/outbox_process.py) that drains the outbox once."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.outbox_process",
        database_url,
        "--now",
        now.isoformat(),
        "--send-timeout",
        str(send_timeout),
        "--batch",
        str(batch),
        "--global-rate",
        str(global_rate),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


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
