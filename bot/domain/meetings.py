"""Meeting series: when they meet, which meetings fall on Swedish holidays, and when each reminder
is due. Plain Python, no I/O, and no clock: every function is given the times it works on.

Times are wall-clock times in Europe/Stockholm. On the two days a year the clocks change, a
wall-clock time can name no moment or two; the rule here is RFC 5545's (section 3.3.5), so that
the bot and the .ics files it hands out (bot/domain/calendar.py) agree on every meeting:
- a time that does not exist (02:30 on 2026-03-29, clocks go from 02:00 to 03:00) is read with the
  offset before the gap, so the meeting starts at 03:30 summer time;
- a time that exists twice (02:30 on 2026-10-25, clocks go from 03:00 back to 02:00) is the first
  of the two (summer time, fold=0), so the meeting happens once.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays
from dateutil import rrule as du

from bot.domain.identity import find_personal_numbers

STOCKHOLM = ZoneInfo("Europe/Stockholm")

RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class Recurrence(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY_FIRST = "monthly_first"  # the first <weekday> of each month
    MONTHLY_LAST = "monthly_last"  # the last <weekday> of each month


# Each recurrence as RRULE parts: FREQ, INTERVAL and the ordinal in BYDAY (None: every such day).
_SHAPES: dict[Recurrence, tuple[str, int, int | None]] = {
    Recurrence.WEEKLY: ("WEEKLY", 1, None),
    Recurrence.BIWEEKLY: ("WEEKLY", 2, None),
    Recurrence.MONTHLY_FIRST: ("MONTHLY", 1, 1),
    Recurrence.MONTHLY_LAST: ("MONTHLY", 1, -1),
}
_FREQS = {"WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY}


def at_wall_clock(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The moment the wall-clock time `at` on `day` names in `zone`, as an aware datetime in `zone`.

    A time in the spring gap is read with the offset before it (02:30 → 03:30 summer time); a time
    that happens twice in autumn is the first of the two. Going through UTC normalises the gap case,
    so the result always shows a time the clocks actually showed."""
    if at.tzinfo is not None:
        raise ValueError("a wall-clock time carries no zone of its own")
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


@dataclass(frozen=True)
class SeriesRule:
    """When a meeting series meets: a recurrence on a weekday, from `start_date` (the first day a
    meeting may fall on) up to and including `until`, from `start_time` to `end_time` wall-clock.

    A biweekly series counts its fortnights from its first meeting (`first_date()`), so moving
    `start_date` by a week moves every meeting of the series by a week."""

    recurrence: Recurrence
    weekday: int  # 0 = Monday … 6 = Sunday, as date.weekday()
    start_date: date
    start_time: time
    end_time: time
    until: date | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday is 0 (Monday) to 6 (Sunday)")
        if self.start_time.tzinfo is not None or self.end_time.tzinfo is not None:
            raise ValueError("start and end are wall-clock times, without a zone")
        if self.end_time <= self.start_time:
            raise ValueError("a meeting ends after it starts, on the same day")
        if self.until is not None and self.until < self.first_date():
            raise ValueError("the series has no meeting on or before its until date")

    @property
    def duration(self) -> timedelta:
        """How long each meeting lasts. Also on the days the clocks change: a meeting moved by the
        spring gap keeps its length rather than ending when it starts."""
        day = date(2000, 1, 3)
        return datetime.combine(day, self.end_time) - datetime.combine(day, self.start_time)

    def first_date(self) -> date:
        """The day of the first meeting: the first day on or after `start_date` the rule allows."""
        first = datetime.combine(self.start_date, self.start_time)
        return self._expansion(dtstart=first, interval=1, bounded=False)[0].date()

    def dates(self, first: date, last: date) -> list[date]:
        """The days the rule gives from `first` to `last`, both included; no exceptions applied."""
        found = self._expansion().between(
            datetime.combine(first, time.min), datetime.combine(last, time.max), inc=True
        )
        return [moment.date() for moment in found]

    def meets_on(self, day: date) -> bool:
        return bool(self.dates(day, day))

    def to_rrule(self, zone: ZoneInfo = STOCKHOLM) -> str:
        """The RFC 5545 RRULE value (without "RRULE:"), with its parts in the order icalendar writes
        them, so that the string in an .ics file is this very string. UNTIL is the last second of
        the until day in `zone`, written in UTC as RFC 5545 requires next to a DTSTART with TZID."""
        freq, interval, ordinal = _SHAPES[self.recurrence]
        parts = [f"FREQ={freq}"]
        if self.until is not None:
            last = at_wall_clock(self.until, time(23, 59, 59), zone).astimezone(UTC)
            parts.append(f"UNTIL={last:%Y%m%dT%H%M%SZ}")
        if interval != 1:
            parts.append(f"INTERVAL={interval}")
        parts.append(f"BYDAY={'' if ordinal is None else ordinal}{RRULE_DAYS[self.weekday]}")
        return ";".join(parts)

    @classmethod
    def from_rrule(
        cls,
        text: str,
        *,
        start_date: date,
        start_time: time,
        end_time: time,
        zone: ZoneInfo = STOCKHOLM,
    ) -> SeriesRule:
        """The rule an RRULE value describes; only the four shapes `to_rrule` writes are understood
        (anything else raises ValueError rather than being read as something it is not)."""
        body = text.strip()
        if body.upper().startswith("RRULE:"):
            body = body[len("RRULE:") :]
        parts: dict[str, str] = {}
        for part in body.split(";"):
            name, sep, value = part.partition("=")
            name = name.strip().upper()
            if not sep or not value or name in parts:
                raise ValueError(f"unreadable RRULE part {part!r}")
            parts[name] = value.strip().upper()
        unknown = set(parts) - {"FREQ", "INTERVAL", "BYDAY", "UNTIL"}
        if unknown:
            raise ValueError(f"unsupported RRULE parts: {', '.join(sorted(unknown))}")
        byday = parts.get("BYDAY", "")
        day_name, prefix = byday[-2:], byday[:-2]
        if day_name not in RRULE_DAYS or prefix not in ("", "1", "+1", "-1"):
            raise ValueError(f"unsupported BYDAY {byday!r}")
        try:
            interval = int(parts.get("INTERVAL", "1"))
        except ValueError:
            raise ValueError(f"unreadable INTERVAL {parts['INTERVAL']!r}") from None
        shape = (parts.get("FREQ"), interval, int(prefix) if prefix else None)
        recurrence = next((r for r, known in _SHAPES.items() if known == shape), None)
        if recurrence is None:
            raise ValueError(f"unsupported recurrence {body!r}")
        until = _parse_until(parts["UNTIL"], zone) if "UNTIL" in parts else None
        return cls(recurrence, RRULE_DAYS.index(day_name), start_date, start_time, end_time, until)

    def _expansion(
        self, *, dtstart: datetime | None = None, interval: int | None = None, bounded: bool = True
    ) -> du.rrule:
        """The rule as a dateutil rrule over naive wall-clock start times."""
        freq, rule_interval, ordinal = _SHAPES[self.recurrence]
        day = du.weekdays[self.weekday]
        return du.rrule(
            _FREQS[freq],
            dtstart=dtstart or datetime.combine(self.first_date(), self.start_time),
            interval=interval or rule_interval,
            byweekday=day if ordinal is None else day(ordinal),
            until=datetime.combine(self.until, time.max) if self.until and bounded else None,
        )


def _parse_until(value: str, zone: ZoneInfo) -> date:
    try:
        if len(value) == 8:  # a DATE
            return datetime.strptime(value, "%Y%m%d").date()
        if value.endswith("Z"):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return moment.astimezone(zone).date()
        return datetime.strptime(value, "%Y%m%dT%H%M%S").date()  # floating: already wall-clock
    except ValueError:
        raise ValueError(f"unreadable UNTIL {value!r}") from None


@dataclass(frozen=True)
class Occurrence:
    """One meeting of a series. `day` is its identity: the day the rule gives it, which stays its
    identity when it is moved to another day or time. `start` and `end` are aware, in the series'
    zone; `.astimezone(UTC)` for storage and scheduling."""

    day: date
    start: datetime
    end: datetime
    moved: bool = False
    extra: bool = False  # a meeting the rule does not give, added by the coordinator


def occurrences(
    rule: SeriesRule,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    *,
    skipped: Collection[date] = frozenset(),
    moved: Mapping[date, datetime] | None = None,
    extra: Iterable[datetime] = (),
) -> list[Occurrence]:
    """The meetings that start in [start, end), in order of start.

    `skipped`: days of the rule on which the meeting is cancelled (EXDATE). `moved`: day of the rule
    → the moment that meeting now starts (an overriding instance in the .ics); it lasts as long as
    the others. A day both skipped and moved is skipped. A moved meeting is in the window by its new
    start. Skipped and moved days the rule does not give (say, left over after the weekday changed)
    are ignored, as calendar clients ignore exceptions that match no instance. `extra`: start
    moments of meetings the rule does not give; each one's identity is its local day, which
    must not be a day of the rule (move that meeting instead)."""
    _require_aware(start, end)
    moved = moved or {}
    # Local days that can hold a start in the window; a day either side covers any UTC offset.
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    found: list[Occurrence] = []
    for day in rule.dates(first_day, last_day):
        if day not in skipped and day not in moved:
            found.append(_occurrence(rule, zone, day, at_wall_clock(day, rule.start_time, zone)))
    for day, new_start in moved.items():
        if day not in skipped and rule.meets_on(day):
            _require_aware(new_start)
            found.append(_occurrence(rule, zone, day, new_start, moved=True))
    for extra_start in extra:
        _require_aware(extra_start)
        day = extra_start.astimezone(zone).date()
        if rule.meets_on(day):
            raise ValueError(f"{day} is a meeting day of the series: move that meeting instead")
        found.append(_occurrence(rule, zone, day, extra_start, extra=True))
    days = [o.day for o in found]
    if len(days) != len(set(days)):
        raise ValueError("two extra meetings on the same day")
    # Compared in UTC: two datetimes in the same zone compare by wall clock, blind to fold.
    window = (start.astimezone(UTC), end.astimezone(UTC))
    inside = [o for o in found if window[0] <= o.start.astimezone(UTC) < window[1]]
    return sorted(inside, key=lambda o: o.start.astimezone(UTC))


def _occurrence(
    rule: SeriesRule, zone: ZoneInfo, day: date, begins: datetime, *, moved: bool = False, extra: bool = False
) -> Occurrence:
    begins = begins.astimezone(zone)
    ends = (begins.astimezone(UTC) + rule.duration).astimezone(zone)
    return Occurrence(day, begins, ends, moved=moved, extra=extra)


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("a moment must carry its zone (an aware datetime)")


# --- Swedish holidays and working days -------------------------------------------------------

# Public holidays, and the three eves the law treats as Sundays (Semesterlagen 1977:480 §3 a:
# midsommarafton, julafton, nyårsafton): no agency works then, so no meeting or reminder either.
_HOLIDAY_CATEGORIES = (holidays.PUBLIC, holidays.DE_FACTO)


@lru_cache(maxsize=32)
def _holidays_of(year: int) -> Mapping[date, str]:
    found = holidays.country_holidays("SE", years=year, language="sv", categories=_HOLIDAY_CATEGORIES)
    return dict(found.items())


def holiday_name(day: date) -> str | None:
    """The Swedish name of the holiday on `day` ("Juldagen", "Midsommarafton"), or None."""
    return _holidays_of(day.year).get(day)


def is_working_day(day: date) -> bool:
    """Monday to Friday, and neither a public holiday nor one of the eves treated as one."""
    return day.weekday() < 5 and holiday_name(day) is None


def next_working_day(day: date) -> date:
    """The first working day after `day` (not `day` itself): where to move a meeting that falls on
    a holiday."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def working_days_before(day: date, count: int) -> date:
    """The `count`-th working day before `day`; `day` itself for 0. Two working days before a
    Monday is the Thursday before; before Tuesday 2026-04-07 it is Wednesday 2026-04-01, because
    Långfredagen and Annandag påsk do not count."""
    if count < 0:
        raise ValueError("count is 0 or more")
    while count:
        day -= timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def holiday_conflicts(rule: SeriesRule, from_date: date, to_date: date) -> list[tuple[date, str]]:
    """The rule's meeting days from `from_date` to `to_date` (both included) that fall on a Swedish
    holiday, with the holiday's Swedish name, for the coordinator to skip or move each. A meeting's
    day is its wall-clock day, so no zone is needed."""
    return [(day, name) for day in rule.dates(from_date, to_date) if (name := holiday_name(day)) is not None]


# --- Reminders ---------------------------------------------------------------------------------


class ReminderKind(StrEnum):
    AGENDA = "agenda"  # the agenda to the participants
    SHORT = "short"  # just before the meeting
    REPORT_NUDGE = "report_nudge"  # to the agencies that have not reported their lägesbild
    COMPILED = "compiled"  # the compiled lägesbild into the forum channel


@dataclass(frozen=True)
class WorkingDaysBefore:
    """At wall-clock time `at`, `days` working days before the meeting's day (0: that day)."""

    days: int
    at: time

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError("days is 0 or more")
        if self.at.tzinfo is not None:
            raise ValueError("at is a wall-clock time, without a zone")


@dataclass(frozen=True)
class BeforeStart:
    """A fixed stretch of time before the meeting starts."""

    delta: timedelta

    def __post_init__(self) -> None:
        if self.delta <= timedelta(0):
            raise ValueError("a reminder before the start is a positive stretch of time")


ReminderOffset = WorkingDaysBefore | BeforeStart


@dataclass(frozen=True)
class ReminderPlan:
    """When each kind of reminder goes out for a meeting; None turns a kind off.

    Working days rather than days, so that a reminder never lands on a weekend or a holiday, when
    nobody reads it: the agenda for a Monday meeting goes out on Thursday."""

    agenda: ReminderOffset | None = WorkingDaysBefore(2, time(9, 0))
    short: ReminderOffset | None = BeforeStart(timedelta(hours=1))
    report_nudge: ReminderOffset | None = WorkingDaysBefore(3, time(9, 0))
    compiled: ReminderOffset | None = WorkingDaysBefore(1, time(12, 0))

    def offset(self, kind: ReminderKind) -> ReminderOffset | None:
        return {
            ReminderKind.AGENDA: self.agenda,
            ReminderKind.SHORT: self.short,
            ReminderKind.REPORT_NUDGE: self.report_nudge,
            ReminderKind.COMPILED: self.compiled,
        }[kind]


def due_times(occurrence: Occurrence, plan: ReminderPlan, zone: ZoneInfo) -> dict[ReminderKind, datetime]:
    """When each reminder for `occurrence` is due, as aware UTC datetimes. Counted from when the
    meeting actually starts (a moved meeting's reminders move with it). Kinds turned off, and
    kinds that would fall at or after the start, are left out."""
    begins = occurrence.start.astimezone(UTC)
    meeting_day = occurrence.start.astimezone(zone).date()
    due: dict[ReminderKind, datetime] = {}
    for kind in ReminderKind:
        offset = plan.offset(kind)
        if offset is None:
            continue
        if isinstance(offset, BeforeStart):
            moment = begins - offset.delta
        else:
            moment = at_wall_clock(working_days_before(meeting_day, offset.days), offset.at, zone)
        moment = moment.astimezone(UTC)
        if moment < begins:
            due[kind] = moment
    return due


Timeliness = Literal["on_time", "late", "missed"]

ON_TIME_GRACE = timedelta(minutes=5)


def downtime_policy(
    due: datetime, meeting_start: datetime, now: datetime, *, grace: timedelta = ON_TIME_GRACE
) -> Timeliness:
    """What to do with a reminder when the scheduler gets to it at `now`, possibly after the bot was
    down: "on_time" up to `grace` after it was due (a scheduler is never exactly on the second);
    "late" after that while the meeting is still ahead (posted, marked as late: an agenda read late
    is better than none); "missed" once the meeting has begun (nothing is posted)."""
    _require_aware(due, meeting_start, now)
    due, meeting_start, now = (moment.astimezone(UTC) for moment in (due, meeting_start, now))
    if now >= meeting_start:
        return "missed"
    if now <= due + grace:
        return "on_time"
    return "late"


def plan_to_json(plan: ReminderPlan) -> dict[str, dict[str, int | str] | None]:
    """A reminder plan as stored with its series: each kind as working days and a wall-clock time,
    or as minutes before the start, or None when turned off."""
    stored: dict[str, dict[str, int | str] | None] = {}
    for kind in ReminderKind:
        offset = plan.offset(kind)
        if offset is None:
            stored[kind.value] = None
        elif isinstance(offset, BeforeStart):
            stored[kind.value] = {"minutes": int(offset.delta.total_seconds() // 60)}
        else:
            stored[kind.value] = {"working_days": offset.days, "at": offset.at.strftime("%H:%M")}
    return stored


def plan_from_json(stored: Mapping[str, object] | None) -> ReminderPlan:
    """The plan `plan_to_json` wrote; kinds it does not name keep the default."""
    if not stored:
        return ReminderPlan()
    offsets: dict[str, ReminderOffset | None] = {}
    for kind in ReminderKind:
        if kind.value not in stored:
            continue
        value = stored[kind.value]
        if value is None:
            offsets[kind.value] = None
        elif isinstance(value, Mapping) and "minutes" in value:
            offsets[kind.value] = BeforeStart(timedelta(minutes=int(value["minutes"])))
        elif isinstance(value, Mapping):
            offsets[kind.value] = WorkingDaysBefore(
                int(value["working_days"]), time.fromisoformat(str(value["at"]))
            )
        else:
            raise ValueError(f"unreadable reminder offset for {kind.value}: {value!r}")
    return ReminderPlan(**offsets)


# --- The reminder plan as a coordinator fills it in ------------------------------------------

# What a coordinator may choose: working days before (with a time of day), or minutes before the
# start for the short reminder; anything outside these is refused, not clamped.
PLAN_DAYS = (0, 10)
PLAN_MINUTES = (5, 1440)
# The kinds counted from the start of the meeting; the others fall on a working day before it.
BEFORE_START_KINDS = frozenset({ReminderKind.SHORT})


def plan_field(kind: ReminderKind, part: str) -> str:
    """A form input of the plan: `part` is "on", "days", "at" or "minutes"."""
    return f"reminder_{kind.value}_{part}"


def plan_parts(kind: ReminderKind) -> tuple[str, ...]:
    return ("on", "minutes") if kind in BEFORE_START_KINDS else ("on", "days", "at")


def plan_values(plan: ReminderPlan) -> dict[str, str]:
    """A plan as the form's values. A kind turned off (or timed in a way the form does not offer)
    shows the default timing, ready to be turned on."""
    defaults = ReminderPlan()
    values: dict[str, str] = {}
    for kind in ReminderKind:
        offset = plan.offset(kind)
        values[plan_field(kind, "on")] = "false" if offset is None else "true"
        if kind in BEFORE_START_KINDS:
            if not isinstance(offset, BeforeStart):
                offset = defaults.offset(kind)
            assert isinstance(offset, BeforeStart)
            values[plan_field(kind, "minutes")] = str(int(offset.delta.total_seconds() // 60))
        else:
            if not isinstance(offset, WorkingDaysBefore):
                offset = defaults.offset(kind)
            assert isinstance(offset, WorkingDaysBefore)
            values[plan_field(kind, "days")] = str(offset.days)
            values[plan_field(kind, "at")] = offset.at.strftime("%H:%M")
    return values


@dataclass
class PlanForm:
    plan: ReminderPlan | None  # None while anything is wrong
    errors: dict[str, str]  # field -> message key
    values: dict[str, str]  # the plan as entered, cleaned, for redisplay


def _form_number(raw: Mapping[str, object], key: str) -> str:
    """A number input's value as text: Teams sends it as a string, other clients as a number."""
    value = raw.get(key)
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _form_text(raw, key)[:20]


def _whole(text: str, bounds: tuple[int, int]) -> int | None:
    """A whole number within `bounds` (both included), written as digits; else None."""
    found = re.fullmatch(r"(-?\d{1,6})(?:\.0+)?", text.strip())
    if found is None:
        return None
    number = int(found[1])
    return number if bounds[0] <= number <= bounds[1] else None


def validate_plan_form(
    raw: Mapping[str, object], *, starts: time | None, base: ReminderPlan | None = None
) -> PlanForm:
    """The reminder section of a form, checked: for each kind on or off, and its timing.

    A kind whose switch the form does not carry keeps `base`'s timing (a card drawn before the
    section existed). Nothing may fall at or after the start (`starts`, the meeting's wall-clock
    start, when known): on the meeting's own day a reminder comes before it. The nudge to report a
    lägesbild comes before the compiled picture, so that the agencies it reminds can still make
    it in."""
    base = base or ReminderPlan()
    values = plan_values(base)
    errors: dict[str, str] = {}
    offsets: dict[str, ReminderOffset | None] = {}
    for kind in ReminderKind:
        switch = plan_field(kind, "on")
        if switch not in raw:
            offsets[kind.value] = base.offset(kind)
            continue
        for part in plan_parts(kind):
            key = plan_field(kind, part)
            if key in raw:
                values[key] = _form_text(raw, key)[:20] if part in ("on", "at") else _form_number(raw, key)
        if values[switch] not in ("true", "false"):
            errors[switch] = "form.choice"
            continue
        if values[switch] == "false":
            offsets[kind.value] = None
            continue
        offsets[kind.value] = _offset(kind, values, errors, starts)
    nudge, compiled = offsets.get("report_nudge"), offsets.get("compiled")
    if (
        isinstance(nudge, WorkingDaysBefore)
        and isinstance(compiled, WorkingDaysBefore)
        and (-nudge.days, nudge.at) >= (-compiled.days, compiled.at)
    ):
        errors[plan_field(ReminderKind.REPORT_NUDGE, "days")] = "meeting.plan.nudge_after_compiled"
    if errors:
        return PlanForm(None, errors, values)
    return PlanForm(ReminderPlan(**offsets), errors, values)


def _offset(
    kind: ReminderKind, values: Mapping[str, str], errors: dict[str, str], starts: time | None
) -> ReminderOffset | None:
    """One kind's timing from the form, or None with its errors noted."""
    if kind in BEFORE_START_KINDS:
        key = plan_field(kind, "minutes")
        minutes = _whole(values[key], PLAN_MINUTES)
        if minutes is None:
            errors[key] = "meeting.plan.minutes_range" if values[key] else "form.required"
            return None
        return BeforeStart(timedelta(minutes=minutes))
    days_key, at_key = plan_field(kind, "days"), plan_field(kind, "at")
    days = _whole(values[days_key], PLAN_DAYS)
    at = parse_clock(values[at_key])
    if days is None:
        errors[days_key] = "meeting.plan.days_range" if values[days_key] else "form.required"
    if at is None:
        errors[at_key] = "meeting.form.bad_time" if values[at_key] else "form.required"
    if days is None or at is None:
        return None
    if days == 0 and starts is not None and at >= starts:
        errors[at_key] = "meeting.plan.not_before_start"
        return None
    return WorkingDaysBefore(days, at)


# --- Meetings as stored -----------------------------------------------------------------------


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"  # skipped (a holiday) or called off
    MOVED = "moved"  # held at another time than the rule gives


class HolidayChoice(StrEnum):
    SKIP = "skip"
    MOVE = "move"  # to the next working day, same wall-clock time


# How far ahead a series' meetings are stored (and reminders planned); a daily job extends it.
HORIZON = timedelta(weeks=26)
# How far ahead the coordinator is asked about holidays when a series is set up; meetings on
# holidays beyond that are skipped (nobody meets on a holiday), and can be moved one by one.
HOLIDAY_LOOKAHEAD = timedelta(days=366)
DEFAULT_TITLE = "Operativt möte"
SERIES_LIMITS = {"title": 200, "place": 200, "teams_link": 1000, "note": 1000}
# Recurrences whose first date must be the weekday they meet on: for them the first date is the
# first meeting (a monthly series' first date is only the day from which it counts).
WEEKDAY_FIRST = frozenset({Recurrence.WEEKLY, Recurrence.BIWEEKLY})
SERIES_FIELDS = (
    "title",
    "recurrence",
    "weekday",
    "first_date",
    "start_time",
    "end_time",
    "place",
    "teams_link",
)


@dataclass(frozen=True)
class SeriesDraft:
    """A valid series form."""

    title: str
    rule: SeriesRule
    place: str | None
    teams_link: str | None
    plan: ReminderPlan = ReminderPlan()


@dataclass
class SeriesForm:
    draft: SeriesDraft | None
    errors: dict[str, str]  # field -> message key
    values: dict[str, str]  # what was entered, cleaned, for redisplay
    # the day the first meeting would fall on, when the first date given is another weekday
    first_meeting: date | None = None


def _form_text(raw: Mapping[str, object], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        return ""
    kept = "".join(ch for ch in value if ch.isprintable() or ch in "\n\t").strip()
    return kept


def parse_day(typed: str) -> date | None:
    """A day typed as YYYY-MM-DD ('möte 2026-12-01'); None for anything else."""
    text = typed.strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_clock(value: str) -> time | None:
    """'09:00', '9.00', '09:00:00' (Teams sends HH:MM) → a wall-clock time; None if unreadable."""
    text = value.strip().replace(".", ":")
    try:
        parsed = time.fromisoformat(text if len(text) != 4 else "0" + text)
    except ValueError:
        return None
    return parsed.replace(second=0, microsecond=0) if parsed.tzinfo is None else None


def validate_series_form(raw: Mapping[str, object], *, today: date) -> SeriesForm:
    """Every field of the series form checked, its reminder plan too; on any error no draft, each
    problem by its field."""
    values = {key: _form_text(raw, key) for key in SERIES_FIELDS}
    errors: dict[str, str] = {}
    for key, limit in SERIES_LIMITS.items():
        if key in values and len(values[key]) > limit:
            errors[key] = "form.too_long"
            values[key] = values[key][:limit]
    if not values["title"]:
        errors["title"] = "form.required"
    recurrence = next((r for r in Recurrence if r.value == values["recurrence"]), None)
    if recurrence is None:
        errors["recurrence"] = "form.required"
    weekday = int(values["weekday"]) if values["weekday"] in {str(d) for d in range(7)} else None
    if weekday is None:
        errors["weekday"] = "form.required"
    first: date | None = None
    try:
        first = date.fromisoformat(values["first_date"])
    except ValueError:
        errors["first_date"] = "form.date" if values["first_date"] else "form.required"
    first_meeting = None
    if first is not None and first < today:
        errors["first_date"] = "meeting.form.date_past"
    elif (
        first is not None
        and weekday is not None
        and recurrence in WEEKDAY_FIRST
        and first.weekday() != weekday
    ):
        # the series would begin on the next such weekday, which the coordinator did not write
        first_meeting = first + timedelta(days=(weekday - first.weekday()) % 7)
        errors["first_date"] = "meeting.form.first_date_weekday"
    starts, ends = parse_clock(values["start_time"]), parse_clock(values["end_time"])
    for key, moment in (("start_time", starts), ("end_time", ends)):
        if moment is None:
            errors[key] = "meeting.form.bad_time" if values[key] else "form.required"
    if starts is not None and ends is not None and ends <= starts:
        errors["end_time"] = "meeting.form.end_before_start"
    if not values["place"] and not values["teams_link"]:
        errors["place"] = "meeting.form.place_or_link"
    if values["teams_link"] and not values["teams_link"].lower().startswith("https://"):
        errors["teams_link"] = "meeting.form.bad_link"
    plan = validate_plan_form(raw, starts=starts)
    errors |= plan.errors
    values |= plan.values
    if (
        errors
        or recurrence is None
        or weekday is None
        or first is None
        or starts is None
        or ends is None
        or plan.plan is None
    ):
        return SeriesForm(None, errors, values, first_meeting)
    rule = SeriesRule(recurrence, weekday, first, starts, ends)
    draft = SeriesDraft(
        values["title"], rule, values["place"] or None, values["teams_link"] or None, plan.plan
    )
    return SeriesForm(draft, errors, values)


def holiday_moves(
    rule: SeriesRule, choices: Mapping[date, HolidayChoice], zone: ZoneInfo
) -> tuple[frozenset[date], dict[date, datetime]]:
    """The coordinator's choices for the rule's holidays as the skipped days and the moved ones
    (to the next working day at the same wall-clock time) that `occurrences` takes. A holiday
    without a choice is skipped."""
    skipped: set[date] = set()
    moved: dict[date, datetime] = {}
    for day, choice in choices.items():
        if choice is HolidayChoice.MOVE:
            moved[day] = at_wall_clock(next_working_day(day), rule.start_time, zone)
        else:
            skipped.add(day)
    return frozenset(skipped), moved


# --- Changes to single meetings, as a coordinator types them --------------------------------

_DAY = r"(\d{4}-\d{2}-\d{2})"
_CLOCK = r"(\d{1,2}[:.]\d{2})"
_MOVE = re.compile(rf"^{_DAY}\s+{_DAY}(?:\s+{_CLOCK})?(?:\s+(.*))?$", re.DOTALL)
_CANCEL = re.compile(rf"^{_DAY}(?:\s+(.*))?$", re.DOTALL)
_EXTRA = re.compile(rf"^{_DAY}\s+{_CLOCK}\s*[-–]\s*{_CLOCK}(?:\s+(.*))?$", re.DOTALL)


class UnreadableChange(ValueError):
    """What was typed is not a change; `key` is the message that says how to write it."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class MoveRequest:
    """Move the meeting held on `day` to `new_day`, at `new_time` (None: the same wall-clock time)."""

    day: date
    new_day: date
    new_time: time | None
    note: str | None


@dataclass(frozen=True)
class CancelRequest:
    day: date
    note: str  # why: it goes out to the forum, so it is required


@dataclass(frozen=True)
class ExtraRequest:
    """A meeting outside the series, from `start` to `end` wall-clock on `day`."""

    day: date
    start: time
    end: time
    place: str | None


def _day(value: str, usage: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UnreadableChange(usage) from None


def _clock(value: str, usage: str) -> time:
    parsed = parse_clock(value)
    if parsed is None:
        raise UnreadableChange(usage)
    return parsed


def parse_note(value: str | None, *, today: date) -> str | None:
    """A note for the forum: every agency reads it, so no personal identity numbers."""
    note = " ".join((value or "").split())
    if not note:
        return None
    if len(note) > SERIES_LIMITS["note"]:
        raise UnreadableChange("meeting.change.note_too_long")
    if find_personal_numbers(note, today):
        raise UnreadableChange("form.personal_number")
    return note


def parse_move(typed: str, *, today: date) -> MoveRequest:
    """'2026-12-01 2026-12-03 10:00 Lokalen är upptagen' (the time and the note may be left out)."""
    usage = "meeting.change.usage.move"
    found = _MOVE.match(typed.strip())
    if found is None:
        raise UnreadableChange(usage)
    day, new_day = _day(found[1], usage), _day(found[2], usage)
    new_time = _clock(found[3], usage) if found[3] else None
    return MoveRequest(day, new_day, new_time, parse_note(found[4], today=today))


def parse_cancel(typed: str, *, today: date) -> CancelRequest:
    """'2026-12-01 Krockar med länsstyrelsens tillsynsdag': the day and why."""
    usage = "meeting.change.usage.cancel"
    found = _CANCEL.match(typed.strip())
    if found is None:
        raise UnreadableChange(usage)
    day = _day(found[1], usage)
    note = parse_note(found[2], today=today)
    if note is None:
        raise UnreadableChange("meeting.change.reason_needed")
    return CancelRequest(day, note)


def parse_extra(typed: str, *, today: date) -> ExtraRequest:
    """'2026-12-10 13:00-14:00 Stadshuset, rum 3' (the place may be left out)."""
    usage = "meeting.change.usage.extra"
    found = _EXTRA.match(typed.strip())
    if found is None:
        raise UnreadableChange(usage)
    start, end = _clock(found[2], usage), _clock(found[3], usage)
    if end <= start:
        raise UnreadableChange("meeting.form.end_before_start")
    place = parse_note(found[4], today=today)
    if place is not None and len(place) > SERIES_LIMITS["place"]:
        raise UnreadableChange("meeting.change.note_too_long")
    return ExtraRequest(_day(found[1], usage), start, end, place)
