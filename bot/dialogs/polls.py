"""Quick polls: the form (its steps drawn in polls.mmd), the list, and the poll's card, whose
buttons are Action.Execute (Universal Actions): a vote, a close or a reopen is answered with the
presser's own updated card in the invoke's response. A meeting's attendance poll is voted the
same way; its card for a member of their own, and the coordinators' list of who comes from each
agency, are asked for from the meeting's card or with `närvaro`.

The form lives in its card, as the proposal form does: FORM comes back while invalid (values
kept, each problem by its field); a poll made ends it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from bot.cards.polls import attendance_list_card, poll_file_card, poll_list_card
from bot.conversation import Reply
from bot.dialogs.router import END, Access, CardId, Code, Ctx, Router, SubmitData, form_in_personal_chat
from bot.dialogs.steps import START, Step
from bot.domain.meetings import parse_day
from bot.domain.polls import SUBSTITUTE_LIMIT
from bot.services.meetings import MeetingService, MeetingView
from bot.services.polls import Kept, Made, PollService, PollView, Voted, results_link


class PollState(StrEnum):
    FORM = "form"  # the question, its options, how it is answered, until when, and whom it asks


POLL_STEPS = (
    Step(START, PollState.FORM, "new"),
    Step(PollState.FORM, PollState.FORM, "invalid"),
    Step(PollState.FORM, PollState.FORM, "shortcut"),
    Step(PollState.FORM, END, "created"),
    Step(PollState.FORM, END, "cancel"),
)


def service(ctx: Ctx) -> PollService:
    return PollService(ctx.session, ctx.settings, ctx.clock)


class FormSubmit(SubmitData):
    """The poll form; its inputs ride along and are checked field by field."""

    form_token: Code


class PollRef(SubmitData):
    poll_id: CardId


class VoteSubmit(SubmitData):
    poll_id: CardId
    # the ticked options as the card's choice set sends them: '2', or '0,2'
    choices: Annotated[str | None, Field(default=None, max_length=40)] = None
    # an attendance poll's substitute, as typed (its own limit is checked, and said, on the card)
    substitute: Annotated[str | None, Field(default=None, max_length=10 * SUBSTITUTE_LIMIT)] = None


class MeetingRef(SubmitData):
    meeting_id: CardId


def register(router: Router) -> None:
    @router.command("help.cmd.new_poll", "ny omröstning", "new poll", access=Access.POLL_MAKER)
    async def new_poll(ctx: Ctx) -> None:
        """The poll form, always in the member's personal chat."""
        card, track = await service(ctx).form(ctx.t, ctx.me)
        await form_in_personal_chat(ctx, card, track, "poll-form")

    @router.command("help.cmd.polls", "omröstningar", "polls", access=Access.MEMBER)
    async def list_polls(ctx: Ctx) -> None:
        """Open polls and those closed lately that the member may see."""
        polls = service(ctx)
        found = await polls.visible(ctx.me)
        if not ctx.private:
            found = [p for p in found if p.forum_wide]
        ctx.send_card(poll_list_card(ctx.t, polls.rows(ctx.t, found)))

    @router.action("poll.create", access=Access.POLL_MAKER, data=FormSubmit)
    async def create(ctx: Ctx, data: FormSubmit) -> None:
        """The form sent: the poll made and announced, or the form back with its errors."""
        if not ctx.turn.personal:
            ctx.say(ctx.t("meeting.personal_only"))
            return
        polls = service(ctx)
        result = await polls.create(ctx.me, ctx.turn.value or {})
        if result.outcome is Made.STALE_FORM:
            ctx.say(ctx.t("poll.form_out_of_date"))
        elif result.outcome is Made.INVALID:
            card, track = await polls.form(ctx.t, ctx.me, values=result.values, errors=result.errors)
            ctx.replace_card(card, track=track)
        elif result.poll is None:
            ctx.say(ctx.t("poll.form_out_of_date"))
        else:
            headline = "poll.created" if result.outcome is Made.DONE else "poll.already_created"
            await show(ctx, polls, result.poll, notice=ctx.t(headline), replace=True)

    @router.action("poll.shortcut", access=Access.POLL_MAKER, data=FormSubmit)
    async def shortcut(ctx: Ctx, data: FormSubmit) -> None:
        """ "Vilka förslag tar vi först?": the form again, filled with the next meeting's accepted
        proposals that the whole forum may see."""
        polls = service(ctx)
        if not await polls.form_is_open(ctx.me, data.form_token):
            ctx.say(ctx.t("poll.form_out_of_date"))
            return
        card, track = await polls.shortcut(ctx.t, ctx.me)
        ctx.replace_card(card, track=track)

    @router.action("poll.show", access=Access.MEMBER, data=PollRef)
    async def show_one(ctx: Ctx, data: PollRef) -> None:
        """One poll from the list, as a card of the member's own."""
        polls = service(ctx)
        poll = await polls.get(data.poll_id)
        if poll is None or not polls.may_see(ctx.me, poll):
            ctx.say(ctx.t("poll.not_for_you"))
            return
        await show(ctx, polls, poll)

    @router.action("poll.vote", access=Access.MEMBER, data=VoteSubmit)
    async def vote(ctx: Ctx, data: VoteSubmit) -> None:
        """A vote on the card: the answer is the voter's card with their choice ticked."""
        polls = service(ctx)
        result = await polls.vote(ctx.me, data.poll_id, data.choices, data.substitute)
        if result.outcome is Voted.NO_SUCH_POLL or result.poll is None:
            ctx.say(ctx.t("poll.not_for_you"))
            return
        notice = (
            result.error
            or {
                Voted.DONE: "poll.attendance.saved" if result.poll.attendance else "poll.voted",
                Voted.NOT_ASKED: "poll.not_asked",
                Voted.CLOSED: "poll.attendance.closed" if result.poll.attendance else "poll.closed_refused",
                Voted.BAD_CHOICE: "poll.bad_choice",
                Voted.BAD_SUBSTITUTE: "poll.bad_choice",
            }[result.outcome]
        )
        await answer(
            ctx,
            polls,
            result.poll,
            notice=ctx.t(notice),
            attention=result.outcome is not Voted.DONE,
            mine=result.mine,
            substitute=result.substitute,
        )

    @router.action("poll.view", access=Access.MEMBER, data=PollRef)
    async def view(ctx: Ctx, data: PollRef) -> None:
        """The card asks for the member's own view of it (Universal Actions' refresh)."""
        polls = service(ctx)
        poll = await polls.get(data.poll_id)
        if poll is None or not polls.may_see(ctx.me, poll):
            ctx.say(ctx.t("poll.not_for_you"))
            return
        await answer(ctx, polls, poll)

    @router.action("poll.close", access=Access.MEMBER, data=PollRef)
    async def close(ctx: Ctx, data: PollRef) -> None:
        """Its keeper closes the poll before the deadline; the result is posted."""
        outcome, poll = await service(ctx).close(ctx.me, data.poll_id)
        await kept(ctx, outcome, poll, done="poll.closed_now")

    @router.action("poll.export", access=Access.MEMBER, data=PollRef)
    async def export(ctx: Ctx, data: PollRef) -> None:
        """Its keeper gets a link of their own to the results as CSV (in their personal chat)."""
        found = None
        if ctx.files is not None:
            found = await results_link(service(ctx), ctx.files, ctx.me, data.poll_id)
        if found is None:
            ctx.say(ctx.t("poll.not_for_you"))
            return
        poll, url = found
        ctx.send_card(
            poll_file_card(ctx.t, question=poll.question, url=url, minutes=ctx.settings.file_link_minutes)
        )

    @router.action("poll.reopen", access=Access.MEMBER, data=PollRef)
    async def reopen(ctx: Ctx, data: PollRef) -> None:
        """Its keeper opens a named poll again before the deadline."""
        outcome, poll = await service(ctx).reopen(ctx.me, data.poll_id)
        await kept(ctx, outcome, poll, done="poll.reopened")

    register_attendance(router)


def register_attendance(router: Router) -> None:
    """Meetings' attendance polls: a member's own card, and who comes, for the coordinators."""

    @router.action("poll.attend", access=Access.MEMBER, data=MeetingRef)
    async def attend(ctx: Ctx, data: MeetingRef) -> None:
        """ "Kommer du?" from a meeting's card: the meeting's attendance poll as a card of the
        member's own (in their personal chat), to answer or change their answer."""
        polls = service(ctx)
        meeting = await MeetingService(ctx.session, ctx.settings, ctx.clock).get(data.meeting_id)
        poll = await polls.attendance.ensure(meeting) if meeting is not None else None
        if poll is None:
            ctx.say(ctx.t("poll.attendance.none"))
            return
        await show(ctx, polls, poll)

    @router.command(
        "help.cmd.attendance",
        "närvaro",
        "attendance",
        access=Access.COORDINATOR,
        shown=("närvaro [datum]", "attendance [date]"),
    )
    async def attendance(ctx: Ctx) -> None:
        """Who comes to the next meeting (or the one on a date) from each agency, and who sends a
        substitute: in the coordinator's personal chat, never in a channel."""
        meetings = MeetingService(ctx.session, ctx.settings, ctx.clock)
        typed = ctx.args.strip()
        if typed:
            day = parse_day(typed)
            if day is None:
                ctx.say(ctx.t("meeting.bad_date"))
                return
            meeting = await meetings.on_date(day)
            if meeting is None:
                ctx.say(ctx.t("meeting.not_found", date=ctx.t.date_long(day)))
                return
        else:
            coming = await meetings.next_held(1)
            if not coming:
                ctx.say(ctx.t("meeting.list.empty"))
                return
            meeting = coming[0]
        await send_attendance(ctx, meeting)

    @router.action("poll.attendance", access=Access.COORDINATOR, data=MeetingRef)
    async def attendance_button(ctx: Ctx, data: MeetingRef) -> None:
        """The same list, from a button (pressed in a channel, it goes to the personal chat)."""
        meeting = await MeetingService(ctx.session, ctx.settings, ctx.clock).get(data.meeting_id)
        if meeting is None:
            ctx.say(ctx.t("common.bad_card"))
            return
        await send_attendance(ctx, meeting)


async def send_attendance(ctx: Ctx, meeting: MeetingView) -> None:
    card = attendance_list_card(ctx.t, await service(ctx).attendance.by_agency(ctx.t, meeting))
    if ctx.private:
        ctx.send_card(card)
        return
    key = f"attendance:{ctx.turn.conversation_id}:{ctx.turn.activity_id}"
    if not await ctx.membership.send_personal(ctx.me, key, card, None):
        ctx.say(ctx.t("meeting.open_personal_chat"))
        return
    ctx.say(ctx.t("poll.attendance.sent_privately"))


async def show(
    ctx: Ctx, polls: PollService, poll: PollView, *, notice: str | None = None, replace: bool = False
) -> None:
    """The poll as a card of the member's own (kept, so that it is brought up to date)."""
    card = await polls.card(ctx.t, poll, ctx.me, notice=notice)
    track = polls.track(poll, ctx.me, ctx.t)
    if replace:
        ctx.replace_card(card, track=track)
    else:
        ctx.outcome.replies.append(Reply(card=card, track=track))


async def answer(
    ctx: Ctx,
    polls: PollService,
    poll: PollView,
    *,
    notice: str | None = None,
    attention: bool = False,
    mine: frozenset[int] | None = None,
    substitute: str | None = None,
) -> None:
    """The presser's card: in the invoke's answer (Action.Execute), else in place of the card."""
    shared = not ctx.turn.personal
    card = await polls.card(
        ctx.t,
        poll,
        ctx.me,
        shared=shared,
        answer=True,
        mine=mine,
        substitute=substitute,
        notice=notice,
        attention=attention,
    )
    if ctx.turn.invoke:
        ctx.answer_with(card)
    elif notice:
        ctx.say(notice)


KEPT = {
    Kept.NOT_KEEPER: "poll.not_keeper",
    Kept.ALREADY: "poll.already",
    Kept.ANONYMOUS: "poll.reopen_anonymous",
    Kept.PAST_DEADLINE: "poll.reopen_past_deadline",
}


async def kept(ctx: Ctx, outcome: Kept, poll: PollView | None, *, done: str) -> None:
    polls = service(ctx)
    if outcome is Kept.NO_SUCH_POLL or poll is None:
        ctx.say(ctx.t("poll.not_for_you"))
        return
    notice = ctx.t(done) if outcome is Kept.DONE else ctx.t(KEPT[outcome])
    await answer(ctx, polls, poll, notice=notice, attention=outcome is not Kept.DONE)
