"""Joint inspections below the chat: the booking form's rules, the numbering, the conflict
warnings, and the repository on both databases (numbers, parts, answers, history)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.inspections import (
    Booked,
    PartState,
    Status,
    conflicts,
    inspection_number,
    overall_status,
    parse_inspection_number,
    validate_booking,
)
from bot.domain.visibility import Visibility
from bot.services.membership import Applicant, MembershipService
from bot.settings import Settings
from bot.storage import db
from bot.storage.inspections import Inspections
from bot.storage.membership import Agencies

ZONE = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
CODES = {"MHF": 1, "POL": 2, "SKV": 3}
VALID = {
    "name": "Bilverkstad Exempel AB",
    "org_number": "556016-0680",
    "address": "Verkstadsgatan 4, Västerås",
    "date": "2026-12-02",  # a Wednesday
    "start_time": "09:00",
    "end_time": "11:30",
    "meeting_point": "Parkeringen vid Verkstadsgatan 2",
    "lead_agency": "MHF",
    "agencies": "POL,SKV",
    "note_POL": "Två patruller, civila bilar.",
    "visibility": "agencies",
}


def booking(**changes: str):  # type: ignore[no-untyped-def]
    return validate_booking(
        {**VALID, **changes}, booker_agency_id=1, agency_ids_by_code=CODES, now=NOW, zone=ZONE
    )


def test_a_valid_booking_is_a_draft_with_the_lead_first_and_local_times() -> None:
    form = booking()
    assert form.errors == {} and form.asks == {}
    draft = form.draft
    assert draft is not None
    assert draft.agency_ids == (1, 2, 3) and draft.lead_agency_id == 1
    assert draft.starts_at == datetime(2026, 12, 2, 9, 0, tzinfo=ZONE)
    assert draft.ends_at - draft.starts_at == timedelta(hours=2, minutes=30)
    assert draft.notes == {2: "Två patruller, civila bilar."}
    assert draft.org_number is not None and draft.org_number.normalized == "556016-0680"
    # the participating agencies see it at the narrowest, the whole forum when chosen
    assert draft.audience(1).visibility is Visibility.AGENCIES
    assert draft.audience(1).shared_agency_ids == frozenset({2, 3})
    assert booking(visibility="forum").draft.audience(1).visibility is Visibility.FORUM  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "field", "key"),
    [
        ({"name": ""}, "name", "form.required"),
        ({"org_number": "556016-0681"}, "org_number", "form.org_number.check_digit"),
        ({"date": "2026-02-30"}, "date", "form.date"),
        ({"start_time": "9.00"}, "start_time", "form.time"),
        ({"end_time": "08:00"}, "end_time", "inspection.form.end_before_start"),
        ({"end_time": "09:00"}, "end_time", "inspection.form.end_before_start"),
        ({"date": "2026-11-20"}, "date", "inspection.form.past"),
        ({"agencies": ""}, "agencies", "inspection.form.agencies_two"),
        ({"agencies": "MHF"}, "agencies", "inspection.form.agencies_two"),
        ({"agencies": "POL,XYZ"}, "agencies", "form.agencies_unknown"),
        ({"lead_agency": "XYZ"}, "lead_agency", "form.agencies_unknown"),
        ({"visibility": "agency"}, "visibility", "form.choice"),
        ({"note_SKV": "Ägaren 19811218-9876 är anmäld"}, "note_SKV", "form.personal_number"),
        ({"meeting_point": "Hos 811218-9876"}, "meeting_point", "form.personal_number"),
        ({"address": "x" * 301}, "address", "form.too_long"),
    ],
)
def test_each_problem_is_shown_by_its_field_with_the_values_kept(
    changes: dict[str, str], field: str, key: str
) -> None:
    form = booking(**changes)
    assert form.draft is None
    assert form.errors.get(field) == key, form.errors
    assert form.values["name"] == changes.get("name", VALID["name"])


def test_off_hours_weekends_and_holidays_ask_first() -> None:
    assert booking(start_time="06:30").asks == {"off_hours": ""}
    assert booking(end_time="19:00").asks == {"off_hours": ""}
    assert booking(date="2026-12-05").asks == {"weekend": ""}  # a Saturday
    assert booking(date="2026-12-24").asks == {"holiday": "Julafton"}
    assert booking(date="2026-12-25", start_time="20:00", end_time="22:00").asks == {
        "holiday": "Juldagen",
        "off_hours": "",
    }


def test_numbers() -> None:
    assert inspection_number(2026, 7) == "T-2026-0007"
    assert parse_inspection_number("visa t-2026-0007 tack") == (2026, 7)
    assert parse_inspection_number("F-2026-0007") is None


def other(number: int, start: datetime, hours: float = 2, agencies=(2,), org="556016-0680", **kw):  # type: ignore[no-untyped-def]
    return Booked(
        number,
        inspection_number(2026, number),
        start,
        start + timedelta(hours=hours),
        tuple(agencies),
        org,
        kw.get("name", "Annan AB"),
        kw.get("address", "Annan väg 1"),
        kw.get("status", Status.BOOKED),
    )


def test_conflicts_an_agency_busy_at_the_time_and_the_business_inspected_lately() -> None:
    draft = booking().draft
    assert draft is not None
    start = draft.starts_at
    found = conflicts(
        draft,
        [
            other(1, start + timedelta(hours=2), agencies=(2, 4), org="212000-1355"),  # POL, overlapping
            other(2, start + timedelta(hours=3), agencies=(2,), org="212000-1355"),  # after it ends
            other(3, start - timedelta(days=60), agencies=(4,)),  # same business, two months ago
            other(4, start - timedelta(days=400), agencies=(4,)),  # same business, too long ago
            other(5, start, agencies=(3,), status=Status.CANCELLED),  # cancelled: nothing
            other(
                6,
                start - timedelta(days=10),
                agencies=(4,),
                org=None,
                name="BILVERKSTAD  exempel ab",
                address="Verkstadsgatan 4, Västerås",
            ),
        ],
        recent_months=6,
    )
    assert [(c.kind, c.other.id, c.agency_ids) for c in found] == [
        ("overlap", 1, (2,)),
        ("recent", 3, ()),
        ("recent", 6, ()),
    ]


def test_the_booking_is_confirmed_when_every_agency_has_confirmed() -> None:
    assert overall_status([PartState.CONFIRMED, PartState.CONFIRMED]) is Status.CONFIRMED
    assert overall_status([PartState.CONFIRMED, PartState.ASKED]) is Status.BOOKED
    assert overall_status([PartState.CONFIRMED, PartState.DECLINED]) is Status.BOOKED
    assert overall_status([PartState.CONFIRMED], cancelled=True) is Status.CANCELLED


async def test_the_repository_numbers_each_year_and_keeps_each_agency_answer(
    database_url: str, settings: Settings
) -> None:
    engine = db.create_engine(database_url)
    try:
        await db.upgrade(engine)
        sessions = db.session_factory(engine)
        async with db.unit_of_work(sessions) as session:
            await Agencies(session).seed(settings.agency_entries())
            agencies = {a.code: a.id for a in await Agencies(session).active()}
            forum = MembershipService(session, settings)
            applicant = Applicant("aad-1", "29:one", "Carl Samordnare", "carl@example.se")
            member = await forum.apply(applicant, await forum.agencies.by_code("MHF"), by="test")  # type: ignore[arg-type]
            form = validate_booking(
                {**VALID, "lead_agency": "MHF", "agencies": "POL,SKV"},
                booker_agency_id=agencies["MHF"],
                agency_ids_by_code=agencies,
                now=NOW,
                zone=ZONE,
            )
            assert form.draft is not None
            repo = Inspections(session)
            first = await repo.add(
                form.draft, year=2026, booked_by=member.id, booker_agency_id=agencies["MHF"]
            )
            second = await repo.add(
                form.draft,
                year=2026,
                booked_by=member.id,
                booker_agency_id=agencies["MHF"],
                overridden=[{"kind": "overlap", "number": first.number}],
            )
            assert (first.number, second.number) == ("T-2026-0001", "T-2026-0002")
            assert [p.agency_id for p in first.parts] == [agencies["MHF"], agencies["POL"], agencies["SKV"]]
            assert {p.state for p in first.parts} == {PartState.ASKED}
            assert first.part(agencies["POL"]).note == "Två patruller, civila bilar."  # type: ignore[union-attr]
            assert second.overridden == ({"kind": "overlap", "number": "T-2026-0001"},)

            assert await repo.answer(
                first.id, agencies["POL"], PartState.CONFIRMED, by=member.id, who="Per Polis"
            )
            assert not await repo.answer(first.id, agencies["AV"], PartState.CONFIRMED, by=member.id)
            assert await repo.lock(first.id) == 2
            await repo.record(first.id, "confirmed", actor_id=member.id, agency_id=agencies["POL"])
        async with db.unit_of_work(sessions) as session:
            repo = Inspections(session)
            again = await repo.by_number("T-2026-0001")
            assert again is not None and again.version == 2
            part = again.part(agencies["POL"])
            assert part is not None and part.state is PartState.CONFIRMED and part.who == "Per Polis"
            assert part.answered_at is not None
            assert [e.kind for e in await repo.history(first.id)] == ["confirmed"]
            near = await repo.around(
                again.starts_at + timedelta(hours=1),
                again.ends_at + timedelta(hours=1),
                "556016-0680",
                again.starts_at - timedelta(days=180),
            )
            assert {v.number for v in near} == {"T-2026-0001", "T-2026-0002"}
            await repo.set_status(second.id, Status.CANCELLED)
            near = await repo.around(again.starts_at, again.ends_at, None, again.starts_at)
            assert {v.number for v in near} == {"T-2026-0001"}
    finally:
        await engine.dispose()
