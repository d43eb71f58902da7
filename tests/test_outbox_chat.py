"""Administrators see undelivered messages in chat, and send them again or dismiss them."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.models import AuditEntry, OutboxMessage
from tests.conftest import ADMIN, COORDINATOR, STRANGER
from tests.support.harness import Harness, actions_of, card_text
from tests.support.texts import EN, SV
from tests.test_conversation import approve, register


async def dead_notice(bot: Harness) -> None:
    """An application notice to the admin that Teams refuses (403: not retried)."""
    await register(bot, ADMIN, "SLK")
    await register(bot, STRANGER, "SKV")
    bot.connector.fail(403)
    assert await bot.drain_outbox() == 0


async def test_dead_letter_listed_retried_and_delivered(bot: Harness) -> None:
    await dead_notice(bot)
    card = (await bot.say(ADMIN, "utkorg")).cards[0]
    text = card_text(card)
    assert SV("outbox.reason.refused") in text and "403" in text
    retry = next(a for a in actions_of(card) if a["data"]["action"] == "outbox.retry")
    response = await bot.submit(ADMIN, retry["data"], reply_to_id="outbox-card")
    assert SV("outbox.no_dead") in card_text(response.updated_cards[0])
    assert await bot.drain_outbox() == 1
    assert "Okänd Person" in card_text(
        bot.connector.sent(ADMIN.personal_conversation)[-1]["attachments"][0]["content"]
    )
    async with bot.sessions() as session:
        assert "requeued" in list(await session.scalars(select(AuditEntry.action)))
    response = await bot.submit(ADMIN, retry["data"])  # the same button again
    assert response.texts == [SV("outbox.gone")]


async def test_dead_letter_dismissed(bot: Harness) -> None:
    await dead_notice(bot)
    card = (await bot.say(ADMIN, "outbox", locale="en-US")).cards[0]
    dismiss = next(a for a in actions_of(card) if a["data"]["action"] == "outbox.dismiss")
    response = await bot.submit(ADMIN, dismiss["data"], reply_to_id="outbox-card", locale="en-US")
    assert EN("outbox.no_dead") in card_text(response.updated_cards[0])
    assert await bot.drain_outbox() == 0
    async with bot.sessions() as session:
        assert (await session.scalar(select(OutboxMessage.status))) == "dismissed"


async def test_only_admins_see_the_outbox(bot: Harness) -> None:
    await dead_notice(bot)
    await register(bot, COORDINATOR, "MHF")
    await approve(bot, ADMIN, COORDINATOR, "coordinator")
    assert (await bot.say(COORDINATOR, "utkorg")).texts == [SV("common.not_allowed")]
    async with bot.sessions() as session:
        entry_id = await session.scalar(select(OutboxMessage.id).where(OutboxMessage.status == "dead"))
    response = await bot.submit(COORDINATOR, {"action": "outbox.retry", "entry_id": entry_id})
    assert response.texts == [SV("common.not_allowed")]
    async with bot.sessions() as session:
        assert (await session.get(OutboxMessage, entry_id)).status == "dead"
