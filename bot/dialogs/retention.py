"""Retention for administrators: `gallring` lists what the rule (FORUMBOT_RETENTION_MONTHS) would
remove; **Ta bort** removes exactly that list, audited; nothing is removed otherwise."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from bot.cards.retention import RetentionGroup, RetentionView, retention_card
from bot.dialogs.router import Access, Ctx, Router, SubmitData
from bot.services.retention import KINDS, Candidates, Outcome, RetentionService


class RemoveSubmit(SubmitData):
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]


def view_of(ctx: Ctx, service: RetentionService, found: Candidates) -> RetentionView:
    zone = ctx.settings.zone
    return RetentionView(
        months=service.months,
        cutoff=ctx.t.date_long(found.cutoff.astimezone(zone).date()),
        groups=[
            RetentionGroup(kind, len(found.of(kind)), [item.label for item in found.of(kind)])
            for kind in KINDS
        ],
        digest=found.digest,
    )


def register(router: Router) -> None:
    @router.command("help.cmd.retention", "gallring", "retention", access=Access.ADMIN)
    async def show(ctx: Ctx) -> None:
        """What the rule would remove now, with a button to remove it (personal chat only: the
        list names items some members may not see)."""
        if not ctx.turn.personal:
            ctx.say(ctx.t("retention.personal_only"))
            return
        service = RetentionService(ctx.session, ctx.settings, ctx.clock)
        found = await service.candidates()
        if found is None:
            ctx.say(ctx.t("retention.no_rule"))
            return
        ctx.send_card(retention_card(ctx.t, view_of(ctx, service, found)))

    @router.action("retention.remove", access=Access.ADMIN, data=RemoveSubmit)
    async def remove(ctx: Ctx, data: RemoveSubmit) -> None:
        if not ctx.turn.personal:
            ctx.say(ctx.t("common.not_allowed"))
            return
        service = RetentionService(ctx.session, ctx.settings, ctx.clock)
        result = await service.remove(
            data.digest,
            actor_id=ctx.member.id if ctx.member else None,
            actor_aad_id=ctx.turn.user.aad_object_id,
        )
        if result.outcome is Outcome.NO_RULE or result.candidates is None:
            ctx.say(ctx.t("retention.no_rule"))
        elif result.outcome is Outcome.CHANGED:
            view = view_of(ctx, service, result.candidates)
            ctx.replace_card(retention_card(ctx.t, view, headline=ctx.t("retention.changed")))
        else:
            ctx.replace_card(
                retention_card(ctx.t, view_of(ctx, service, Candidates(result.candidates.cutoff)))
            )
            ctx.say(ctx.t.plural("retention.removed", result.removed))
