"""The follow-up report's figures, counted by the database.

Every query groups by what is counted (a status, an industry, an agency, a month, a finding) and
counts only the rows its level may see: who may see an item is decided in SQL by `visible`, which
states `bot.domain.visibility.can_see` for stored rows (the forum-wide ones; the sharing agency's
own; and, shared with some agencies, theirs), as tests/test_followup.py checks against `can_see`
for every kind of audience. So a year's report over a large forum reads a few dozen grouped rows,
never the items, and nothing the level may not see leaves the database.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.followup import NO_INDUSTRY, Figures, Level, MeetingFigures, Period
from bot.domain.inspections import PartState, Status
from bot.domain.meetings import MeetingStatus
from bot.domain.polls import Attendance, PollKind
from bot.domain.proposals import Status as ProposalStatus
from bot.domain.reports import ReportStatus
from bot.domain.visibility import Visibility
from bot.storage.common import dialect
from bot.storage.models import (
    Inspection,
    InspectionPart,
    Meeting,
    Poll,
    PollBallot,
    Proposal,
    ProposalEvent,
    StatusReport,
)
from bot.storage.models.membership import Member

DECISIONS = (ProposalStatus.ACCEPTED, ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN)
COMING = (1 << Attendance.YES.position, 1 << Attendance.SUBSTITUTE.position)


def instant(day: date, zone: ZoneInfo) -> datetime:
    """The start of the local day `day`, in UTC."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _month_index(column: Any, period: Period, zone: ZoneInfo) -> ColumnElement[Any]:
    """The index in `period.months()` of the local month `column` falls in (DST-exact: the
    boundaries are computed here, in the forum's zone)."""
    months = period.months()
    bounds = [instant(m, zone) for m in months[1:]]
    if not bounds:
        return cast(literal(0), Integer)
    return case(*[(column < bound, i) for i, bound in enumerate(bounds)], else_=len(months) - 1)


def _days_between(session: AsyncSession, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Whole days from `earlier` to `later`."""
    if dialect(session) == "postgresql":
        return cast(func.floor(func.extract("epoch", later - earlier) / 86400), Integer)
    return cast(func.floor(func.julianday(later) - func.julianday(earlier)), Integer)


def _listed(session: AsyncSession, ids: Any, agency_id: int) -> ColumnElement[bool]:
    """Whether the JSON list of agency ids `ids` holds `agency_id`."""
    if dialect(session) == "postgresql":
        return cast(ids, JSONB).contains(cast(literal(f"[{int(agency_id)}]"), JSONB))
    each = func.json_each(ids).table_valued("value")
    return select(literal(1)).select_from(each).where(each.c.value == agency_id).exists()


def visible(
    session: AsyncSession, level: Level, visibility: Any, agency: Any, shared: Any, *, narrow: str
) -> ColumnElement[bool]:
    """SQL for "`level` may see the row": forum-wide rows; and for an agency's level, its own rows
    and, where the row is `narrow` (its visibility when shared with some agencies), those whose
    list `shared` names it. (Items here have no readers beyond their agencies.)"""
    forum_wide = visibility == Visibility.FORUM.value
    if level.agency_id is None:
        return forum_wide
    return or_(
        forum_wide,
        agency == level.agency_id,
        and_(visibility == narrow, _listed(session, shared, level.agency_id)),
    )


def proposal_visible(session: AsyncSession, level: Level) -> ColumnElement[bool]:
    return visible(
        session,
        level,
        Proposal.visibility,
        Proposal.author_agency_id,
        Proposal.shared_agency_ids,
        narrow=Visibility.AGENCIES.value,
    )


def inspection_visible(session: AsyncSession, level: Level) -> ColumnElement[bool]:
    """An inspection is forum-wide or seen by its participating agencies and its booker's
    (bot.domain.inspections.inspection_audience): any other visibility reads as the latter."""
    forum_wide = Inspection.visibility == Visibility.FORUM.value
    if level.agency_id is None:
        return forum_wide
    return or_(
        forum_wide,
        Inspection.booker_agency_id == level.agency_id,
        _listed(session, Inspection.agency_ids, level.agency_id),
    )


def _unnested(session: AsyncSession, column: Any) -> tuple[Any, Any]:
    """The FROM item and the value column of the elements of the JSON list `column`."""
    if dialect(session) == "postgresql":
        elements = func.json_array_elements_text(column).table_valued("value").render_derived()
        return elements, elements.c.value
    each = func.json_each(column).table_valued("value")
    return each, each.c.value


class FollowUp:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def figures(self, period: Period, level: Level, zone: ZoneInfo, as_of: datetime) -> Figures:
        start, end = instant(period.start, zone), instant(period.end + timedelta(days=1), zone)
        figures = Figures(period)
        await self._proposals(figures, level, start, end, zone)
        await self._decisions(figures, level, start, end)
        await self._inspections(figures, level, start, end, zone)
        await self._outcomes(figures, level, start, end)
        await self._meetings(figures, start, min(end, as_of))
        return figures

    async def since(self, level: Level, start: datetime, end: datetime) -> tuple[int, int]:
        """New proposals, and joint inspections done, from `start` to `end` (two meetings')."""
        made = await self.session.scalar(
            select(func.count())
            .select_from(Proposal)
            .where(
                Proposal.created_at >= start, Proposal.created_at < end, proposal_visible(self.session, level)
            )
        )
        done = await self.session.scalar(
            select(func.count())
            .select_from(Inspection)
            .where(*self._done_in(start, end), inspection_visible(self.session, level))
        )
        return int(made or 0), int(done or 0)

    async def _rows(self, statement: Any) -> list[Any]:
        return list((await self.session.execute(statement)).all())

    @staticmethod
    def _done_in(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
        return (
            Inspection.starts_at >= start,
            Inspection.starts_at < end,
            Inspection.status == Status.DONE.value,
        )

    async def _proposals(
        self, figures: Figures, level: Level, start: datetime, end: datetime, zone: ZoneInfo
    ) -> None:
        months = figures.period.months()
        month = _month_index(Proposal.created_at, figures.period, zone).label("month")
        keys = (Proposal.industry, Proposal.author_agency_id, month)
        statement = (
            select(*keys, func.count())
            .where(
                Proposal.created_at >= start, Proposal.created_at < end, proposal_visible(self.session, level)
            )
            .group_by(*keys)
        )
        for industry, agency_id, index, count in await self._rows(statement):
            figures.proposals["made"] += count
            figures.by_industry.setdefault(industry, Counter())["made"] += count
            figures.by_agency.setdefault(agency_id, Counter())["made"] += count
            figures.proposals_per_month[months[index]] += count

    async def _decisions(self, figures: Figures, level: Level, start: datetime, end: datetime) -> None:
        """Each proposal decided in the period counts once, by its last decision in it."""
        decided = (
            select(func.max(ProposalEvent.id).label("last"))
            .where(
                ProposalEvent.at >= start,
                ProposalEvent.at < end,
                ProposalEvent.to_status.in_([s.value for s in DECISIONS]),
                or_(
                    ProposalEvent.from_status.is_(None), ProposalEvent.from_status != ProposalEvent.to_status
                ),
            )
            .group_by(ProposalEvent.proposal_id)
            .subquery()
        )
        keys = (Proposal.industry, Proposal.author_agency_id, ProposalEvent.to_status)
        statement = (
            select(*keys, func.count())
            .select_from(decided)
            .join(ProposalEvent, ProposalEvent.id == decided.c.last)
            .join(Proposal, Proposal.id == ProposalEvent.proposal_id)
            .where(proposal_visible(self.session, level))
            .group_by(*keys)
        )
        for industry, agency_id, status, count in await self._rows(statement):
            figures.proposals[status] += count
            figures.by_industry.setdefault(industry, Counter())[status] += count
            figures.by_agency.setdefault(agency_id, Counter())[status] += count

    async def _inspections(
        self, figures: Figures, level: Level, start: datetime, end: datetime, zone: ZoneInfo
    ) -> None:
        seen = inspection_visible(self.session, level)
        booked = await self.session.scalar(
            select(func.count())
            .select_from(Inspection)
            .where(Inspection.created_at >= start, Inspection.created_at < end, seen)
        )
        figures.inspections["booked"] += int(booked or 0)

        months = figures.period.months()
        month = _month_index(Inspection.starts_at, figures.period, zone).label("month")
        held = (
            select(Inspection.status, month, func.count())
            .where(
                Inspection.starts_at >= start,
                Inspection.starts_at < end,
                Inspection.status.in_([Status.DONE.value, Status.CANCELLED.value]),
                seen,
            )
            .group_by(Inspection.status, month)
        )
        for status, index, count in await self._rows(held):
            figures.inspections[status] += count
            if status == Status.DONE:
                figures.inspections_per_month[months[index]] += count

        # from a proposal to its inspection: both must be visible (a proposal may be narrower)
        days = _days_between(self.session, Inspection.starts_at, Proposal.created_at).label("days")
        waited = (
            select(days, func.count())
            .join(Proposal, Proposal.id == Inspection.proposal_id)
            .where(*self._done_in(start, end), seen, proposal_visible(self.session, level))
            .group_by(days)
        )
        for whole_days, count in await self._rows(waited):
            figures.days_to_inspection[max(0, int(whole_days))] += count

    def _readable(self, level: Level) -> ColumnElement[bool]:
        """An agency's outcome of an inspection the level may see: its own agency's members read
        it; the others, when the agency shared it."""
        shared = InspectionPart.outcome_shared.is_(True)
        if level.agency_id is None:
            return shared
        return or_(InspectionPart.agency_id == level.agency_id, shared)

    async def _outcomes(self, figures: Figures, level: Level, start: datetime, end: datetime) -> None:
        seen = inspection_visible(self.session, level)
        readable = and_(InspectionPart.outcome.is_not(None), self._readable(level))
        # who took part: by its own outcome where the level may read it; else only by what the
        # inspection's card shows everyone (confirmed, or an outcome recorded), never its value
        took_part = case(
            (readable, InspectionPart.outcome == "done"),
            else_=or_(InspectionPart.state == PartState.CONFIRMED.value, InspectionPart.outcome.is_not(None)),
        )
        parts = (
            select(InspectionPart.agency_id, func.count())
            .select_from(Inspection)
            .join(InspectionPart, InspectionPart.inspection_id == Inspection.id)
            .where(*self._done_in(start, end), seen, took_part)
            .group_by(InspectionPart.agency_id)
        )
        for agency_id, count in await self._rows(parts):
            figures.taking_part[agency_id] += count

        # the industry is the proposal's, where the level may see the proposal
        industry = case((proposal_visible(self.session, level), Proposal.industry), else_=None).label(
            "industry"
        )
        for column, counted, by_industry in (
            (InspectionPart.findings, figures.findings, True),
            (InspectionPart.measures, figures.measures, False),
        ):
            source, kind = _unnested(self.session, column)
            keys: tuple[Any, ...] = (kind, industry) if by_industry else (kind,)
            statement = (
                select(*keys, func.count())
                .select_from(Inspection)
                .join(InspectionPart, InspectionPart.inspection_id == Inspection.id)
                .outerjoin(Proposal, Proposal.id == Inspection.proposal_id)
                .join(source, true())
                .where(*self._done_in(start, end), seen, readable)
                .group_by(*keys)
            )
            for row in await self._rows(statement):
                counted[str(row[0])] += row[-1]
                if by_industry:
                    figures.findings_by_industry[row[1] or NO_INDUSTRY] += row[-1]

    async def _meetings(self, figures: Figures, start: datetime, end: datetime) -> None:
        """Meetings are forum-wide; so is which agencies reported before them, and who came."""
        held = await self._rows(
            select(Meeting.id, Meeting.day)
            .where(
                Meeting.starts_at >= start,
                Meeting.starts_at < end,
                Meeting.status != MeetingStatus.CANCELLED.value,
            )
            .order_by(Meeting.starts_at)
        )
        if not held:
            return
        ids = [meeting_id for meeting_id, _ in held]
        reported: dict[int, set[int]] = {}
        for meeting_id, agency_id in await self._rows(
            select(StatusReport.meeting_id, StatusReport.agency_id).where(
                StatusReport.meeting_id.in_(ids), StatusReport.status == ReportStatus.SUBMITTED.value
            )
        ):
            reported.setdefault(meeting_id, set()).add(agency_id)
        coming: dict[int, Counter[int]] = {}
        for meeting_id, agency_id, count in await self._rows(
            select(Poll.meeting_id, Member.agency_id, func.count())
            .join(PollBallot, PollBallot.poll_id == Poll.id)
            .join(Member, Member.id == PollBallot.member_id)
            .where(
                Poll.meeting_id.in_(ids),
                Poll.kind == PollKind.ATTENDANCE.value,
                PollBallot.choices.in_(COMING),
            )
            .group_by(Poll.meeting_id, Member.agency_id)
        ):
            coming.setdefault(meeting_id, Counter())[agency_id] += count
        for meeting_id, day in held:
            people = coming.get(meeting_id, Counter())
            figures.meetings.append(
                MeetingFigures(
                    meeting_id,
                    day,
                    frozenset(reported.get(meeting_id, ())),
                    sum(people.values()),
                    len(people),
                )
            )
