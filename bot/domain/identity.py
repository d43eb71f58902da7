"""Swedish identity numbers: organisation numbers, personal identity and coordination numbers.

Parsers raise `IdentityNumberError` carrying a `Reason` code; the texts users read live in
the message catalogues. Personal numbers must never reach a forum channel, so every value
that identifies a person has a `masked` form and a repr that does not show its digits.

The check digit, organisation numbers and the dates of personal numbers are validated with
python-stdnum; the century rules, coordination numbers (which stdnum does not know) and the
free-text scanner are our own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError
from stdnum.se import orgnr, personnummer

# Hyphens that word processors and phones put in pasted text; all mean "-".
_DASHES = "\u2010\u2011\u2012\u2013\u2212"
_TO_HYPHEN = str.maketrans(dict.fromkeys(_DASHES, "-"))
_SEP = rf"[-+{_DASHES}]"
# ASCII digits only: a typed number is one of the forms below, in ASCII digits.
_FORM = re.compile(rf"(?P<prefix>[0-9]{{2}})?(?P<head>[0-9]{{6}})(?P<sep>{_SEP}?)(?P<tail>[0-9]{{4}})")

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
    """The Luhn (mod 10) check digit to append to `digits` (ASCII digits)."""
    return int(luhn.calc_check_digit(digits))


def luhn_valid(digits: str) -> bool:
    """True when the last digit of `digits` is the Luhn check digit of the others."""
    return len(digits) >= 2 and digits.isascii() and digits.isdigit() and luhn.is_valid(digits)


def _reason(error: ValidationError) -> Reason:
    if isinstance(error, InvalidChecksum):
        return Reason.CHECK_DIGIT
    if isinstance(error, InvalidComponent):
        return Reason.DATE
    return Reason.FORMAT  # InvalidFormat, InvalidLength


@contextmanager
def _stdnum_reasons() -> Iterator[None]:
    """Turn python-stdnum's validation errors into IdentityNumberError with our Reason codes."""
    try:
        yield
    except ValidationError as error:
        raise IdentityNumberError(_reason(error)) from None


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
    with _stdnum_reasons():
        luhn.validate(ten)
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
    digits = f"{year:04d}{ten[2:]}"
    if kind is PersonalNumberKind.PERSONNUMMER:
        # The 12-digit form names the century, so stdnum's own (today-based) rule is not used.
        with _stdnum_reasons():
            personnummer.validate(f"{digits[:8]}-{digits[8:]}")
    else:
        try:
            date(year, month, day)
        except ValueError:
            raise IdentityNumberError(Reason.DATE) from None
    return PersonalNumber(digits, kind)


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
    with _stdnum_reasons():
        orgnr.validate(ten)
    return OrgNumber(ten, OrgKind.LEGAL_PERSON)


# --- Free-text scanner -----------------------------------------------------------------------
#
# The scanner reads a normalised copy of the text in which every character is one of: an ASCII
# digit (any script's decimal digit, fullwidth, mathematical, superscript ...), " " (any
# whitespace, line breaks included), "-" (any dash or the minus sign), "/", ".", "+", or any
# other visible character as itself. Invisible characters (format characters such as zero-width
# spaces and soft hyphens, combining marks, variation selectors) are left out. `origin` maps
# each normalised position back to the index of the character it came from, so a match is a
# span of the text as written.

_DROPPED_CATEGORIES = frozenset({"Cf", "Mn", "Me"})
# Blank letters that show as nothing (Hangul fillers).
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
_SLASHES = frozenset("/\u2044\u2215")
_MINUS = "\u2212"

# A run of separators between two pairs of digits; '+' (100 years or older) only before the serial.
_GAP = r"[ \-/.]*"
_PAIRS = (
    rf"(?P<yy>[0-9]{{2}})(?P<g1>{_GAP})(?P<mm>[0-9]{{2}})(?P<g2>{_GAP})(?P<dd>[0-9]{{2}})"
    rf"(?P<g3>[ \-/.+]*)(?P<n1>[0-9]{{2}})(?P<g4>{_GAP})(?P<n2>[0-9]{{2}})(?![0-9])"
)
_TWELVE = re.compile(rf"(?P<century>[0-9]{{2}})(?P<g0>{_GAP}){_PAIRS}")
_TEN = re.compile(_PAIRS)
# The first digit of every run of digits.
_RUN_START = re.compile(r"(?<![0-9])[0-9]")
# Separators that join digits into one longer number when written tight, with no space.
_JOINING = frozenset("-/.")


@lru_cache(maxsize=4096)
def _scanner_form(char: str) -> str:
    """What one character of free text is to the scanner (see above); '' if invisible."""
    parts: list[str] = []
    for part in unicodedata.normalize("NFKC", char):
        category = unicodedata.category(part)
        if category in _DROPPED_CATEGORIES or part in _FILLERS:
            continue
        value = unicodedata.decimal(part, None)
        if value is None:
            value = unicodedata.digit(part, None)
        if value is not None:
            parts.append(str(value))
        elif part.isspace():
            parts.append(" ")
        elif category == "Cc":
            continue  # control characters that are not whitespace: invisible
        elif category == "Pd" or part == _MINUS:
            parts.append("-")
        elif part in _SLASHES:
            parts.append("/")
        else:
            parts.append(part)
    return "".join(parts)


def _normalise(text: str) -> tuple[str, list[int]]:
    """The scanner's copy of `text`, and for each of its positions the index in `text`."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        form = _scanner_form(char)
        chars.append(form)
        origin += [index] * len(form)
    return "".join(chars), origin


def _joined_to_digits(norm: str, start: int, end: int) -> bool:
    """True when the digits norm[start:end] continue a longer number: a digit tied to them by
    separators written tight ('-', '/', '.'), as in 2026-01-29–2026-02-05 or 10.05-13.00."""
    before = start - 1
    while before >= 0 and norm[before] in _JOINING:
        before -= 1
    if before < start - 1 and before >= 0 and norm[before].isdigit():
        return True
    after = end
    while after < len(norm) and norm[after] in _JOINING:
        after += 1
    return end < after < len(norm) and norm[after].isdigit()


def _laid_out_as_a_number(found: re.Match[str]) -> bool:
    """Whether the separators sit where people put them in a personal number.

    The serial is split (98 76) only when the whole number is written in pairs
    (81 12 18-98 76), and then not by '.' or '/' (a time: 2026-11-23 14.30). A date written with
    marks (1981-12-18, 81.12.18) is followed by a mark before the serial: 1981-12-18-9876, not
    2026-11-23 1430.
    """
    g1, g2, g3, g4 = found["g1"], found["g2"], found["g3"], found["g4"]
    if g4 and not (g1 and g2 and g3 and set(g4) <= {" ", "-"}):
        return False
    return not (g1.strip() or g2.strip()) or bool(g3.strip())


def _candidate(norm: str, position: int, today: date) -> tuple[re.Match[str], PersonalNumber] | None:
    """The personal number whose first digit is at `position` of the normalised text, if any."""
    for pattern in (_TWELVE, _TEN):
        found = pattern.match(norm, position)
        if found is None or not _laid_out_as_a_number(found) or _joined_to_digits(norm, *found.span()):
            continue
        prefix = found["century"] if pattern is _TWELVE else None
        # Lenient on purpose: a stray '+' in the 12-digit form still identifies a person.
        sep = "+" if prefix is None and "+" in found["g3"] else "-"
        ten = "".join(found[group] for group in ("yy", "mm", "dd", "n1", "n2"))
        try:
            return found, _personal_number(prefix, ten, sep, today)
        except IdentityNumberError:
            continue
    return None


def find_personal_numbers(text: str, today: date | None = None) -> list[Match]:
    """Personal identity and coordination numbers written in `text`, in order.

    Finds 10- and 12-digit numbers that have a valid date and check digit and are not part of
    a longer number, however they are written: in any script's digits (fullwidth, Arabic-Indic,
    mathematical, superscript ...), with invisible characters between the digits, and with any
    run of spaces, line breaks, dashes, '/' or '.' between the date and the serial or between
    pairs of digits (81 12 18-98 76). `Match.start`/`end` index `text` as written.

    Legal-person organisation numbers, wrong check digits and phone numbers and amounts as
    Swedes write them (070-123 45 67, 12 000 kr; separators after an odd number of digits) are
    not matched, nor dates with times (2026-11-23 14.30). A number that happens to pass both
    checks (an unbroken 10-digit phone number, say) is, as masking too much is the safe side.
    """
    today = today or date.today()
    norm, origin = _normalise(text)
    matches: list[Match] = []
    end = 0
    for run in _RUN_START.finditer(norm):
        if run.start() < end:
            continue
        candidate = _candidate(norm, run.start(), today)
        if candidate is None:
            continue
        found, number = candidate
        end = found.end()
        matches.append(Match(origin[found.start()], origin[end - 1] + 1, number))
    return matches


def mask_personal_numbers(text: str, today: date | None = None) -> str:
    """`text` with every personal number found by find_personal_numbers replaced by YYMMDD-XXXX.

    The replaced characters are exactly those of the number as written, from its first digit to
    its last, separators and invisible characters between them included.
    """
    parts: list[str] = []
    position = 0
    for match in find_personal_numbers(text, today):
        parts += [text[position : match.start], match.number.masked]
        position = match.end
    parts.append(text[position:])
    return "".join(parts)
