"""Proposing actions, finding them, editing them and moving them through their lifecycle.

States of the proposal form (diagram in proposals.mmd): the form is one card, so the flow lives in
the card itself: FORM --submit, invalid--> FORM (values kept, errors by each field)
--submit, valid--> END; an edit that widens visibility goes FORM --> CONFIRM_WIDEN --> END.
"""

from __future__ import annotations

import re
from typing import Any

from bot.cards import proposals as cards
from bot.conversation import Reply
from bot.dialogs.router import Audience, Ctx, Router
from bot.domain.proposals import Status, may_edit
from bot.domain.visibility import fit_for_channel
from bot.services.proposals import Outcome, ProposalService, Result, values_of

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


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def register(router: Router) -> None:
    @router.command("help.cmd.propose", "föreslå", "propose", "nytt förslag", audience=Audience.MEMBER)
    async def propose(ctx: Ctx) -> None:
        """The proposal form; asked for in a channel, it goes to the member's personal chat."""
        proposals = service(ctx)
        if ctx.turn.personal:
            ctx.send_card(await proposals.form(ctx.t))
            return
        if ctx.member is None:
            ctx.say(ctx.t("common.not_allowed"))
            return
        reference = await ctx.forum.members.personal_conversation(ctx.member.id)
        if not reference:
            ctx.say(ctx.t("proposal.open_personal_chat"))
            return
        await ctx.forum.outbox.enqueue(
            f"proposal-form:{ctx.turn.conversation_id}:{ctx.turn.activity_id}",
            reference,
            {"card": await proposals.form(ctx.t)},
        )
        ctx.say(ctx.t("proposal.form_sent_privately"))

    @router.action("proposal.submit")
    async def submitted(ctx: Ctx) -> None:
        """A new proposal's form was submitted."""
        if not ctx.approved or ctx.member is None:
            ctx.say(ctx.t("common.not_allowed"))
            return
        if not ctx.turn.personal:  # others read along in a group chat or channel
            ctx.say(ctx.t("proposal.edit_personal_only"))
            return
        proposals = service(ctx)
        result = await proposals.create(ctx.member, ctx.turn.value or {})
        if result.outcome is Outcome.INVALID and result.form is not None:
            ctx.replace_card(await proposals.form(ctx.t, result.form.values, result.form.errors))
            return
        assert result.proposal is not None
        view = await proposals.card_view(result.proposal, ctx.member, ctx.t)
        ctx.outcome.replies.append(
            Reply(
                card=cards.proposal_card(ctx.t, view, headline=ctx.t("proposal.created", number=view.number)),
                update_activity_id=ctx.turn.reply_to_id,
                track=proposals.track(result.proposal, ctx.member, ctx.t),
            )
        )

    @router.command("help.cmd.my_proposals", "mina förslag", "my proposals", audience=Audience.MEMBER)
    async def mine(ctx: Ctx) -> None:
        """The member's own proposals, every status."""
        await show_list(ctx, mine=True, filters=parse_filters(ctx.args))

    @router.command("help.cmd.proposals", "förslag", "proposals", "proposal", audience=Audience.MEMBER)
    async def listing(ctx: Ctx) -> None:
        """Open proposals the member may see; with a number, that proposal and its history."""
        words = ctx.args.split()
        if words and words[0].upper().startswith("F-"):
            await open_one(ctx, number=words[0])
            return
        await show_list(ctx, mine=False, filters=parse_filters(ctx.args))

    @router.action("proposal.list")
    async def list_page(ctx: Ctx) -> None:
        """Another page of a list."""
        value = ctx.turn.value or {}
        filters = {
            k: str(value[k])
            for k in ("status", "industry", "agency", "mine")
            if isinstance(value.get(k), str)
        }
        filters["page"] = str(_int(value.get("page")) or 1)
        await show_list(ctx, mine=filters.pop("mine", "") == "1", filters=filters, replace=True)

    @router.action("proposal.open")
    async def open_from_card(ctx: Ctx) -> None:
        """A proposal's details and history."""
        await open_one(ctx, proposal_id=_int((ctx.turn.value or {}).get("proposal_id")))

    @router.command("help.cmd.edit", "ändra", "edit", audience=Audience.MEMBER)
    async def edit_command(ctx: Ctx) -> None:
        """The edit form of a proposal, by number."""
        if not ctx.turn.personal:
            ctx.say(ctx.t("proposal.edit_personal_only"))
            return
        if ctx.member is None:
            ctx.say(ctx.t("common.not_allowed"))
            return
        proposal = await service(ctx).find(ctx.member, ctx.args)
        await send_edit_form(ctx, proposal.id if proposal else None)

    @router.action("proposal.edit")
    async def edit_from_card(ctx: Ctx) -> None:
        """The edit button on a proposal card."""
        if not ctx.turn.personal:
            ctx.say(ctx.t("proposal.edit_personal_only"))
            return
        await send_edit_form(ctx, _int((ctx.turn.value or {}).get("proposal_id")))

    @router.action("proposal.save")
    async def save(ctx: Ctx) -> None:
        """The edit form, or the confirmation of a wider visibility, was submitted."""
        if not ctx.approved or ctx.member is None:
            ctx.say(ctx.t("common.not_allowed"))
            return
        if not ctx.turn.personal:
            ctx.say(ctx.t("proposal.edit_personal_only"))
            return
        value = ctx.turn.value or {}
        proposal_id, version = _int(value.get("proposal_id")), _int(value.get("version"))
        if proposal_id is None or version is None:
            ctx.say(ctx.t("common.bad_card"))
            return
        proposals = service(ctx)
        result = await proposals.edit(
            ctx.member,
            proposal_id,
            version,
            value,
            confirm_widen=value.get("confirm_widen") is True,
            clicked_activity_id=ctx.turn.reply_to_id,
        )
        if result.outcome is Outcome.INVALID and result.form and result.proposal:
            ctx.replace_card(
                await proposals.form(ctx.t, result.form.values, result.form.errors, edit=result.proposal)
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
                )
            )
        elif result.outcome in (Outcome.DONE, Outcome.UNCHANGED) and result.proposal:
            view = await proposals.card_view(result.proposal, ctx.member, ctx.t)
            key = "proposal.saved" if result.outcome is Outcome.DONE else "proposal.unchanged"
            ctx.outcome.replies.append(
                Reply(
                    card=cards.proposal_card(ctx.t, view, headline=ctx.t(key, number=view.number)),
                    update_activity_id=ctx.turn.reply_to_id,
                    track=proposals.track(result.proposal, ctx.member, ctx.t),
                )
            )
        else:
            await refused(ctx, result)

    @router.action("proposal.transition")
    async def transition(ctx: Ctx) -> None:
        """A lifecycle button on a proposal card."""
        value = ctx.turn.value or {}
        proposal_id, version = _int(value.get("proposal_id")), _int(value.get("version"))
        name, note = value.get("transition"), value.get("note", "")
        if ctx.member is None or not ctx.approved:
            ctx.say(ctx.t("common.not_allowed"))
            return
        if proposal_id is None or version is None or not isinstance(name, str) or not isinstance(note, str):
            ctx.say(ctx.t("common.bad_card"))
            return
        proposals = service(ctx)
        result = await proposals.transition(
            ctx.member, proposal_id, version, name, note, clicked_activity_id=ctx.turn.reply_to_id
        )
        if result.outcome is Outcome.DONE and result.proposal:
            if not ctx.turn.personal and not fit_for_channel(result.proposal.audience):
                ctx.say(
                    ctx.t(
                        "proposal.moved",
                        status=ctx.t(f"status.proposal.{result.proposal.status.value}"),
                        by=ctx.member.name,
                    )
                )
                return
            viewer = ctx.member if ctx.turn.personal else None
            view = await proposals.card_view(result.proposal, viewer, ctx.t)
            ctx.outcome.replies.append(
                Reply(
                    card=cards.proposal_card(
                        ctx.t,
                        view,
                        headline=ctx.t(
                            "proposal.moved",
                            status=ctx.t(f"status.proposal.{result.proposal.status.value}"),
                            by=ctx.member.name,
                        ),
                    ),
                    update_activity_id=ctx.turn.reply_to_id,
                )
            )
        else:
            await refused(ctx, result)


async def refused(ctx: Ctx, result: Result) -> None:
    if result.outcome is Outcome.NOT_FOUND:
        ctx.say(ctx.t("proposal.not_found"))
    elif result.outcome is Outcome.FORBIDDEN:
        ctx.say(ctx.t("proposal.forbidden"))
    elif result.outcome is Outcome.STALE and result.proposal and ctx.member:
        if not ctx.turn.personal and not fit_for_channel(result.proposal.audience):
            ctx.say(ctx.t("proposal.not_found"))  # the current state is not for everyone here
            return
        proposals = service(ctx)
        view = await proposals.card_view(result.proposal, ctx.member if ctx.turn.personal else None, ctx.t)
        ctx.say(ctx.t("proposal.stale"))
        ctx.replace_card(cards.proposal_card(ctx.t, view))
    elif result.outcome is Outcome.NOTE_REQUIRED:
        ctx.say(ctx.t("proposal.note_required"))
    elif result.outcome is Outcome.INVALID:
        ctx.say(ctx.t("form.personal_number"))
    else:
        ctx.say(ctx.t("common.bad_card"))


async def send_edit_form(ctx: Ctx, proposal_id: int | None) -> None:
    if ctx.member is None or proposal_id is None:
        ctx.say(ctx.t("proposal.not_found"))
        return
    proposals = service(ctx)
    proposal = await proposals.visible(ctx.member, proposal_id)
    if proposal is None:
        ctx.say(ctx.t("proposal.not_found"))
        return
    if not may_edit(ctx.member, proposal.status, proposal.author_id, proposal.audience):
        ctx.say(ctx.t("proposal.not_editable"))
        return
    codes = {a.id: a.code for a in await proposals.agency_list()}
    ctx.send_card(await proposals.form(ctx.t, values_of(proposal, codes), edit=proposal))


async def open_one(ctx: Ctx, *, number: str | None = None, proposal_id: int | None = None) -> None:
    if ctx.member is None or not ctx.approved:
        ctx.say(ctx.t("common.not_allowed"))
        return
    proposals = service(ctx)
    proposal = (
        await proposals.find(ctx.member, number)
        if number
        else (await proposals.visible(ctx.member, proposal_id) if proposal_id is not None else None)
    )
    if proposal is None:
        ctx.say(ctx.t("proposal.not_found"))
        return
    # In a channel or group chat others read along: show there only what every member may see,
    # and do not even say that something narrower exists.
    if not ctx.turn.personal and not fit_for_channel(proposal.audience):
        ctx.say(ctx.t("proposal.not_found"))
        return
    viewer = ctx.member if ctx.turn.personal else None
    view = await proposals.card_view(proposal, viewer, ctx.t)
    history = await proposals.opened(ctx.member, proposal, shared_chat=not ctx.turn.personal)
    ctx.outcome.replies.append(
        Reply(
            card=cards.proposal_card(ctx.t, view),
            track=proposals.track(proposal, ctx.member, ctx.t) if viewer is not None else None,
        )
    )
    ctx.send_card(cards.history_card(ctx.t, view, history))


def parse_filters(args: str) -> dict[str, str]:
    """'status:accepted bransch:bygg myndighet:POL sida:2' -> filters."""
    filters: dict[str, str] = {}
    for word in args.split():
        key, _, value = word.partition(":")
        if key.lower() in FILTER_WORDS and value:
            filters[FILTER_WORDS[key.lower()]] = value
    return filters


async def show_list(ctx: Ctx, *, mine: bool, filters: dict[str, str], replace: bool = False) -> None:
    if ctx.member is None or not ctx.approved:
        ctx.say(ctx.t("common.not_allowed"))
        return
    status = filters.get("status")
    if status is not None and status not in {s.value for s in Status}:
        ctx.say(ctx.t("proposal.bad_status", statuses=", ".join(s.value for s in Status)))
        return
    page = int(filters["page"]) if re.fullmatch(r"[0-9]{1,4}", filters.get("page", "")) else 1
    proposals = service(ctx)
    rows, more = await proposals.listing(
        ctx.member,
        mine=mine,
        status=status,
        industry=filters.get("industry"),
        agency_code=filters.get("agency"),
        page=page,
        forum_only=not ctx.turn.personal,  # others read along in a channel or group chat
    )
    carry = {k: v for k, v in filters.items() if k in ("status", "industry", "agency")}
    if mine:
        carry["mine"] = "1"
    title = ctx.t("proposal.list_mine" if mine else "proposal.list_open")
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
