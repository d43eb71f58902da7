"""Proposing actions, finding them, editing them and moving them through their lifecycle.

The proposal form (its steps drawn in proposals.mmd) lives in its card, not in the conversation
state: each state is a card, each step a submit, and the card's form token names the form. A FORM
comes back while invalid (values kept, each problem by its field) until the proposal is created;
an EDIT_FORM whose change shows the proposal to more agencies asks first (CONFIRM_WIDEN). The
proposal's own lifecycle is in bot/domain/proposals.py.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from bot.cards import proposals as cards
from bot.conversation import Reply
from bot.dialogs.router import END, Access, CardId, Code, Ctx, Router, SubmitData
from bot.dialogs.steps import START, Step
from bot.domain.proposals import LIMITS, Status, may_edit
from bot.domain.visibility import fit_for_channel
from bot.i18n import Translator
from bot.services.proposals import Outcome, ProposalService, Result


class FormState(StrEnum):
    FORM = "form"  # a new proposal's form
    EDIT_FORM = "edit_form"  # a proposal's edit form, prefilled with what the editor may see
    CONFIRM_WIDEN = "confirm_widen"  # the edit shows the proposal to more agencies: sure?


FORM_STEPS = (
    Step(START, FormState.FORM, "propose"),
    Step(FormState.FORM, FormState.FORM, "invalid"),
    Step(FormState.FORM, END, "created"),
    Step(FormState.FORM, END, "cancel"),
    Step(START, FormState.EDIT_FORM, "edit"),
    Step(FormState.EDIT_FORM, FormState.EDIT_FORM, "invalid"),
    Step(FormState.EDIT_FORM, FormState.CONFIRM_WIDEN, "widen"),
    Step(FormState.EDIT_FORM, END, "saved"),
    Step(FormState.EDIT_FORM, END, "stale"),
    Step(FormState.EDIT_FORM, END, "cancel"),
    Step(FormState.CONFIRM_WIDEN, FormState.EDIT_FORM, "invalid"),
    Step(FormState.CONFIRM_WIDEN, END, "saved"),
    Step(FormState.CONFIRM_WIDEN, END, "stale"),
    Step(FormState.CONFIRM_WIDEN, END, "cancel"),
)

SV, EN = Translator("sv"), Translator("en")
FILTER_WORDS = {
    "status": "status",
    "bransch": "industry",
    "industry": "industry",
    "myndighet": "agency",
    "agency": "agency",
    "sida": "page",
    "page": "page",
}


def service(ctx: Ctx) -> ProposalService:
    return ProposalService(ctx.session, ctx.settings, ctx.clock)


class NewSubmit(SubmitData):
    """The proposal form; its inputs ride along and are checked field by field."""

    form_token: Code


class SaveSubmit(SubmitData):
    """The edit form, or the confirmation that widens who may see it."""

    proposal_id: CardId
    version: CardId
    form_token: Code
    confirm_widen: bool = False


class ProposalSubmit(SubmitData):
    proposal_id: CardId


class TransitionSubmit(SubmitData):
    proposal_id: CardId
    version: CardId
    transition: Code
    note: Annotated[str, Field(max_length=LIMITS["note"] * 2)] = ""
    # the accept button's choice of meeting (an input: its value comes as text)
    meeting_id: Annotated[str, Field(pattern=r"^[0-9]{1,18}$")] | None = None


class ListSubmit(SubmitData):
    page: Annotated[int, Field(strict=True, ge=1, le=9999)] = 1
    status: Code | None = None
    industry: Code | None = None
    agency: Code | None = None
    mine: Literal[1] | None = None


def register(router: Router) -> None:
    @router.command("help.cmd.propose", "föreslå", "propose", "nytt förslag", access=Access.MEMBER)
    async def propose(ctx: Ctx) -> None:
        """The proposal form; asked for in a channel, it goes to the member's personal chat."""
        proposals = service(ctx)
        form, track = await proposals.new_form(ctx.t, ctx.me)
        if ctx.turn.personal:
            ctx.outcome.replies.append(Reply(card=form, track=track))
            return
        if not await ctx.membership.send_personal(
            ctx.me, f"proposal-form:{ctx.turn.conversation_id}:{ctx.turn.activity_id}", form, track
        ):
            ctx.say(ctx.t("proposal.open_personal_chat"))
            return
        ctx.say(ctx.t("proposal.form_sent_privately"))

    @router.action("proposal.submit", access=Access.MEMBER, data=NewSubmit)
    async def submitted(ctx: Ctx, data: NewSubmit) -> None:
        """A new proposal's form was submitted."""
        if not ctx.turn.personal:  # others read along in a group chat or channel
            ctx.say(ctx.t("proposal.edit_personal_only"))
            return
        proposals = service(ctx)
        result = await proposals.create(ctx.me, ctx.turn.value or {})
        if result.outcome is Outcome.INVALID and result.form is not None:
            ctx.replace_card(
                await proposals.form(
                    ctx.t, result.form.values, result.form.errors, form_token=data.form_token
                )
            )
            return
        if result.outcome is Outcome.STALE_FORM or result.proposal is None:
            ctx.say(ctx.t("proposal.form_out_of_date"))
            return
        key = "proposal.created" if result.outcome is Outcome.DONE else "proposal.already_created"
        view = await proposals.card_view(result.proposal, ctx.me, ctx.t)
        ctx.replace_card(
            cards.proposal_card(ctx.t, view, headline=ctx.t(key, number=view.number)),
            track=proposals.track(result.proposal, ctx.me, ctx.t),
        )

    @router.command("help.cmd.my_proposals", "mina förslag", "my proposals", access=Access.MEMBER)
    async def mine(ctx: Ctx) -> None:
        """The member's own proposals, every status."""
        await show_list(ctx, mine=True, filters=parse_filters(ctx.args))

    @router.command("help.cmd.proposals", "förslag", "proposals", "proposal", access=Access.MEMBER)
    async def listing(ctx: Ctx) -> None:
        """Open proposals the member may see; with a number, that proposal and its history."""
        words = ctx.args.split()
        if words and words[0].upper().startswith("F-"):
            await open_one(ctx, number=words[0])
            return
        await show_list(ctx, mine=False, filters=parse_filters(ctx.args))

    @router.action("proposal.list", access=Access.MEMBER, data=ListSubmit)
    async def list_page(ctx: Ctx, data: ListSubmit) -> None:
        """Another page of a list."""
        filters = {
            k: v
            for k, v in (("status", data.status), ("industry", data.industry), ("agency", data.agency))
            if v
        }
        filters["page"] = str(data.page)
        await show_list(ctx, mine=data.mine == "1", filters=filters, replace=ctx.turn.personal)

    @router.action("proposal.open", access=Access.MEMBER, data=ProposalSubmit)
    async def open_from_card(ctx: Ctx, data: ProposalSubmit) -> None:
        """A proposal's details and history."""
        await open_one(ctx, proposal_id=data.proposal_id)

    @router.command("help.cmd.edit", "ändra", "edit", access=Access.MEMBER)
    async def edit_command(ctx: Ctx) -> None:
        """The edit form of a proposal, by number."""
        if not ctx.turn.personal:
            ctx.say(ctx.t("proposal.edit_personal_only"))
            return
        if not ctx.args.strip():
            ctx.say(ctx.t("proposal.edit_which"))
            return
        proposal = await service(ctx).find(ctx.me, ctx.args)
        if proposal is None:
            ctx.say(ctx.t("proposal.not_found", number=_number_typed(ctx.args)))
            return
        await send_edit_form(ctx, proposal.id)

    @router.action("proposal.edit", access=Access.MEMBER, data=ProposalSubmit)
    async def edit_from_card(ctx: Ctx, data: ProposalSubmit) -> None:
        """The edit button on a proposal card; pressed in a channel, the form comes in personal chat."""
        await send_edit_form(ctx, data.proposal_id)

    @router.action("proposal.save", access=Access.MEMBER, data=SaveSubmit)
    async def save(ctx: Ctx, data: SaveSubmit) -> None:
        """The edit form, or the confirmation of a wider visibility, was submitted."""
        if not ctx.turn.personal:
            ctx.say(ctx.t("proposal.edit_personal_only"))
            return
        proposals = service(ctx)
        result = await proposals.edit(
            ctx.me,
            data.proposal_id,
            data.version,
            ctx.turn.value or {},
            confirm_widen=data.confirm_widen,
            clicked_activity_id=ctx.turn.reply_to_id,
        )
        token = data.form_token
        if result.outcome is Outcome.INVALID and result.form and result.proposal:
            ctx.replace_card(
                await proposals.form(
                    ctx.t,
                    result.form.values,
                    result.form.errors,
                    edit=result.proposal,
                    form_token=token,
                    audience_locked_by=await proposals.locked_by(ctx.me, result.proposal, ctx.t),
                )
            )
        elif result.outcome is Outcome.CONFIRM_WIDEN and result.form and result.proposal:
            ctx.replace_card(
                cards.widen_confirmation_card(
                    ctx.t,
                    result.proposal.number,
                    result.form.values,
                    result.proposal.id,
                    result.proposal.version,
                    result.reach,
                    token,
                )
            )
        elif result.outcome in (Outcome.DONE, Outcome.UNCHANGED, Outcome.ALREADY) and result.proposal:
            view = await proposals.card_view(result.proposal, ctx.me, ctx.t)
            key = {
                Outcome.DONE: "proposal.saved",
                Outcome.UNCHANGED: "proposal.unchanged",
                Outcome.ALREADY: "proposal.already_saved",
            }[result.outcome]
            ctx.replace_card(
                cards.proposal_card(ctx.t, view, headline=ctx.t(key, number=view.number)),
                track=proposals.track(result.proposal, ctx.me, ctx.t),
            )
        else:
            await refused(ctx, result)

    @router.action("proposal.transition", access=Access.MEMBER, data=TransitionSubmit)
    async def transition(ctx: Ctx, data: TransitionSubmit) -> None:
        """A lifecycle button on a proposal card; in the channel only the card itself changes there."""
        proposals = service(ctx)
        result = await proposals.transition(
            ctx.me,
            data.proposal_id,
            data.version,
            data.transition,
            data.note,
            clicked_activity_id=ctx.turn.reply_to_id,
            meeting_id=int(data.meeting_id) if data.meeting_id else None,
        )
        if result.outcome is not Outcome.DONE or result.proposal is None:
            await refused(ctx, result)
            return
        moved = ctx.t(
            "proposal.moved",
            status=ctx.t(f"status.proposal.{result.proposal.status.value}"),
            by=ctx.me.name,
        )
        if ctx.turn.personal:
            view = await proposals.card_view(result.proposal, ctx.me, ctx.t)
            ctx.replace_card(cards.proposal_card(ctx.t, view, headline=moved))
            return
        # the channel's copy shows what every member may see; the member hears the rest privately
        if fit_for_channel(result.proposal.audience):
            channel_view = await proposals.card_view(result.proposal, None, ctx.t)
            ctx.replace_card(
                cards.proposal_card(ctx.t, channel_view, headline=moved), item=proposals.item(result.proposal)
            )
        ctx.say(
            ctx.t(
                "proposal.moved_number",
                number=result.proposal.number,
                status=ctx.t(f"status.proposal.{result.proposal.status.value}"),
                by=ctx.me.name,
            )
        )


async def refused(ctx: Ctx, result: Result) -> None:
    """Why an action on a proposal was not done, naming the proposal; in a shared chat these
    replies reach the member alone (see Engine), and nothing they typed is echoed."""
    number = result.proposal.number if result.proposal else ""
    if result.outcome is Outcome.STALE_FORM:
        ctx.say(ctx.t("proposal.form_out_of_date"))
    elif result.outcome is Outcome.NOT_FOUND or result.proposal is None:
        ctx.say(ctx.t("proposal.not_found_card"))
    elif result.outcome is Outcome.FORBIDDEN:
        ctx.say(ctx.t("proposal.forbidden", number=number))
    elif result.outcome is Outcome.STALE and result.proposal:
        proposals = service(ctx)
        ctx.say(ctx.t("proposal.stale", number=number))
        if ctx.turn.personal:
            view = await proposals.card_view(result.proposal, ctx.me, ctx.t)
            ctx.replace_card(cards.proposal_card(ctx.t, view))
        elif fit_for_channel(result.proposal.audience):
            view = await proposals.card_view(result.proposal, None, ctx.t)
            ctx.replace_card(cards.proposal_card(ctx.t, view), item=proposals.item(result.proposal))
    elif result.outcome is Outcome.NOTE_REQUIRED:
        ctx.say(ctx.t("proposal.note_required", number=number))
    elif result.outcome is Outcome.INVALID:
        ctx.say(ctx.t("proposal.note_personal_number", number=number))
    else:
        ctx.say(ctx.t("common.bad_card"))


def _number_typed(args: str) -> str:
    words = args.split()
    return words[0].upper()[:20] if words else ""


async def send_edit_form(ctx: Ctx, proposal_id: int | None) -> None:
    """The edit form, in the member's personal chat."""
    proposals = service(ctx)
    proposal = await proposals.visible(ctx.me, proposal_id) if proposal_id is not None else None
    if proposal is None:
        ctx.say(ctx.t("proposal.not_found_card"))
        return
    if not may_edit(ctx.me, proposal.status, proposal.author_id, proposal.audience):
        ctx.say(ctx.t("proposal.not_editable", number=proposal.number))
        return
    form, track = await proposals.edit_form(ctx.t, ctx.me, proposal)
    ctx.outcome.replies.append(Reply(card=form, track=track))


async def open_one(ctx: Ctx, *, number: str | None = None, proposal_id: int | None = None) -> None:
    proposals = service(ctx)
    proposal = (
        await proposals.find(ctx.me, number)
        if number
        else (await proposals.visible(ctx.me, proposal_id) if proposal_id is not None else None)
    )
    # Typed in a channel or group chat, others read along: only what every member may see, and the
    # same answer whether a narrower proposal exists or none does, so that nothing is given away.
    if not ctx.private and (proposal is None or not fit_for_channel(proposal.audience)):
        ctx.say(ctx.t("proposal.channel_forum_only", number=_number_typed(number or "")))
        return
    if proposal is None:
        ctx.say(
            ctx.t("proposal.not_found", number=_number_typed(number))
            if number
            else ctx.t("proposal.not_found_card")
        )
        return
    viewer = ctx.me if ctx.private else None
    view = await proposals.card_view(proposal, viewer, ctx.t)
    history = await proposals.opened(ctx.me, proposal, shared_chat=not ctx.private)
    ctx.outcome.replies.append(
        Reply(
            card=cards.proposal_card(ctx.t, view),
            track=proposals.track(proposal, ctx.me, ctx.t) if viewer is not None else None,
        )
    )
    ctx.send_card(cards.history_card(ctx.t, view, history))


def status_code(word: str) -> str | None:
    """A status as typed in a filter: its code, or its word in Swedish or English."""
    word = word.strip().lower()
    for status in Status:
        if word in (status.value, SV(f"status.word.{status.value}"), EN(f"status.word.{status.value}")):
            return status.value
    return None


def parse_filters(args: str) -> dict[str, str]:
    """'status:accepted bransch:bygg myndighet:POL sida:2' -> filters."""
    filters: dict[str, str] = {}
    for word in args.split():
        key, _, value = word.partition(":")
        if key.lower() in FILTER_WORDS and value:
            filters[FILTER_WORDS[key.lower()]] = value
    return filters


async def show_list(ctx: Ctx, *, mine: bool, filters: dict[str, str], replace: bool = False) -> None:
    status = filters.get("status")
    if status is not None:
        status = status_code(status)
        if status is None:
            words = ", ".join(ctx.t(f"status.word.{s.value}") for s in Status)
            ctx.say(ctx.t("proposal.bad_status", statuses=words))
            return
    page = int(filters["page"]) if re.fullmatch(r"[0-9]{1,4}", filters.get("page", "")) else 1
    proposals = service(ctx)
    rows, more = await proposals.listing(
        ctx.me,
        mine=mine,
        status=status,
        industry=filters.get("industry"),
        agency_code=filters.get("agency"),
        page=page,
        forum_only=not ctx.private,  # others read along in a channel or group chat
    )
    carry = {k: v for k, v in filters.items() if k in ("status", "industry", "agency")}
    if mine:
        carry["mine"] = "1"
    title = ctx.t(
        ("proposal.list_mine" if ctx.private else "proposal.list_mine_shared")
        if mine
        else "proposal.list_open"
    )
    listing = cards.list_card(
        ctx.t,
        title,
        [(p.id, p.number, p.business_name, p.status.value) for p in rows],
        page=page,
        more=more,
        filters=carry,
    )
    if replace:
        ctx.replace_card(listing)
    else:
        ctx.send_card(listing)
