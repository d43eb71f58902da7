"""Repository of open forms: a form card is submitted at most once, or cancelled. Never commits."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.common import now
from bot.storage.models import Form

OPEN, USED, CANCELLED, REPLACED = "open", "used", "cancelled", "replaced"


@dataclass(frozen=True)
class FormView:
    id: int
    token: str
    kind: str
    owner_aad_id: str | None
    item_id: int | None
    status: str
    result_id: int | None


def _view(row: Form) -> FormView:
    return FormView(row.id, row.token, row.kind, row.owner_aad_id, row.item_id, row.status, row.result_id)


class Forms:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def mint(self, kind: str, owner_aad_id: str | None, item_id: int | None = None) -> FormView:
        row = Form(
            token=secrets.token_urlsafe(24),
            kind=kind,
            owner_aad_id=owner_aad_id,
            item_id=item_id,
            status=OPEN,
            created_at=now(),
        )
        self.session.add(row)
        await self.session.flush()
        return _view(row)

    async def by_token(self, token: str) -> FormView | None:
        row = await self.session.scalar(select(Form).where(Form.token == token))
        return _view(row) if row else None

    async def close(self, form_id: int, status: str, result_id: int | None = None) -> bool:
        """Open → `status`; False when it was no longer open (a concurrent submit or cancel won)."""
        result = await self.session.execute(
            update(Form)
            .where(Form.id == form_id, Form.status == OPEN)
            .values(status=status, result_id=result_id, closed_at=now())
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def set_result(self, form_id: int, result_id: int) -> None:
        await self.session.execute(
            update(Form)
            .where(Form.id == form_id)
            .values(result_id=result_id)
            .execution_options(synchronize_session=False)
        )

    async def open_of(self, owner_aad_id: str) -> list[FormView]:
        rows = await self.session.scalars(
            select(Form).where(Form.owner_aad_id == owner_aad_id, Form.status == OPEN).order_by(Form.id)
        )
        return [_view(r) for r in rows]
