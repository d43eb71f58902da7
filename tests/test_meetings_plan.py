"""A series' reminder plan on a faked clock: chosen on the series form and fired at its times,
changed for a running series (pending reminders planned again, sent ones not repeated, kinds turned
off cancelled and turned on added), refused field by field when out of range, and for coordinators
only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from bot.domain.meetings import ReminderPlan, plan_values
from bot.storage.models import AuditEntry, Meeting, MeetingEvent, MeetingSeries, ScheduledTask
from tests.conftest import ADMIN, COORDINATOR, INSPECTOR
from tests.support.harness import Harness, actions_of, card_text, inputs_of
from tests.support.texts import EN, SV
from tests.test_meetings import forum, series_form, set_up, stored
from tests.test_meetings_reminders import AGENDA, SHORT, TITLE, channel_posts, tick

DEFAULT_JSON = {
    "agenda": {"working_days": 2, "at": "09:00"},
    "short": {"minutes": 60},
    "report_nudge": {"working_days": 3, "at": "09:00"},
    "compiled": {"working_days": 1, "at": "12:00"},
}


# the default plan as Teams sends the form's reminder section: every input, as text
PLAN = plan_values(ReminderPlan())


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def button(card: dict[str, Any], action: str) -> dict[str, Any]:
    (found,) = [a for a in actions_of(card) if a["data"]["action"] == action]
    return found["data"]


def filled(card: dict[str, Any], **changes: str) -> dict[str, Any]:
    """The reminders' form as Teams sends it: every input as text, `changes` typed over."""
    values = {key: str(value) for key, value in inputs_of(card).items() if value is not None}
    return {**button(card, "meeting.plan_submit"), **values, **changes}


def words(t: Any, *parts: tuple[str, str]) -> str:
    """A plan in words as the catalogue writes it: (kind, its timing) in order."""
    return t("meeting.plan.summary", plan=" · ".join(f"{t(f'meeting.plan.word.{k}')} {w}" for k, w in parts))


async def series_row(bot: Harness) -> MeetingSeries:
    async with bot.sessions() as session:
        (series,) = await session.scalars(select(MeetingSeries))
    return series


async def tasks_on(bot: Harness, day: date) -> dict[str, tuple[str, datetime]]:
    """The reminders of the meeting on `day`: kind -> (status, due)."""
    async with bot.sessions() as session:
        meeting = await session.scalar(select(Meeting).where(Meeting.day == day))
        assert meeting is not None
        rows = await session.scalars(
            select(ScheduledTask).where(
                ScheduledTask.item_type == "meeting", ScheduledTask.item_id == meeting.id
            )
        )
        return {row.kind.removeprefix("meeting."): (row.status, row.due_at) for row in rows}


def posts_with(bot: Harness, *parts: str) -> list[str]:
    return [post for post in channel_posts(bot) if all(part in post for part in parts)]


async def set_up_with(bot: Harness, **fields: Any):
    """A series set up from the form with its reminder section filled in, `fields` typed over."""
    return await set_up(bot, **{**PLAN, **fields})


async def reminders_form(bot: Harness, person=COORDINATOR, words_typed: str = "påminnelser") -> dict:
    (card,) = (await bot.say(person, words_typed)).cards
    return card


# --- Chosen when the series is set up ------------------------------------------------------------


async def test_the_series_form_offers_the_default_plan_and_a_custom_one_fires_at_its_times(
    bot: Harness,
) -> None:
    await forum(bot)
    form = (await bot.say(COORDINATOR, "ny mötesserie")).cards[0]
    assert SV("meeting.plan.section") in card_text(form)
    shown = inputs_of(form)
    assert (shown["reminder_agenda_on"], shown["reminder_agenda_days"], shown["reminder_agenda_at"]) == (
        "true",
        2,
        "09:00",
    )
    assert (shown["reminder_short_on"], shown["reminder_short_minutes"]) == ("true", 60)

    # Tuesdays at 09.00: the agenda the working day before at 14.00, the short reminder a quarter
    # of an hour before, no nudge to report, the compiled picture at 07.30 on the day
    response = await set_up_with(
        bot,
        reminder_agenda_days="1",
        reminder_agenda_at="14:00",
        reminder_short_minutes="15",
        reminder_report_nudge_on="false",
        reminder_compiled_days="0",
        reminder_compiled_at="07:30",
    )
    custom = words(
        SV,
        ("agenda", SV.plural("meeting.plan.working_days", 1, time="14.00")),
        ("short", SV.plural("meeting.plan.minutes_before", 15)),
        ("compiled", SV("meeting.plan.same_day", time="07.30")),
    )
    (created,) = response.updated_cards
    assert SV("meeting.created", title=TITLE) in card_text(created) and custom in card_text(created)
    assert (await series_row(bot)).reminder_plan == {
        "agenda": {"working_days": 1, "at": "14:00"},
        "short": {"minutes": 15},
        "report_nudge": None,
        "compiled": {"working_days": 0, "at": "07:30"},
    }
    # the meeting's card says so, in the reader's language
    assert custom in card_text((await bot.say(INSPECTOR, "möte 2026-12-01")).cards[0])
    await bot.say(INSPECTOR, "language english")
    english = words(
        EN,
        ("agenda", EN.plural("meeting.plan.working_days", 1, time="14:00")),
        ("short", EN.plural("meeting.plan.minutes_before", 15)),
        ("compiled", EN("meeting.plan.same_day", time="07:30")),
    )
    assert english in card_text((await bot.say(INSPECTOR, "meeting 2026-12-01")).cards[0])

    # the default times pass in silence (nudge, agenda, compiled picture)
    for moment in (utc(11, 26, 8), utc(11, 27, 8), utc(11, 30, 11)):
        assert await tick(bot, moment) == 0, moment
    # Monday 30 November at 14.00 (13.00 UTC), the working day before the meeting
    assert await tick(bot, utc(11, 30, 12, 59)) == 0
    assert await tick(bot, utc(11, 30, 13)) == 1
    (agenda,) = posts_with(bot, AGENDA)
    assert "tisdag 1 december 2026 kl. 09.00–10.30" in agenda and "⚠" not in agenda
    assert await tick(bot, utc(12, 1, 6, 30)) == 1  # the compiled picture at 07.30
    assert await tick(bot, utc(12, 1, 7)) == 0  # not an hour before
    assert await tick(bot, utc(12, 1, 7, 45)) == 1  # but a quarter of an hour
    (short,) = posts_with(bot, SHORT)
    assert "Stadshuset, rum 3" in short and "⚠" not in short
    # a reminder post does not carry the plan
    assert SV("meeting.plan.summary", plan="").strip() not in agenda + short


async def test_the_plan_rides_along_through_the_holidays_card(bot: Harness) -> None:
    await forum(bot)
    response = await set_up_with(
        bot, weekday="3", first_date="2026-12-03", reminder_agenda_days="4", reminder_short_on="false"
    )
    (holidays,) = response.updated_cards
    confirm = button(holidays, "meeting.series_submit")
    assert (confirm["reminder_agenda_days"], confirm["reminder_short_on"]) == ("4", "false")
    done = await bot.submit(COORDINATOR, confirm, reply_to_id="form-card")
    assert SV("meeting.created", title=TITLE) in card_text(done.updated_cards[0])
    plan = (await series_row(bot)).reminder_plan
    assert (plan["agenda"], plan["short"]) == ({"working_days": 4, "at": "09:00"}, None)


# --- Changed for a running series ------------------------------------------------------------------


async def test_changing_the_plan_replans_pending_reminders_and_does_not_repeat_sent_ones(
    bot: Harness,
) -> None:
    await forum(bot)
    await set_up(bot)  # the default plan; Tuesdays 09.00–10.30 from 1 December
    assert await tick(bot, utc(11, 26, 8)) == 1  # the nudge to report, for 1 December
    assert await tick(bot, utc(11, 27, 8)) == 1  # its agenda
    bot.clock.moment = utc(11, 27, 9)

    form = await reminders_form(bot)
    assert SV("meeting.plan.form_title", title=TITLE) in card_text(form)
    shown = inputs_of(form)
    assert (shown["reminder_compiled_days"], shown["reminder_compiled_at"]) == (1, "12:00")
    response = await bot.submit(
        COORDINATOR,
        filled(
            form,
            reminder_agenda_days="1",
            reminder_agenda_at="10:00",
            reminder_short_on="false",
            reminder_report_nudge_days="4",
            reminder_compiled_at="15:00",
        ),
        reply_to_id="plan-card",
    )
    (saved,) = response.updated_cards
    assert SV("meeting.plan.saved", title=TITLE) in card_text(saved)
    assert SV.plural("meeting.plan.replanned", 25) in card_text(saved)  # every meeting stored ahead

    # 1 December: what was sent stays sent; the short reminder is off; the compiled picture moved
    first = await tasks_on(bot, date(2026, 12, 1))
    assert first == {
        "agenda": ("done", utc(11, 27, 8)),
        "report_nudge": ("done", utc(11, 26, 8)),
        "short": ("cancelled", utc(12, 1, 7)),
        "compiled": ("pending", utc(11, 30, 14)),
    }
    # 8 December: everything at the new times
    second = await tasks_on(bot, date(2026, 12, 8))
    assert second == {
        "agenda": ("pending", utc(12, 7, 9)),
        "report_nudge": ("pending", utc(12, 2, 8)),  # four working days before, Wednesday
        "short": ("cancelled", utc(12, 8, 7)),
        "compiled": ("pending", utc(12, 7, 14)),
    }
    assert await tick(bot, utc(11, 30, 9)) == 0  # the new agenda time: 1 December's was sent
    assert await tick(bot, utc(11, 30, 14)) == 1
    assert await tick(bot, utc(12, 1, 7)) == 0
    assert len(posts_with(bot, AGENDA, "1 december")) == 1
    assert not posts_with(bot, SHORT)
    assert await tick(bot, utc(12, 2, 8)) == 2  # the nudge; and 1 December's attendance poll closed
    assert await tick(bot, utc(12, 7, 9)) == 1
    assert len(posts_with(bot, AGENDA, "8 december")) == 1

    # stored, kept in the series' history, and audited
    expected = {
        "agenda": {"working_days": 1, "at": "10:00"},
        "short": None,
        "report_nudge": {"working_days": 4, "at": "09:00"},
        "compiled": {"working_days": 1, "at": "15:00"},
    }
    series = await series_row(bot)
    assert (series.reminder_plan, series.version) == (expected, 2)
    async with bot.sessions() as session:
        (event,) = await session.scalars(select(MeetingEvent).where(MeetingEvent.kind == "plan_changed"))
        (audit,) = await session.scalars(select(AuditEntry).where(AuditEntry.action == "plan_changed"))
    assert (event.series_id, event.meeting_id, event.changes) == (
        series.id,
        None,
        {"from": DEFAULT_JSON, "to": expected},
    )
    assert (audit.item_type, audit.item_id, audit.details) == (
        "meeting_series",
        str(series.id),
        {"from": DEFAULT_JSON, "to": expected},
    )


async def test_a_kind_turned_on_again_from_the_meeting_card_is_added_for_the_meetings_ahead(
    bot: Harness,
) -> None:
    await forum(bot)
    await set_up_with(bot, reminder_short_on="false")
    await bot.say(COORDINATOR, "extra möte 2026-12-10 13:00-14:00 Polishuset")
    assert "short" not in await tasks_on(bot, date(2026, 12, 1))
    await tick(bot, utc(12, 1, 7))
    assert not posts_with(bot, SHORT)

    # a member reads the plan; a coordinator may change it from the same card
    plain = (await bot.say(INSPECTOR, "möte 2026-12-08")).cards[0]
    assert not [a for a in actions_of(plain) if a["data"]["action"] == "meeting.plan_form"]
    card = (await bot.say(COORDINATOR, "möte 2026-12-08")).cards[0]
    assert SV("meeting.plan.word.short") not in card_text(card)
    (form,) = (await bot.submit(COORDINATOR, button(card, "meeting.plan_form"))).cards
    assert inputs_of(form)["reminder_short_on"] == "false"
    response = await bot.submit(
        COORDINATOR,
        filled(form, reminder_short_on="true", reminder_short_minutes="30"),
        reply_to_id="plan-card",
    )
    # the series' 27 meetings ahead (stored up to 26 weeks from 1 December), and the extra one,
    # which follows the series' plan
    assert SV.plural("meeting.plan.replanned", 28) in card_text(response.updated_cards[0])
    assert (await tasks_on(bot, date(2026, 12, 8)))["short"] == ("pending", utc(12, 8, 7, 30))
    assert (await tasks_on(bot, date(2026, 12, 10)))["short"] == ("pending", utc(12, 10, 11, 30))
    await tick(bot, utc(12, 8, 7, 30))
    (short,) = posts_with(bot, SHORT)
    assert "tisdag 8 december 2026 kl. 09.00–10.30" in short
    card = (await bot.say(COORDINATOR, "möte 2026-12-15")).cards[0]
    assert f"{SV('meeting.plan.word.short')} {SV.plural('meeting.plan.minutes_before', 30)}" in card_text(
        card
    )


async def test_the_form_is_saved_once_and_one_shown_before_another_change_comes_back_anew(
    bot: Harness,
) -> None:
    await forum(bot)
    await set_up(bot)
    # another coordinator's form stays open beside one's own
    early, late = await reminders_form(bot), await reminders_form(bot, ADMIN)
    data = filled(early, reminder_short_minutes="30")
    assert SV("meeting.plan.saved", title=TITLE) in card_text(
        (await bot.submit(COORDINATOR, data, reply_to_id="plan-card")).updated_cards[0]
    )
    again = await bot.submit(COORDINATOR, data, reply_to_id="plan-card")
    assert again.texts == [SV("meeting.plan.already")]
    # the other form was drawn before that change: it comes back with the plan as it is now
    stale = await bot.submit(ADMIN, filled(late, reminder_agenda_days="3"), reply_to_id="plan-card")
    (fresh,) = stale.updated_cards
    assert SV("meeting.plan.stale") in card_text(fresh)
    assert inputs_of(fresh)["reminder_short_minutes"] == 30 and inputs_of(fresh)["reminder_agenda_days"] == 2
    saved = await bot.submit(ADMIN, filled(fresh, reminder_agenda_days="3"), reply_to_id="plan-card")
    assert SV("meeting.plan.saved", title=TITLE) in card_text(saved.updated_cards[0])
    assert (await series_row(bot)).reminder_plan["agenda"] == {"working_days": 3, "at": "09:00"}
    # saved as it is: nothing changes, nothing is kept
    same = await reminders_form(bot)
    unchanged = await bot.submit(COORDINATOR, filled(same), reply_to_id="plan-card")
    assert SV("meeting.plan.unchanged", title=TITLE) in card_text(unchanged.updated_cards[0])
    assert (await series_row(bot)).version == 3
    # cancelled from its card
    closed = await reminders_form(bot)
    cancel = button(closed, "cancel")
    assert SV("common.cancelled") in card_text(
        (await bot.submit(COORDINATOR, cancel, reply_to_id="plan-card")).updated_cards[0]
    )
    late_submit = await bot.submit(COORDINATOR, filled(closed), reply_to_id="plan-card")
    assert late_submit.texts == [SV("meeting.plan.out_of_date")]


async def test_a_newer_reminders_form_for_the_same_series_replaces_the_one_still_open(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    await set_up(bot, title="Uppföljning", weekday="4", first_date="2026-12-04", holidays_chosen=True)
    await bot.drain_outbox()
    bot.connector.clear()
    (choice,) = (await bot.say(COORDINATOR, "påminnelser")).cards
    picks = [a["data"] for a in actions_of(choice) if a["data"]["action"] == "meeting.plan_form"]
    first = await bot.submit(COORDINATOR, picks[0])
    (older,) = first.cards
    other_series = (await bot.submit(COORDINATOR, picks[1])).cards[0]
    admins = (await bot.submit(ADMIN, picks[0])).cards[0]
    (newer,) = (await bot.submit(COORDINATOR, picks[0])).cards
    await bot.drain_outbox()

    # the older form's card says it was replaced, and only that card changed
    (replaced,) = bot.connector.updated(COORDINATOR.personal_conversation)
    assert replaced.activity_id == first.sent[0]["id"]
    assert card_text(replaced.body["attachments"][0]["content"]) == SV("meeting.plan.replaced", title=TITLE)
    assert bot.connector.updated(ADMIN.personal_conversation) == []
    late = await bot.submit(COORDINATOR, filled(older, reminder_short_minutes="30"), reply_to_id="plan-card")
    assert late.texts == [SV("meeting.plan.out_of_date")]
    async with bot.sessions() as session:
        assert [s.version for s in await session.scalars(select(MeetingSeries))] == [1, 1]

    # the other series' form, another coordinator's and the newer one are still open
    kept = await bot.submit(COORDINATOR, filled(other_series), reply_to_id="plan-card")
    assert SV("meeting.plan.unchanged", title="Uppföljning") in card_text(kept.updated_cards[0])
    kept = await bot.submit(ADMIN, filled(admins), reply_to_id="plan-card")
    assert SV("meeting.plan.unchanged", title=TITLE) in card_text(kept.updated_cards[0])
    saved = await bot.submit(COORDINATOR, filled(newer, reminder_short_minutes="30"), reply_to_id="plan-card")
    assert SV("meeting.plan.saved", title=TITLE) in card_text(saved.updated_cards[0])


async def test_with_several_series_the_coordinator_picks_one_and_with_none_is_told(bot: Harness) -> None:
    await forum(bot)
    assert (await bot.say(COORDINATOR, "påminnelser")).texts == [SV("meeting.plan.none_running")]
    await set_up(bot)
    await set_up(bot, title="Uppföljning", weekday="4", first_date="2026-12-04", holidays_chosen=True)
    (choice,) = (await bot.say(COORDINATOR, "reminders")).cards
    assert SV("meeting.plan.choose_title") in card_text(choice)
    picks = [a["data"] for a in actions_of(choice) if a["data"]["action"] == "meeting.plan_form"]
    assert len(picks) == 2
    (form,) = (await bot.submit(COORDINATOR, picks[1])).cards
    assert SV("meeting.plan.form_title", title="Uppföljning") in card_text(form)


# --- Refused ---------------------------------------------------------------------------------------


async def test_bad_timings_on_the_series_form_are_refused_by_their_fields_and_nothing_is_stored(
    bot: Harness,
) -> None:
    await forum(bot)
    response = await set_up_with(
        bot,
        reminder_agenda_days="11",
        reminder_short_minutes="2",
        reminder_report_nudge_days="1",
        reminder_report_nudge_at="12:00",  # together with the compiled picture
        reminder_compiled_days="0",
        reminder_compiled_at="09:00",  # as the meeting starts
    )
    (card,) = response.updated_cards
    text = card_text(card)
    for key in (
        "form.fix_errors",
        "meeting.plan.days_range",
        "meeting.plan.minutes_range",
        "meeting.plan.not_before_start",
    ):
        assert SV(key) in text, key
    shown = inputs_of(card)
    assert (shown["reminder_agenda_days"], shown["reminder_short_minutes"]) == (11, 2)
    assert shown["reminder_compiled_at"] == "09:00" and shown["title"] == TITLE
    assert await stored(bot) == []
    # the compiled picture earlier that day: now it is the nudge that is out of order
    data = {**(await series_form(bot)), **PLAN, "reminder_report_nudge_days": "1"}
    again = await bot.submit(
        COORDINATOR, {**data, "reminder_report_nudge_at": "12:00"}, reply_to_id="form-card"
    )
    assert SV("meeting.plan.nudge_after_compiled") in card_text(again.updated_cards[0])
    assert await stored(bot) == []


async def test_bad_timings_on_the_reminders_form_come_back_in_the_coordinators_language(
    bot: Harness,
) -> None:
    await forum(bot)
    await set_up(bot)
    before = await tasks_on(bot, date(2026, 12, 8))
    await bot.say(COORDINATOR, "language english")
    form = await reminders_form(bot, words_typed="reminders")
    assert EN("meeting.plan.form_title", title=TITLE) in card_text(form)
    response = await bot.submit(
        COORDINATOR,
        filled(
            form,
            reminder_agenda_days="-1",
            reminder_short_minutes="1441",
            reminder_report_nudge_days="1",
            reminder_compiled_days="2",
        ),
        reply_to_id="plan-card",
    )
    (card,) = response.updated_cards
    text = card_text(card)
    for key in ("meeting.plan.days_range", "meeting.plan.minutes_range", "meeting.plan.nudge_after_compiled"):
        assert EN(key) in text, key
    assert inputs_of(card)["reminder_short_minutes"] == 1441
    # nothing saved: the plan, its history and the reminders as they were; the form still open
    series = await series_row(bot)
    assert (series.reminder_plan, series.version) == (DEFAULT_JSON, 1)
    async with bot.sessions() as session:
        assert not list(
            await session.scalars(select(MeetingEvent).where(MeetingEvent.kind == "plan_changed"))
        )
    assert await tasks_on(bot, date(2026, 12, 8)) == before
    fixed = await bot.submit(
        COORDINATOR,
        filled(card, reminder_agenda_days="2", reminder_short_minutes="60", reminder_report_nudge_days="3"),
        reply_to_id="plan-card",
    )
    assert EN("meeting.plan.saved", title=TITLE) in card_text(fixed.updated_cards[0])


async def test_only_a_coordinator_changes_the_plan(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    form = await reminders_form(bot)
    series = await series_row(bot)
    assert (await bot.say(INSPECTOR, "påminnelser")).texts == [SV("common.not_allowed")]
    pressed = await bot.submit(INSPECTOR, {"action": "meeting.plan_form", "series_id": series.id})
    assert pressed.texts == [SV("common.not_allowed")]
    # the coordinator's form, sent by someone else
    forged = await bot.submit(INSPECTOR, filled(form, reminder_short_on="false"), reply_to_id="plan-card")
    assert forged.texts == [SV("common.not_allowed")]
    assert (await series_row(bot)).reminder_plan == DEFAULT_JSON
    assert (await tasks_on(bot, date(2026, 12, 8)))["short"][0] == "pending"
    assert SV("help.cmd.reminders") not in card_text((await bot.say(INSPECTOR, "hjälp")).cards[0])
    assert SV("help.cmd.reminders") in card_text((await bot.say(COORDINATOR, "hjälp")).cards[0])
