"""Swedish identity numbers: organisation numbers, personal identity and coordination numbers.

Parsers raise `IdentityNumberError` carrying a `Reason` code; the texts users read live in
the message catalogues. Personal numbers must never reach a forum channel, so every value
that identifies a person has a `masked` form and a repr that does not show its digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

# Hyphens that word processors and phones put in pasted text; all mean "-".
_DASHES = "\u2010\u2011\u2012\u2013\u2212"
_TO_HYPHEN = str.maketrans(dict.fromkeys(_DASHES, "-"))
_SEP = rf"[-+{_DASHES}]"
# ASCII digits only: `\d` would also accept digits from other scripts.
_NUMBER = rf"(?P<prefix>[0-9]{{2}})?(?P<head>[0-9]{{6}})(?P<sep>{_SEP}?)(?P<tail>[0-9]{{4}})"
_FORM = re.compile(_NUMBER)
# In free text the lookarounds use `\d` so that a number inside any longer digit run is left alone.
_IN_TEXT = re.compile(rf"(?<!\d){_NUMBER}(?!\d)")

_CENTURIES = ("18", "19", "20")
_LEGAL_PERSON_PREFIX = "16"
_COORDINATION_DAY_OFFSET = 60


class Reason(StrEnum):
    """Why a number was rejected; message catalogues map these to user texts."""

    FORMAT = "format"  # wrong length, characters or separator
    PREFIX = "prefix"  # the two digits before a 10-digit number are not allowed here
    CHECK_DIGIT = "check_digit"
    DATE = "date"  # not a valid (coordination) date
    LEGAL_PERSON = "legal_person"  # an organisation number where a personal number was expected


class IdentityNumberError(ValueError):
    """A number that could not be parsed, with a machine-readable `reason`."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


class PersonalNumberKind(StrEnum):
    PERSONNUMMER = "personnummer"
    SAMORDNINGSNUMMER = "samordningsnummer"  # coordination number: birth day + 60


class OrgKind(StrEnum):
    LEGAL_PERSON = "legal_person"
    SOLE_TRADER = "sole_trader"  # enskild näringsidkare: the owner's personal number


def luhn_check_digit(digits: str) -> int:
    """The Luhn (mod 10) check digit to append to `digits`."""
    total = 0
    # Weights run from the right, so the digit next to the check digit is doubled.
    for index, char in enumerate(reversed(digits)):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return -total % 10


def luhn_valid(digits: str) -> bool:
    """True when the last digit of `digits` is the Luhn check digit of the others."""
    return (
        len(digits) >= 2
        and digits.isascii()
        and digits.isdigit()
        and (luhn_check_digit(digits[:-1]) == int(digits[-1]))
    )


@dataclass(frozen=True, repr=False)
class PersonalNumber:
    """A valid personnummer or samordningsnummer; `digits` is the 12-digit form YYYYMMDDNNNN."""

    digits: str
    kind: PersonalNumberKind

    @property
    def birth_date(self) -> date:
        day = int(self.digits[6:8])
        if self.kind is PersonalNumberKind.SAMORDNINGSNUMMER:
            day -= _COORDINATION_DAY_OFFSET
        return date(int(self.digits[:4]), int(self.digits[4:6]), day)

    @property
    def normalized(self) -> str:
        """YYYYMMDD-NNNN: the century is explicit, so the form never changes with age."""
        return f"{self.digits[:8]}-{self.digits[8:]}"

    @property
    def masked(self) -> str:
        """YYMMDD-XXXX: the date part only, safe to show where the number itself is not."""
        return f"{self.digits[2:8]}-XXXX"

    def __repr__(self) -> str:
        # Logging a value must not write the number.
        return f"PersonalNumber({self.kind.value}, {self.masked})"


@dataclass(frozen=True, repr=False)
class OrgNumber:
    """A valid organisation number; `digits` is the 10-digit form.

    A sole trader's organisation number is their personal number, so it is personal data:
    show `masked`, and find the person in `person`.
    """

    digits: str
    kind: OrgKind
    person: PersonalNumber | None = None

    @property
    def normalized(self) -> str:
        """NNNNNN-NNNN."""
        return f"{self.digits[:6]}-{self.digits[6:]}"

    @property
    def is_personal_data(self) -> bool:
        return self.kind is OrgKind.SOLE_TRADER

    @property
    def masked(self) -> str:
        """YYMMDD-XXXX for a sole trader; a legal person's number is public and shown whole."""
        return f"{self.digits[:6]}-XXXX" if self.is_personal_data else self.normalized

    def __repr__(self) -> str:
        return f"OrgNumber({self.kind.value}, {self.masked})"


@dataclass(frozen=True, repr=False)
class Match:
    """A personal number found in free text: `text[start:end]` is the number as written."""

    start: int
    end: int
    number: PersonalNumber

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end

    @property
    def kind(self) -> PersonalNumberKind:
        return self.number.kind

    def __repr__(self) -> str:
        return f"Match({self.start}, {self.end}, {self.number!r})"


def _is_legal_person(ten_digits: str) -> bool:
    # Digits 3-4 are the month in a personal number; 20 or more can only be an organisation.
    return int(ten_digits[2:4]) >= 20


def _century_year(yy: int, month: int, day: int, sep: str, today: date) -> int:
    """The year of a 10-digit number: '-' (or none) means under 100 years old, '+' 100 or older."""
    year = today.year - (today.year - yy) % 100
    if (year, month, day) > (today.year, today.month, today.day):
        year -= 100
    return year - 100 if sep == "+" else year


def _personal_number(prefix: str | None, ten: str, sep: str, today: date) -> PersonalNumber:
    if prefix is not None and prefix not in _CENTURIES:
        raise IdentityNumberError(Reason.PREFIX)
    if not luhn_valid(ten):
        raise IdentityNumberError(Reason.CHECK_DIGIT)
    if _is_legal_person(ten):
        raise IdentityNumberError(Reason.LEGAL_PERSON)
    month, day = int(ten[2:4]), int(ten[4:6])
    kind = PersonalNumberKind.PERSONNUMMER
    if day > _COORDINATION_DAY_OFFSET:
        kind, day = PersonalNumberKind.SAMORDNINGSNUMMER, day - _COORDINATION_DAY_OFFSET
    if prefix is not None:
        year = int(prefix + ten[:2])
    else:
        year = _century_year(int(ten[:2]), month, day, sep, today)
    try:
        date(year, month, day)
    except ValueError:
        raise IdentityNumberError(Reason.DATE) from None
    return PersonalNumber(f"{year:04d}{ten[2:]}", kind)


def _split(value: str) -> tuple[str | None, str, str]:
    """(prefix, ten digits, separator) of a typed number, or FORMAT."""
    found = _FORM.fullmatch(value.strip().translate(_TO_HYPHEN))
    if found is None:
        raise IdentityNumberError(Reason.FORMAT)
    prefix, sep = found["prefix"], found["sep"]
    # '+' (100 years or older) only exists in the 10-digit form, where the century is implied.
    if prefix is not None and sep == "+":
        raise IdentityNumberError(Reason.FORMAT)
    return prefix, found["head"] + found["tail"], sep


def parse_personal_number(value: str, today: date | None = None) -> PersonalNumber:
    """Parse a personnummer or samordningsnummer.

    Accepts YYMMDD-NNNN, YYMMDD+NNNN (100 years or older), YYMMDDNNNN, YYYYMMDD-NNNN and
    YYYYMMDDNNNN. `today` decides the century of the 10-digit forms (default: date.today()).
    Raises IdentityNumberError.
    """
    prefix, ten, sep = _split(value)
    return _personal_number(prefix, ten, sep, today or date.today())


def parse_org_number(value: str, today: date | None = None) -> OrgNumber:
    """Parse an organisation number: NNNNNN-NNNN or NNNNNNNNNN, optionally prefixed by 16.

    A number whose 3rd and 4th digits are under 20 is a sole trader's personal number; it is
    accepted (also in its 12-digit YYYYMMDD-NNNN form) and classified as personal data.
    Raises IdentityNumberError.
    """
    prefix, ten, sep = _split(value)
    if sep == "+":
        raise IdentityNumberError(Reason.FORMAT)
    if not _is_legal_person(ten):
        if prefix == _LEGAL_PERSON_PREFIX:
            raise IdentityNumberError(Reason.PREFIX)
        person = _personal_number(prefix, ten, sep, today or date.today())
        return OrgNumber(ten, OrgKind.SOLE_TRADER, person)
    if prefix not in (None, _LEGAL_PERSON_PREFIX):
        raise IdentityNumberError(Reason.PREFIX)
    if not luhn_valid(ten):
        raise IdentityNumberError(Reason.CHECK_DIGIT)
    return OrgNumber(ten, OrgKind.LEGAL_PERSON)


def find_personal_numbers(text: str, today: date | None = None) -> list[Match]:
    """Personal identity and coordination numbers written in `text`, in order.

    Finds 10- and 12-digit numbers with '-', '+' or no separator that have a valid date and
    check digit, and are not part of a longer digit run. Legal-person organisation numbers,
    phone numbers as Swedes write them (070-123 45 67) and wrong check digits are not matched;
    an unbroken 10-digit phone number that happens to pass both checks is, as masking too much
    is the safe side.
    """
    today = today or date.today()
    matches: list[Match] = []
    for found in _IN_TEXT.finditer(text):
        prefix, sep = found["prefix"], found["sep"].translate(_TO_HYPHEN)
        # Lenient on purpose: a stray '+' in the 12-digit form still identifies a person.
        if prefix is not None:
            sep = "-"
        try:
            number = _personal_number(prefix, found["head"] + found["tail"], sep, today)
        except IdentityNumberError:
            continue
        matches.append(Match(found.start(), found.end(), number))
    return matches


def mask_personal_numbers(text: str, today: date | None = None) -> str:
    """`text` with every personal number found by find_personal_numbers replaced by YYMMDD-XXXX."""
    parts: list[str] = []
    position = 0
    for match in find_personal_numbers(text, today):
        parts += [text[position : match.start], match.number.masked]
        position = match.end
    parts.append(text[position:])
    return "".join(parts)
