"""Delivers the outbox through the Bot Connector: one request per attempt, with a timeout of its
own and no hidden retries (the policy lives in bot.services.outbox)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import Reply
from bot.domain.pacing import Pacer
from bot.services.outbox import Failure, OnDelivered, OutboxDelivery, SendResult
from bot.teams.convert import reference_from, to_activity

log = logging.getLogger(__name__)


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = getattr(current, "inner_exception", None)  # msrest wraps requests' errors
        pending.extend([current.__cause__, current.__context__])
        if isinstance(inner, BaseException):
            pending.append(inner)


def failure_of(error: BaseException) -> SendResult:
    """What an exception from the connector client means for the outbox."""
    text = f"{type(error).__name__}: {error}"[:2000]
    for cause in _causes(error):
        response: Any = getattr(cause, "response", None)
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        if isinstance(status, int) and status >= 400:
            headers = getattr(response, "headers", None) or {}
            return SendResult(
                failure=Failure.REFUSED, status=status, retry_after=headers.get("Retry-After"), error=text
            )
    # requests' errors are OSErrors; a timeout of ours is a TimeoutError
    if any(isinstance(cause, OSError | TimeoutError) for cause in _causes(error)):
        return SendResult(failure=Failure.NO_ANSWER, error=text)
    return SendResult(failure=Failure.ERROR, error=text)


class BotConnectorSender:
    """Sends one outbox payload into its conversation through the CloudAdapter.

    The connector client botbuilder creates would retry 5xx answers and read errors by itself
    (POST included) and wait 100 s for an answer; here it makes exactly one request and gives up
    after `timeout` seconds without an answer, so that the outbox's policy is the only one.
    """

    def __init__(self, adapter: CloudAdapter, app_id: str, *, timeout: float) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.timeout = timeout

    @property
    def deadline(self) -> float:
        """Longest a send may take in all (token, connect, each read): after that it is abandoned."""
        return 2 * self.timeout + 5

    async def send(self, reference: dict[str, Any], payload: dict[str, Any]) -> SendResult:
        outcome: list[SendResult] = []
        clients: list[Any] = []

        async def callback(context: TurnContext) -> None:
            client = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
            self._one_request(client)
            clients.append(client)
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
            except Exception as error:  # caught here, or the adapter's on_turn_error would post
                outcome.append(failure_of(error))
                return
            outcome.append(SendResult(activity_id=getattr(response, "id", None) or reply.update_activity_id))

        try:
            await asyncio.wait_for(
                self.adapter.continue_conversation(reference_from(reference), callback, self.app_id),
                self.deadline,
            )
        except Exception as error:
            return failure_of(error)
        for client in clients:
            await self._close(client)
        return outcome[0] if outcome else SendResult(failure=Failure.ERROR, error="the send never ran")

    def _one_request(self, client: Any) -> None:
        config = getattr(client, "config", None)
        connection = getattr(config, "connection", None)
        if connection is not None:
            connection.timeout = self.timeout
        retry_policy = getattr(config, "retry_policy", None)
        if retry_policy is not None:
            # the client's session already holds this policy object: change it in place
            retry_policy.retries = 0
            retry_policy.policy.read = False  # a read error is raised as it is
            retry_policy.policy.status_forcelist = None  # an error status is returned, not retried

    @staticmethod
    async def _close(client: Any) -> None:
        try:
            await client.__aexit__(None, None, None)
        except Exception:  # closing is a courtesy to the connection pool
            log.debug("could not close a connector client", exc_info=True)


class OutboxWorker(OutboxDelivery):
    """The outbox delivered to Teams; `send_timeout` is how long one request may go unanswered."""

    def __init__(
        self,
        adapter: CloudAdapter,
        sessions: async_sessionmaker[AsyncSession],
        app_id: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        send_timeout: float = 20.0,
        global_rate: float | None = None,
        max_attempts: int = 10,
        claim_lease: timedelta = timedelta(minutes=5),
        jitter: Callable[[], float] = random.random,
        on_delivered: OnDelivered | None = None,
    ) -> None:
        sender = BotConnectorSender(adapter, app_id, timeout=send_timeout)
        super().__init__(
            sessions,
            sender,
            clock=clock,
            monotonic=monotonic,
            sleep=sleep,
            pacer=Pacer.for_teams(global_rate),
            max_attempts=max_attempts,
            claim_lease=claim_lease,
            # a live worker settles its send well within this; only a dead one lets it lapse
            send_lease=timedelta(seconds=sender.deadline + 60),
            jitter=jitter,
            on_delivered=on_delivered,
        )
