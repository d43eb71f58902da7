"""The follow-up's periods and its median, and a month's edge on the forum's clock (daylight
saving) as the database counts it."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.followup import (
    Period,
    PeriodError,
    PeriodKind,
    median,
    month_of,
    parse_period,
    quarter,
    quarter_of,
    year_of,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("words", "start", "end", "kind"),
    [
        ("", date(2026, 10, 1), date(2026, 12, 31), PeriodKind.QUARTER),
        ("kvartal", date(2026, 10, 1), date(2026, 12, 31), PeriodKind.QUARTER),
        ("förra kvartalet", date(2026, 7, 1), date(2026, 9, 30), PeriodKind.QUARTER),
        ("Q3 2026", date(2026, 7, 1), date(2026, 9, 30), PeriodKind.QUARTER),
        ("K1", date(2026, 1, 1), date(2026, 3, 31), PeriodKind.QUARTER),
        ("2027q1", date(2027, 1, 1), date(2027, 3, 31), PeriodKind.QUARTER),
        ("denna månad", date(2026, 11, 1), date(2026, 11, 30), PeriodKind.MONTH),
        ("förra månaden", date(2026, 10, 1), date(2026, 10, 31), PeriodKind.MONTH),
        ("last month", date(2026, 10, 1), date(2026, 10, 31), PeriodKind.MONTH),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), PeriodKind.MONTH),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), PeriodKind.YEAR),
        ("förra året", date(2025, 1, 1), date(2025, 12, 31), PeriodKind.YEAR),
        ("i år", date(2026, 1, 1), date(2026, 12, 31), PeriodKind.YEAR),
        ("2026-01-01 2026-03-15", date(2026, 1, 1), date(2026, 3, 15), PeriodKind.RANGE),
        ("från 2026-01-01 till 2026-03-15", date(2026, 1, 1), date(2026, 3, 15), PeriodKind.RANGE),
        ("2026-01-01–2026-03-15", date(2026, 1, 1), date(2026, 3, 15), PeriodKind.RANGE),
    ],
)
def test_periods_by_name(words: str, start: date, end: date, kind: PeriodKind) -> None:
    assert parse_period(words, TODAY) == Period(start, end, kind)


@pytest.mark.parametrize(
    ("words", "key"),
    [
        ("Q5 2026", "followup.period.unknown"),
        ("2026-13", "followup.period.bad_date"),
        ("2026-02-29 2026-03-01", "followup.period.bad_date"),
        ("2026-03-01 2026-02-01", "followup.period.backwards"),
        ("2019-01-01 2026-01-01", "followup.period.too_long"),
        ("nästa vecka", "followup.period.unknown"),
    ],
)
def test_what_is_no_period(words: str, key: str) -> None:
    with pytest.raises(PeriodError) as error:
        parse_period(words, TODAY)
    assert str(error.value) == key


def test_before_and_after() -> None:
    q4 = quarter(2026, 4)
    assert q4.previous() == quarter(2026, 3) and q4.following() == quarter(2027, 1)
    assert parse_period("2026-01", TODAY).previous() == parse_period("2025-12", TODAY)
    days = Period(date(2026, 1, 10), date(2026, 1, 19))
    assert days.previous() == Period(date(2025, 12, 31), date(2026, 1, 9))
    assert days.following() == Period(date(2026, 1, 20), date(2026, 1, 29))
    assert [m.month for m in Period(date(2026, 1, 31), date(2026, 3, 1)).months()] == [1, 2, 3]


@given(
    st.dates(date(2000, 1, 1), date(2095, 1, 1)), st.integers(0, 5 * 366), st.sampled_from(list(PeriodKind))
)
def test_a_period_travels_as_one_number(start: date, days: int, kind: PeriodKind) -> None:
    period = {
        PeriodKind.MONTH: month_of(start),
        PeriodKind.QUARTER: quarter_of(start),
        PeriodKind.YEAR: year_of(start.year),
    }.get(kind, Period(start, date.fromordinal(start.toordinal() + days), kind))
    assert Period.from_id(period.as_id()) == period


def test_median_of_a_histogram() -> None:
    assert median(Counter()) is None
    assert median({40: 1}) == 40
    assert median({36: 1, 40: 1}) == 38
    assert median({1: 3, 10: 1}) == 1
    assert median({1: 2, 10: 2}) == 5.5
    assert median({5: 0, 7: 1}) == 7


@pytest.mark.parametrize("words", ["0001", "0001-01", "Q1 0001", "q4 9999", "9999", "1999-12-31 2000-01-05"])
def test_years_out_of_reach_are_refused_not_crashed_on(words: str) -> None:
    with pytest.raises(PeriodError) as error:
        parse_period(words, TODAY)
    assert str(error.value) in ("followup.period.years", "followup.period.bad_date")


def test_a_forged_period_number_is_no_period() -> None:
    odd_month = Period(date(2026, 1, 5), date(2026, 3, 3), PeriodKind.MONTH)  # no calendar month
    for value in (0, 1, 2**62, Period(date(2000, 1, 1), date(2000, 1, 1)).as_id() - 4, odd_month.as_id()):
        with pytest.raises(ValueError):
            Period.from_id(value)


def test_every_months_tick_on_a_long_chart_is_named() -> None:
    from bot.i18n import Translator
    from bot.services.followup import _month_tick

    months = Period(date(2025, 2, 1), date(2027, 1, 31)).months()
    ticks = [_month_tick(Translator("sv"), month, len(months)) for month in months]
    assert ticks[0] == "feb 25" and all(ticks)
    year = [_month_tick(Translator("sv"), month, 12) for month in quarter(2026, 1).months()]
    assert year == ["J", "F", "M"]
