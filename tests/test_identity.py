"""Organisation numbers, personal and coordination numbers, and the free-text scanner.

Personal numbers here are synthetic (check digit computed below) or Skatteverket's published
test number 19121212-1212; no real person's number is used.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    return [(text[m.start : m.end], m.kind) for m in find_personal_numbers(text, TODAY)]


def test_scanner_finds_numbers_in_swedish_sentences() -> None:
    a, b, c = ten("850714"), ten("031231", "456"), ten("701063", "239")
    text = (
        f"Ägaren (pnr {dash(a)}) driver nagelsalongen sedan 2019. Anställd: 20{b}, "
        f"samordningsnummer {dash(c)}; kontrollerad den 2026-01-29."
    )
    assert found(text) == [(dash(a), PNR), ("20" + b, PNR), (dash(c), SAMNR)]
    match = find_personal_numbers(text, TODAY)[0]
    assert match.span == (text.index(dash(a)), text.index(dash(a)) + 11)
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


no_digits = st.text(st.characters(exclude_categories=["Nd", "Cs"]), max_size=40)


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
    assert match.span == (len(before), len(before) + len(written))
    assert (match.kind, match.number.birth_date) == (kind, born)


# Words between numbers are never empty: two numbers written digit to digit are one longer run.
@given(st.lists(st.tuples(no_digits.filter(bool), personal_numbers()), min_size=1, max_size=4), no_digits)
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
