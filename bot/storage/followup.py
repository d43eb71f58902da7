"""The follow-up report's figures, counted by the database.

Every query groups: by what is counted (a status, an industry, an agency, a month, a finding's
list) and by what decides who may see the rows (visibility, sharing agency, agencies shared with),
so that a year's report over a large forum reads some hundreds of rows, never the items. The level
then keeps the groups it may see (bot.domain.followup.Level).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, String, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.followup import NO_INDUSTRY, Figures, Level, MeetingFigures, Period, audience_of, split_kinds
from bot.domain.inspections import PartState, Status
from bot.domain.meetings import MeetingStatus
from bot.domain.polls import Attendance, PollKind
from bot.domain.proposals import Status as ProposalStatus
from bot.domain.reports import ReportStatus
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
        return cast(0, Integer)
    return case(*[(column < bound, i) for i, bound in enumerate(bounds)], else_=len(months) - 1)


def _days_between(session: AsyncSession, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Whole days from `earlier` to `later`."""
    if dialect(session) == "postgresql":
        return cast(func.floor(func.extract("epoch", later - earlier) / 86400), Integer)
    return cast(func.floor(func.julianday(later) - func.julianday(earlier)), Integer)


class FollowUp:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def figures(self, period: Period, level: Level, zone: ZoneInfo, as_of: datetime) -> Figures:
        start, end = instant(period.start, zone), instant(period.end + timedelta(days=1), zone)
        months = period.months()
        figures = Figures(period)
        await self._proposals(figures, level, start, end, months, zone)
        await self._decisions(figures, level, start, end)
        await self._inspections(figures, level, start, end, months, zone)
        await self._outcomes(figures, level, start, end)
        await self._meetings(figures, start, min(end, as_of))
        return figures

    async def since(self, level: Level, start: datetime, end: datetime) -> tuple[int, int]:
        """New proposals, and joint inspections done, from `start` to `end` (two meetings')."""
        shared = cast(Proposal.shared_agency_ids, String).label("shared")
        made = 0
        for visibility, agency_id, shared_ids, count in await self._rows(
            select(Proposal.visibility, Proposal.author_agency_id, shared, func.count())
            .where(Proposal.created_at >= start, Proposal.created_at < end)
            .group_by(Proposal.visibility, Proposal.author_agency_id, shared)
        ):
            if level.sees(audience_of(visibility, agency_id, shared_ids)):
                made += count
        parties = cast(Inspection.agency_ids, String).label("shared")
        done = 0
        for visibility, agency_id, shared_ids, count in await self._rows(
            select(Inspection.visibility, Inspection.booker_agency_id, parties, func.count())
            .where(
                Inspection.starts_at >= start,
                Inspection.starts_at < end,
                Inspection.status == Status.DONE.value,
            )
            .group_by(Inspection.visibility, Inspection.booker_agency_id, parties)
        ):
            if level.sees(audience_of(visibility, agency_id, shared_ids)):
                done += count
        return made, done

    async def _rows(self, statement: Any) -> list[Any]:
        return list((await self.session.execute(statement)).all())

    async def _proposals(
        self,
        figures: Figures,
        level: Level,
        start: datetime,
        end: datetime,
        months: list[date],
        zone: ZoneInfo,
    ) -> None:
        month = _month_index(Proposal.created_at, figures.period, zone).label("month")
        shared = cast(Proposal.shared_agency_ids, String).label("shared")
        statement = (
            select(
                Proposal.visibility,
                Proposal.author_agency_id,
                shared,
                Proposal.industry,
                month,
                func.count(),
            )
            .where(Proposal.created_at >= start, Proposal.created_at < end)
            .group_by(Proposal.visibility, Proposal.author_agency_id, shared, Proposal.industry, month)
        )
        for visibility, agency_id, shared_ids, industry, index, count in await self._rows(statement):
            if not level.sees(audience_of(visibility, agency_id, shared_ids)):
                continue
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
        shared = cast(Proposal.shared_agency_ids, String).label("shared")
        keys = (
            Proposal.visibility,
            Proposal.author_agency_id,
            shared,
            Proposal.industry,
            ProposalEvent.to_status,
        )
        statement = (
            select(*keys, func.count())
            .select_from(decided)
            .join(ProposalEvent, ProposalEvent.id == decided.c.last)
            .join(Proposal, Proposal.id == ProposalEvent.proposal_id)
            .group_by(*keys)
        )
        for visibility, agency_id, shared_ids, industry, status, count in await self._rows(statement):
            if not level.sees(audience_of(visibility, agency_id, shared_ids)):
                continue
            figures.proposals[status] += count
            figures.by_industry.setdefault(industry, Counter())[status] += count
            figures.by_agency.setdefault(agency_id, Counter())[status] += count

    async def _inspections(
        self,
        figures: Figures,
        level: Level,
        start: datetime,
        end: datetime,
        months: list[date],
        zone: ZoneInfo,
    ) -> None:
        shared = cast(Inspection.agency_ids, String).label("shared")
        booked = (
            select(Inspection.visibility, Inspection.booker_agency_id, shared, func.count())
            .where(Inspection.created_at >= start, Inspection.created_at < end)
            .group_by(Inspection.visibility, Inspection.booker_agency_id, shared)
        )
        for visibility, agency_id, shared_ids, count in await self._rows(booked):
            if level.sees(audience_of(visibility, agency_id, shared_ids)):
                figures.inspections["booked"] += count

        month = _month_index(Inspection.starts_at, figures.period, zone).label("month")
        held = (
            select(
                Inspection.visibility,
                Inspection.booker_agency_id,
                shared,
                Inspection.status,
                month,
                func.count(),
            )
            .where(
                Inspection.starts_at >= start,
                Inspection.starts_at < end,
                Inspection.status.in_([Status.DONE.value, Status.CANCELLED.value]),
            )
            .group_by(Inspection.visibility, Inspection.booker_agency_id, shared, Inspection.status, month)
        )
        for visibility, agency_id, shared_ids, status, index, count in await self._rows(held):
            if level.sees(audience_of(visibility, agency_id, shared_ids)):
                figures.inspections[status] += count
                if status == Status.DONE:
                    figures.inspections_per_month[months[index]] += count

        # from a proposal to its inspection: both must be visible (a proposal may be narrower)
        days = _days_between(self.session, Inspection.starts_at, Proposal.created_at).label("days")
        proposal_shared = cast(Proposal.shared_agency_ids, String).label("proposal_shared")
        keys = (
            Inspection.visibility,
            Inspection.booker_agency_id,
            shared,
            Proposal.visibility,
            Proposal.author_agency_id,
            proposal_shared,
            days,
        )
        waited = (
            select(*keys, func.count())
            .join(Proposal, Proposal.id == Inspection.proposal_id)
            .where(
                Inspection.starts_at >= start,
                Inspection.starts_at < end,
                Inspection.status == Status.DONE.value,
            )
            .group_by(*keys)
        )
        for (
            visibility,
            agency_id,
            shared_ids,
            p_vis,
            p_agency,
            p_shared,
            whole_days,
            count,
        ) in await self._rows(waited):
            if level.sees(audience_of(visibility, agency_id, shared_ids)) and level.sees(
                audience_of(p_vis, p_agency, p_shared)
            ):
                figures.days_to_inspection[max(0, int(whole_days))] += count

    async def _outcomes(self, figures: Figures, level: Level, start: datetime, end: datetime) -> None:
        shared = cast(Inspection.agency_ids, String).label("shared")
        findings = cast(InspectionPart.findings, String).label("findings")
        measures = cast(InspectionPart.measures, String).label("measures")
        keys = (
            Inspection.visibility,
            Inspection.booker_agency_id,
            shared,
            Proposal.industry,
            Proposal.visibility,
            Proposal.author_agency_id,
            cast(Proposal.shared_agency_ids, String).label("proposal_shared"),
            InspectionPart.agency_id,
            InspectionPart.state,
            InspectionPart.outcome,
            InspectionPart.outcome_shared,
            findings,
            measures,
        )
        statement = (
            select(*keys, func.count())
            .join(InspectionPart, InspectionPart.inspection_id == Inspection.id)
            .outerjoin(Proposal, Proposal.id == Inspection.proposal_id)
            .where(
                Inspection.starts_at >= start,
                Inspection.starts_at < end,
                Inspection.status == Status.DONE.value,
            )
            .group_by(*keys)
        )
        rows = await self._rows(statement)
        for row in rows:
            (visibility, booker, shared_ids, industry, p_vis, p_agency, p_shared) = row[:7]
            agency_id, state, outcome, out_shared, found, measured, n = row[7:]
            audience = audience_of(visibility, booker, shared_ids)
            if not level.sees(audience):
                continue
            readable = outcome is not None and level.reads_outcome(audience, agency_id, bool(out_shared))
            # who took part: by its own outcome where the level may read it; else only by what the
            # inspection's card shows everyone (confirmed, or an outcome recorded), never its value
            if readable:
                took_part = outcome == "done"
            else:
                took_part = state == PartState.CONFIRMED or outcome is not None
            if took_part:
                figures.taking_part[agency_id] += n
            if not readable:
                continue
            # the industry is the proposal's, where the level may see the proposal
            if industry is not None and not level.sees(audience_of(p_vis, p_agency, p_shared)):
                industry = None
            for kind in split_kinds(found):
                figures.findings[kind] += n
                figures.findings_by_industry[industry or NO_INDUSTRY] += n
            for kind in split_kinds(measured):
                figures.measures[kind] += n

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
