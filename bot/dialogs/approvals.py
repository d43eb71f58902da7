"""Coordinators and admins decide pending registrations."""

from __future__ import annotations

from bot.cards.membership import decided_card, pending_list_card
from bot.dialogs.router import Audience, Ctx, Router, card_id
from bot.domain.members import Role
from bot.services.forum import DecisionResult


def register(router: Router) -> None:
    @router.command("help.cmd.pending", "väntande", "pending", "ansökningar", audience=Audience.COORDINATOR)
    async def list_pending(ctx: Ctx) -> None:
        """Pending registrations, each with its buttons."""
        members = await ctx.forum.pending()
        ctx.send_card(pending_list_card(ctx.t, members, can_grant_coordinator=ctx.is_admin))

    async def decide(ctx: Ctx, approve: bool) -> None:
        value = ctx.turn.value or {}
        member_id = card_id(value.get("member_id"))
        role_name = value.get("role", "inspector")
        if member_id is None or role_name not in ("inspector", "coordinator"):
            ctx.say(ctx.t("common.bad_card"))
            return
        decision = await ctx.forum.decide(
            ctx.member, ctx.turn.user.aad_object_id, member_id, approve, Role(role_name)
        )
        if decision.result is DecisionResult.FORBIDDEN:
            ctx.say(ctx.t("approval.not_allowed"))
        elif decision.result is DecisionResult.STALE:
            ctx.say(ctx.t("approval.stale"))
        elif decision.member is not None:
            by = ctx.member.name if ctx.member else ctx.turn.user.name
            ctx.replace_card(decided_card(ctx.t, decision.member, approve, by))

    @router.action("registration.approve")
    async def approve(ctx: Ctx) -> None:
        """Approve a pending registration with the role on the button."""
        await decide(ctx, True)

    @router.action("registration.reject")
    async def reject(ctx: Ctx) -> None:
        """Reject a pending registration."""
        await decide(ctx, False)
