"""Status reports (lägesbild), part of the meetings capability: an agency's report form for a
meeting, and the compiled picture a member may see.

The report form (its steps drawn in reports.mmd) lives in its card, as the proposal form does:
FORM comes back while invalid (values kept, each problem by its field) and after a draft is
saved (a fresh card, prefilled with the draft); submitting ends it.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from bot.cards import reports as cards
from bot.conversation import Reply
from bot.dialogs.router import END, Access, CardId, Code, Ctx, Router, SubmitData, form_in_personal_chat
from bot.dialogs.steps import START, Step
from bot.services.meetings import MeetingView
from bot.services.reports import Outcome, ReportService


class ReportState(StrEnum):
    FORM = "form"  # the agency's report, prefilled with its draft or what it submitted


REPORT_STEPS = (
    Step(START, ReportState.FORM, "report"),
    Step(ReportState.FORM, ReportState.FORM, "invalid"),
    Step(ReportState.FORM, ReportState.FORM, "draft"),
    Step(ReportState.FORM, ReportState.FORM, "stale"),
    Step(ReportState.FORM, END, "submitted"),
    Step(ReportState.FORM, END, "cancel"),
)

# what after the command asks for the compiled picture, or for the form of the next meeting
COMPILED_WORDS = ("", "sammanställning", "summary")
FORM_WORDS = ("rapportera", "report", "ny", "new")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def service(ctx: Ctx) -> ReportService:
    return ReportService(ctx.session, ctx.settings, ctx.clock)


class FormSubmit(SubmitData):
    meeting_id: CardId


class ReportSubmit(SubmitData):
    """The report form; its inputs ride along and are checked field by field."""

    meeting_id: CardId
    version: Annotated[int, Field(strict=True, ge=0, le=2**31)]
    form_token: Code


def register(router: Router) -> None:
    @router.command(
        "help.cmd.status_report",
        "lägesbild",
        "status report",
        access=Access.MEMBER,
        shown=("lägesbild [datum]", "status report [date]"),
    )
    async def status_report(ctx: Ctx) -> None:
        """The compiled picture of the next meeting; with a date (or "rapportera"), the form."""
        typed = ctx.args.strip().lower()
        if typed in COMPILED_WORDS:
            await show_compiled(ctx)
            return
        if typed in FORM_WORDS:
            day = None
        else:
            day = _date(typed)
            if day is None:
                ctx.say(ctx.t("report.bad_args"))
                return
        meeting = await service(ctx).meeting_for(day)
        if meeting is None:
            ctx.say(
                ctx.t("report.no_meeting")
                if day is None
                else ctx.t("report.no_meeting_on", date=ctx.t.date_long(day))
            )
            return
        await send_form(ctx, meeting)

    @router.action("meeting.report_form", access=Access.MEMBER, data=FormSubmit)
    async def form_button(ctx: Ctx, data: FormSubmit) -> None:
        """The form button on a compiled picture."""
        reports = service(ctx)
        meeting = await reports.get_meeting(data.meeting_id)
        if meeting is None or not reports.open_for_reports(meeting):
            ctx.say(ctx.t("report.closed"))
            return
        await send_form(ctx, meeting)

    @router.action("meeting.my_picture", access=Access.MEMBER, data=FormSubmit)
    async def my_picture(ctx: Ctx, data: FormSubmit) -> None:
        """ "Visa min lägesbild" on the channel's card (Action.Execute): the compiled picture this
        member may see. Off the personal chat it goes to that chat, never into the invoke
        response, since Teams does not document who else would see a card there."""
        reports = service(ctx)
        meeting = await reports.get_meeting(data.meeting_id)
        if meeting is None:
            ctx.say(ctx.t("common.bad_card"))
            return
        card = await reports.compiled_card(ctx.t, meeting, ctx.me)
        track = reports.track(meeting, ctx.me, ctx.t)
        if ctx.turn.personal:
            ctx.outcome.replies.append(Reply(card=card, track=track))
            return
        key = f"my-picture:{ctx.turn.conversation_id}:{ctx.turn.activity_id}"
        if await ctx.membership.send_personal(ctx.me, key, card, track):
            ctx.say(ctx.t("report.my_picture_sent"))
        else:
            ctx.say(ctx.t("report.my_picture_needs_chat"))

    @router.action("meeting.report_draft", access=Access.MEMBER, data=ReportSubmit)
    async def draft(ctx: Ctx, data: ReportSubmit) -> None:
        """The report saved as the agency's draft."""
        await save(ctx, data, submit=False)

    @router.action("meeting.report_submit", access=Access.MEMBER, data=ReportSubmit)
    async def submitted(ctx: Ctx, data: ReportSubmit) -> None:
        """The report submitted: shared with whom the agency chose."""
        await save(ctx, data, submit=True)


def _date(typed: str) -> date | None:
    if not _DATE.match(typed):
        return None
    try:
        return date.fromisoformat(typed)
    except ValueError:
        return None


async def send_form(ctx: Ctx, meeting: MeetingView) -> None:
    """The agency's form, always in the member's personal chat."""
    card, track = await service(ctx).form(ctx.t, ctx.me, meeting)
    await form_in_personal_chat(ctx, card, track, "report-form")


async def show_compiled(ctx: Ctx) -> None:
    """The compiled picture of the next meeting: in a chat others read, only what is forum-wide."""
    reports = service(ctx)
    meeting = await reports.picture_meeting()
    if meeting is None:
        ctx.say(ctx.t("report.no_meeting"))
        return
    viewer = ctx.me if ctx.private else None
    ctx.outcome.replies.append(
        Reply(
            card=await reports.compiled_card(ctx.t, meeting, viewer),
            track=reports.track(meeting, ctx.me, ctx.t) if viewer is not None else None,
        )
    )


async def save(ctx: Ctx, data: ReportSubmit, *, submit: bool) -> None:
    if not ctx.turn.personal:
        ctx.say(ctx.t("meeting.personal_only"))
        return
    reports = service(ctx)
    result = await reports.save(ctx.me, data.meeting_id, data.version, ctx.turn.value or {}, submit=submit)
    meeting = result.meeting
    if result.outcome is Outcome.STALE_FORM:
        ctx.say(ctx.t("report.form_out_of_date"))
    elif meeting is None or result.outcome is Outcome.CLOSED:
        ctx.say(ctx.t("report.closed"))
    elif result.outcome is Outcome.INVALID:
        card, track = await reports.form(ctx.t, ctx.me, meeting, form=result.form)
        ctx.replace_card(card, track=track)
    elif result.outcome is Outcome.SUBMITTED_ALREADY:
        card, track = await reports.form(
            ctx.t, ctx.me, meeting, form=result.form, headline=ctx.t("report.submitted_already")
        )
        ctx.replace_card(card, track=track)
    elif result.outcome is Outcome.STALE:
        ctx.say(ctx.t("report.stale"))
        card, track = await reports.form(ctx.t, ctx.me, meeting)
        ctx.replace_card(card, track=track)
    elif result.outcome is Outcome.ALREADY:
        ctx.say(ctx.t("report.already_saved"))
    elif not submit:
        card, track = await reports.form(ctx.t, ctx.me, meeting, headline=ctx.t("report.draft_saved"))
        ctx.replace_card(card, track=track)
    else:
        view = await reports.compiled_view(meeting, ctx.me, ctx.t)
        ctx.replace_card(
            cards.compiled_card(ctx.t, view, headline=ctx.t("report.submitted", title=meeting.title)),
            track=reports.track(meeting, ctx.me, ctx.t),
        )
