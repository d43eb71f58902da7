"""Administrators see the messages the bot could not deliver, and send them again or dismiss them."""

from __future__ import annotations

from bot.cards.outbox import outbox_card
from bot.dialogs.router import Access, CardId, Ctx, Router, SubmitData
from bot.services.outbox import OutboxService


class EntrySubmit(SubmitData):
    entry_id: CardId


def register(router: Router) -> None:
    @router.command("help.cmd.outbox", "utkorg", "outbox", access=Access.ADMIN)
    async def show(ctx: Ctx) -> None:
        """Counts by state, and every dead letter with its buttons (personal chat: previews may be
        confidential)."""
        if not ctx.turn.personal:
            ctx.say(ctx.t("outbox.personal_only"))
            return
        service = OutboxService(ctx.session)
        ctx.send_card(outbox_card(ctx.t, await service.counts(), await service.dead_letters()))

    async def decide(ctx: Ctx, data: EntrySubmit, retry: bool) -> None:
        if not ctx.turn.personal:
            ctx.say(ctx.t("common.not_allowed"))
            return
        entry_id = data.entry_id
        service = OutboxService(ctx.session)
        actor = ctx.member.id if ctx.member else None
        method = service.requeue if retry else service.dismiss
        if not await method(entry_id, actor_id=actor, actor_aad_id=ctx.turn.user.aad_object_id):
            ctx.say(ctx.t("outbox.gone"))
            return
        ctx.replace_card(outbox_card(ctx.t, await service.counts(), await service.dead_letters()))

    @router.action("outbox.retry", access=Access.ADMIN, data=EntrySubmit)
    async def retry(ctx: Ctx, data: EntrySubmit) -> None:
        """Queue a dead letter again."""
        await decide(ctx, data, True)

    @router.action("outbox.dismiss", access=Access.ADMIN, data=EntrySubmit)
    async def dismiss(ctx: Ctx, data: EntrySubmit) -> None:
        """Close a dead letter without sending it."""
        await decide(ctx, data, False)
