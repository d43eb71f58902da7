"""Booking joint inspections over HTTP: the form and its errors, the warnings a coordinator
confirms before booking (off hours, an agency busy, the business inspected lately, as far as the
coordinator may see), each participating agency's answer with every copy of the card following,
the coordinator told, and the calendar invitation parsed back across daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select

from bot.storage.models import AuditEntry, Inspection, InspectionPart
from tests.conftest import ADMIN, COORDINATOR, INSPECTOR, POLICE, TAX
from tests.support.harness import Harness, actions_of, card_text, cards_of
from tests.support.teams import CHANNEL_ID, TeamsUser
from tests.support.texts import SV
from tests.test_files import fetch, path_of
from tests.test_proposals import forum as forum_with_tax

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday
ZONE = ZoneInfo("Europe/Stockholm")
POL = "Polisen – lokalpolisområde Västerås"
SKV = "Skatteverket"
MHF = "Västerås stad – miljö- och hälsoskyddsförvaltningen"
BOOKING = {
    "action": "inspection.create",
    "name": "Bilverkstad Exempel AB",
    "org_number": "556016-0680",
    "address": "Verkstadsgatan 4, Västerås",
    "date": "2026-12-02",
    "start_time": "09:00",
    "end_time": "11:30",
    "meeting_point": "Parkeringen vid Verkstadsgatan 2",
    "lead_agency": "MHF",
    "agencies": "POL,SKV",
    "note_POL": "Två patruller i civila bilar.",
    "visibility": "agencies",
}


async def forum(bot: Harness) -> None:
    bot.clock.moment = NOW
    await forum_with_tax(bot)
    await bot.drain_outbox()
    bot.connector.clear()


def button(card: dict[str, Any], action: str, **data: Any) -> dict[str, Any]:
    (found,) = [
        a
        for a in actions_of(card)
        if a["data"]["action"] == action and all(a["data"].get(k) == v for k, v in data.items())
    ]
    return found


async def form_token(bot: Harness, who: TeamsUser = COORDINATOR) -> str:
    card = (await bot.say(who, "boka tillsyn")).cards[0]
    assert SV("inspection.form.title") in card_text(card)
    return str(button(card, "inspection.create")["data"]["form_token"])


async def book(bot: Harness, who: TeamsUser = COORDINATOR, token: str | None = None, **fields: Any) -> Any:
    values = {**BOOKING, "form_token": token or await form_token(bot, who), **fields}
    return await bot.submit(who, values, reply_to_id="booking-form")


async def booked(bot: Harness, **fields: Any) -> dict[str, Any]:
    """A booking made without warnings; the coordinator's card of it."""
    response = await book(bot, **fields)
    (card,) = response.updated_cards
    assert SV("inspection.booked") in card_text(card), card_text(card)
    await bot.drain_outbox()
    return card


async def inspections(bot: Harness) -> list[Inspection]:
    async with bot.sessions() as session:
        return list(await session.scalars(select(Inspection).order_by(Inspection.id)))


def request_card(bot: Harness, who: TeamsUser, number: str = "T-2026-0001") -> dict[str, Any]:
    """The inspection's card as `who` got it in personal chat (with the message's id)."""
    sent = bot.connector.sent(who.personal_conversation)
    asked = [
        {**card, "message_id": activity["id"]}
        for activity in sent
        for card in cards_of([activity])
        if SV("inspection.title", number=number) in card_text(card)
    ]
    assert asked, [card_text(c) for c in cards_of(sent)]
    return asked[-1]


async def answer(bot: Harness, person: TeamsUser, card: dict[str, Any], kind: str, **inputs: Any) -> Any:
    value = {**button(card, "inspection.answer", answer=kind)["data"], **inputs}
    return await bot.submit(person, value, reply_to_id=card.get("message_id", "inspection-card"))


# Booking -------------------------------------------------------------------------------------


async def test_a_coordinator_books_and_each_participating_agency_is_asked(bot: Harness) -> None:
    await forum(bot)
    card = await booked(bot)
    text = card_text(card)
    assert SV("inspection.title", number="T-2026-0001") in text
    assert "onsdag 2 december 2026 kl. 09.00–11.30" in text
    assert SV.plural("inspection.waiting", 3) in text
    assert f"**{POL}**: {SV('inspection.part.asked')}" in text
    assert "Två patruller i civila bilar." in text
    # the booker's agency takes part too: he may answer for it on his own card
    assert SV("inspection.answer_intro", agency=MHF) in text

    (stored,) = await inspections(bot)
    assert (stored.number, stored.status, stored.visibility) == ("T-2026-0001", "booked", "agencies")
    assert stored.starts_at == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    # every approved member of a participating agency is asked, in personal chat; no one else
    for person, agency in ((POLICE, POL), (TAX, SKV), (INSPECTOR, MHF)):
        asked = card_text(request_card(bot, person))
        assert SV("inspection.answer_intro", agency=agency) in asked, person.key
    assert not any(
        "T-2026-0001" in json_text for json_text in map(str, bot.connector.sent(ADMIN.personal_conversation))
    )
    async with bot.sessions() as session:
        audited = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "booked")))
    assert [(a.item_type, a.details["number"]) for a in audited] == [("inspection", "T-2026-0001")]

    # the next is numbered on; `tillsyn T-…` shows it to those who may see it
    await booked(bot, date="2026-12-09", name="Annan Verkstad AB", org_number="")
    assert [i.number for i in await inspections(bot)] == ["T-2026-0001", "T-2026-0002"]
    shown = await bot.say(POLICE, "inspektion T-2026-0002")
    assert "Annan Verkstad AB" in card_text(shown.cards[0])
    refused = await bot.say(ADMIN, "inspektion T-2026-0002")
    assert refused.texts == [SV("inspection.not_for_you")]


async def test_errors_are_shown_by_their_fields_with_the_values_kept_and_nothing_stored(bot: Harness) -> None:
    await forum(bot)
    response = await book(
        bot, org_number="556016-0681", end_time="08:00", note_SKV="Ägaren 19811218-9876 har anmälts"
    )
    (card,) = response.updated_cards
    text = card_text(card)
    assert SV("form.fix_errors") in text
    assert SV("form.org_number.check_digit") in text
    assert SV("inspection.form.end_before_start") in text
    assert SV("form.personal_number") in text
    fields = {b["id"]: b.get("value") for b in card["body"] if "id" in b}
    assert fields["org_number"] == "556016-0681" and fields["name"] == BOOKING["name"]
    assert await inspections(bot) == []


async def test_only_coordinators_book(bot: Harness) -> None:
    await forum(bot)
    refused = await bot.say(INSPECTOR, "boka tillsyn")
    assert refused.texts == [SV("common.not_allowed")]
    token = await form_token(bot)
    forged = await bot.submit(INSPECTOR, {**BOOKING, "form_token": token})
    assert forged.texts == [SV("common.not_allowed")]
    stale = await bot.submit(COORDINATOR, {**BOOKING, "form_token": "no-such-form"})
    assert stale.texts == [SV("inspection.form_out_of_date")]
    assert await inspections(bot) == []


async def test_off_hours_are_booked_only_after_a_yes_which_is_noted(bot: Harness) -> None:
    await forum(bot)
    token = await form_token(bot)
    warned = (await book(bot, token=token, start_time="06:00")).updated_cards[0]
    assert SV("inspection.warn.off_hours") in card_text(warned)
    anyway = button(warned, "inspection.create")
    assert anyway["title"] == SV("inspection.form.book_anyway") and anyway["data"]["confirm"]
    assert await inspections(bot) == []
    # a yes to what was warned of, for a different booking, is no yes: warned again
    changed = await bot.submit(
        COORDINATOR, {**BOOKING, **anyway["data"], "start_time": "06:30"}, reply_to_id="booking-form"
    )
    assert SV("inspection.warn.off_hours") in card_text(changed.updated_cards[0])
    assert await inspections(bot) == []

    done = await bot.submit(
        COORDINATOR, {**BOOKING, **anyway["data"], "start_time": "06:00"}, reply_to_id="booking-form"
    )
    (card,) = done.updated_cards
    assert SV("inspection.booked_despite", warning=SV("inspection.warn.off_hours")) in card_text(card)
    (stored,) = await inspections(bot)
    assert stored.overridden == [{"kind": "off_hours", "detail": ""}]


async def test_an_agency_busy_and_the_business_inspected_lately_are_warned_of_as_far_as_seen(
    bot: Harness,
) -> None:
    await forum(bot)
    await booked(bot)  # T-2026-0001: MHF, POL, SKV on 2 December 09.00–11.30
    # the administrator (SLK) books POL and SKV for another business at 10.00; the coordinator
    # of MHF may not see it
    await bot.submit(
        ADMIN,
        {
            **BOOKING,
            "form_token": await form_token(bot, ADMIN),
            "lead_agency": "SLK",
            "name": "Hemlig AB",
            "org_number": "",
            "start_time": "10:00",
            "end_time": "12:00",
        },
    )
    # she may not see T-2026-0001 (MHF, POL, SKV), so she is not warned of it: booked
    assert [i.number for i in await inspections(bot)] == ["T-2026-0001", "T-2026-0002"]

    response = await book(
        bot,
        date="2026-12-02",
        start_time="10:00",
        end_time="12:00",
        name="Annan AB",
        org_number="",
        agencies="POL",
    )
    text = card_text(response.updated_cards[0])
    assert (
        SV(
            "inspection.warn.overlap",
            agencies=POL,
            number="T-2026-0001",
            when="onsdag 2 december 2026 kl. 09.00–11.30",
        )
        in text
    )
    assert "Hemlig" not in text

    later = await book(bot, date="2027-01-12")  # the same business, six weeks on
    text = card_text(later.updated_cards[0])
    assert (
        SV(
            "inspection.warn.recent",
            business=BOOKING["name"],
            number="T-2026-0001",
            when="onsdag 2 december 2026 kl. 09.00–11.30",
            months=6,
        )
        in text
    )


# Answers ---------------------------------------------------------------------------------------


async def test_each_agency_answers_and_every_copy_follows_and_the_coordinator_is_told(bot: Harness) -> None:
    await forum(bot)
    await booked(bot)
    police_card, tax_card, inspector_card = (request_card(bot, p) for p in (POLICE, TAX, INSPECTOR))
    bot.connector.clear()

    # confirming needs a name; the card says so by the field, with nothing saved
    missing = await answer(bot, POLICE, police_card, "confirm")
    assert SV("inspection.answer.who_needed") in card_text(missing.updated_cards[0])
    confirmed = await answer(bot, POLICE, police_card, "confirm", who="Per Polis och Kim Ek")
    text = card_text(confirmed.updated_cards[0])
    assert SV("inspection.answered.confirm") in text
    assert f"**{POL}**: {SV('inspection.part.confirmed')} – Per Polis och Kim Ek" in text
    await bot.drain_outbox()
    # the coordinator's copy and the others' requests are brought up to date in place
    for person in (COORDINATOR, TAX, INSPECTOR):
        updates = [
            card_text(c)
            for r in bot.connector.updated(person.personal_conversation)
            for c in cards_of([r.body])
        ]
        assert any("Per Polis och Kim Ek" in u for u in updates), person.key

    # a decline needs a reason, and the coordinator hears of it at once
    assert SV("inspection.answer.reason_needed") in card_text(
        (await answer(bot, TAX, tax_card, "decline")).updated_cards[0]
    )
    await answer(bot, TAX, tax_card, "decline", reason="Ingen personal den veckan.")
    await bot.drain_outbox()
    told = [a.get("text") for a in bot.connector.sent(COORDINATOR.personal_conversation)]
    assert SV("inspection.told.declined", agency=SKV, number="T-2026-0001", name="Sara Skatt") in told

    # the last answer: every agency has answered, not all confirmed
    await answer(bot, INSPECTOR, inspector_card, "confirm", who="Ingrid Inspektör")
    await bot.drain_outbox()
    told = [a.get("text") for a in bot.connector.sent(COORDINATOR.personal_conversation)]
    assert SV("inspection.told.all_answered", number="T-2026-0001") in told
    (stored,) = await inspections(bot)
    assert stored.status == "booked"
    async with bot.sessions() as session:
        parts = {p.agency_id: p.state for p in await session.scalars(select(InspectionPart))}
    assert sorted(parts.values()) == ["confirmed", "confirmed", "declined"]

    # SKV thinks again: all confirmed now
    await answer(bot, TAX, tax_card, "confirm", who="Sara Skatt")
    await bot.drain_outbox()
    (stored,) = await inspections(bot)
    assert stored.status == "confirmed"
    told = [a.get("text") for a in bot.connector.sent(COORDINATOR.personal_conversation)]
    assert SV("inspection.told.all_confirmed", number="T-2026-0001") in told


async def test_another_time_is_a_day_and_a_time_ahead(bot: Harness) -> None:
    await forum(bot)
    await booked(bot)
    card = request_card(bot, POLICE)
    past = await answer(bot, POLICE, card, "other_time", other_date="2026-11-01", other_time="09:00")
    assert SV("inspection.form.past") in card_text(past.updated_cards[0])
    bad = await answer(bot, POLICE, card, "other_time", other_date="", other_time="09:00")
    assert SV("inspection.answer.time_needed") in card_text(bad.updated_cards[0])
    done = await answer(bot, POLICE, card, "other_time", other_date="2026-12-03", other_time="13:00")
    assert "torsdag 3 december 2026 kl. 13.00" in card_text(done.updated_cards[0])
    await bot.drain_outbox()
    told = [a.get("text") for a in bot.connector.sent(COORDINATOR.personal_conversation)]
    assert SV("inspection.told.other_time", agency=POL, number="T-2026-0001", name="Per Polis") in told


async def test_only_a_participating_agency_answers_and_forged_answers_are_refused(bot: Harness) -> None:
    await forum(bot)
    await booked(bot)
    card = request_card(bot, POLICE)
    outsider = await answer(bot, ADMIN, card, "confirm", who="Anna")
    assert outsider.texts == [SV("inspection.not_for_you")]
    forged = await bot.submit(
        POLICE,
        {**button(card, "inspection.answer", answer="confirm")["data"], "inspection_id": 999, "who": "x"},
    )
    assert forged.texts == [SV("inspection.not_for_you")]
    wrong = await bot.submit(
        POLICE, {**button(card, "inspection.answer", answer="confirm")["data"], "answer": "maybe"}
    )
    assert wrong.texts == [SV("common.bad_card")]
    async with bot.sessions() as session:
        assert {p.state for p in await session.scalars(select(InspectionPart))} == {"asked"}


# The calendar ------------------------------------------------------------------------------------


async def calendar(bot: Harness, who: TeamsUser, card: dict[str, Any]) -> Calendar:
    response = await bot.submit(who, button(card, "inspection.calendar")["data"])
    (link,) = response.cards
    (action,) = link["actions"]
    fetched = await fetch(bot, path_of(action["url"]))
    assert fetched.status == 200 and fetched.headers["Content-Type"] == "text/calendar"
    return Calendar.from_ical(fetched.body)


async def test_a_confirmed_participant_gets_the_invitation_in_local_time_across_daylight_saving(
    bot: Harness,
) -> None:
    await forum(bot)
    # before and after the clocks go forward on 28 March 2027
    await booked(bot, date="2027-03-25", start_time="09:00", end_time="11:00")
    await booked(bot, date="2027-03-30", start_time="09:00", end_time="11:00", name="Annan AB", org_number="")
    for number, utc_hour in (("T-2026-0001", 8), ("T-2026-0002", 7)):
        card = request_card(bot, POLICE, number)
        assert not [a for a in actions_of(card) if a["data"]["action"] == "inspection.calendar"]
        confirmed = (await answer(bot, POLICE, card, "confirm", who="Per Polis")).updated_cards[0]
        invitation = await calendar(bot, POLICE, confirmed)
        assert str(invitation["METHOD"]) == "REQUEST"
        assert [str(z["TZID"]) for z in invitation.walk("VTIMEZONE")] == ["Europe/Stockholm"]
        (event,) = invitation.walk("VEVENT")
        assert str(event["UID"]) == f"{number}@forumbot.vasteras-myndighetsforum"
        assert int(event["SEQUENCE"]) == 0
        start = event["DTSTART"].dt
        assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
        assert (start.hour, start.minute) == (9, 0)
        assert start.astimezone(UTC).hour == utc_hour
        attendees = event["ATTENDEE"] if isinstance(event["ATTENDEE"], list) else [event["ATTENDEE"]]
        assert [a.params["CN"] for a in attendees] == [f"{POL}: Per Polis"]
    # an agency that has not confirmed gets no file
    tax_card = request_card(bot, TAX)
    response = await bot.submit(TAX, {"action": "inspection.calendar", "inspection_id": 1})
    assert response.texts == [SV("inspection.no_calendar")]
    del tax_card


# From a proposal -----------------------------------------------------------------------------


async def test_an_accepted_proposal_is_booked_from_its_card_and_is_planned_with_the_number(
    bot: Harness,
) -> None:
    from tests.test_proposals import VALID, propose, transition_data

    await forum(bot)
    await propose(bot)  # F-2026-0001 by the inspector of MHF, for POL and SKV, forum-wide
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    await bot.submit(COORDINATOR, transition_data(card, "accept"), reply_to_id="proposal-card")
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    book_button = button(card, "inspection.from_proposal")
    assert book_button["title"] == SV("proposal.book_inspection")
    inspector_card = (await bot.say(INSPECTOR, "förslag F-2026-0001")).cards[0]
    assert not [a for a in actions_of(inspector_card) if a["data"]["action"] == "inspection.from_proposal"]
    forged = await bot.submit(INSPECTOR, book_button["data"])
    assert forged.texts == [SV("common.not_allowed")]

    form = (await bot.submit(COORDINATOR, book_button["data"])).cards[0]
    assert SV("inspection.form.from_proposal", proposal=f"F-2026-0001 {VALID['name']}") in card_text(form)
    fields = {b["id"]: b.get("value") for b in form["body"] if "id" in b}
    assert fields["name"] == VALID["name"] and fields["org_number"] == VALID["org_number"]
    assert fields["address"] == VALID["address"] and fields["agencies"] == "POL,SKV"
    assert fields["visibility"] == "forum" and fields["lead_agency"] == "MHF"
    token = button(form, "inspection.create")["data"]["form_token"]
    # an error first: the proposal stays linked to the form that comes back
    again = await bot.submit(
        COORDINATOR,
        {
            "action": "inspection.create",
            "form_token": token,
            **fields,
            "date": "2026-12-02",
            "start_time": "09:00",
            "end_time": "",
        },
        reply_to_id="booking-form",
    )
    retry = again.updated_cards[0]
    assert SV("inspection.form.from_proposal", proposal=f"F-2026-0001 {VALID['name']}") in card_text(retry)
    done = await bot.submit(
        COORDINATOR,
        {
            **button(retry, "inspection.create")["data"],
            **fields,
            "date": "2026-12-02",
            "start_time": "09:00",
            "end_time": "11:00",
        },
        reply_to_id="booking-form",
    )
    assert SV("inspection.booked") in card_text(done.updated_cards[0])
    (stored,) = await inspections(bot)
    assert stored.proposal_id is not None and stored.visibility == "forum"

    proposal = card_text((await bot.say(POLICE, "förslag F-2026-0001")).cards[0])
    assert SV("status.proposal.planned") in proposal
    assert (
        SV("proposal.shown.inspections", inspections=f"T-2026-0001 ({SV('inspection.status.short.booked')})")
        in proposal
    )
    # once planned, it is booked no more from its card
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    assert not [a for a in actions_of(card) if a["data"]["action"] == "inspection.from_proposal"]
    late = await bot.submit(COORDINATOR, book_button["data"])
    assert late.texts == [SV("inspection.proposal_gone")]


# Reminders, moving and cancelling --------------------------------------------------------------


async def tick(bot: Harness, at: datetime) -> int:
    from bot.app import TASKS

    bot.clock.moment = at
    done = await bot.app[TASKS].run_due()
    await bot.drain_outbox()
    return done


def texts_to(bot: Harness, who: TeamsUser) -> list[str]:
    return [a["text"] for a in bot.connector.sent(who.personal_conversation) if a.get("text")]


async def test_participants_are_reminded_the_working_day_before_and_two_hours_before_once_each(
    bot: Harness,
) -> None:
    from bot.services import task_handlers
    from bot.services.schedule import TaskRunner

    await forum(bot)
    await booked(bot, date="2026-12-07")  # a Monday, 09.00–11.30: reminded Friday at 09.00
    await answer(bot, TAX, request_card(bot, TAX), "decline", reason="Ingen personal.")
    second = TaskRunner(bot.sessions, task_handlers(bot.settings), clock=bot.clock)
    reminder = SV(
        "inspection.reminder",
        number="T-2026-0001",
        business=BOOKING["name"],
        when="måndag 7 december 2026 kl. 09.00–11.30",
        place=BOOKING["meeting_point"],
        lead=MHF,
    )
    assert await tick(bot, datetime(2026, 12, 4, 7, 59, tzinfo=UTC)) == 0
    bot.clock.moment = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 09.00
    from bot.app import TASKS

    assert sum([await bot.app[TASKS].run_due(), await second.run_due()]) == 1
    await bot.drain_outbox()
    for person in (POLICE, INSPECTOR, COORDINATOR):
        assert texts_to(bot, person).count(reminder) == 1, person.key
    assert reminder not in texts_to(bot, TAX)  # SKV declined
    assert reminder not in texts_to(bot, ADMIN)
    # the bot restarts: the schedule is in the database, and what was done stays done
    await bot.stop()
    await bot.start()
    assert await tick(bot, datetime(2026, 12, 4, 9, 0, tzinfo=UTC)) == 0
    # two hours before: 07.00 local, 06.00 UTC
    assert await tick(bot, datetime(2026, 12, 7, 5, 59, tzinfo=UTC)) == 0
    assert await tick(bot, datetime(2026, 12, 7, 6, 0, tzinfo=UTC)) == 1
    assert texts_to(bot, POLICE).count(reminder) == 2
    assert await tick(bot, datetime(2026, 12, 8, 6, 0, tzinfo=UTC)) == 0


async def test_a_move_asks_every_agency_again_tells_everyone_and_updates_the_invitation(bot: Harness) -> None:
    await forum(bot)
    card = await booked(bot)
    police_card = request_card(bot, POLICE)
    await answer(bot, POLICE, police_card, "confirm", who="Per Polis")
    await bot.drain_outbox()
    police_message = police_card["message_id"]
    # only those who may manage it see the buttons; the inspector may not move it
    assert not [
        a for a in actions_of(request_card(bot, INSPECTOR)) if a["data"]["action"] == "inspection.move_form"
    ]
    refused = await bot.submit(INSPECTOR, {"action": "inspection.move_form", "inspection_id": 1})
    assert refused.texts == [SV("inspection.not_manager")]

    form = (await bot.submit(COORDINATOR, button(card, "inspection.move_form")["data"])).cards[0]
    fields = {b["id"]: b.get("value") for b in form["body"] if "id" in b}
    assert fields == {"date": "2026-12-02", "start_time": "09:00", "end_time": "11:30", "note": ""}
    move = button(form, "inspection.move")["data"]
    # Saturday: asked first
    warned = await bot.submit(COORDINATOR, {**move, **fields, "date": "2026-12-05"}, reply_to_id="move-form")
    assert SV("inspection.warn.weekend") in card_text(warned.updated_cards[0])
    bot.connector.clear()
    done = await bot.submit(
        COORDINATOR,
        {
            **move,
            **fields,
            "date": "2026-12-03",
            "start_time": "13:00",
            "end_time": "15:00",
            "note": "Lokalen är stängd",
        },
        reply_to_id="move-form",
    )
    moved = card_text(done.updated_cards[0])
    assert SV("inspection.moved") in moved and "torsdag 3 december 2026 kl. 13.00–15.00" in moved
    assert f"**{POL}**: {SV('inspection.part.asked')}" in moved  # asked to confirm again
    await bot.drain_outbox()
    told = SV(
        "inspection.told.moved",
        number="T-2026-0001",
        business=BOOKING["name"],
        when="torsdag 3 december 2026 kl. 13.00–15.00",
        note="Lokalen är stängd",
    )
    for person in (POLICE, TAX, INSPECTOR):
        assert texts_to(bot, person) == [told], person.key
    assert police_message in [r.activity_id for r in bot.connector.updated(POLICE.personal_conversation)]
    (stored,) = await inspections(bot)
    assert stored.ics_sequence == 1 and stored.status == "booked"
    # the stale card's move is refused; the new time's invitation has its sequence raised
    stale = await bot.submit(COORDINATOR, {**move, **fields, "date": "2026-12-04"}, reply_to_id="move-form")
    assert SV("inspection.stale") in card_text(stale.updated_cards[0])
    confirmed = (await answer(bot, POLICE, police_card, "confirm", who="Per Polis")).updated_cards[0]
    (event,) = (await calendar(bot, POLICE, confirmed)).walk("VEVENT")
    assert int(event["SEQUENCE"]) == 1 and event["DTSTART"].dt.hour == 13


async def test_cancelling_needs_a_reason_tells_everyone_drops_the_reminders_and_cancels_the_invitation(
    bot: Harness,
) -> None:
    from bot.storage.models import ScheduledTask

    await forum(bot)
    card = await booked(bot)
    confirmed = (
        await answer(bot, POLICE, request_card(bot, POLICE), "confirm", who="Per Polis")
    ).updated_cards[0]
    no_reason = await bot.submit(COORDINATOR, button(card, "inspection.cancel")["data"], reply_to_id="card")
    assert SV("inspection.cancel.reason_needed") in card_text(no_reason.updated_cards[0])
    card = no_reason.updated_cards[0]
    tax_card = request_card(bot, TAX)
    police_message = request_card(bot, POLICE)["message_id"]
    bot.connector.clear()
    done = await bot.submit(
        COORDINATOR,
        {**button(card, "inspection.cancel")["data"], "cancel_reason": "Verksamheten har stängt."},
        reply_to_id="card",
    )
    assert SV("inspection.cancelled_now") in card_text(done.updated_cards[0])
    assert SV("inspection.status.cancelled") in card_text(done.updated_cards[0])
    await bot.drain_outbox()
    told = SV(
        "inspection.told.cancelled",
        number="T-2026-0001",
        business=BOOKING["name"],
        reason="Verksamheten har stängt.",
    )
    assert texts_to(bot, POLICE) == [told] and texts_to(bot, TAX) == [told]
    # every copy of the card says so, in place
    updates = bot.connector.updated(POLICE.personal_conversation)
    assert police_message in [u.activity_id for u in updates]
    assert all(SV("inspection.status.cancelled") in card_text(c) for u in updates for c in cards_of([u.body]))
    async with bot.sessions() as session:
        pending = list(await session.scalars(select(ScheduledTask).where(ScheduledTask.status == "pending")))
    assert pending == []
    invitation = await calendar(bot, POLICE, confirmed)
    assert str(invitation["METHOD"]) == "CANCEL"
    (event,) = invitation.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
    late = await answer(bot, TAX, tax_card, "confirm", who="Sara")
    assert late.texts == [SV("inspection.cancelled_already")]


# Finding them, and what other agencies never see ---------------------------------------------------


async def test_lists_by_month_and_agency_and_an_agency_only_booking_stays_with_its_agencies(
    bot: Harness,
) -> None:
    await forum(bot)
    await booked(bot)  # T-2026-0001, 2 December, MHF POL SKV, the agencies only
    await booked(bot, date="2027-01-13", name="Forum AB", org_number="", agencies="POL", visibility="forum")
    channel_posts = bot.connector.sent(CHANNEL_ID)

    listed = card_text((await bot.say(POLICE, "inspektioner")).cards[0])
    assert "T-2026-0001" in listed and "T-2026-0002" in listed
    december = card_text((await bot.say(POLICE, "inspektioner månad:2026-12")).cards[0])
    assert "december 2026" in december and "T-2026-0001" in december and "T-2026-0002" not in december
    by_agency = card_text((await bot.say(POLICE, "inspektioner myndighet:SKV")).cards[0])
    assert "T-2026-0001" in by_agency and "T-2026-0002" not in by_agency
    ours = card_text((await bot.say(TAX, "vår myndighets inspektioner")).cards[0])
    assert "T-2026-0001" in ours and "T-2026-0002" not in ours
    assert (await bot.say(POLICE, "inspektioner månad:december")).texts == [SV("inspection.bad_month")]
    assert (await bot.say(POLICE, "inspektioner myndighet:XYZ")).texts == [
        SV("inspection.bad_agency", code="XYZ")
    ]

    # SLK takes part in neither: it sees the forum's only, and nothing of the agencies-only one
    theirs = card_text((await bot.say(ADMIN, "inspektioner")).cards[0])
    assert "T-2026-0002" in theirs and "T-2026-0001" not in theirs and BOOKING["name"] not in theirs
    assert (await bot.say(ADMIN, "inspektion T-2026-0001")).texts == [SV("inspection.not_for_you")]
    # in the channel only the forum's, and the bot never posted either booking there
    in_channel = await bot.say(POLICE, "inspektioner", where="channel")
    text = card_text(in_channel.cards[0])
    assert "T-2026-0002" in text and "T-2026-0001" not in text and SV("inspection.list_channel") in text
    refused = await bot.say(POLICE, "inspektion T-2026-0001", where="channel")
    assert refused.texts == [SV("inspection.not_for_you")]
    assert bot.connector.sent(CHANNEL_ID) == [] == channel_posts  # nothing posted into the channel
    threads = [a for a in bot.connector.sent() if a["conversation"]["id"].startswith(CHANNEL_ID)]
    assert threads and not any("T-2026-0001" in str(a) for a in threads)

    # one by its number, with its history
    shown = card_text((await bot.say(POLICE, "inspektion T-2026-0001")).cards[0])
    assert SV("inspection.history") in shown and SV("inspection.event.booked") in shown


# Outcomes ------------------------------------------------------------------------------------------


async def test_each_agency_records_its_outcome_and_the_last_one_closes_the_inspection_and_the_proposal(
    bot: Harness,
) -> None:
    from tests.test_proposals import propose, transition_data

    await forum(bot)
    await propose(bot)
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    await bot.submit(COORDINATOR, transition_data(card, "accept"), reply_to_id="proposal-card")
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    form = (await bot.submit(COORDINATOR, button(card, "inspection.from_proposal")["data"])).cards[0]
    fields = {b["id"]: b.get("value") for b in form["body"] if "id" in b}
    done = await bot.submit(
        COORDINATOR,
        {
            **button(form, "inspection.create")["data"],
            **fields,
            "date": "2026-12-02",
            "start_time": "09:00",
            "end_time": "11:00",
        },
        reply_to_id="booking-form",
    )
    assert SV("inspection.booked") in card_text(done.updated_cards[0])
    await bot.drain_outbox()
    police_card, tax_card = request_card(bot, POLICE), request_card(bot, TAX)
    for person, its_card in ((POLICE, police_card), (TAX, tax_card)):
        await answer(bot, person, its_card, "confirm", who=person.name)
    # before it begins, no outcome
    early = await bot.submit(POLICE, {"action": "inspection.outcome", "inspection_id": 1, "outcome": "done"})
    assert early.texts == [SV("inspection.outcome_not_now")]

    bot.clock.moment = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # under way
    police_card = (await bot.say(POLICE, "inspektion T-2026-0001")).cards[0]
    assert SV("inspection.outcome_intro", agency=POL) in card_text(police_card)
    wrong = await bot.submit(
        POLICE,
        {**button(police_card, "inspection.outcome")["data"], "outcome": "maybe", "findings": "påhittat"},
    )
    text = card_text(wrong.cards[0])
    assert SV("inspection.outcome.choose") in text and SV("form.choice") in text
    await bot.submit(
        POLICE,
        {
            **button(police_card, "inspection.outcome")["data"],
            "outcome": "done",
            "findings": "svartarbete misstänkt,brister i arbetsmiljö",
            "measures": "anmälan",
            "outcome_note": "Tre personer utan personalliggare.",
            "share": "true",
        },
    )
    tax_view = (await bot.say(TAX, "inspektion T-2026-0001")).cards[0]
    await bot.submit(
        TAX,
        {
            **button(tax_view, "inspection.outcome")["data"],
            "outcome": "done",
            "measures": "uppföljande kontroll",
            "outcome_note": "Kontrollbesök om revisionen.",
            "share": "false",
        },
    )
    # SKV's outcome is its own; the police's is shared with the participants
    seen_by_police = card_text((await bot.say(POLICE, "inspektion T-2026-0001")).cards[0])
    assert "Tre personer utan personalliggare." in seen_by_police
    assert (
        "Kontrollbesök om revisionen." not in seen_by_police
        and SV("inspection.outcome_recorded") in seen_by_police
    )
    assert "Kontrollbesök om revisionen." in card_text(
        (await bot.say(TAX, "inspektion T-2026-0001")).cards[0]
    )
    (stored,) = await inspections(bot)
    assert stored.status in ("booked", "confirmed")  # MHF has not recorded its outcome yet

    coordinator_card = (await bot.say(COORDINATOR, "inspektion T-2026-0001")).cards[0]
    last = await bot.submit(
        COORDINATOR,
        {
            **button(coordinator_card, "inspection.outcome")["data"],
            "outcome": "done",
            "findings": "inga anmärkningar",
        },
        reply_to_id="coordinator-card",
    )
    assert SV("inspection.status.done") in card_text(last.updated_cards[0])
    (stored,) = await inspections(bot)
    assert stored.status == "done"
    proposal = card_text((await bot.say(POLICE, "förslag F-2026-0001")).cards[0])
    assert SV("status.proposal.done") in proposal
    async with bot.sessions() as session:
        parts = {
            p.agency_id: (p.outcome, p.findings, p.measures, p.outcome_shared)
            for p in await session.scalars(select(InspectionPart))
        }
    assert sorted(v[0] for v in parts.values()) == ["done", "done", "done"]
    late = await bot.submit(
        POLICE, {**button(police_card, "inspection.outcome")["data"], "outcome": "not_done"}
    )
    assert late.texts == [SV("inspection.outcome_not_now")]


async def test_a_coordinator_closes_it_with_a_reason_when_an_agency_never_records_its_outcome(
    bot: Harness,
) -> None:
    await forum(bot)
    card = await booked(bot)
    bot.clock.moment = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    card = (await bot.say(COORDINATOR, "inspektion T-2026-0001")).cards[0]
    refused = await bot.submit(
        INSPECTOR, {"action": "inspection.close", "inspection_id": 1, "close_reason": "x"}
    )
    assert refused.texts == [SV("inspection.not_manager")]
    no_reason = await bot.submit(COORDINATOR, button(card, "inspection.close")["data"], reply_to_id="card")
    assert SV("inspection.close.reason_needed") in card_text(no_reason.updated_cards[0])
    closed = await bot.submit(
        COORDINATOR,
        {**button(card, "inspection.close")["data"], "close_reason": "SKV svarar inte."},
        reply_to_id="card",
    )
    text = card_text(closed.updated_cards[0])
    assert (
        SV("inspection.closed_now") in text
        and SV("inspection.closed_because", reason="SKV svarar inte.") in text
    )
    (stored,) = await inspections(bot)
    assert (stored.status, stored.closed_reason) == ("done", "SKV svarar inte.")


async def test_a_declined_agency_is_replaced_by_another_which_is_asked_and_the_first_sees_it_no_more(
    bot: Harness,
) -> None:
    await forum(bot)
    await booked(bot)
    tax_card = request_card(bot, TAX)
    await answer(bot, TAX, tax_card, "decline", reason="Ingen personal.")
    card = (await bot.say(COORDINATOR, "inspektion T-2026-0001")).cards[0]
    replace = button(card, "inspection.replace")
    assert replace["title"] == SV("inspection.replace", agency=SKV)
    taken = await bot.submit(COORDINATOR, {**replace["data"], "replacement": "POL"}, reply_to_id="card")
    assert SV("inspection.replace.choose") in card_text(taken.updated_cards[0])
    done = await bot.submit(COORDINATOR, {**replace["data"], "replacement": "SLK"}, reply_to_id="card")
    text = card_text(done.updated_cards[0])
    assert SV("inspection.replaced") in text and f"**{SKV}**" not in text
    await bot.drain_outbox()
    asked = request_card(bot, ADMIN)  # SLK's member is asked now
    assert SV("inspection.answer_intro", agency="Västerås stad – stadsledningskontoret") in card_text(asked)
    assert (await bot.say(TAX, "inspektion T-2026-0001")).texts == [SV("inspection.not_for_you")]
    (stored,) = await inspections(bot)
    async with bot.sessions() as session:
        from bot.storage.models import Agency

        codes = {a.id: a.code for a in await session.scalars(select(Agency))}
    assert [codes[a] for a in stored.agency_ids] == ["MHF", "POL", "SLK"]


async def test_the_next_meetings_card_lists_the_inspections_done_since_the_meeting_before(
    bot: Harness,
) -> None:
    from tests.test_meetings import set_up

    await forum(bot)
    await set_up(bot)  # Tuesdays 09.00–10.30 from 1 December
    await booked(bot)  # Wednesday 2 December
    bot.clock.moment = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    card = (await bot.say(COORDINATOR, "inspektion T-2026-0001")).cards[0]
    await bot.submit(
        COORDINATOR, {**button(card, "inspection.close")["data"], "close_reason": "SKV svarade aldrig."}
    )
    line = f"T-2026-0001 {BOOKING['name']} (2 dec. 2026)"
    listed = card_text((await bot.say(POLICE, "möte 2026-12-08")).cards[0])
    assert SV("meeting.inspections_done") in listed and line in listed
    # not the meeting after, nor what the channel reads (the booking is the agencies' only)
    assert line not in card_text((await bot.say(POLICE, "möte 2026-12-15")).cards[0])
    assert line not in card_text((await bot.say(POLICE, "möte 2026-12-08", where="channel")).cards[0])
    assert line not in card_text((await bot.say(ADMIN, "möte 2026-12-08")).cards[0])
