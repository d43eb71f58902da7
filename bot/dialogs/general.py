"""Help, cancel, who am I, linking the forum channel, and the answer to anything unknown."""

from __future__ import annotations

from bot.cards.common import card, text
from bot.cards.help import help_card
from bot.dialogs.router import Audience, Ctx, Router, end_flow


def register(router: Router) -> None:
    @router.command("help.cmd.help", "hjälp", "help", "?")
    async def show_help(ctx: Ctx) -> None:
        """The commands this user may use, by role."""
        lines = [(" / ".join(c.words[:2]), ctx.t(c.key)) for c in router.help_lines(ctx)]
        ctx.send_card(help_card(ctx.t, lines, status_line(ctx)))

    @router.command("help.cmd.cancel", "avbryt", "cancel")
    async def cancel(ctx: Ctx) -> None:
        """Leave whatever flow the conversation is in."""
        had_flow = "flow" in ctx.state
        end_flow(ctx)
        ctx.say(ctx.t("common.cancelled" if had_flow else "common.nothing_to_cancel"))

    @router.action("cancel")
    async def cancel_from_card(ctx: Ctx) -> None:
        """The card's cancel button: the flow ends and the card says so."""
        end_flow(ctx)
        ctx.replace_card(card([text(ctx.t("common.cancelled"))]))

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
