"""Meeting series end to end over HTTP: the form and its errors, holidays skipped or moved, the
list and one meeting, and the stored meetings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from bot.cards.meetings import plan_words, recurrence_words
from bot.domain.meetings import Recurrence, ReminderPlan
from bot.i18n import Translator
from bot.storage.models import Meeting, MeetingSeries
from tests.conftest import COORDINATOR, INSPECTOR
from tests.support.harness import Harness, actions_of, card_text, cards_of
from tests.support.teams import CHANNEL_ID
from tests.test_conversation import forum_with_members

SV = Translator("sv")
EN = Translator("en")

# Monday 23 November 2026, 10:00 in Stockholm
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

SERIES = {
    "action": "meeting.series_submit",
    "title": "Operativt möte",
    "recurrence": "weekly",
    "weekday": "1",  # Tuesday
    "first_date": "2026-12-01",
    "start_time": "09:00",
    "end_time": "10:30",
    "place": "Stadshuset, rum 3",
    "teams_link": "",
}


async def forum(bot: Harness) -> None:
    bot.clock.moment = NOW
    await forum_with_members(bot)
    await bot.say(COORDINATOR, "koppla kanal", where="channel")
    await bot.drain_outbox()
    bot.connector.clear()


def send_button(card: dict[str, Any]) -> dict[str, Any]:
    return next(a for a in actions_of(card) if a["data"]["action"] == "meeting.series_submit")


async def series_form(bot: Harness) -> dict[str, Any]:
    card = (await bot.say(COORDINATOR, "ny mötesserie")).cards[0]
    return {**SERIES, "form_token": send_button(card)["data"]["form_token"]}


async def set_up(bot: Harness, **fields: Any):
    data = await series_form(bot)
    return await bot.submit(COORDINATOR, {**data, **fields}, reply_to_id="form-card")


async def stored(bot: Harness) -> list[Meeting]:
    async with bot.sessions() as session:
        return list(await session.scalars(select(Meeting).order_by(Meeting.starts_at)))


async def test_a_coordinator_sets_up_a_weekly_series(bot: Harness) -> None:
    await forum(bot)
    response = await set_up(bot)
    (card,) = response.updated_cards
    text = card_text(card)
    assert SV("meeting.created", title="Operativt möte") in text
    assert "tisdag 1 december 2026 kl. 09.00–10.30" in text
    meetings = await stored(bot)
    # every Tuesday from 1 December up to 26 weeks from today (Monday 24 May 2027)
    assert meetings[0].day == date(2026, 12, 1)
    assert meetings[0].starts_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert all(m.status == "scheduled" for m in meetings)
    assert len(meetings) == 25 and meetings[-1].day == date(2027, 5, 18)
    async with bot.sessions() as session:
        (series,) = await session.scalars(select(MeetingSeries))
    assert series.rrule == "FREQ=WEEKLY;BYDAY=TU"


async def test_a_new_series_is_announced_in_the_forum_channel(bot: Harness) -> None:
    await forum(bot)
    response = await set_up(bot, teams_link="https://teams.microsoft.com/l/meetup-join/forum")
    assert SV("meeting.created_announced") in card_text(response.updated_cards[0])
    await bot.drain_outbox()
    (post,) = cards_of(bot.connector.sent(CHANNEL_ID))
    text = card_text(post)
    assert SV("meeting.announce.title", title="Operativt möte") in text
    for line in (
        "Varje tisdag",
        "09.00–10.30",
        "Stadshuset, rum 3",
        "tisdag 1 december 2026 kl. 09.00–10.30",  # the first meeting
        SV("meeting.announce.pointer", date="2026-12-01"),
        plan_words(SV, ReminderPlan()),
    ):
        assert line in text, line
    assert "https://teams.microsoft.com/l/meetup-join/forum" in json.dumps(post)
    # its calendar button works from the channel: the link goes to the presser's personal chat
    (calendar,) = [a for a in actions_of(post) if a["data"]["action"] == "meeting.calendar"]
    await bot.submit(INSPECTOR, calendar["data"], reply_to_id="announcement", where="channel")
    await bot.drain_outbox()
    assert len(cards_of(bot.connector.sent(CHANNEL_ID))) == 1
    mine = [card_text(c) for c in cards_of(bot.connector.sent(INSPECTOR.personal_conversation))]
    assert any(SV("meeting.calendar_file.title", title="Operativt möte") in c for c in mine)

    # every other Thursday, from a Thursday
    await set_up(bot, title="Uppföljning", recurrence="biweekly", weekday="3", first_date="2027-01-07")
    await bot.drain_outbox()
    second = card_text(cards_of(bot.connector.sent(CHANNEL_ID))[-1])
    assert "Varannan torsdag" in second and "torsdag 7 januari 2027 kl. 09.00–10.30" in second
    assert SV("meeting.announce.pointer", date="2027-01-07") in second


async def test_without_a_forum_channel_the_coordinator_hears_that_nobody_was_told(bot: Harness) -> None:
    bot.clock.moment = NOW
    await forum_with_members(bot)
    response = await set_up(bot)
    assert SV("meeting.created_no_channel") in card_text(response.updated_cards[0])
    await bot.drain_outbox()
    assert bot.connector.sent(CHANNEL_ID) == []


def test_each_recurrence_reads_naturally() -> None:
    assert [recurrence_words(SV, r, 1) for r in Recurrence] == [
        "Varje tisdag",
        "Varannan tisdag",
        "Första tisdagen i varje månad",
        "Sista tisdagen i varje månad",
    ]
    assert [recurrence_words(EN, r, 4) for r in Recurrence] == [
        "Every Friday",
        "Every other Friday",
        "The first Friday of each month",
        "The last Friday of each month",
    ]


async def test_the_series_form_is_for_coordinators(bot: Harness) -> None:
    await forum(bot)
    response = await bot.say(INSPECTOR, "ny mötesserie")
    assert response.texts == [SV("common.not_allowed")]


async def test_invalid_input_comes_back_with_errors_by_the_fields_and_values_kept(bot: Harness) -> None:
    await forum(bot)
    response = await set_up(
        bot, title="", first_date="2026-11-01", start_time="10:00", end_time="09:00", place="", teams_link="x"
    )
    (card,) = response.updated_cards
    text = card_text(card)
    for key in (
        "form.required",
        "meeting.form.date_past",
        "meeting.form.end_before_start",
        "meeting.form.bad_link",
    ):
        assert SV(key) in text, key
    inputs = {b["id"]: b.get("value") for b in card["body"] if "id" in b}
    assert inputs["first_date"] == "2026-11-01" and inputs["start_time"] == "10:00"
    # the same form again, now with neither place nor link
    token = send_button(card)["data"]["form_token"]
    again = await bot.submit(
        COORDINATOR, {**SERIES, "form_token": token, "place": ""}, reply_to_id="form-card"
    )
    assert SV("meeting.form.place_or_link") in card_text(again.updated_cards[0])
    assert await stored(bot) == []


async def test_a_first_date_on_another_weekday_is_refused_by_the_field(bot: Harness) -> None:
    await forum(bot)
    # Tuesdays, from Thursday 3 December: the series would silently begin on Tuesday the 8th
    response = await set_up(bot, first_date="2026-12-03")
    (card,) = response.updated_cards
    said = "Första mötet blir tisdag 8 december 2026 – välj ett datum som är en tisdag eller byt veckodag."
    assert said == SV("meeting.form.first_date_weekday", date="tisdag 8 december 2026", weekday="tisdag")
    ids = [block.get("id") for block in card["body"]]
    assert card["body"][ids.index("first_date") + 1]["text"] == said
    assert card["body"][ids.index("first_date")]["value"] == "2026-12-03"
    assert await stored(bot) == []

    # every other week likewise; in English, the same
    token = send_button(card)["data"]["form_token"]
    await bot.say(COORDINATOR, "language english")
    biweekly = {**SERIES, "form_token": token, "recurrence": "biweekly", "first_date": "2026-12-03"}
    response = await bot.submit(COORDINATOR, biweekly, reply_to_id="form-card")
    assert EN(
        "meeting.form.first_date_weekday", date="Tuesday 8 December 2026", weekday="Tuesday"
    ) in card_text(response.updated_cards[0])
    assert await stored(bot) == []

    # a monthly series counts from its first date, whatever weekday it is: the first Tuesday of a
    # month from Thursday 3 December is 5 January
    monthly = {**biweekly, "recurrence": "monthly_first"}
    response = await bot.submit(COORDINATOR, monthly, reply_to_id="form-card")
    assert "Tuesday 5 January 2027" in card_text(response.updated_cards[0])
    assert (await stored(bot))[0].day == date(2027, 1, 5)


async def test_holidays_are_listed_and_each_is_skipped_or_moved(bot: Harness) -> None:
    await forum(bot)
    data = await series_form(bot)
    thursdays = {**data, "weekday": "3", "first_date": "2026-12-03"}
    response = await bot.submit(COORDINATOR, thursdays, reply_to_id="form-card")
    (card,) = response.updated_cards
    text = card_text(card)
    assert "torsdag 24 december 2026 (Julafton)" in text
    assert "torsdag 31 december 2026 (Nyårsafton)" in text
    assert await stored(bot) == []  # nothing until the choices are confirmed
    confirm = send_button(card)["data"]
    response = await bot.submit(
        COORDINATOR,
        {**confirm, "holiday_2026-12-24": "move", "holiday_2026-12-31": "skip"},
        reply_to_id="form-card",
    )
    assert SV("meeting.created", title="Operativt möte") in card_text(response.updated_cards[0])
    by_day = {m.day: m for m in await stored(bot)}
    moved, skipped = by_day[date(2026, 12, 24)], by_day[date(2026, 12, 31)]
    # moved to the next working day (Monday 28th: 25th and 26th are holidays), same time
    assert (moved.status, moved.starts_at) == ("moved", datetime(2026, 12, 28, 8, 0, tzinfo=UTC))
    assert skipped.status == "cancelled"
    # the same form card again: the series it made
    again = await bot.submit(COORDINATOR, {**confirm, "holiday_2026-12-24": "move"}, reply_to_id="form-card")
    assert SV("meeting.already_created", title="Operativt möte") in card_text(again.updated_cards[0])


async def test_meetings_lists_the_coming_ones_and_one_opens_with_its_agenda(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    listing = (await bot.say(INSPECTOR, "möten")).cards[0]
    text = card_text(listing)
    assert SV("meeting.list.title") in text
    assert "tisdag 1 december 2026 kl. 09.00–10.30" in text
    assert "tisdag 8 december 2026 kl. 09.00–10.30" in text
    one = (await bot.say(INSPECTOR, "möte 2026-12-08")).cards[0]
    text = card_text(one)
    assert "Stadshuset, rum 3" in text and SV("meeting.agenda_empty") in text
    await bot.say(INSPECTOR, "language english")
    one = (await bot.say(INSPECTOR, "meeting 2026-12-08")).cards[0]
    assert "Tuesday 8 December 2026 at 09:00–10:30" in card_text(one)
    missing = await bot.say(INSPECTOR, "meeting 2026-12-09")
    assert missing.texts == [EN("meeting.not_found", date="Wednesday 9 December 2026")]
    assert (await bot.say(INSPECTOR, "meeting tomorrow")).texts == [EN("meeting.bad_date")]
