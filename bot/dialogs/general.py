"""Help, cancel, who am I, linking the forum channel, and the answer to anything unknown."""

from __future__ import annotations

from bot.cards.help import help_card
from bot.conversation import Reply
from bot.dialogs.router import Audience, Ctx, Router, end_flow
from bot.services.forms import FORM_KINDS, FormService, cancelled_card
from bot.services.forms import ITEM as FORM_ITEM


def register(router: Router) -> None:
    @router.command("help.cmd.help", "hjälp", "help", "?")
    async def show_help(ctx: Ctx) -> None:
        """The commands this user may use, by role."""
        lines = [(" / ".join(c.words[:2]), ctx.t(c.key)) for c in router.help_lines(ctx)]
        ctx.send_card(help_card(ctx.t, lines, status_line(ctx)))

    @router.command("help.cmd.cancel", "avbryt", "cancel")
    async def cancel(ctx: Ctx) -> None:
        """Leave whatever flow the conversation is in, and close the forms still open: their
        cards say "cancelled" and can no longer be sent."""
        had_flow = "flow" in ctx.state
        end_flow(ctx)
        closed = 0
        if ctx.turn.user.aad_object_id:
            closed, here = await FormService(ctx.session).cancel_open(
                ctx.turn.user.aad_object_id, ctx.turn.conversation_id, ctx.t
            )
            for activity_id in here:
                ctx.outcome.replies.append(Reply(card=cancelled_card(ctx.t), update_activity_id=activity_id))
        ctx.say(ctx.t("common.cancelled" if had_flow or closed else "common.nothing_to_cancel"))

    @router.action("cancel")
    async def cancel_from_card(ctx: Ctx) -> None:
        """The card's cancel button: the flow ends, the card's form is closed and the card says so."""
        end_flow(ctx)
        forms = FormService(ctx.session)
        token = (ctx.turn.value or {}).get("form_token")
        if token is not None:
            checked = await forms.check(token, ctx.turn.user.aad_object_id, *FORM_KINDS)
            if checked.form is None:
                ctx.say(ctx.t("common.bad_card"))
                return
            await forms.cancel(checked.form)
            ctx.replace_card(cancelled_card(ctx.t), item=(FORM_ITEM, checked.form.id))
            return
        ctx.replace_card(cancelled_card(ctx.t))

    @router.command("help.cmd.whoami", "vem är jag", "whoami", "who am i")
    async def whoami(ctx: Ctx) -> None:
        """The user's membership as the forum knows it."""
        ctx.say(status_line(ctx))

    @router.command("help.cmd.link", "koppla kanal", "link channel", audience=Audience.COORDINATOR)
    async def link_channel(ctx: Ctx) -> None:
        """Make this channel the forum channel (coordinators, in a team channel)."""
        if not ctx.turn.in_channel:
            ctx.say(ctx.t("channel.only_in_channel"))
            return
        if await ctx.forum.link_forum_channel(ctx.member, ctx.turn):
            ctx.say(ctx.t("channel.linked"))
        else:
            ctx.say(ctx.t("channel.not_allowed"))


def status_line(ctx: Ctx) -> str:
    member = ctx.member
    if member is None:
        return ctx.t("status.unregistered")
    agency = member.agency.name(ctx.t.language)
    if member.status.value == "pending":
        return ctx.t("status.pending", agency=agency)
    if member.status.value == "rejected":
        return ctx.t("status.rejected")
    roles = ", ".join(ctx.t(f"role.{role.value}") for role in sorted(member.roles))
    return ctx.t("status.member", name=member.name, agency=agency, roles=roles)
