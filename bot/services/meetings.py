"""Operational meetings: series set up by the coordinators, their meetings stored some weeks
ahead, reminders planned in the schedule and posted into the forum channel once each, the agenda,
and the series' calendar file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cards import meetings as cards
from bot.cards.common import Card
from bot.domain.calendar import series_ics
from bot.domain.files import FileContent
from bot.domain.inspections import Status as InspectionStatus
from bot.domain.meetings import (
    DEFAULT_TITLE,
    HOLIDAY_LOOKAHEAD,
    HORIZON,
    CancelRequest,
    ExtraRequest,
    HolidayChoice,
    MeetingStatus,
    MoveRequest,
    Occurrence,
    PlanForm,
    ReminderKind,
    ReminderPlan,
    SeriesDraft,
    SeriesForm,
    at_wall_clock,
    downtime_policy,
    due_times,
    holiday_conflicts,
    holiday_moves,
    holiday_name,
    occurrences,
    plan_to_json,
    plan_values,
    validate_plan_form,
    validate_series_form,
)
from bot.domain.members import AgencyView, MemberView, Role
from bot.domain.notices import ItemRef
from bot.domain.proposals import Status as ProposalStatus
from bot.domain.proposals import is_coordinator
from bot.domain.reports import REPORT_TASKS
from bot.domain.visibility import Audience, Visibility, can_see, fit_for_channel
from bot.i18n import Translator
from bot.services.attendance import AttendanceService
from bot.services.files import FileService, Provider
from bot.services.forms import FormService
from bot.services.notices import NoticeService, Render, track
from bot.services.schedule import TaskHandler
from bot.settings import Settings
from bot.storage.audit import Audit
from bot.storage.db import unit_of_work
from bot.storage.forms import FormView
from bot.storage.inspections import Inspections
from bot.storage.meetings import Meetings, MeetingView, NewMeeting, SeriesView, StaleMeeting
from bot.storage.membership import Agencies, Members
from bot.storage.reports import StatusReports
from bot.storage.schedule import Schedule, TaskView

__all__ = ["MeetingService", "MeetingView", "Outcome", "reminder_handlers"]

ITEM = "meeting"
SERIES_ITEM = "meeting_series"
SERIES_FORM = "meeting.series"
PLAN_FORM = "meeting.plan"
ICS_KIND = "meeting.ics"
# The reminders this service posts; the status reports' kinds (REPORT_TASKS) are planned with
# them and handled in bot/services/reports.py.
PLANNED = (ReminderKind.AGENDA, ReminderKind.SHORT)
LIST_SIZE = 10


def task_kind(kind: ReminderKind) -> str:
    return f"meeting.{kind.value}"


def item_of(meeting: MeetingView) -> ItemRef:
    return ItemRef(ITEM, meeting.id)


class Outcome(StrEnum):
    DONE = "done"
    ALREADY = "already"  # the form was submitted before: here is the series it made
    STALE_FORM = "stale_form"
    INVALID = "invalid"
    HOLIDAYS = "holidays"  # meetings fall on holidays: skip or move each first


class PlanOutcome(StrEnum):
    DONE = "done"
    UNCHANGED = "unchanged"  # saved as it was: nothing to plan again
    ALREADY = "already"  # the form was saved before
    STALE_FORM = "stale_form"
    INVALID = "invalid"
    STALE = "stale"  # the series changed meanwhile: here is its plan now
    ENDED = "ended"


@dataclass
class PlanResult:
    outcome: PlanOutcome
    series: SeriesView | None = None
    form: PlanForm | None = None
    replanned: int = 0  # meetings ahead whose reminders were planned again


@dataclass
class SeriesResult:
    outcome: Outcome
    form: SeriesForm | None = None
    series: SeriesView | None = None
    conflicts: list[tuple[date, str]] = field(default_factory=list)
    announced: bool = False  # the new series was posted into the forum channel


class MeetingService:
    """Meetings inside the caller's unit of work."""

    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.session = session
        self.settings = settings
        self.clock = clock
        self.repo = Meetings(session)
        self.members = Members(session)
        self.forms = FormService(session)
        self.schedule = Schedule(session)
        self.notices = NoticeService(session, settings)
        self.audit = Audit(session)
        self.attendance = AttendanceService(session, settings, clock)

    @property
    def zone(self) -> Any:
        return self.settings.zone

    def today(self) -> date:
        return self.clock().astimezone(self.zone).date()

    # The series form ------------------------------------------------------------------
    async def new_form(self, t: Translator, coordinator: MemberView) -> tuple[Card, dict[str, Any]]:
        form = await self.forms.new(SERIES_FORM, coordinator.aad_object_id)
        card = cards.series_form_card(t, form_token=form.token)
        return card, self.forms.track(form, coordinator.id, t.language)

    async def submit_series(self, coordinator: MemberView, raw: dict[str, Any]) -> SeriesResult:
        """The form, and then the holidays' choices: a form card gives at most one series."""
        checked = await self.forms.check(raw.get("form_token"), coordinator.aad_object_id, SERIES_FORM)
        if checked.form is None:
            return SeriesResult(Outcome.STALE_FORM)
        if not checked.open:
            return await self._made_by(checked.form)
        form = validate_series_form(raw, today=self.today())
        if form.draft is None:
            return SeriesResult(Outcome.INVALID, form=form)
        rule = form.draft.rule
        conflicts = holiday_conflicts(rule, rule.first_date(), self.today() + HOLIDAY_LOOKAHEAD)
        if conflicts and raw.get("holidays_chosen") is not True:
            return SeriesResult(Outcome.HOLIDAYS, form=form, conflicts=conflicts)
        choices = {
            day: HolidayChoice.MOVE if raw.get(f"holiday_{day.isoformat()}") == "move" else HolidayChoice.SKIP
            for day, _ in conflicts
        }
        if not await self.forms.use(checked.form):
            again = await self.forms.reread(checked.form)
            return await self._made_by(again) if again else SeriesResult(Outcome.STALE_FORM)
        series = await self._create(coordinator, form.draft, choices, checked.form.token)
        await self.forms.set_result(checked.form, series.id)
        announced = await self._announce_series(series)
        return SeriesResult(Outcome.DONE, form=form, series=series, announced=announced)

    async def _made_by(self, form: FormView) -> SeriesResult:
        series = await self.repo.series(form.result_id) if form.result_id is not None else None
        return SeriesResult(Outcome.ALREADY, series=series) if series else SeriesResult(Outcome.STALE_FORM)

    async def _create(
        self, coordinator: MemberView, draft: SeriesDraft, choices: dict[date, HolidayChoice], token: str
    ) -> SeriesView:
        series = await self.repo.add_series(
            title=draft.title,
            rule=draft.rule,
            place=draft.place,
            teams_link=draft.teams_link,
            plan=plan_to_json(draft.plan),
            holiday_choices=choices,
            stored_until=draft.rule.first_date() - timedelta(days=1),
            created_by=coordinator.id,
            agency_id=coordinator.agency.id,
            form_token=token,
        )
        await self.repo.event(
            coordinator.id,
            "created",
            series_id=series.id,
            changes={"rrule": series.rrule, "holidays": {d.isoformat(): c.value for d, c in choices.items()}},
        )
        await self.audit.record(
            "created",
            SERIES_ITEM,
            series.id,
            actor_id=coordinator.id,
            actor_aad_id=coordinator.aad_object_id,
            details={"rrule": series.rrule},
        )
        await self.extend(series)
        await self.replan_extra()  # they follow the newest series' plan
        return series

    async def _announce_series(self, series: SeriesView) -> bool:
        """The new series as a post in the forum channel: how often, when and where, its first
        meeting, and how to find it; False when no forum channel is linked."""
        first = next((m for m in await self.repo.of_series(series.id) if m.held), None)
        rule = series.rule

        async def render(t: Translator, viewer: MemberView | None) -> Card:
            view = cards.SeriesAnnouncementView(
                series_id=series.id,
                title=series.title,
                recurrence=rule.recurrence,
                weekday=rule.weekday,
                start=rule.start_time,
                end=rule.end_time,
                place=series.place,
                teams_link=series.teams_link,
                first_meeting=self.when(t, first) if first else None,
                first_day=first.starts_at.astimezone(self.zone).date() if first else None,
                plan=series.plan,
            )
            return cards.series_announced_card(t, view)

        return await self.notices.to_channel(
            ItemRef(SERIES_ITEM, series.id),
            Audience.of(Visibility.FORUM, series.agency_id),
            render,
            purpose="meeting_series.created",
            version=series.version,
        )

    # The reminder plan of a running series -------------------------------------------------
    async def plan_form(self, t: Translator, coordinator: MemberView, series: SeriesView) -> tuple[Card, Any]:
        """The series' reminders as a form, prefilled with its plan now; the coordinator's older
        form for the series, if one is still open, is closed and its card says it was replaced."""
        replaced = cards.plan_form_replaced_card(t, series.title)
        await self.forms.replace_open(PLAN_FORM, coordinator.aad_object_id, series.id, replaced)
        form = await self.forms.new(PLAN_FORM, coordinator.aad_object_id, series.id)
        card = cards.plan_form_card(t, self.plan_view(series, form.token))
        return card, self.forms.track(form, coordinator.id, t.language)

    @staticmethod
    def plan_view(series: SeriesView, token: str, form: PlanForm | None = None) -> cards.PlanFormView:
        if form is None:
            return cards.PlanFormView(
                series.id, series.version, series.title, plan_values(series.plan), token
            )
        return cards.PlanFormView(series.id, series.version, series.title, form.values, token, form.errors)

    async def submit_plan(self, coordinator: MemberView, raw: dict[str, Any]) -> PlanResult:
        """A series' reminders changed from their form: the plan stored (at most once a form card,
        and only over the version the form showed), the reminders of its meetings ahead planned
        again. Reminders already sent are not sent again."""
        checked = await self.forms.check(raw.get("form_token"), coordinator.aad_object_id, PLAN_FORM)
        series = None
        if checked.form is not None and checked.form.item_id is not None:
            series = await self.repo.series(checked.form.item_id)
        if checked.form is None or series is None or raw.get("series_id") != series.id:
            return PlanResult(PlanOutcome.STALE_FORM)
        if not checked.open:
            return (
                PlanResult(PlanOutcome.ALREADY, series)
                if checked.used
                else PlanResult(PlanOutcome.STALE_FORM)
            )
        if series.ended_at is not None:
            return PlanResult(PlanOutcome.ENDED, series)
        if raw.get("version") != series.version:
            return PlanResult(PlanOutcome.STALE, series)
        form = validate_plan_form(raw, starts=series.start_time, base=series.plan)
        if form.plan is None:
            return PlanResult(PlanOutcome.INVALID, series, form)
        if not await self.forms.use(checked.form, series.id):
            return PlanResult(PlanOutcome.ALREADY, series)
        if form.plan == series.plan:
            return PlanResult(PlanOutcome.UNCHANGED, series, form)
        changes = {"from": plan_to_json(series.plan), "to": plan_to_json(form.plan)}
        changed = await self.repo.change_plan(
            series.id, series.version, coordinator.id, changes["to"], changes
        )
        if changed is None:
            return PlanResult(PlanOutcome.STALE, series)
        replanned = await self.replan(changed)
        await self.audit.record(
            "plan_changed",
            SERIES_ITEM,
            series.id,
            actor_id=coordinator.id,
            actor_aad_id=coordinator.aad_object_id,
            details=changes,
        )
        return PlanResult(PlanOutcome.DONE, changed, form, replanned)

    async def replan(self, series: SeriesView) -> int:
        """The reminders of the series' meetings ahead (and of the extra meetings, when they follow
        this series) planned again on its plan now; returns how many meetings."""
        now = self.clock()
        ahead = [m for m in await self.repo.of_series(series.id) if m.held and m.starts_at > now]
        for meeting in ahead:
            await self.plan_reminders(meeting, series, repeat_sent=False)
        return len(ahead) + await self.replan_extra()

    async def replan_extra(self) -> int:
        """The extra meetings ahead planned again on the plan they follow now."""
        extra = [m for m in await self.repo.extra_after(self.clock()) if m.held]
        for meeting in extra:
            await self.plan_reminders(meeting, repeat_sent=False)
        return len(extra)

    async def plan_for(self, meeting: MeetingView) -> tuple[SeriesView | None, ReminderPlan]:
        """The series whose plan reminds `meeting`, and that plan: its own series', or for an extra
        meeting the newest running series' (whose title it took); the default plan without one."""
        if meeting.series_id is not None:
            series = await self.repo.series(meeting.series_id)
        else:
            running = await self.repo.running_series()
            series = running[-1] if running else None
        return series, series.plan if series is not None else ReminderPlan()

    # Storing meetings ahead, and their reminders ------------------------------------------
    async def extend(self, series: SeriesView) -> None:
        """Store the series' meetings up to the horizon, with their reminders planned."""
        until = self.today() + HORIZON
        if series.ended_at is not None or series.stored_until >= until:
            return
        rule = series.rule
        first = max(series.stored_until + timedelta(days=1), rule.start_date)
        days = rule.dates(first, until)
        if days:
            skipped, moved = holiday_moves(
                rule,
                {
                    day: series.holiday_choices.get(day, HolidayChoice.SKIP)
                    for day in days
                    if holiday_name(day) is not None
                },
                self.zone,
            )
            start = at_wall_clock(days[0], time.min, self.zone)
            end = at_wall_clock(days[-1] + timedelta(days=1), time.min, self.zone)
            held = occurrences(rule, self.zone, start, end + timedelta(days=7), skipped=skipped, moved=moved)
            new = [
                NewMeeting(
                    o.day,
                    o.start.astimezone(UTC),
                    o.end.astimezone(UTC),
                    MeetingStatus.MOVED if o.moved else MeetingStatus.SCHEDULED,
                )
                for o in held
                if o.day in set(days)
            ]
            for day in sorted(skipped):
                begins = at_wall_clock(day, rule.start_time, self.zone).astimezone(UTC)
                new.append(NewMeeting(day, begins, begins + rule.duration, MeetingStatus.CANCELLED))
            await self.repo.add_missing(series, new)
        await self.repo.stored_to(series.id, until)
        for meeting in await self.repo.of_series(series.id):
            if meeting.day >= first:
                await self.plan_reminders(meeting, series)

    async def extend_all(self) -> None:
        """Every running series stored up to the horizon (a daily job, and before a list)."""
        for series in await self.repo.running_series():
            await self.extend(series)

    async def plan_reminders(
        self, meeting: MeetingView, series: SeriesView | None = None, *, repeat_sent: bool = True
    ) -> None:
        """The meeting's reminders in the schedule at their times; none for a cancelled meeting,
        and none whose time has passed already (there is nothing to be late about). A reminder
        already sent goes out again at its new time if `repeat_sent` (the meeting moved), not when
        only the plan changed."""
        item = item_of(meeting)
        if not meeting.held:
            await self.schedule.cancel(item)
            return
        if series is None or series.id != meeting.series_id:
            series, plan = await self.plan_for(meeting)
        else:
            plan = series.plan
        occurrence = Occurrence(
            meeting.day, meeting.starts_at.astimezone(self.zone), meeting.ends_at.astimezone(self.zone)
        )
        due = due_times(occurrence, plan, self.zone)
        now = self.clock()
        for kind in (*PLANNED, *REPORT_TASKS):
            if kind in due and due[kind] > now:
                await self.schedule.plan(task_kind(kind), item, due[kind], keep_done=not repeat_sent)
            else:
                await self.schedule.cancel(item, [task_kind(kind)])

    # Reading ---------------------------------------------------------------------------
    async def coming(self, limit: int = LIST_SIZE) -> list[MeetingView]:
        await self.extend_all()
        return await self.repo.coming(self.clock(), limit)

    async def next_held(self, limit: int = LIST_SIZE) -> list[MeetingView]:
        await self.extend_all()
        return await self.repo.coming(self.clock(), limit, held_only=True)

    async def on_date(self, day: date) -> MeetingView | None:
        """The meeting held on a local day (a moved one by its new day); else one cancelled then."""
        await self.extend_all()
        start = at_wall_clock(day, time.min, self.zone).astimezone(UTC)
        end = at_wall_clock(day + timedelta(days=1), time.min, self.zone).astimezone(UTC)
        found = await self.repo.starting_between(start, end)
        held = [m for m in found if m.held]
        return (held or found)[0] if found else None

    async def get(self, meeting_id: int) -> MeetingView | None:
        return await self.repo.get(meeting_id)

    async def series(self, series_id: int) -> SeriesView | None:
        return await self.repo.series(series_id)

    def when(self, t: Translator, meeting: MeetingView) -> str:
        return f"{t.datetime_long(meeting.starts_at, self.zone)}–{t.time(meeting.ends_at, self.zone)}"

    def rows(self, t: Translator, meetings: list[MeetingView]) -> list[cards.MeetingRow]:
        return [cards.MeetingRow(m.id, self.when(t, m), m.title, m.status.value) for m in meetings]

    async def card_view(
        self, meeting: MeetingView, viewer: MemberView | None, t: Translator
    ) -> cards.MeetingCardView:
        """What `viewer` (None: the forum channel) may see: the agenda's proposals it may see."""
        agenda = []
        for proposal in await self.repo.agenda(meeting.id):
            allowed = (
                can_see(viewer.viewer, proposal.audience) if viewer else fit_for_channel(proposal.audience)
            )
            if not allowed:
                continue
            agenda.append(
                cards.AgendaItem(
                    proposal.id,
                    proposal.number,
                    proposal.business_name,
                    proposal.status.value,
                    proposal.version,
                    decidable=viewer is not None
                    and is_coordinator(viewer)
                    and proposal.status is ProposalStatus.ACCEPTED
                    and meeting.starts_at <= self.clock(),
                )
            )
        series, plan = await self.plan_for(meeting)
        editable = (
            viewer is not None and is_coordinator(viewer) and series is not None and series.ended_at is None
        )
        ahead = meeting.held and meeting.starts_at > self.clock()
        previous = await self.repo.previous_held(meeting.starts_at)
        done = []
        for inspection in await Inspections(self.session).listing(
            since=previous.starts_at if previous else None,
            until=meeting.starts_at,
            with_cancelled=False,
            limit=50,
        ):
            seen = (
                can_see(viewer.viewer, inspection.audience)
                if viewer
                else fit_for_channel(inspection.audience)
            )
            if seen and inspection.status is InspectionStatus.DONE:
                day = t.date_medium(inspection.starts_at.astimezone(self.zone).date())
                done.append(f"{inspection.number} {inspection.business_name} ({day})")
        return cards.MeetingCardView(
            id=meeting.id,
            title=meeting.title,
            when=self.when(t, meeting),
            status=meeting.status.value,
            place=meeting.place,
            teams_link=meeting.teams_link,
            note=meeting.note,
            agenda=agenda,
            series_id=meeting.series_id,
            calendar=meeting.series_id is not None,
            plan=plan,
            plan_series_id=series.id if editable and series is not None else None,
            coming=await self.attendance.coming_to(meeting) if meeting.held else None,
            attend=ahead,
            attendance_list=viewer is not None and (viewer.has(Role.COORDINATOR) or viewer.has(Role.ADMIN)),
            inspections_done=done,
        )

    def track(self, meeting: MeetingView, viewer: MemberView, t: Translator) -> dict[str, Any]:
        return track(item_of(meeting), viewer.id, t.language)

    # Reminders ---------------------------------------------------------------------------
    def _render(
        self, meeting: MeetingView, headline: str, lines: Callable[[Translator], list[str]]
    ) -> Render:
        async def render(t: Translator, viewer: MemberView | None) -> Card:
            # a reminder is not the place to read, or change, the plan of reminders
            view = replace(await self.card_view(meeting, viewer, t), plan=None, plan_series_id=None)
            return cards.meeting_card(t, view, headline=t(headline, title=meeting.title), extra=lines(t))

        return render

    async def remind(self, task: TaskView, kind: ReminderKind, now: datetime) -> str:
        """One reminder of one meeting, as the schedule hands it over: posted into the forum
        channel (marked late if it is), or, once the meeting has begun, not posted and the
        coordinators told. Keyed by the task and its due time, so it is queued once."""
        meeting = await self.repo.get(task.item.id)
        if meeting is None or not meeting.held:
            return "skipped"
        timeliness = downtime_policy(task.due_at, meeting.starts_at, now)
        item = item_of(meeting)
        version = int(task.due_at.timestamp())
        coordinators = await self.members.approved_with_role(Role.COORDINATOR)
        if timeliness == "missed":

            def missed(t: Translator) -> str:
                return t(
                    "meeting.reminder_missed",
                    reminder=t(f"meeting.reminder.{kind.value}"),
                    title=meeting.title,
                    when=self.when(t, meeting),
                )

            for coordinator in coordinators:
                await self.notices.tell(
                    coordinator,
                    item,
                    meeting.audience,
                    missed,
                    purpose=f"{task.kind}.missed",
                    version=version,
                )
            return timeliness

        reported, missing = await self.reporting(meeting) if kind is ReminderKind.AGENDA else ([], [])
        # the meeting's first reminder in the channel takes its attendance poll along
        poll = await self.attendance.to_post_with_reminder(meeting)

        def lines(t: Translator) -> list[str]:
            found = []
            if timeliness == "late":
                found.append("⚠ " + t("meeting.reminder_late", due=t.datetime_long(task.due_at, self.zone)))
            if kind is ReminderKind.AGENDA:
                # that an agency has reported is for everyone; what it reported is not shown here
                none = t("meeting.reporting_none")
                found.append(
                    t("meeting.reported", agencies=", ".join(a.name(t.language) for a in reported) or none)
                )
                found.append(
                    t("meeting.not_reported", agencies=", ".join(a.name(t.language) for a in missing) or none)
                )
            if poll is not None:
                found.append(t("poll.attendance.below"))
            return found

        headline = f"meeting.reminder_headline.{kind.value}"
        await self.notices.to_channel(
            item, meeting.audience, self._render(meeting, headline, lines), purpose=task.kind, version=version
        )
        if poll is not None:
            await self.attendance.post(meeting, poll)
        if kind is ReminderKind.AGENDA:
            await self.notices.to_members(
                item,
                meeting.audience,
                coordinators,
                self._render(meeting, "meeting.summary_headline", lines),
                purpose=f"{task.kind}.summary",
                version=version,
            )
        return timeliness

    async def reporting(self, meeting: MeetingView) -> tuple[list[AgencyView], list[AgencyView]]:
        """The agencies taking part (with approved members, or a report) that have submitted a
        lägesbild for `meeting`, and those that have not."""
        submitted = {
            r.agency_id for r in await StatusReports(self.session).of_meeting(meeting.id) if r.submitted
        }
        taking_part = {m.agency.id for m in await self.members.approved()} | submitted
        agencies = [a for a in await Agencies(self.session).active() if a.id in taking_part]
        return [a for a in agencies if a.id in submitted], [a for a in agencies if a.id not in submitted]

    # The calendar file ---------------------------------------------------------------------
    async def series_file(self, member: MemberView, series_id: int) -> FileContent | None:
        """The series as an .ics: its rule, skipped meetings as EXDATE, moved ones as overrides."""
        series = await self.repo.series(series_id)
        if series is None or not member.approved:
            return None
        meetings = await self.repo.of_series(series.id)
        rule = series.rule
        if series.ended_at is not None:
            # an ended series stops where it was ended: its meetings after that are called off
            ended = series.ended_at.astimezone(self.zone).date()
            rule = replace(rule, until=max(ended, rule.first_date()))
        body = series_ics(
            uid=f"series-{series.id}@forumbot.vasteras-myndighetsforum",
            title=series.title,
            rule=rule,
            dtstamp=self.clock(),
            location=series.place,
            url=series.teams_link,
            zone_name=self.settings.timezone,
            skipped={m.day for m in meetings if m.status is MeetingStatus.CANCELLED},
            moved={m.day: m.starts_at for m in meetings if m.status is MeetingStatus.MOVED},
        )
        return FileContent(f"{series.title}.ics", "text/calendar", body)


def reminder_handlers(settings: Settings) -> dict[str, TaskHandler]:
    """The schedule's kinds for meetings: each reminder kind this version plans."""

    def handler(kind: ReminderKind) -> TaskHandler:
        async def run(session: AsyncSession, task: TaskView, now: datetime) -> str:
            return await MeetingService(session, settings, lambda: now).remind(task, kind, now)

        return run

    return {task_kind(kind): handler(kind) for kind in PLANNED}


async def extend_horizons(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Callable[[], datetime]
) -> None:
    """The daily job: every running series' meetings stored, and reminders planned, to the horizon."""
    async with unit_of_work(sessions) as session:
        await MeetingService(session, settings, clock).extend_all()


def calendar_provider(settings: Settings, clock: Callable[[], datetime]) -> Provider:
    """The "meeting.ics" files: a series' calendar, for every approved member (meetings are the
    forum's)."""

    async def provide(session: AsyncSession, member: MemberView, series_id: int) -> FileContent | None:
        return await MeetingService(session, settings, clock).series_file(member, series_id)

    return provide


async def calendar_link(
    session: AsyncSession, files: FileService, member: MemberView, series_id: int
) -> tuple[str, str] | None:
    """A short-lived link to the series' calendar file for `member`, with the series' title; None
    for a series that does not exist."""
    series = await Meetings(session).series(series_id)
    if series is None or not member.approved:
        return None
    return series.title, files.link(member, ICS_KIND, series.id)


# --- A coordinator's changes: move, cancel, an extra meeting, the end of a series -----------------


class Change(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"  # no meeting that day (or no such series)
    NOT_HELD = "not_held"  # cancelled already
    BEGUN = "begun"  # the meeting has begun or is over: history is not rewritten
    PAST = "past"  # the new time has passed
    DAY_TAKEN = "day_taken"  # another meeting is held that day
    STALE = "stale"  # changed by someone else meanwhile; look again
    ENDED = "ended"  # the series has ended already


@dataclass
class ChangeResult:
    outcome: Change
    meeting: MeetingView | None = None
    before: MeetingView | None = None
    series: SeriesView | None = None
    cancelled: int = 0  # meetings called off with an ended series


class MeetingChanges:
    """Changes to meetings inside the caller's unit of work. Each is kept in the meeting's history,
    its reminders planned again (or cancelled), and a note goes out to the forum channel."""

    def __init__(self, meetings: MeetingService) -> None:
        self.meetings = meetings
        self.repo = meetings.repo
        self.zone = meetings.zone

    def _at(self, day: date, at: time) -> datetime:
        return at_wall_clock(day, at, self.zone).astimezone(UTC)

    async def _held_on(self, day: date, *, besides: int | None = None) -> MeetingView | None:
        start, end = self._at(day, time.min), self._at(day + timedelta(days=1), time.min)
        found = await self.repo.starting_between(start, end)
        return next((m for m in found if m.held and m.id != besides), None)

    async def _changeable(self, day: date) -> tuple[MeetingView | None, Change | None]:
        meeting = await self.meetings.on_date(day)
        if meeting is None:
            return None, Change.NOT_FOUND
        if not meeting.held:
            return meeting, Change.NOT_HELD
        if meeting.starts_at <= self.meetings.clock():
            return meeting, Change.BEGUN
        return meeting, None

    async def move(self, coordinator: MemberView, request: MoveRequest) -> ChangeResult:
        """The meeting held on `request.day` to its new day and time, lasting as long as before."""
        meeting, refused = await self._changeable(request.day)
        if refused is not None or meeting is None:
            return ChangeResult(refused or Change.NOT_FOUND, meeting)
        at = request.new_time or meeting.starts_at.astimezone(self.zone).time().replace(tzinfo=None)
        starts = self._at(request.new_day, at)
        if starts <= self.meetings.clock():
            return ChangeResult(Change.PAST, meeting)
        if await self._held_on(request.new_day, besides=meeting.id) is not None:
            return ChangeResult(Change.DAY_TAKEN, meeting)
        changes = {"from": meeting.starts_at.isoformat(), "to": starts.isoformat()}
        return await self._changed(
            coordinator,
            meeting,
            "moved",
            changes,
            starts_at=starts,
            ends_at=starts + (meeting.ends_at - meeting.starts_at),
            status=MeetingStatus.MOVED.value,
            note=request.note,
        )

    async def cancel(self, coordinator: MemberView, request: CancelRequest) -> ChangeResult:
        """The meeting held on `request.day` called off, with why."""
        meeting, refused = await self._changeable(request.day)
        if refused is not None or meeting is None:
            return ChangeResult(refused or Change.NOT_FOUND, meeting)
        changes = {"status": [meeting.status.value, MeetingStatus.CANCELLED.value]}
        return await self._changed(
            coordinator,
            meeting,
            "cancelled",
            changes,
            status=MeetingStatus.CANCELLED.value,
            note=request.note,
        )

    async def _changed(
        self, coordinator: MemberView, meeting: MeetingView, kind: str, changes: dict[str, Any], **values: Any
    ) -> ChangeResult:
        try:
            changed = await self.repo.change(
                meeting.id, meeting.version, coordinator.id, kind, changes, **values
            )
        except StaleMeeting:
            return ChangeResult(Change.STALE, meeting)
        await self.meetings.plan_reminders(changed)
        await self.meetings.attendance.follow(changed, coordinator)
        await self._announce(changed, kind, before=meeting)
        await self.meetings.audit.record(
            kind,
            ITEM,
            meeting.id,
            actor_id=coordinator.id,
            actor_aad_id=coordinator.aad_object_id,
            details=changes,
        )
        return ChangeResult(Change.DONE, changed, before=meeting)

    async def add_extra(self, coordinator: MemberView, request: ExtraRequest) -> ChangeResult:
        """A single meeting besides the series: the running series' title, and its place and link
        unless a place is given."""
        starts = self._at(request.day, request.start)
        if starts <= self.meetings.clock():
            return ChangeResult(Change.PAST)
        if await self._held_on(request.day) is not None:
            return ChangeResult(Change.DAY_TAKEN)
        running = await self.repo.running_series()
        series = running[-1] if running else None
        meeting = await self.repo.add_extra(
            day=request.day,
            starts_at=starts,
            ends_at=starts
            + (datetime.combine(request.day, request.end) - datetime.combine(request.day, request.start)),
            title=series.title if series else DEFAULT_TITLE,
            place=request.place or (series.place if series else None),
            teams_link=None if request.place or series is None else series.teams_link,
            agency_id=coordinator.agency.id,
        )
        changes = {"starts_at": meeting.starts_at.isoformat()}
        await self.repo.event(coordinator.id, "added", meeting_id=meeting.id, changes=changes)
        await self.meetings.plan_reminders(meeting)
        await self._announce(meeting, "added")
        await self.meetings.audit.record(
            "added", ITEM, meeting.id, actor_id=coordinator.id, actor_aad_id=coordinator.aad_object_id
        )
        return ChangeResult(Change.DONE, meeting)

    async def running_series(self) -> list[SeriesView]:
        return await self.repo.running_series()

    async def _ahead_in(self, series: SeriesView) -> list[MeetingView]:
        now = self.meetings.clock()
        return [m for m in await self.repo.of_series(series.id) if m.held and m.starts_at > now]

    async def before_ending(self, series_id: int) -> ChangeResult:
        """What ending the series would do, for the coordinator to confirm: how many meetings ahead
        would be called off (`cancelled`)."""
        series = await self.repo.series(series_id)
        if series is None:
            return ChangeResult(Change.NOT_FOUND)
        if series.ended_at is not None:
            return ChangeResult(Change.ENDED, series=series)
        return ChangeResult(Change.DONE, series=series, cancelled=len(await self._ahead_in(series)))

    async def end_series(self, coordinator: MemberView, series_id: int, note: str | None) -> ChangeResult:
        """No more meetings in the series: those ahead are called off and their reminders with them."""
        series = await self.repo.series(series_id)
        if series is None:
            return ChangeResult(Change.NOT_FOUND)
        now = self.meetings.clock()
        if not await self.repo.end_series(series.id, coordinator.id, now):
            return ChangeResult(Change.ENDED, series=series)
        cancelled = 0
        for meeting in await self._ahead_in(series):
            called_off = await self.repo.change(
                meeting.id,
                meeting.version,
                coordinator.id,
                "cancelled",
                {"status": [meeting.status.value, MeetingStatus.CANCELLED.value], "series_ended": True},
                status=MeetingStatus.CANCELLED.value,
                note=note,
            )
            await self.meetings.schedule.cancel(item_of(meeting))
            await self.meetings.attendance.follow(called_off, coordinator)
            cancelled += 1
        ended = await self.repo.series(series.id)
        assert ended is not None
        await self.meetings.replan_extra()  # they followed this series' plan, perhaps

        async def render(t: Translator, viewer: MemberView | None) -> Card:
            return cards.series_ended_card(t, title=series.title, cancelled=cancelled, note=note)

        audience = Audience.of(Visibility.FORUM, series.agency_id)
        await self.meetings.notices.to_channel(
            ItemRef(SERIES_ITEM, series.id),
            audience,
            render,
            purpose="meeting_series.ended",
            version=ended.version,
        )
        await self.meetings.audit.record(
            "ended",
            SERIES_ITEM,
            series.id,
            actor_id=coordinator.id,
            actor_aad_id=coordinator.aad_object_id,
            details={"cancelled": cancelled},
        )
        return ChangeResult(Change.DONE, series=ended, cancelled=cancelled)

    async def _announce(self, meeting: MeetingView, kind: str, before: MeetingView | None = None) -> None:
        """The change as a post in the forum channel: the meeting's card under what happened."""

        async def render(t: Translator, viewer: MemberView | None) -> Card:
            view = await self.meetings.card_view(meeting, viewer, t)
            lines = (
                [t("meeting.change.was", when=self.meetings.when(t, before))]
                if before and kind == "moved"
                else []
            )
            return cards.meeting_card(
                t, view, headline=t(f"meeting.change.{kind}", title=meeting.title), extra=lines
            )

        await self.meetings.notices.to_channel(
            item_of(meeting), meeting.audience, render, purpose=f"meeting.{kind}", version=meeting.version
        )


def series_rows(t: Translator, running: list[SeriesView]) -> list[cards.SeriesRow]:
    """Each series as a line: how often, which weekday, from when to when."""
    rows = []
    for series in running:
        rule = series.rule
        day = datetime.combine(rule.first_date(), rule.start_time)
        end = datetime.combine(rule.first_date(), rule.end_time)
        when = (
            f"{t(f'meeting.recurrence.{rule.recurrence.value}')}, {t(f'meeting.weekday.{rule.weekday}')} "
            f"{t.time(day.replace(tzinfo=UTC), UTC)}–{t.time(end.replace(tzinfo=UTC), UTC)}"
        )
        rows.append(cards.SeriesRow(series.id, series.title, when, cards.plan_words(t, series.plan)))
    return rows
