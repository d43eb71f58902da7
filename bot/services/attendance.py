"""Attendance, part of the polls capability: every meeting's poll "Kommer du?" (Ja / Nej / Kanske
/ Skickar ersättare), made by the bot when the meeting's first reminder goes into the forum channel
(or when someone asks for it first), its card posted right after that reminder, open until the
meeting starts, moved with the meeting and closed when the meeting is called off.

It is a named poll for the whole forum, stored, voted, refreshed and closed as the quick polls
are (bot/services/polls.py); its cards show how many gave each answer and who comes from how
many agencies, and only the coordinators' list shows who, per agency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import polls as cards
from bot.cards.common import Card
from bot.domain.members import MemberView, Role
from bot.domain.notices import ItemRef
from bot.domain.polls import (
    CLOSE_TASK,
    ITEM,
    Attendance,
    Coming,
    answer_of,
    coming,
    may_vote,
    positions_of,
)
from bot.i18n import Translator
from bot.services.notices import NoticeService
from bot.settings import Settings
from bot.storage.audit import Audit
from bot.storage.meetings import Meetings, MeetingView
from bot.storage.membership import Agencies, Members
from bot.storage.polls import AnswerRow, Polls, PollView
from bot.storage.schedule import Schedule

# the attendance poll's card posted into the forum channel, with the meeting's first reminder
POSTED = "poll.attendance"


@dataclass(frozen=True)
class AttendanceSnapshot:
    """What every card of one attendance poll shows alike, read once for however many cards."""

    poll: PollView
    meeting: MeetingView | None
    answers: dict[int, AnswerRow]  # by member id
    votes: list[int]  # per answer, in Attendance's order
    coming: Coming
    eligible: int


class AttendanceService:
    """Meetings' attendance polls inside the caller's unit of work."""

    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.repo = Polls(session)
        self.meetings = Meetings(session)
        self.members = Members(session)
        self.agencies = Agencies(session)
        self.notices = NoticeService(session, settings)
        self.schedule = Schedule(session)
        self.audit = Audit(session)

    # The meeting's poll ---------------------------------------------------------------------
    async def of(self, meeting: MeetingView) -> PollView | None:
        return await self.repo.of_meeting(meeting.id)

    async def ensure(self, meeting: MeetingView) -> PollView | None:
        """The meeting's attendance poll, made if it has none while the meeting is held and still
        ahead (its closing planned for the start); None for a meeting called off or begun
        without one."""
        found = await self.repo.of_meeting(meeting.id)
        if found is not None or not meeting.held or meeting.starts_at <= self.clock():
            return found
        # stored in the forum's language for whoever reads the table; cards use the catalogue
        t = Translator(self.settings.default_language)
        poll = await self.repo.add_attendance(
            meeting_id=meeting.id,
            owner_agency_id=meeting.agency_id,
            question=t("poll.attendance.question"),
            options=[t(f"poll.attendance.answer.{answer.value}") for answer in Attendance],
            deadline=meeting.starts_at,
        )
        await self.schedule.plan(CLOSE_TASK, ItemRef(ITEM, poll.id), poll.deadline)
        return poll

    async def to_post_with_reminder(self, meeting: MeetingView) -> PollView | None:
        """The meeting's poll, when its card is to go into the forum channel with the reminder
        being posted: the first of the meeting's reminders there (for its start now: a moved
        meeting's poll goes out again with its first reminder after the move). None otherwise."""
        poll = await self.ensure(meeting)
        if poll is None or not poll.open or poll.announced_for == meeting.starts_at:
            return None
        return poll

    async def post(self, meeting: MeetingView, poll: PollView) -> None:
        """The poll's card into the forum channel; queue it after the reminder it goes with."""
        await self.repo.announced(poll.id, meeting.starts_at)
        snapshot = await self.snapshot(poll)

        async def render(t: Translator, viewer: MemberView | None) -> Card:
            return cards.attendance_card(t, self.view(t, snapshot, viewer))

        await self.notices.to_channel(
            ItemRef(ITEM, poll.id),
            poll.audience,
            render,
            purpose=POSTED,
            version=int(meeting.starts_at.timestamp()),
        )

    async def follow(self, meeting: MeetingView, by: MemberView | None = None) -> None:
        """The poll follows its meeting: moved, its deadline moves with the start (and its cards
        say so); called off, it closes, its answers kept."""
        poll = await self.repo.of_meeting(meeting.id)
        if poll is None or not poll.open:
            return
        item = ItemRef(ITEM, poll.id)
        if meeting.held:
            if poll.deadline != meeting.starts_at and await self.repo.move_deadline(
                poll.id, meeting.starts_at
            ):
                await self.schedule.plan(CLOSE_TASK, item, meeting.starts_at)
            return
        eligible = await self.members.count_approved(None)
        closed = await self.repo.close(
            poll.id, by=by.id if by else None, eligible=eligible, moment=self.clock()
        )
        if closed:
            await self.schedule.cancel(item, [CLOSE_TASK])
            await self.audit.record(
                "closed",
                ITEM,
                poll.id,
                actor_id=by.id if by else None,
                actor_aad_id=by.aad_object_id if by else None,
                details={"by": "meeting_cancelled"},
            )

    async def coming_to(self, meeting: MeetingView) -> Coming:
        """Who comes, as far as the meeting's poll says (nobody while it has none)."""
        poll = await self.repo.of_meeting(meeting.id)
        if poll is None:
            return Coming(0, 0)
        return _coming(await self.repo.answers(poll.id))

    # Its cards ----------------------------------------------------------------------------
    async def snapshot(self, poll: PollView) -> AttendanceSnapshot:
        answers = await self.repo.answers(poll.id)
        meeting = await self.meetings.get(poll.meeting_id) if poll.meeting_id is not None else None
        votes = [0] * len(Attendance)
        for row in answers:
            answer = answer_of(row.choices)
            if answer is not None:
                votes[answer.position] += 1
        eligible = (
            poll.eligible_count
            if not poll.open and poll.eligible_count is not None
            else await self.members.count_approved(None)
        )
        return AttendanceSnapshot(
            poll=poll,
            meeting=meeting,
            answers={row.member_id: row for row in answers},
            votes=votes,
            coming=_coming(answers),
            eligible=eligible,
        )

    def view(
        self,
        t: Translator,
        snapshot: AttendanceSnapshot,
        viewer: MemberView | None,
        *,
        shared: bool = False,
        mine: frozenset[int] | None = None,
        substitute: str | None = None,
    ) -> cards.AttendanceCardView:
        """The poll as `viewer` sees it (None: the forum channel's stored copy, which shows nobody's
        answer); `shared`: an answer to a press in a chat others read; `mine` and `substitute`:
        the answer just saved."""
        poll, meeting = snapshot.poll, snapshot.meeting
        zone = self.settings.zone
        own = snapshot.answers.get(viewer.id) if viewer is not None else None
        chosen: frozenset[int] = frozenset()
        if viewer is None:
            substitute = None
        elif mine is not None:
            chosen = mine
        else:
            chosen = positions_of(own.choices) if own is not None else frozenset()
            substitute = own.note if own is not None else None
        if meeting is not None and not meeting.held:
            state = t("poll.attendance.called_off")
        elif poll.open:
            state = t("poll.attendance.until", when=t.datetime_long(poll.deadline, zone))
        else:
            state = t("poll.closed_at", when=t.datetime_long(poll.closed_at or poll.deadline, zone))
        starts = meeting.starts_at if meeting is not None else poll.deadline
        when = t.datetime_long(starts, zone)
        if meeting is not None:
            when += f"–{t.time(meeting.ends_at, zone)}"
        options = [
            cards.OptionRow(
                text=t(f"poll.attendance.answer.{answer.value}"),
                votes=snapshot.votes[answer.position],
                chosen=answer.position in chosen,
            )
            for answer in Attendance
        ]
        coordinator = (
            viewer is not None and not shared and (viewer.has(Role.COORDINATOR) or viewer.has(Role.ADMIN))
        )
        return cards.AttendanceCardView(
            poll_id=poll.id,
            meeting_id=poll.meeting_id or 0,
            title=meeting.title if meeting is not None else "",
            when=when,
            state=state,
            open=poll.open,
            options=options,
            coming=snapshot.coming.people,
            agencies=snapshot.coming.agencies,
            answered=len(snapshot.answers),
            eligible=snapshot.eligible,
            votable=viewer is None or may_vote(viewer.viewer, None),
            substitute=substitute,
            coordinator=coordinator,
        )

    async def by_agency(self, t: Translator, meeting: MeetingView) -> cards.AttendanceListView:
        """Who comes from each agency taking part, who sends whom, and who has not answered: for
        the coordinators."""
        poll = await self.repo.of_meeting(meeting.id)
        snapshot = await self.snapshot(poll) if poll is not None else None
        answers = list(snapshot.answers.values()) if snapshot else []
        approved = await self.members.approved()
        taking_part = {m.agency.id for m in approved} | {a.agency_id for a in answers}
        rows = []
        for agency in await self.agencies.active():
            if agency.id not in taking_part:
                continue
            mine = [a for a in answers if a.agency_id == agency.id]
            by_answer: dict[Attendance, list[AnswerRow]] = {answer: [] for answer in Attendance}
            for row in mine:
                answer = answer_of(row.choices)
                if answer is not None:
                    by_answer[answer].append(row)
            answered = {a.member_id for a in mine}
            rows.append(
                cards.AgencyAttendance(
                    name=agency.name(t.language),
                    coming=[a.name for a in by_answer[Attendance.YES]],
                    substitutes=[(a.name, a.note or "") for a in by_answer[Attendance.SUBSTITUTE]],
                    maybe=[a.name for a in by_answer[Attendance.MAYBE]],
                    not_coming=[a.name for a in by_answer[Attendance.NO]],
                    unanswered=sorted(
                        m.name for m in approved if m.agency.id == agency.id and m.id not in answered
                    ),
                )
            )
        zone = self.settings.zone
        if not meeting.held:
            state = t("poll.attendance.called_off")
        elif poll is None:
            state = t("poll.attendance.not_asked_yet")
        elif poll.open:
            state = t("poll.attendance.until", when=t.datetime_long(poll.deadline, zone))
        else:
            state = t("poll.closed_at", when=t.datetime_long(poll.closed_at or poll.deadline, zone))
        total = _coming(answers)
        return cards.AttendanceListView(
            meeting_id=meeting.id,
            title=meeting.title,
            when=f"{t.datetime_long(meeting.starts_at, zone)}–{t.time(meeting.ends_at, zone)}",
            state=state,
            coming=total.people,
            agencies=total.agencies,
            answered=len(answers),
            eligible=snapshot.eligible if snapshot else await self.members.count_approved(None),
            rows=rows,
        )


def _coming(answers: list[AnswerRow]) -> Coming:
    found = [(row.agency_id, answer_of(row.choices)) for row in answers]
    return coming((agency, answer) for agency, answer in found if answer is not None)
