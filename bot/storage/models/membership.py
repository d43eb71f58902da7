"""The forum's agencies, its members and the forum channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.models.base import Base, BigId


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
