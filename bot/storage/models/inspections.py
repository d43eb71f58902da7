"""Joint inspections, each participating agency's part, and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, BigId


class Inspection(Base):
    """A joint inspection (samordnad tillsyn) of one business, booked by a coordinator, from an
    accepted proposal (`proposal_id`) or from scratch.

    `version` counts what changed on it (for its cards); `ics_sequence` what its participants'
    calendars must see again (a new time or place, a cancellation), as the invitation's SEQUENCE.
    """

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int]
    sequence: Mapped[int]
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    booked_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    booker_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    business_name: Mapped[str] = mapped_column(String(200))
    org_number: Mapped[str | None] = mapped_column(String(13))
    org_is_personal: Mapped[bool] = mapped_column(default=False)
    address: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    meeting_point: Mapped[str] = mapped_column(String(200), default="")
    lead_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    agency_ids: Mapped[list[int]] = mapped_column(JSON)
    visibility: Mapped[str] = mapped_column(String(10))
    shared_agency_ids: Mapped[list[int]] = mapped_column(JSON)
    # booked | confirmed | cancelled (bot.domain.inspections.Status)
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(default=1)
    ics_sequence: Mapped[int] = mapped_column(default=0)
    # the conflicts the coordinator was warned of and booked anyway, as they were shown
    overridden: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    form_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # why a coordinator closed it before every agency had recorded its outcome
    closed_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("year", "sequence", name="uq_inspection_year_sequence"),
        UniqueConstraint("form_token", name="uq_inspection_form_token"),
        Index("ix_inspections_starts_at", "starts_at"),
        Index("ix_inspections_org_number", "org_number"),
    )


class InspectionPart(Base):
    """One participating agency's part: its note, and its answer (who comes, why not, or another
    time it proposes)."""

    __tablename__ = "inspection_parts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # asked | confirmed | declined | other_time (bot.domain.inspections.PartState)
    state: Mapped[str] = mapped_column(String(16))
    who: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    proposed_start: Mapped[datetime | None]
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    answered_at: Mapped[datetime | None]
    # the agency's own outcome, after the inspection: done | not_done, what it found and did
    outcome: Mapped[str | None] = mapped_column(String(16))
    findings: Mapped[list[str] | None] = mapped_column(JSON)
    measures: Mapped[list[str] | None] = mapped_column(JSON)
    outcome_note: Mapped[str | None] = mapped_column(Text)
    # shown to the other participating agencies; else to the agency's own members only
    outcome_shared: Mapped[bool] = mapped_column(default=False, server_default=false())
    outcome_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    outcome_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("inspection_id", "agency_id", name="uq_inspection_part"),)


class InspectionEvent(Base):
    """An inspection's history: booked, each answer, each change."""

    __tablename__ = "inspection_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # booked | booked_despite_conflicts | confirmed | declined | other_time | ...
    kind: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
