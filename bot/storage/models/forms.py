"""Form cards handed out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, BigId


class Form(Base):
    """A form card handed to someone: submitted once, cancelled, or replaced by a newer one of
    the same kind for the same item, and then out of date."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    # proposal.new | proposal.edit | ...
    kind: Mapped[str] = mapped_column(String(32))
    owner_aad_id: Mapped[str | None] = mapped_column(String(64))
    # the item an edit form is about
    item_id: Mapped[int | None] = mapped_column(BigId)
    # open | used | cancelled | replaced
    status: Mapped[str] = mapped_column(String(16), default="open")
    # what submitting it made (a proposal's id)
    result_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("token", name="uq_form_token"),
        Index("ix_forms_owner", "owner_aad_id", "status"),
    )
