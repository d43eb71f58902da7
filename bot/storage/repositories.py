"""Repositories: reads and writes inside the caller's transaction. They never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.members import (
    AgencyView,
    MemberStatus,
    MemberView,
    Role,
    format_roles,
    parse_roles,
)
from bot.storage.models import (
    Agency,
    AuditEntry,
    BotStateRow,
    ChannelLink,
    Member,
    OutboxMessage,
    ProcessedActivity,
)


def now() -> datetime:
    return datetime.now(UTC)


def dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _insert(session: AsyncSession) -> Any:
    return pg_insert if dialect(session) == "postgresql" else sqlite_insert


def agency_view(row: Agency) -> AgencyView:
    return AgencyView(row.id, row.code, row.name_sv, row.name_en)


def member_view(row: Member) -> MemberView:
    return MemberView(
        id=row.id,
        aad_object_id=row.aad_object_id,
        teams_user_id=row.teams_user_id,
        name=row.name,
        email=row.email,
        agency=agency_view(row.agency),
        status=MemberStatus(row.status),
        roles=parse_roles(row.roles),
    )


class Agencies:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self) -> list[AgencyView]:
        rows = await self.session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.id))
        return [agency_view(row) for row in rows]

    async def by_code(self, code: str) -> AgencyView | None:
        row = await self.session.scalar(
            select(Agency).where(func.lower(Agency.code) == code.lower(), Agency.active.is_(True))
        )
        return agency_view(row) if row else None

    async def seed(self, entries: list[dict[str, str]]) -> int:
        """Insert or rename the agencies listed; agencies no longer listed are deactivated."""
        existing = {row.code: row for row in await self.session.scalars(select(Agency))}
        listed = set()
        for entry in entries:
            code = entry["code"]
            listed.add(code)
            row = existing.get(code)
            if row is None:
                self.session.add(Agency(code=code, name_sv=entry["sv"], name_en=entry["en"]))
            else:
                row.name_sv, row.name_en, row.active = entry["sv"], entry["en"], True
        for code, row in existing.items():
            if code not in listed:
                row.active = False
        await self.session.flush()
        return len(entries)


class Members:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_aad_id(self, aad_object_id: str) -> MemberView | None:
        row = await self.session.scalar(select(Member).where(Member.aad_object_id == aad_object_id))
        return member_view(row) if row else None

    async def by_id(self, member_id: int) -> MemberView | None:
        row = await self.session.get(Member, member_id)
        return member_view(row) if row else None

    async def add(
        self,
        *,
        aad_object_id: str,
        teams_user_id: str,
        name: str,
        email: str | None,
        agency_id: int,
        status: MemberStatus,
        roles: frozenset[Role],
        locale: str | None,
        personal_conversation: dict[str, Any] | None,
    ) -> MemberView:
        row = Member(
            aad_object_id=aad_object_id,
            teams_user_id=teams_user_id,
            name=name,
            email=email,
            agency_id=agency_id,
            status=status.value,
            roles=format_roles(roles),
            locale=locale,
            personal_conversation=personal_conversation,
            created_at=now(),
        )
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row, ["agency"])
        return member_view(row)

    async def reapply(self, member_id: int, agency_id: int, name: str, email: str | None) -> MemberView:
        row = await self.session.get_one(Member, member_id)
        row.agency_id, row.name, row.email = agency_id, name, email
        row.status, row.decided_at, row.decided_by = MemberStatus.PENDING.value, None, None
        await self.session.flush()
        await self.session.refresh(row, ["agency"])
        return member_view(row)

    async def decide(
        self, member_id: int, status: MemberStatus, roles: frozenset[Role], decided_by: int | None
    ) -> MemberView:
        row = await self.session.get_one(Member, member_id)
        row.status, row.roles = status.value, format_roles(roles)
        row.decided_at, row.decided_by = now(), decided_by
        await self.session.flush()
        return member_view(row)

    async def remember_conversation(
        self, member_id: int, reference: dict[str, Any], locale: str | None
    ) -> None:
        await self.session.execute(
            update(Member)
            .where(Member.id == member_id)
            .values(personal_conversation=reference, locale=locale)
        )

    async def personal_conversation(self, member_id: int) -> dict[str, Any] | None:
        return await self.session.scalar(select(Member.personal_conversation).where(Member.id == member_id))

    async def locale(self, member_id: int) -> str | None:
        return await self.session.scalar(select(Member.locale).where(Member.id == member_id))

    async def pending(self) -> list[MemberView]:
        rows = await self.session.scalars(
            select(Member).where(Member.status == MemberStatus.PENDING.value).order_by(Member.id)
        )
        return [member_view(row) for row in rows]

    async def approved_with_role(self, role: Role) -> list[MemberView]:
        rows = await self.session.scalars(
            select(Member).where(Member.status == MemberStatus.APPROVED.value).order_by(Member.id)
        )
        return [view for view in map(member_view, rows) if role in view.roles]

    async def with_aad_ids(self, aad_ids: Sequence[str]) -> list[MemberView]:
        if not aad_ids:
            return []
        rows = await self.session.scalars(select(Member).where(Member.aad_object_id.in_(aad_ids)))
        return [member_view(row) for row in rows]


class Channels:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, purpose: str) -> ChannelLink | None:
        return await self.session.scalar(select(ChannelLink).where(ChannelLink.purpose == purpose))

    async def link(
        self,
        purpose: str,
        *,
        conversation_id: str,
        team_id: str | None,
        tenant_id: str | None,
        service_url: str,
        reference: dict[str, Any],
        linked_by: int,
    ) -> ChannelLink:
        row = await self.get(purpose)
        if row is None:
            row = ChannelLink(purpose=purpose)
            self.session.add(row)
        row.conversation_id, row.team_id, row.tenant_id = conversation_id, team_id, tenant_id
        row.service_url, row.reference = service_url, reference
        row.linked_by, row.linked_at = linked_by, now()
        await self.session.flush()
        return row


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


class ProcessedActivities:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, conversation_id: str, activity_id: str) -> bool:
        found = await self.session.get(ProcessedActivity, (conversation_id, activity_id))
        return found is not None

    async def mark(self, conversation_id: str, activity_id: str) -> None:
        """Insert the marker; a concurrent duplicate makes the commit fail with IntegrityError."""
        self.session.add(
            ProcessedActivity(conversation_id=conversation_id, activity_id=activity_id, received_at=now())
        )
        await self.session.flush()

    async def forget_before(self, moment: datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedActivity).where(ProcessedActivity.received_at < moment)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class Outbox:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self,
        idempotency_key: str,
        reference: dict[str, Any],
        payload: dict[str, Any],
        not_before: datetime | None = None,
    ) -> bool:
        """Queue a message; False when one with the same key was queued before."""
        moment = now()
        statement = (
            _insert(self.session)(OutboxMessage)
            .values(
                idempotency_key=idempotency_key,
                conversation_id=str(reference.get("conversation", {}).get("id", "")),
                reference=reference,
                payload=payload,
                status="queued",
                attempts=0,
                not_before=not_before or moment,
                created_at=moment,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))


class BotStates:
    """Rows behind the Teams glue's state storage."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def read(self, keys: Sequence[str]) -> dict[str, tuple[dict[str, Any], str]]:
        if not keys:
            return {}
        rows = await self.session.scalars(select(BotStateRow).where(BotStateRow.key.in_(keys)))
        return {row.key: (row.data, row.etag) for row in rows}

    async def write(self, key: str, data: dict[str, Any], expected_etag: str | None) -> str:
        """Write `data`; `expected_etag` None or '*' overwrites. Raises StaleState on a mismatch."""
        new_etag = uuid.uuid4().hex
        if expected_etag in (None, "*"):
            statement = _insert(self.session)(BotStateRow).values(
                key=key, data=data, etag=new_etag, updated_at=now()
            )
            statement = statement.on_conflict_do_update(
                index_elements=["key"],
                set_={"data": data, "etag": new_etag, "updated_at": now()},
            )
            await self.session.execute(statement)
            return new_etag
        result = await self.session.execute(
            update(BotStateRow)
            .where(BotStateRow.key == key, BotStateRow.etag == expected_etag)
            .values(data=data, etag=new_etag, updated_at=now())
        )
        if not getattr(result, "rowcount", 0):
            raise StaleState(key)
        return new_etag

    async def delete(self, keys: Sequence[str]) -> None:
        if keys:
            await self.session.execute(delete(BotStateRow).where(BotStateRow.key.in_(keys)))


class StaleState(Exception):
    """Someone else wrote this state since it was read."""
