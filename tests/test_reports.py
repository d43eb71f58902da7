"""Status reports (lägesbild) end to end over HTTP on a faked clock: the agency's form (draft,
submit, submit again with its history kept, the personal-number guard), the compiled picture a
member may see, the nudge to agencies that have not reported (once), and the compiled picture in
the forum channel, where an agency-only report shows only that the agency has reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from bot.domain.reports import validate_report_form
from bot.storage.models import AuditEntry, Member, StatusReport, StatusReportEvent
from tests.conftest import ADMIN, COORDINATOR, INSPECTOR, POLICE, STRANGER
from tests.support import teams
from tests.support.harness import Harness, actions_of, card_text, cards_of
from tests.support.harness import inputs_of as inputs
from tests.support.teams import CHANNEL_ID
from tests.support.texts import SV
from tests.test_meetings import forum, set_up
from tests.test_meetings_reminders import tick

FORUM_TEXT = "Fler nagelsalonger på Bäckby med samma ägare."
POLICE_ONLY = "Spaning pågår mot en biltvätt på Hälla."
POLICE_DRAFT = "Första utkast från polisen."
PERSONAL = "Ägaren 811218-9876 har flera bolag."
TITLE = "Operativt möte"

MHF = "Västerås stad – miljö- och hälsoskyddsförvaltningen"
POL = "Polisen – lokalpolisområde Västerås"
SLK = "Västerås stad – stadsledningskontoret"


def button(card: dict[str, Any], action: str) -> dict[str, Any]:
    return next(a for a in actions_of(card) if a["data"]["action"] == action)


async def report_form(bot: Harness, person, words: str = "lägesbild 2026-12-01") -> dict[str, Any]:
    response = await bot.say(person, words)
    (card,) = response.cards
    return card


async def send(bot: Harness, person, card: dict[str, Any], action: str, **fields: Any):
    data = {**button(card, action)["data"], **fields}
    return await bot.submit(person, data, reply_to_id="report-card")


def compiled_posts(bot: Harness) -> list[str]:
    headline = SV("report.compiled.title", title=TITLE)
    return [card_text(c) for c in cards_of(bot.connector.sent(CHANNEL_ID)) if headline in card_text(c)]


def texts_to(bot: Harness, person) -> list[str]:
    sent = bot.connector.sent(person.personal_conversation)
    return [a.get("text", "") for a in sent] + [card_text(c) for c in cards_of(sent)]


async def reported(bot: Harness) -> None:
    """The forum and a series of Tuesdays; the MHF reports forum-wide, the police drafts."""
    await forum(bot)
    await set_up(bot)
    card = await report_form(bot, INSPECTOR)
    assert SV("report.form.title", agency=MHF) in card_text(card)
    assert inputs(card)["visibility"] == "agency"  # the narrowest by default
    response = await send(bot, INSPECTOR, card, "meeting.report_submit", seen=FORUM_TEXT, visibility="forum")
    (done,) = response.updated_cards
    assert SV("report.submitted", title=TITLE) in card_text(done) and FORUM_TEXT in card_text(done)

    card = await report_form(bot, POLICE, "lägesbild rapportera")
    response = await send(bot, POLICE, card, "meeting.report_draft", seen=POLICE_DRAFT)
    (again,) = response.updated_cards
    assert SV("report.draft_saved") in card_text(again) and inputs(again)["seen"] == POLICE_DRAFT


async def test_an_agency_drafts_submits_and_updates_its_report_with_history(bot: Harness) -> None:
    await reported(bot)
    # another police officer's form would be prefilled the same: the draft is the agency's
    card = await report_form(bot, POLICE)
    assert inputs(card)["seen"] == POLICE_DRAFT

    # forum-wide with a personal identity number: refused next to the field, values kept
    response = await send(bot, POLICE, card, "meeting.report_submit", seen=PERSONAL, visibility="forum")
    (refused,) = response.updated_cards
    assert SV("form.personal_number") in card_text(refused)
    assert inputs(refused)["seen"] == PERSONAL and inputs(refused)["visibility"] == "forum"
    # the refused card's token is spent only by a save; a fresh token came with the redrawn card
    response = await send(
        bot, POLICE, refused, "meeting.report_submit", seen=POLICE_ONLY, visibility="agency"
    )
    assert SV("report.submitted", title=TITLE) in card_text(response.updated_cards[0])
    # the same card again: saved once
    response = await send(bot, POLICE, refused, "meeting.report_submit", seen="x", visibility="agency")
    assert response.texts == [SV("report.already_saved")]

    # submitted again: updated, no draft button any more, and the history names fields only
    card = await report_form(bot, POLICE)
    assert "meeting.report_draft" not in [a["data"]["action"] for a in actions_of(card)]
    await send(
        bot, POLICE, card, "meeting.report_submit", seen=POLICE_ONLY, needs="Tolk", visibility="agency"
    )
    async with bot.sessions() as session:
        report = await session.scalar(select(StatusReport).where(StatusReport.needs == "Tolk"))
        events = list(
            await session.scalars(
                select(StatusReportEvent)
                .where(StatusReportEvent.report_id == report.id)
                .order_by(StatusReportEvent.id)
            )
        )
    assert (report.status, report.version, report.visibility) == ("submitted", 3, "agency")
    assert [e.kind for e in events] == ["drafted", "submitted", "updated"]
    assert events[-1].changes == {"needs": {}}
    assert POLICE_DRAFT not in json.dumps([e.changes for e in events], ensure_ascii=False)


async def test_a_member_sees_the_compiled_picture_they_may_see(bot: Harness) -> None:
    await reported(bot)
    card = await report_form(bot, POLICE)
    await send(bot, POLICE, card, "meeting.report_submit", seen=POLICE_ONLY, visibility="agency")

    police = card_text((await bot.say(POLICE, "lägesbild")).cards[0])
    assert POLICE_ONLY in police and FORUM_TEXT in police and SV("report.compiled.missing") in police
    inspector = card_text((await bot.say(INSPECTOR, "lägesbild sammanställning")).cards[0])
    assert FORUM_TEXT in inspector and POLICE_ONLY not in inspector
    assert SV("report.compiled.reported") in inspector
    # typed in the channel: only what every member may see
    channel = card_text((await bot.say(POLICE, "lägesbild", where="channel")).cards[0])
    assert FORUM_TEXT in channel and POLICE_ONLY not in channel


async def test_the_nudge_reaches_agencies_without_a_report_once(bot: Harness) -> None:
    await reported(bot)  # MHF submitted; the police only drafted; SLK (the admin) nothing
    nudge = SV("report.nudge", title=TITLE, when="tisdag 1 december 2026 kl. 09.00–10.30", date="2026-12-01")
    # three working days before Tuesday 1 December at 09.00: Thursday 26 November, 08.00 UTC
    assert await tick(bot, datetime(2026, 11, 26, 7, 59, tzinfo=UTC)) == 0
    assert await tick(bot, datetime(2026, 11, 26, 8, 0, tzinfo=UTC)) == 1
    assert texts_to(bot, POLICE).count(nudge) == 1 and texts_to(bot, ADMIN).count(nudge) == 1
    assert nudge not in texts_to(bot, INSPECTOR) and nudge not in texts_to(bot, COORDINATOR)
    await tick(bot, datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    assert texts_to(bot, POLICE).count(nudge) == 1


async def forget_personal_chat(bot: Harness, person) -> int:
    """The member as the bot knows one who has never written to it in a personal chat (as the
    demo seeds the Playground's other users); returns their member id."""
    async with bot.sessions() as session, session.begin():
        await session.execute(
            update(Member)
            .where(Member.aad_object_id == person.aad_object_id)
            .values(personal_conversation=None)
        )
        member_id = await session.scalar(
            select(Member.id).where(Member.aad_object_id == person.aad_object_id)
        )
    assert member_id is not None
    return member_id


async def test_the_coordinators_hear_once_whom_the_nudge_could_not_reach_and_why(bot: Harness) -> None:
    await reported(bot)  # MHF submitted; the police only drafted; SLK (the admin) nothing
    police_id = await forget_personal_chat(bot, POLICE)
    when = "tisdag 1 december 2026 kl. 09.00–10.30"
    nudge = SV("report.nudge", title=TITLE, when=when, date="2026-12-01")
    unreachable = "\n\n".join(
        [
            SV("report.unreachable.one", count=1, title=TITLE, when=when),
            "- "
            + SV(
                "notice.unreachable.member",
                name=POLICE.name,
                agency=POL,
                reason=SV("notice.unreachable.no_personal_chat"),
            ),
            SV("report.unreachable.advice"),
        ]
    )
    assert "har inte öppnat en chatt med Forumbot ännu" in unreachable

    assert await tick(bot, datetime(2026, 11, 26, 8, 0, tzinfo=UTC)) == 1
    assert texts_to(bot, ADMIN).count(nudge) == 1 and nudge not in texts_to(bot, POLICE)
    # both coordinators (the admin is one too) are told in personal chat; the inspector is not
    assert texts_to(bot, COORDINATOR).count(unreachable) == 1
    assert texts_to(bot, ADMIN).count(unreachable) == 1
    assert unreachable not in texts_to(bot, INSPECTOR)
    async with bot.sessions() as session:
        (counted,) = await session.scalars(select(AuditEntry).where(AuditEntry.action == "report_nudge"))
    assert counted.details == {"reminded": 1, "unreachable": 1, "unreachable_member_ids": [police_id]}

    # the meeting moves to Thursday and its nudge runs again: nobody is told twice
    moved = await bot.say(COORDINATOR, "flytta möte 2026-12-01 2026-12-03")
    assert SV("meeting.change.done.moved", title=TITLE, when="torsdag 3 december 2026 kl. 09.00–10.30") in (
        moved.texts
    )
    await tick(bot, datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    assert texts_to(bot, COORDINATOR).count(unreachable) == 1
    assert texts_to(bot, ADMIN).count(nudge) == 1
    async with bot.sessions() as session:
        runs = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "report_nudge")))
    assert [r.details["unreachable"] for r in runs] == [1, 1]


async def test_the_channel_gets_forum_wide_content_and_only_that_others_reported(bot: Harness) -> None:
    await reported(bot)
    card = await report_form(bot, POLICE)
    await send(bot, POLICE, card, "meeting.report_submit", seen=POLICE_ONLY, visibility="agency")
    # one working day before at 12.00: Monday 30 November, 11.00 UTC
    await tick(bot, datetime(2026, 11, 30, 10, 59, tzinfo=UTC))
    assert compiled_posts(bot) == []
    assert await tick(bot, datetime(2026, 11, 30, 11, 0, tzinfo=UTC)) == 1
    (compiled,) = compiled_posts(bot)
    assert FORUM_TEXT in compiled
    lines = compiled.splitlines()
    assert lines[lines.index(POL) + 1] == SV("report.compiled.reported")
    assert lines[lines.index(SLK) + 1] == SV("report.compiled.missing")
    assert POLICE_ONLY not in json.dumps(bot.connector.sent(CHANNEL_ID), ensure_ascii=False)
    assert await tick(bot, datetime(2026, 11, 30, 11, 5, tzinfo=UTC)) == 0


def execute_button(card: dict[str, Any], verb: str) -> dict[str, Any]:
    (found,) = [a for a in card["actions"] if a.get("verb") == verb]
    assert found["type"] == "Action.Execute"
    return {"type": "Action.Execute", "verb": found["verb"], "data": found["data"]}


def invoke_message(response) -> str:
    assert response.status == 200
    assert response.body["statusCode"] == 200
    assert response.body["type"] == "application/vnd.microsoft.activity.message"
    return str(response.body["value"])


async def test_show_my_picture_on_the_channel_card_answers_each_member_privately(bot: Harness) -> None:
    """ "Visa min lägesbild" (Action.Execute) on the channel's compiled card: each member gets what
    they may see in their personal chat, the channel and its card do not change, and someone who
    is not a member is refused on the card alone."""
    await reported(bot)
    card = await report_form(bot, POLICE)
    await send(bot, POLICE, card, "meeting.report_submit", seen=POLICE_ONLY, visibility="agency")
    await tick(bot, datetime(2026, 11, 30, 11, 0, tzinfo=UTC))
    headline = SV("report.compiled.title", title=TITLE)
    (posted,) = [c for c in cards_of(bot.connector.sent(CHANNEL_ID)) if headline in card_text(c)]
    press = execute_button(posted, "meeting.my_picture")
    assert press["data"]["action"] == "meeting.my_picture"
    channel_before = len(bot.connector.sent(CHANNEL_ID))

    response = await bot.execute(POLICE, press, reply_to_id="compiled-card", where="channel")
    assert invoke_message(response) == SV("report.my_picture_sent").replace("**", "")
    assert response.sent == [] and response.updated == []  # nothing in the channel, now or queued
    await bot.drain_outbox()
    (mine,) = [
        c for c in cards_of(bot.connector.sent(POLICE.personal_conversation)) if POLICE_ONLY in card_text(c)
    ]
    assert FORUM_TEXT in card_text(mine) and button(mine, "meeting.report_form")

    response = await bot.execute(INSPECTOR, press, reply_to_id="compiled-card", where="channel")
    assert invoke_message(response) == SV("report.my_picture_sent")
    await bot.drain_outbox()
    inspector = [card_text(c) for c in cards_of(bot.connector.sent(INSPECTOR.personal_conversation))]
    assert any(FORUM_TEXT in text and SV("report.compiled.reported") in text for text in inspector)
    assert not any(POLICE_ONLY in text for text in inspector)

    refused = await bot.execute(STRANGER, press, reply_to_id="compiled-card", where="channel")
    assert invoke_message(refused) == SV("common.not_allowed").replace("**", "")
    await bot.drain_outbox()
    assert len(bot.connector.sent(CHANNEL_ID)) == channel_before
    assert POLICE_ONLY not in json.dumps(bot.connector.sent(CHANNEL_ID), ensure_ascii=False)
    assert POLICE_ONLY not in json.dumps(
        bot.connector.sent(STRANGER.personal_conversation), ensure_ascii=False
    )


async def test_forged_and_malformed_execute_presses_are_refused_on_the_card(bot: Harness) -> None:
    await reported(bot)
    bad = SV("common.bad_card").replace("**", "")
    for action in (
        {"type": "Action.Execute", "verb": "meeting.my_picture", "data": {"meeting_id": 999999}},
        {"type": "Action.Execute", "verb": "meeting.my_picture", "data": {"meeting_id": "drop table"}},
        {"type": "Action.Execute", "verb": "no.such.verb", "data": {}},
        {"type": "Action.Execute"},
        "not an object",
    ):
        response = await bot.execute(POLICE, action, where="channel")  # type: ignore[arg-type]
        assert invoke_message(response) == bad, action
        assert response.sent == []
    # the same press delivered twice has its effect once, and the second still hears back
    (posted,) = (await bot.say(POLICE, "lägesbild", where="channel")).cards
    activity = teams.execute(
        teams.channel, bot.connector.url, POLICE, execute_button(posted, "meeting.my_picture"), "card"
    )
    first, second = await bot.post(activity), await bot.post(activity)
    assert invoke_message(first) == SV("report.my_picture_sent")
    assert invoke_message(second) == SV("common.done")
    await bot.drain_outbox()
    mine = [
        c for c in cards_of(bot.connector.sent(POLICE.personal_conversation)) if POLICE_DRAFT in card_text(c)
    ]
    assert len(mine) == 1


async def test_a_report_after_the_post_updates_the_channels_picture_in_place(bot: Harness) -> None:
    """The compiled picture is read at the meeting: a report submitted after it was posted shows
    there at once, the post replaced in place; and during the meeting `lägesbild` still shows this
    meeting's picture, without the form button once reports are closed."""
    await reported(bot)
    await tick(bot, datetime(2026, 11, 30, 11, 0, tzinfo=UTC))
    (posted,) = [
        a
        for a in bot.connector.sent(CHANNEL_ID)
        if SV("report.compiled.title", title=TITLE) in json.dumps(a, ensure_ascii=False)
    ]
    late = "Skatteverket ser fler byggföretag utan personalliggare."
    card = await report_form(bot, ADMIN)  # SLK, which had not reported
    await send(bot, ADMIN, card, "meeting.report_submit", seen=late, visibility="forum")
    await bot.drain_outbox()
    (update,) = [r for r in bot.connector.updated(CHANNEL_ID) if r.activity_id == posted["id"]]
    (now,) = cards_of([update.body])
    lines = card_text(now).splitlines()
    assert late in lines and lines[lines.index(SLK) + 1] != SV("report.compiled.missing")
    assert SV("report.compiled.my_picture") in json.dumps(now, ensure_ascii=False)  # its button kept

    (submitted,) = (await bot.say(INSPECTOR, "lägesbild")).cards  # MHF submitted: change it
    assert button(submitted, "meeting.report_form")["title"] == SV("report.compiled.change_form")
    # the meeting has begun: the picture is still this meeting's, and the form is not offered
    bot.clock.moment = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    (mine,) = (await bot.say(ADMIN, "lägesbild")).cards
    assert late in card_text(mine) and "1 december 2026" in card_text(mine)
    assert not [a for a in actions_of(mine) if a["data"]["action"] == "meeting.report_form"]
    bot.clock.moment = datetime(2026, 12, 1, 9, 31, tzinfo=UTC)  # over: the next one
    (next_one,) = (await bot.say(ADMIN, "lägesbild")).cards
    assert "8 december 2026" in card_text(next_one) and late not in card_text(next_one)
    assert button(next_one, "meeting.report_form")["title"] == SV("report.compiled.open_form")


def test_the_guard_applies_when_the_report_reaches_other_agencies() -> None:
    codes = {"MHF": 1, "POL": 2}

    def check(submit: bool, **raw: str) -> dict[str, str]:
        return validate_report_form(raw, agency_id=1, agency_ids_by_code=codes, submit=submit).errors

    assert check(True, seen=PERSONAL, visibility="forum") == {"seen": "form.personal_number"}
    assert check(True, seen="ok", needs=PERSONAL, visibility="agencies", shared="POL") == {
        "needs": "form.personal_number"
    }
    assert check(True, seen=PERSONAL, visibility="agency") == {}
    assert check(False, seen=PERSONAL, visibility="forum") == {}  # a draft stays in the agency
    assert check(True, visibility="agency") == {"seen": "form.required"}
    assert check(False, seen="x", visibility="agencies") == {"shared": "report.form.shared_required"}
    assert check(False, seen="x", visibility="agencies", shared="XYZ") == {"shared": "form.agencies_unknown"}


async def test_the_agenda_reminder_says_who_has_reported_and_nothing_of_what(bot: Harness) -> None:
    await reported(bot)  # MHF submitted forum-wide; the police only drafted; SLK nothing
    # two working days before Tuesday 1 December at 09.00: Friday 27 November, 08.00 UTC
    await tick(bot, datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    agenda = [
        card_text(c)
        for c in cards_of(bot.connector.sent(CHANNEL_ID))
        if SV("meeting.reported", agencies=MHF) in card_text(c)
    ]
    assert len(agenda) == 1
    assert (
        SV("meeting.not_reported", agencies=f"{SLK}, {POL}") in agenda[0]
        or SV("meeting.not_reported", agencies=f"{POL}, {SLK}") in agenda[0]
    )
    assert POLICE_DRAFT not in json.dumps(bot.connector.sent(CHANNEL_ID), ensure_ascii=False)
    summary = texts_to(bot, COORDINATOR)  # the coordinators' own copy carries the same lines
    assert any(SV("meeting.reported", agencies=MHF) in text for text in summary)
