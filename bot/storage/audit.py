"""The audit log. Never commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.common import now
from bot.storage.models import (
    AuditEntry,
)


class Audit:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        action: str,
        item_type: str,
        item_id: str | int,
        *,
        actor_id: int | None = None,
        actor_aad_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            AuditEntry(
                at=now(),
                actor_id=actor_id,
                actor_aad_id=actor_aad_id,
                action=action,
                item_type=item_type,
                item_id=str(item_id),
                details=details,
            )
        )
        await self.session.flush()

    async def for_item(self, item_type: str, item_id: str | int) -> list[AuditEntry]:
        rows = await self.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.item_type == item_type, AuditEntry.item_id == str(item_id))
            .order_by(AuditEntry.id)
        )
        return list(rows)
