"""Repositories of agencies, members and the forum channel. Never commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.members import (
    AgencyView,
    MemberStatus,
    MemberView,
    Role,
    format_roles,
    parse_roles,
)
from bot.i18n import effective_language
from bot.storage.common import now
from bot.storage.models import (
    Agency,
    ChannelLink,
    Member,
)


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
        language=row.language,
    )


class Agencies:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self) -> list[AgencyView]:
        rows = await self.session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.id))
        return [agency_view(row) for row in rows]

    async def every(self) -> list[AgencyView]:
        """Every agency, those no longer active too (their past counts)."""
        rows = await self.session.scalars(select(Agency).order_by(Agency.id))
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
        language: str | None = None,
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
            language=language,
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
        """Keep the member's personal chat and locale; written only when they changed, so that an
        ordinary turn reads rather than writes the member's row."""
        current = (
            await self.session.execute(
                select(Member.personal_conversation, Member.locale).where(Member.id == member_id)
            )
        ).one_or_none()
        if current is not None and current.personal_conversation == reference and current.locale == locale:
            return
        await self.session.execute(
            update(Member)
            .where(Member.id == member_id)
            .values(personal_conversation=reference, locale=locale)
        )

    async def personal_conversation(self, member_id: int) -> dict[str, Any] | None:
        return await self.session.scalar(select(Member.personal_conversation).where(Member.id == member_id))

    async def locale(self, member_id: int) -> str | None:
        return await self.session.scalar(select(Member.locale).where(Member.id == member_id))

    async def language(self, member_id: int, default: str = "sv") -> str:
        """The language to address the member in: the one they chose, else their Teams locale's."""
        row = (
            await self.session.execute(select(Member.language, Member.locale).where(Member.id == member_id))
        ).one_or_none()
        return effective_language(row.language, row.locale, default) if row else default

    async def choose_language(self, member_id: int, language: str | None) -> MemberView:
        """Keep the member's language (None: follow the Teams locale again)."""
        row = await self.session.get_one(Member, member_id)
        row.language = language
        await self.session.flush()
        return member_view(row)

    async def pending(self) -> list[MemberView]:
        rows = await self.session.scalars(
            select(Member).where(Member.status == MemberStatus.PENDING.value).order_by(Member.id)
        )
        return [member_view(row) for row in rows]

    async def approved(self) -> list[MemberView]:
        rows = await self.session.scalars(
            select(Member).where(Member.status == MemberStatus.APPROVED.value).order_by(Member.id)
        )
        return [member_view(row) for row in rows]

    async def count_approved(self, agency_id: int | None = None) -> int:
        """Approved members, of one agency or of all."""
        statement = (
            select(func.count()).select_from(Member).where(Member.status == MemberStatus.APPROVED.value)
        )
        if agency_id is not None:
            statement = statement.where(Member.agency_id == agency_id)
        return int(await self.session.scalar(statement) or 0)

    async def approved_of(self, agency_id: int) -> list[MemberView]:
        rows = await self.session.scalars(
            select(Member)
            .where(Member.status == MemberStatus.APPROVED.value, Member.agency_id == agency_id)
            .order_by(Member.id)
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
