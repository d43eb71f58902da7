"""The schedule table. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.notices import ItemRef
from bot.storage.common import dialect, insert_for, now
from bot.storage.models import ScheduledTask

PENDING, DONE, CANCELLED = "pending", "done", "cancelled"


@dataclass(frozen=True)
class TaskView:
    id: int
    kind: str
    item: ItemRef
    due_at: datetime
    status: str
    outcome: str | None


def _view(row: ScheduledTask) -> TaskView:
    item = ItemRef(row.item_type, row.item_id)
    return TaskView(row.id, row.kind, item, row.due_at, row.status, row.outcome)


class Schedule:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def plan(self, kind: str, item: ItemRef, due_at: datetime, *, keep_done: bool = False) -> None:
        """Due at `due_at`; a task already planned moves to the new time and is pending again,
        unless it was done for this very time, or was done at all and `keep_done` says that
        doing it once is enough."""
        values = {"due_at": due_at, "status": PENDING, "outcome": None, "done_at": None, "last_error": None}
        statement = insert_for(self.session)(ScheduledTask).values(
            kind=kind, item_type=item.type, item_id=item.id, created_at=now(), **values
        )
        row = await self.session.scalar(
            select(ScheduledTask).where(
                ScheduledTask.kind == kind,
                ScheduledTask.item_type == item.type,
                ScheduledTask.item_id == item.id,
            )
        )
        if row is not None and row.status == DONE and (keep_done or row.due_at == due_at):
            return
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["kind", "item_type", "item_id"], set_=values)
        )

    async def cancel(self, item: ItemRef, kinds: Sequence[str] | None = None) -> int:
        """Pending tasks of `item` (of `kinds`, or all) will not run."""
        statement = update(ScheduledTask).where(
            ScheduledTask.item_type == item.type,
            ScheduledTask.item_id == item.id,
            ScheduledTask.status == PENDING,
        )
        if kinds is not None:
            statement = statement.where(ScheduledTask.kind.in_(list(kinds)))
        result = await self.session.execute(
            statement.values(status=CANCELLED, done_at=now()).execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def take_due(self, moment: datetime, limit: int) -> list[ScheduledTask]:
        """Due pending tasks, earliest first, locked until this transaction ends; on PostgreSQL
        those another process holds are skipped, so that each task is taken once."""
        statement = (
            select(ScheduledTask)
            .where(ScheduledTask.status == PENDING, ScheduledTask.due_at <= moment)
            .order_by(ScheduledTask.due_at, ScheduledTask.id)
            .limit(limit)
        )
        if dialect(self.session) == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        return list(await self.session.scalars(statement))

    @staticmethod
    def finish(row: ScheduledTask, outcome: str, moment: datetime) -> None:
        row.status, row.outcome, row.done_at = DONE, outcome, moment

    async def pending_kinds(self) -> set[str]:
        rows = await self.session.scalars(
            select(ScheduledTask.kind).where(ScheduledTask.status == PENDING).distinct()
        )
        return set(rows)

    async def of(self, item: ItemRef) -> list[TaskView]:
        rows = await self.session.scalars(
            select(ScheduledTask)
            .where(ScheduledTask.item_type == item.type, ScheduledTask.item_id == item.id)
            .order_by(ScheduledTask.due_at)
        )
        return [_view(r) for r in rows]

    @staticmethod
    def view(row: ScheduledTask) -> TaskView:
        return _view(row)
