"""Joint inspections: the booking form (its steps drawn in inspections.mmd), the inspection's card
with each participating agency's answer, and its calendar invitation.

The form lives in its card, as the proposal form does: FORM comes back while invalid (values
kept, each problem by its field) or with warnings to confirm; a booking ends it.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from bot.cards.inspections import inspection_calendar_card, inspection_list_card
from bot.conversation import Reply
from bot.dialogs.router import END, Access, CardId, Code, Ctx, Router, SubmitData, form_in_personal_chat
from bot.dialogs.steps import START, Step
from bot.domain.inspections import parse_inspection_number
from bot.domain.visibility import fit_for_channel
from bot.services.inspections import (
    Answered,
    Booking,
    Change,
    Changed,
    InspectionService,
    InspectionView,
    calendar_link,
)


class BookingState(StrEnum):
    FORM = "form"  # the business, the time, the agencies and their notes, who may see it


BOOKING_STEPS = (
    Step(START, BookingState.FORM, "new"),
    Step(BookingState.FORM, BookingState.FORM, "invalid"),
    Step(BookingState.FORM, BookingState.FORM, "warned"),
    Step(BookingState.FORM, END, "booked"),
    Step(BookingState.FORM, END, "cancel"),
)


def service(ctx: Ctx) -> InspectionService:
    return InspectionService(ctx.session, ctx.settings, ctx.clock)


class BookingSubmit(SubmitData):
    """The booking form; its inputs ride along and are checked field by field."""

    form_token: Code
    confirm: Annotated[str | None, Field(default=None, max_length=64)] = None


class AnswerSubmit(SubmitData):
    inspection_id: CardId
    answer: Literal["confirm", "decline", "other_time"]


class InspectionRef(SubmitData):
    inspection_id: CardId


class ReplaceSubmit(SubmitData):
    inspection_id: CardId
    agency_id: CardId


class ProposalRef(SubmitData):
    proposal_id: CardId


class VersionedRef(SubmitData):
    inspection_id: CardId
    # how often the inspection had been moved or called off when the card was drawn
    version: Annotated[int, Field(strict=True, ge=0, le=10_000)]


class MoveSubmit(VersionedRef):
    confirm: Annotated[str | None, Field(default=None, max_length=64)] = None


def register(router: Router) -> None:
    @router.command("help.cmd.book_inspection", "boka tillsyn", "book inspection", access=Access.COORDINATOR)
    async def book(ctx: Ctx) -> None:
        """The booking form, always in the coordinator's personal chat."""
        card, track = await service(ctx).form(ctx.t, ctx.me)
        await form_in_personal_chat(ctx, card, track, "inspection-form")

    @router.action("inspection.from_proposal", access=Access.COORDINATOR, data=ProposalRef)
    async def from_proposal(ctx: Ctx, data: ProposalRef) -> None:
        """ "Boka samordnad tillsyn" on an accepted proposal: the form, filled from it, in the
        coordinator's personal chat."""
        made = await service(ctx).form_for_proposal(ctx.t, ctx.me, data.proposal_id)
        if made is None:
            ctx.say(ctx.t("inspection.proposal_gone"))
            return
        await form_in_personal_chat(ctx, *made, "inspection-form")

    @router.action("inspection.create", access=Access.COORDINATOR, data=BookingSubmit)
    async def create(ctx: Ctx, data: BookingSubmit) -> None:
        """The form sent: booked, or back with its errors, or back with what to confirm first."""
        if not ctx.turn.personal:
            ctx.say(ctx.t("meeting.personal_only"))
            return
        inspections = service(ctx)
        result = await inspections.create(ctx.t, ctx.me, ctx.turn.value or {})
        if result.outcome is Booking.STALE_FORM:
            ctx.say(ctx.t("inspection.form_out_of_date"))
        elif result.outcome is Booking.PROPOSAL_GONE:
            ctx.say(ctx.t("inspection.proposal_gone"))
        elif result.outcome in (Booking.INVALID, Booking.CONFIRM):
            card, track = await inspections.form(
                ctx.t,
                ctx.me,
                values=result.values,
                errors=result.errors,
                warnings=result.warnings,
                stamp=result.stamp,
                proposal_id=result.proposal_id,
            )
            ctx.replace_card(card, track=track)
        elif result.inspection is None:
            ctx.say(ctx.t("inspection.form_out_of_date"))
        else:
            headline = "inspection.booked" if result.outcome is Booking.DONE else "inspection.already_booked"
            await show(ctx, inspections, result.inspection, headline=ctx.t(headline), replace=True)

    @router.action("inspection.answer", access=Access.MEMBER, data=AnswerSubmit)
    async def answer(ctx: Ctx, data: AnswerSubmit) -> None:
        """An agency's answer for its part, from its card: the card shows it at once, and every
        other copy follows."""
        inspections = service(ctx)
        result = await inspections.answer(ctx.me, data.inspection_id, data.answer, ctx.turn.value or {})
        if result.outcome is Answered.NO_SUCH or result.inspection is None:
            ctx.say(ctx.t("inspection.not_for_you"))
            return
        if result.outcome is Answered.NOT_PART:
            ctx.say(ctx.t("inspection.not_part"))
            return
        if result.outcome is Answered.CANCELLED:
            ctx.say(ctx.t("inspection.cancelled_already"))
            return
        if result.outcome is Answered.INVALID:
            card = await inspections.card(
                ctx.t, result.inspection, ctx.me, values=result.values, errors=result.errors
            )
            ctx.replace_card(card, track=inspections.track(result.inspection, ctx.me, ctx.t))
            return
        await inspections.refresh(result.inspection, skip_activity_id=ctx.turn.reply_to_id)
        await show(
            ctx,
            inspections,
            result.inspection,
            headline=ctx.t(f"inspection.answered.{data.answer}"),
            replace=True,
        )

    @router.action("inspection.move_form", access=Access.MEMBER, data=InspectionRef)
    async def move_form(ctx: Ctx, data: InspectionRef) -> None:
        """The form for a new day and time, for whoever may move the inspection."""
        inspections = service(ctx)
        found = await inspections.get(data.inspection_id)
        if found is None or not inspections.may_see(ctx.me, found):
            ctx.say(ctx.t("inspection.not_for_you"))
            return
        if not inspections.may_manage(ctx.me, found):
            ctx.say(ctx.t("inspection.not_manager"))
            return
        ctx.send_card(await inspections.move_form(ctx.t, found))

    @router.action("inspection.move", access=Access.MEMBER, data=MoveSubmit)
    async def move(ctx: Ctx, data: MoveSubmit) -> None:
        """The new time sent: moved (every copy and every participant follow), or the form back."""
        inspections = service(ctx)
        result = await inspections.move(ctx.t, ctx.me, data.inspection_id, data.version, ctx.turn.value or {})
        if await changed(ctx, inspections, result, "inspection.moved"):
            return
        assert result.inspection is not None
        shown = {
            "values": result.values,
            "errors": result.errors,
            "warnings": result.warnings,
            "stamp": result.stamp,
        }
        ctx.replace_card(await inspections.move_form(ctx.t, result.inspection, **shown))

    @router.action("inspection.cancel", access=Access.MEMBER, data=VersionedRef)
    async def cancel(ctx: Ctx, data: VersionedRef) -> None:
        """Called off, with the reason typed on the card."""
        inspections = service(ctx)
        result = await inspections.cancel(ctx.me, data.inspection_id, data.version, ctx.turn.value or {})
        if await changed(ctx, inspections, result, "inspection.cancelled_now"):
            return
        await card_back(ctx, inspections, result)

    @router.action("inspection.outcome", access=Access.MEMBER, data=InspectionRef)
    async def outcome(ctx: Ctx, data: InspectionRef) -> None:
        """The member's agency's outcome, recorded from the card; every copy follows."""
        inspections = service(ctx)
        result = await inspections.record_outcome(ctx.me, data.inspection_id, ctx.turn.value or {})
        if result.outcome is Change.NOT_ALLOWED:
            ctx.say(ctx.t("inspection.not_part"))
            return
        if result.outcome is Change.STALE:
            ctx.say(ctx.t("inspection.outcome_not_now"))
            return
        if await changed(ctx, inspections, result, "inspection.outcome_saved"):
            return
        await card_back(ctx, inspections, result)

    @router.action("inspection.close", access=Access.MEMBER, data=InspectionRef)
    async def close(ctx: Ctx, data: InspectionRef) -> None:
        """Closed by a coordinator, with a reason, though not every outcome is in."""
        inspections = service(ctx)
        result = await inspections.close(ctx.me, data.inspection_id, ctx.turn.value or {})
        if result.outcome is Change.STALE:
            ctx.say(ctx.t("inspection.outcome_not_now"))
            return
        if await changed(ctx, inspections, result, "inspection.closed_now"):
            return
        await card_back(ctx, inspections, result)

    @router.action("inspection.replace", access=Access.MEMBER, data=ReplaceSubmit)
    async def replace(ctx: Ctx, data: ReplaceSubmit) -> None:
        """An agency that declined replaced by the one chosen on the card, which is asked at once."""
        inspections = service(ctx)
        result = await inspections.replace_agency(
            ctx.me, data.inspection_id, data.agency_id, ctx.turn.value or {}
        )
        if await changed(ctx, inspections, result, "inspection.replaced"):
            return
        await card_back(ctx, inspections, result)

    @router.action("inspection.calendar", access=Access.MEMBER, data=InspectionRef)
    async def calendar(ctx: Ctx, data: InspectionRef) -> None:
        """A link to the invitation (.ics) for the member who pressed, when their agency takes part
        and has confirmed."""
        inspections = service(ctx)
        found = await inspections.get(data.inspection_id)
        if found is None or ctx.files is None or await inspections.calendar_file(ctx.me, found.id) is None:
            ctx.say(ctx.t("inspection.no_calendar"))
            return
        url = calendar_link(ctx.files, ctx.me, found)
        ctx.send_card(
            inspection_calendar_card(
                ctx.t, number=found.number, url=url, minutes=ctx.settings.file_link_minutes
            )
        )

    @router.command(
        "help.cmd.inspection",
        "inspektion",
        "inspection",
        access=Access.MEMBER,
        shown=("inspektion T-2026-0001", "inspection …"),
    )
    async def show_one(ctx: Ctx) -> None:
        """One joint inspection by its number, with its history, as the member may see it."""
        number = parse_inspection_number(ctx.args)
        inspections = service(ctx)
        found = await inspections.by_number(f"T-{number[0]}-{number[1]:04d}") if number else None
        if found is None or not inspections.may_see(ctx.me, found):
            ctx.say(ctx.t("inspection.not_for_you"))
            return
        if not ctx.private and not fit_for_channel(found.audience):
            ctx.say(ctx.t("inspection.not_for_you"))
            return
        await show(ctx, inspections, found, with_history=True)

    @router.action("inspection.show", access=Access.MEMBER, data=InspectionRef)
    async def show_from_list(ctx: Ctx, data: InspectionRef) -> None:
        inspections = service(ctx)
        found = await inspections.get(data.inspection_id)
        if found is None or not inspections.may_see(ctx.me, found):
            ctx.say(ctx.t("inspection.not_for_you"))
            return
        await show(ctx, inspections, found, with_history=True)

    @router.command(
        "help.cmd.inspections",
        "inspektioner",
        "inspections",
        access=Access.MEMBER,
        shown=("inspektioner [månad:2026-12] [myndighet:POL]", "inspections [month:…] [agency:…]"),
    )
    async def list_all(ctx: Ctx) -> None:
        """The coming joint inspections the member may see; or a month's; or one agency's."""
        await show_list(ctx, own=False)

    @router.command(
        "help.cmd.our_inspections", "vår myndighets inspektioner", "our inspections", access=Access.MEMBER
    )
    async def list_ours(ctx: Ctx) -> None:
        """The coming joint inspections the member's agency takes part in."""
        await show_list(ctx, own=True)


async def changed(ctx: Ctx, inspections: InspectionService, result: Changed, done: str) -> bool:
    """Says what a move or a cancellation came to, unless its form must come back (False)."""
    if result.outcome is Change.NO_SUCH or result.inspection is None:
        ctx.say(ctx.t("inspection.not_for_you"))
    elif result.outcome is Change.NOT_ALLOWED:
        ctx.say(ctx.t("inspection.not_manager"))
    elif result.outcome is Change.CANCELLED:
        ctx.say(ctx.t("inspection.cancelled_already"))
    elif result.outcome is Change.STALE:
        await show(ctx, inspections, result.inspection, headline=ctx.t("inspection.stale"), replace=True)
    elif result.outcome is Change.DONE:
        await inspections.refresh(result.inspection, skip_activity_id=ctx.turn.reply_to_id)
        await show(ctx, inspections, result.inspection, headline=ctx.t(done), replace=True)
    else:
        return False
    return True


FILTER_WORDS = {"månad": "month", "month": "month", "myndighet": "agency", "agency": "agency"}


async def show_list(ctx: Ctx, *, own: bool) -> None:
    """`inspektioner månad:2026-12 myndighet:POL`: the filters typed after the command."""
    filters: dict[str, str] = {}
    for word in ctx.args.split():
        key, _, value = word.partition(":")
        if key.lower() in FILTER_WORDS and value:
            filters[FILTER_WORDS[key.lower()]] = value
    month = None
    if "month" in filters:
        try:
            month = date.fromisoformat(f"{filters['month']}-01")
        except ValueError:
            ctx.say(ctx.t("inspection.bad_month"))
            return
    agency_id = ctx.me.agency.id if own else None
    if "agency" in filters:
        agency = await ctx.membership.agencies.by_code(filters["agency"].upper())
        if agency is None:
            ctx.say(ctx.t("inspection.bad_agency", code=filters["agency"].upper()))
            return
        agency_id = agency.id
    inspections = service(ctx)
    rows = await inspections.listing(ctx.t, ctx.me, month=month, agency_id=agency_id, channel=not ctx.private)
    title = ctx.t("inspection.list_ours" if own else "inspection.list_title")
    if month is not None:
        title = ctx.t("inspection.list_month", title=title, month=ctx.t.month_year(month))
    note = ctx.t("inspection.list_channel") if not ctx.private else None
    ctx.send_card(inspection_list_card(ctx.t, title, rows, note=note))


async def card_back(ctx: Ctx, inspections: InspectionService, result: Changed) -> None:
    """The pressed card again, with the values typed and each error by its field."""
    assert result.inspection is not None
    card = await inspections.card(
        ctx.t, result.inspection, ctx.me, values=result.values, errors=result.errors
    )
    ctx.replace_card(card, track=inspections.track(result.inspection, ctx.me, ctx.t))


async def show(
    ctx: Ctx,
    inspections: InspectionService,
    inspection: InspectionView,
    *,
    headline: str | None = None,
    replace: bool = False,
    with_history: bool = False,
) -> None:
    """The inspection as a card of the member's own (kept, so that it is brought up to date)."""
    card = await inspections.card(ctx.t, inspection, ctx.me, headline=headline, with_history=with_history)
    track = inspections.track(inspection, ctx.me, ctx.t)
    if replace:
        ctx.replace_card(card, track=track)
    else:
        ctx.outcome.replies.append(Reply(card=card, track=track))
