"""Cards posted about stored items, to update them in place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, BigId


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
