"""The outbox: delivery of what the bot sends on its own initiative, and its dead letters.

Nothing here speaks Bot Framework: a `Sender` (the Teams glue's, or a test's) makes one request.

Delivery policy: each entry reaches Teams once, or ends as a dead letter that says why.

* Claim. A worker claims due entries in one transaction under a fresh claim token and a lease
  (`claim_lease`); on PostgreSQL claims are serialised with an advisory lock and rows taken with
  `FOR UPDATE SKIP LOCKED`; on SQLite the claim's first statement takes the database's write
  lock. Only one worker holds a conversation at a time, so that Teams' per-conversation limits
  and the order of its messages hold.
* Send. Right before the request the entry is moved from 'claimed' to 'sending' (its attempt
  counted, a lease of `send_lease` set) in a transaction of its own, as a compare-and-set on the
  token: a worker whose claim lapsed and was taken over cannot send. Every later change is
  fenced by the same token. A sender makes exactly one request per attempt.
* Pacing. Per conversation Teams' limits (7 sends a second, 8 in 2 s, 60 in 30 s, 1800 an
  hour) and a global rate per process. A short wait is slept; an entry that must wait longer
  goes back to the queue, due when it may be sent, and later entries of its conversation wait
  behind it.
* Outcome. Delivered: 'sent'. Refused with 412, 429, 500, 502, 503 or 504, or no answer at all
  (a timeout or connection error: the connector never acknowledged): queued again after
  exponential backoff with jitter, never sooner than Retry-After, and the conversation is held
  for that long. Refused otherwise (any other 4xx, 501, 505) or a payload that cannot be sent:
  dead at once. After `max_attempts` attempts: dead ('exhausted'). Dead letters are logged.
* A worker killed mid-delivery. Its claims lapse. An entry still 'claimed' never began sending
  and is queued again. An entry left 'sending' may have reached Teams, or Teams may have
  answered and the answer been lost with the process; it is never resent blindly: an activity
  update is queued again (the same update twice changes nothing), a new message becomes a dead
  letter with reason 'unknown' for an administrator to requeue (after checking that it did not
  arrive) or dismiss. If the old worker is alive after all and settles the entry, its outcome
  wins, since the token still matches. A worker that is stopped (`stop()`, at shutdown) lets
  its send in flight finish and gives the rest back, so that a restart leaves no 'unknown'.

Retrying after no answer is the one place a duplicate remains possible: Teams accepted the
message but its answer did not arrive within the timeout. That is the same bet Microsoft asks
bots to make on 504 (gateway timeout), and with a timeout of tens of seconds it is rare.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import telemetry
from bot.cards.outbox import DeadLetter
from bot.domain.pacing import Pacer, RetrySchedule, parse_retry_after
from bot.logs import log_context
from bot.storage.audit import Audit
from bot.storage.db import unit_of_work
from bot.storage.outbox import Outbox

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({412, 429, 500, 502, 503, 504})


class Failure(StrEnum):
    REFUSED = "refused"  # the connector answered with an error status
    NO_ANSWER = "no_answer"  # a timeout or a connection error: no answer came
    ERROR = "error"  # anything else: the payload cannot be sent, or a bug


@dataclass(frozen=True)
class SendResult:
    """The outcome of one request to Teams."""

    activity_id: str | None = None
    failure: Failure | None = None
    status: int | None = None
    retry_after: str | None = None  # the header, as sent
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.failure is None

    @property
    def retryable(self) -> bool:
        if self.failure is Failure.NO_ANSWER:
            return True
        return self.failure is Failure.REFUSED and self.status in RETRY_STATUSES


class Sender(Protocol):
    async def send(self, reference: dict[str, Any], payload: dict[str, Any]) -> SendResult:
        """Make one request (no retries of its own) and say how it went; never raises."""
        ...


@dataclass(frozen=True)
class _Claimed:
    id: int
    conversation_id: str
    reference: dict[str, Any]
    payload: dict[str, Any]


@dataclass(frozen=True)
class _Outcome:
    delivered: bool = False
    retry_at: datetime | None = None


@dataclass(frozen=True)
class Delivered:
    """An entry that reached Teams, and the id of the activity it made or updated."""

    entry_id: int
    conversation_id: str
    reference: dict[str, Any]
    payload: dict[str, Any]
    activity_id: str | None


# Runs in the transaction that marks the entry sent (e.g. to keep where a card landed).
OnDelivered = Callable[[AsyncSession, Delivered], Awaitable[None]]


class OutboxDelivery:
    """Claims due entries, paces them under Teams' limits, sends each once and records the
    outcome; see the module docstring for the policy. `clock` is wall time (stored in the
    database), `monotonic` and `sleep` drive the pacing; tests inject all three. A pause of up
    to `max_wait` seconds is slept; entries that must wait longer go back to the queue, due
    when they may be sent."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: Sender,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        pacer: Pacer | None = None,
        schedule: RetrySchedule | None = None,
        max_attempts: int = 10,
        claim_lease: timedelta = timedelta(minutes=5),
        send_lease: timedelta = timedelta(minutes=2),
        per_conversation: int = 8,
        max_wait: float = 2.0,
        jitter: Callable[[], float] = random.random,
        on_delivered: OnDelivered | None = None,
    ) -> None:
        self.sessions = sessions
        self.sender = sender
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.pacer = pacer or Pacer.for_teams()
        self.schedule = schedule or RetrySchedule()
        self.max_attempts = max_attempts
        self.claim_lease = claim_lease
        self.send_lease = send_lease
        self.per_conversation = per_conversation
        self.max_wait = max_wait
        self.jitter = jitter
        self.on_delivered = on_delivered
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def drain(self, batch: int = 50) -> int:
        """Deliver what is due now; returns how many were delivered."""
        if self._stopping:
            return 0
        self._idle.clear()
        try:
            delivered = 0
            while not self._stopping:
                token, claimed = await self._claim(batch)
                if not claimed:
                    break
                delivered += await self._deliver(token, claimed)
            return delivered
        finally:
            self._idle.set()

    async def stop(self, grace: float | None = None) -> None:
        """Let the send in flight finish, give the rest of the batch back, and wait for that, so
        that a restart leaves nothing in 'sending' (which would become an 'unknown' dead letter)."""
        self._stopping = True
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            log.warning("outbox: a send was still in flight at shutdown")

    async def _claim(self, batch: int) -> tuple[str, list[_Claimed]]:
        token = uuid.uuid4().hex
        now = self.clock()
        async with unit_of_work(self.sessions) as session:
            rows, lapsed = await Outbox(session).claim(
                now,
                token,
                lease_until=now + self.claim_lease,
                limit=batch,
                per_conversation=self.per_conversation,
            )
        for row in lapsed:
            with log_context(outbox_entry_id=row.id, conversation_id=row.conversation_id):
                if row.status == "dead":
                    telemetry.DEAD_LETTERS.add(1, {"reason": "unknown"})
                    log.error(
                        "outbox entry %s (%s): its worker stopped while sending; dead letter 'unknown', "
                        "not resent, since it may have reached Teams",
                        row.id,
                        row.idempotency_key,
                    )
                else:
                    log.warning("outbox entry %s: its worker stopped while updating; queued again", row.id)
        return token, [_Claimed(r.id, r.conversation_id, r.reference, r.payload) for r in rows]

    async def _deliver(self, token: str, claimed: list[_Claimed]) -> int:
        queues: dict[str, deque[_Claimed]] = {}
        for entry in claimed:
            queues.setdefault(entry.conversation_id, deque()).append(entry)
        delivered = 0
        while queues:
            if self._stopping:
                for rest in queues.values():
                    await self._release(token, rest, None)
                break
            now = self.monotonic()
            conversation_id, wait = min(
                ((cid, self.pacer.wait(cid, now)) for cid in queues), key=lambda pair: pair[1]
            )
            if wait > self.max_wait:
                # Teams' longer windows (60 in 30 s, 1800 an hour) or a Retry-After: rather than
                # sit on the claims, give them back due when they may go
                moment = self.clock()
                for cid, rest in queues.items():
                    later = moment + timedelta(seconds=self.pacer.wait(cid, now))
                    await self._release(token, rest, later)
                break
            if wait > 0:
                await self.sleep(max(wait, 0.001))  # never spin on float dust
                continue
            queue = queues.pop(conversation_id)
            outcome = await self._attempt(token, queue.popleft())
            delivered += outcome.delivered
            if outcome.retry_at is not None and queue:
                # the rest of the conversation waits for the retry, to keep the order
                await self._release(token, queue, outcome.retry_at)
            elif queue:
                queues[conversation_id] = queue  # at the back: conversations take turns
        return delivered

    async def _release(self, token: str, entries: deque[_Claimed], not_before: datetime | None) -> None:
        async with unit_of_work(self.sessions) as session:
            await Outbox(session).release([entry.id for entry in entries], token, not_before)

    async def _attempt(self, token: str, entry: _Claimed) -> _Outcome:
        with log_context(outbox_entry_id=entry.id, conversation_id=entry.conversation_id):
            return await self._attempt_logged(token, entry)

    async def _attempt_logged(self, token: str, entry: _Claimed) -> _Outcome:
        started = self.clock()
        async with unit_of_work(self.sessions) as session:
            attempt = await Outbox(session).begin_send(entry.id, token, started, started + self.send_lease)
        if attempt is None:
            log.warning("outbox entry %s: claim lapsed and was taken over; not sent here", entry.id)
            return _Outcome()
        self.pacer.record(entry.conversation_id, self.monotonic())
        try:
            result = await self.sender.send(entry.reference, entry.payload)
        except Exception as error:  # a sender must not leave the entry 'sending'
            result = SendResult(failure=Failure.ERROR, error=f"{type(error).__name__}: {error}"[:2000])
        return await self._settle(token, entry, attempt, result)

    async def _mark_sent(self, token: str, entry: _Claimed, result: SendResult) -> bool:
        now = self.clock()
        try:
            async with unit_of_work(self.sessions) as session:
                settled = await Outbox(session).mark_sent(entry.id, token, now, result.activity_id)
                if settled and self.on_delivered is not None:
                    delivered = Delivered(
                        entry.id, entry.conversation_id, entry.reference, entry.payload, result.activity_id
                    )
                    await self.on_delivered(session, delivered)
                return settled
        except Exception:
            if self.on_delivered is None:
                raise
            # the message is in Teams: record that much, whatever became of the rest
            log.exception("outbox entry %s: what was to be kept about its delivery is lost", entry.id)
            async with unit_of_work(self.sessions) as session:
                return await Outbox(session).mark_sent(entry.id, token, now, result.activity_id)

    async def _settle(self, token: str, entry: _Claimed, attempt: int, result: SendResult) -> _Outcome:
        if result.delivered:
            settled = await self._mark_sent(token, entry, result)
            if not settled:
                log.warning("outbox entry %s: settled by another worker meanwhile", entry.id)
            return _Outcome(delivered=True)
        now = self.clock()
        outcome = _Outcome()
        async with unit_of_work(self.sessions) as session:
            outbox = Outbox(session)
            error = _describe(result)
            reason = None
            if not result.retryable:
                reason = "refused" if result.failure is Failure.REFUSED else "error"
            elif attempt >= self.max_attempts:
                reason = "exhausted"
            if result.status == 429:
                telemetry.THROTTLED.add(1)
            if reason:
                settled = await outbox.mark_dead(entry.id, token, reason, error)
                telemetry.DEAD_LETTERS.add(1, {"reason": reason})
                log.error(
                    "outbox entry %s dead (%s) after %s attempt(s): %s", entry.id, reason, attempt, error
                )
            else:
                retry_after = parse_retry_after(result.retry_after, now)
                delay = self.schedule.delay(attempt, retry_after, self.jitter())
                retry_at = now + timedelta(seconds=delay)
                outcome = _Outcome(retry_at=retry_at)
                settled = await outbox.retry_at(entry.id, token, retry_at, error)
                if retry_after:
                    held = min(retry_after, self.schedule.max_retry_after)
                    self.pacer.hold(entry.conversation_id, self.monotonic() + held)
                log.warning(
                    "outbox entry %s: attempt %s failed (%s), retry in %.1f s",
                    entry.id,
                    attempt,
                    error,
                    delay,
                )
        if not settled:
            log.warning(
                "outbox entry %s: settled by another worker meanwhile; outcome not recorded", entry.id
            )
        return outcome


def _describe(result: SendResult) -> str:
    status = f"HTTP {result.status}: " if result.status else ""
    return f"{result.failure}: {status}{result.error or ''}"[:2000]


def _preview(payload: dict[str, Any]) -> str:
    track = payload.get("track")
    if isinstance(track, dict) or payload.get("update_activity_id"):
        return ""  # a card about a stored item may be narrower than what this admin may see
    if payload.get("text"):
        return str(payload["text"])[:120]
    stack: list[Any] = [payload.get("card")]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            if node.get("type") == "TextBlock" and isinstance(node.get("text"), str):
                return node["text"][:120]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return ""


def _dead_letter(row: Any) -> DeadLetter:
    return DeadLetter(
        id=row.id,
        idempotency_key=row.idempotency_key,
        conversation_id=row.conversation_id,
        reason=row.dead_reason or "unrecorded",
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        last_attempt_at=row.last_attempt_at,
        preview=_preview(row.payload),
    )


class OutboxService:
    """The outbox for administrators, inside the caller's unit of work (`session`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.outbox = Outbox(session)
        self.audit = Audit(session)

    async def dead_letters(self, limit: int = 50) -> list[DeadLetter]:
        """Dead entries, oldest first."""
        return [_dead_letter(row) for row in await self.outbox.dead(limit)]

    async def requeue(
        self, entry_id: int, *, actor_id: int | None = None, actor_aad_id: str | None = None
    ) -> bool:
        """Queue a dead entry again, due at once with a fresh count of attempts; False when there
        is no dead entry with that id. An 'unknown' one may already be in Teams: requeueing it
        may show it twice, so check first (or dismiss it)."""
        done = await self.outbox.requeue(entry_id)
        if done:
            await self.audit.record(
                "requeued", "outbox", entry_id, actor_id=actor_id, actor_aad_id=actor_aad_id
            )
        return done

    async def dismiss(
        self, entry_id: int, *, actor_id: int | None = None, actor_aad_id: str | None = None
    ) -> bool:
        """Close a dead entry without sending it; False when there is no dead entry with that id."""
        done = await self.outbox.dismiss(entry_id)
        if done:
            await self.audit.record(
                "dismissed", "outbox", entry_id, actor_id=actor_id, actor_aad_id=actor_aad_id
            )
        return done

    async def counts(self) -> dict[str, int]:
        """How many entries are in each state (queued, claimed, sending, sent, dead, dismissed)."""
        return await self.outbox.counts()


async def sample_depth(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The outbox's depth, its oldest message's age and its dead letters, for telemetry. Ages are
    by the wall clock, as the entries' creation times are."""
    async with sessions() as session:
        queued, oldest, dead = await Outbox(session).depth()
    moment = datetime.now(UTC)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    telemetry.latest.queued = queued
    telemetry.latest.dead = dead
    telemetry.latest.oldest_age_seconds = max(0.0, (moment - oldest).total_seconds()) if oldest else 0.0
    telemetry.latest.at = moment
