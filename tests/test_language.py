"""`språk`/`language`: a member's own language wins over the Teams locale, in replies and in the
notices the bot sends on its own. End to end over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from bot.i18n import Translator
from bot.storage.models import Member
from tests.conftest import ADMIN, COORDINATOR, INSPECTOR, POLICE, STRANGER, TAX
from tests.support.harness import Harness, card_text
from tests.support.texts import EN, SV
from tests.test_conversation import approve, forum_with_members, register
from tests.test_proposals import propose

MHF = (
    "Västerås stad – miljö- och hälsoskyddsförvaltningen",
    "City of Västerås – Environment and Health Administration",
)


async def chosen_language(bot: Harness, person) -> str | None:
    async with bot.sessions() as session:
        return await session.scalar(
            select(Member.language).where(Member.aad_object_id == person.aad_object_id)
        )


def help_rows(card: dict) -> dict[str, str]:
    return {fact["title"]: fact["value"] for node in card["body"] for fact in node.get("facts", [])}


async def test_english_chosen_wins_over_a_swedish_teams(bot: Harness) -> None:
    await forum_with_members(bot)
    before = (await bot.say(INSPECTOR, "hjälp")).cards[0]
    assert help_rows(before)["språk svenska / language english"] == SV("help.cmd.language")

    chosen = await bot.say(INSPECTOR, "språk engelska")  # the Teams client still says sv-SE

    assert chosen.texts == [EN("language.chosen")]
    assert await chosen_language(bot, INSPECTOR) == "en"
    after = (await bot.say(INSPECTOR, "hjälp")).cards[0]
    assert EN("help.title") in card_text(after)
    assert help_rows(after)["hjälp / help"] == EN("help.cmd.help")
    assert help_rows(after)["språk svenska / language english"] == EN("help.cmd.language")
    assert (await bot.say(INSPECTOR, "vem är jag")).texts == [
        EN("status.member", name=INSPECTOR.name, agency=MHF[1], roles=EN("role.inspector"))
    ]
    # in the channel too: the choice is the member's, not the chat's
    assert (await bot.say(INSPECTOR, "blabla", where="channel")).texts == [
        EN("common.unknown", text="blabla")
    ]
    # and for others nothing changed
    assert SV("help.title") in card_text((await bot.say(POLICE, "hjälp")).cards[0])


async def test_swedish_chosen_wins_over_an_english_teams(bot: Harness) -> None:
    await forum_with_members(bot)
    assert EN("help.cmd.help") in card_text((await bot.say(POLICE, "help", locale="en-US")).cards[0])

    chosen = await bot.say(POLICE, "language swedish", locale="en-US")

    assert chosen.texts == [SV("language.chosen")]
    help_card = (await bot.say(POLICE, "help", locale="en-US")).cards[0]
    assert help_rows(help_card)["hjälp / help"] == SV("help.cmd.help")


async def test_every_phrasing_of_the_choice(bot: Harness) -> None:
    await forum_with_members(bot)
    for phrase, language in (
        ("språk engelska", "en"),
        ("språk svenska", "sv"),
        ("language english", "en"),
        ("language swedish", "sv"),
        ("Språk EN", "en"),
        ("språk sv", "sv"),
        ("language en", "en"),
        ("language sv", "sv"),
    ):
        response = await bot.say(INSPECTOR, phrase)
        assert response.texts == [Translator(language)("language.chosen")], phrase
        assert await chosen_language(bot, INSPECTOR) == language, phrase


async def test_the_current_language_and_the_choices(bot: Harness) -> None:
    await forum_with_members(bot)
    following_teams = await bot.say(INSPECTOR, "språk")
    assert following_teams.texts == [
        f"{SV('language.current_teams', language=SV('language.name.sv'))} {SV('language.choices')}"
    ]
    following_teams = await bot.say(INSPECTOR, "language", locale="en-GB")
    assert following_teams.texts == [
        f"{EN('language.current_teams', language=EN('language.name.en'))} {EN('language.choices')}"
    ]

    await bot.say(INSPECTOR, "language english")
    chosen = await bot.say(INSPECTOR, "språk")
    assert chosen.texts == [
        f"{EN('language.current_chosen', language=EN('language.name.en'))} {EN('language.choices')}"
    ]
    assert await chosen_language(bot, INSPECTOR) == "en"  # showing it changes nothing


async def test_an_unknown_language_is_refused_with_the_choices(bot: Harness) -> None:
    await forum_with_members(bot)

    refused = await bot.say(INSPECTOR, "språk finska")
    assert refused.texts == [SV("language.unknown", answer="finska")]
    assert "**språk svenska**" in refused.texts[0] and "**språk engelska**" in refused.texts[0]
    refused = await bot.say(INSPECTOR, "language klingon", locale="en-US")
    assert refused.texts == [EN("language.unknown", answer="klingon")]
    assert "**language english**" in refused.texts[0] and "**language swedish**" in refused.texts[0]
    assert await chosen_language(bot, INSPECTOR) is None


async def test_someone_not_registered_is_told_to_register(bot: Harness) -> None:
    assert (await bot.say(STRANGER, "språk engelska")).texts == [SV("language.register_first")]
    assert (await bot.say(STRANGER, "language english", locale="en-US")).texts == [
        EN("language.register_first")
    ]
    assert (await bot.say(STRANGER, "språk")).texts == [SV("language.register_first")]
    # nor is it offered to them
    assert "språk svenska / language english" not in help_rows((await bot.say(STRANGER, "hjälp")).cards[0])


async def test_a_pending_member_may_choose_and_the_decision_comes_in_that_language(bot: Harness) -> None:
    await register(bot, ADMIN, "SLK")
    await register(bot, STRANGER, "MHF")
    assert "språk svenska / language english" in help_rows((await bot.say(STRANGER, "hjälp")).cards[0])

    assert (await bot.say(STRANGER, "språk engelska")).texts == [EN("language.chosen")]
    assert (await bot.say(STRANGER, "vem är jag")).texts == [EN("status.pending", agency=MHF[1])]

    await bot.drain_outbox()
    await approve(bot, ADMIN, STRANGER)
    assert await bot.drain_outbox() == 1
    # the last Teams locale the bot saw from them was sv-SE; the notice is in English all the same
    notice = bot.connector.sent(STRANGER.personal_conversation)[-1]
    assert notice["text"] == EN("registration.approved_notice", agency=MHF[1])


async def test_an_approver_who_chose_english_gets_applications_in_english(bot: Harness) -> None:
    await register(bot, ADMIN, "SLK")
    await bot.say(ADMIN, "language english")
    await bot.drain_outbox()

    await register(bot, STRANGER, "MHF")

    assert await bot.drain_outbox() == 1
    application = bot.connector.sent(ADMIN.personal_conversation)[-1]["attachments"][0]["content"]
    assert EN("approval.title") in card_text(application)
    assert SV("approval.title") not in card_text(application)


async def test_proposal_notices_follow_each_members_language(bot: Harness) -> None:
    await forum_with_members(bot)
    await register(bot, TAX, "SKV")
    await approve(bot, COORDINATOR, TAX)
    await bot.say(POLICE, "language english")  # Teams says sv-SE for everyone here
    await bot.drain_outbox()
    bot.connector.clear()

    await propose(bot)
    await bot.drain_outbox()

    police = bot.connector.sent(POLICE.personal_conversation)[-1]["attachments"][0]["content"]
    tax = bot.connector.sent(TAX.personal_conversation)[-1]["attachments"][0]["content"]
    assert EN("proposal.notice_new") in card_text(police)
    assert SV("proposal.notice_new") in card_text(tax)


async def test_the_choice_survives_a_restart(bot: Harness) -> None:
    await forum_with_members(bot)
    await bot.say(INSPECTOR, "språk engelska")

    await bot.restart()

    assert EN("help.title") in card_text((await bot.say(INSPECTOR, "hjälp")).cards[0])
    assert await chosen_language(bot, INSPECTOR) == "en"
