"""Cards posted about stored items, so that every copy can be updated in place. Never commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.common import insert_for, now
from bot.storage.models import CardCopy


class CardCopies:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        item_type: str,
        item_id: int,
        conversation_id: str,
        activity_id: str,
        reference: dict[str, Any],
        viewer_id: int | None,
        language: str,
    ) -> None:
        """Keep a copy; a card sent in place of an earlier one (a form that became the proposal)
        takes over that message's row, also when two turns race for it."""
        values = {
            "item_type": item_type,
            "item_id": item_id,
            "reference": reference,
            "viewer_id": viewer_id,
            "language": language,
        }
        statement = (
            insert_for(self.session)(CardCopy)
            .values(conversation_id=conversation_id, activity_id=activity_id, created_at=now(), **values)
            .on_conflict_do_update(index_elements=["conversation_id", "activity_id"], set_=values)
        )
        await self.session.execute(statement)

    async def at(self, conversation_id: str, activity_id: str) -> CardCopy | None:
        """The tracked card at that message, if the bot posted one there."""
        row: CardCopy | None = await self.session.scalar(
            select(CardCopy).where(
                CardCopy.conversation_id == conversation_id, CardCopy.activity_id == activity_id
            )
        )
        return row

    async def add_tracked(
        self, track: dict[str, Any], conversation_id: str, activity_id: str, reference: dict[str, Any]
    ) -> None:
        """Keep a copy described by the `track` a card was sent with (see ProposalService.track)."""
        await self.add(
            str(track["item_type"]),
            int(track["item_id"]),
            conversation_id,
            activity_id,
            reference,
            track.get("viewer_id"),
            str(track.get("language") or "sv"),
        )

    async def of(self, item_type: str, item_id: int) -> list[CardCopy]:
        rows = await self.session.scalars(
            select(CardCopy)
            .where(CardCopy.item_type == item_type, CardCopy.item_id == item_id)
            .order_by(CardCopy.id)
        )
        return list(rows)
