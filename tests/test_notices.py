"""The notice path shared by every capability: exact withdrawal by typed keys, and nothing
narrower than forum-wide in the channel."""

from __future__ import annotations

from sqlalchemy import select

from bot.domain.notices import ItemRef, NoticeKey, member_recipient
from bot.domain.visibility import Audience, Visibility
from bot.services.notices import NoticeService
from bot.storage.db import unit_of_work
from bot.storage.models import Member, OutboxMessage
from tests.conftest import COORDINATOR, INSPECTOR, POLICE
from tests.support.harness import Harness, card_text
from tests.test_proposals import SV, forum, propose, transition_data
from tests.test_proposals_confidentiality import inputs, save_data


async def member_id(bot: Harness, person) -> int:
    async with bot.sessions() as session:
        found = await session.scalar(select(Member.id).where(Member.aad_object_id == person.aad_object_id))
    assert found is not None
    return int(found)


async def test_narrowing_withdraws_only_the_readers_who_lost_access(bot: Harness) -> None:
    """Regression: withdrawal once matched keys by prefix and suffix, so the author's status notice
    of version N was dropped together with the notices of the member whose id was N."""
    await forum(bot)
    await propose(bot, visibility="forum")
    police = await member_id(bot, POLICE)
    assert police >= 2
    version = 1
    # ask and answer until the coordinator's accept makes version == the police member's id
    while version < police - 1:
        card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
        await bot.submit(COORDINATOR, {**transition_data(card, "ask"), "note": "Fråga?"})
        version += 1
        if version == police - 1:
            break
        card = (await bot.say(INSPECTOR, "förslag F-2026-0001")).cards[0]
        await bot.submit(INSPECTOR, {**transition_data(card, "answer"), "note": "Svar."})
        version += 1
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    await bot.submit(COORDINATOR, transition_data(card, "accept"))
    version += 1
    assert version == police
    # the author narrows it to the own agency before anything was delivered
    form = (await bot.say(INSPECTOR, "ändra F-2026-0001")).cards[0]
    values = {key: node.get("value", "") for key, node in inputs(form).items()}
    await bot.submit(INSPECTOR, {**values, **save_data(form), "visibility": "agency"})
    bot.connector.clear()
    await bot.drain_outbox()
    told = [a.get("text", "") for a in bot.connector.sent(INSPECTOR.personal_conversation)]
    accepted = SV("status.proposal.accepted")
    assert any("F-2026-0001" in text and accepted in text for text in told), told
    # the police got no new card about it, only blanked copies
    for activity in bot.connector.sent(POLICE.personal_conversation):
        assert "Pizzeria" not in card_text(activity["attachments"][0]["content"])


async def test_withdraw_is_exact_and_the_channel_refuses_narrow_items(bot: Harness) -> None:
    await forum(bot)
    await bot.drain_outbox()
    item = ItemRef("proposal", 7)
    police = await member_id(bot, POLICE)
    author = await member_id(bot, INSPECTOR)
    async with unit_of_work(bot.sessions) as session:
        notices = NoticeService(session, bot.settings)
        for recipient, version in ((member_recipient(police), 1), (member_recipient(author), police)):
            key = NoticeKey(item, "told", recipient, version)
            await notices.outbox.enqueue(
                key.idempotency_key, {"conversation": {"id": "x"}}, {"text": "t"}, notice=key
            )
        forum_wide = Audience.of(Visibility.FORUM, 1)
        narrow = Audience.of(Visibility.AGENCY, 1)

        async def render(t, viewer):  # never called for a narrow item
            raise AssertionError("rendered")

        assert not await notices.to_channel(item, narrow, render, purpose="channel", version=1)
        mhf = await notices.members.by_id(author)
        assert mhf is not None
        withdrawn = await notices.withdraw(item, forum_wide, Audience.of(Visibility.AGENCY, mhf.agency.id))
    async with bot.sessions() as session:
        rows = {
            r.recipient: r.status
            for r in await session.scalars(select(OutboxMessage).where(OutboxMessage.item_id == 7))
        }
    assert rows == {member_recipient(police): "dismissed", member_recipient(author): "queued"}
    assert withdrawn == 1


async def test_a_channel_post_goes_ahead_of_a_backlog_of_personal_messages(bot: Harness) -> None:
    from tests.support import teams

    await forum(bot)
    await bot.drain_outbox()
    bot.connector.clear()
    channel = {
        "conversation": {"id": teams.CHANNEL_ID},
        "serviceUrl": bot.connector.url,
        "channelId": "msteams",
    }
    async with unit_of_work(bot.sessions) as session:
        outbox = NoticeService(session, bot.settings).outbox
        for index in range(40):
            reference = {**channel, "conversation": {"id": f"a:backlog-{index}"}}
            key = NoticeKey(ItemRef("poll", index), "nudge", member_recipient(index), 1)
            await outbox.enqueue(key.idempotency_key, reference, {"text": f"nudge {index}"}, notice=key)
        key = NoticeKey(ItemRef("meeting", 1), "meeting.short", "channel", 1)
        await outbox.enqueue(key.idempotency_key, channel, {"text": "Mötet börjar om en timme"}, notice=key)
    await bot.drain_outbox()
    posts = [r.conversation_id for r in bot.connector.requests if r.method == "POST"]
    assert len(posts) == 41
    assert posts[0] == teams.CHANNEL_ID  # queued last, sent first
