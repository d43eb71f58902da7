"""A coordinator's changes on a faked clock: a meeting moved (its reminders at the new time, once),
called off (no reminders, the reason in the forum channel), an extra meeting, a series ended; each
kept in the meeting's history and in the series' calendar file."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from bot.domain.meetings import (
    CancelRequest,
    ExtraRequest,
    MoveRequest,
    UnreadableChange,
    parse_cancel,
    parse_extra,
    parse_move,
)
from bot.storage.models import Meeting, MeetingEvent, MeetingSeries, ScheduledTask
from tests.conftest import COORDINATOR, INSPECTOR
from tests.support.harness import Harness, actions_of, card_text
from tests.test_meetings import SV, forum, set_up
from tests.test_meetings_calendar import calendar_of
from tests.test_meetings_reminders import AGENDA, SHORT, TITLE, channel_posts, tick

TODAY = date(2026, 11, 23)


# --- What a coordinator types ------------------------------------------------------------------


def test_a_move_is_two_dates_perhaps_a_time_and_a_note() -> None:
    assert parse_move("2026-12-01 2026-12-03 10:00 Lokalen är  upptagen.", today=TODAY) == MoveRequest(
        date(2026, 12, 1), date(2026, 12, 3), time(10, 0), "Lokalen är upptagen."
    )
    assert parse_move("2026-12-01 2026-12-03", today=TODAY) == MoveRequest(
        date(2026, 12, 1), date(2026, 12, 3), None, None
    )
    assert parse_move("2026-12-01 2026-12-03 9.30", today=TODAY).new_time == time(9, 30)
    for typed in (
        "",
        "2026-12-01",
        "i morgon 2026-12-03",
        "2026-12-01 2026-13-03",
        "2026-12-01 2026-12-03 25:00",
    ):
        with pytest.raises(UnreadableChange) as refused:
            parse_move(typed, today=TODAY)
        assert refused.value.key == "meeting.change.usage.move", typed


def test_calling_off_needs_a_reason_and_no_note_carries_a_personal_number() -> None:
    assert parse_cancel("2026-12-01 Krockar med tillsynsdagen", today=TODAY) == CancelRequest(
        date(2026, 12, 1), "Krockar med tillsynsdagen"
    )
    with pytest.raises(UnreadableChange, match=r"meeting.change.reason_needed"):
        parse_cancel("2026-12-01", today=TODAY)
    with pytest.raises(UnreadableChange, match=r"form.personal_number"):
        parse_cancel("2026-12-01 Gäller 811218-9876", today=TODAY)
    with pytest.raises(UnreadableChange, match=r"meeting.change.note_too_long"):
        parse_cancel("2026-12-01 " + "x" * 1001, today=TODAY)


def test_an_extra_meeting_is_a_date_a_span_and_perhaps_a_place() -> None:
    assert parse_extra("2026-12-10 13:00-14:00 Stadshuset, rum 3", today=TODAY) == ExtraRequest(
        date(2026, 12, 10), time(13, 0), time(14, 0), "Stadshuset, rum 3"
    )
    assert parse_extra("2026-12-10 13:00 – 14:00", today=TODAY).place is None
    with pytest.raises(UnreadableChange, match=r"meeting.form.end_before_start"):
        parse_extra("2026-12-10 14:00-13:00", today=TODAY)
    with pytest.raises(UnreadableChange, match=r"meeting.change.usage.extra"):
        parse_extra("2026-12-10 13:00", today=TODAY)


# --- Through HTTP, on the faked clock ----------------------------------------------------------


async def meeting_on(bot: Harness, day: date) -> Meeting:
    async with bot.sessions() as session:
        found = await session.scalar(select(Meeting).where(Meeting.day == day))
    assert found is not None
    return found


async def tasks_of(bot: Harness, meeting_id: int) -> dict[str, ScheduledTask]:
    async with bot.sessions() as session:
        rows = await session.scalars(
            select(ScheduledTask).where(
                ScheduledTask.item_type == "meeting", ScheduledTask.item_id == meeting_id
            )
        )
        return {row.kind: row for row in rows}


async def history_of(bot: Harness, meeting_id: int) -> list[MeetingEvent]:
    async with bot.sessions() as session:
        rows = await session.scalars(
            select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id).order_by(MeetingEvent.id)
        )
        return list(rows)


def posts_with(bot: Harness, *parts: str) -> list[str]:
    return [post for post in channel_posts(bot) if all(part in post for part in parts)]


MOVED_TO = "torsdag 10 december 2026 kl. 10.00–11.30"


async def test_a_moved_meeting_is_announced_and_reminded_at_its_new_time_once(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)  # Tuesdays 09.00–10.30 from 1 December
    response = await bot.say(COORDINATOR, "flytta möte 2026-12-08 2026-12-10 10:00 Lokalen är upptagen.")
    assert response.texts == [SV("meeting.change.done.moved", title=TITLE, when=MOVED_TO)]
    await bot.drain_outbox()
    (note,) = posts_with(bot, SV("meeting.change.moved", title=TITLE))
    assert MOVED_TO in note and "Lokalen är upptagen." in note
    assert SV("meeting.change.was", when="tisdag 8 december 2026 kl. 09.00–10.30") in note

    meeting = await meeting_on(bot, date(2026, 12, 8))
    assert (meeting.status, meeting.starts_at) == ("moved", datetime(2026, 12, 10, 9, 0, tzinfo=UTC))
    (event,) = await history_of(bot, meeting.id)
    assert (event.kind, event.note) == ("moved", "Lokalen är upptagen.")
    assert event.changes == {"from": "2026-12-08T08:00:00+00:00", "to": "2026-12-10T09:00:00+00:00"}

    # the old times pass without a word about the meeting: two working days before the 8th, an hour before
    for moment in (datetime(2026, 12, 4, 8, 0, tzinfo=UTC), datetime(2026, 12, 8, 7, 0, tzinfo=UTC)):
        await tick(bot, moment)
        assert not posts_with(bot, "8 december", AGENDA) and not posts_with(bot, "8 december", SHORT)
    # two working days before Thursday the 10th at 09.00 is Tuesday the 8th; an hour before at 09.00
    await tick(bot, datetime(2026, 12, 8, 8, 0, tzinfo=UTC))
    await tick(bot, datetime(2026, 12, 10, 8, 0, tzinfo=UTC))
    await tick(bot, datetime(2026, 12, 10, 8, 30, tzinfo=UTC))
    (agenda,) = posts_with(bot, AGENDA, MOVED_TO)
    (short,) = posts_with(bot, SHORT, MOVED_TO)
    assert "⚠" not in agenda + short
    tasks = await tasks_of(bot, meeting.id)
    reminders = {kind: t for kind, t in tasks.items() if kind in ("meeting.agenda", "meeting.short")}
    assert {kind: (t.status, t.outcome) for kind, t in reminders.items()} == {
        "meeting.agenda": ("done", "on_time"),
        "meeting.short": ("done", "on_time"),
    }


async def test_a_called_off_meeting_gets_no_reminders_and_the_channel_is_told_why(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    response = await bot.say(COORDINATOR, "ställ in möte 2026-12-08 Krockar med länets tillsynsdag")
    assert response.texts == [
        SV("meeting.change.done.cancelled", title=TITLE, when="tisdag 8 december 2026 kl. 09.00–10.30")
    ]
    await bot.drain_outbox()
    (note,) = posts_with(bot, SV("meeting.change.cancelled", title=TITLE))
    assert "Krockar med länets tillsynsdag" in note and SV("status.meeting.cancelled") in note
    meeting = await meeting_on(bot, date(2026, 12, 8))
    assert meeting.status == "cancelled"
    assert {t.status for t in (await tasks_of(bot, meeting.id)).values()} == {"cancelled"}
    for moment in (datetime(2026, 12, 4, 8, 0, tzinfo=UTC), datetime(2026, 12, 8, 7, 0, tzinfo=UTC)):
        await tick(bot, moment)
    assert not posts_with(bot, AGENDA, "8 december") and not posts_with(bot, SHORT, "8 december")
    (event,) = await history_of(bot, meeting.id)
    assert (event.kind, event.note) == ("cancelled", "Krockar med länets tillsynsdag")
    # once called off, it stays so; the meeting card says why
    again = await bot.say(COORDINATOR, "ställ in möte 2026-12-08 Igen")
    assert again.texts == [SV("meeting.change.refused.not_held")]
    card = (await bot.say(INSPECTOR, "möte 2026-12-08")).cards[0]
    assert SV("meeting.note", note="Krockar med länets tillsynsdag") in card_text(card)


async def test_the_calendar_file_has_the_called_off_meeting_as_exdate_and_the_moved_one_as_an_instance(
    bot: Harness,
) -> None:
    await forum(bot)
    await set_up(bot)
    await bot.say(COORDINATOR, "flytta möte 2026-12-08 2026-12-10 10:00")
    await bot.say(COORDINATOR, "ställ in möte 2026-12-15 Jul")
    card = (await bot.say(INSPECTOR, "möte 2026-12-01")).cards[0]
    calendar = await calendar_of(bot, card)
    series, moved = calendar.walk("VEVENT")
    assert series["RRULE"].to_ical().decode() == "FREQ=WEEKLY;BYDAY=TU"
    assert [d.dt for d in series["EXDATE"].dts] == [datetime(2026, 12, 15, 9, 0, tzinfo=bot.settings.zone)]
    assert str(moved["UID"]) == str(series["UID"])
    assert moved.decoded("RECURRENCE-ID") == datetime(2026, 12, 8, 9, 0, tzinfo=bot.settings.zone)
    assert moved.decoded("DTSTART") == datetime(2026, 12, 10, 10, 0, tzinfo=bot.settings.zone)
    assert moved.decoded("DTEND") == datetime(2026, 12, 10, 11, 30, tzinfo=bot.settings.zone)


async def test_an_extra_meeting_is_announced_and_reminded(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    response = await bot.say(COORDINATOR, "extra möte 2026-12-10 13:00-14:00 Polishuset")
    when = "torsdag 10 december 2026 kl. 13.00–14.00"
    assert response.texts == [SV("meeting.change.done.added", title=TITLE, when=when)]
    await bot.drain_outbox()
    (note,) = posts_with(bot, SV("meeting.change.added", title=TITLE))
    assert when in note and "Polishuset" in note
    await tick(bot, datetime(2026, 12, 10, 11, 0, tzinfo=UTC))
    (short,) = posts_with(bot, SHORT, when)
    assert "Polishuset" in short
    # no second meeting on a day that has one, and nothing in the past
    taken = await bot.say(COORDINATOR, "extra möte 2026-12-15 13:00-14:00")
    assert taken.texts == [SV("meeting.change.refused.day_taken")]
    past = await bot.say(COORDINATOR, "extra möte 2026-12-09 13:00-14:00")
    assert past.texts == [SV("meeting.change.refused.past")]


async def test_ending_a_series_calls_off_its_meetings_ahead_and_their_reminders(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    bot.clock.moment = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # after the first meeting
    card = (await bot.say(COORDINATOR, "avsluta mötesserie")).cards[0]
    (button,) = [a for a in actions_of(card) if a["data"]["action"] == "meeting.end_series"]
    assert "Varje vecka, tisdag 09.00–10.30" in card_text(card)
    # the button asks first, on its card, how many meetings will be called off; nothing ends yet
    response = await bot.submit(
        COORDINATOR, {**button["data"], "note": "Ersätts av en ny serie"}, reply_to_id="end-card"
    )
    (question,) = response.updated_cards
    assert SV("meeting.end.confirm_title", title=TITLE) in card_text(question)
    assert SV("meeting.end.confirm_body.other", count=24) in card_text(question)
    assert "Ersätts av en ny serie" in card_text(question)
    async with bot.sessions() as session:
        assert (await session.scalar(select(MeetingSeries))).ended_at is None
    await bot.drain_outbox()
    assert posts_with(bot, SV("meeting.end.done", title=TITLE)) == []
    (confirm,) = [a for a in actions_of(question) if a["data"]["action"] == "meeting.end_series"]
    assert confirm["title"] == "Avsluta ändå" == SV("meeting.end.confirm")
    response = await bot.submit(COORDINATOR, confirm["data"], reply_to_id="end-card")
    (ended,) = response.updated_cards
    assert SV("meeting.end.done", title=TITLE) in card_text(ended)
    assert SV("meeting.end.cancelled.other", count=24) in card_text(ended)
    await bot.drain_outbox()
    (note,) = posts_with(bot, SV("meeting.end.done", title=TITLE))
    assert "Ersätts av en ny serie" in note
    async with bot.sessions() as session:
        meetings = list(await session.scalars(select(Meeting).order_by(Meeting.starts_at)))
        series = await session.scalar(select(MeetingSeries))
        pending = await session.scalars(select(ScheduledTask).where(ScheduledTask.status == "pending"))
        # only the first meeting's, which nobody ticked for and was held before the end
        assert {task.item_id for task in pending} == {meetings[0].id}
    assert series is not None and series.ended_at is not None
    assert meetings[0].status == "scheduled"  # held before the end: history is not rewritten
    assert {m.status for m in meetings[1:]} == {"cancelled"}
    # pressed again, either button: already ended; nor is anything stored ahead any more
    for pressed in (button["data"], confirm["data"]):
        again = await bot.submit(COORDINATOR, pressed, reply_to_id="end-card")
        assert again.texts == [SV("meeting.end.already", title=TITLE)]
    bot.clock.moment = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
    assert SV("meeting.end.none") in card_text((await bot.say(COORDINATOR, "avsluta mötesserie")).cards[0])
    # the calendar file ends where the series did
    first = (await bot.say(INSPECTOR, "möte 2026-12-01")).cards[0]
    calendar = await calendar_of(bot, first)
    (event,) = calendar.walk("VEVENT")
    assert event["RRULE"].to_ical().decode() == "FREQ=WEEKLY;UNTIL=20261202T225959Z;BYDAY=TU"


async def test_the_question_before_ending_a_series_can_be_cancelled(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot, recurrence="monthly_last", weekday="1", first_date="2027-04-01")
    card = (await bot.say(COORDINATOR, "avsluta mötesserie")).cards[0]
    (button,) = [a for a in actions_of(card) if a["data"]["action"] == "meeting.end_series"]
    question = (await bot.submit(COORDINATOR, button["data"], reply_to_id="end-card")).updated_cards[0]
    # the last Tuesday of April 2027; May's (the 25th) is beyond the 26 weeks stored ahead
    assert SV("meeting.end.confirm_body.one", count=1) in card_text(question)
    (cancel,) = [a for a in actions_of(question) if a["data"]["action"] == "cancel"]
    cancelled = await bot.submit(COORDINATOR, cancel["data"], reply_to_id="end-card")
    assert SV("common.cancelled") in card_text(cancelled.updated_cards[0])
    async with bot.sessions() as session:
        assert (await session.scalar(select(MeetingSeries))).ended_at is None
        assert {m.status for m in await session.scalars(select(Meeting))} == {"scheduled"}
    await bot.drain_outbox()
    assert posts_with(bot, SV("meeting.end.done", title=TITLE)) == []
    # an inspector cannot press it
    assert (await bot.submit(INSPECTOR, button["data"])).texts == [SV("common.not_allowed")]


async def test_changes_are_for_coordinators_and_typed_as_shown(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    for typed in ("flytta möte 2026-12-08 2026-12-10", "ställ in möte 2026-12-08 x", "avsluta mötesserie"):
        assert (await bot.say(INSPECTOR, typed)).texts == [SV("common.not_allowed")], typed
    assert (await bot.say(COORDINATOR, "flytta möte 2026-12-08")).texts == [SV("meeting.change.usage.move")]
    assert (await bot.say(COORDINATOR, "ställ in möte 2026-12-08")).texts == [
        SV("meeting.change.reason_needed")
    ]
    assert (await bot.say(COORDINATOR, "ställ in möte 2026-12-09 x")).texts == [
        SV("meeting.not_found", date="onsdag 9 december 2026")
    ]
    assert (await bot.say(COORDINATOR, "flytta möte 2026-12-08 2026-12-15")).texts == [
        SV("meeting.change.refused.day_taken")
    ]
    assert (await bot.say(COORDINATOR, "flytta möte 2026-12-08 2026-11-20")).texts == [
        SV("meeting.change.refused.past")
    ]
    assert (await bot.say(COORDINATOR, "ställ in möte 2026-12-08 Gäller 811218-9876")).texts == [
        SV("form.personal_number")
    ]
    bot.clock.moment = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # the first meeting has begun
    assert (await bot.say(COORDINATOR, "ställ in möte 2026-12-01 Sjuk")).texts == [
        SV("meeting.change.refused.begun")
    ]
    # in English too
    await bot.say(COORDINATOR, "language english")
    response = await bot.say(COORDINATOR, "call off meeting 2026-12-08 Clashes with the county")
    assert response.texts[0].startswith(TITLE)


async def test_a_weekend_or_a_holiday_asks_before_a_meeting_goes_there(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    asked = await bot.say(COORDINATOR, "flytta möte 2026-12-08 2026-12-24 Julbord på förvaltningen")
    (question,) = asked.cards
    assert SV(
        "meeting.change.off_day.holiday", date="torsdag 24 december 2026", holiday="Julafton"
    ) in card_text(question)
    async with bot.sessions() as session:  # nothing moved yet
        assert await session.scalar(select(Meeting).where(Meeting.status == "moved")) is None
    (confirm,) = [a for a in actions_of(question) if a["data"]["action"] == "meeting.off_day_confirm"]
    # only a coordinator's press counts, and what the card carries is read again in full
    refused = await bot.submit(INSPECTOR, confirm["data"], reply_to_id="question")
    assert refused.texts == [SV("common.not_allowed")]
    forged = {**confirm["data"], "typed": "2026-12-08 2026-12-24 Gäller 811218-9876"}
    assert SV("form.personal_number") in card_text(
        (await bot.submit(COORDINATOR, forged, reply_to_id="question")).updated_cards[0]
    )
    done = await bot.submit(COORDINATOR, confirm["data"], reply_to_id="question")
    (answered,) = done.updated_cards
    when = "torsdag 24 december 2026 kl. 09.00–10.30"
    assert card_text(answered) == SV("meeting.change.done.moved", title=TITLE, when=when)
    # pressed again: that meeting is not on the 8th any more
    again = await bot.submit(COORDINATOR, confirm["data"], reply_to_id="question")
    assert card_text(again.updated_cards[0]) == SV("meeting.not_found", date="tisdag 8 december 2026")

    # an extra meeting on a Saturday asks too; cancelled, nothing is added
    asked = await bot.say(COORDINATOR, "extra möte 2026-12-12 10:00-11:00")
    (question,) = asked.cards
    assert SV("meeting.change.off_day.weekend", date="lördag 12 december 2026") in card_text(question)
    (cancel,) = [a for a in actions_of(question) if a["data"]["action"] == "cancel"]
    await bot.submit(COORDINATOR, cancel["data"], reply_to_id="question")
    async with bot.sessions() as session:
        days = [m.starts_at.date() for m in await session.scalars(select(Meeting))]
        assert date(2026, 12, 12) not in days
    # a working day does not ask
    assert (await bot.say(COORDINATOR, "extra möte 2026-12-11 10:00-11:00")).texts == [
        SV("meeting.change.done.added", title=TITLE, when="fredag 11 december 2026 kl. 10.00–11.00")
    ]
