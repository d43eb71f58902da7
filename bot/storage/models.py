"""Database tables. Repositories read and write these; nothing above storage imports them directly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# BigInteger ids that are still INTEGER PRIMARY KEY (autoincrement) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in UTC on every database: SQLite hands back naive ones otherwise."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime stored")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: UtcDateTime(),
    }


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_sv: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    aad_object_id: Mapped[str] = mapped_column(String(64), unique=True)
    teams_user_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    # pending | approved | rejected | removed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # comma-separated subset of inspector, coordinator, admin
    roles: Mapped[str] = mapped_column(String(100), default="inspector")
    locale: Mapped[str | None] = mapped_column(String(20))
    # chosen with `språk`/`language`; wins over the Teams locale
    language: Mapped[str | None] = mapped_column(String(5))
    personal_conversation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))

    agency: Mapped[Agency] = relationship(lazy="joined", foreign_keys=[agency_id])


class ChannelLink(Base):
    """A Teams channel the bot posts into on its own initiative; purpose 'forum' is the forum's."""

    __tablename__ = "channel_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(400))
    team_id: Mapped[str | None] = mapped_column(String(400))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    service_url: Mapped[str] = mapped_column(String(400))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    linked_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    linked_at: Mapped[datetime]


class AuditEntry(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    actor_aad_id: Mapped[str | None] = mapped_column(String(64))
    # created | changed | widened | opened | approved | rejected | linked ...
    action: Mapped[str] = mapped_column(String(32))
    item_type: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_item", "item_type", "item_id"),)


class ProcessedActivity(Base):
    """Inbound activity ids already handled, so that a redelivery has its effects once."""

    __tablename__ = "processed_activities"

    conversation_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime]


class BotStateRow(Base):
    """Conversation and user state of the Teams glue, with an eTag for optimistic concurrency."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    etag: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


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

    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_conversation", "conversation_id", "status"),
    )


class Proposal(Base):
    """A proposed action: a business the forum may want to inspect, and why."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int]
    sequence: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    author_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    business_name: Mapped[str] = mapped_column(String(200))
    org_number: Mapped[str | None] = mapped_column(String(13))
    # a sole trader's organisation number is a personal identity number
    org_is_personal: Mapped[bool] = mapped_column(default=False)
    address: Mapped[str] = mapped_column(String(300))
    industry: Mapped[str] = mapped_column(String(50))
    industry_other: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    agency_ids: Mapped[list[int]] = mapped_column(JSON)
    urgency: Mapped[str] = mapped_column(String(10))
    visibility: Mapped[str] = mapped_column(String(10))
    shared_agency_ids: Mapped[list[int]] = mapped_column(JSON)
    period_from: Mapped[date | None] = mapped_column(Date)
    period_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    status_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # the form card it was submitted from: one form gives at most one proposal
    form_token: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("year", "sequence", name="uq_proposal_year_sequence"),
        UniqueConstraint("form_token", name="uq_proposal_form_token"),
        Index("ix_proposals_status", "status"),
    )


class ProposalEvent(Base):
    """A proposal's history: creation, each edit and each transition."""

    __tablename__ = "proposal_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    # created | edited | widened | transition name (accept, reject, ...)
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CardCopy(Base):
    """A card about an item that the bot posted somewhere, so that it can be updated in place."""

    __tablename__ = "card_copies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_type: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int] = mapped_column(BigId)
    conversation_id: Mapped[str] = mapped_column(String(400))
    activity_id: Mapped[str] = mapped_column(String(200))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    # the member the copy was shown to; None for the forum channel
    viewer_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    language: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("conversation_id", "activity_id", name="uq_card_copy_activity"),
        Index("ix_card_copies_item", "item_type", "item_id"),
    )


class Form(Base):
    """A form card handed to someone: submitted once, or cancelled, and then out of date."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    # proposal.new | proposal.edit | ...
    kind: Mapped[str] = mapped_column(String(32))
    owner_aad_id: Mapped[str | None] = mapped_column(String(64))
    # the item an edit form is about
    item_id: Mapped[int | None] = mapped_column(BigId)
    # open | used | cancelled
    status: Mapped[str] = mapped_column(String(16), default="open")
    # what submitting it made (a proposal's id)
    result_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("token", name="uq_form_token"),
        Index("ix_forms_owner", "owner_aad_id", "status"),
    )
