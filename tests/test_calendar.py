"""The .ics files, read back with icalendar and expanded with dateutil as a calendar client would:
they must give the very meetings `occurrences()` gives, at the same wall-clock times across the
clock changes, with the VTIMEZONE, EXDATE, overrides, UID, SEQUENCE and METHOD in place."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import pytest
from dateutil.rrule import rruleset, rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Component, Timezone

from bot.domain.calendar import PRODID, event_ics, series_ics
from bot.domain.meetings import STOCKHOLM, Recurrence, SeriesRule, occurrences

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
STAMP = datetime(2026, 2, 20, 10, 0, tzinfo=UTC)
UID = "meeting-series-7@forumbot"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM, fold=fold)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def rrule_text(event: Component) -> str:
    value = event["RRULE"].to_ical()
    return value.decode() if isinstance(value, bytes) else str(value)


def own_zone(calendar: Calendar) -> tzinfo:
    """The zone as the file's VTIMEZONE defines it, not as this machine's zone database does."""
    [zone] = calendar.walk("VTIMEZONE")
    assert isinstance(zone, Timezone)
    return zone.to_tz(lookup_tzid=False)


def series(rule: SeriesRule, **kwargs: Any) -> Calendar:
    data = series_ics(uid=UID, title="Operativt möte", rule=rule, dtstamp=STAMP, **kwargs)
    return Calendar.from_ical(data)


def expand(calendar: Calendar, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """What a client makes of the file: the master's RRULE, RDATE and EXDATE expanded with
    dateutil, each instance as long as DTEND - DTSTART in elapsed time (RFC 5545 3.8.5.3), then
    the RECURRENCE-ID overrides put in place of the instances they name; (start, end) in UTC."""
    events = calendar.walk("VEVENT")
    [master] = [e for e in events if "RECURRENCE-ID" not in e]
    overrides = {e.decoded("RECURRENCE-ID").astimezone(UTC): e for e in events if "RECURRENCE-ID" in e}
    dtstart = master.decoded("DTSTART")
    length = master.decoded("DTEND").astimezone(UTC) - dtstart.astimezone(UTC)
    rules = rruleset()
    rules.rrule(rrulestr(rrule_text(master), dtstart=dtstart))
    for prop in as_list(master.get("EXDATE")):
        for value in prop.dts:
            rules.exdate(value.dt)
    for prop in as_list(master.get("RDATE")):
        for value in prop.dts:
            rules.rdate(value.dt)
    found = []
    for instance in rules.between(start - timedelta(days=90), end + timedelta(days=90), inc=True):
        begins = instance.astimezone(UTC)
        if begins in overrides:
            override = overrides.pop(begins)
            found.append(
                (override.decoded("DTSTART").astimezone(UTC), override.decoded("DTEND").astimezone(UTC))
            )
        else:
            found.append((begins, begins + length))
    assert not overrides, "an override names no instance of the series"
    return sorted(moment for moment in found if start <= moment[0] < end)


def expected(
    rule: SeriesRule, start: datetime, end: datetime, **kwargs: Any
) -> list[tuple[datetime, datetime]]:
    return [
        (o.start.astimezone(UTC), o.end.astimezone(UTC))
        for o in occurrences(rule, STOCKHOLM, start, end, **kwargs)
    ]


TUESDAYS = SeriesRule(
    Recurrence.WEEKLY, TUE, date(2026, 3, 1), time(9), time(10, 30), until=date(2026, 12, 31)
)


# --- Series -------------------------------------------------------------------------------------------


def test_the_series_file_has_what_a_client_needs() -> None:
    calendar = series(TUESDAYS, location="Stadshuset, Västerås", url="https://example.org/forum")
    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    assert "METHOD" not in calendar  # a calendar to import, not an iTIP message
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Stockholm"
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == UID
    assert str(event["SUMMARY"]) == "Operativt möte"
    assert str(event["LOCATION"]) == "Stadshuset, Västerås"
    assert str(event["URL"]) == "https://example.org/forum"
    assert event.decoded("DTSTAMP") == STAMP
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert event.decoded("DTSTART") == local(2026, 3, 3, 9)  # the first Tuesday: DTSTART is an instance
    assert event.decoded("DTEND") == local(2026, 3, 3, 10, 30)
    assert rrule_text(event) == TUESDAYS.to_rrule()


def test_nine_oclock_stays_nine_in_march_and_november_by_the_files_own_vtimezone() -> None:
    calendar = series(TUESDAYS)
    file_zone = own_zone(calendar)
    [event] = calendar.walk("VEVENT")
    rule = rrulestr(rrule_text(event), dtstart=event.decoded("DTSTART"))
    march = [d for d in rule if d.month == 3]
    november = [d for d in rule if d.month == 11]
    assert [d.day for d in march] == [3, 10, 17, 24, 31]
    for instance in march + november:
        assert (instance.hour, instance.minute) == (9, 0)
        offset = instance.replace(tzinfo=file_zone).utcoffset()
        summer = instance.month == 3 and instance.day == 31
        assert offset == timedelta(hours=2 if summer else 1)
    assert march[0].astimezone(UTC) == utc(2026, 3, 3, 8)
    assert march[-1].astimezone(UTC) == utc(2026, 3, 31, 7)
    assert november[0].astimezone(UTC) == utc(2026, 11, 3, 8)


def test_skipped_meetings_are_exdates() -> None:
    skipped = {date(2026, 4, 7), date(2026, 12, 29)}
    calendar = series(TUESDAYS, skipped=skipped | {date(2026, 4, 8)})  # the 8th is no meeting day
    [event] = calendar.walk("VEVENT")
    [exdate] = as_list(event["EXDATE"])
    assert exdate.params["TZID"] == "Europe/Stockholm"
    assert [value.dt for value in exdate.dts] == [local(2026, 4, 7, 9), local(2026, 12, 29, 9)]
    year = expand(calendar, utc(2026, 1, 1), utc(2027, 1, 1))
    assert utc(2026, 4, 7, 7) not in [start for start, _ in year]
    assert year == expected(TUESDAYS, utc(2026, 1, 1), utc(2027, 1, 1), skipped=skipped)


def test_a_moved_meeting_is_an_override_of_the_same_uid_naming_the_instance() -> None:
    moved = {date(2026, 5, 5): local(2026, 5, 6, 13)}
    calendar = series(TUESDAYS, moved=moved)
    master, override = calendar.walk("VEVENT")
    assert "EXDATE" not in master and "RDATE" not in master
    assert str(override["UID"]) == str(master["UID"]) == UID
    assert override["RECURRENCE-ID"].params["TZID"] == "Europe/Stockholm"
    assert override.decoded("RECURRENCE-ID") == local(2026, 5, 5, 9)
    assert (override.decoded("DTSTART"), override.decoded("DTEND")) == (
        local(2026, 5, 6, 13),
        local(2026, 5, 6, 14, 30),
    )
    assert expand(calendar, utc(2026, 1, 1), utc(2027, 1, 1)) == expected(
        TUESDAYS, utc(2026, 1, 1), utc(2027, 1, 1), moved=moved
    )


def test_an_extra_meeting_is_an_rdate() -> None:
    extra = [local(2026, 6, 12, 9)]
    calendar = series(TUESDAYS, extra=extra)
    [event] = calendar.walk("VEVENT")
    assert [value.dt for prop in as_list(event["RDATE"]) for value in prop.dts] == extra
    assert expand(calendar, utc(2026, 1, 1), utc(2027, 1, 1)) == expected(
        TUESDAYS, utc(2026, 1, 1), utc(2027, 1, 1), extra=extra
    )


@pytest.mark.parametrize(
    "rule",
    [
        SeriesRule(Recurrence.WEEKLY, SUN, date(2026, 1, 1), time(2, 30), time(3, 30)),  # both clock changes
        SeriesRule(Recurrence.WEEKLY, SUN, date(2026, 3, 29), time(2, 30), time(3, 30)),  # DTSTART in the gap
        SeriesRule(Recurrence.WEEKLY, SUN, date(2026, 10, 25), time(2, 0), time(3, 0)),  # DTSTART ambiguous
        SeriesRule(Recurrence.BIWEEKLY, WED, date(2026, 2, 5), time(13), time(15)),
        SeriesRule(Recurrence.MONTHLY_FIRST, MON, date(2026, 1, 1), time(8, 15), time(9)),
        SeriesRule(
            Recurrence.MONTHLY_LAST, FRI, date(2026, 1, 1), time(14), time(16), until=date(2026, 10, 30)
        ),
    ],
)
def test_the_file_expands_to_the_same_meetings_as_occurrences(rule: SeriesRule) -> None:
    window = (utc(2026, 1, 1), utc(2027, 6, 1))
    meetings = expected(rule, *window)
    assert len(meetings) >= 6
    assert expand(series(rule), *window) == meetings


def test_a_meeting_moved_into_the_autumn_fold_is_written_so_it_reads_back_as_the_same_moment() -> None:
    second_two_thirty = local(2026, 10, 25, 2, 30, fold=1)  # 01:30 UTC
    rule = SeriesRule(Recurrence.WEEKLY, SAT, date(2026, 10, 1), time(9), time(10))
    moved = {date(2026, 10, 24): second_two_thirty}
    calendar = series(rule, moved=moved)
    override = calendar.walk("VEVENT")[1]
    assert override.decoded("DTSTART") == utc(2026, 10, 25, 1, 30)
    window = (utc(2026, 10, 1), utc(2026, 12, 1))
    assert expand(calendar, *window) == expected(rule, *window, moved=moved)


@settings(max_examples=40, deadline=None)
@given(
    recurrence=st.sampled_from(Recurrence),
    weekday=st.integers(0, 6),
    start_date=st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    start_minute=st.integers(0, 23 * 60 - 1),
    length=st.integers(15, 60),
    until_after=st.none() | st.integers(62, 500),
    skip_every=st.integers(2, 5),
)
def test_any_series_expands_to_the_same_meetings_as_occurrences(
    recurrence: Recurrence,
    weekday: int,
    start_date: date,
    start_minute: int,
    length: int,
    until_after: int | None,
    skip_every: int,
) -> None:
    begins = datetime.combine(start_date, time()) + timedelta(minutes=start_minute)
    rule = SeriesRule(
        recurrence,
        weekday,
        start_date,
        begins.time(),
        (begins + timedelta(minutes=length)).time(),
        None if until_after is None else start_date + timedelta(days=until_after),
    )
    window = (utc(2025, 12, 1), utc(2028, 1, 1))
    skipped = set(rule.dates(date(2026, 1, 1), date(2027, 12, 31))[::skip_every])
    assert expand(series(rule, skipped=skipped), *window) == expected(rule, *window, skipped=skipped)


def test_the_same_series_gives_the_same_bytes_and_keeps_its_uid_when_changed() -> None:
    first = series_ics(uid=UID, title="Operativt möte", rule=TUESDAYS, dtstamp=STAMP)
    assert series_ics(uid=UID, title="Operativt möte", rule=TUESDAYS, dtstamp=STAMP) == first
    changed = Calendar.from_ical(
        series_ics(uid=UID, title="Operativt möte", rule=TUESDAYS, dtstamp=STAMP, skipped={date(2026, 4, 7)})
    )
    assert {str(e["UID"]) for e in changed.walk("VEVENT")} == {UID}


def test_the_vtimezone_covers_every_year_of_the_series() -> None:
    rule = SeriesRule(Recurrence.WEEKLY, TUE, date(2026, 3, 1), time(9), time(10), until=date(2028, 3, 31))
    file_zone = own_zone(series(rule))
    assert datetime(2027, 7, 1, 9, tzinfo=file_zone).utcoffset() == timedelta(hours=2)
    assert datetime(2028, 1, 11, 9, tzinfo=file_zone).utcoffset() == timedelta(hours=1)
    open_ended = own_zone(series(SeriesRule(Recurrence.WEEKLY, TUE, date(2026, 3, 1), time(9), time(10))))
    assert datetime(2035, 7, 3, 9, tzinfo=open_ended).utcoffset() == timedelta(hours=2)


def test_a_series_needs_aware_moments() -> None:
    with pytest.raises(ValueError):
        series_ics(uid=UID, title="t", rule=TUESDAYS, dtstamp=datetime(2026, 2, 20, 10))
    with pytest.raises(ValueError):
        series_ics(
            uid=UID,
            title="t",
            rule=TUESDAYS,
            dtstamp=STAMP,
            moved={date(2026, 3, 3): datetime(2026, 3, 4, 9)},
        )
    with pytest.raises(ValueError):
        series_ics(uid=" ", title="t", rule=TUESDAYS, dtstamp=STAMP)


# --- Single events (joint inspections) -----------------------------------------------------------------

INSPECTION = "inspection-42@forumbot"


def invitation(method: str = "REQUEST", sequence: int = 0, **kwargs: Any) -> Calendar:
    arguments: dict[str, Any] = {
        "uid": INSPECTION,
        "sequence": sequence,
        "method": method,
        "title": "Gemensam tillsyn: restauranger",
        "start": local(2026, 3, 31, 9),
        "end": local(2026, 3, 31, 12),
        "location": "Kopparlunden, Västerås",
        "description": "Samling utanför entrén.",
        "organizer": "Carl Samordnare",
        "attendees": ["Polisen", "Skatteverket", "Räddningstjänsten Mälardalen"],
        "dtstamp": STAMP,
    }
    arguments.update(kwargs)
    return Calendar.from_ical(event_ics(**arguments))


def test_a_request_is_an_itip_invitation_in_stockholm_time() -> None:
    calendar = invitation()
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["PRODID"]) == PRODID
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == INSPECTION
    assert event.decoded("SEQUENCE") == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert event.decoded("DTSTART") == local(2026, 3, 31, 9)
    assert event.decoded("DTSTART").utcoffset() == timedelta(hours=2)
    assert event.decoded("DTEND").astimezone(UTC) == utc(2026, 3, 31, 10)
    assert str(event["DESCRIPTION"]) == "Samling utanför entrén."
    assert event["ORGANIZER"].params["CN"] == "Carl Samordnare"
    attendees = as_list(event["ATTENDEE"])
    assert [a.params["CN"] for a in attendees] == ["Polisen", "Skatteverket", "Räddningstjänsten Mälardalen"]
    assert all(a.params["RSVP"] == "FALSE" and a.params["ROLE"] == "REQ-PARTICIPANT" for a in attendees)


def test_a_cancel_is_the_same_event_with_a_higher_sequence() -> None:
    request = invitation().walk("VEVENT")[0]
    cancelled = invitation("CANCEL", sequence=1)
    assert str(cancelled["METHOD"]) == "CANCEL"
    [event] = cancelled.walk("VEVENT")
    assert str(event["UID"]) == str(request["UID"])
    assert event.decoded("SEQUENCE") == 1
    assert str(event["STATUS"]) == "CANCELLED"
    # the same people keep the same calendar addresses, so a client matches them across versions
    assert [str(a) for a in as_list(event["ATTENDEE"])] == [str(a) for a in as_list(request["ATTENDEE"])]
    assert str(event["ORGANIZER"]) == str(request["ORGANIZER"])


def test_an_event_at_the_second_two_thirty_reads_back_as_that_moment() -> None:
    start = local(2026, 10, 25, 2, 30, fold=1)
    [event] = invitation(start=start, end=local(2026, 10, 25, 4)).walk("VEVENT")
    assert event.decoded("DTSTART") == utc(2026, 10, 25, 1, 30)
    assert event.decoded("DTEND").astimezone(UTC) == utc(2026, 10, 25, 3)


def test_an_event_given_in_utc_is_written_in_stockholm_time() -> None:
    [event] = invitation(start=utc(2026, 11, 3, 8), end=utc(2026, 11, 3, 10)).walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert event.decoded("DTSTART") == local(2026, 11, 3, 9)


@pytest.mark.parametrize(
    "change",
    [
        {"method": "PUBLISH"},
        {"sequence": -1},
        {"start": datetime(2026, 3, 31, 9)},
        {"end": local(2026, 3, 31, 9)},
        {"dtstamp": datetime(2026, 2, 20, 10)},
        {"uid": ""},
    ],
)
def test_an_invitation_that_cannot_hold_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        invitation(**change)
