"""Meeting series, their meetings (one row per occurrence, stored some weeks ahead), and what
changed on them."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, BigId


class MeetingSeries(Base):
    """Operational meetings on a recurrence (an RFC 5545 RRULE), at a wall-clock time in the
    forum's zone."""

    __tablename__ = "meeting_series"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    rrule: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    place: Mapped[str | None] = mapped_column(String(200))
    teams_link: Mapped[str | None] = mapped_column(String(1000))
    # ReminderPlan as bot.domain.meetings.plan_to_json writes it
    reminder_plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    # the coordinator's choice per holiday of the rule: {"2026-12-24": "skip" | "move"}
    holiday_choices: Mapped[dict[str, Any]] = mapped_column(JSON)
    # meetings are stored up to here (the local day); a daily job moves it on
    stored_until: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    # the creator's agency: the series is forum-wide, in its name
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    form_token: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("form_token", name="uq_meeting_series_form_token"),)


class Meeting(Base):
    """One meeting: an occurrence of a series (`day` is the day the rule gives it, kept when it
    moves), or an extra meeting without a series."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_series.id"))
    day: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # scheduled | cancelled | moved (bot.domain.meetings.MeetingStatus)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    # an extra meeting's own; a series' meetings take the series'
    title: Mapped[str | None] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(200))
    teams_link: Mapped[str | None] = mapped_column(String(1000))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("series_id", "day", name="uq_meeting_series_day"),
        Index("ix_meetings_starts_at", "starts_at"),
    )


class MeetingEvent(Base):
    """A meeting's or a series' history: created, moved, cancelled, ended, with what changed."""

    __tablename__ = "meeting_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_series.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class StatusReport(Base):
    """One agency's status report (lägesbild) for one meeting: a draft until it is submitted, and
    then shared with whom the agency chose."""

    __tablename__ = "status_reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    # draft | submitted (bot.domain.reports.ReportStatus)
    status: Mapped[str] = mapped_column(String(16))
    visibility: Mapped[str] = mapped_column(String(10))
    shared_agency_ids: Mapped[list[int]] = mapped_column(JSON)
    seen: Mapped[str | None] = mapped_column(Text)  # what the agency sees now
    planned: Mapped[str | None] = mapped_column(Text)  # its own planned inspections
    needs: Mapped[str | None] = mapped_column(Text)  # what it needs from the others
    version: Mapped[int] = mapped_column(default=1)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"))  # who saved it last
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("meeting_id", "agency_id", name="uq_status_report_meeting_agency"),)


class StatusReportEvent(Base):
    """A status report's history: each save, with the names of the fields it changed (never their
    wording, which may be what only the agency may know)."""

    __tablename__ = "status_report_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("status_reports.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    # drafted | submitted | updated
    kind: Mapped[str] = mapped_column(String(32))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
