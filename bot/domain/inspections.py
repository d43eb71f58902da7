"""Joint inspections (samordnad tillsyn): the booking form's rules, the numbering, the conflicts a
coordinator is warned of before booking, and each participating agency's answer. Plain Python, no
I/O.

An inspection is booked by a coordinator, from an accepted proposal or from scratch. Each
participating agency then answers for its part: it confirms (naming who comes), declines (with a
reason) or proposes another time. The booking is `booked` until every agency has confirmed
(`confirmed`); a cancelled one is `cancelled`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.forms import cut_to_limits, form_text, org_number_field
from bot.domain.identity import OrgNumber, find_personal_numbers
from bot.domain.meetings import holiday_name, is_working_day, working_days_before
from bot.domain.visibility import Audience, Visibility

ITEM = "inspection"

# Working hours: a start before 07.00 or an end after 18.00 (or a weekend or holiday) asks first.
WORKDAY_START = time(7, 0)
WORKDAY_END = time(18, 0)
# the longest an inspection may last on one booking
LONGEST = timedelta(hours=12)

LIMITS = {
    "name": 200,
    "org_number": 20,
    "address": 300,
    "meeting_point": 200,
    "note": 1000,
    "who": 200,
    "reason": 500,
}
# free text that other agencies read: a personal identity number may not be typed into it
FREE_TEXT = ("name", "address", "meeting_point")


class Status(StrEnum):
    BOOKED = "booked"  # waiting for the agencies' answers
    CONFIRMED = "confirmed"  # every participating agency has confirmed
    CANCELLED = "cancelled"
    DONE = "done"  # every agency taking part has recorded its outcome, or a coordinator closed it


class PartState(StrEnum):
    ASKED = "asked"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    OTHER_TIME = "other_time"  # proposed another time


def inspection_number(year: int, sequence: int) -> str:
    return f"T-{year}-{sequence:04d}"


_NUMBER = re.compile(r"T-([0-9]{4})-([0-9]{1,6})")


def parse_inspection_number(text: str) -> tuple[int, int] | None:
    """(year, sequence) of a number such as `T-2026-0007`, anywhere in `text`."""
    found = _NUMBER.search(text.upper())
    return (int(found.group(1)), int(found.group(2))) if found else None


@dataclass(frozen=True)
class InspectionDraft:
    """A valid booking form."""

    name: str
    org_number: OrgNumber | None
    address: str
    starts_at: datetime  # aware
    ends_at: datetime
    meeting_point: str
    lead_agency_id: int
    agency_ids: tuple[int, ...]  # the participating agencies, the lead first
    notes: dict[int, str]  # a note per agency, by agency id
    visibility: Visibility

    def audience(self, booker_agency_id: int) -> Audience:
        return inspection_audience(self.visibility, booker_agency_id, self.agency_ids)


def inspection_audience(
    visibility: Visibility | str, booker_agency_id: int, agency_ids: Iterable[int]
) -> Audience:
    """Who may see an inspection: its participating agencies (and the booker's) at the narrowest,
    since each must answer for its part, or the whole forum."""
    chosen = Visibility.FORUM if Visibility(visibility) is Visibility.FORUM else Visibility.AGENCIES
    return Audience.of(chosen, booker_agency_id, agency_ids)


@dataclass
class BookingForm:
    draft: InspectionDraft | None
    errors: dict[str, str] = field(default_factory=dict)  # field -> message key
    values: dict[str, str] = field(default_factory=dict)  # what was typed, cleaned, for redisplay
    # what needs an explicit yes before booking: "off_hours", "holiday" (with its name), "weekend"
    asks: dict[str, str] = field(default_factory=dict)


FIELDS = (
    "name",
    "org_number",
    "address",
    "date",
    "start_time",
    "end_time",
    "meeting_point",
    "lead_agency",
    "agencies",
    "visibility",
)


def note_field(code: str) -> str:
    return f"note_{code}"


def _time(value: str) -> time | None:
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(second=0, microsecond=0)


def check_times(
    values: Mapping[str, str], *, now: datetime, zone: ZoneInfo
) -> tuple[dict[str, str], datetime | None, datetime | None, dict[str, str]]:
    """The day and the start and end times of `values` ("date", "start_time", "end_time"): the
    errors by field, the start and end (None unless valid), and what needs a yes first (a time
    outside working hours, a weekend, a holiday with its name)."""
    errors: dict[str, str] = {}
    for key in ("date", "start_time", "end_time"):
        if not values.get(key):
            errors[key] = "form.required"
    day = None
    if values.get("date"):
        try:
            day = date.fromisoformat(values["date"])
        except ValueError:
            errors["date"] = "form.date"
    start = _time(values["start_time"]) if values.get("start_time") else None
    end = _time(values["end_time"]) if values.get("end_time") else None
    if values.get("start_time") and start is None:
        errors["start_time"] = "form.time"
    if values.get("end_time") and end is None:
        errors["end_time"] = "form.time"
    if not (day and start and end):
        return errors, None, None, {}
    starts_at = datetime.combine(day, start, tzinfo=zone)
    ends_at = datetime.combine(day, end, tzinfo=zone)
    if ends_at <= starts_at:
        errors["end_time"] = "inspection.form.end_before_start"
    elif ends_at - starts_at > LONGEST:
        errors["end_time"] = "inspection.form.too_long"
    if starts_at <= now:
        errors["date"] = "inspection.form.past"
    if errors:
        return errors, None, None, {}
    asks: dict[str, str] = {}
    holiday = holiday_name(day)
    if holiday:
        asks["holiday"] = holiday
    elif not is_working_day(day):
        asks["weekend"] = ""
    if start < WORKDAY_START or end > WORKDAY_END:
        asks["off_hours"] = ""
    return errors, starts_at, ends_at, asks


def validate_booking(
    raw: Mapping[str, Any],
    *,
    booker_agency_id: int,
    agency_ids_by_code: Mapping[str, int],
    now: datetime,
    zone: ZoneInfo,
) -> BookingForm:
    """Check every field; on any error, no draft, and each problem keyed to its field. A valid
    form may still need a yes (`asks`) for a time outside working hours, a weekend or a holiday."""
    codes_known = list(agency_ids_by_code)
    values = {key: form_text(raw, key) for key in FIELDS}
    values.update({note_field(code): form_text(raw, note_field(code)) for code in codes_known})
    errors: dict[str, str] = {}
    for key in ("name", "address", "lead_agency"):
        if not values[key]:
            errors[key] = "form.required"
    cut_to_limits(values, errors, {**LIMITS, **{note_field(code): LIMITS["note"] for code in codes_known}})
    org = org_number_field(values, errors, now.astimezone(zone).date())

    time_errors, starts_at, ends_at, asks = check_times(values, now=now, zone=zone)
    errors.update({key: value for key, value in time_errors.items() if key not in errors})

    lead = values["lead_agency"]
    if lead and lead not in agency_ids_by_code:
        errors["lead_agency"] = "form.agencies_unknown"
    codes = [code.strip() for code in values["agencies"].split(",") if code.strip()]
    if lead:
        codes = [lead, *codes]
    unknown = [code for code in codes if code not in agency_ids_by_code]
    agency_ids = tuple(dict.fromkeys(agency_ids_by_code[c] for c in codes if c in agency_ids_by_code))
    if unknown and "lead_agency" not in errors:
        errors["agencies"] = "form.agencies_unknown"
    elif len(agency_ids) < 2 and "lead_agency" not in errors:
        errors["agencies"] = "inspection.form.agencies_two"

    visibility_value = values["visibility"] or Visibility.AGENCIES.value
    if visibility_value not in (Visibility.AGENCIES.value, Visibility.FORUM.value):
        errors["visibility"] = "form.choice"
    # the participating agencies read every field and their notes, whatever the visibility: no
    # personal identity number in any of them
    texts = {key: values[key] for key in FREE_TEXT}
    texts.update({key: value for key, value in values.items() if key.startswith("note_")})
    for key, value in texts.items():
        if value and find_personal_numbers(value):
            errors[key] = "form.personal_number"

    if errors or starts_at is None or ends_at is None:
        return BookingForm(None, errors, values)
    by_id = {agency_id: code for code, agency_id in agency_ids_by_code.items()}
    notes = {
        agency_id: values[note_field(by_id[agency_id])]
        for agency_id in agency_ids
        if values.get(note_field(by_id[agency_id]))
    }
    draft = InspectionDraft(
        name=values["name"],
        org_number=org,
        address=values["address"],
        starts_at=starts_at,
        ends_at=ends_at,
        meeting_point=values["meeting_point"],
        lead_agency_id=agency_ids[0],
        agency_ids=agency_ids,
        notes=notes,
        visibility=Visibility(visibility_value),
    )
    return BookingForm(draft, {}, values, asks)


# Conflicts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Booked:
    """Another inspection, as far as the conflict check needs it."""

    id: int
    number: str
    starts_at: datetime
    ends_at: datetime
    agency_ids: tuple[int, ...]
    org_number: str | None
    name: str
    address: str
    status: Status


@dataclass(frozen=True)
class Conflict:
    kind: str  # "overlap" (an agency is busy) | "recent" (the business was inspected lately)
    other: Booked
    agency_ids: tuple[int, ...] = ()  # the agencies busy, for an overlap


def _same_business(draft: InspectionDraft, other: Booked) -> bool:
    if draft.org_number is not None and other.org_number:
        return draft.org_number.normalized == other.org_number
    return _plain(draft.name) == _plain(other.name) and _plain(draft.address) == _plain(other.address)


def _plain(text: str) -> str:
    return " ".join(text.casefold().split())


def conflicts(draft: InspectionDraft, others: Iterable[Booked], *, recent_months: int) -> list[Conflict]:
    """What the coordinator is warned of: a participating agency already in another joint
    inspection at an overlapping time, and the same business (by organisation number, or by name
    and address) jointly inspected within `recent_months` before this one. Cancelled ones count
    for neither. The caller passes only what the coordinator may see."""
    found: list[Conflict] = []
    since = draft.starts_at - timedelta(days=round(30.44 * recent_months))
    for other in others:
        if other.status is Status.CANCELLED:
            continue
        if other.starts_at < draft.ends_at and draft.starts_at < other.ends_at:
            busy = tuple(a for a in draft.agency_ids if a in other.agency_ids)
            if busy:
                found.append(Conflict("overlap", other, busy))
                continue
        if since <= other.starts_at <= draft.starts_at and _same_business(draft, other):
            found.append(Conflict("recent", other))
    return found


# Answers ------------------------------------------------------------------------------------


def overall_status(parts: Sequence[PartState], cancelled: bool = False) -> Status:
    if cancelled:
        return Status.CANCELLED
    return Status.CONFIRMED if parts and all(p is PartState.CONFIRMED for p in parts) else Status.BOOKED


class Outcome(StrEnum):
    DONE = "done"
    NOT_DONE = "not_done"


def all_answered(parts: Sequence[PartState]) -> bool:
    return all(p is not PartState.ASKED for p in parts)


# Reminders ----------------------------------------------------------------------------------

DAY_BEFORE = "inspection.reminder.day_before"
SOON = "inspection.reminder.soon"
REMINDERS = (DAY_BEFORE, SOON)
DAY_BEFORE_AT = time(9, 0)
SOON_BEFORE = timedelta(hours=2)


def reminder_times(starts_at: datetime, zone: ZoneInfo) -> dict[str, datetime]:
    """When the participants are reminded: at 09.00 on the working day before the inspection, and
    two hours before it starts."""
    day = working_days_before(starts_at.astimezone(zone).date(), 1)
    return {
        DAY_BEFORE: datetime.combine(day, DAY_BEFORE_AT, tzinfo=zone),
        SOON: starts_at - SOON_BEFORE,
    }
