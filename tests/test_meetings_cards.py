"""Meeting cards are valid Adaptive Cards 1.5 in both languages, and show what they are given."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, time, timedelta
from importlib import resources

import jsonschema
import pytest

from bot.cards import meetings as cards
from bot.domain.meetings import BeforeStart, Recurrence, ReminderPlan, WorkingDaysBefore, plan_values
from bot.domain.polls import Coming
from bot.i18n import Translator
from tests.support.harness import card_text

VIEW = cards.MeetingCardView(
    id=1,
    title="Operativt möte",
    when="tisdag 1 december 2026 kl. 09.00–10.30",
    status="moved",
    place="Stadshuset",
    teams_link="https://teams.example/meet/1",
    note="Flyttat en dag",
    agenda=[cards.AgendaItem(3, "F-2026-0003", "Pizzeria Exempel", "accepted", 2, decidable=True)],
    series_id=4,
    calendar=True,
    plan=ReminderPlan(),
    plan_series_id=4,
    coming=Coming(12, 3),
    attend=True,
    attendance_list=True,
)
CUSTOM = ReminderPlan(
    agenda=WorkingDaysBefore(0, time(7, 30)),
    short=BeforeStart(timedelta(minutes=90)),
    report_nudge=None,
    compiled=WorkingDaysBefore(1, time(12)),
)


def every_card(t: Translator) -> dict[str, dict]:
    return {
        "form": cards.series_form_card(t, form_token="tok"),
        "form_errors": cards.series_form_card(
            t,
            values={"title": "", "first_date": "2026-01-01"},
            errors={"title": "form.required"},
            form_token="t",
        ),
        "form_plan_errors": cards.series_form_card(
            t,
            values={**plan_values(CUSTOM), "reminder_agenda_days": "11", "reminder_agenda_at": "25:00"},
            errors={
                "reminder_agenda_days": "meeting.plan.days_range",
                "reminder_agenda_at": "meeting.form.bad_time",
                "reminder_short_minutes": "meeting.plan.minutes_range",
            },
            form_token="t",
        ),
        "plan_form": cards.plan_form_card(
            t, cards.PlanFormView(4, 2, "Möte", plan_values(CUSTOM), "tok"), headline="Ändrad"
        ),
        "plan_form_errors": cards.plan_form_card(
            t,
            cards.PlanFormView(
                4,
                2,
                "Möte",
                {**plan_values(CUSTOM), "reminder_short_minutes": "x"},
                "tok",
                {"reminder_report_nudge_days": "meeting.plan.nudge_after_compiled"},
            ),
        ),
        "plan_series": cards.plan_series_card(
            t, [cards.SeriesRow(1, "Möte", "Varje vecka, tisdag 09.00–10.30", "Påminnelser: inga")]
        ),
        "plan_saved": cards.plan_saved_card(t, title="Möte", plan=CUSTOM, replanned=3),
        "plan_replaced": cards.plan_form_replaced_card(t, "Möte"),
        "plan_unchanged": cards.plan_saved_card(t, title="Möte", plan=CUSTOM, replanned=None),
        "holidays": cards.holidays_card(
            t, values={"title": "Möte"}, conflicts=[(date(2026, 12, 24), "Julafton")], form_token="tok"
        ),
        "list": cards.list_card(
            t, "Möten", [cards.MeetingRow(1, "i morgon", "Möte", "cancelled")], coordinator=True
        ),
        "list_empty": cards.list_card(t, "Möten", []),
        "meeting": cards.meeting_card(t, VIEW, headline="Dagordning", extra=["⚠ sent", "enkäter"]),
        "meeting_bare": cards.meeting_card(
            t, cards.MeetingCardView(2, "Möte", "när", "scheduled", None, None, None)
        ),
        "calendar_link": cards.calendar_link_card(
            t, title="Möte", url="https://forumbot.example/files/x.y", minutes=15
        ),
        "end_series": cards.end_series_card(
            t, [cards.SeriesRow(1, "Möte", "Varje vecka, tisdag 09.00–10.30")]
        ),
        "end_series_none": cards.end_series_card(t, []),
        "series_ended": cards.series_ended_card(t, title="Möte", cancelled=1, note="Ersätts"),
        "end_series_confirm": cards.end_series_confirm_card(
            t, series_id=4, title="Möte", ahead=24, note="Ersätts"
        ),
        "end_series_confirm_bare": cards.end_series_confirm_card(
            t, series_id=4, title="Möte", ahead=0, note=None
        ),
        "form_first_date": cards.series_form_card(
            t,
            values={"first_date": "2026-12-03"},
            errors={"first_date": "meeting.form.first_date_weekday"},
            form_token="t",
            first_meeting=date(2026, 12, 8),
        ),
        "series_announced": cards.series_announced_card(
            t,
            cards.SeriesAnnouncementView(
                4,
                "Möte",
                Recurrence.MONTHLY_LAST,
                3,
                time(9),
                time(10, 30),
                "Stadshuset",
                "https://teams.example/meet/1",
                "torsdag 31 december 2026 kl. 09.00–10.30",
                date(2026, 12, 31),
                CUSTOM,
            ),
        ),
        "series_announced_bare": cards.series_announced_card(
            t,
            cards.SeriesAnnouncementView(
                4, "Möte", Recurrence.WEEKLY, 1, time(9), time(10), None, None, None, None, ReminderPlan()
            ),
        ),
    }


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_meeting_card_is_valid_adaptive_card_1_5(language: str) -> None:
    text = resources.files("adaptive_cards").joinpath("schemas/schema-1.5.json").read_text("utf-8")
    schema = json.loads(text)
    for name, card in every_card(Translator(language)).items():
        portable = {key: value for key, value in card.items() if key != "msteams"}
        jsonschema.validate(portable, schema), name


def test_the_meeting_card_shows_its_agenda_status_and_note() -> None:
    t = Translator("sv")
    text = card_text(cards.meeting_card(t, VIEW))
    assert "F-2026-0003 Pizzeria Exempel (" + t("status.proposal.accepted") + ")" in text
    assert t("status.meeting.moved") in text and "Flyttat en dag" in text
    assert t("meeting.calendar") in text


def words(t: Translator, *parts: tuple[str, str]) -> str:
    """A plan in words as the catalogue writes it: (kind, its timing) in order."""
    return t("meeting.plan.summary", plan=" · ".join(f"{t(f'meeting.plan.word.{k}')} {w}" for k, w in parts))


@pytest.mark.parametrize(("language", "sep"), [("sv", "."), ("en", ":")])
def test_the_plan_in_words_counts_and_tells_the_time_as_the_language_does(language: str, sep: str) -> None:
    t = Translator(language)
    nine, noon = f"09{sep}00", f"12{sep}00"
    assert cards.plan_words(t, ReminderPlan()) == words(
        t,
        ("agenda", t("meeting.plan.working_days.other", count=2, time=nine)),
        ("short", t("meeting.plan.hours.one", count=1)),
        ("report_nudge", t("meeting.plan.working_days.other", count=3, time=nine)),
        ("compiled", t("meeting.plan.working_days.one", count=1, time=noon)),
    )
    assert cards.plan_words(t, CUSTOM) == words(
        t,
        ("agenda", t("meeting.plan.same_day", time=f"07{sep}30")),
        ("short", t("meeting.plan.hours_minutes", hours=1, minutes=30)),
        ("compiled", t("meeting.plan.working_days.one", count=1, time=noon)),
    )
    assert cards.timing_words(t, BeforeStart(timedelta(minutes=1))) == t(
        "meeting.plan.minutes_before.one", count=1
    )
    assert cards.timing_words(t, BeforeStart(timedelta(minutes=45))) == t(
        "meeting.plan.minutes_before.other", count=45
    )
    assert cards.timing_words(t, BeforeStart(timedelta(hours=2))) == t("meeting.plan.hours.other", count=2)
    off = ReminderPlan(agenda=None, short=None, report_nudge=None, compiled=None)
    assert cards.plan_words(t, off) == t("meeting.plan.none")


def test_the_meeting_card_shows_its_plan_and_offers_to_change_it_when_asked_to() -> None:
    t = Translator("sv")
    card = cards.meeting_card(t, VIEW)
    assert cards.plan_words(t, ReminderPlan()) in card_text(card)
    (button,) = [a for a in card["actions"] if a["data"]["action"] == "meeting.plan_form"]
    assert button["data"]["series_id"] == 4
    bare = cards.meeting_card(t, cards.MeetingCardView(2, "Möte", "när", "scheduled", None, None, None))
    assert t("meeting.plan.none") not in card_text(bare) and "actions" not in bare


def test_the_reminder_section_is_prefilled_and_keeps_what_was_entered() -> None:
    t = Translator("sv")
    section = cards.reminder_section(t, {"reminder_agenda_days": "11", "reminder_short_on": "false"}, {})
    inputs = {
        item["id"]: item.get("value")
        for row in section
        for column in row.get("columns", [])
        for item in column["items"]
    }
    assert inputs == {
        "reminder_agenda_on": "true",
        "reminder_agenda_days": 11,
        "reminder_agenda_at": "09:00",
        "reminder_short_on": "false",
        "reminder_short_minutes": 60,
        "reminder_report_nudge_on": "true",
        "reminder_report_nudge_days": 3,
        "reminder_report_nudge_at": "09:00",
        "reminder_compiled_on": "true",
        "reminder_compiled_days": 1,
        "reminder_compiled_at": "12:00",
    }


@pytest.mark.parametrize(
    ("language", "coming", "line"),
    [
        ("sv", Coming(12, 3), "12 kommer från 3 myndigheter"),
        ("sv", Coming(1, 1), "1 kommer från 1 myndighet"),
        ("sv", Coming(0, 0), "Ingen har svarat att de kommer än."),
        ("en", Coming(1, 1), "1 is coming from 1 agency"),
        ("en", Coming(1200, 2), "1,200 are coming from 2 agencies"),
    ],
)
def test_the_meeting_card_says_how_many_come_from_how_many_agencies(
    language: str, coming: Coming, line: str
) -> None:
    t = Translator(language)
    card = cards.meeting_card(t, dataclasses.replace(VIEW, coming=coming))
    assert line in card_text(card).split("\n")
    buttons = [a["data"]["action"] for a in card["actions"]]
    assert buttons[:2] == ["poll.attend", "poll.attendance"]
    called_off = cards.meeting_card(t, dataclasses.replace(VIEW, coming=None, attend=False))
    assert line not in card_text(called_off)
    assert "poll.attend" not in [a["data"]["action"] for a in called_off["actions"]]
