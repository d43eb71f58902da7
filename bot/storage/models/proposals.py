"""Proposed actions and their history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, BigId


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
    # the meeting whose agenda it was put on when accepted
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))

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
