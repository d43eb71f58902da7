"""Anna Lindqvist, samordnare at MHF and named in FORUMBOT_ADMIN_IDS, uses Forumbot in the playground.

The playground's chat box sends every message with locale en-US, so Forumbot answers Anna in English
until she, once a member, chooses Swedish with `språk svenska`; from then on what she types and the
notices the bot sends her on its own are answered in Swedish, whatever the locale. The tests share
one bot and run in file order: registering by the card comes first, later tests that need Anna to be
a member make her one, with Swedish chosen, if she is not yet.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import aiohttp
import pytest

from tests.playground.client import Playground, card_text, inputs_of, nodes
from tests.support.texts import EN, SV

pytestmark = [pytest.mark.playground, pytest.mark.asyncio(loop_scope="module")]

MHF_EN = "City of Västerås – Environment and Health Administration"
MHF_SV = "Västerås stad – miljö- och hälsoskyddsförvaltningen"
POL_EN = "Swedish Police – Västerås local police area"
POL_SV = "Polisen – lokalpolisområde Västerås"
ALL_ROLES = ("admin", "coordinator", "inspector")


def rows_of(card: dict[str, Any]) -> dict[str, str]:
    """The command rows (FactSet) of a help or welcome card."""
    return {fact["title"]: fact["value"] for node in nodes(card) for fact in node.get("facts", [])}


async def join_forum(playground: Playground, agency: str = "MHF") -> None:
    """Register the current user by the card, unless already a member, and choose Swedish."""
    turn = await playground.say("registrera mig")
    if turn.cards:
        card = turn.posted[0]
        await playground.submit(card, card.button(action="register.submit"), agency=agency)
    assert (await playground.say("språk svenska")).texts == [SV("language.chosen")]


async def test_installing_the_app_welcomes_a_newcomer(playground: Playground) -> None:
    turn = await playground.install()

    assert turn.activity["type"] == "conversationUpdate"
    assert turn.status == 201
    welcome = turn.only()
    assert welcome.action == "createMessage"
    assert welcome.conversation_id == playground.personal_chat
    assert SV("welcome.title") in welcome.content
    assert SV("welcome.personal") in welcome.content


async def test_help_follows_the_playgrounds_english_before_anna_is_a_member(playground: Playground) -> None:
    turn = await playground.say("hjälp")

    assert turn.activity["locale"] == "en-US"
    help_card = turn.only().card
    assert EN("help.title") in card_text(help_card)
    rows = rows_of(help_card)
    assert rows["hjälp / help"] == EN("help.cmd.help")
    assert rows["registrera mig / register"] == EN("help.cmd.register")
    assert "språk svenska / language english" not in rows  # a choice for members
    refused = await playground.say("språk svenska")
    assert refused.texts == [EN("language.register_first")]


async def test_registering_by_the_card_approves_an_administrator_at_once(playground: Playground) -> None:
    offered = await playground.say("registrera mig")

    card, hint = offered.posted
    choices = {c["value"]: c["title"] for c in inputs_of(card.card)["agency"]["choices"]}
    assert {"MHF", "POL", "SKV", "RTJ"} <= set(choices)
    assert choices["MHF"] == MHF_EN
    assert all(code in hint.text for code in ("MHF", "POL", "SKV", "RTJ"))

    button = card.button(action="register.submit")
    assert button["data"] == {"action": "register.submit"}
    registered = await playground.submit(card, button, agency="MHF")

    assert registered.activity["value"] == {"action": "register.submit", "agency": "MHF"}
    # the registration card itself turns into the answer, so its buttons are no longer live
    assert [u.id for u in registered.updated] == [card.id]
    assert EN("registration.approved_as_admin") in registered.updated[0].content
    whoami = await playground.say("vem är jag")
    roles = ", ".join(EN(f"role.{role}") for role in ALL_ROLES)
    assert whoami.texts == [EN("status.member", name="Anna Lindqvist", agency=MHF_EN, roles=roles)]

    # Now a member, she chooses Swedish; the playground goes on sending en-US.
    chosen = await playground.say("språk svenska")
    assert chosen.activity["locale"] == "en-US"
    assert chosen.texts == [SV("language.chosen")]
    whoami = await playground.say("vem är jag")
    roles = ", ".join(SV(f"role.{role}") for role in ALL_ROLES)
    assert whoami.texts == [SV("status.member", name="Anna Lindqvist", agency=MHF_SV, roles=roles)]


async def test_help_lists_the_commands_of_an_administrator_in_her_language(playground: Playground) -> None:
    await join_forum(playground)

    turn = await playground.say("hjälp")

    assert turn.activity["locale"] == "en-US"
    help_card = turn.only().card
    assert SV("help.title") in card_text(help_card)
    rows = rows_of(help_card)
    assert rows["hjälp / help"] == SV("help.cmd.help")
    assert rows["språk svenska / language english"] == SV("help.cmd.language")
    # Coordinator commands too: the settings name Anna an administrator.
    assert rows["koppla kanal / link channel"] == SV("help.cmd.link")
    assert rows["väntande / pending"] == SV("help.cmd.pending")
    assert rows["föreslå / propose"] == SV("help.cmd.propose")


async def test_installing_the_app_again_welcomes_a_member(playground: Playground) -> None:
    await join_forum(playground)

    welcome = (await playground.install()).only()

    assert SV("welcome.member", agency=MHF_SV) in welcome.content
    assert SV("welcome.personal") not in welcome.content
    assert rows_of(welcome.card) == {
        "föreslå / propose": SV("help.cmd.propose"),
        "förslag / proposals": SV("help.cmd.proposals"),
        "väntande / pending": SV("help.cmd.pending"),
        "hjälp / help": SV("help.cmd.help"),
    }


async def test_the_chosen_language_wins_over_a_swedish_teams_client_too(playground: Playground) -> None:
    await join_forum(playground)
    assert (await playground.say("language english")).texts == [EN("language.chosen")]
    try:
        activity = await playground.message_from(playground.me, playground.personal_chat, text="hjälp")

        turn = await playground.send(activity)

        assert turn.activity["locale"] == "sv-SE"
        text = turn.only().content
        assert EN("help.title") in text
        assert EN("help.cmd.link") in text
        assert SV("help.cmd.link") not in text
    finally:
        assert (await playground.say("språk svenska")).texts == [SV("language.chosen")]


async def test_the_bot_is_welcomed_into_the_team_and_links_the_forum_channel(playground: Playground) -> None:
    forum = playground.channels["Forum"]
    await join_forum(playground)

    installed = await playground.install(forum)
    welcome = installed.only()
    assert welcome.conversation_id == forum  # a new post in the channel
    assert SV("welcome.team") in welcome.content  # how a coordinator links it

    linked = await playground.say("koppla kanal", forum)

    reply = linked.only()
    assert reply.conversation_id.startswith(forum + ";messageid=")  # in the thread of the command
    assert reply.text == SV("channel.linked")
    # Added again, the bot knows the channel as the forum's.
    welcome = (await playground.install(forum)).only()
    assert SV("welcome.forum_channel") in welcome.content
    assert SV("welcome.team") not in welcome.content


async def test_the_bot_is_welcomed_into_a_group_chat(playground: Playground) -> None:
    await join_forum(playground)

    welcome = (await playground.install(playground.group_chat)).only()

    assert welcome.conversation_id == playground.group_chat
    assert SV("welcome.group") in welcome.content


async def test_an_application_reaches_the_administrator_who_approves_it(playground: Playground) -> None:
    await join_forum(playground)  # so Forumbot knows Anna's personal chat
    per = playground.user("Per Holm")
    per_chat = await playground.open_personal_chat(per)

    # Per, in Swedish Teams, applies for the police in his own chat.
    offered = await playground.send(await playground.message_from(per, per_chat, text="registrera mig"))
    card = offered.elsewhere[0]
    assert card.conversation_id == per_chat
    assert SV("registration.title") in card.content
    applied = await playground.send(
        await playground.message_from(
            per,
            per_chat,
            value={**card.button(action="register.submit")["data"], "agency": "POL"},
            reply_to_id=card.id,
        )
    )
    (pending,) = applied.elsewhere
    assert pending.updated and pending.id == card.id  # the card itself now says it waits
    assert SV("registration.pending", agency=POL_SV) in pending.content

    # Forumbot tells Anna on its own, in her personal chat, in the language she chose.
    application = await playground.proactive(lambda m: "Per Holm" in m.content)
    assert application.conversation_id == playground.personal_chat
    assert SV("approval.title") in application.content
    assert "per.holm@polisen.example" in application.content
    assert POL_SV in application.content and POL_EN not in application.content

    approved = await playground.submit(
        application, application.button(action="registration.approve", role="inspector")
    )

    decided = approved.only()
    assert decided.action == "updateMessage" and decided.id == application.id
    assert SV("approval.done_approved", by="Anna Lindqvist") in decided.content
    notice = await playground.sent_elsewhere(lambda s: s.conversation_id == per_chat)
    assert notice.text == SV("registration.approved_notice", agency=POL_SV)


async def test_a_forum_wide_proposal_reaches_the_channel_and_its_copy_follows_the_decision(
    playground: Playground,
) -> None:
    await join_forum(playground)
    forum = playground.channels["Forum"]
    await playground.say("koppla kanal", forum)

    offered = await playground.say("föreslå")
    form = offered.only()
    assert SV("proposal.form_title") in form.content
    created = await playground.submit(
        form,
        form.button(action="proposal.submit"),
        name="Tvätten i Centrum AB",
        org_number="556016-0680",
        address="Kopparbergsvägen 10, Västerås",
        industry="biltvatt",
        reason="Många arbetar kvällstid utan personalliggare.",
        agencies="POL,SKV",
        urgency="high",
        visibility="forum",
    )
    confirmation = created.only()
    assert confirmation.action == "updateMessage" and confirmation.id == form.id  # the form, in place
    number = re.search(r"F-\d{4}-\d{4}", confirmation.content).group()  # type: ignore[union-attr]

    # Forumbot posts the forum-wide proposal into the forum channel on its own.
    posted = await playground.proactive(lambda m: m.conversation_id == forum and number in m.content)
    assert "Tvätten i Centrum AB" in posted.content

    # Anna, as coordinator, accepts it from her own card; the channel's copy is updated in place.
    accepted = await playground.submit(
        confirmation, confirmation.button(action="proposal.transition", transition="accept")
    )
    assert SV("status.proposal.accepted") in accepted.only().content
    updated = await playground.proactive(
        lambda m: m.id == posted.id and number in m.content, action="updateMessage"
    )
    assert SV("status.proposal.accepted") in updated.content


async def test_a_series_a_report_for_her_agency_alone_and_her_own_picture_from_the_channel(
    playground: Playground,
) -> None:
    """Anna sets up the operational meetings, reports MHF's lägesbild for MHF alone, asks for the
    compiled picture in the forum channel (which says only that MHF has reported) and presses its
    "Visa min lägesbild" button (Action.Execute): the playground sends the bot an
    `adaptiveCard/action` invoke, the answer tells her alone where the picture is, and her personal
    chat gets it with MHF's report."""
    await join_forum(playground)
    forum = playground.channels["Forum"]
    await playground.say("koppla kanal", forum)
    today = date.today()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    form = (await playground.say("ny mötesserie")).only()
    created = await playground.submit(
        form,
        form.button(action="meeting.series_submit"),
        title="Operativt möte",
        recurrence="weekly",
        weekday="1",
        first_date=tuesday.isoformat(),
        start_time="09:00",
        end_time="10:30",
        place="Stadshuset, rum 3",
    )
    assert "Operativt möte" in created.only().content
    # the calendar file's link points at the port this bot serves, and works
    meeting = (await playground.say(f"möte {tuesday.isoformat()}")).only()
    link = (await playground.submit(meeting, meeting.button(action="meeting.calendar"))).only()
    (url,) = [node["url"] for node in nodes(link.card) if node.get("type") == "Action.OpenUrl"]
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200 and "BEGIN:VCALENDAR" in await response.text()

    report = (await playground.say("lägesbild rapportera")).only()
    secret = "Vi planerar en kontroll av en restaurang på Hälla."
    submitted = await playground.submit(
        report, report.button(action="meeting.report_submit"), seen=secret, visibility="agency"
    )
    assert secret in submitted.only().content

    channel = (await playground.say("lägesbild", forum)).only()
    assert secret not in channel.content and SV("report.compiled.reported") in channel.content
    answer = await playground.execute(channel, channel.button(action="meeting.my_picture"))
    assert answer == {
        "type": "application/vnd.microsoft.activity.message",
        "value": SV("report.my_picture_sent"),
    }
    mine = await playground.proactive(
        lambda m: m.conversation_id == playground.personal_chat and secret in m.content
    )
    assert SV("report.compiled.title", title="Operativt möte") in mine.content
