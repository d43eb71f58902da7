"""What the bot sends on its own initiative."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, BigId


class OutboxMessage(Base):
    """A message the bot sends on its own initiative, stored with the change that caused it.

    queued → claimed (held by one worker's `claim_token` until `lease_until`) → sending (the
    request may be on its way) → sent, or queued again for a retry at `not_before`, or dead;
    an administrator requeues or dismisses a dead one. See bot.services.outbox for the policy.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[str] = mapped_column(String(400))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    # {"text": ...} or {"card": {...}}; optional "update_activity_id"
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # queued | claimed | sending | sent | dead | dismissed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # requests begun; an entry claimed but never sent has made no attempt
    attempts: Mapped[int] = mapped_column(default=0)
    # None: as soon as possible (not tied to any process's clock)
    not_before: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # the claim it is (or, once deferred, was last) held under
    claim_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    sent_activity_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    # why a dead entry is dead: refused | error | exhausted | unknown
    dead_reason: Mapped[str | None] = mapped_column(String(16))
    # what the notice is about and for whom (bot.domain.notices.NoticeKey); empty for plain messages
    item_type: Mapped[str | None] = mapped_column(String(32))
    item_id: Mapped[int | None] = mapped_column(BigId)
    purpose: Mapped[str | None] = mapped_column(String(32))
    recipient: Mapped[str | None] = mapped_column(String(64))
    item_version: Mapped[int | None]

    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_conversation", "conversation_id", "status"),
        Index("ix_outbox_item_recipient", "item_type", "item_id", "recipient", "status"),
    )
