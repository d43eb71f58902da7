"""Follow-up: the period a report covers, the figures it holds, and the rules that count them.

A report counts only what its level may see (`Level`: an agency's members', or every member's).
The database counts (bot.storage.followup), with the visibility rule stated in SQL; `Level.sees`
is the same rule through `can_see`, against which the tests hold the SQL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.visibility import Audience, Viewer, Visibility, can_see

MAX_DAYS = 5 * 366 + 1  # a report covers at most five years
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a period may fall in
NO_INDUSTRY = ""  # an inspection booked from scratch: no proposal, so no industry


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"


@dataclass(frozen=True)
class Period:
    """The local days `start` to `end`, both included."""

    start: date
    end: date
    kind: PeriodKind = PeriodKind.RANGE

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def months(self) -> list[date]:
        """The first day of each month the period touches."""
        first = self.start.replace(day=1)
        found = []
        while first <= self.end:
            found.append(first)
            first = (first + timedelta(days=32)).replace(day=1)
        return found

    def previous(self) -> Period:
        """The period as long just before this one (a month's month, a quarter's quarter)."""
        if self.kind is PeriodKind.MONTH:
            return month_of(self.start - timedelta(days=1))
        if self.kind is PeriodKind.QUARTER:
            return quarter_of(self.start - timedelta(days=1))
        if self.kind is PeriodKind.YEAR:
            return year_of(self.start.year - 1)
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def following(self) -> Period:
        """The period as long just after this one."""
        if self.kind is PeriodKind.MONTH:
            return month_of(self.end + timedelta(days=1))
        if self.kind is PeriodKind.QUARTER:
            return quarter_of(self.end + timedelta(days=1))
        if self.kind is PeriodKind.YEAR:
            return year_of(self.start.year + 1)
        return Period(self.end + timedelta(days=1), self.end + timedelta(days=self.days))

    def as_id(self) -> int:
        """The period as one number (for a file link): both days' ordinals and the kind."""
        kinds = list(PeriodKind)
        return ((self.start.toordinal() << 21) | self.end.toordinal()) << 2 | kinds.index(self.kind)

    @classmethod
    def from_id(cls, value: int) -> Period:
        kind = list(PeriodKind)[value & 3]
        value >>= 2
        end, start = value & ((1 << 21) - 1), value >> 21
        if not (_ORDINALS[0] <= start <= end <= _ORDINALS[1]):
            raise ValueError("not a period")
        period = cls(date.fromordinal(start), date.fromordinal(end), kind)
        named = {
            PeriodKind.MONTH: month_of,
            PeriodKind.QUARTER: quarter_of,
            PeriodKind.YEAR: lambda day: year_of(day.year),
        }.get(kind)
        if period.days > MAX_DAYS or (named is not None and named(period.start) != period):
            raise ValueError("not a period")  # a month that is no calendar month, say
        return period


_ORDINALS = (date(FIRST_YEAR, 1, 1).toordinal(), date(LAST_YEAR, 12, 31).toordinal())


def _in_range(period: Period) -> Period:
    if period.start.year < FIRST_YEAR or period.end.year > LAST_YEAR:
        raise PeriodError("followup.period.years")
    return period


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Period(first, last, PeriodKind.MONTH)


def quarter_of(day: date) -> Period:
    return quarter(day.year, (day.month - 1) // 3 + 1)


def quarter(year: int, number: int) -> Period:
    return Period(date(year, 3 * number - 2, 1), month_of(date(year, 3 * number, 1)).end, PeriodKind.QUARTER)


def year_of(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), PeriodKind.YEAR)


class PeriodError(ValueError):
    """What was typed is not a period; the message is a message key."""


_DAY = r"(\d{4}-\d{2}-\d{2})"
_RANGE = re.compile(rf"^(?:från\s+|from\s+)?{_DAY}\s*(?:–|—|-|\.\.|till|to|tom|t\.o\.m\.)?\s*{_DAY}$")
_QUARTER = re.compile(r"^(?:q|k|kv|kvartal|quarter)\s*([1-4])(?:\s+|\s*[-/]\s*)?(\d{4})?$")
_QUARTER_AFTER = re.compile(r"^(\d{4})\s*[-/ ]?\s*(?:q|k|kv)([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(?:år\s+|year\s+)?(\d{4})$")
_WORDS = {
    PeriodKind.MONTH: {
        "": ("månad", "denna månad", "den här månaden", "this month", "month"),
        "last": ("förra månaden", "förra månad", "last month"),
    },
    PeriodKind.QUARTER: {
        "": ("kvartal", "detta kvartal", "det här kvartalet", "this quarter", "quarter"),
        "last": ("förra kvartalet", "förra kvartal", "last quarter"),
    },
    PeriodKind.YEAR: {
        "": ("år", "i år", "detta år", "this year", "year"),
        "last": ("förra året", "i fjol", "last year"),
    },
}


def parse_period(text: str, today: date) -> Period:
    """The period `text` names, relative to `today` (the forum's local day): empty for this
    quarter; `denna månad`, `förra månaden`, `kvartal`, `förra kvartalet`, `i år`, `förra året`
    (or the English); `Q3 2026` (or `K3`, `Q3` this year); `2026-05`; `2026`; or two dates
    `2026-01-01 – 2026-03-31`. Raises PeriodError with a message key."""
    return _in_range(_parse(" ".join(text.strip().lower().split()), today))


def _parse(words: str, today: date) -> Period:
    if not words:
        return quarter_of(today)
    for kind, phrases in _WORDS.items():
        for which, spelled in phrases.items():
            if words in spelled:
                current = {
                    PeriodKind.MONTH: month_of(today),
                    PeriodKind.QUARTER: quarter_of(today),
                    PeriodKind.YEAR: year_of(today.year),
                }[kind]
                return current.previous() if which == "last" else current
    try:
        if found := _QUARTER.match(words):
            return quarter(int(found.group(2) or today.year), int(found.group(1)))
        if found := _QUARTER_AFTER.match(words):
            return quarter(int(found.group(1)), int(found.group(2)))
        if found := _MONTH.match(words):
            return month_of(date(int(found.group(1)), int(found.group(2)), 1))
        if found := _YEAR.match(words):
            return year_of(int(found.group(1)))
        if found := _RANGE.match(words):
            return check_range(date.fromisoformat(found.group(1)), date.fromisoformat(found.group(2)))
    except PeriodError:
        raise
    except (ValueError, OverflowError):  # a month 13, a 30 February, a year 0 or 10000
        raise PeriodError("followup.period.bad_date") from None
    raise PeriodError("followup.period.unknown")


def check_range(start: date, end: date) -> Period:
    """A period from two dates (the command line's --from and --to)."""
    if end < start:
        raise PeriodError("followup.period.backwards")
    period = _in_range(Period(start, end))
    if period.days > MAX_DAYS:
        raise PeriodError("followup.period.too_long")
    return period


# Who reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """Whose report: an agency's members' (`agency_id`), or the forum's (what every member may see:
    forum-wide items only). The items counted have no readers beyond their agencies."""

    agency_id: int | None = None

    @property
    def forum(self) -> bool:
        return self.agency_id is None

    def sees(self, audience: Audience) -> bool:
        if self.agency_id is None:
            return audience.visibility is Visibility.FORUM
        return can_see(Viewer(-1, self.agency_id, True), audience)


# The figures -------------------------------------------------------------------------------------


@dataclass
class Figures:
    """A report's figures, each counting only what its level may see.

    Proposals: each made in the period, and each decision (accepted, rejected, withdrawn) taken in
    it, by industry and by the proposing agency. Inspections: booked in the period (by when they
    were booked); done and cancelled (by when they were to take place); the agencies that took
    part in those done; findings and measures of the outcomes recorded for those done. Meetings
    held in the period (not cancelled, begun by `as_of`), the agencies that reported their status
    before them, and who came as their attendance polls say.
    """

    period: Period
    proposals: Counter[str] = field(default_factory=Counter)  # made | accepted | rejected | withdrawn
    by_industry: dict[str, Counter[str]] = field(default_factory=dict)
    by_agency: dict[int, Counter[str]] = field(default_factory=dict)
    proposals_per_month: Counter[date] = field(default_factory=Counter)
    inspections: Counter[str] = field(default_factory=Counter)  # booked | done | cancelled
    inspections_per_month: Counter[date] = field(default_factory=Counter)  # done, by month
    taking_part: Counter[int] = field(default_factory=Counter)  # agency -> inspections done
    findings: Counter[str] = field(default_factory=Counter)
    measures: Counter[str] = field(default_factory=Counter)
    findings_by_industry: Counter[str] = field(default_factory=Counter)
    days_to_inspection: Counter[int] = field(default_factory=Counter)  # days -> inspections
    meetings: list[MeetingFigures] = field(default_factory=list)

    @property
    def median_days(self) -> float | None:
        return median(self.days_to_inspection)

    @property
    def meetings_held(self) -> int:
        return len(self.meetings)


@dataclass(frozen=True)
class MeetingFigures:
    meeting_id: int
    day: date
    reported: frozenset[int]  # agencies whose status report was submitted
    coming: int  # people who said they would come (or sent a substitute)
    coming_agencies: int


def median(histogram: Mapping[int, int]) -> float | None:
    """The median of values given as value -> how many times; None when there are none."""
    total = sum(histogram.values())
    if total == 0:
        return None
    ordered = sorted((value, count) for value, count in histogram.items() if count > 0)

    def at(index: int) -> int:
        seen = 0
        for value, count in ordered:
            seen += count
            if index < seen:
                return value
        raise IndexError(index)  # pragma: no cover - index < total

    if total % 2:
        return float(at(total // 2))
    return (at(total // 2 - 1) + at(total // 2)) / 2
