"""The outbox table. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.notices import CHANNEL, COPY_PREFIX, ItemRef, NoticeKey
from bot.storage.common import dialect, insert_for, now
from bot.storage.models import (
    OutboxMessage,
)


@dataclass(frozen=True)
class CopyDelivery:
    """How updates of one card copy have gone out."""

    last_sent_at: datetime | None = None
    in_flight: bool = False  # claimed or being sent: it reaches Teams at an unknown moment soon


def _channel_first(row: Any) -> Any:
    """Posts into the forum channel go ahead of personal messages: a reminder due now does not
    wait behind a backlog of nudges."""
    return case((row.recipient == CHANNEL, 0), else_=1)


class Outbox:
    """The outbox table. Every change of a claimed entry is a compare-and-set on its claim token,
    so that a worker whose claim has lapsed (and been taken over) can change nothing."""

    # pg_advisory_xact_lock key ("Forumbot"): claims are serialised across processes on PostgreSQL
    CLAIM_LOCK = 0x466F72756D626F74

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self,
        idempotency_key: str,
        reference: dict[str, Any],
        payload: dict[str, Any],
        not_before: datetime | None = None,
        *,
        notice: NoticeKey | None = None,
    ) -> bool:
        """Queue a message; False when one with the same key was queued before. Without
        `not_before` it is due at once, whatever the clock of the process that delivers it.
        A `notice` is keyed by its item and recipient, in columns, so that it can be withdrawn."""
        keyed: dict[str, Any] = {}
        if notice is not None:
            keyed = {
                "item_type": notice.item.type,
                "item_id": notice.item.id,
                "purpose": notice.purpose,
                "recipient": notice.recipient,
                "item_version": notice.version,
            }
        statement = (
            insert_for(self.session)(OutboxMessage)
            .values(
                **keyed,
                idempotency_key=idempotency_key,
                conversation_id=str(reference.get("conversation", {}).get("id", "")),
                reference=reference,
                payload=payload,
                status="queued",
                attempts=0,
                not_before=not_before,
                created_at=now(),
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def claim(
        self,
        moment: datetime,
        token: str,
        *,
        lease_until: datetime,
        limit: int,
        per_conversation: int,
    ) -> tuple[list[OutboxMessage], list[OutboxMessage]]:
        """Settle lapsed leases, then claim due entries under `token`.

        Returns (claimed, lapsed). A lapsed claim that never began sending is queued again; a
        lapsed send is queued again when it updates an activity (the same update twice does no
        harm) and is otherwise dead with reason 'unknown': it may have reached Teams.

        An entry is claimed only when no entry of its conversation is claimed or being sent
        (one sender per conversation keeps Teams' per-conversation limits and the order), no
        earlier entry of its conversation was deferred (to retry, or by pacing) and is not due
        yet, and fewer than `per_conversation` earlier entries of its conversation are claimed
        with it (so that one busy conversation cannot fill a batch).
        """
        postgres = dialect(self.session) == "postgresql"
        if postgres:
            await self.session.execute(select(func.pg_advisory_xact_lock(self.CLAIM_LOCK)))
        # A write first: on SQLite it takes the write lock before anything is read.
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "claimed", OutboxMessage.lease_until <= moment)
            .values(status="queued", claim_token=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        lapsed_sends = select(OutboxMessage).where(
            OutboxMessage.status == "sending", OutboxMessage.lease_until <= moment
        )
        if postgres:
            lapsed_sends = lapsed_sends.with_for_update(skip_locked=True)
        lapsed = list(await self.session.scalars(lapsed_sends))
        for row in lapsed:
            row.lease_until = None
            if row.payload.get("update_activity_id"):
                row.status, row.claim_token = "queued", None
            else:
                row.status, row.dead_reason = "dead", "unknown"
                row.last_error = "the worker stopped while sending; the message may have reached Teams"
        await self.session.flush()

        entry, other, earlier = (aliased(OutboxMessage) for _ in range(3))

        def due(row: Any) -> Any:
            return or_(row.not_before.is_(None), row.not_before <= moment)

        busy = exists().where(
            other.conversation_id == entry.conversation_id,
            other.status.in_(("claimed", "sending")),
        )
        # deferred: tried before, or given back by a worker that keeps its token on it
        behind_deferred = exists().where(
            other.conversation_id == entry.conversation_id,
            other.id < entry.id,
            other.status == "queued",
            or_(other.attempts > 0, other.claim_token.is_not(None)),
            ~due(other),
        )
        ahead = (
            select(func.count())
            .where(
                earlier.conversation_id == entry.conversation_id,
                earlier.id < entry.id,
                earlier.status == "queued",
                due(earlier),
            )
            .scalar_subquery()
        )
        candidates = (
            select(entry.id)
            .where(entry.status == "queued", due(entry), ~busy, ~behind_deferred, ahead < per_conversation)
            .order_by(_channel_first(entry), entry.id)
            .limit(limit)
        )
        if postgres:
            candidates = candidates.with_for_update(skip_locked=True, of=entry)
        # Two statements, not UPDATE … WHERE id IN (SELECT … LIMIT … SKIP LOCKED): PostgreSQL may
        # run such a subquery once per row, and then it skips the rows just updated and takes more.
        ids = list(await self.session.scalars(candidates))
        if not ids:
            return [], lapsed
        claimed = await self.session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "queued")
            .values(status="claimed", claim_token=token, lease_until=lease_until)
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False)
        )
        return sorted(claimed, key=lambda row: (row.recipient != CHANNEL, row.id)), lapsed

    async def begin_send(
        self, entry_id: int, token: str, moment: datetime, lease_until: datetime
    ) -> int | None:
        """Mark a claimed entry as being sent, committed before the request goes out. Returns
        the attempt's number, or None when the claim is no longer this worker's."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == entry_id,
                OutboxMessage.claim_token == token,
                OutboxMessage.status == "claimed",
            )
            .values(
                status="sending",
                attempts=OutboxMessage.attempts + 1,
                lease_until=lease_until,
                last_attempt_at=moment,
            )
            .returning(OutboxMessage.attempts)
            .execution_options(synchronize_session=False)
        )
        attempts: int | None = result.scalar_one_or_none()
        return attempts

    def _sent_by(self, entry_id: int, token: str) -> Any:
        # A send whose lease lapsed was declared 'unknown'; its own worker may still settle it.
        return and_(
            OutboxMessage.id == entry_id,
            OutboxMessage.claim_token == token,
            or_(
                OutboxMessage.status == "sending",
                and_(OutboxMessage.status == "dead", OutboxMessage.dead_reason == "unknown"),
            ),
        )

    async def _settle(self, entry_id: int, token: str, **values: Any) -> bool:
        result = await self.session.execute(
            update(OutboxMessage)
            .where(self._sent_by(entry_id, token))
            .values(lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def mark_sent(self, entry_id: int, token: str, moment: datetime, activity_id: str | None) -> bool:
        return await self._settle(
            entry_id,
            token,
            status="sent",
            sent_at=moment,
            sent_activity_id=activity_id,
            last_error=None,
            dead_reason=None,
        )

    async def retry_at(self, entry_id: int, token: str, not_before: datetime, error: str) -> bool:
        return await self._settle(
            entry_id,
            token,
            status="queued",
            claim_token=None,
            not_before=not_before,
            last_error=error,
            dead_reason=None,
        )

    async def mark_dead(self, entry_id: int, token: str, reason: str, error: str) -> bool:
        return await self._settle(entry_id, token, status="dead", dead_reason=reason, last_error=error)

    async def release(self, entry_ids: Sequence[int], token: str, not_before: datetime | None) -> int:
        """Give claimed entries back unsent (no attempt was made), due at `not_before`. They keep
        the token: later entries of their conversation do not overtake them."""
        if not entry_ids:
            return 0
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(entry_ids),
                OutboxMessage.claim_token == token,
                OutboxMessage.status == "claimed",
            )
            .values(status="queued", lease_until=None, not_before=not_before)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def dead(self, limit: int) -> list[OutboxMessage]:
        rows = await self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "dead")
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return list(rows)

    async def requeue(self, entry_id: int) -> bool:
        """A dead entry is queued again, due at once, with a fresh count of attempts."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == entry_id, OutboxMessage.status == "dead")
            .values(
                status="queued",
                attempts=0,
                not_before=None,
                claim_token=None,
                lease_until=None,
                dead_reason=None,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def dismiss(self, entry_id: int) -> bool:
        """A dead entry is closed without sending (an admin saw it arrive, or it is moot)."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == entry_id, OutboxMessage.status == "dead")
            .values(status="dismissed")
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def withdraw(self, item: ItemRef, recipient: str | None = None) -> int:
        """Notices about `item` still waiting (for `recipient`, or for anyone) are closed unsent:
        what they carry is no longer for their reader. One already claimed goes out as it is."""
        statement = update(OutboxMessage).where(
            OutboxMessage.item_type == item.type,
            OutboxMessage.item_id == item.id,
            OutboxMessage.status == "queued",
        )
        if recipient is not None:
            statement = statement.where(OutboxMessage.recipient == recipient)
        result = await self.session.execute(
            statement.values(status="dismissed").execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def withdraw_updates(self, item: ItemRef) -> int:
        """Updates of `item`'s card copies still waiting are closed unsent: a newer state of the
        same cards is about to be queued in their place."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.item_type == item.type,
                OutboxMessage.item_id == item.id,
                OutboxMessage.purpose.like(f"{COPY_PREFIX}%"),
                OutboxMessage.status == "queued",
            )
            .values(status="dismissed")
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def copy_deliveries(self, item: ItemRef) -> dict[str, CopyDelivery]:
        """Per card copy of `item` (by its purpose, `copy:<id>`): when an update of it last
        reached Teams, and whether one is on its way now."""
        rows = await self.session.execute(
            select(OutboxMessage.purpose, OutboxMessage.status, func.max(OutboxMessage.sent_at))
            .where(
                OutboxMessage.item_type == item.type,
                OutboxMessage.item_id == item.id,
                OutboxMessage.purpose.like(f"{COPY_PREFIX}%"),
                OutboxMessage.status.in_(("claimed", "sending", "sent")),
            )
            .group_by(OutboxMessage.purpose, OutboxMessage.status)
        )
        found: dict[str, CopyDelivery] = {}
        for purpose, status, sent_at in rows:
            known = found.get(str(purpose), CopyDelivery())
            if status == "sent":
                known = CopyDelivery(sent_at, known.in_flight)
            else:
                known = CopyDelivery(known.last_sent_at, True)
            found[str(purpose)] = known
        return found

    async def depth(self) -> tuple[int, datetime | None, int]:
        """(messages queued, when the oldest of them was queued, dead letters)."""
        row = (
            await self.session.execute(
                select(
                    func.count().filter(OutboxMessage.status == "queued"),
                    func.min(OutboxMessage.created_at).filter(OutboxMessage.status == "queued"),
                    func.count().filter(OutboxMessage.status == "dead"),
                )
            )
        ).one()
        return int(row[0] or 0), row[1], int(row[2] or 0)

    async def counts(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return {status: int(count) for status, count in rows}
