"""Repository of meeting series, their meetings and their history. Never commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.meetings import HolidayChoice, MeetingStatus, ReminderPlan, SeriesRule, plan_from_json
from bot.domain.visibility import Audience, Visibility
from bot.storage.common import insert_for, now
from bot.storage.models import Meeting, MeetingEvent, MeetingSeries, Proposal
from bot.storage.proposals import ProposalView
from bot.storage.proposals import view as proposal_view


@dataclass(frozen=True)
class SeriesView:
    id: int
    title: str
    rrule: str
    start_date: date
    start_time: time
    end_time: time
    place: str | None
    teams_link: str | None
    plan: ReminderPlan
    holiday_choices: dict[date, HolidayChoice]
    stored_until: date
    created_by: int
    agency_id: int
    ended_at: datetime | None
    version: int

    @property
    def rule(self) -> SeriesRule:
        return SeriesRule.from_rrule(
            self.rrule, start_date=self.start_date, start_time=self.start_time, end_time=self.end_time
        )


@dataclass(frozen=True)
class MeetingView:
    """A meeting with its series' title, place and link filled in."""

    id: int
    series_id: int | None
    day: date
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus
    note: str | None
    title: str
    place: str | None
    teams_link: str | None
    agency_id: int
    version: int

    @property
    def audience(self) -> Audience:
        """Meetings are the forum's: every member may see that one takes place."""
        return Audience.of(Visibility.FORUM, self.agency_id)

    @property
    def held(self) -> bool:
        return self.status is not MeetingStatus.CANCELLED


@dataclass(frozen=True)
class MeetingEventView:
    at: datetime
    actor_id: int
    kind: str
    note: str | None
    changes: dict[str, Any] | None


def series_view(row: MeetingSeries) -> SeriesView:
    return SeriesView(
        row.id,
        row.title,
        row.rrule,
        row.start_date,
        row.start_time,
        row.end_time,
        row.place,
        row.teams_link,
        plan_from_json(row.reminder_plan),
        {date.fromisoformat(k): HolidayChoice(v) for k, v in (row.holiday_choices or {}).items()},
        row.stored_until,
        row.created_by,
        row.agency_id,
        row.ended_at,
        row.version,
    )


def _meeting_view(row: Meeting, series: MeetingSeries | None) -> MeetingView:
    return MeetingView(
        row.id,
        row.series_id,
        row.day,
        row.starts_at,
        row.ends_at,
        MeetingStatus(row.status),
        row.note,
        row.title or (series.title if series else ""),
        row.place if row.series_id is None or series is None else series.place,
        row.teams_link if row.series_id is None or series is None else series.teams_link,
        row.agency_id,
        row.version,
    )


@dataclass(frozen=True)
class NewMeeting:
    day: date
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus


class StaleMeeting(Exception):
    """Changed by someone else since it was shown."""


class Meetings:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Series ---------------------------------------------------------------------------
    async def add_series(
        self,
        *,
        title: str,
        rule: SeriesRule,
        place: str | None,
        teams_link: str | None,
        plan: dict[str, Any],
        holiday_choices: dict[date, HolidayChoice],
        stored_until: date,
        created_by: int,
        agency_id: int,
        form_token: str | None,
    ) -> SeriesView:
        row = MeetingSeries(
            title=title,
            rrule=rule.to_rrule(),
            start_date=rule.start_date,
            start_time=rule.start_time,
            end_time=rule.end_time,
            place=place,
            teams_link=teams_link,
            reminder_plan=plan,
            holiday_choices={d.isoformat(): c.value for d, c in sorted(holiday_choices.items())},
            stored_until=stored_until,
            created_by=created_by,
            agency_id=agency_id,
            created_at=now(),
            version=1,
            form_token=form_token,
        )
        self.session.add(row)
        await self.session.flush()
        return series_view(row)

    async def series(self, series_id: int) -> SeriesView | None:
        row = await self.session.get(MeetingSeries, series_id)
        return series_view(row) if row else None

    async def series_by_form(self, form_token: str) -> SeriesView | None:
        row = await self.session.scalar(select(MeetingSeries).where(MeetingSeries.form_token == form_token))
        return series_view(row) if row else None

    async def running_series(self) -> list[SeriesView]:
        rows = await self.session.scalars(
            select(MeetingSeries).where(MeetingSeries.ended_at.is_(None)).order_by(MeetingSeries.id)
        )
        return [series_view(r) for r in rows]

    async def stored_to(self, series_id: int, day: date) -> None:
        await self.session.execute(
            update(MeetingSeries)
            .where(MeetingSeries.id == series_id, MeetingSeries.stored_until < day)
            .values(stored_until=day)
            .execution_options(synchronize_session=False)
        )

    # Meetings -------------------------------------------------------------------------
    async def add_missing(self, series: SeriesView, meetings: Iterable[NewMeeting]) -> None:
        """Store the series' meetings not stored yet; one already there (perhaps moved or
        cancelled since) is left as it is, also when another process stores it at the same time."""
        moment = now()
        for meeting in meetings:
            await self.session.execute(
                insert_for(self.session)(Meeting)
                .values(
                    series_id=series.id,
                    day=meeting.day,
                    starts_at=meeting.starts_at,
                    ends_at=meeting.ends_at,
                    status=meeting.status.value,
                    agency_id=series.agency_id,
                    version=1,
                    created_at=moment,
                    updated_at=moment,
                )
                .on_conflict_do_nothing(index_elements=["series_id", "day"])
            )

    async def add_extra(
        self,
        *,
        day: date,
        starts_at: datetime,
        ends_at: datetime,
        title: str,
        place: str | None,
        teams_link: str | None,
        agency_id: int,
    ) -> MeetingView:
        moment = now()
        row = Meeting(
            series_id=None,
            day=day,
            starts_at=starts_at,
            ends_at=ends_at,
            status=MeetingStatus.SCHEDULED.value,
            title=title,
            place=place,
            teams_link=teams_link,
            agency_id=agency_id,
            version=1,
            created_at=moment,
            updated_at=moment,
        )
        self.session.add(row)
        await self.session.flush()
        return _meeting_view(row, None)

    async def _views(self, rows: Iterable[Meeting]) -> list[MeetingView]:
        rows = list(rows)
        ids = {r.series_id for r in rows if r.series_id is not None}
        series: dict[int, MeetingSeries] = {}
        if ids:
            found = await self.session.scalars(select(MeetingSeries).where(MeetingSeries.id.in_(ids)))
            series = {s.id: s for s in found}
        return [_meeting_view(r, series.get(r.series_id) if r.series_id else None) for r in rows]

    async def get(self, meeting_id: int) -> MeetingView | None:
        row = await self.session.get(Meeting, meeting_id)
        return (await self._views([row]))[0] if row else None

    async def of_series(self, series_id: int) -> list[MeetingView]:
        rows = await self.session.scalars(
            select(Meeting).where(Meeting.series_id == series_id).order_by(Meeting.starts_at)
        )
        return await self._views(rows)

    async def coming(self, after: datetime, limit: int, *, held_only: bool = False) -> list[MeetingView]:
        """Meetings that end after `after`, earliest first."""
        statement = select(Meeting).where(Meeting.ends_at > after).order_by(Meeting.starts_at, Meeting.id)
        if held_only:
            statement = statement.where(Meeting.status != MeetingStatus.CANCELLED.value)
        return await self._views(await self.session.scalars(statement.limit(limit)))

    async def previous_held(self, before: datetime) -> MeetingView | None:
        """The last meeting held (not called off) that began before `before`."""
        row = await self.session.scalar(
            select(Meeting)
            .where(Meeting.starts_at < before, Meeting.status != MeetingStatus.CANCELLED.value)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
            .limit(1)
        )
        return (await self._views([row]))[0] if row else None

    async def starting_between(self, start: datetime, end: datetime) -> list[MeetingView]:
        rows = await self.session.scalars(
            select(Meeting)
            .where(Meeting.starts_at >= start, Meeting.starts_at < end)
            .order_by(Meeting.starts_at, Meeting.id)
        )
        return await self._views(rows)

    async def change(
        self, meeting_id: int, version: int, actor_id: int, kind: str, changes: dict[str, Any], **values: Any
    ) -> MeetingView:
        """Set `values` on the meeting if it is still at `version`, and keep what changed."""
        result = await self.session.execute(
            update(Meeting)
            .where(Meeting.id == meeting_id, Meeting.version == version)
            .values(version=version + 1, updated_at=now(), **values)
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            raise StaleMeeting(meeting_id)
        await self.event(actor_id, kind, meeting_id=meeting_id, note=values.get("note"), changes=changes)
        row = await self.session.get(Meeting, meeting_id, populate_existing=True)
        assert row is not None
        return (await self._views([row]))[0]

    async def change_plan(
        self, series_id: int, version: int, actor_id: int, plan: dict[str, Any], changes: dict[str, Any]
    ) -> SeriesView | None:
        """The running series' reminder plan, if the series is still at `version`; kept in its
        history. None when it changed or ended meanwhile."""
        result = await self.session.execute(
            update(MeetingSeries)
            .where(
                MeetingSeries.id == series_id,
                MeetingSeries.version == version,
                MeetingSeries.ended_at.is_(None),
            )
            .values(reminder_plan=plan, version=version + 1)
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return None
        await self.event(actor_id, "plan_changed", series_id=series_id, changes=changes)
        row = await self.session.get(MeetingSeries, series_id, populate_existing=True)
        return series_view(row) if row else None

    async def extra_after(self, moment: datetime) -> list[MeetingView]:
        """Meetings outside any series that start after `moment`."""
        rows = await self.session.scalars(
            select(Meeting)
            .where(Meeting.series_id.is_(None), Meeting.starts_at > moment)
            .order_by(Meeting.starts_at, Meeting.id)
        )
        return await self._views(rows)

    async def end_series(self, series_id: int, actor_id: int, moment: datetime) -> bool:
        result = await self.session.execute(
            update(MeetingSeries)
            .where(MeetingSeries.id == series_id, MeetingSeries.ended_at.is_(None))
            .values(ended_at=moment, version=MeetingSeries.version + 1)
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return False
        await self.event(actor_id, "ended", series_id=series_id)
        return True

    # History --------------------------------------------------------------------------
    async def event(
        self,
        actor_id: int,
        kind: str,
        *,
        series_id: int | None = None,
        meeting_id: int | None = None,
        note: str | None = None,
        changes: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            MeetingEvent(
                series_id=series_id,
                meeting_id=meeting_id,
                at=now(),
                actor_id=actor_id,
                kind=kind,
                note=note,
                changes=changes,
            )
        )
        await self.session.flush()

    async def history(self, meeting: MeetingView) -> list[MeetingEventView]:
        """What changed on the meeting, and on its series."""
        condition = MeetingEvent.meeting_id == meeting.id
        if meeting.series_id is not None:
            condition = condition | (
                (MeetingEvent.series_id == meeting.series_id) & MeetingEvent.meeting_id.is_(None)
            )
        rows = await self.session.scalars(select(MeetingEvent).where(condition).order_by(MeetingEvent.id))
        return [MeetingEventView(r.at, r.actor_id, r.kind, r.note, r.changes) for r in rows]

    # Agenda ---------------------------------------------------------------------------
    async def agenda(self, meeting_id: int) -> list[ProposalView]:
        """The proposals put on this meeting's agenda, oldest first; the caller filters by who
        may see them."""
        rows = await self.session.scalars(
            select(Proposal).where(Proposal.meeting_id == meeting_id).order_by(Proposal.id)
        )
        return [proposal_view(r) for r in rows]
