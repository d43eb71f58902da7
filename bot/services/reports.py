"""Status reports (lägesbild), part of the meetings capability: each agency's report for a
meeting (drafted and submitted from its form, with a history), the compiled picture each reader
may see, and the two scheduled tasks of each meeting: a nudge in personal chat to the agencies that
have not reported, and the compiled picture posted into the forum channel."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import reports as cards
from bot.cards.common import Card
from bot.domain.followup import Level
from bot.domain.identity import mask_personal_numbers
from bot.domain.meetings import ReminderKind, downtime_policy
from bot.domain.members import MemberView, Role
from bot.domain.notices import ItemRef
from bot.domain.reports import ReportForm, ReportStatus, changed_fields, validate_report_form
from bot.domain.visibility import can_see, fit_for_channel
from bot.i18n import Translator
from bot.services.forms import FormService
from bot.services.meetings import ITEM as MEETING_ITEM
from bot.services.meetings import MeetingService, MeetingView, task_kind
from bot.services.notices import NoticeService, Reach, track
from bot.services.schedule import TaskHandler
from bot.settings import Settings
from bot.storage.audit import Audit
from bot.storage.followup import FollowUp
from bot.storage.membership import Agencies, Members
from bot.storage.reports import ReportView, StaleReport, StatusReports, draft_fields
from bot.storage.schedule import TaskView

ITEM = "status_report"
# the compiled picture of one meeting: its own item, so that the meeting's card copies stay apart
PICTURE = "status_picture"
REPORT_FORM = "meeting.report"

log = logging.getLogger(__name__)


def picture_of(meeting: MeetingView) -> ItemRef:
    return ItemRef(PICTURE, meeting.id)


class Outcome(StrEnum):
    DONE = "done"
    ALREADY = "already"  # this form card was sent before
    STALE_FORM = "stale_form"  # a forged, cancelled or someone else's form
    INVALID = "invalid"
    STALE = "stale"  # someone else of the agency saved the report since the form was handed out
    SUBMITTED_ALREADY = "submitted_already"  # a submitted report is not turned back into a draft
    CLOSED = "closed"  # the meeting is gone, cancelled or has begun


@dataclass(frozen=True)
class Nudged:
    """How the nudge to report went: on time or late (the schedule's outcome), how many members
    it reminded, and the members it could not reach."""

    timeliness: str
    reminded: int = 0
    unreachable: tuple[MemberView, ...] = ()


@dataclass
class Result:
    outcome: Outcome
    report: ReportView | None = None
    meeting: MeetingView | None = None
    form: ReportForm | None = None


class ReportService:
    """Status reports inside the caller's unit of work."""

    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.meetings = MeetingService(session, settings, clock)
        self.session = session
        self.repo = StatusReports(session)
        self.agencies = Agencies(session)
        self.members = Members(session)
        self.forms = FormService(session)
        self.notices = NoticeService(session, settings)
        self.audit = Audit(session)

    # Which meeting ------------------------------------------------------------------------
    def open_for_reports(self, meeting: MeetingView | None) -> bool:
        return meeting is not None and meeting.held and meeting.starts_at > self.clock()

    async def meeting_for(self, day: date | None) -> MeetingView | None:
        """The meeting on `day`, or the next one; None when there is none still ahead."""
        if day is None:
            found = [m for m in await self.meetings.next_held() if self.open_for_reports(m)]
            return found[0] if found else None
        meeting = await self.meetings.on_date(day)
        return meeting if self.open_for_reports(meeting) else None

    async def picture_meeting(self) -> MeetingView | None:
        """Whose compiled picture `lägesbild` shows: the meeting going on now until it ends (when
        the picture is read), else the next one."""
        held = await self.meetings.next_held(limit=1)
        return held[0] if held else None

    async def get_meeting(self, meeting_id: int) -> MeetingView | None:
        return await self.meetings.get(meeting_id)

    def label(self, t: Translator, meeting: MeetingView) -> str:
        return f"{meeting.title}, {self.meetings.when(t, meeting)}"

    # The form -----------------------------------------------------------------------------
    async def form(
        self,
        t: Translator,
        member: MemberView,
        meeting: MeetingView,
        *,
        form: ReportForm | None = None,
        headline: str | None = None,
    ) -> tuple[Card, dict[str, Any]]:
        """The agency's report form for the meeting, prefilled with what is saved (or with what
        was entered, and its errors), under a fresh form token; and the track of where it lands."""
        report = await self.repo.get(meeting.id, member.agency.id)
        agencies = await self.agencies.active()
        codes = {a.id: a.code for a in agencies}
        token = await self.forms.new(REPORT_FORM, member.aad_object_id, meeting.id)
        view = cards.ReportFormView(
            meeting_id=meeting.id,
            meeting=self.label(t, meeting),
            agency=member.agency.name(t.language),
            version=report.version if report else 0,
            submitted=report is not None and report.submitted,
            agencies=[cards.Named(a.code, a.name(t.language)) for a in agencies if a.id != member.agency.id],
            form_token=token.token,
            values=form.values if form else values_of(report, codes),
            errors=form.errors if form else {},
        )
        return cards.report_form_card(t, view, headline=headline), self.forms.track(
            token, member.id, t.language
        )

    async def save(
        self, member: MemberView, meeting_id: int, version: int, raw: dict[str, Any], *, submit: bool
    ) -> Result:
        """The form saved as the agency's draft, or submitted (again): one save per form card;
        saved over someone else's newer save of the same agency it is not."""
        checked = await self.forms.check(raw.get("form_token"), member.aad_object_id, REPORT_FORM)
        if checked.form is None or checked.form.item_id != meeting_id:
            return Result(Outcome.STALE_FORM)
        meeting = await self.meetings.get(meeting_id)
        if meeting is None or not self.open_for_reports(meeting):
            return Result(Outcome.CLOSED, meeting=meeting)
        before = await self.repo.get(meeting.id, member.agency.id)
        if not checked.open:
            return Result(Outcome.ALREADY, before, meeting)
        agencies = await self.agencies.active()
        form = validate_report_form(
            raw,
            agency_id=member.agency.id,
            agency_ids_by_code={a.code: a.id for a in agencies},
            submit=submit,
        )
        if form.draft is None:
            return Result(Outcome.INVALID, before, meeting, form)
        if (before.version if before else 0) != version:
            return Result(Outcome.STALE, before, meeting)
        if not submit and before is not None and before.submitted:
            return Result(Outcome.SUBMITTED_ALREADY, before, meeting, form)
        if not await self.forms.use(checked.form):
            return Result(Outcome.ALREADY, before, meeting)
        if submit:
            kind = "updated" if before is not None and before.submitted else "submitted"
        else:
            kind = "drafted"
        try:
            report = await self.repo.save(
                meeting_id=meeting.id,
                agency_id=member.agency.id,
                version=version,
                draft=form.draft,
                status=ReportStatus.SUBMITTED if submit else ReportStatus.DRAFT,
                author_id=member.id,
                kind=kind,
                changes=changed_fields(before.fields() if before else {}, draft_fields(form.draft)),
            )
        except StaleReport:
            return Result(Outcome.STALE, await self.repo.get(meeting.id, member.agency.id), meeting)
        await self.audit.record(
            kind,
            ITEM,
            report.id,
            actor_id=member.id,
            actor_aad_id=member.aad_object_id,
            details={"meeting_id": meeting.id, "visibility": report.visibility.value},
        )
        await self.refresh_pictures(meeting)
        return Result(Outcome.DONE, report, meeting)

    async def refresh_pictures(self, meeting: MeetingView) -> int:
        """Every posted copy of the meeting's compiled picture (the forum channel's, and each
        member's) updated in place: who has reported, and what each reader may read, as of now."""

        async def render(t: Translator, viewer: MemberView | None) -> Card:
            return await self.compiled_card(t, meeting, viewer)

        # each save raises one report's version by one: their sum orders the pictures
        version = sum(r.version for r in await self.repo.of_meeting(meeting.id))
        return await self.notices.refresh(
            picture_of(meeting), meeting.audience, render, cards.picture_gone_card, version=version
        )

    # The compiled picture -----------------------------------------------------------------
    async def compiled_view(
        self, meeting: MeetingView, viewer: MemberView | None, t: Translator
    ) -> cards.CompiledView:
        """Per agency taking part, what `viewer` (None: the forum channel) may read of its report,
        masked beyond the reporting agency; else only that it has reported, or that it has not."""
        reports = {r.agency_id: r for r in await self.repo.of_meeting(meeting.id)}
        taking_part = {m.agency.id for m in await self.members.approved()} | set(reports)
        entries = []
        for agency in await self.agencies.active():
            if agency.id not in taking_part:
                continue
            name = agency.name(t.language)
            report = reports.get(agency.id)
            own = viewer is not None and viewer.agency.id == agency.id
            if report is None or (not report.submitted and not own):
                entries.append(cards.CompiledEntry(name, cards.EntryState.MISSING))
                continue
            allowed = can_see(viewer.viewer, report.audience) if viewer else fit_for_channel(report.audience)
            if not allowed:
                entries.append(cards.CompiledEntry(name, cards.EntryState.REPORTED))
                continue

            def shown(value: str | None, *, own: bool = own) -> str | None:
                return value if own or value is None else mask_personal_numbers(value)

            state = cards.EntryState.SHOWN if report.submitted else cards.EntryState.DRAFT
            entries.append(
                cards.CompiledEntry(
                    name,
                    state,
                    shown(report.seen),
                    shown(report.planned),
                    shown(report.needs),
                    report.visibility.value if own else None,
                )
            )
        own_report = reports.get(viewer.agency.id) if viewer is not None else None
        return cards.CompiledView(
            meeting.id,
            meeting.title,
            self.meetings.when(t, meeting),
            entries,
            personal=viewer is not None,
            open=self.open_for_reports(meeting),
            submitted=own_report is not None and own_report.submitted,
            since=await self.since_last(t, meeting, viewer),
        )

    async def since_last(self, t: Translator, meeting: MeetingView, viewer: MemberView | None) -> str | None:
        """The "sedan förra mötet" line: new proposals and joint inspections done since the meeting
        before, as far as the reader may see (the channel: forum-wide ones). None for the first."""
        previous = await self.meetings.repo.previous_held(meeting.starts_at)
        if previous is None:
            return None
        level = Level() if viewer is None else Level(viewer.agency.id)
        made, done = await FollowUp(self.session).since(level, previous.starts_at, meeting.starts_at)
        return t(
            "followup.since_last",
            day=t.date_medium(previous.starts_at.astimezone(self.settings.zone).date()),
            proposals=t.plural("followup.since.proposals", made),
            inspections=t.plural("followup.since.inspections", done),
        )

    async def compiled_card(self, t: Translator, meeting: MeetingView, viewer: MemberView | None) -> Card:
        return cards.compiled_card(t, await self.compiled_view(meeting, viewer, t))

    def track(self, meeting: MeetingView, viewer: MemberView, t: Translator) -> dict[str, Any]:
        return track(picture_of(meeting), viewer.id, t.language)

    # Scheduled tasks ------------------------------------------------------------------------
    async def post_compiled(self, task: TaskView, now: datetime) -> str:
        """The compiled picture into the forum channel: only forum-wide reports' content there.
        Once the meeting has begun it is not posted, and the coordinators are told."""
        meeting = await self.meetings.get(task.item.id)
        if meeting is None or not meeting.held:
            return "skipped"
        timeliness = downtime_policy(task.due_at, meeting.starts_at, now)
        version = int(task.due_at.timestamp())
        if timeliness == "missed":
            await self._tell_missed(meeting, task, version)
            return timeliness

        # the meeting's first reminder in the channel takes its attendance poll along
        poll = await self.meetings.attendance.to_post_with_reminder(meeting)

        async def render(t: Translator, viewer: MemberView | None) -> Card:
            card = await self.compiled_card(t, meeting, viewer)
            if poll is not None:
                card["body"].insert(
                    1, {"type": "TextBlock", "text": t("poll.attendance.below"), "wrap": True}
                )
            if timeliness == "late":
                late = t("meeting.reminder_late", due=t.datetime_long(task.due_at, self.settings.zone))
                card["body"].insert(1, {"type": "TextBlock", "text": "⚠ " + late, "wrap": True})
            return card

        await self.notices.to_channel(
            picture_of(meeting), meeting.audience, render, purpose=task.kind, version=version
        )
        if poll is not None:
            await self.meetings.attendance.post(meeting, poll)
        return timeliness

    async def nudge(self, task: TaskView, now: datetime) -> Nudged:
        """The approved members of each agency that has not submitted its report are reminded in
        personal chat, each once for the meeting (also if the meeting moves and it runs again).
        Those it cannot reach are named to the coordinators, once for the meeting."""
        meeting = await self.meetings.get(task.item.id)
        if meeting is None or not meeting.held:
            return Nudged("skipped")
        timeliness = downtime_policy(task.due_at, meeting.starts_at, now)
        if timeliness == "missed":
            return Nudged(timeliness)
        submitted = {r.agency_id for r in await self.repo.of_meeting(meeting.id) if r.submitted}

        def text(t: Translator) -> str:
            return t(
                "report.nudge",
                title=meeting.title,
                when=self.meetings.when(t, meeting),
                date=meeting.starts_at.astimezone(self.settings.zone).date().isoformat(),
            )

        reminded, unreachable = 0, []
        for member in await self.members.approved():
            if member.agency.id in submitted:
                continue
            reach = await self.notices.tell(
                member, picture_of(meeting), meeting.audience, text, purpose=task.kind, version=1
            )
            if reach is Reach.QUEUED:
                reminded += 1
            elif reach is Reach.NO_PERSONAL_CHAT:
                unreachable.append(member)
        if unreachable:
            await self._tell_unreachable(meeting, task, unreachable)
        await self.audit.record(
            "report_nudge",
            MEETING_ITEM,
            meeting.id,
            details={
                "reminded": reminded,
                "unreachable": len(unreachable),
                "unreachable_member_ids": [m.id for m in unreachable],
            },
        )
        return Nudged(timeliness, reminded, tuple(unreachable))

    async def _tell_unreachable(
        self, meeting: MeetingView, task: TaskView, members: list[MemberView]
    ) -> None:
        """The coordinators told in personal chat whom the nudge could not reach, and why."""

        def text(t: Translator) -> str:
            headline = t.plural(
                "report.unreachable", len(members), title=meeting.title, when=self.meetings.when(t, meeting)
            )
            reason = t(f"notice.unreachable.{Reach.NO_PERSONAL_CHAT.value}")
            lines = [
                "- "
                + t("notice.unreachable.member", name=m.name, agency=m.agency.name(t.language), reason=reason)
                for m in members
            ]
            return "\n\n".join([headline, "\n".join(lines), t("report.unreachable.advice")])

        for coordinator in await self.members.approved_with_role(Role.COORDINATOR):
            await self.notices.tell(
                coordinator,
                picture_of(meeting),
                meeting.audience,
                text,
                purpose=f"{task.kind}.unreachable",
                version=1,
            )

    async def _tell_missed(self, meeting: MeetingView, task: TaskView, version: int) -> None:
        def missed(t: Translator) -> str:
            return t(
                "meeting.reminder_missed",
                reminder=t("meeting.reminder.compiled"),
                title=meeting.title,
                when=self.meetings.when(t, meeting),
            )

        for coordinator in await self.members.approved_with_role(Role.COORDINATOR):
            await self.notices.tell(
                coordinator,
                picture_of(meeting),
                meeting.audience,
                missed,
                purpose=f"{task.kind}.missed",
                version=version,
            )


def values_of(report: ReportView | None, codes: dict[int, str]) -> dict[str, str]:
    """A saved report as the form's values; none saved: the narrowest visibility."""
    if report is None:
        return {"visibility": "agency"}
    return {
        "seen": report.seen or "",
        "planned": report.planned or "",
        "needs": report.needs or "",
        "visibility": report.visibility.value,
        "shared": ",".join(codes[i] for i in report.shared_agency_ids if i in codes),
    }


def report_handlers(settings: Settings) -> dict[str, TaskHandler]:
    """The schedule's kinds for status reports: the nudge to report, and the compiled picture."""

    async def nudge(session: AsyncSession, task: TaskView, now: datetime) -> str:
        nudged = await ReportService(session, settings, lambda: now).nudge(task, now)
        log.info(
            "report nudge for meeting %s: %s, %d reminded, %d without a personal chat",
            task.item.id,
            nudged.timeliness,
            nudged.reminded,
            len(nudged.unreachable),
        )
        return nudged.timeliness

    async def compiled(session: AsyncSession, task: TaskView, now: datetime) -> str:
        return await ReportService(session, settings, lambda: now).post_compiled(task, now)

    return {task_kind(ReminderKind.REPORT_NUDGE): nudge, task_kind(ReminderKind.COMPILED): compiled}
