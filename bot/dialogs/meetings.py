"""Operational meetings: setting up a series, finding meetings, a meeting with its agenda, the
series' calendar file, a coordinator's changes (one meeting moved, called off or added; a series
ended), which are typed commands, not flows, and a running series' reminder plan.

The series form (its steps drawn in meetings.mmd) lives in its card, as the proposal form does:
FORM comes back while invalid (values kept, each problem by its field); when meetings fall on
Swedish public holidays, HOLIDAYS asks to skip or move each before the series is created. The
reminders' form (reminders.mmd) is one card too: it comes back while invalid, or prefilled anew
when the series changed meanwhile, and a newer one for the same series replaces it.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from bot.cards import meetings as cards
from bot.cards.common import Card
from bot.conversation import Reply
from bot.dialogs.proposals import refused
from bot.dialogs.router import END, Access, CardId, Code, Ctx, Router, SubmitData
from bot.dialogs.steps import START, Step
from bot.domain.meetings import (
    MeetingStatus,
    UnreadableChange,
    holiday_name,
    is_working_day,
    parse_cancel,
    parse_extra,
    parse_move,
    parse_note,
)
from bot.domain.members import Role
from bot.domain.text import command_words, typed_after
from bot.services.meetings import (
    Change,
    ChangeResult,
    MeetingChanges,
    MeetingService,
    MeetingView,
    Outcome,
    PlanOutcome,
    SeriesView,
    calendar_link,
    series_rows,
)
from bot.services.proposals import Outcome as ProposalOutcome
from bot.services.proposals import ProposalService


class SeriesState(StrEnum):
    FORM = "form"  # the new series' form
    HOLIDAYS = "holidays"  # its meetings on holidays: skip or move each


SERIES_STEPS = (
    Step(START, SeriesState.FORM, "new_series"),
    Step(SeriesState.FORM, SeriesState.FORM, "invalid"),
    Step(SeriesState.FORM, SeriesState.HOLIDAYS, "holidays"),
    Step(SeriesState.FORM, END, "created"),
    Step(SeriesState.FORM, END, "cancel"),
    Step(SeriesState.HOLIDAYS, SeriesState.FORM, "invalid"),
    Step(SeriesState.HOLIDAYS, END, "created"),
    Step(SeriesState.HOLIDAYS, END, "cancel"),
)


class PlanState(StrEnum):
    FORM = "form"  # a running series' reminders, prefilled with its plan now


PLAN_STEPS = (
    Step(START, PlanState.FORM, "reminders"),
    Step(PlanState.FORM, PlanState.FORM, "invalid"),
    Step(PlanState.FORM, PlanState.FORM, "stale"),
    Step(PlanState.FORM, END, "saved"),
    Step(PlanState.FORM, END, "cancel"),
    Step(PlanState.FORM, END, "replaced"),
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def service(ctx: Ctx) -> MeetingService:
    return MeetingService(ctx.session, ctx.settings, ctx.clock)


class SeriesSubmit(SubmitData):
    """The series form, or the holidays' choices with the form's values riding along."""

    form_token: Code
    holidays_chosen: bool = False


class MeetingSubmit(SubmitData):
    meeting_id: CardId


class DecideSubmit(SubmitData):
    """The meeting's decision on one proposal of its agenda, from the agenda card."""

    meeting_id: CardId
    proposal_id: CardId
    version: CardId
    transition: Literal["plan", "reject"]
    note: Annotated[str, Field(max_length=2000)] = ""


def register(router: Router) -> None:
    @router.command("help.cmd.new_series", "ny mötesserie", "new meeting series", access=Access.COORDINATOR)
    async def new_series(ctx: Ctx) -> None:
        """The series form; asked for in a channel, it goes to the coordinator's personal chat."""
        await send_series_form(ctx)

    @router.action("meeting.new_series", access=Access.COORDINATOR)
    async def new_series_button(ctx: Ctx, data: SubmitData) -> None:
        """The new-series button on the list of meetings."""
        await send_series_form(ctx)

    @router.action("meeting.series_submit", access=Access.COORDINATOR, data=SeriesSubmit)
    async def series_submitted(ctx: Ctx, data: SeriesSubmit) -> None:
        """The series form, or its holidays' card, was submitted."""
        if not ctx.turn.personal:
            ctx.say(ctx.t("meeting.personal_only"))
            return
        meetings = service(ctx)
        result = await meetings.submit_series(ctx.me, ctx.turn.value or {})
        if result.outcome is Outcome.INVALID and result.form is not None:
            ctx.replace_card(
                cards.series_form_card(
                    ctx.t,
                    values=result.form.values,
                    errors=result.form.errors,
                    form_token=data.form_token,
                    first_meeting=result.form.first_meeting,
                )
            )
        elif result.outcome is Outcome.HOLIDAYS and result.form is not None:
            ctx.replace_card(
                cards.holidays_card(
                    ctx.t, values=result.form.values, conflicts=result.conflicts, form_token=data.form_token
                )
            )
        elif result.outcome in (Outcome.DONE, Outcome.ALREADY) and result.series is not None:
            coming = [m for m in await meetings.coming(50) if m.series_id == result.series.id]
            key = "meeting.created" if result.outcome is Outcome.DONE else "meeting.already_created"
            intro = cards.plan_words(ctx.t, result.series.plan)
            if result.outcome is Outcome.DONE:
                told = "meeting.created_announced" if result.announced else "meeting.created_no_channel"
                intro = f"{ctx.t(told)}\n\n{intro}"
            ctx.replace_card(
                cards.list_card(
                    ctx.t,
                    ctx.t(key, title=result.series.title),
                    meetings.rows(ctx.t, coming[:8]),
                    intro=intro,
                )
            )
        else:
            ctx.say(ctx.t("meeting.form_out_of_date"))

    @router.command("help.cmd.meetings", "möten", "meetings", access=Access.MEMBER)
    async def listing(ctx: Ctx) -> None:
        """The coming meetings."""
        meetings = service(ctx)
        rows = meetings.rows(ctx.t, await meetings.coming())
        coordinator = ctx.private and ctx.me.has(Role.COORDINATOR)
        ctx.send_card(cards.list_card(ctx.t, ctx.t("meeting.list.title"), rows, coordinator=coordinator))

    @router.command(
        "help.cmd.meeting", "möte", "meeting", access=Access.MEMBER, shown=("möte 2026-12-01", "meeting …")
    )
    async def one(ctx: Ctx) -> None:
        """One meeting, by its date, with its agenda."""
        typed = ctx.args.strip()
        day = _date(typed)
        if day is None:
            ctx.say(ctx.t("meeting.bad_date"))
            return
        meeting = await service(ctx).on_date(day)
        if meeting is None:
            ctx.say(ctx.t("meeting.not_found", date=ctx.t.date_long(day)))
            return
        await show(ctx, meeting)

    @router.action("meeting.open", access=Access.MEMBER, data=MeetingSubmit)
    async def open_from_card(ctx: Ctx, data: MeetingSubmit) -> None:
        """A meeting from a list."""
        meeting = await service(ctx).get(data.meeting_id)
        if meeting is None:
            ctx.say(ctx.t("common.bad_card"))
            return
        await show(ctx, meeting)

    @router.action("meeting.decide", access=Access.COORDINATOR, data=DecideSubmit)
    async def decide(ctx: Ctx, data: DecideSubmit) -> None:
        """A decision recorded on the agenda card: the proposal planned or rejected, as from its
        own card; the agenda card is drawn again."""
        meeting = await service(ctx).get(data.meeting_id)
        if meeting is None:
            ctx.say(ctx.t("common.bad_card"))
            return
        result = await ProposalService(ctx.session, ctx.settings, ctx.clock).transition(
            ctx.me,
            data.proposal_id,
            data.version,
            data.transition,
            data.note,
            clicked_activity_id=None,
        )
        if result.outcome is not ProposalOutcome.DONE or result.proposal is None:
            await refused(ctx, result)
            return
        moved = ctx.t(
            "proposal.moved_number",
            number=result.proposal.number,
            status=ctx.t(f"status.proposal.{result.proposal.status.value}"),
            by=ctx.me.name,
        )
        if ctx.turn.personal:
            view = await service(ctx).card_view(meeting, ctx.me, ctx.t)
            ctx.replace_card(cards.meeting_card(ctx.t, view, headline=moved))
        else:
            ctx.say(moved)

    register_calendar(router)
    register_changes(router)
    register_plan(router)


def _date(typed: str) -> date | None:
    if not _DATE.match(typed):
        return None
    try:
        return date.fromisoformat(typed)
    except ValueError:
        return None


async def show(ctx: Ctx, meeting: MeetingView) -> None:
    """The meeting's card: in a chat others read, its agenda only as every member may see it."""
    meetings = service(ctx)
    viewer = ctx.me if ctx.private else None
    view = await meetings.card_view(meeting, viewer, ctx.t)
    ctx.outcome.replies.append(
        Reply(
            card=cards.meeting_card(ctx.t, view),
            track=meetings.track(meeting, ctx.me, ctx.t) if viewer is not None else None,
        )
    )


async def send_series_form(ctx: Ctx) -> None:
    form, track = await service(ctx).new_form(ctx.t, ctx.me)
    await send_form(ctx, form, track, "meeting-series-form")


async def send_form(ctx: Ctx, form: Card, track: dict[str, Any], kind: str) -> None:
    """A form card, always in the coordinator's personal chat."""
    if ctx.turn.personal:
        ctx.outcome.replies.append(Reply(card=form, track=track))
        return
    key = f"{kind}:{ctx.turn.conversation_id}:{ctx.turn.activity_id}"
    if not await ctx.membership.send_personal(ctx.me, key, form, track):
        ctx.say(ctx.t("meeting.open_personal_chat"))
        return
    ctx.say(ctx.t("meeting.form_sent_privately"))


class CalendarSubmit(SubmitData):
    series_id: CardId


def register_calendar(router: Router) -> None:
    """The series' calendar file, through a short-lived link of the member's own."""

    @router.action("meeting.calendar", access=Access.MEMBER, data=CalendarSubmit)
    async def calendar(ctx: Ctx, data: CalendarSubmit) -> None:
        """A link to the series' calendar file, for the member who pressed the button alone (in a
        chat others read, the reply goes to the member's personal chat)."""
        found = None
        if ctx.files is not None:
            found = await calendar_link(ctx.session, ctx.files, ctx.me, data.series_id)
        if found is None:
            ctx.say(ctx.t("common.bad_card"))
            return
        title, url = found
        ctx.send_card(
            cards.calendar_link_card(ctx.t, title=title, url=url, minutes=ctx.settings.file_link_minutes)
        )


class EndSeriesSubmit(SubmitData):
    """A series' end button, and then 'Avsluta ändå' on the question it asks, with the note."""

    series_id: CardId
    note: Annotated[str, Field(max_length=2000)] = ""
    confirmed: bool = False


def changes(ctx: Ctx) -> MeetingChanges:
    return MeetingChanges(service(ctx))


def typed(ctx: Ctx) -> str:
    """The command's free text as typed, case kept (ctx.args is lower-cased)."""
    phrase = len(command_words(ctx.turn.text).split()) - len(ctx.args.split())
    return typed_after(ctx.turn.text, phrase)


def change_message(ctx: Ctx, result: ChangeResult, day: date | None = None) -> str:
    """What became of a change, for the coordinator who asked."""
    meeting = result.meeting
    if result.outcome is Change.DONE and meeting is not None:
        key = {
            MeetingStatus.CANCELLED: "meeting.change.done.cancelled",
            MeetingStatus.MOVED: "meeting.change.done.moved",
        }.get(meeting.status, "meeting.change.done.added")
        return ctx.t(key, title=meeting.title, when=service(ctx).when(ctx.t, meeting))
    if result.outcome is Change.NOT_FOUND and day is not None:
        return ctx.t("meeting.not_found", date=ctx.t.date_long(day))
    return ctx.t(f"meeting.change.refused.{result.outcome.value}")


def say_change(ctx: Ctx, result: ChangeResult, day: date | None = None) -> None:
    ctx.say(change_message(ctx, result, day))


class OffDayConfirm(SubmitData):
    """'Flytta ändå' on the question a move or an extra meeting on a weekend or holiday asks: the
    command as typed rides along and is read and checked again in full."""

    change: Literal["move", "extra"]
    typed: Annotated[str, Field(max_length=2000)]


def off_day_question(ctx: Ctx, day: date) -> str | None:
    """Why a meeting on `day` needs the coordinator's word: a public holiday or a weekend."""
    if is_working_day(day):
        return None
    name = holiday_name(day)
    if name is not None:
        return ctx.t("meeting.change.off_day.holiday", date=ctx.t.date_long(day), holiday=name)
    return ctx.t("meeting.change.off_day.weekend", date=ctx.t.date_long(day))


async def run_change(ctx: Ctx, change: str, typed_text: str, *, confirmed: bool) -> str | None:
    """Move a meeting or add an extra one, as typed; a day off asks first (None: asked)."""
    today = service(ctx).today()
    try:
        if change == "move":
            move = parse_move(typed_text, today=today)
            day, question = move.day, off_day_question(ctx, move.new_day)
        else:
            extra = parse_extra(typed_text, today=today)
            day, question = None, off_day_question(ctx, extra.day)
    except UnreadableChange as error:
        return ctx.t(error.key)
    if question is not None and not confirmed:
        ctx.send_card(cards.off_day_card(ctx.t, question, change, typed_text))
        return None
    if change == "move":
        return change_message(ctx, await changes(ctx).move(ctx.me, move), day)
    return change_message(ctx, await changes(ctx).add_extra(ctx.me, extra))


def register_changes(router: Router) -> None:
    """A coordinator's changes: one meeting moved, called off or added; a series ended."""

    @router.command(
        "help.cmd.move_meeting",
        "flytta möte",
        "move meeting",
        access=Access.COORDINATOR,
        shown=("flytta möte 2026-12-01 2026-12-03 10:00 …", "move meeting …"),
    )
    async def move(ctx: Ctx) -> None:
        """One meeting to another day and time, with a note to the forum; a weekend or a holiday
        asks first."""
        said = await run_change(ctx, "move", typed(ctx), confirmed=False)
        if said is not None:
            ctx.say(said)

    @router.command(
        "help.cmd.cancel_meeting",
        "ställ in möte",
        "call off meeting",
        access=Access.COORDINATOR,
        shown=("ställ in möte 2026-12-01 …", "call off meeting …"),
    )
    async def cancel(ctx: Ctx) -> None:
        """One meeting called off, with why."""
        try:
            request = parse_cancel(typed(ctx), today=service(ctx).today())
        except UnreadableChange as error:
            ctx.say(ctx.t(error.key))
            return
        say_change(ctx, await changes(ctx).cancel(ctx.me, request), request.day)

    @router.command(
        "help.cmd.extra_meeting",
        "extra möte",
        "extra meeting",
        access=Access.COORDINATOR,
        shown=("extra möte 2026-12-10 13:00-14:00 …", "extra meeting …"),
    )
    async def extra(ctx: Ctx) -> None:
        """A single meeting besides the series; a weekend or a holiday asks first."""
        said = await run_change(ctx, "extra", typed(ctx), confirmed=False)
        if said is not None:
            ctx.say(said)

    @router.action("meeting.off_day_confirm", access=Access.COORDINATOR, data=OffDayConfirm)
    async def off_day_confirmed(ctx: Ctx, data: OffDayConfirm) -> None:
        """The coordinator wants the meeting on that day all the same: the question's card says
        what became of it."""
        said = await run_change(ctx, data.change, data.typed, confirmed=True)
        ctx.replace_card(cards.change_done_card(said or ctx.t("common.bad_card")))

    @router.command(
        "help.cmd.end_series", "avsluta mötesserie", "end meeting series", access=Access.COORDINATOR
    )
    async def end_series(ctx: Ctx) -> None:
        """The running series, each with a button that ends it."""
        running = await changes(ctx).running_series()
        ctx.send_card(cards.end_series_card(ctx.t, series_rows(ctx.t, running)))

    @router.action("meeting.end_series", access=Access.COORDINATOR, data=EndSeriesSubmit)
    async def end_series_pressed(ctx: Ctx, data: EndSeriesSubmit) -> None:
        """A series' end button: first the card asks, saying how many meetings would be called
        off; confirmed, the series ends and its meetings ahead are called off."""
        try:
            note = parse_note(data.note, today=service(ctx).today())
        except UnreadableChange as error:
            ctx.say(ctx.t(error.key))
            return
        if not data.confirmed:
            asked = await changes(ctx).before_ending(data.series_id)
            if asked.outcome is Change.DONE and asked.series is not None:
                ctx.replace_card(
                    cards.end_series_confirm_card(
                        ctx.t,
                        series_id=asked.series.id,
                        title=asked.series.title,
                        ahead=asked.cancelled,
                        note=note,
                    )
                )
            elif asked.outcome is Change.ENDED and asked.series is not None:
                ctx.say(ctx.t("meeting.end.already", title=asked.series.title))
            else:
                ctx.say(ctx.t("common.bad_card"))
            return
        result = await changes(ctx).end_series(ctx.me, data.series_id, note)
        if result.outcome is Change.DONE and result.series is not None:
            ctx.replace_card(
                cards.series_ended_card(
                    ctx.t, title=result.series.title, cancelled=result.cancelled, note=note
                )
            )
        elif result.outcome is Change.ENDED and result.series is not None:
            ctx.say(ctx.t("meeting.end.already", title=result.series.title))
        else:
            ctx.say(ctx.t("common.bad_card"))


class PlanFormSubmit(SubmitData):
    series_id: CardId


class PlanSubmit(SubmitData):
    """The reminders' form; its inputs ride along and are checked field by field."""

    form_token: Code
    series_id: CardId
    version: CardId


def register_plan(router: Router) -> None:
    """A running series' reminder plan: which reminders go out, and when."""

    @router.command("help.cmd.reminders", "påminnelser", "reminders", access=Access.COORDINATOR)
    async def reminders(ctx: Ctx) -> None:
        """The reminders' form of the running series, or a choice of series when several run."""
        running = await changes(ctx).running_series()
        if not running:
            ctx.say(ctx.t("meeting.plan.none_running"))
        elif len(running) == 1:
            await send_plan_form(ctx, running[0])
        else:
            ctx.send_card(cards.plan_series_card(ctx.t, series_rows(ctx.t, running)))

    @router.action("meeting.plan_form", access=Access.COORDINATOR, data=PlanFormSubmit)
    async def plan_form(ctx: Ctx, data: PlanFormSubmit) -> None:
        """The reminders' form of one series, from the list of series or a meeting's card."""
        series = await service(ctx).series(data.series_id)
        if series is None:
            ctx.say(ctx.t("common.bad_card"))
        elif series.ended_at is not None:
            ctx.say(ctx.t("meeting.plan.ended", title=series.title))
        else:
            await send_plan_form(ctx, series)

    @router.action("meeting.plan_submit", access=Access.COORDINATOR, data=PlanSubmit)
    async def plan_submitted(ctx: Ctx, data: PlanSubmit) -> None:
        """The reminders' form was saved: the plan stored, the meetings ahead planned again."""
        if not ctx.turn.personal:
            ctx.say(ctx.t("meeting.personal_only"))
            return
        meetings = service(ctx)
        result = await meetings.submit_plan(ctx.me, ctx.turn.value or {})
        series = result.series
        if series is None:
            ctx.say(ctx.t("meeting.plan.out_of_date"))
        elif result.outcome is PlanOutcome.INVALID:
            view = meetings.plan_view(series, data.form_token, result.form)
            ctx.replace_card(cards.plan_form_card(ctx.t, view))
        elif result.outcome is PlanOutcome.STALE:
            view = meetings.plan_view(series, data.form_token)
            ctx.replace_card(cards.plan_form_card(ctx.t, view, headline=ctx.t("meeting.plan.stale")))
        elif result.outcome in (PlanOutcome.DONE, PlanOutcome.UNCHANGED):
            replanned = result.replanned if result.outcome is PlanOutcome.DONE else None
            ctx.replace_card(
                cards.plan_saved_card(ctx.t, title=series.title, plan=series.plan, replanned=replanned)
            )
        elif result.outcome is PlanOutcome.ENDED:
            ctx.say(ctx.t("meeting.plan.ended", title=series.title))
        else:
            ctx.say(ctx.t("meeting.plan.already"))


async def send_plan_form(ctx: Ctx, series: SeriesView) -> None:
    form, track = await service(ctx).plan_form(ctx.t, ctx.me, series)
    await send_form(ctx, form, track, "meeting-plan-form")
