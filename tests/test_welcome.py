"""The welcome when the bot is added somewhere depends on what the forum knows: of the person in a
personal chat, and of the channel in a team. End to end over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.storage.models import Member
from tests.conftest import ADMIN, COORDINATOR, INSPECTOR, STRANGER
from tests.support import teams
from tests.support.harness import Harness, Response, card_text
from tests.support.texts import EN, SV
from tests.test_conversation import forum_with_members, register

MHF_SV = "Västerås stad – miljö- och hälsoskyddsförvaltningen"


def welcome_of(response: Response) -> tuple[str, dict[str, str]]:
    """The only card of the answer: its text, and its rows of commands."""
    assert response.status == 201
    [card] = response.cards
    rows = {fact["title"]: fact["value"] for node in card["body"] for fact in node.get("facts", [])}
    return card_text(card), rows


async def test_a_newcomer_is_asked_to_register(bot: Harness) -> None:
    text, rows = welcome_of(await bot.install(STRANGER))

    assert SV("welcome.personal") in text and "registrera mig" in text
    assert SV("welcome.english") in text
    assert rows == {}


async def test_a_pending_member_is_told_the_application_waits(bot: Harness) -> None:
    await register(bot, STRANGER, "MHF")

    text, rows = welcome_of(await bot.install(STRANGER))

    assert SV("welcome.pending", agency=MHF_SV) in text
    assert "registrera mig" not in text
    assert SV("welcome.other_language") in text
    assert rows == {}


async def test_an_approved_inspector_sees_what_to_do_now(bot: Harness) -> None:
    await forum_with_members(bot)

    text, rows = welcome_of(await bot.install(INSPECTOR))

    assert SV("welcome.member", agency=MHF_SV) in text
    assert "registrera mig" not in text
    assert rows == {
        "föreslå / propose": SV("help.cmd.propose"),
        "förslag / proposals": SV("help.cmd.proposals"),
        "hjälp / help": SV("help.cmd.help"),
    }


async def test_an_approved_coordinator_is_also_offered_the_applications(bot: Harness) -> None:
    await forum_with_members(bot)

    _, rows = welcome_of(await bot.install(COORDINATOR))

    assert list(rows) == ["föreslå / propose", "förslag / proposals", "väntande / pending", "hjälp / help"]
    assert rows["väntande / pending"] == SV("help.cmd.pending")


async def test_a_member_seeded_before_the_app_was_installed_is_welcomed_as_a_member(bot: Harness) -> None:
    """As the demo seeds its forum: approved, with no personal chat known yet."""
    await forum_with_members(bot)
    async with bot.sessions.begin() as session:
        member = await session.scalar(select(Member).where(Member.aad_object_id == INSPECTOR.aad_object_id))
        member.personal_conversation = None

    text, _ = welcome_of(await bot.install(INSPECTOR))

    assert SV("welcome.member", agency=MHF_SV) in text
    async with bot.sessions() as session:
        member = await session.scalar(select(Member).where(Member.aad_object_id == INSPECTOR.aad_object_id))
        assert member.personal_conversation["conversation"]["id"] == INSPECTOR.personal_conversation


async def test_the_welcome_speaks_the_members_language(bot: Harness) -> None:
    await forum_with_members(bot)
    await bot.say(INSPECTOR, "language english")

    text, rows = welcome_of(await bot.install(INSPECTOR))  # from a Teams in Swedish

    assert EN("welcome.member", agency="City of Västerås – Environment and Health Administration") in text
    assert EN("welcome.other_language") in text
    assert rows["föreslå / propose"] == EN("help.cmd.propose")


async def test_the_forum_channel_is_welcomed_as_the_forums(bot: Harness) -> None:
    await forum_with_members(bot)
    await bot.say(COORDINATOR, "koppla kanal", where="channel")

    text, _ = welcome_of(await bot.install(COORDINATOR, where="channel"))

    assert SV("welcome.forum_channel") in text
    assert "koppla kanal" not in text


async def test_an_unlinked_channel_tells_coordinators_how_to_link_it(bot: Harness) -> None:
    text, _ = welcome_of(await bot.install(STRANGER, where="channel"))

    assert SV("welcome.team") in text and "@Forumbot koppla kanal" in text


async def test_another_channel_is_told_the_forum_has_one_already(bot: Harness) -> None:
    await forum_with_members(bot)
    await bot.say(COORDINATOR, "koppla kanal", where="channel")
    elsewhere: dict[str, Any] = {
        "id": "19:another-channel@thread.tacv2",
        "conversationType": "channel",
        "tenantId": teams.TENANT,
        "isGroup": True,
    }

    response = await bot.install(COORDINATOR, where="channel", conversation=elsewhere)

    text, _ = welcome_of(response)
    assert SV("welcome.team_forum_elsewhere") in text and "@Forumbot koppla kanal" in text
    assert response.sent[0]["conversation"]["id"] == elsewhere["id"]


async def test_a_group_chat_is_told_it_sees_only_forum_wide_items(bot: Harness) -> None:
    await forum_with_members(bot)

    text, rows = welcome_of(await bot.install(ADMIN, where="group"))

    assert SV("welcome.group") in text
    assert "koppla kanal" not in text and "registrera mig" not in text
    assert rows == {}
    text, _ = welcome_of(await bot.install(STRANGER, where="group", locale="en-US"))
    assert EN("welcome.group") in text
