"""Meeting series as functions of fixed times: recurrence and its RRULE, occurrences across the
2026 clock changes (29 March, 25 October), Swedish holidays, reminder times and the policy for
reminders that fell due while the bot was down. No clock is read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.meetings import (
    STOCKHOLM,
    BeforeStart,
    Occurrence,
    Recurrence,
    ReminderKind,
    ReminderPlan,
    SeriesRule,
    WorkingDaysBefore,
    at_wall_clock,
    downtime_policy,
    due_times,
    holiday_conflicts,
    holiday_name,
    is_working_day,
    next_working_day,
    occurrences,
    plan_from_json,
    plan_to_json,
    plan_values,
    validate_plan_form,
    validate_series_form,
    working_days_before,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
HOUR = timedelta(hours=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM, fold=fold)


def weekly(
    weekday: int, start: time = time(9), end: time = time(10, 30), until: date | None = None
) -> SeriesRule:
    return SeriesRule(Recurrence.WEEKLY, weekday, date(2026, 1, 1), start, end, until)


def in_2026(rule: SeriesRule, **kwargs: Any) -> list[Occurrence]:
    return occurrences(rule, STOCKHOLM, utc(2026, 1, 1), utc(2027, 1, 1), **kwargs)


# --- The rule and its RRULE ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recurrence", "weekday", "expected"),
    [
        (Recurrence.WEEKLY, MON, "FREQ=WEEKLY;BYDAY=MO"),
        (Recurrence.BIWEEKLY, TUE, "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        (Recurrence.MONTHLY_FIRST, TUE, "FREQ=MONTHLY;BYDAY=1TU"),
        (Recurrence.MONTHLY_LAST, THU, "FREQ=MONTHLY;BYDAY=-1TH"),
    ],
)
def test_each_recurrence_has_its_rrule(recurrence: Recurrence, weekday: int, expected: str) -> None:
    rule = SeriesRule(recurrence, weekday, date(2026, 3, 1), time(9), time(10))
    assert rule.to_rrule() == expected


def test_until_is_the_end_of_that_day_in_stockholm_written_in_utc() -> None:
    winter = SeriesRule(
        Recurrence.BIWEEKLY, TUE, date(2026, 3, 1), time(9), time(10), until=date(2026, 12, 31)
    )
    summer = SeriesRule(
        Recurrence.MONTHLY_LAST, THU, date(2026, 1, 1), time(9), time(10), until=date(2026, 6, 30)
    )
    assert winter.to_rrule() == "FREQ=WEEKLY;UNTIL=20261231T225959Z;INTERVAL=2;BYDAY=TU"
    assert summer.to_rrule() == "FREQ=MONTHLY;UNTIL=20260630T215959Z;BYDAY=-1TH"


@given(
    recurrence=st.sampled_from(Recurrence),
    weekday=st.integers(0, 6),
    start_date=st.dates(date(2025, 1, 1), date(2030, 12, 31)),
    until_after=st.none() | st.integers(62, 2000),
    start_hour=st.integers(0, 22),
)
def test_rrule_round_trips(
    recurrence: Recurrence, weekday: int, start_date: date, until_after: int | None, start_hour: int
) -> None:
    until = None if until_after is None else start_date + timedelta(days=until_after)
    rule = SeriesRule(recurrence, weekday, start_date, time(start_hour), time(start_hour + 1), until)
    back = SeriesRule.from_rrule(
        rule.to_rrule(), start_date=start_date, start_time=rule.start_time, end_time=rule.end_time
    )
    assert back == rule


def test_from_rrule_reads_what_calendars_commonly_write_of_the_same_shapes() -> None:
    read = SeriesRule.from_rrule(
        "RRULE:freq=monthly;byday=+1we;interval=1;until=20261231",
        start_date=date(2026, 1, 1),
        start_time=time(13),
        end_time=time(14),
    )
    assert (read.recurrence, read.weekday, read.until) == (Recurrence.MONTHLY_FIRST, WED, date(2026, 12, 31))


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=DAILY",
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;BYDAY=MO,TU",
        "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO",
        "FREQ=MONTHLY;BYDAY=2TU",
        "FREQ=MONTHLY;BYDAY=TU",
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=1MO",
        "FREQ=WEEKLY;COUNT=3;BYDAY=MO",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;INTERVAL=two;BYDAY=MO",
        "FREQ=WEEKLY;UNTIL=soon;BYDAY=MO",
        "FREQ=WEEKLY;FREQ=WEEKLY;BYDAY=MO",
        "nonsense",
        "",
    ],
)
def test_from_rrule_refuses_what_it_does_not_model(text: str) -> None:
    with pytest.raises(ValueError):
        SeriesRule.from_rrule(text, start_date=date(2026, 1, 1), start_time=time(9), end_time=time(10))


@pytest.mark.parametrize(
    ("weekday", "start", "end", "until"),
    [
        (7, time(9), time(10), None),
        (-1, time(9), time(10), None),
        (MON, time(10), time(9), None),
        (MON, time(9), time(9), None),
        (MON, time(9, tzinfo=UTC), time(10), None),
        (FRI, time(9), time(10), date(2026, 3, 5)),  # first Friday on or after 2026-03-02 is the 6th
    ],
)
def test_a_rule_that_cannot_hold_is_refused(weekday: int, start: time, end: time, until: date | None) -> None:
    with pytest.raises(ValueError):
        SeriesRule(Recurrence.WEEKLY, weekday, date(2026, 3, 2), start, end, until)


def test_a_biweekly_series_counts_its_fortnights_from_its_first_meeting() -> None:
    rule = SeriesRule(Recurrence.BIWEEKLY, TUE, date(2026, 3, 4), time(9), time(10))  # a Wednesday
    assert rule.first_date() == date(2026, 3, 10)
    assert rule.dates(date(2026, 3, 1), date(2026, 4, 30)) == [
        date(2026, 3, 10),
        date(2026, 3, 24),
        date(2026, 4, 7),
        date(2026, 4, 21),
    ]


def test_monthly_first_and_last_weekday() -> None:
    first_tuesday = SeriesRule(Recurrence.MONTHLY_FIRST, TUE, date(2026, 1, 1), time(9), time(10))
    last_thursday = SeriesRule(Recurrence.MONTHLY_LAST, THU, date(2026, 1, 1), time(9), time(10))
    spring = (date(2026, 1, 1), date(2026, 4, 30))
    assert first_tuesday.dates(*spring) == [
        date(2026, 1, 6),
        date(2026, 2, 3),
        date(2026, 3, 3),
        date(2026, 4, 7),
    ]
    assert last_thursday.dates(*spring) == [
        date(2026, 1, 29),
        date(2026, 2, 26),
        date(2026, 3, 26),
        date(2026, 4, 30),
    ]


def test_the_until_day_is_included_and_nothing_after_it() -> None:
    rule = weekly(TUE, until=date(2026, 3, 17))
    assert [o.day for o in in_2026(rule)][-2:] == [date(2026, 3, 10), date(2026, 3, 17)]


# --- Occurrences in Stockholm time -------------------------------------------------------------------


def test_a_nine_oclock_meeting_stays_at_nine_across_both_clock_changes() -> None:
    rule = weekly(THU)
    found = {o.day: o for o in in_2026(rule)}
    for day, utc_hour in [
        (date(2026, 3, 26), 8),  # CET, +01:00
        (date(2026, 4, 2), 7),  # CEST, +02:00
        (date(2026, 10, 22), 7),
        (date(2026, 10, 29), 8),
    ]:
        meeting = found[day]
        assert (meeting.start.hour, meeting.end.hour, meeting.end.minute) == (9, 10, 30)
        assert meeting.start.astimezone(UTC) == utc(day.year, day.month, day.day, utc_hour)
        assert meeting.end - meeting.start == timedelta(hours=1, minutes=30)


def test_a_time_in_the_spring_gap_moves_forward_by_the_gap() -> None:
    rule = weekly(SUN, time(2, 30), time(3, 30))
    [meeting] = occurrences(rule, STOCKHOLM, local(2026, 3, 29), local(2026, 3, 30))
    assert meeting.day == date(2026, 3, 29)
    assert (meeting.start.hour, meeting.start.minute) == (3, 30)
    assert meeting.start.utcoffset() == 2 * HOUR
    assert meeting.start.astimezone(UTC) == utc(2026, 3, 29, 1, 30)
    assert meeting.end.astimezone(UTC) - meeting.start.astimezone(UTC) == HOUR  # it keeps its length


def test_a_time_that_happens_twice_in_autumn_is_the_first_and_fires_once() -> None:
    rule = weekly(SUN, time(2, 30), time(3, 30))
    found = occurrences(rule, STOCKHOLM, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    assert len(found) == 1
    [meeting] = found
    assert meeting.start.astimezone(UTC) == utc(2026, 10, 25, 0, 30)
    assert meeting.start.utcoffset() == 2 * HOUR and meeting.start.fold == 0
    assert meeting.end.astimezone(UTC) == utc(2026, 10, 25, 1, 30)


def test_at_wall_clock_reads_gap_and_fold_as_rfc5545_does() -> None:
    assert at_wall_clock(date(2026, 3, 29), time(2, 30), STOCKHOLM) == local(2026, 3, 29, 3, 30)
    assert at_wall_clock(date(2026, 3, 29), time(2, 30), STOCKHOLM).astimezone(UTC) == utc(2026, 3, 29, 1, 30)
    assert at_wall_clock(date(2026, 10, 25), time(2, 30), STOCKHOLM).astimezone(UTC) == utc(
        2026, 10, 25, 0, 30
    )
    assert at_wall_clock(date(2026, 6, 1), time(9), STOCKHOLM).astimezone(UTC) == utc(2026, 6, 1, 7)
    with pytest.raises(ValueError):
        at_wall_clock(date(2026, 6, 1), time(9, tzinfo=UTC), STOCKHOLM)


def test_the_window_is_half_open_and_compared_as_moments() -> None:
    rule = weekly(TUE)
    at_nine = local(2026, 3, 10, 9)
    assert [o.day for o in occurrences(rule, STOCKHOLM, at_nine, at_nine + HOUR)] == [date(2026, 3, 10)]
    assert occurrences(rule, STOCKHOLM, at_nine - HOUR, at_nine) == []
    # the same window given in UTC
    assert [o.day for o in occurrences(rule, STOCKHOLM, utc(2026, 3, 10, 8), utc(2026, 3, 10, 9))] == [
        date(2026, 3, 10)
    ]


def test_naive_window_is_refused() -> None:
    with pytest.raises(ValueError):
        occurrences(weekly(TUE), STOCKHOLM, datetime(2026, 3, 1), utc(2026, 4, 1))


def test_skipped_days_are_left_out() -> None:
    rule = weekly(TUE)
    found = in_2026(rule, skipped={date(2026, 3, 10), date(2026, 3, 17)})
    days = [o.day for o in found]
    assert date(2026, 3, 3) in days and date(2026, 3, 24) in days
    assert date(2026, 3, 10) not in days and date(2026, 3, 17) not in days


def test_a_moved_meeting_keeps_its_identity_and_length() -> None:
    rule = weekly(TUE)
    found = in_2026(rule, moved={date(2026, 3, 10): local(2026, 3, 11, 13)})
    [moved] = [o for o in found if o.moved]
    assert moved.day == date(2026, 3, 10)
    assert (moved.start, moved.end) == (local(2026, 3, 11, 13), local(2026, 3, 11, 14, 30))
    assert [o.day for o in found].count(date(2026, 3, 10)) == 1
    assert found == sorted(found, key=lambda o: o.start)


def test_a_moved_meeting_is_in_the_window_by_its_new_start() -> None:
    rule = weekly(TUE)
    moved = {date(2026, 3, 31): local(2026, 4, 1, 9)}
    march = occurrences(rule, STOCKHOLM, local(2026, 3, 1), local(2026, 4, 1), moved=moved)
    april = occurrences(rule, STOCKHOLM, local(2026, 4, 1), local(2026, 5, 1), moved=moved)
    assert date(2026, 3, 31) not in [o.day for o in march]
    assert april[0].day == date(2026, 3, 31) and april[0].moved


def test_skipped_wins_over_moved_and_stale_exceptions_are_ignored() -> None:
    rule = weekly(TUE)
    plain = in_2026(rule)
    found = in_2026(
        rule,
        skipped={date(2026, 3, 10), date(2026, 3, 11)},  # the 11th is a Wednesday: no meeting to skip
        moved={date(2026, 3, 10): local(2026, 3, 12, 9), date(2026, 3, 12): local(2026, 3, 13, 9)},
    )
    assert [o.day for o in found] == [o.day for o in plain if o.day != date(2026, 3, 10)]
    assert not any(o.moved for o in found)


def test_extra_meetings_are_flagged_and_may_not_take_a_days_place() -> None:
    rule = weekly(TUE)
    found = in_2026(rule, extra=[local(2026, 3, 12, 14)])
    [extra] = [o for o in found if o.extra]
    assert (extra.day, extra.start, extra.end) == (
        date(2026, 3, 12),
        local(2026, 3, 12, 14),
        local(2026, 3, 12, 15, 30),
    )
    with pytest.raises(ValueError, match="move"):
        in_2026(rule, extra=[local(2026, 3, 10, 14)])
    with pytest.raises(ValueError):
        in_2026(rule, extra=[local(2026, 3, 12, 14), local(2026, 3, 12, 16)])
    with pytest.raises(ValueError):
        in_2026(rule, extra=[datetime(2026, 3, 12, 14)])


# --- Holidays and working days -----------------------------------------------------------------------


def test_holiday_conflicts_name_the_holiday_in_swedish() -> None:
    fridays = weekly(FRI)
    assert holiday_conflicts(fridays, date(2026, 1, 1), date(2026, 12, 31)) == [
        (date(2026, 4, 3), "Långfredagen"),
        (date(2026, 5, 1), "Första maj"),
        (date(2026, 6, 19), "Midsommarafton"),
        (date(2026, 12, 25), "Juldagen"),
    ]
    thursdays = weekly(THU)
    assert holiday_conflicts(thursdays, date(2026, 12, 1), date(2026, 12, 31)) == [
        (date(2026, 12, 24), "Julafton"),
        (date(2026, 12, 31), "Nyårsafton"),
    ]
    first_tuesdays = SeriesRule(Recurrence.MONTHLY_FIRST, TUE, date(2026, 1, 1), time(9), time(10))
    assert holiday_conflicts(first_tuesdays, date(2026, 1, 1), date(2026, 3, 31)) == [
        (date(2026, 1, 6), "Trettondedag jul")
    ]


def test_half_days_and_ordinary_days_are_working_days() -> None:
    assert holiday_name(date(2026, 4, 2)) is None  # Skärtorsdagen: a half day, not a holiday
    assert is_working_day(date(2026, 4, 2))
    assert not is_working_day(date(2026, 4, 3))  # Långfredagen
    assert not is_working_day(date(2026, 3, 28))  # a Saturday
    assert not is_working_day(date(2026, 12, 24))  # Julafton counts as a Sunday by law


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 27), date(2026, 3, 30)),  # Friday → Monday
        (date(2026, 3, 30), date(2026, 3, 31)),  # a working day → the next one, not itself
        (date(2026, 4, 2), date(2026, 4, 7)),  # over Easter
        (date(2026, 12, 23), date(2026, 12, 28)),  # over Christmas
        (date(2026, 12, 30), date(2027, 1, 4)),  # Nyårsafton, Nyårsdagen, weekend
    ],
)
def test_next_working_day(day: date, expected: date) -> None:
    assert next_working_day(day) == expected


def test_working_days_before() -> None:
    assert working_days_before(date(2026, 3, 16), 2) == date(2026, 3, 12)  # Monday → Thursday
    assert working_days_before(date(2026, 4, 7), 2) == date(2026, 4, 1)  # not Fri 3 April
    assert working_days_before(date(2026, 4, 8), 2) == date(2026, 4, 2)  # not Mon 6 April
    assert working_days_before(date(2026, 4, 7), 0) == date(2026, 4, 7)
    with pytest.raises(ValueError):
        working_days_before(date(2026, 4, 7), -1)


# --- Reminders -------------------------------------------------------------------------------------


def meeting_on(day: date, at: time = time(9)) -> Occurrence:
    [meeting] = occurrences(
        weekly(day.weekday(), at, (datetime.combine(day, at) + HOUR).time()),
        STOCKHOLM,
        at_wall_clock(day, time(0), STOCKHOLM),
        at_wall_clock(day + timedelta(days=1), time(0), STOCKHOLM),
    )
    return meeting


def test_default_plan_for_a_monday_meeting() -> None:
    due = due_times(meeting_on(date(2026, 3, 16)), ReminderPlan(), STOCKHOLM)
    assert due == {
        ReminderKind.REPORT_NUDGE: utc(2026, 3, 11, 8),  # Wednesday 09:00 CET
        ReminderKind.AGENDA: utc(2026, 3, 12, 8),  # Thursday 09:00
        ReminderKind.COMPILED: utc(2026, 3, 13, 11),  # Friday 12:00
        ReminderKind.SHORT: utc(2026, 3, 16, 7),  # an hour before 09:00
    }
    assert all(moment.tzinfo is UTC for moment in due.values())


def test_reminders_before_a_meeting_after_easter_go_back_over_the_holidays() -> None:
    due = due_times(meeting_on(date(2026, 4, 7)), ReminderPlan(), STOCKHOLM)  # the Tuesday after
    assert due[ReminderKind.COMPILED] == utc(2026, 4, 2, 10)  # Thursday 12:00 CEST
    assert due[ReminderKind.AGENDA] == utc(2026, 4, 1, 7)  # Wednesday 09:00
    assert due[ReminderKind.REPORT_NUDGE] == utc(2026, 3, 31, 7)


def test_reminder_times_are_wall_clock_on_their_own_day_across_the_clock_change() -> None:
    due = due_times(meeting_on(date(2026, 3, 30)), ReminderPlan(), STOCKHOLM)  # Monday, CEST
    assert due[ReminderKind.AGENDA] == utc(2026, 3, 26, 8)  # Thursday 09:00 was still CET
    assert due[ReminderKind.SHORT] == utc(2026, 3, 30, 6)


def test_an_hour_before_a_meeting_at_the_ambiguous_time_is_an_elapsed_hour() -> None:
    due = due_times(meeting_on(date(2026, 10, 25), time(2, 30)), ReminderPlan(), STOCKHOLM)
    assert due[ReminderKind.SHORT] == utc(2026, 10, 24, 23, 30)


def test_reminders_follow_a_moved_meeting() -> None:
    [moved] = occurrences(
        weekly(MON),
        STOCKHOLM,
        local(2026, 3, 16),
        local(2026, 3, 20),
        moved={date(2026, 3, 16): local(2026, 3, 18, 13)},
    )
    due = due_times(moved, ReminderPlan(), STOCKHOLM)
    assert due[ReminderKind.AGENDA] == utc(2026, 3, 16, 8)  # two working days before Wednesday
    assert due[ReminderKind.SHORT] == utc(2026, 3, 18, 11)


def test_kinds_turned_off_or_due_after_the_start_are_left_out() -> None:
    plan = ReminderPlan(
        agenda=None,
        short=BeforeStart(timedelta(minutes=15)),
        report_nudge=WorkingDaysBefore(0, time(12)),  # noon on the day of a 09:00 meeting
        compiled=WorkingDaysBefore(0, time(8)),
    )
    due = due_times(meeting_on(date(2026, 3, 16)), plan, STOCKHOLM)
    assert due == {ReminderKind.SHORT: utc(2026, 3, 16, 7, 45), ReminderKind.COMPILED: utc(2026, 3, 16, 7)}


def test_reminder_offsets_are_checked() -> None:
    with pytest.raises(ValueError):
        WorkingDaysBefore(-1, time(9))
    with pytest.raises(ValueError):
        WorkingDaysBefore(1, time(9, tzinfo=UTC))
    with pytest.raises(ValueError):
        BeforeStart(timedelta(0))


# --- The reminder plan as a coordinator fills it in -----------------------------------------------

CUSTOM = ReminderPlan(
    agenda=WorkingDaysBefore(3, time(8, 30)),
    short=BeforeStart(timedelta(minutes=15)),
    report_nudge=None,
    compiled=WorkingDaysBefore(0, time(7, 45)),
)


@pytest.mark.parametrize("plan", [ReminderPlan(), CUSTOM], ids=["default", "custom"])
def test_a_plan_comes_back_from_its_form_values(plan: ReminderPlan) -> None:
    checked = validate_plan_form(plan_values(plan), starts=time(9))
    assert (checked.plan, checked.errors) == (plan, {})
    assert plan_from_json(plan_to_json(plan)) == plan


def test_the_default_plan_as_the_form_shows_it() -> None:
    assert plan_values(ReminderPlan()) == {
        "reminder_agenda_on": "true",
        "reminder_agenda_days": "2",
        "reminder_agenda_at": "09:00",
        "reminder_short_on": "true",
        "reminder_short_minutes": "60",
        "reminder_report_nudge_on": "true",
        "reminder_report_nudge_days": "3",
        "reminder_report_nudge_at": "09:00",
        "reminder_compiled_on": "true",
        "reminder_compiled_days": "1",
        "reminder_compiled_at": "12:00",
    }
    # a kind turned off keeps a timing to turn it on with
    assert plan_values(CUSTOM)["reminder_report_nudge_on"] == "false"
    assert plan_values(CUSTOM)["reminder_report_nudge_days"] == "3"


def test_a_kind_the_form_does_not_carry_keeps_its_timing() -> None:
    checked = validate_plan_form({"reminder_short_on": "false"}, starts=time(9), base=CUSTOM)
    assert checked.plan == ReminderPlan(
        agenda=CUSTOM.agenda, short=None, report_nudge=None, compiled=CUSTOM.compiled
    )
    assert validate_plan_form({}, starts=None).plan == ReminderPlan()


def test_numbers_may_come_as_numbers_and_a_kind_turned_off_is_not_checked() -> None:
    raw = {
        **plan_values(ReminderPlan()),
        "reminder_agenda_days": 4,
        "reminder_short_minutes": 30.0,
        "reminder_compiled_on": "false",
        "reminder_compiled_days": "99",
    }
    checked = validate_plan_form(raw, starts=time(9))
    assert checked.errors == {}
    assert checked.plan == ReminderPlan(
        agenda=WorkingDaysBefore(4, time(9)),
        short=BeforeStart(timedelta(minutes=30)),
        compiled=None,
    )


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("reminder_agenda_days", "11", "meeting.plan.days_range"),
        ("reminder_agenda_days", "-1", "meeting.plan.days_range"),
        ("reminder_agenda_days", "2.5", "meeting.plan.days_range"),
        ("reminder_agenda_days", "två", "meeting.plan.days_range"),
        ("reminder_agenda_days", "", "form.required"),
        ("reminder_agenda_at", "25:00", "meeting.form.bad_time"),
        ("reminder_agenda_at", "", "form.required"),
        ("reminder_short_minutes", "4", "meeting.plan.minutes_range"),
        ("reminder_short_minutes", "1441", "meeting.plan.minutes_range"),
        ("reminder_short_minutes", True, "form.required"),
        ("reminder_short_on", "maybe", "form.choice"),
    ],
)
def test_timings_out_of_range_are_refused_by_their_field_with_the_value_kept(
    field: str, value: object, error: str
) -> None:
    checked = validate_plan_form({**plan_values(ReminderPlan()), field: value}, starts=time(9))
    assert checked.plan is None
    assert checked.errors == {field: error}
    if isinstance(value, str):
        assert checked.values[field] == value


def test_the_nudge_to_report_comes_before_the_compiled_picture() -> None:
    values = plan_values(ReminderPlan())
    for days, at in (("1", "12:00"), ("1", "13:00"), ("0", "08:00")):
        raw = {**values, "reminder_report_nudge_days": days, "reminder_report_nudge_at": at}
        checked = validate_plan_form(raw, starts=time(9))
        assert checked.errors == {"reminder_report_nudge_days": "meeting.plan.nudge_after_compiled"}, days
    earlier = {**values, "reminder_report_nudge_days": "1", "reminder_report_nudge_at": "11:59"}
    assert validate_plan_form(earlier, starts=time(9)).errors == {}
    # with either turned off, there is no order to keep
    alone = {**values, "reminder_report_nudge_days": "0", "reminder_compiled_on": "false"}
    assert validate_plan_form({**alone, "reminder_report_nudge_at": "08:00"}, starts=time(9)).errors == {}


def test_on_the_meetings_own_day_a_reminder_comes_before_it_starts() -> None:
    values = {**plan_values(ReminderPlan()), "reminder_agenda_days": "0"}
    for at in ("09:00", "10:00"):
        checked = validate_plan_form({**values, "reminder_agenda_at": at}, starts=time(9))
        assert checked.errors == {"reminder_agenda_at": "meeting.plan.not_before_start"}, at
    assert validate_plan_form({**values, "reminder_agenda_at": "08:59"}, starts=time(9)).errors == {}
    # a start not known (the form's own start time is wrong): that field's error is enough
    assert validate_plan_form({**values, "reminder_agenda_at": "10:00"}, starts=None).errors == {}


def test_the_series_form_carries_its_plan() -> None:
    raw = {
        "title": "Operativt möte",
        "recurrence": "weekly",
        "weekday": "1",
        "first_date": "2026-12-01",
        "start_time": "09:00",
        "end_time": "10:30",
        "place": "Stadshuset",
        **plan_values(CUSTOM),
    }
    form = validate_series_form(raw, today=date(2026, 11, 23))
    assert form.draft is not None and form.draft.plan == CUSTOM
    late = validate_series_form({**raw, "start_time": "07:30", "end_time": "08:00"}, today=date(2026, 11, 23))
    assert late.draft is None
    assert late.errors == {"reminder_compiled_at": "meeting.plan.not_before_start"}
    assert late.values["reminder_compiled_at"] == "07:45"


@pytest.mark.parametrize(
    ("recurrence", "first", "error", "first_meeting"),
    [
        ("weekly", "2026-12-01", None, None),  # a Tuesday
        ("weekly", "2026-12-03", "meeting.form.first_date_weekday", date(2026, 12, 8)),
        ("weekly", "2026-12-07", "meeting.form.first_date_weekday", date(2026, 12, 8)),  # a Monday
        ("biweekly", "2026-12-06", "meeting.form.first_date_weekday", date(2026, 12, 8)),  # a Sunday
        ("monthly_first", "2026-12-03", None, None),  # a monthly series counts from any day
        ("monthly_last", "2026-12-03", None, None),
        ("weekly", "2026-11-19", "meeting.form.date_past", None),  # a past date says only that
    ],
)
def test_a_weekly_series_first_date_is_its_weekday(
    recurrence: str, first: str, error: str | None, first_meeting: date | None
) -> None:
    raw = {
        "title": "Operativt möte",
        "recurrence": recurrence,
        "weekday": "1",
        "first_date": first,
        "start_time": "09:00",
        "end_time": "10:30",
        "place": "Stadshuset",
        **plan_values(ReminderPlan()),
    }
    form = validate_series_form(raw, today=date(2026, 11, 23))
    assert form.errors.get("first_date") == error
    assert form.first_meeting == first_meeting
    assert (form.draft is None) == (error is not None)


# --- Reminders after downtime --------------------------------------------------------------------------

DUE = utc(2026, 3, 12, 8)
MEETING = utc(2026, 3, 16, 8)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DUE - timedelta(seconds=30), "on_time"),  # a scheduler firing a little early
        (DUE, "on_time"),
        (DUE + timedelta(minutes=5), "on_time"),
        (DUE + timedelta(minutes=5, seconds=1), "late"),
        (MEETING - timedelta(seconds=1), "late"),
        (MEETING, "missed"),
        (MEETING + timedelta(days=1), "missed"),
    ],
)
def test_downtime_policy(now: datetime, expected: str) -> None:
    assert downtime_policy(DUE, MEETING, now) == expected


def test_downtime_policy_compares_moments_not_wall_clocks() -> None:
    due = local(2026, 10, 25, 2, 30)  # 00:30 UTC, the first 02:30
    meeting = local(2026, 10, 25, 3, 30)  # 02:30 UTC
    # the second 02:32: two minutes after due by the wall clock, an hour and two minutes in fact
    assert downtime_policy(due, meeting, local(2026, 10, 25, 2, 32, fold=1)) == "late"
    assert downtime_policy(due, meeting, utc(2026, 10, 25, 0, 33)) == "on_time"
    with pytest.raises(ValueError):
        downtime_policy(datetime(2026, 3, 12, 9), MEETING, DUE)


def test_grace_can_be_changed() -> None:
    assert downtime_policy(DUE, MEETING, DUE + timedelta(minutes=3), grace=timedelta(minutes=1)) == "late"
