"""Coordinators and admins decide pending registrations."""

from __future__ import annotations

from typing import Literal

from bot.cards.membership import decided_card, pending_list_card
from bot.dialogs.router import Access, CardId, Ctx, Router, SubmitData
from bot.domain.members import Role
from bot.services.forum import DecisionResult


class DecisionSubmit(SubmitData):
    member_id: CardId
    role: Literal["inspector", "coordinator"] = "inspector"


def register(router: Router) -> None:
    @router.command("help.cmd.pending", "väntande", "pending", "ansökningar", access=Access.COORDINATOR)
    async def list_pending(ctx: Ctx) -> None:
        """Pending registrations, each with its buttons."""
        members = await ctx.forum.pending()
        ctx.send_card(pending_list_card(ctx.t, members, can_grant_coordinator=ctx.is_admin))

    async def decide(ctx: Ctx, data: DecisionSubmit, approve: bool) -> None:
        decision = await ctx.forum.decide(
            ctx.member, ctx.turn.user.aad_object_id, data.member_id, approve, Role(data.role)
        )
        if decision.result is DecisionResult.FORBIDDEN:
            ctx.say(ctx.t("approval.not_allowed"))
        elif decision.result is DecisionResult.STALE:
            ctx.say(ctx.t("approval.stale"))
        elif decision.member is not None:
            by = ctx.member.name if ctx.member else ctx.turn.user.name
            ctx.replace_card(decided_card(ctx.t, decision.member, approve, by))

    @router.action("registration.approve", access=Access.COORDINATOR, data=DecisionSubmit)
    async def approve(ctx: Ctx, data: DecisionSubmit) -> None:
        """Approve a pending registration with the role on the button."""
        await decide(ctx, data, True)

    @router.action("registration.reject", access=Access.COORDINATOR, data=DecisionSubmit)
    async def reject(ctx: Ctx, data: DecisionSubmit) -> None:
        """Reject a pending registration."""
        await decide(ctx, data, False)
