"""Quick polls: made from a form by a coordinator (or any member, if the settings say so), asked of
the forum (in the forum channel) or of one agency (in its members' personal chats), voted on the
card (Action.Execute), closed at the deadline by the schedule or early by its keeper.

Votes change one shared thing, the poll's `version`; a refresher brings the posted cards up to it
at most once a second per poll (and each copy at least a second after its last update reached
Teams), so that a burst of votes costs each card copy one update a second at most. Each vote's
own answer is the voter's card, returned in the invoke's response.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cards import polls as cards
from bot.cards.common import Card, card, text
from bot.domain.files import FileContent
from bot.domain.members import AgencyView, MemberView, Role
from bot.domain.notices import ItemRef
from bot.domain.polls import (
    CLOSE_TASK,
    FORUM,
    ITEM,
    LIMITS,
    MAX_OPTIONS,
    MIN_OPTIONS,
    Attendance,
    CsvLabels,
    check_substitute,
    default_deadline_fields,
    mask_of,
    may_vote,
    named_key,
    new_secret,
    nudge_time,
    parse_choice,
    positions_of,
    results_csv,
    validate_poll_form,
    voter_key,
)
from bot.domain.proposals import Status as ProposalStatus
from bot.domain.visibility import can_see, fit_for_channel
from bot.i18n import Translator, effective_language
from bot.services.attendance import AttendanceService
from bot.services.files import FileService, Provider
from bot.services.forms import FormService
from bot.services.meetings import MeetingService
from bot.services.notices import FORUM_CHANNEL, NoticeService, Reach, Render, track
from bot.services.schedule import TaskHandler
from bot.settings import Settings
from bot.storage.audit import Audit
from bot.storage.db import unit_of_work
from bot.storage.meetings import Meetings
from bot.storage.membership import Agencies, Channels, Members
from bot.storage.polls import Polls, PollView
from bot.storage.schedule import Schedule, TaskView

__all__ = [
    "CLOSE_TASK",
    "ITEM",
    "PollService",
    "PollView",
    "csv_provider",
    "poll_handlers",
    "refresh_polls",
    "results_link",
]

log = logging.getLogger(__name__)

# a poll's result as announced when it closed: an item of its own, so that the announcement stays
# as it was while the poll's cards follow the poll (reopened, say)
RESULT_ITEM = "poll_result"
POLL_FORM = "poll.new"
CSV_KIND = "poll.csv"
NUDGE_TASK = "poll.nudge"
# updates of one card copy reach Teams at least this far apart
SPACING = timedelta(seconds=1)
# `omröstningar` lists open polls and those closed this long ago at most
RECENT = timedelta(days=30)
LIST_SIZE = 20


def item_of(poll: PollView | int) -> ItemRef:
    return ItemRef(ITEM, poll if isinstance(poll, int) else poll.id)


class Made(StrEnum):
    DONE = "done"
    ALREADY = "already"  # this form made a poll before: here it is
    STALE_FORM = "stale_form"
    INVALID = "invalid"


class Voted(StrEnum):
    DONE = "done"
    NO_SUCH_POLL = "no_such_poll"  # or one the voter may not see
    NOT_ASKED = "not_asked"  # sees it (made it) but is not of its audience
    CLOSED = "closed"
    BAD_CHOICE = "bad_choice"  # an option the card cannot have offered
    BAD_SUBSTITUTE = "bad_substitute"  # "Skickar ersättare" without a name fit to be read


class Kept(StrEnum):
    """What became of a keeper's close or reopen."""

    DONE = "done"
    NO_SUCH_POLL = "no_such_poll"
    NOT_KEEPER = "not_keeper"
    ALREADY = "already"  # closed already, or open already
    ANONYMOUS = "anonymous"  # an anonymous poll is not reopened (see README)
    PAST_DEADLINE = "past_deadline"


@dataclass
class MadeResult:
    outcome: Made
    poll: PollView | None = None
    values: dict[str, str] | None = None
    errors: dict[str, str] | None = None


@dataclass
class VoteResult:
    outcome: Voted
    poll: PollView | None = None
    mine: frozenset[int] | None = None
    substitute: str | None = None  # an attendance answer's substitute, as saved
    error: str | None = None  # why the substitute's name was refused (a message key)


@dataclass(frozen=True)
class Snapshot:
    """What every card of one poll shows alike, read once for however many cards are drawn."""

    poll: PollView
    answered: int
    votes: list[int]
    eligible: int
    agency: AgencyView | None
    # a named poll's voters' names, grouped by what they chose
    groups: list[tuple[list[str], int]] = field(default_factory=list)
    named: dict[int, int] = field(default_factory=dict)  # a named poll's choices by member id
    secret: bytes | None = None
    ballots: dict[str, int] = field(default_factory=dict)  # an open anonymous poll's, by key


class PollService:
    """Quick polls inside the caller's unit of work."""

    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.session = session
        self.settings = settings
        self.clock = clock
        self.repo = Polls(session)
        self.members = Members(session)
        self.agencies = Agencies(session)
        self.channels = Channels(session)
        self.forms = FormService(session)
        self.notices = NoticeService(session, settings)
        self.schedule = Schedule(session)
        self.audit = Audit(session)
        self.attendance = AttendanceService(session, settings, clock)

    # Making a poll ----------------------------------------------------------------------
    async def form(
        self,
        t: Translator,
        member: MemberView,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        note: str | None = None,
    ) -> tuple[Card, dict[str, Any]]:
        """The poll form under a fresh token, its deadline the start of the next meeting."""
        token = await self.forms.new(POLL_FORM, member.aad_object_id)
        if values is None:
            coming = await MeetingService(self.session, self.settings, self.clock).next_held(1)
            deadline = coming[0].starts_at if coming else None
            values = default_deadline_fields(deadline, self.settings.zone)
        view = cards.PollFormView(
            form_token=token.token,
            agencies=[cards.Named(a.code, a.name(t.language)) for a in await self.agencies.active()],
            values=values,
            errors=errors or {},
            note=note,
        )
        return cards.poll_form_card(t, view), self.forms.track(token, member.id, t.language)

    async def form_is_open(self, member: MemberView, token: Any) -> bool:
        checked = await self.forms.check(token, member.aad_object_id, POLL_FORM)
        return checked.open

    async def shortcut(self, t: Translator, member: MemberView) -> tuple[Card, dict[str, Any]]:
        """ "Vilka förslag tar vi först?": the form filled with the accepted proposals on the next
        meeting's agenda, as options. Only forum-wide ones, whoever the poll will ask: the
        options are free text from here on, and the form's audience can still change."""
        coming = await MeetingService(self.session, self.settings, self.clock).next_held(1)
        found: list[str] = []
        if coming:
            for proposal in await Meetings(self.session).agenda(coming[0].id):
                if proposal.status is ProposalStatus.ACCEPTED and fit_for_channel(proposal.audience):
                    found.append(f"{proposal.number} {proposal.business_name}"[: LIMITS["option"]])
        values = {
            **default_deadline_fields(coming[0].starts_at if coming else None, self.settings.zone),
            "question": t("poll.form.shortcut"),
            "options": "\n".join(found[:MAX_OPTIONS]),
            "multiple": "multiple",
            "audience": FORUM,
        }
        if len(found) < MIN_OPTIONS:
            note = t.plural("poll.form.shortcut_too_few", len(found))
        elif len(found) > MAX_OPTIONS:
            note = t("poll.form.shortcut_more", shown=MAX_OPTIONS, count=len(found))
        else:
            note = t.plural("poll.form.shortcut_filled", len(found))
        return await self.form(t, member, values=values, note=note)

    async def create(self, member: MemberView, raw: dict[str, Any]) -> MadeResult:
        """The form made into a poll, announced to its audience, its closing planned: one poll per
        form card. A poll for the whole forum needs the forum channel."""
        checked = await self.forms.check(raw.get("form_token"), member.aad_object_id, POLL_FORM)
        if checked.form is None:
            return MadeResult(Made.STALE_FORM)
        if not checked.open:
            return MadeResult(Made.ALREADY, await self.repo.by_form_token(checked.form.token))
        agencies = {a.code: a for a in await self.agencies.active()}
        form = validate_poll_form(raw, now=self.clock(), zone=self.settings.zone, agency_codes=agencies)
        if form.draft is not None and form.draft.agency_code is None:
            if await self.channels.get(FORUM_CHANNEL) is None:
                form.errors["audience"] = "poll.form.no_channel"
        if form.draft is None or form.errors:
            return MadeResult(Made.INVALID, values=form.values, errors=form.errors)
        if not await self.forms.use(checked.form):
            return MadeResult(Made.ALREADY, await self.repo.by_form_token(checked.form.token))
        draft = form.draft
        agency = agencies[draft.agency_code] if draft.agency_code else None
        poll = await self.repo.add(
            draft,
            agency_id=agency.id if agency else None,
            created_by=member.id,
            creator_agency_id=member.agency.id,
            secret=new_secret() if draft.anonymous else None,
            form_token=checked.form.token,
        )
        await self._plan(poll)
        await self.audit.record(
            "created",
            ITEM,
            poll.id,
            actor_id=member.id,
            actor_aad_id=member.aad_object_id,
            details={
                "audience": draft.agency_code or "forum",
                "anonymous": draft.anonymous,
                "multiple": draft.multiple,
                "options": len(draft.options),
            },
        )
        await self._announce(poll, purpose="poll.new", skip=member)
        return MadeResult(Made.DONE, poll)

    async def _announce(
        self,
        poll: PollView,
        *,
        purpose: str,
        skip: MemberView | None = None,
        headline: str | None = None,
        with_maker: bool = False,
    ) -> None:
        """The poll's card to its audience: the forum channel, or each member of the agency asked
        in personal chat (`with_maker`: and its maker, who follows it, from another agency)."""
        snapshot = await self.snapshot(poll)
        item = ItemRef(RESULT_ITEM, poll.id) if headline else item_of(poll)

        async def render(t: Translator, viewer: MemberView | None) -> Card:
            view = self.view(t, snapshot, viewer)
            return cards.poll_card(t, _headed(view, t(headline) if headline else None))

        if poll.agency_id is None:
            await self.notices.to_channel(item, poll.audience, render, purpose=purpose, version=poll.version)
            return
        recipients = await self.members.approved_of(poll.agency_id)
        if with_maker and poll.created_by is not None and all(m.id != poll.created_by for m in recipients):
            maker = await self.members.by_id(poll.created_by)
            recipients += [maker] if maker is not None else []
        await self.notices.to_members(
            item,
            poll.audience,
            [m for m in recipients if skip is None or m.id != skip.id],
            render,
            purpose=purpose,
            version=poll.version,
        )

    # Reading ----------------------------------------------------------------------------
    async def get(self, poll_id: int) -> PollView | None:
        return await self.repo.get(poll_id)

    async def visible(self, member: MemberView) -> list[PollView]:
        since = self.clock() - RECENT
        polls = await self.repo.recent(since, LIST_SIZE * 3)
        return [p for p in polls if can_see(member.viewer, p.audience)][:LIST_SIZE]

    def rows(self, t: Translator, polls: list[PollView]) -> list[cards.PollRow]:
        return [cards.PollRow(p.id, self.question(t, p), self._deadline_line(t, p)) for p in polls]

    def question(self, t: Translator, poll: PollView) -> str:
        """What the poll asks; an attendance poll in the reader's language, with its meeting's day."""
        if poll.attendance:
            return t("poll.attendance.row", when=t.datetime_long(poll.deadline, self.settings.zone))
        return poll.question

    async def eligible(self, poll: PollView) -> int:
        if not poll.open and poll.eligible_count is not None:
            return poll.eligible_count
        return await self.members.count_approved(poll.agency_id)

    async def snapshot(self, poll: PollView, *, readers: bool = True) -> Snapshot:
        """The poll's ballots as its cards show them: counts, and a named poll's voters by what
        they chose, read grouped by the database however many voted. `readers`: also each
        reader's own ballot, for drawing the cards of many readers (a named poll's by member; an
        open anonymous poll's by voter key, to be found under the secret)."""
        agency = None
        if poll.agency_id is not None:
            agency = next((a for a in await self.agencies.active() if a.id == poll.agency_id), None)
        eligible = await self.eligible(poll)
        count = len(poll.options)
        if not poll.anonymous:
            groups = await self.repo.named_groups(poll.id)
            votes = [0] * count
            for choices, voters, _ in groups:
                for position in positions_of(choices):
                    if position < count:
                        votes[position] += voters
            return Snapshot(
                poll=poll,
                answered=sum(voters for _, voters, _ in groups),
                votes=votes,
                eligible=eligible,
                agency=agency,
                groups=[(names, choices) for choices, _, names in groups],
                named=await self.repo.named_ballots(poll.id) if readers else {},
            )
        secret = await self.repo.secret(poll.id) if poll.open else None
        answered, votes = await self.repo.tally(poll.id, count)
        return Snapshot(
            poll=poll,
            answered=answered,
            votes=votes,
            eligible=eligible,
            agency=agency,
            secret=secret,
            ballots=await self.repo.ballots(poll.id) if readers and secret is not None else {},
        )

    async def own_choice(
        self, poll: PollView, snapshot: Snapshot, reader: MemberView
    ) -> frozenset[int] | None:
        """What `reader` chose, if they have voted (on an anonymous poll, only while it is open)."""
        if poll.anonymous:
            if snapshot.secret is None:
                return None
            mask = await self.repo.ballot(poll.id, voter_key(snapshot.secret, reader.id))
        else:
            mask = await self.repo.ballot(poll.id, named_key(reader.id))
        return positions_of(mask) if mask is not None else None

    @staticmethod
    def may_see(member: MemberView, poll: PollView) -> bool:
        return can_see(member.viewer, poll.audience)

    def may_keep(self, member: MemberView, poll: PollView) -> bool:
        """Its maker, a coordinator or an administrator who may see it closes and reopens it. An
        attendance poll follows its meeting instead."""
        if poll.attendance or not can_see(member.viewer, poll.audience):
            return False
        return member.id == poll.created_by or member.has(Role.COORDINATOR) or member.has(Role.ADMIN)

    def _deadline_line(self, t: Translator, poll: PollView) -> str:
        zone = self.settings.zone
        if poll.open:
            return t("poll.closes", when=t.datetime_long(poll.deadline, zone))
        return t("poll.closed_at", when=t.datetime_long(poll.closed_at or poll.deadline, zone))

    def view(
        self,
        t: Translator,
        snapshot: Snapshot,
        viewer: MemberView | None,
        *,
        shared: bool = False,
        answer: bool = False,
        mine: frozenset[int] | None = None,
    ) -> cards.PollCardView:
        """The poll as `viewer` sees it: None is the forum channel's stored copy; `shared` an
        answer to a press in a chat others read; `answer` an invoke's answer, for the presser
        alone, where their choice may be shown even on an anonymous poll (a stored copy never
        shows an anonymous voter's choice: what is sent is kept in the outbox)."""
        poll = snapshot.poll
        reader_mask: int | None = None
        if viewer is not None:
            if poll.anonymous:
                if snapshot.secret is not None:
                    reader_mask = snapshot.ballots.get(voter_key(snapshot.secret, viewer.id))
            else:
                reader_mask = snapshot.named.get(viewer.id)
        if mine is not None:
            reader_mask = mask_of(mine)
        show_mine = viewer is not None and (answer or not poll.anonymous)
        chosen = positions_of(reader_mask) if show_mine and reader_mask is not None else frozenset()
        results = poll.live or not poll.open
        names: dict[int, list[str]] = {i: [] for i in range(len(poll.options))}
        if results:
            for voters, choices in snapshot.groups:
                for position in positions_of(choices):
                    names.setdefault(position, []).extend(voters)
        options = [
            cards.OptionRow(
                text=option,
                votes=snapshot.votes[i] if results else None,
                chosen=i in chosen,
                voters=tuple(sorted(names.get(i, ()), key=str.casefold)) if results else (),
            )
            for i, option in enumerate(poll.options)
        ]
        manage = None
        if viewer is not None and not shared and self.may_keep(viewer, poll):
            if poll.open:
                manage = "close"
            elif not poll.anonymous and poll.deadline > self.clock():
                manage = "reopen"
        personal = viewer is not None and not shared
        exportable = viewer is not None and not shared and self.may_export(viewer, poll)
        return cards.PollCardView(
            id=poll.id,
            question=poll.question,
            options=options,
            multiple=poll.multiple,
            anonymous=poll.anonymous,
            live=poll.live,
            open=poll.open,
            audience=snapshot.agency.name(t.language) if snapshot.agency else t("poll.audience.forum"),
            deadline=self._deadline_line(t, poll),
            answered=snapshot.answered,
            eligible=snapshot.eligible,
            votable=viewer is None or may_vote(viewer.viewer, poll.agency_id),
            answered_by_reader=reader_mask is not None,
            manage=manage,
            exportable=exportable,
            refresh_user=viewer.teams_user_id
            if personal and viewer is not None and poll.anonymous and poll.open
            else None,
        )

    async def card(
        self,
        t: Translator,
        poll: PollView,
        viewer: MemberView | None,
        *,
        shared: bool = False,
        answer: bool = False,
        mine: frozenset[int] | None = None,
        substitute: str | None = None,
        notice: str | None = None,
        attention: bool = False,
    ) -> Card:
        if poll.attendance:
            snapshot = await self.attendance.snapshot(poll)
            seen = self.attendance.view(t, snapshot, viewer, shared=shared, mine=mine, substitute=substitute)
            if notice:
                seen = replace(seen, notice=notice, notice_color="Attention" if attention else "Good")
            return cards.attendance_card(t, seen)
        drawn = await self.snapshot(poll, readers=False)
        if viewer is not None and mine is None:
            mine = await self.own_choice(poll, drawn, viewer)
        view = self.view(t, drawn, viewer, shared=shared, answer=answer, mine=mine)
        if notice:
            view = _noticed(view, notice, attention)
        return cards.poll_card(t, view)

    def track(self, poll: PollView, viewer: MemberView, t: Translator) -> dict[str, Any]:
        return track(item_of(poll), viewer.id, t.language)

    # Voting -----------------------------------------------------------------------------
    async def vote(
        self, member: MemberView, poll_id: int, choices: str | None, substitute: str | None = None
    ) -> VoteResult:
        """The member's ballot, new or changed, while the poll is open and they are asked (on an
        attendance poll, "Skickar ersättare" with the substitute's name). The poll's row is
        locked first, so that a vote and a close never cross."""
        poll = await self.repo.get(poll_id)
        if poll is None or not can_see(member.viewer, poll.audience):
            return VoteResult(Voted.NO_SUCH_POLL)
        if not may_vote(member.viewer, poll.agency_id):
            return VoteResult(Voted.NOT_ASKED, poll)
        now = self.clock()
        if not poll.open or poll.deadline <= now:
            return VoteResult(Voted.CLOSED, poll)
        chosen = parse_choice(choices, count=len(poll.options), multiple=poll.multiple)
        if chosen is None:
            return VoteResult(Voted.BAD_CHOICE, poll)
        note = None
        if poll.attendance:
            (position,) = chosen
            today = now.astimezone(self.settings.zone).date()
            note, error = check_substitute(Attendance.at(position), substitute, today)
            if error is not None:
                return VoteResult(Voted.BAD_SUBSTITUTE, poll, error=error)
        version = await self.repo.hold_open(poll.id, now)
        if version is None:
            return VoteResult(Voted.CLOSED, await self.repo.get(poll.id))
        if poll.anonymous:
            secret = await self.repo.secret(poll.id)
            if secret is None:  # closed between the read and the lock
                return VoteResult(Voted.CLOSED, poll)
            await self.repo.cast(poll.id, voter_key(secret, member.id), mask_of(chosen), None)
        else:
            await self.repo.cast(poll.id, named_key(member.id), mask_of(chosen), member.id, note)
        return VoteResult(Voted.DONE, replace(poll, version=version), chosen, note)

    # Closing ----------------------------------------------------------------------------
    async def close(self, member: MemberView, poll_id: int) -> tuple[Kept, PollView | None]:
        """Closed early by its keeper: the result posted, the secret destroyed."""
        poll = await self.repo.get(poll_id)
        if poll is None or not can_see(member.viewer, poll.audience):
            return Kept.NO_SUCH_POLL, None
        if not self.may_keep(member, poll):
            return Kept.NOT_KEEPER, poll
        if not await self._close(poll, member):
            return Kept.ALREADY, await self.repo.get(poll_id)
        await self.schedule.cancel(item_of(poll), [CLOSE_TASK])
        return Kept.DONE, await self.repo.get(poll_id)

    async def _plan(self, poll: PollView) -> None:
        """Its closing at the deadline, and the reminder before it (if still ahead)."""
        await self.schedule.plan(CLOSE_TASK, item_of(poll), poll.deadline)
        nudge = nudge_time(poll.deadline, self.clock(), self.settings.poll_nudge_hours)
        if nudge is not None:
            await self.schedule.plan(NUDGE_TASK, item_of(poll), nudge)

    async def reopen(self, member: MemberView, poll_id: int) -> tuple[Kept, PollView | None]:
        """A named poll closed early is opened again before its deadline, its ballots kept."""
        poll = await self.repo.get(poll_id)
        if poll is None or not can_see(member.viewer, poll.audience):
            return Kept.NO_SUCH_POLL, None
        if not self.may_keep(member, poll):
            return Kept.NOT_KEEPER, poll
        if poll.open:
            return Kept.ALREADY, poll
        if poll.anonymous:
            return Kept.ANONYMOUS, poll
        if not await self.repo.reopen(poll.id, self.clock()):
            return Kept.PAST_DEADLINE, poll
        await self._plan(poll)
        await self.audit.record(
            "reopened", ITEM, poll.id, actor_id=member.id, actor_aad_id=member.aad_object_id
        )
        return Kept.DONE, await self.repo.get(poll_id)

    async def _close(self, poll: PollView, by: MemberView | None) -> bool:
        moment = self.clock()
        eligible = await self.members.count_approved(poll.agency_id)
        if not await self.repo.close(poll.id, by=by.id if by else None, eligible=eligible, moment=moment):
            return False
        await self.audit.record(
            "closed",
            ITEM,
            poll.id,
            actor_id=by.id if by else None,
            actor_aad_id=by.aad_object_id if by else None,
            details={"by": "keeper" if by else "deadline"},
        )
        await self.schedule.cancel(item_of(poll), [NUDGE_TASK])
        closed = await self.repo.get(poll.id)
        assert closed is not None
        if not closed.attendance:  # its cards say it is closed; the meeting has begun
            await self._announce(
                closed, purpose="poll.result", headline="poll.result_headline", with_maker=True
            )
        return True

    async def close_at_deadline(self, task: TaskView) -> str:
        """The schedule's task at the deadline: the poll closed and its result posted, once."""
        poll = await self.repo.get(task.item.id)
        if poll is None or not poll.open:
            return "skipped"
        await self._close(poll, None)
        return "on_time" if self.clock() - task.due_at <= timedelta(minutes=5) else "late"

    async def nudge(self, task: TaskView) -> str:
        """The schedule's reminder before the deadline: each member the poll asks who has not
        answered is told once, in personal chat (keyed by poll and member, so a reopened poll
        reminds nobody twice). On an anonymous poll, who has answered is known only while it is
        open, through its secret."""
        poll = await self.repo.get(task.item.id)
        if poll is None or not poll.open or poll.deadline <= self.clock():
            return "skipped"
        keys = set((await self.repo.ballots(poll.id)).keys())
        secret = await self.repo.secret(poll.id) if poll.anonymous else None
        if poll.anonymous and secret is None:
            return "skipped"
        asked = (
            await self.members.approved()
            if poll.agency_id is None
            else await self.members.approved_of(poll.agency_id)
        )
        where = "poll.nudge.forum" if poll.forum_wide else "poll.nudge.agency"

        def reminder(t: Translator) -> str:
            when = t.datetime_long(poll.deadline, self.settings.zone)
            return t(where, question=poll.question, when=when)

        unreachable = []
        for member in asked:
            key = voter_key(secret, member.id) if secret is not None else named_key(member.id)
            if key not in keys:
                reach = await self.notices.tell(
                    member, item_of(poll), poll.audience, reminder, purpose=NUDGE_TASK, version=1
                )
                if reach is Reach.NO_PERSONAL_CHAT:
                    unreachable.append(member)
        if unreachable:
            await self._tell_unreachable(poll, unreachable)
        return "on_time" if self.clock() - task.due_at <= timedelta(minutes=5) else "late"

    async def _tell_unreachable(self, poll: PollView, members: list[MemberView]) -> None:
        """Its maker (or, for the bot's own attendance poll, the coordinators) hears whom the
        reminder could not reach, and why, once."""

        def text(t: Translator) -> str:
            headline = t.plural("poll.unreachable", len(members), question=self.question(t, poll))
            reason = t(f"notice.unreachable.{Reach.NO_PERSONAL_CHAT.value}")
            lines = [
                "- "
                + t("notice.unreachable.member", name=m.name, agency=m.agency.name(t.language), reason=reason)
                for m in members
            ]
            return "\n\n".join([headline, "\n".join(lines), t("poll.unreachable.advice")])

        maker = await self.members.by_id(poll.created_by) if poll.created_by is not None else None
        told = [maker] if maker is not None and maker.approved else []
        if not told:
            told = await self.members.approved_with_role(Role.COORDINATOR)
        for member in told:
            await self.notices.tell(
                member, item_of(poll), poll.audience, text, purpose=f"{NUDGE_TASK}.unreachable", version=1
            )

    # The results as a file -----------------------------------------------------------------
    def may_export(self, member: MemberView, poll: PollView) -> bool:
        """Its keeper, once its results are shown (live, or closed)."""
        return self.may_keep(member, poll) and (poll.live or not poll.open)

    async def results_file(self, member: MemberView, poll_id: int) -> FileContent | None:
        """The results as CSV (a named poll's with who answered what), for its keeper alone."""
        poll = await self.repo.get(poll_id)
        if poll is None or not self.may_export(member, poll):
            return None
        t = Translator(effective_language(member.language, None, self.settings.default_language))
        answered, votes = await self.repo.tally(poll.id, len(poll.options))
        agencies = {a.id: a.name(t.language) for a in await self.agencies.active()}
        voters = []
        if not poll.anonymous:
            for name, agency_id, choices in await self.repo.named_rows(poll.id):
                voters.append((name, agencies.get(agency_id, ""), positions_of(choices)))
        labels = CsvLabels(
            option=t("poll.csv.option"),
            votes=t("poll.csv.votes"),
            share=t("poll.csv.share"),
            answered=t("poll.csv.answered"),
            eligible=t("poll.csv.eligible"),
            name=t("poll.csv.name"),
            agency=t("poll.csv.agency"),
            answer=t("poll.csv.answer"),
        )
        body = results_csv(
            labels, poll.question, poll.options, votes, answered, await self.eligible(poll), voters
        )
        return FileContent(t("poll.csv.filename", id=poll.id), "text/csv; charset=utf-8", body)

    # Bringing posted cards up to date ----------------------------------------------------
    async def refresh_changed(self, limit: int = 20) -> int:
        """Every poll whose cards show an older state, and were refreshed a second ago or more,
        gets its copies updated in place; returns how many polls."""
        now = self.clock()
        polls = await self.repo.take_changed(now - SPACING, limit)
        for poll in polls:
            render = await self._renderer(poll)
            await self.notices.refresh(
                item_of(poll), poll.audience, render, _blank, version=poll.version, spacing=SPACING, now=now
            )
            await self.repo.shown(poll.id, poll.version, now)
        return len(polls)

    async def _renderer(self, poll: PollView) -> Render:
        """Draws the poll's cards, each as its reader may see it, from one read of the poll."""
        if poll.attendance:
            seen = await self.attendance.snapshot(poll)

            async def attendance(t: Translator, viewer: MemberView | None) -> Card:
                return cards.attendance_card(t, self.attendance.view(t, seen, viewer))

            return attendance
        snapshot = await self.snapshot(poll)

        async def render(t: Translator, viewer: MemberView | None) -> Card:
            return cards.poll_card(t, self.view(t, snapshot, viewer))

        return render


def _headed(view: cards.PollCardView, headline: str | None) -> cards.PollCardView:
    return replace(view, headline=headline) if headline else view


def _noticed(view: cards.PollCardView, notice: str, attention: bool) -> cards.PollCardView:
    return replace(view, notice=notice, notice_color="Attention" if attention else "Good")


def _blank(t: Translator) -> Card:
    return card([text(t("poll.not_for_you"))])


async def refresh_polls(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """The refresher's tick (every process runs one, about once a second). It looks first in a
    read-only transaction, which on SQLite leaves the write lock to the turns."""
    async with sessions() as session:
        if not await Polls(session).any_changed():
            return 0
    async with unit_of_work(sessions) as session:
        return await PollService(session, settings, clock).refresh_changed()


def poll_handlers(settings: Settings) -> dict[str, TaskHandler]:
    """The schedule's kinds for polls: the reminder before the deadline, and closing at it."""

    async def close(session: AsyncSession, task: TaskView, now: datetime) -> str:
        return await PollService(session, settings, lambda: now).close_at_deadline(task)

    async def nudge(session: AsyncSession, task: TaskView, now: datetime) -> str:
        return await PollService(session, settings, lambda: now).nudge(task)

    return {CLOSE_TASK: close, NUDGE_TASK: nudge}


def csv_provider(settings: Settings, clock: Callable[[], datetime]) -> Provider:
    """The "poll.csv" files: a poll's results, for its keeper."""

    async def provide(session: AsyncSession, member: MemberView, poll_id: int) -> FileContent | None:
        return await PollService(session, settings, clock).results_file(member, poll_id)

    return provide


async def results_link(
    service: PollService, files: FileService, member: MemberView, poll_id: int
) -> tuple[PollView, str] | None:
    """A short-lived link to the poll's results file for `member`; None where they may not have it."""
    poll = await service.get(poll_id)
    if poll is None or not service.may_export(member, poll):
        return None
    return poll, files.link(member, CSV_KIND, poll.id)
