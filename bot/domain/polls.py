"""Quick polls: the form's rules, who may vote, ballots and their keys, and the tally. Plain
Python, no I/O.

A poll asks the forum (every member, in the forum channel) or one agency (its members, in their
personal chats). One ballot per member and poll: a named poll keys it by the member, an anonymous
one by an HMAC of the member's id under a secret of the poll's own, which is destroyed when the
poll closes; from then on no key can be traced back to a member.

An attendance poll is a poll of its own kind, one per meeting: "Kommer du?", asked of the whole
forum, named, open until the meeting starts; "Skickar ersättare" carries the substitute's name.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.identity import find_personal_numbers
from bot.domain.meetings import at_wall_clock, parse_clock
from bot.domain.text import clean_text, spreadsheet_text
from bot.domain.visibility import Audience, Viewer, Visibility


class PollStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PollKind(StrEnum):
    QUICK = "quick"  # made from the form by a coordinator (or a member)
    ATTENDANCE = "attendance"  # made by the bot for a meeting


# a poll's cards are about this item; it closes by this task of the schedule
ITEM = "poll"
CLOSE_TASK = "poll.close"


MIN_OPTIONS, MAX_OPTIONS = 2, 10
LIMITS = {"question": 300, "option": 120}
# the form's inputs; options are typed one a line
FIELDS = (
    "question",
    "options",
    "multiple",
    "anonymous",
    "results",
    "deadline_date",
    "deadline_time",
    "audience",
)
FORUM = "forum"  # the audience value of a poll for every member; else an agency's code
SECRET_BYTES = 32
_LIST_MARK = re.compile(r"^(?:[-*•]|\d{1,2}[.)])\s+")


@dataclass(frozen=True)
class PollDraft:
    """A valid poll form."""

    question: str
    options: tuple[str, ...]
    multiple: bool
    anonymous: bool
    live: bool  # results shown while open; else only once it closes
    deadline: datetime
    agency_code: str | None  # None: the whole forum


@dataclass
class PollForm:
    draft: PollDraft | None
    errors: dict[str, str] = field(default_factory=dict)  # field -> message key
    values: dict[str, str] = field(default_factory=dict)  # what was entered, cleaned, for redisplay


def split_options(text: str) -> list[str]:
    """One option a line; blank lines and list marks ('-', '*', '•', '1.', '2)') dropped."""
    found = []
    for line in text.splitlines():
        cleaned = _LIST_MARK.sub("", " ".join(line.split()))
        if cleaned:
            found.append(cleaned)
    return found


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return clean_text(value) if isinstance(value, str) else ""


def _flag(values: dict[str, str], errors: dict[str, str], key: str, yes: str, no: str) -> bool:
    value = values[key] or no
    if value not in (yes, no):
        errors[key] = "form.choice"
    values[key] = value
    return value == yes


def validate_poll_form(
    raw: Mapping[str, Any],
    *,
    now: datetime,
    zone: ZoneInfo,
    agency_codes: Iterable[str],
) -> PollForm:
    """Every field of the poll form checked; on any error no draft, each problem by its field.
    Whoever the poll asks, another agency reads it: no personal identity numbers in its texts."""
    values = {key: _text(raw, key) for key in FIELDS}
    errors: dict[str, str] = {}
    today = now.astimezone(zone).date()
    question = " ".join(values["question"].split())
    if not question:
        errors["question"] = "form.required"
    elif len(question) > LIMITS["question"]:
        errors["question"] = "form.too_long"
    elif find_personal_numbers(question, today):
        errors["question"] = "form.personal_number"

    options = split_options(values["options"])
    if len(options) < MIN_OPTIONS or len(options) > MAX_OPTIONS:
        errors["options"] = "poll.form.options_count"
    elif any(len(option) > LIMITS["option"] for option in options):
        errors["options"] = "poll.form.option_too_long"
    elif len({option.casefold() for option in options}) != len(options):
        errors["options"] = "poll.form.options_twice"
    elif any(find_personal_numbers(option, today) for option in options):
        errors["options"] = "form.personal_number"

    multiple = _flag(values, errors, "multiple", "multiple", "single")
    anonymous = _flag(values, errors, "anonymous", "anonymous", "named")
    live = _flag(values, errors, "results", "live", "at_close")

    deadline = None
    day = _date(values["deadline_date"])
    at = parse_clock(values["deadline_time"]) if values["deadline_time"] else None
    if day is None:
        errors["deadline_date"] = "form.required" if not values["deadline_date"] else "form.date"
    if at is None:
        errors["deadline_time"] = "form.required" if not values["deadline_time"] else "meeting.form.bad_time"
    if day is not None and at is not None:
        deadline = at_wall_clock(day, at, zone)
        if deadline <= now:
            errors["deadline_date"] = "poll.form.deadline_past"

    codes = set(agency_codes)
    audience = values["audience"] or FORUM
    values["audience"] = audience
    if audience != FORUM and audience not in codes:
        errors["audience"] = "form.choice"

    if errors or deadline is None:
        return PollForm(None, errors, values)
    draft = PollDraft(
        question=question,
        options=tuple(options),
        multiple=multiple,
        anonymous=anonymous,
        live=live,
        deadline=deadline,
        agency_code=None if audience == FORUM else audience,
    )
    return PollForm(draft, {}, values)


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if len(value.strip()) == 10 else None
    except ValueError:
        return None


def default_deadline_fields(deadline: datetime | None, zone: ZoneInfo) -> dict[str, str]:
    """The form's deadline prefilled: the start of the next meeting, as the forum's clock shows it."""
    if deadline is None:
        return {}
    local = deadline.astimezone(zone)
    return {"deadline_date": local.date().isoformat(), "deadline_time": local.strftime("%H:%M")}


# Who sees and who votes ---------------------------------------------------------------------


def poll_audience(agency_id: int | None, creator_id: int | None, creator_agency_id: int) -> Audience:
    """Who may see a poll: every member, or one agency's; and whoever made it, to follow it (the
    bot makes attendance polls)."""
    readers = (creator_id,) if creator_id is not None else ()
    if agency_id is None:
        return Audience.of(Visibility.FORUM, creator_agency_id, readers=readers)
    return Audience.of(Visibility.AGENCY, agency_id, readers=readers)


def may_vote(viewer: Viewer | None, agency_id: int | None) -> bool:
    """An approved member of the poll's audience: every member, or the asked agency's members.
    Having made the poll does not give a vote in another agency's poll."""
    if viewer is None or not viewer.approved:
        return False
    return agency_id is None or viewer.agency_id == agency_id


def nudge_time(deadline: datetime, now: datetime, hours: float) -> datetime | None:
    """When the members who have not answered are reminded: `hours` before the deadline; None
    when that is turned off (0) or already past."""
    if hours <= 0:
        return None
    moment = deadline - timedelta(hours=hours)
    return moment if moment > now else None


# Ballots -------------------------------------------------------------------------------------


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def voter_key(secret: bytes, member_id: int) -> str:
    """An anonymous ballot's key: the same for the same member while the secret lives, and once it
    is gone, not to be traced to anyone."""
    return hmac.new(secret, f"member:{member_id}".encode(), hashlib.sha256).hexdigest()


def named_key(member_id: int) -> str:
    return f"member:{member_id}"


def mask_of(positions: Iterable[int]) -> int:
    mask = 0
    for position in positions:
        mask |= 1 << position
    return mask


def positions_of(mask: int) -> frozenset[int]:
    return frozenset(i for i in range(MAX_OPTIONS) if mask & (1 << i))


def parse_choice(choices: str | None, *, count: int, multiple: bool) -> frozenset[int] | None:
    """What a press on the card chose: the options ticked ('2', or '0,2' on a multiple-choice
    poll). None for what the card cannot have sent: an option that does not exist, several on a
    single-choice poll, or nothing at all."""
    if choices is None:
        return None
    parts = [part.strip() for part in choices.split(",") if part.strip()]
    if not parts or not all(part.isascii() and part.isdigit() and len(part) <= 2 for part in parts):
        return None
    chosen = {int(part) for part in parts}
    if any(not 0 <= position < count for position in chosen):
        return None
    if not multiple and len(chosen) != 1:
        return None
    return frozenset(chosen)


def tally(masks: Iterable[int], count: int) -> list[int]:
    """Votes per option, from the ballots' masks."""
    votes = [0] * count
    for mask in masks:
        for position in positions_of(mask):
            if position < count:
                votes[position] += 1
    return votes


# The results as a file -------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvLabels:
    """The file's column names and lines, in the reader's language."""

    option: str
    votes: str
    share: str
    answered: str  # 'Har svarat' with the count beside it
    eligible: str
    name: str
    agency: str
    answer: str


def results_csv(
    labels: CsvLabels,
    question: str,
    options: Iterable[str],
    votes: list[int],
    answered: int,
    eligible: int,
    voters: Iterable[tuple[str, str, frozenset[int]]] = (),
) -> bytes:
    """The results as CSV for Excel in Sweden: UTF-8 with a BOM (or Excel guesses the encoding
    wrong), `;` between cells (the decimal comma's list separator), CRLF line ends. A named
    poll's voters follow, each with their agency and answers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    names = list(options)
    writer.writerow([spreadsheet_text(question)])
    writer.writerow([labels.answered, answered])
    writer.writerow([labels.eligible, eligible])
    writer.writerow([])
    writer.writerow([labels.option, labels.votes, labels.share])
    for option, count in zip(names, votes, strict=False):
        share = f"{100 * count / answered:.0f} %" if answered else ""
        writer.writerow([spreadsheet_text(option), count, share])
    listed = list(voters)
    if listed:
        writer.writerow([])
        writer.writerow([labels.name, labels.agency, labels.answer])
        for name, agency, chosen in listed:
            answer = ", ".join(names[i] for i in sorted(chosen) if i < len(names))
            writer.writerow([spreadsheet_text(name), spreadsheet_text(agency), spreadsheet_text(answer)])
    return buffer.getvalue().encode("utf-8-sig")


# Attendance ------------------------------------------------------------------------------------


class Attendance(StrEnum):
    """The answers of an attendance poll, in the card's order (an option's position is its index)."""

    YES = "yes"
    NO = "no"
    MAYBE = "maybe"
    SUBSTITUTE = "substitute"  # the member cannot come and sends someone in their place

    @property
    def position(self) -> int:
        return list(Attendance).index(self)

    @classmethod
    def at(cls, position: int) -> Attendance:
        return list(cls)[position]


SUBSTITUTE_LIMIT = 100


def check_substitute(answer: Attendance, raw: str | None, today: date) -> tuple[str | None, str | None]:
    """The substitute's name an answer carries, and else why not (a message key). Only "Skickar
    ersättare" has one, and needs it; the coordinators of every agency read it, so it carries no
    personal identity number, and it is short. Whatever another answer came with is dropped."""
    if answer is not Attendance.SUBSTITUTE:
        return None, None
    name = " ".join(clean_text(raw or "").split())
    if not name:
        return None, "poll.attendance.name_required"
    if len(name) > SUBSTITUTE_LIMIT:
        return None, "poll.attendance.name_too_long"
    if find_personal_numbers(name, today):
        return None, "form.personal_number"
    return name, None


def answer_of(mask: int) -> Attendance | None:
    """An attendance ballot's answer, from its choices; None for what is no single answer."""
    chosen = positions_of(mask)
    if len(chosen) != 1:
        return None
    (position,) = chosen
    return Attendance.at(position) if position < len(Attendance) else None


@dataclass(frozen=True)
class Coming:
    """Who comes to a meeting, as far as its attendance poll says: each "Ja" and each substitute
    sent (one person in the member's place), and from how many agencies."""

    people: int
    agencies: int


def coming(answers: Iterable[tuple[int, Attendance]]) -> Coming:
    """From (agency id, answer) per member who answered."""
    people, agencies = 0, set()
    for agency_id, answer in answers:
        if answer in (Attendance.YES, Attendance.SUBSTITUTE):
            people += 1
            agencies.add(agency_id)
    return Coming(people, len(agencies))
