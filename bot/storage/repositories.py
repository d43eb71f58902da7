"""Repositories: reads and writes inside the caller's transaction. They never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.members import (
    AgencyView,
    MemberStatus,
    MemberView,
    Role,
    format_roles,
    parse_roles,
)
from bot.i18n import effective_language
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
        language=row.language,
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
    """The outbox table. Every change of a claimed entry is a compare-and-set on its claim token,
    so that a worker whose claim has lapsed (and been taken over) can change nothing."""

    # pg_advisory_xact_lock key ("Forumbot"): claims are serialised across processes on PostgreSQL
    CLAIM_LOCK = 0x466F72756D626F74

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self,
        idempotency_key: str,
        reference: dict[str, Any],
        payload: dict[str, Any],
        not_before: datetime | None = None,
    ) -> bool:
        """Queue a message; False when one with the same key was queued before. Without
        `not_before` it is due at once, whatever the clock of the process that delivers it."""
        statement = (
            _insert(self.session)(OutboxMessage)
            .values(
                idempotency_key=idempotency_key,
                conversation_id=str(reference.get("conversation", {}).get("id", "")),
                reference=reference,
                payload=payload,
                status="queued",
                attempts=0,
                not_before=not_before,
                created_at=now(),
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def claim(
        self,
        moment: datetime,
        token: str,
        *,
        lease_until: datetime,
        limit: int,
        per_conversation: int,
    ) -> tuple[list[OutboxMessage], list[OutboxMessage]]:
        """Settle lapsed leases, then claim due entries under `token`.

        Returns (claimed, lapsed). A lapsed claim that never began sending is queued again; a
        lapsed send is queued again when it updates an activity (the same update twice does no
        harm) and is otherwise dead with reason 'unknown': it may have reached Teams.

        An entry is claimed only when no entry of its conversation is claimed or being sent
        (one sender per conversation keeps Teams' per-conversation limits and the order), no
        earlier entry of its conversation was deferred (to retry, or by pacing) and is not due
        yet, and fewer than `per_conversation` earlier entries of its conversation are claimed
        with it (so that one busy conversation cannot fill a batch).
        """
        postgres = dialect(self.session) == "postgresql"
        if postgres:
            await self.session.execute(select(func.pg_advisory_xact_lock(self.CLAIM_LOCK)))
        # A write first: on SQLite it takes the write lock before anything is read.
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "claimed", OutboxMessage.lease_until <= moment)
            .values(status="queued", claim_token=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        lapsed_sends = select(OutboxMessage).where(
            OutboxMessage.status == "sending", OutboxMessage.lease_until <= moment
        )
        if postgres:
            lapsed_sends = lapsed_sends.with_for_update(skip_locked=True)
        lapsed = list(await self.session.scalars(lapsed_sends))
        for row in lapsed:
            row.lease_until = None
            if row.payload.get("update_activity_id"):
                row.status, row.claim_token = "queued", None
            else:
                row.status, row.dead_reason = "dead", "unknown"
                row.last_error = "the worker stopped while sending; the message may have reached Teams"
        await self.session.flush()

        entry, other, earlier = (aliased(OutboxMessage) for _ in range(3))

        def due(row: Any) -> Any:
            return or_(row.not_before.is_(None), row.not_before <= moment)

        busy = exists().where(
            other.conversation_id == entry.conversation_id,
            other.status.in_(("claimed", "sending")),
        )
        # deferred: tried before, or given back by a worker that keeps its token on it
        behind_deferred = exists().where(
            other.conversation_id == entry.conversation_id,
            other.id < entry.id,
            other.status == "queued",
            or_(other.attempts > 0, other.claim_token.is_not(None)),
            ~due(other),
        )
        ahead = (
            select(func.count())
            .where(
                earlier.conversation_id == entry.conversation_id,
                earlier.id < entry.id,
                earlier.status == "queued",
                due(earlier),
            )
            .scalar_subquery()
        )
        candidates = (
            select(entry.id)
            .where(entry.status == "queued", due(entry), ~busy, ~behind_deferred, ahead < per_conversation)
            .order_by(entry.id)
            .limit(limit)
        )
        if postgres:
            candidates = candidates.with_for_update(skip_locked=True, of=entry)
        # Two statements, not UPDATE … WHERE id IN (SELECT … LIMIT … SKIP LOCKED): PostgreSQL may
        # run such a subquery once per row, and then it skips the rows just updated and takes more.
        ids = list(await self.session.scalars(candidates))
        if not ids:
            return [], lapsed
        claimed = await self.session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "queued")
            .values(status="claimed", claim_token=token, lease_until=lease_until)
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False)
        )
        return sorted(claimed, key=lambda row: row.id), lapsed

    async def begin_send(
        self, entry_id: int, token: str, moment: datetime, lease_until: datetime
    ) -> int | None:
        """Mark a claimed entry as being sent, committed before the request goes out. Returns
        the attempt's number, or None when the claim is no longer this worker's."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == entry_id,
                OutboxMessage.claim_token == token,
                OutboxMessage.status == "claimed",
            )
            .values(
                status="sending",
                attempts=OutboxMessage.attempts + 1,
                lease_until=lease_until,
                last_attempt_at=moment,
            )
            .returning(OutboxMessage.attempts)
            .execution_options(synchronize_session=False)
        )
        attempts: int | None = result.scalar_one_or_none()
        return attempts

    def _sent_by(self, entry_id: int, token: str) -> Any:
        # A send whose lease lapsed was declared 'unknown'; its own worker may still settle it.
        return and_(
            OutboxMessage.id == entry_id,
            OutboxMessage.claim_token == token,
            or_(
                OutboxMessage.status == "sending",
                and_(OutboxMessage.status == "dead", OutboxMessage.dead_reason == "unknown"),
            ),
        )

    async def _settle(self, entry_id: int, token: str, **values: Any) -> bool:
        result = await self.session.execute(
            update(OutboxMessage)
            .where(self._sent_by(entry_id, token))
            .values(lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def mark_sent(self, entry_id: int, token: str, moment: datetime, activity_id: str | None) -> bool:
        return await self._settle(
            entry_id,
            token,
            status="sent",
            sent_at=moment,
            sent_activity_id=activity_id,
            last_error=None,
            dead_reason=None,
        )

    async def retry_at(self, entry_id: int, token: str, not_before: datetime, error: str) -> bool:
        return await self._settle(
            entry_id,
            token,
            status="queued",
            claim_token=None,
            not_before=not_before,
            last_error=error,
            dead_reason=None,
        )

    async def mark_dead(self, entry_id: int, token: str, reason: str, error: str) -> bool:
        return await self._settle(entry_id, token, status="dead", dead_reason=reason, last_error=error)

    async def release(self, entry_ids: Sequence[int], token: str, not_before: datetime | None) -> int:
        """Give claimed entries back unsent (no attempt was made), due at `not_before`. They keep
        the token: later entries of their conversation do not overtake them."""
        if not entry_ids:
            return 0
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(entry_ids),
                OutboxMessage.claim_token == token,
                OutboxMessage.status == "claimed",
            )
            .values(status="queued", lease_until=None, not_before=not_before)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def get(self, entry_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, entry_id)

    async def dead(self, limit: int) -> list[OutboxMessage]:
        rows = await self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "dead")
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return list(rows)

    async def requeue(self, entry_id: int) -> bool:
        """A dead entry is queued again, due at once, with a fresh count of attempts."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == entry_id, OutboxMessage.status == "dead")
            .values(
                status="queued",
                attempts=0,
                not_before=None,
                claim_token=None,
                lease_until=None,
                dead_reason=None,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def dismiss(self, entry_id: int) -> bool:
        """A dead entry is closed without sending (an admin saw it arrive, or it is moot)."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == entry_id, OutboxMessage.status == "dead")
            .values(status="dismissed")
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def dismiss_queued(self, key_prefix: str, key_suffix: str = "") -> int:
        """Entries still waiting whose key starts with `key_prefix` (and ends with `key_suffix`) are
        closed unsent: what they carry is no longer for their recipient. One already claimed goes
        out as it is."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.idempotency_key.startswith(key_prefix, autoescape=True),
                OutboxMessage.idempotency_key.endswith(key_suffix, autoescape=True),
                OutboxMessage.status == "queued",
            )
            .values(status="dismissed")
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def counts(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return {status: int(count) for status, count in rows.tuples()}


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
