"""Organisation numbers, personal and coordination numbers, and the free-text scanner.

Personal numbers here are synthetic (check digit computed below) or Skatteverket's published
test number 19121212-1212; no real person's number is used.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError
from stdnum.se import orgnr as stdnum_orgnr
from stdnum.se import personnummer as stdnum_personnummer

from bot.domain.identity import (
    IdentityNumberError,
    OrgKind,
    PersonalNumberKind,
    Reason,
    find_personal_numbers,
    luhn_check_digit,
    luhn_valid,
    mask_personal_numbers,
    parse_org_number,
    parse_personal_number,
)

TODAY = date(2026, 3, 1)
PNR = PersonalNumberKind.PERSONNUMMER
SAMNR = PersonalNumberKind.SAMORDNINGSNUMMER


def reference_luhn_ok(number: str) -> bool:
    """Luhn written the textbook way (double every second digit from the right, subtract 9),
    independent of the module's version."""
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return total % 10 == 0


def ten(yymmdd: str, serial: str = "123") -> str:
    """A synthetic 10-digit number with a correct check digit."""
    nine = yymmdd + serial
    return next(nine + str(c) for c in range(10) if reference_luhn_ok(nine + str(c)))


def wrong_check(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def dash(ten_digits: str, sep: str = "-") -> str:
    return f"{ten_digits[:6]}{sep}{ten_digits[6:]}"


def reason_of(parse, value: str) -> Reason:
    with pytest.raises(IdentityNumberError) as caught:
        parse(value, TODAY)
    return caught.value.reason


# --- Organisation numbers -------------------------------------------------------------------

REAL_ORGS = {
    "AB Volvo": "556012-5790",
    "Telefonaktiebolaget LM Ericsson": "556016-0680",
    "H & M Hennes & Mauritz AB": "556042-7220",
    "Västerås stad": "212000-2080",
    "Skatteverket": "202100-5448",
    "Polismyndigheten": "202100-0076",
}


@pytest.mark.parametrize("number", REAL_ORGS.values(), ids=REAL_ORGS.keys())
def test_real_organisation_numbers_in_every_accepted_form(number: str) -> None:
    assert reference_luhn_ok(number)
    plain = number.replace("-", "")
    for form in (number, plain, "16" + number, "16" + plain, f"  {number}\n", number.replace("-", "–")):
        org = parse_org_number(form, TODAY)
        assert org.normalized == number
        assert org.digits == plain
        assert org.kind is OrgKind.LEGAL_PERSON
        assert not org.is_personal_data
        assert org.masked == number
        assert org.person is None


@pytest.mark.parametrize("number", REAL_ORGS.values(), ids=REAL_ORGS.keys())
def test_organisation_number_with_any_other_check_digit_is_rejected(number: str) -> None:
    for digit in set("0123456789") - {number[-1]}:
        assert reason_of(parse_org_number, number[:-1] + digit) is Reason.CHECK_DIGIT
        assert reason_of(parse_org_number, "16" + number[:-1] + digit) is Reason.CHECK_DIGIT


@pytest.mark.parametrize(
    "value",
    [
        "",
        "556016-068",
        "556016-06800",
        "55601-60680",
        "5560-160680",
        "556016--0680",
        "556016 0680",
        "556016-068O",
        "556016+0680",
        "16556016+0680",
        "1655601606800",
        "٥٥٦٠١٦-٠٦٨٠",
    ],
)
def test_organisation_number_of_wrong_shape(value: str) -> None:
    assert reason_of(parse_org_number, value) is Reason.FORMAT


@pytest.mark.parametrize("value", ["19556016-0680", "205560160680", "99556016-0680", "16121212-1212"])
def test_organisation_number_with_a_prefix_that_does_not_fit(value: str) -> None:
    assert reason_of(parse_org_number, value) is Reason.PREFIX


def test_sole_trader_number_is_accepted_as_personal_data() -> None:
    number = ten("850714", "234")
    for form in (dash(number), number, "19" + dash(number), "19" + number):
        org = parse_org_number(form, TODAY)
        assert org.kind is OrgKind.SOLE_TRADER
        assert org.is_personal_data
        assert org.normalized == dash(number)
        assert org.masked == "850714-XXXX"
        assert org.person is not None and org.person.birth_date == date(1985, 7, 14)
        # The number must not leak through logs.
        assert number[6:] not in repr(org) and number[6:] not in str(org)


def test_sole_trader_with_coordination_number() -> None:
    org = parse_org_number("701063-2391", TODAY)
    assert org.kind is OrgKind.SOLE_TRADER
    assert org.person is not None and org.person.kind is SAMNR
    assert org.masked == "701063-XXXX"


@pytest.mark.parametrize("yymmdd", ["851332", "850230", "850000", "850100", "850192"])
def test_sole_trader_number_must_be_a_date(yymmdd: str) -> None:
    assert reason_of(parse_org_number, dash(ten(yymmdd))) is Reason.DATE


def test_sole_trader_number_with_wrong_check_digit() -> None:
    assert reason_of(parse_org_number, wrong_check(dash(ten("850714")))) is Reason.CHECK_DIGIT


# --- Personal identity and coordination numbers ---------------------------------------------


def test_skatteverket_test_number_in_every_form() -> None:
    expected = parse_personal_number("19121212-1212", TODAY)
    assert expected.kind is PNR
    assert expected.birth_date == date(1912, 12, 12)
    assert expected.normalized == "19121212-1212"
    assert expected.masked == "121212-XXXX"
    for form in ("191212121212", "121212+1212"):
        assert parse_personal_number(form, TODAY) == expected
    # Without '+' a 10-digit number means someone under 100: born 2012.
    assert parse_personal_number("121212-1212", TODAY).birth_date == date(2012, 12, 12)
    assert parse_personal_number("1212121212", TODAY).birth_date == date(2012, 12, 12)


@pytest.mark.parametrize(
    ("born", "serial"), [(date(1985, 7, 14), "123"), (date(2003, 1, 31), "980"), (date(1950, 11, 2), "007")]
)
def test_synthetic_personnummer_in_every_form(born: date, serial: str) -> None:
    number = ten(f"{born:%y%m%d}", serial)
    century = f"{born:%Y}"[:2]
    forms = [dash(number), number, century + dash(number), century + number]
    parsed = {parse_personal_number(form, TODAY) for form in forms}
    assert len(parsed) == 1
    (person,) = parsed
    assert person.kind is PNR
    assert person.birth_date == born
    assert person.normalized == f"{born:%Y%m%d}-{number[6:]}"
    assert person.masked == f"{born:%y%m%d}-XXXX"
    assert number[6:] not in repr(person)


@pytest.mark.parametrize("form", ["{}-{}", "{}{}", "19{}-{}", "19{}{}", "{}+{}"])
def test_personnummer_with_wrong_check_digit(form: str) -> None:
    number = wrong_check(ten("850714"))
    assert reason_of(parse_personal_number, form.format(number[:6], number[6:])) is Reason.CHECK_DIGIT


def test_coordination_number() -> None:
    assert reference_luhn_ok("701063-2391")
    person = parse_personal_number("701063-2391", TODAY)
    assert person.kind is SAMNR
    assert person.birth_date == date(1970, 10, 3)
    assert person.normalized == "19701063-2391"
    assert person.masked == "701063-XXXX"


@pytest.mark.parametrize("yymmdd", ["850161", "850191", "000289", "850490"])
def test_coordination_days_61_to_91_are_valid_dates(yymmdd: str) -> None:
    assert parse_personal_number(ten(yymmdd), TODAY).kind is SAMNR


@pytest.mark.parametrize(
    ("yymmdd", "why"),
    [
        ("850230", "February 30"),
        ("851301", "month 13"),
        ("850001", "month 0"),
        ("850100", "day 0"),
        ("850132", "January 32"),
        ("850431", "April 31"),
        ("850160", "coordination day 0"),
        ("850192", "coordination January 32"),
        ("850290", "coordination February 30"),
        ("850491", "coordination April 31"),
        ("230229", "2023 is not a leap year"),
    ],
)
def test_invalid_dates(yymmdd: str, why: str) -> None:
    assert reason_of(parse_personal_number, dash(ten(yymmdd))) is Reason.DATE, why


def test_leap_days() -> None:
    number = ten("000229")
    assert parse_personal_number("20" + number, TODAY).birth_date == date(2000, 2, 29)
    assert reason_of(parse_personal_number, "19" + number) is Reason.DATE
    # The 10-digit forms take the century from the separator: 2000 with '-', 1900 with '+'.
    assert parse_personal_number(dash(number), TODAY).birth_date == date(2000, 2, 29)
    assert reason_of(parse_personal_number, dash(number, "+")) is Reason.DATE
    assert parse_personal_number(ten("240229"), TODAY).birth_date == date(2024, 2, 29)


def test_century_of_ten_digit_forms_depends_on_today() -> None:
    born_today, born_tomorrow = ten("260301"), ten("260302")
    assert parse_personal_number(born_today, TODAY).birth_date == date(2026, 3, 1)
    # Not born yet this century, so 99 years old.
    assert parse_personal_number(born_tomorrow, TODAY).birth_date == date(1926, 3, 2)
    assert parse_personal_number(dash(born_today, "+"), TODAY).birth_date == date(1926, 3, 1)
    assert parse_personal_number(dash(born_tomorrow, "+"), TODAY).birth_date == date(1826, 3, 2)


def test_personal_number_errors() -> None:
    assert reason_of(parse_personal_number, "556016-0680") is Reason.LEGAL_PERSON
    assert reason_of(parse_personal_number, "16556016-0680") is Reason.PREFIX
    assert reason_of(parse_personal_number, "21121212-1212") is Reason.PREFIX
    assert reason_of(parse_personal_number, "19121212+1212") is Reason.FORMAT
    assert reason_of(parse_personal_number, "121212 1212") is Reason.FORMAT
    assert reason_of(parse_personal_number, "1212121212123") is Reason.FORMAT


def test_error_carries_the_reason_code_not_a_user_text() -> None:
    error = IdentityNumberError(Reason.CHECK_DIGIT)
    assert isinstance(error, ValueError)
    assert str(error) == "check_digit"


# --- Scanner --------------------------------------------------------------------------------


def found(text: str) -> list[tuple[str, PersonalNumberKind]]:
    return [(text[m.start : m.end], m.number.kind) for m in find_personal_numbers(text, TODAY)]


def test_scanner_finds_numbers_in_swedish_sentences() -> None:
    a, b, c = ten("850714"), ten("031231", "456"), ten("701063", "239")
    text = (
        f"Ägaren (pnr {dash(a)}) driver nagelsalongen sedan 2019. Anställd: 20{b}, "
        f"samordningsnummer {dash(c)}; kontrollerad den 2026-01-29."
    )
    assert found(text) == [(dash(a), PNR), ("20" + b, PNR), (dash(c), SAMNR)]
    match = find_personal_numbers(text, TODAY)[0]
    assert (match.start, match.end) == (text.index(dash(a)), text.index(dash(a)) + 11)
    assert match.number.birth_date == date(1985, 7, 14)


@pytest.mark.parametrize(
    "form", ["{}", "{}.", "({})", "pnr:{}", "{}!", "«{}»", "nr\u00a0{}", "{}\n"], ids=repr
)
def test_scanner_finds_numbers_next_to_punctuation(form: str) -> None:
    number = ten("850714")
    # '19…+…' is not a valid form, but it still identifies a person, so the scanner takes it.
    written_forms = [dash(number), number, dash(number, "+"), dash(number, "–"), "19" + number]
    for written in [*written_forms, "19" + dash(number), "19" + dash(number, "+")]:
        assert found(form.format(written)) == [(written, PNR)]


def test_scanner_ignores_numbers_inside_longer_digit_runs() -> None:
    number = ten("850714")
    for text in (
        f"1{dash(number)}",
        f"{dash(number)}7",
        f"99{number}",
        f"{number}00",
        f"ref 4{number}4",
        f"٣{dash(number)}",
        f"99{dash(number)}",
    ):
        assert found(text) == [], text


def test_scanner_ignores_organisation_numbers() -> None:
    text = " ".join(f"{n} 16{n} {n.replace('-', '')} 16{n.replace('-', '')}" for n in REAL_ORGS.values())
    assert found(f"Bolagen {text} granskas.") == []


def test_scanner_ignores_phone_numbers_dates_and_case_numbers() -> None:
    assert not reference_luhn_ok("0701234567")
    text = (
        "Ring 021-39 10 00, 070-123 45 67, 070-1234567, 0701234567, +46 70 123 45 67 "
        "eller 08-123 456 78. KS Dnr 2025/01439, undertecknad 2026-01-29 kl. 10:30."
    )
    assert found(text) == []


def test_scanner_ignores_bad_check_digits_and_dates() -> None:
    number = ten("850714")
    text = f"{wrong_check(dash(number))} {wrong_check(number)} {dash(ten('851301'))} {dash(ten('850230'))}"
    assert found(text) == []


def test_mask_personal_numbers() -> None:
    a, b = ten("850714"), ten("701063")
    text = f"Ägare {dash(a)}, delägare 19{b}, bolaget 556016-0680."
    assert (
        mask_personal_numbers(text, TODAY) == "Ägare 850714-XXXX, delägare 701063-XXXX, bolaget 556016-0680."
    )
    assert mask_personal_numbers("Inga nummer här.", TODAY) == "Inga nummer här."


# --- Properties -----------------------------------------------------------------------------


@given(st.text("0123456789", min_size=1, max_size=30))
def test_luhn_round_trip(payload: str) -> None:
    number = payload + str(luhn_check_digit(payload))
    assert luhn_valid(number)
    assert reference_luhn_ok(number)
    assert not luhn_valid(wrong_check(number))


@given(st.text("0123456789", min_size=2, max_size=30), st.data())
def test_luhn_detects_every_single_digit_error(number: str, data: st.DataObject) -> None:
    assert luhn_valid(number) == reference_luhn_ok(number)
    if luhn_valid(number):
        index = data.draw(st.integers(0, len(number) - 1))
        digit = data.draw(st.sampled_from(sorted(set("0123456789") - {number[index]})))
        assert not luhn_valid(number[:index] + digit + number[index + 1 :])


HUNDRED_YEARS_AGO = date(1926, 3, 1)


@st.composite
def personal_numbers(draw: st.DrawFn) -> tuple[str, date, PersonalNumberKind]:
    """A valid number as someone would write it, its birth date and kind (as of TODAY)."""
    form = draw(
        st.sampled_from(["YYMMDD-NNNN", "YYMMDDNNNN", "YYMMDD+NNNN", "YYYYMMDD-NNNN", "YYYYMMDDNNNN"])
    )
    if form == "YYMMDD+NNNN":
        born = draw(st.dates(date(1900, 1, 1), HUNDRED_YEARS_AGO))
    elif form.startswith("YYMMDD"):
        born = draw(st.dates(HUNDRED_YEARS_AGO + timedelta(days=1), TODAY))
    else:
        born = draw(st.dates(date(1900, 1, 1), TODAY))
    kind = draw(st.sampled_from(PersonalNumberKind))
    day = born.day + (60 if kind is SAMNR else 0)
    number = ten(f"{born:%y%m}{day:02d}", f"{draw(st.integers(0, 999)):03d}")
    written = {
        "YYMMDD-NNNN": dash(number),
        "YYMMDDNNNN": number,
        "YYMMDD+NNNN": dash(number, "+"),
        "YYYYMMDD-NNNN": f"{born:%Y}"[:2] + dash(number),
        "YYYYMMDDNNNN": f"{born:%Y}"[:2] + number,
    }[form]
    return written, born, kind


def scanner_view(text: str) -> str:
    """Text as the scanner reads it, written independently of the module: NFKC, every digit as
    ASCII, invisible characters dropped, whitespace as ' ' and dashes as '-'."""
    out = []
    for char in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(char)
        if category in ("Cf", "Mn", "Me") or char in "\u115f\u1160\u3164\uffa0":
            continue
        value = unicodedata.digit(char, None)
        if value is not None:
            out.append(str(value))
        elif char.isspace():
            out.append(" ")
        elif category == "Cc":
            continue
        elif category == "Pd" or char == "\u2212":
            out.append("-")
        else:
            out.append(char)
    return "".join(out)


def has_no_digit(char: str) -> bool:
    """No digit in any writing: '²' or '①' are digits to the scanner."""
    return not any(c.isdigit() for c in scanner_view(char))


no_digits = st.text(st.characters(exclude_categories=["Nd", "Cs"]).filter(has_no_digit), max_size=40)
# Words that keep two numbers apart: something visible other than a tight '-', '/' or '.'.
# Invisible characters alone, or 811218-9876-811219-1234, make one longer digit run.
separating_words = no_digits.filter(lambda words: any(c not in "-/." for c in scanner_view(words)))


@given(personal_numbers())
def test_any_valid_number_parses_and_round_trips(generated: tuple[str, date, PersonalNumberKind]) -> None:
    written, born, kind = generated
    person = parse_personal_number(written, TODAY)
    assert (person.birth_date, person.kind) == (born, kind)
    assert parse_personal_number(person.normalized, TODAY) == person
    if "+" not in written:
        assert parse_org_number(written, TODAY).person == person


@given(personal_numbers(), no_digits, no_digits)
def test_scanner_finds_any_valid_number_in_text_without_digits(
    generated: tuple[str, date, PersonalNumberKind], before: str, after: str
) -> None:
    written, born, kind = generated
    (match,) = find_personal_numbers(before + written + after, TODAY)
    assert (match.start, match.end) == (len(before), len(before) + len(written))
    assert (match.number.kind, match.number.birth_date) == (kind, born)


# Words between numbers separate them: two numbers written digit to digit are one longer run.
@given(st.lists(st.tuples(separating_words, personal_numbers()), min_size=1, max_size=4), no_digits)
def test_masking_never_leaves_the_numbers_in_the_output(
    pieces: list[tuple[str, tuple[str, date, PersonalNumberKind]]], end: str
) -> None:
    text = "".join(words + written for words, (written, _, _) in pieces) + end
    masked = mask_personal_numbers(text, TODAY)
    expected = (words + re.sub(r"\D", "", written)[-10:-4] + "-XXXX" for words, (written, _, _) in pieces)
    assert masked == "".join(expected) + end
    for _, (written, _, _) in pieces:
        assert written not in masked
    # Only the six date digits of each number may remain.
    assert all(len(run) <= 6 for run in re.findall(r"\d+", masked))
    assert find_personal_numbers(masked, TODAY) == []


@given(st.text("0123456789", min_size=7, max_size=7), st.integers(20, 99), no_digits, no_digits)
def test_legal_person_numbers_parse_and_are_never_flagged(
    rest: str, month_digits: int, before: str, after: str
) -> None:
    nine = rest[:2] + str(month_digits) + rest[2:]
    number = dash(nine + str(luhn_check_digit(nine)))
    org = parse_org_number(number, TODAY)
    assert (org.kind, org.normalized) == (OrgKind.LEGAL_PERSON, number)
    assert parse_org_number("16" + number, TODAY) == org
    assert reason_of(parse_org_number, wrong_check(number)) is Reason.CHECK_DIGIT
    assert find_personal_numbers(before + number + after, TODAY) == []


# --- Numbers written in other ways ----------------------------------------------------------

SCRIPTS = {
    "fullwidth": "０１２３４５６７８９",
    "arabic_indic": "٠١٢٣٤٥٦٧٨٩",
    "persian": "۰۱۲۳۴۵۶۷۸۹",
    "math_bold": "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",
    "math_double_struck": "𝟘𝟙𝟚𝟛𝟜𝟝𝟞𝟟𝟠𝟡",
    "superscript": "⁰¹²³⁴⁵⁶⁷⁸⁹",
    "subscript": "₀₁₂₃₄₅₆₇₈₉",
    "devanagari": "०१२३४५६७८९",
}
# Format characters (zero-width space, non-joiner, joiner, word joiner, BOM, soft hyphen,
# left-to-right mark), combining grapheme joiner, variation selectors, a combining accent.
INVISIBLES = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u200e",
    "\u034f",
    "\ufe0f",
    "\ufe0e",
    "\U000e0100",
    "\u0301",
]
SPACES = [" ", "  ", "\n", "\r\n", "\u00a0", "\u2009", "\u202f", "\u3000", "\u2028"]
DASHES = ["-", "\u2010", "\u2011", "\u2013", "\u2014", "\u2212", "\uff0d", "\ufe63", " - ", " – ", "\n- "]
SEPARATORS = [*SPACES, *DASHES, "/", ".", ". ", " / "]
MARKS = [sep for sep in SEPARATORS if sep.strip()]


def in_script(digits: str, script: str) -> str:
    return digits.translate(str.maketrans("0123456789", SCRIPTS[script]))


def pairs(digits: str, sep: str = " ") -> str:
    return sep.join(digits[i : i + 2] for i in range(0, len(digits), 2))


def between_digits(written: str, char: str) -> str:
    return "".join(c + char if c.isdigit() else c for c in written[:-1]) + written[-1]


N = ten("811218", "987")  # 811218-9876
WRITINGS = {
    "space": f"{N[:6]} {N[6:]}",
    "line break": f"{N[:6]}\n{N[6:]}",
    "crlf": f"{N[:6]}\r\n{N[6:]}",
    "no-break space": f"{N[:6]}\u00a0{N[6:]}",
    "thin space": f"{N[:6]}\u2009{N[6:]}",
    "narrow no-break space": f"{N[:6]}\u202f{N[6:]}",
    "several spaces": f"{N[:6]}   {N[6:]}",
    "spaced hyphen": f"{N[:6]} - {N[6:]}",
    "en dash": f"{N[:6]}\u2013{N[6:]}",
    "em dash": f"{N[:6]}\u2014{N[6:]}",
    "minus sign": f"{N[:6]}\u2212{N[6:]}",
    "non-breaking hyphen": f"{N[:6]}\u2011{N[6:]}",
    "fullwidth hyphen-minus": f"{N[:6]}\uff0d{N[6:]}",
    "small hyphen-minus": f"{N[:6]}\ufe63{N[6:]}",
    "slash": f"{N[:6]}/{N[6:]}",
    "dot": f"{N[:6]}.{N[6:]}",
    "12 digits with a space": f"19{N[:6]} {N[6:]}",
    "pairs": f"{pairs(N[:6])}-{pairs(N[6:])}",
    "pairs with spaces only": pairs(N),
    "pairs with hyphens only": pairs(N, "-"),
    "12 digits in pairs": f"{pairs('19' + N[:6])}-{pairs(N[6:])}",
    "12 digits, pairs across a line break": f"19 {pairs(N[:6])}\n{pairs(N[6:])}",
    "date with hyphens": f"19{N[:2]}-{N[2:4]}-{N[4:6]}-{N[6:]}",
    "date with dots": f"{N[:2]}.{N[2:4]}.{N[4:6]}-{N[6:]}",
    **{script: in_script(f"{N[:6]}-{N[6:]}", script) for script in SCRIPTS},
    "fullwidth throughout": in_script(f"{N[:6]}\uff0d{N[6:]}", "fullwidth"),
    "Arabic-Indic, 12 digits": in_script(f"19{N}", "arabic_indic"),
    "mixed scripts": in_script(N[:3], "persian") + in_script(N[3:6], "math_bold") + "-" + N[6:],
    **{f"U+{ord(c):04X} between digits": between_digits(f"{N[:6]}-{N[6:]}", c) for c in INVISIBLES},
    "zero-width space in pairs": between_digits(f"{pairs(N[:6])} {pairs(N[6:])}", "\u200b"),
    "keycap digits": "".join(c + "\ufe0f\u20e3" for c in N[:-1]) + N[-1],
}


@pytest.mark.parametrize("written", WRITINGS.values(), ids=WRITINGS.keys())
def test_scanner_finds_numbers_however_they_are_written(written: str) -> None:
    text = f"Ägare: {written}, se bifogat."
    assert found(text) == [(written, PNR)]
    (match,) = find_personal_numbers(text, TODAY)
    assert match.number.birth_date == date(1981, 12, 18)
    assert mask_personal_numbers(text, TODAY) == "Ägare: 811218-XXXX, se bifogat."


def test_scanner_finds_coordination_and_hundred_year_old_numbers_written_with_spaces() -> None:
    coordination = ten("701063", "239")
    assert found(f"sam.nr {pairs(coordination)} ok") == [(pairs(coordination), SAMNR)]
    assert found("pnr 121212 + 1212 ok") == [("121212 + 1212", PNR)]
    (match,) = find_personal_numbers("pnr 121212 + 1212 ok", TODAY)
    assert match.number.birth_date == date(1912, 12, 12)


def test_match_spans_index_the_text_as_written() -> None:
    # Characters outside the number that the scanner drops or expands must not shift the span.
    written = in_script(f"{N[:6]}\u200b {N[6:]}", "math_bold")
    text = f"👍\u200b\u0301 ½ {written}\ufe0f ok"
    (match,) = find_personal_numbers(text, TODAY)
    assert text[match.start : match.end] == written
    assert mask_personal_numbers(text, TODAY) == "👍\u200b\u0301 ½ 811218-XXXX\ufe0f ok"


def test_masking_replaces_every_writing_in_one_text() -> None:
    text = "\n".join(f"{name}: {written}" for name, written in WRITINGS.items())
    masked = mask_personal_numbers(text, TODAY)
    assert masked == "\n".join(f"{name}: 811218-XXXX" for name in WRITINGS)


PHONE_LIKE = ten("070123", "456")  # 070123456X: a valid date and check digit


@pytest.mark.parametrize(
    "text",
    [
        "Ring 070-123 45 67 eller 070 123 45 67.",
        "Växel 08-123 456 78, direkt 08-12 34 56, fax 021-39 10 00.",
        "+46 70 123 45 67 eller 0046 70 123 45 67",
        f"Mobil {PHONE_LIKE[:3]}-{PHONE_LIKE[3:6]} {PHONE_LIKE[6:8]} {PHONE_LIKE[8:]}.",
        f"Mobil {PHONE_LIKE[:3]} {PHONE_LIKE[3:6]} {PHONE_LIKE[6:8]} {PHONE_LIKE[8:]}.",
        f"Mobil {in_script(PHONE_LIKE[:3], 'fullwidth')}-{PHONE_LIKE[3:]}.",
    ],
)
def test_scanner_ignores_phone_numbers_however_they_are_written(text: str) -> None:
    assert reference_luhn_ok(PHONE_LIKE)
    assert found(text) == []


def test_an_unbroken_phone_number_that_passes_both_checks_is_masked() -> None:
    # Documented: masking too much is the safe side.
    assert found(f"Mobil {PHONE_LIKE}.") == [(PHONE_LIKE, PNR)]


@pytest.mark.parametrize(
    "text",
    [
        "Kostnad 12 000 kr, budget 1 250 000 kr och 3 400 kr.",
        "Belopp: 12 000 34 000 56 000 kr",
        "2026 12 000 kr",
    ],
)
def test_scanner_ignores_amounts(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize("number", REAL_ORGS.values(), ids=REAL_ORGS.keys())
def test_scanner_ignores_organisation_numbers_however_they_are_written(number: str) -> None:
    plain = number.replace("-", "")
    texts = [
        f"{plain[:6]} {plain[6:]}",
        f"{pairs(plain[:6])}-{pairs(plain[6:])}",
        pairs(plain),
        f"16 {number}",
        in_script(number, "fullwidth"),
        in_script(plain, "arabic_indic"),
        between_digits(number, "\u200b"),
    ]
    assert found(" och ".join(texts)) == []


def test_scanner_ignores_wrong_check_digits_however_they_are_written() -> None:
    wrong = wrong_check(N)
    texts = [
        f"{wrong[:6]} {wrong[6:]}",
        f"{pairs(wrong[:6])}-{pairs(wrong[6:])}",
        in_script(wrong, "fullwidth"),
        between_digits(wrong, "\u034f"),
        f"19{wrong[:6]}\n{wrong[6:]}",
    ]
    assert found(" och ".join(texts)) == []


DATE_TIME = "2026-11-13 14.30"  # 2611131430: a valid date and check digit
DATE_RANGE = "2026-01-13–2026-02-05"  # 2601132026 likewise


@pytest.mark.parametrize(
    "text",
    [
        "Möte 2026-11-23 14.30 i Västerås.",
        f"Möte {DATE_TIME} i Västerås.",
        f"Möte {DATE_TIME.replace('.', '')} i Västerås.",
        f"Möte {DATE_TIME.replace('.', ' ')} i Västerås.",
        "Möte 13.11.2026 14.30 och 26-11-13 14.30.",
        f"Tillsyn {DATE_RANGE}.",
        f"Tillsyn {DATE_RANGE.replace('–', ' – ')}.",
        f"Tillsyn {DATE_RANGE.replace('–', '/')}.",
        "Tider 10.05 13.00 15.30 och 10.05-13.00-15.30.",
        "KS Dnr 2025/01439, undertecknad 2026-01-29 kl. 10.30.",
    ],
)
def test_scanner_ignores_dates_and_times(text: str) -> None:
    assert reference_luhn_ok(re.sub(r"\D", "", DATE_TIME)[2:])
    assert reference_luhn_ok(re.sub(r"\D", "", DATE_RANGE)[2:12])
    assert found(text) == []


@st.composite
def written_anyhow(draw: st.DrawFn) -> tuple[str, date, PersonalNumberKind, str]:
    """A valid number written in any of the ways above: (written, born, kind, YYMMDD)."""
    form = draw(st.sampled_from(["10", "10+", "12"]))
    if form == "10+":
        born = draw(st.dates(date(1900, 1, 1), HUNDRED_YEARS_AGO))
    elif form == "10":
        born = draw(st.dates(HUNDRED_YEARS_AGO + timedelta(days=1), TODAY))
    else:
        born = draw(st.dates(date(1900, 1, 1), TODAY))
    kind = draw(st.sampled_from(PersonalNumberKind))
    day = born.day + (60 if kind is SAMNR else 0)
    number = ten(f"{born:%y%m}{day:02d}", f"{draw(st.integers(0, 999)):03d}")
    groups = [number[i : i + 2] for i in range(0, 10, 2)]  # YY MM DD N N
    century = [f"{born:%Y}"[:2]] if form == "12" else []
    if draw(st.booleans()):  # YYMMDD-NNNN, with any separator or none
        gaps = ["", "", draw(st.sampled_from(["", *SEPARATORS])), ""]
    else:  # in pairs; a date written with marks keeps a mark before the serial
        date_gaps = [draw(st.sampled_from(SEPARATORS)) for _ in range(2)]
        serial_gap = draw(st.sampled_from(MARKS if any(g.strip() for g in date_gaps) else SEPARATORS))
        gaps = [*date_gaps, serial_gap, draw(st.sampled_from(["", *SPACES, *DASHES]))]
    if form == "10+":
        gaps[2] = draw(st.sampled_from(["+", " + ", "+\n"]))
    if century:
        gaps.insert(0, draw(st.sampled_from(["", *SEPARATORS])))
    pieces = [*century, *groups]
    written = pieces[0] + "".join(gap + piece for gap, piece in zip(gaps, pieces[1:], strict=True))
    script = draw(st.sampled_from(["ascii", "mixed", *SCRIPTS]))
    if script == "mixed":
        written = "".join(
            in_script(c, draw(st.sampled_from(list(SCRIPTS)))) if c.isdigit() else c for c in written
        )
    elif script != "ascii":
        written = in_script(written, script)
    # Invisible characters anywhere inside the number.
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(1, len(written) - 1))
        written = written[:at] + draw(st.sampled_from(INVISIBLES)) + written[at:]
    return written, born, kind, number[:6]


@settings(max_examples=200)
@given(written_anyhow(), no_digits, no_digits)
def test_scanner_finds_and_masks_any_writing_of_a_valid_number(
    generated: tuple[str, date, PersonalNumberKind, str], before: str, after: str
) -> None:
    written, born, kind, yymmdd = generated
    text = f"{before}{written}{after}"
    (match,) = find_personal_numbers(text, TODAY)
    assert (match.start, match.end) == (len(before), len(before) + len(written))
    assert (match.number.kind, match.number.birth_date) == (kind, born)
    masked = mask_personal_numbers(text, TODAY)
    # Only the number's own characters are replaced.
    assert masked == f"{before}{yymmdd}-XXXX{after}"
    # Read the way the scanner reads: the six date digits remain, the serial is gone.
    assert re.sub(r"\D", "", scanner_view(masked)) == yymmdd
    assert find_personal_numbers(masked, TODAY) == []


# --- Agreement with python-stdnum -----------------------------------------------------------

STDNUM_REASONS = {InvalidChecksum: Reason.CHECK_DIGIT, InvalidComponent: Reason.DATE}


def stdnum_reason(validate, value: str) -> Reason | None:
    """None if stdnum accepts `value`, else its error as our Reason."""
    try:
        validate(value)
    except ValidationError as error:
        return next((r for e, r in STDNUM_REASONS.items() if isinstance(error, e)), Reason.FORMAT)
    return None


def our_reason(parse, value: str, today: date = TODAY) -> Reason | None:
    try:
        parse(value, today)
    except IdentityNumberError as error:
        return error.reason
    return None


@st.composite
def maybe_valid_numbers(draw: st.DrawFn) -> tuple[str, str, bool, bool]:
    """(century, ten digits, date valid, check digit right): valid or off in date or check digit."""
    year = draw(st.integers(1800, 2099))
    month = draw(st.integers(0, 13))
    day = draw(st.integers(0, 32))
    nine = f"{year % 100:02d}{month:02d}{day:02d}{draw(st.integers(0, 999)):03d}"
    check = draw(st.one_of(st.just(luhn_check_digit(nine)), st.integers(0, 9)))
    try:
        date(year, month, day)
        date_valid = True
    except ValueError:
        date_valid = False
    return f"{year:04d}"[:2], f"{nine}{check}", date_valid, reference_luhn_ok(f"{nine}{check}")


@settings(max_examples=200)
@given(maybe_valid_numbers(), st.sampled_from(["-", ""]))
def test_personal_numbers_agree_with_stdnum(generated: tuple[str, str, bool, bool], sep: str) -> None:
    century, number, date_valid, check_right = generated
    twelve = f"{century}{number[:6]}{sep}{number[6:]}"
    ours, theirs = (
        our_reason(parse_personal_number, twelve),
        stdnum_reason(stdnum_personnummer.validate, twelve),
    )
    assert (ours is None) == (theirs is None) == (date_valid and check_right)
    # stdnum checks the date first, we the check digit; with one fault both name it.
    if date_valid or check_right:
        assert ours == theirs
    # The 10-digit forms: stdnum takes the century from the real today's date.
    for ten_digit in (f"{number[:6]}{sep}{number[6:]}", f"{number[:6]}+{number[6:]}"):
        assert (our_reason(parse_personal_number, ten_digit, date.today()) is None) == (
            stdnum_personnummer.is_valid(ten_digit)
        )


def test_stdnum_does_not_know_coordination_numbers() -> None:
    # Why coordination numbers keep our own date check.
    assert stdnum_reason(stdnum_personnummer.validate, "19701063-2391") is Reason.DATE
    assert parse_personal_number("19701063-2391", TODAY).kind is SAMNR


@settings(max_examples=200)
@given(
    st.text("0123456789", min_size=9, max_size=9), st.integers(20, 99), st.data(), st.sampled_from(["-", ""])
)
def test_organisation_numbers_agree_with_stdnum(
    rest: str, month_digits: int, data: st.DataObject, sep: str
) -> None:
    nine = rest[:2] + str(month_digits) + rest[2:7]
    check = data.draw(st.one_of(st.just(luhn_check_digit(nine)), st.integers(0, 9)))
    number = f"{nine[:6]}{sep}{nine[6:]}{check}"
    assert our_reason(parse_org_number, number) == stdnum_reason(stdnum_orgnr.validate, number)
    # Any 10 digits: what we accept (sole traders too) stdnum accepts.
    any_ten = f"{rest}{check}"
    if our_reason(parse_org_number, any_ten) is None:
        assert stdnum_orgnr.is_valid(any_ten)
