"""iCalendar files (RFC 5545) for meeting series and joint inspections, so that participants get
the meetings into Outlook or any other calendar. Pure: the functions return the file's bytes.

Every file carries a VTIMEZONE for its zone, because RFC 5545 requires one for each TZID used and
because a client that does not know the IANA name still gets the offsets right. Times are written
as wall-clock times with TZID, read by the rule in bot/domain/meetings.py (which is RFC 5545's);
a moment that its wall-clock time cannot name unambiguously (the second 02:30 on the day clocks go
back) is written in UTC instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vRecur

from bot.domain.meetings import SeriesRule, at_wall_clock

PRODID = "-//Vasteras myndighetsforum//Forumbot//SV"
STOCKHOLM_NAME = "Europe/Stockholm"
# What Timezone.from_tzid covers when a series has no end: its own default last date.
_OPEN_END = date(2038, 1, 1)
# Participants are known by name only; a name-based UUID gives each one a stable calendar address,
# so that a client matches an attendee across updates of the same invitation.
_PARTICIPANTS = uuid.uuid5(uuid.NAMESPACE_URL, "forumbot:participant")

Method = Literal["REQUEST", "CANCEL"]


def series_ics(
    *,
    uid: str,
    title: str,
    rule: SeriesRule,
    dtstamp: datetime,
    location: str | None = None,
    url: str | None = None,
    description: str | None = None,
    zone_name: str = STOCKHOLM_NAME,
    skipped: Collection[date] = frozenset(),
    moved: Mapping[date, datetime] | None = None,
    extra: Iterable[datetime] = (),
) -> bytes:
    """A meeting series as one VEVENT with DTSTART;TZID, DTEND and RRULE (`rule.to_rrule()`),
    DTSTART being the first meeting (RFC 5545 wants it to be one of the rule's instances).

    Skipped days become EXDATE. A moved meeting becomes a second VEVENT with the same UID and a
    RECURRENCE-ID naming the instance it replaces: RFC 5545's way of changing one instance
    (section 3.8.4.4). EXDATE plus RDATE would instead delete one meeting and add an unrelated one,
    so a client would lose what belongs to the instance (the participant's answer, notes) and could
    not show it as "moved". Extra meetings, which replace nothing, are RDATEs. Skipped and moved
    days the rule does not give are left out, as in `occurrences()`; a day both skipped and moved
    is skipped.

    The file has no METHOD: it is a calendar to import or subscribe to, not an iTIP message (which
    would need an ORGANIZER). `uid` must stay the same for the life of the series so that a client
    importing a new version updates the series rather than adding a second one."""
    zone = ZoneInfo(zone_name)
    kept_moves = {
        day: _aware(start).astimezone(UTC)
        for day, start in (moved or {}).items()
        if day not in skipped and rule.meets_on(day)
    }
    exdates = sorted(day for day in set(skipped) if rule.meets_on(day))
    rdates = sorted(_aware(start).astimezone(UTC) for start in extra)
    first = rule.first_date()

    def rule_start(day: date) -> datetime:
        # The instance's own wall-clock start, nominal even in the spring gap: RFC 5545 reads that
        # time exactly as at_wall_clock does, so it names the moment occurrences() gives.
        return datetime.combine(day, rule.start_time).replace(tzinfo=zone)

    first_start = at_wall_clock(first, rule.start_time, zone).astimezone(UTC)
    series = _event(uid, title, location, url, description, dtstamp)
    series.add("dtstart", rule_start(first))
    series.add("dtend", _written(first_start + rule.duration, zone))
    series.add("rrule", vRecur.from_ical(rule.to_rrule(zone)))
    if exdates:
        series.add("exdate", [rule_start(day) for day in exdates])
    for start in rdates:
        series.add("rdate", _written(start, zone))
    components = [series]
    for day, start in sorted(kept_moves.items()):
        instance = _event(uid, title, location, url, description, dtstamp)
        instance.add("recurrence-id", rule_start(day))
        instance.add("dtstart", _written(start, zone))
        instance.add("dtend", _written(start + rule.duration, zone))
        components.append(instance)

    # An open series gets offsets up to Timezone.from_tzid's own horizon; clients that know the
    # zone by name (all the common ones) use their own rules anyway.
    years = [first.year, rule.until.year if rule.until else _OPEN_END.year - 1]
    years += [moment.astimezone(zone).year for moment in (*kept_moves.values(), *rdates)]
    calendar = _calendar(zone_name, min(years), max(years), method=None)
    for component in components:
        calendar.add_component(component)
    return calendar.to_ical()


def event_ics(
    *,
    uid: str,
    sequence: int,
    method: Method,
    title: str,
    start: datetime,
    end: datetime,
    organizer: str,
    attendees: Sequence[str],
    dtstamp: datetime,
    location: str | None = None,
    description: str | None = None,
    zone_name: str = STOCKHOLM_NAME,
) -> bytes:
    """An invitation to one event (a joint inspection) as an iTIP message (RFC 5546): METHOD
    REQUEST to invite or update, CANCEL to call it off (with STATUS:CANCELLED).

    Keep `uid` for the life of the event and raise `sequence` with every change the participants
    must see (new time, place, cancellation), so that their calendars replace the old version
    instead of keeping both. People and agencies are given by name (CN); RSVP is off because
    answers go through the bot, not back by e-mail."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError("method is REQUEST or CANCEL")
    if sequence < 0:
        raise ValueError("sequence is 0 or more")
    start, end = _aware(start), _aware(end)
    if end <= start:
        raise ValueError("an event ends after it starts")
    zone = ZoneInfo(zone_name)
    event = _event(uid, title, location, None, description, dtstamp)
    event.add("sequence", sequence)
    event.add("dtstart", _written(start, zone))
    event.add("dtend", _written(end, zone))
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("organizer", _address(organizer))
    for name in attendees:
        address = _address(name)
        address.params.update({"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE"})
        event.add("attendee", address)
    start_year = start.astimezone(zone).year
    calendar = _calendar(zone_name, start_year, end.astimezone(zone).year, method=method)
    calendar.add_component(event)
    return calendar.to_ical()


def _calendar(zone_name: str, first_year: int, last_year: int, *, method: Method | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    # Only the years the file needs: the whole 1970–2038 range would be most of the file.
    calendar.add_component(
        Timezone.from_tzid(zone_name, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1))
    )
    return calendar


def _event(
    uid: str,
    title: str,
    location: str | None,
    url: str | None,
    description: str | None,
    dtstamp: datetime,
) -> Event:
    if not uid.strip():
        raise ValueError("an event needs a UID")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", _aware(dtstamp).astimezone(UTC))
    event.add("summary", title)
    if location:
        event.add("location", location)
    if url:
        event.add("url", url)
    if description:
        event.add("description", description)
    return event


def _written(moment: datetime, zone: ZoneInfo) -> datetime:
    """How to write `moment`: its wall-clock time in `zone` when a reader would take that time back
    to the same moment, otherwise UTC (the second, fold=1, 02:30 on the day clocks go back)."""
    local = moment.astimezone(zone)
    if local.replace(fold=0).astimezone(UTC) == moment.astimezone(UTC):
        return local.replace(fold=0)
    return moment.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a moment must carry its zone (an aware datetime)")
    return moment


def _address(name: str) -> vCalAddress:
    address = vCalAddress(f"urn:uuid:{uuid.uuid5(_PARTICIPANTS, name.strip())}")
    address.params["CN"] = name.strip()
    return address
