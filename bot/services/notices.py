"""The one path to members and to the forum channel, for every capability.

Each capability hands it an item (type and id), who may see the item, and a function that draws the
item's card for one reader (None: the forum channel). The notice path checks visibility itself:
a card goes only to members who may see the item, the channel gets only what every member may see,
every posted copy of a card is updated in place (or blanked once its reader lost access), and
notices still queued for a reader who lost access are withdrawn.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards.common import Card
from bot.domain.members import MemberView
from bot.domain.notices import CHANNEL, ItemRef, NoticeKey, copy_purpose, member_recipient
from bot.domain.visibility import Audience, can_see, fit_for_channel
from bot.i18n import Translator
from bot.services.outbox import Delivered
from bot.settings import Settings
from bot.storage.card_copies import CardCopies
from bot.storage.membership import Channels, Members
from bot.storage.outbox import Outbox

FORUM_CHANNEL = "forum"

log = logging.getLogger(__name__)

# Draws an item's card for one reader; None is the forum channel, read by every member.
Render = Callable[[Translator, MemberView | None], Awaitable[Card]]
# What a copy shows once its reader may no longer see the item.
Blank = Callable[[Translator], Card]


class Reach(StrEnum):
    """What became of a notice to one member."""

    QUEUED = "queued"
    ALREADY = "already"  # the same notice was queued before
    NOT_ALLOWED = "not_allowed"  # the member may not see the item
    # the bot keeps a member's personal chat once they have written to it there; until then it
    # has nowhere to write to them
    NO_PERSONAL_CHAT = "no_personal_chat"


def track(item: ItemRef, viewer_id: int | None, language: str) -> dict[str, Any]:
    """Sent with a card about an item, so that where it lands is kept (see keep_card_copy)."""
    return {"item_type": item.type, "item_id": item.id, "viewer_id": viewer_id, "language": language}


class NoticeService:
    """Notices inside the caller's unit of work: queued in the outbox, sent after it commits."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.settings = settings
        self.members = Members(session)
        self.channels = Channels(session)
        self.copies = CardCopies(session)
        self.outbox = Outbox(session)

    async def translator(self, member: MemberView) -> Translator:
        return Translator(await self.members.language(member.id, self.settings.default_language))

    async def to_members(
        self,
        item: ItemRef,
        audience: Audience,
        recipients: Iterable[MemberView],
        render: Render,
        *,
        purpose: str,
        version: int,
    ) -> int:
        """The item's card to each recipient who may see it and has a personal chat with the bot."""
        sent = 0
        for member in recipients:
            if not can_see(member.viewer, audience):
                continue
            reference = await self.members.personal_conversation(member.id)
            if not reference:
                log.info("no personal chat with member %s: %s %s not sent", member.id, item.type, purpose)
                continue
            t = await self.translator(member)
            key = NoticeKey(item, purpose, member_recipient(member.id), version)
            payload = {"card": await render(t, member), "track": track(item, member.id, t.language)}
            sent += await self.outbox.enqueue(key.idempotency_key, reference, payload, notice=key)
        return sent

    async def to_channel(
        self, item: ItemRef, audience: Audience, render: Render, *, purpose: str, version: int
    ) -> bool:
        """The item's card as a new post in the forum channel. Refused (False) for anything narrower
        than forum-wide: the channel is read by every agency."""
        link = await self.channels.get(FORUM_CHANNEL)
        if link is None or not fit_for_channel(audience):
            return False
        t = Translator(self.settings.default_language)
        key = NoticeKey(item, purpose, CHANNEL, version)
        payload = {"card": await render(t, None), "track": track(item, None, t.language)}
        return await self.outbox.enqueue(key.idempotency_key, dict(link.reference), payload, notice=key)

    async def tell(
        self,
        member: MemberView,
        item: ItemRef,
        audience: Audience,
        text: Callable[[Translator], str],
        *,
        purpose: str,
        version: int,
    ) -> Reach:
        """A short text about the item to one member who may see it. A member without a personal
        chat with the bot cannot be reached: the caller hears so, and says so to whom it concerns."""
        if not can_see(member.viewer, audience):
            return Reach.NOT_ALLOWED
        reference = await self.members.personal_conversation(member.id)
        if not reference:
            log.info("no personal chat with member %s: %s %s not sent", member.id, item.type, purpose)
            return Reach.NO_PERSONAL_CHAT
        t = await self.translator(member)
        key = NoticeKey(item, purpose, member_recipient(member.id), version)
        queued = await self.outbox.enqueue(key.idempotency_key, reference, {"text": text(t)}, notice=key)
        return Reach.QUEUED if queued else Reach.ALREADY

    async def refresh(
        self,
        item: ItemRef,
        audience: Audience,
        render: Render,
        blank: Blank,
        *,
        version: int,
        skip_activity_id: str | None = None,
        spacing: timedelta | None = None,
        now: datetime | None = None,
    ) -> int:
        """Every posted copy of the item's card is updated in place to its current state; a copy
        whose reader may no longer see it is blanked. `skip_activity_id`: updated by the turn.

        With `spacing`, updates of one copy reach Teams at least that far apart: updates still
        queued are replaced by this one, which is due no sooner than `spacing` after the copy's
        last update went out (or after `now`, while one is on its way)."""
        updated = 0
        due: dict[str, datetime | None] = {}
        if spacing is not None:
            moment = now or datetime.now(UTC)
            await self.outbox.withdraw_updates(item)
            for purpose, delivery in (await self.outbox.copy_deliveries(item)).items():
                if delivery.in_flight:
                    due[purpose] = moment + spacing
                elif delivery.last_sent_at is not None and delivery.last_sent_at + spacing > moment:
                    due[purpose] = delivery.last_sent_at + spacing
        for copy in await self.copies.of(item.type, item.id):
            if copy.activity_id == skip_activity_id:
                continue
            viewer = await self.members.by_id(copy.viewer_id) if copy.viewer_id else None
            t = Translator(copy.language)
            allowed = can_see(viewer.viewer, audience) if viewer is not None else fit_for_channel(audience)
            card = await render(t, viewer) if allowed else blank(t)
            # keyed by its reader, so that a later narrowing withdraws it while still queued
            recipient = member_recipient(viewer.id) if viewer is not None else CHANNEL
            key = NoticeKey(item, copy_purpose(copy.id), recipient, version)
            updated += await self.outbox.enqueue(
                key.idempotency_key,
                dict(copy.reference),
                {"card": card, "update_activity_id": copy.activity_id},
                due.get(key.purpose),
                notice=key,
            )
        return updated

    async def withdraw(self, item: ItemRef, before: Audience, after: Audience) -> int:
        """Notices still queued for readers who could see the item before and cannot now are not
        sent; nor is a queued channel post once the item is narrower than forum-wide. Call it
        before `refresh`, whose blanked copies are queued for those same readers."""
        withdrawn = 0
        if not fit_for_channel(after):
            withdrawn += await self.outbox.withdraw(item, CHANNEL)
        for member in await self.members.approved():
            if can_see(member.viewer, before) and not can_see(member.viewer, after):
                withdrawn += await self.outbox.withdraw(item, member_recipient(member.id))
        return withdrawn


async def keep_card_copy(session: AsyncSession, delivered: Delivered) -> None:
    """A delivered card about a stored item: keep where it landed, to update it in place later."""
    sent_with = delivered.payload.get("track")
    if isinstance(sent_with, dict) and delivered.activity_id:
        await CardCopies(session).add_tracked(
            sent_with, delivered.conversation_id, delivered.activity_id, delivered.reference
        )
