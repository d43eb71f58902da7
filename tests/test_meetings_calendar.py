"""The series' calendar file through HTTP: the meeting card's button answers the member who pressed
it with a link of their own, and the link downloads the series as an .ics with its rule and UID."""

from __future__ import annotations

from typing import Any

from icalendar import Calendar
from sqlalchemy import select

from bot.storage.models import AuditEntry, MeetingSeries
from tests.conftest import COORDINATOR, INSPECTOR
from tests.support.harness import Harness, actions_of, card_text, cards_of
from tests.support.teams import CHANNEL_ID
from tests.test_files import fetch, path_of
from tests.test_meetings import SV, forum, set_up


def open_url(card: dict[str, Any]) -> str:
    (action,) = card["actions"]
    assert action["type"] == "Action.OpenUrl"
    return str(action["url"])


def calendar_button(card: dict[str, Any]) -> dict[str, Any]:
    (button,) = [a for a in actions_of(card) if a["data"]["action"] == "meeting.calendar"]
    return button


async def calendar_of(bot: Harness, card: dict[str, Any], **submit: Any) -> Calendar:
    """The file behind the card's calendar button, as `INSPECTOR` gets it."""
    response = await bot.submit(INSPECTOR, calendar_button(card)["data"], **submit)
    await bot.drain_outbox()
    sent = response.cards or cards_of(bot.connector.sent(INSPECTOR.personal_conversation))
    fetched = await fetch(bot, path_of(open_url(sent[-1])))
    assert fetched.status == 200, fetched.text
    assert fetched.headers["Content-Type"] == "text/calendar"
    assert fetched.filename == "Operativt möte.ics"
    return Calendar.from_ical(fetched.body)


async def test_the_meeting_cards_button_gives_a_link_to_the_series_calendar_file(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    async with bot.sessions() as session:
        (series,) = await session.scalars(select(MeetingSeries))
    card = (await bot.say(INSPECTOR, "möte 2026-12-08")).cards[0]
    assert SV("meeting.calendar") in card_text(card)

    response = await bot.submit(INSPECTOR, calendar_button(card)["data"])
    (link_card,) = response.cards
    assert SV("meeting.calendar_file.title", title="Operativt möte") in card_text(link_card)
    url = open_url(link_card)
    assert url.startswith(bot.settings.public_url + "/files/")

    fetched = await fetch(bot, path_of(url))
    assert fetched.status == 200
    calendar = Calendar.from_ical(fetched.body)
    (event,) = calendar.walk("VEVENT")
    assert event["RRULE"].to_ical().decode() == "FREQ=WEEKLY;BYDAY=TU"
    assert str(event["UID"]) == f"series-{series.id}@forumbot.vasteras-myndighetsforum"
    assert str(event["LOCATION"]) == "Stadshuset, rum 3"
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    async with bot.sessions() as session:
        audited = await session.scalars(select(AuditEntry).where(AuditEntry.action == "downloaded"))
        assert [(a.item_type, a.item_id) for a in audited] == [("meeting.ics", str(series.id))]


async def test_pressed_in_the_forum_channel_the_link_goes_to_the_members_personal_chat(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    await bot.drain_outbox()  # the new series' announcement
    card = (await bot.say(COORDINATOR, "möte 2026-12-08", where="channel")).cards[0]
    bot.connector.clear()
    calendar = await calendar_of(bot, card, where="channel", reply_to_id="channel-card")
    assert calendar.walk("VEVENT")
    assert bot.connector.sent(CHANNEL_ID) == []


async def test_a_forged_series_gets_no_link(bot: Harness) -> None:
    await forum(bot)
    response = await bot.submit(INSPECTOR, {"action": "meeting.calendar", "series_id": 4711})
    assert response.texts == [SV("common.bad_card")]
