"""The schedule: what the bot must do at a given time, one row per (kind, item)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, BigId


class ScheduledTask(Base):
    """A task due at `due_at`, e.g. a meeting's agenda reminder. The schedule lives here, not in
    APScheduler's job store: every process runs one short job that claims due rows, so that N
    processes on one database do each task exactly once.

    pending → done (outcome on_time | late | missed | skipped), or cancelled before it was due.
    """

    __tablename__ = "schedule"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))
    item_type: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int] = mapped_column(BigId)
    due_at: Mapped[datetime]
    # pending | done | cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending")
    outcome: Mapped[str | None] = mapped_column(String(16))
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("kind", "item_type", "item_id", name="uq_schedule_task"),
        Index("ix_schedule_due", "status", "due_at"),
    )
