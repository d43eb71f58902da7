"""Bot Framework turn state and the activities already handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base


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
