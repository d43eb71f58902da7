"""Delivers the outbox: messages the bot sends on its own initiative, each at most once."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import Reply
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage
from bot.storage.repositories import dialect
from bot.teams.convert import reference_from, to_activity

log = logging.getLogger(__name__)

RETRYABLE = {408, 412, 429, 500, 502, 503, 504}


@dataclass
class Attempt:
    activity_id: str | None = None
    status: int | None = None
    retry_after: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRYABLE


def _status_of(error: Exception) -> tuple[int | None, float | None]:
    response: Any = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    retry_after = None
    headers = getattr(response, "headers", None)
    if headers is not None:
        raw = headers.get("Retry-After")
        try:
            retry_after = float(raw) if raw is not None else None
        except ValueError:
            retry_after = None
    return (int(status) if status else None), retry_after


class OutboxWorker:
    """Claims due entries, sends each through the adapter, and records the outcome."""

    def __init__(
        self,
        adapter: CloudAdapter,
        sessions: async_sessionmaker[AsyncSession],
        app_id: str,
        *,
        max_attempts: int = 8,
        lease: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.adapter = adapter
        self.sessions = sessions
        self.app_id = app_id
        self.max_attempts = max_attempts
        self.lease = lease
        self.clock = clock

    async def drain(self, batch: int = 50) -> int:
        """Deliver what is due now; returns how many were delivered."""
        delivered = 0
        while True:
            claimed = await self._claim(batch)
            if not claimed:
                return delivered
            for entry_id, reference, payload in claimed:
                attempt = await self._send(reference, payload)
                await self._record(entry_id, attempt)
                delivered += attempt.ok
            if len(claimed) < batch:
                return delivered

    async def _claim(self, batch: int) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
        now = self.clock()
        async with unit_of_work(self.sessions) as session:
            statement = (
                select(OutboxMessage)
                .where(
                    or_(
                        (OutboxMessage.status == "queued") & (OutboxMessage.not_before <= now),
                        # a claim whose process died: its lease has run out
                        (OutboxMessage.status == "sending") & (OutboxMessage.not_before <= now),
                    )
                )
                .order_by(OutboxMessage.id)
                .limit(batch)
            )
            if dialect(session) == "postgresql":
                statement = statement.with_for_update(skip_locked=True)
            rows = list(await session.scalars(statement))
            for row in rows:
                row.status = "sending"
                row.attempts += 1
                row.not_before = now + self.lease
            return [(row.id, row.reference, row.payload) for row in rows]

    async def _send(self, reference: dict[str, Any], payload: dict[str, Any]) -> Attempt:
        attempt = Attempt()

        async def callback(context: TurnContext) -> None:
            reply = Reply(
                text=payload.get("text"),
                card=payload.get("card"),
                update_activity_id=payload.get("update_activity_id"),
            )
            activity = to_activity(reply)
            try:
                if reply.update_activity_id:
                    response = await context.update_activity(activity)
                else:
                    response = await context.send_activity(activity)
                attempt.activity_id = getattr(response, "id", None) or reply.update_activity_id
            except Exception as error:  # recorded and retried by the worker
                attempt.status, attempt.retry_after = _status_of(error)
                attempt.error = f"{type(error).__name__}: {error}"[:2000]

        try:
            await self.adapter.continue_conversation(reference_from(reference), callback, self.app_id)
        except Exception as error:
            attempt.status, attempt.retry_after = _status_of(error)
            attempt.error = f"{type(error).__name__}: {error}"[:2000]
        return attempt

    async def _record(self, entry_id: int, attempt: Attempt) -> None:
        now = self.clock()
        async with unit_of_work(self.sessions) as session:
            row = await session.get_one(OutboxMessage, entry_id)
            if attempt.ok:
                row.status, row.sent_at, row.sent_activity_id = "sent", now, attempt.activity_id
                row.last_error = None
                return
            row.last_error = attempt.error
            if not attempt.retryable or row.attempts >= self.max_attempts:
                row.status = "dead"
                log.error("outbox entry %s dead after %s attempts: %s", entry_id, row.attempts, attempt.error)
                return
            backoff = min(300.0, 2.0**row.attempts) * (0.5 + random.random() / 2)
            row.status = "queued"
            row.not_before = now + timedelta(seconds=max(backoff, attempt.retry_after or 0))
