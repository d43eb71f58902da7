"""Repository of joint inspections, their agencies' parts and their history. Never commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.inspections import (
    Booked,
    InspectionDraft,
    PartState,
    Status,
    inspection_audience,
    inspection_number,
)
from bot.domain.visibility import Audience, Visibility
from bot.storage.common import now
from bot.storage.models import Inspection, InspectionEvent, InspectionPart


@dataclass(frozen=True)
class PartView:
    agency_id: int
    note: str | None
    state: PartState
    who: str | None
    reason: str | None
    proposed_start: datetime | None
    answered_by: int | None
    answered_at: datetime | None
    outcome: str | None = None
    findings: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()
    outcome_note: str | None = None
    outcome_shared: bool = False


@dataclass(frozen=True)
class InspectionView:
    id: int
    number: str
    proposal_id: int | None
    booked_by: int
    booker_agency_id: int
    business_name: str
    org_number: str | None
    org_is_personal: bool
    address: str
    starts_at: datetime
    ends_at: datetime
    meeting_point: str
    lead_agency_id: int
    agency_ids: tuple[int, ...]
    visibility: Visibility
    status: Status
    version: int
    ics_sequence: int
    overridden: tuple[dict[str, Any], ...]
    parts: tuple[PartView, ...]
    closed_reason: str | None = None

    @property
    def audience(self) -> Audience:
        return inspection_audience(self.visibility, self.booker_agency_id, self.agency_ids)

    def part(self, agency_id: int) -> PartView | None:
        return next((p for p in self.parts if p.agency_id == agency_id), None)

    def booked(self) -> Booked:
        return Booked(
            self.id,
            self.number,
            self.starts_at,
            self.ends_at,
            self.agency_ids,
            self.org_number,
            self.business_name,
            self.address,
            self.status,
        )


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor_id: int | None
    kind: str
    agency_id: int | None
    details: dict[str, Any]


def _part(row: InspectionPart) -> PartView:
    return PartView(
        row.agency_id,
        row.note,
        PartState(row.state),
        row.who,
        row.reason,
        row.proposed_start,
        row.answered_by,
        row.answered_at,
        row.outcome,
        tuple(row.findings or ()),
        tuple(row.measures or ()),
        row.outcome_note,
        row.outcome_shared,
    )


class Inspections:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _view(self, row: Inspection | None) -> InspectionView | None:
        if row is None:
            return None
        parts = await self.session.scalars(
            select(InspectionPart).where(InspectionPart.inspection_id == row.id).order_by(InspectionPart.id)
        )
        return InspectionView(
            id=row.id,
            number=row.number,
            proposal_id=row.proposal_id,
            booked_by=row.booked_by,
            booker_agency_id=row.booker_agency_id,
            business_name=row.business_name,
            org_number=row.org_number,
            org_is_personal=row.org_is_personal,
            address=row.address,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            meeting_point=row.meeting_point,
            lead_agency_id=row.lead_agency_id,
            agency_ids=tuple(row.agency_ids),
            visibility=Visibility(row.visibility),
            status=Status(row.status),
            version=row.version,
            ics_sequence=row.ics_sequence,
            overridden=tuple(row.overridden or ()),
            parts=tuple(_part(p) for p in parts),
            closed_reason=row.closed_reason,
        )

    async def add(
        self,
        draft: InspectionDraft,
        *,
        year: int,
        booked_by: int,
        booker_agency_id: int,
        proposal_id: int | None = None,
        form_token: str | None = None,
        overridden: Sequence[dict[str, Any]] = (),
    ) -> InspectionView:
        """Insert with the next number of `year` and a part for each participating agency; a
        concurrent insert of the same number is retried."""
        audience = draft.audience(booker_agency_id)
        for _ in range(5):
            sequence = (
                await self.session.scalar(
                    select(func.max(Inspection.sequence)).where(Inspection.year == year)
                )
                or 0
            ) + 1
            moment = now()
            row = Inspection(
                number=inspection_number(year, sequence),
                year=year,
                sequence=sequence,
                proposal_id=proposal_id,
                booked_by=booked_by,
                booker_agency_id=booker_agency_id,
                business_name=draft.name,
                org_number=draft.org_number.normalized if draft.org_number else None,
                org_is_personal=bool(draft.org_number and draft.org_number.is_personal_data),
                address=draft.address,
                starts_at=draft.starts_at,
                ends_at=draft.ends_at,
                meeting_point=draft.meeting_point,
                lead_agency_id=draft.lead_agency_id,
                agency_ids=list(draft.agency_ids),
                visibility=audience.visibility.value,
                shared_agency_ids=sorted(audience.shared_agency_ids),
                status=Status.BOOKED.value,
                version=1,
                ics_sequence=0,
                overridden=list(overridden) or None,
                form_token=form_token,
                created_at=moment,
                updated_at=moment,
            )
            try:
                async with self.session.begin_nested():
                    self.session.add(row)
                    await self.session.flush()
            except IntegrityError:
                if form_token is not None and await self.by_form_token(form_token) is not None:
                    raise
                continue
            for agency_id in draft.agency_ids:
                self.session.add(
                    InspectionPart(
                        inspection_id=row.id,
                        agency_id=agency_id,
                        note=draft.notes.get(agency_id),
                        state=PartState.ASKED.value,
                    )
                )
            await self.session.flush()
            view = await self._view(row)
            assert view is not None
            return view
        raise RuntimeError("could not number the inspection")

    async def get(self, inspection_id: int) -> InspectionView | None:
        return await self._view(await self.session.get(Inspection, inspection_id, populate_existing=True))

    async def by_number(self, number: str) -> InspectionView | None:
        return await self._view(
            await self.session.scalar(select(Inspection).where(Inspection.number == number))
        )

    async def listing(
        self, *, since: datetime | None, until: datetime | None, with_cancelled: bool, limit: int
    ) -> list[InspectionView]:
        """Inspections starting within [since, until), the soonest first."""
        query = select(Inspection).order_by(Inspection.starts_at, Inspection.id).limit(limit)
        if since is not None:
            query = query.where(Inspection.starts_at >= since)
        if until is not None:
            query = query.where(Inspection.starts_at < until)
        if not with_cancelled:
            query = query.where(Inspection.status != Status.CANCELLED.value)
        found = []
        for row in await self.session.scalars(query):
            view = await self._view(row)
            if view is not None:
                found.append(view)
        return found

    async def of_proposal(self, proposal_id: int) -> list[InspectionView]:
        rows = await self.session.scalars(
            select(Inspection).where(Inspection.proposal_id == proposal_id).order_by(Inspection.id)
        )
        found = []
        for row in rows:
            view = await self._view(row)
            if view is not None:
                found.append(view)
        return found

    async def by_form_token(self, token: str) -> InspectionView | None:
        return await self._view(
            await self.session.scalar(select(Inspection).where(Inspection.form_token == token))
        )

    async def around(
        self, start: datetime, end: datetime, org_number: str | None, since: datetime
    ) -> list[InspectionView]:
        """Inspections not cancelled that overlap `start`–`end`, or that began since `since` (for
        the same-business check, narrowed by organisation number when there is one)."""
        recent: ColumnElement[bool] = Inspection.starts_at.between(since, end)
        if org_number:
            recent = recent & or_(Inspection.org_number == org_number, Inspection.org_number.is_(None))
        rows = await self.session.scalars(
            select(Inspection).where(
                Inspection.status != Status.CANCELLED.value,
                or_((Inspection.starts_at < end) & (Inspection.ends_at > start), recent),
            )
        )
        found = []
        for row in rows:
            view = await self._view(row)
            if view is not None:
                found.append(view)
        return found

    async def answer(
        self,
        inspection_id: int,
        agency_id: int,
        state: PartState,
        *,
        by: int,
        who: str | None = None,
        reason: str | None = None,
        proposed_start: datetime | None = None,
    ) -> bool:
        """The agency's answer for its part; False when it has no part in the inspection."""
        result = await self.session.execute(
            update(InspectionPart)
            .where(InspectionPart.inspection_id == inspection_id, InspectionPart.agency_id == agency_id)
            .values(
                state=state.value,
                who=who,
                reason=reason,
                proposed_start=proposed_start,
                answered_by=by,
                answered_at=now(),
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def lock(self, inspection_id: int, *, expected: int | None = None) -> int | None:
        """Count a change on the inspection (its cards follow), holding its row until the unit of
        work ends; its new version, or None if there is no such inspection (or, with `expected`,
        if it has changed since that version was read)."""
        where = [Inspection.id == inspection_id]
        if expected is not None:
            where.append(Inspection.version == expected)
        version: int | None = await self.session.scalar(
            update(Inspection)
            .where(*where)
            .values(version=Inspection.version + 1, updated_at=now())
            .returning(Inspection.version)
            .execution_options(synchronize_session=False)
        )
        return version

    async def move(self, inspection_id: int, starts_at: datetime, ends_at: datetime) -> None:
        """A new time: the invitation's SEQUENCE is raised, and every agency is asked again."""
        await self.session.execute(
            update(Inspection)
            .where(Inspection.id == inspection_id)
            .values(
                starts_at=starts_at,
                ends_at=ends_at,
                status=Status.BOOKED.value,
                ics_sequence=Inspection.ics_sequence + 1,
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(InspectionPart)
            .where(InspectionPart.inspection_id == inspection_id)
            .values(
                state=PartState.ASKED.value,
                who=None,
                reason=None,
                proposed_start=None,
                answered_by=None,
                answered_at=None,
            )
            .execution_options(synchronize_session=False)
        )

    async def record_outcome(
        self,
        inspection_id: int,
        agency_id: int,
        *,
        outcome: str,
        findings: Sequence[str],
        measures: Sequence[str],
        note: str | None,
        shared: bool,
        by: int,
    ) -> None:
        await self.session.execute(
            update(InspectionPart)
            .where(InspectionPart.inspection_id == inspection_id, InspectionPart.agency_id == agency_id)
            .values(
                outcome=outcome,
                findings=list(findings),
                measures=list(measures),
                outcome_note=note,
                outcome_shared=shared,
                outcome_by=by,
                outcome_at=now(),
            )
            .execution_options(synchronize_session=False)
        )

    async def close(self, inspection_id: int, reason: str | None) -> None:
        await self.session.execute(
            update(Inspection)
            .where(Inspection.id == inspection_id)
            .values(status=Status.DONE.value, closed_reason=reason)
            .execution_options(synchronize_session=False)
        )

    async def replace_agency(self, inspection_id: int, old: int, new: int, shared: Iterable[int]) -> None:
        """`new` takes `old`'s place (and its lead, if it led), asked afresh."""
        row = await self.session.get(Inspection, inspection_id, populate_existing=True)
        assert row is not None
        row.agency_ids = [new if a == old else a for a in row.agency_ids]
        row.shared_agency_ids = sorted(shared)
        if row.lead_agency_id == old:
            row.lead_agency_id = new
        await self.session.execute(
            update(InspectionPart)
            .where(InspectionPart.inspection_id == inspection_id, InspectionPart.agency_id == old)
            .values(
                agency_id=new,
                state=PartState.ASKED.value,
                note=None,
                who=None,
                reason=None,
                proposed_start=None,
                answered_by=None,
                answered_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.flush()

    async def cancel(self, inspection_id: int) -> None:
        await self.session.execute(
            update(Inspection)
            .where(Inspection.id == inspection_id)
            .values(status=Status.CANCELLED.value, ics_sequence=Inspection.ics_sequence + 1)
            .execution_options(synchronize_session=False)
        )

    async def set_status(self, inspection_id: int, status: Status) -> None:
        await self.session.execute(
            update(Inspection)
            .where(Inspection.id == inspection_id)
            .values(status=status.value)
            .execution_options(synchronize_session=False)
        )

    async def record(
        self,
        inspection_id: int,
        kind: str,
        *,
        actor_id: int | None,
        agency_id: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            InspectionEvent(
                inspection_id=inspection_id,
                at=now(),
                actor_id=actor_id,
                kind=kind,
                agency_id=agency_id,
                details=details,
            )
        )
        await self.session.flush()

    async def history(self, inspection_id: int) -> list[EventView]:
        rows = await self.session.scalars(
            select(InspectionEvent)
            .where(InspectionEvent.inspection_id == inspection_id)
            .order_by(InspectionEvent.id)
        )
        return [EventView(r.at, r.actor_id, r.kind, r.agency_id, dict(r.details or {})) for r in rows]
