"""Where a turn's replies may go: the stored card copies a reply may replace, the member's personal
chat for what is meant for one person, and the activities already handled."""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import Posted, Reply, Turn
from bot.domain.members import MemberView
from bot.storage.bot_state import ProcessedActivities
from bot.storage.card_copies import CardCopies
from bot.storage.membership import Members
from bot.storage.outbox import Outbox

log = logging.getLogger(__name__)


class ConversationService:
    def __init__(self, session: AsyncSession) -> None:
        self.copies = CardCopies(session)
        self.members = Members(session)
        self.outbox = Outbox(session)
        self.processed = ProcessedActivities(session)

    async def seen(self, turn: Turn) -> bool:
        return bool(turn.activity_id) and await self.processed.seen(
            turn.conversation_id, str(turn.activity_id)
        )

    async def mark(self, turn: Turn) -> None:
        if turn.activity_id:
            await self.processed.mark(turn.conversation_id, turn.activity_id)

    async def may_replace(self, turn: Turn, reply: Reply) -> bool:
        """In a chat others read, a reply may replace only the tracked copy of the same item that
        everyone there sees: never a form, another item's card or someone's personal copy."""
        if reply.update_activity_id is None or reply.item is None:
            return False
        copy = await self.copies.at(turn.conversation_id, reply.update_activity_id)
        if copy is None and ";messageid=" in turn.conversation_id:
            # a channel post's copy is kept under the channel; a click on it comes from its thread
            channel = turn.conversation_id.split(";messageid=")[0]
            copy = await self.copies.at(channel, reply.update_activity_id)
        return (
            copy is not None
            and copy.viewer_id is None
            and (copy.item_type, copy.item_id) == (reply.item[0], reply.item[1])
        )

    async def send_privately(self, member: MemberView | None, turn: Turn, replies: list[Reply]) -> int:
        """Replies meant for one member, queued for their personal chat; none where they have none."""
        if member is None or not replies:
            return 0
        reference = await self.members.personal_conversation(member.id)
        if not reference:
            log.info("no personal chat with member %s; %d private replies not sent", member.id, len(replies))
            return 0
        origin = hashlib.sha256(f"{turn.conversation_id}\n{turn.activity_id}".encode()).hexdigest()[:32]
        for index, reply in enumerate(replies):
            payload: dict[str, object] = {}
            if reply.text is not None:
                payload["text"] = reply.text
            if reply.card is not None:
                payload["card"] = reply.card
            if reply.track is not None:
                payload["track"] = reply.track
            await self.outbox.enqueue(f"reply:{origin}:{index}", reference, payload)
        return len(replies)

    async def remember_posted(self, posted: list[Posted]) -> None:
        for item in posted:
            await self.copies.add_tracked(item.track, item.conversation_id, item.activity_id, item.reference)
