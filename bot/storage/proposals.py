"""Repository of proposals and their history. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.proposals import ProposalDraft, Status, Urgency, proposal_number
from bot.domain.visibility import Audience, Visibility
from bot.storage.common import now
from bot.storage.models import Proposal, ProposalEvent


@dataclass(frozen=True)
class ProposalView:
    id: int
    number: str
    author_id: int
    author_agency_id: int
    business_name: str
    org_number: str | None
    org_is_personal: bool
    address: str
    industry: str
    industry_other: str | None
    reason: str
    agency_ids: tuple[int, ...]
    urgency: Urgency
    visibility: Visibility
    shared_agency_ids: tuple[int, ...]
    period_from: date | None
    period_to: date | None
    status: Status
    status_note: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def audience(self) -> Audience:
        return Audience.of(self.visibility, self.author_agency_id, self.shared_agency_ids)


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor_id: int
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None
    changes: dict[str, Any] | None = None


def view(row: Proposal) -> ProposalView:
    return ProposalView(
        id=row.id,
        number=row.number,
        author_id=row.author_id,
        author_agency_id=row.author_agency_id,
        business_name=row.business_name,
        org_number=row.org_number,
        org_is_personal=row.org_is_personal,
        address=row.address,
        industry=row.industry,
        industry_other=row.industry_other,
        reason=row.reason,
        agency_ids=tuple(row.agency_ids),
        urgency=Urgency(row.urgency),
        visibility=Visibility(row.visibility),
        shared_agency_ids=tuple(row.shared_agency_ids),
        period_from=row.period_from,
        period_to=row.period_to,
        status=Status(row.status),
        status_note=row.status_note,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def draft_fields(draft: ProposalDraft, author_agency_id: int) -> dict[str, Any]:
    """The columns a valid form sets."""
    audience = draft.audience(author_agency_id)
    return {
        "business_name": draft.name,
        "org_number": draft.org_number.normalized if draft.org_number else None,
        "org_is_personal": bool(draft.org_number and draft.org_number.is_personal_data),
        "address": draft.address,
        "industry": draft.industry,
        "industry_other": draft.industry_other,
        "reason": draft.reason,
        "agency_ids": list(draft.agency_ids),
        "urgency": draft.urgency.value,
        "visibility": draft.visibility.value,
        "shared_agency_ids": sorted(audience.shared_agency_ids),
        "period_from": draft.period_from,
        "period_to": draft.period_to,
    }


def stored_fields(proposal: ProposalView) -> dict[str, Any]:
    """The same columns as draft_fields, as stored."""
    return {
        "business_name": proposal.business_name,
        "org_number": proposal.org_number,
        "org_is_personal": proposal.org_is_personal,
        "address": proposal.address,
        "industry": proposal.industry,
        "industry_other": proposal.industry_other,
        "reason": proposal.reason,
        "agency_ids": list(proposal.agency_ids),
        "urgency": proposal.urgency.value,
        "visibility": proposal.visibility.value,
        "shared_agency_ids": sorted(proposal.shared_agency_ids),
        "period_from": proposal.period_from,
        "period_to": proposal.period_to,
    }


class StaleProposal(Exception):
    """The proposal changed since the card the user acted on was drawn."""


class Proposals:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        draft: ProposalDraft,
        author_id: int,
        author_agency_id: int,
        year: int,
        *,
        form_token: str | None = None,
    ) -> ProposalView:
        """Insert with the next number of `year`; a concurrent insert of the same number is retried."""
        for _ in range(5):
            sequence = (
                await self.session.scalar(select(func.max(Proposal.sequence)).where(Proposal.year == year))
                or 0
            ) + 1
            moment = now()
            row = Proposal(
                number=proposal_number(year, sequence),
                year=year,
                sequence=sequence,
                author_id=author_id,
                author_agency_id=author_agency_id,
                status=Status.PROPOSED.value,
                version=1,
                created_at=moment,
                updated_at=moment,
                form_token=form_token,
                **draft_fields(draft, author_agency_id),
            )
            try:
                async with self.session.begin_nested():
                    self.session.add(row)
                    await self.session.flush()
            except IntegrityError:
                continue
            await self.event(row.id, author_id, "created", None, Status.PROPOSED.value)
            return view(row)
        raise RuntimeError("could not allocate a proposal number")

    async def get(self, proposal_id: int) -> ProposalView | None:
        row = await self.session.get(Proposal, proposal_id)
        return view(row) if row else None

    async def by_number(self, number: str) -> ProposalView | None:
        row = await self.session.scalar(select(Proposal).where(Proposal.number == number.upper()))
        return view(row) if row else None

    async def _locked(self, proposal_id: int, version: int) -> Proposal:
        """The row, locked until the transaction ends (PostgreSQL), if it is still at `version`."""
        row = await self.session.scalar(select(Proposal).where(Proposal.id == proposal_id).with_for_update())
        if row is None or row.version != version:
            raise StaleProposal(proposal_id)
        return row

    async def update(
        self,
        proposal_id: int,
        version: int,
        draft: ProposalDraft,
        actor_id: int,
        kind: str,
        changes: dict[str, Any],
    ) -> ProposalView:
        row = await self._locked(proposal_id, version)
        for key, value in draft_fields(draft, row.author_agency_id).items():
            setattr(row, key, value)
        row.version += 1
        row.updated_at = now()
        await self.session.flush()
        await self.event(proposal_id, actor_id, kind, row.status, row.status, changes=changes)
        return view(row)

    async def transition(
        self,
        proposal_id: int,
        version: int,
        target: Status,
        actor_id: int,
        kind: str,
        note: str | None,
        *,
        meeting_id: int | None = None,
    ) -> ProposalView:
        """`meeting_id`: the meeting whose agenda the proposal is put on (when accepted)."""
        row = await self._locked(proposal_id, version)
        source = row.status
        row.status, row.status_note = target.value, note
        changes = None
        if meeting_id is not None:
            row.meeting_id = meeting_id
            changes = {"meeting_id": meeting_id}
        row.version += 1
        row.updated_at = now()
        await self.session.flush()
        await self.event(proposal_id, actor_id, kind, source, target.value, note=note, changes=changes)
        return view(row)

    async def event(
        self,
        proposal_id: int,
        actor_id: int,
        kind: str,
        from_status: str | None,
        to_status: str | None,
        *,
        note: str | None = None,
        changes: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            ProposalEvent(
                proposal_id=proposal_id,
                at=now(),
                actor_id=actor_id,
                kind=kind,
                from_status=from_status,
                to_status=to_status,
                note=note,
                changes=changes,
            )
        )
        await self.session.flush()

    async def history(self, proposal_id: int) -> list[EventView]:
        rows = await self.session.scalars(
            select(ProposalEvent).where(ProposalEvent.proposal_id == proposal_id).order_by(ProposalEvent.id)
        )
        return [
            EventView(r.at, r.actor_id, r.kind, r.from_status, r.to_status, r.note, r.changes) for r in rows
        ]

    async def candidates(
        self,
        *,
        statuses: Sequence[str] | None = None,
        industry: str | None = None,
        author_id: int | None = None,
    ) -> list[ProposalView]:
        """Newest first; the caller filters by visibility with can_see."""
        statement = select(Proposal).order_by(Proposal.id.desc())
        if statuses:
            statement = statement.where(Proposal.status.in_(statuses))
        if industry:
            statement = statement.where(Proposal.industry == industry)
        if author_id is not None:
            statement = statement.where(Proposal.author_id == author_id)
        return [view(row) for row in await self.session.scalars(statement)]
