"""Every meeting's attendance poll end to end over HTTP, on a faked clock: posted into the forum
channel with the meeting's first reminder there, answered on its card (Action.Execute) with a
substitute's name where one is sent, refusals on the card, the count on the meeting's card, who
comes from each agency for the coordinators alone, closed once when the meeting starts, moved
with the meeting and closed when it is called off."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from bot.app import TASKS
from bot.services import task_handlers
from bot.services.schedule import TaskRunner
from bot.storage.models import Poll, PollBallot, ScheduledTask
from tests.conftest import ADMIN, COORDINATOR, INSPECTOR, POLICE, STRANGER, TAX
from tests.support.harness import Harness, actions_of, card_text, cards_of
from tests.support.teams import CHANNEL_ID, TeamsUser
from tests.test_meetings import EN, SV, forum, set_up
from tests.test_meetings_reminders import AGENDA, SHORT, TITLE, channel_posts, tick
from tests.test_polls import answer_card, answer_text, button, execute_buttons, plain, refresh

QUESTION = SV("poll.attendance.question")
YES, NO, MAYBE, SUBSTITUTE = "0", "1", "2", "3"
MHF = "Västerås stad – miljö- och hälsoskyddsförvaltningen"
POL = "Polisen – lokalpolisområde Västerås"
SLK = "Västerås stad – stadsledningskontoret"


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def coming(people: int, agencies: int) -> str:
    return SV.plural(
        "poll.attendance.coming", people, agencies=SV.plural("poll.attendance.agencies", agencies)
    )


def attendance_cards(bot: Harness, conversation: str = CHANNEL_ID) -> list[dict[str, Any]]:
    return [c for c in cards_of(bot.connector.sent(conversation)) if card_text(c).startswith(QUESTION)]


def channel_updates(bot: Harness) -> list[str]:
    return [card_text(c) for r in bot.connector.updated(CHANNEL_ID) for c in cards_of([r.body])]


async def answer(
    bot: Harness,
    who: TeamsUser,
    card: dict[str, Any],
    choice: str,
    substitute: str | None = None,
    *,
    where: str = "channel",
) -> Any:
    """A press of the card's button with an answer ticked (and a substitute's name typed)."""
    press = button(card, "poll.vote")
    data = {**press["data"], "choices": choice}
    if substitute is not None:
        data["substitute"] = substitute
    return await bot.execute(who, {**press, "data": data}, reply_to_id="attendance-card", where=where)


async def ballots(bot: Harness) -> list[PollBallot]:
    async with bot.sessions() as session:
        return list(await session.scalars(select(PollBallot).order_by(PollBallot.member_id)))


async def polls(bot: Harness) -> list[Poll]:
    async with bot.sessions() as session:
        return list(await session.scalars(select(Poll).order_by(Poll.id)))


async def close_tasks(bot: Harness) -> list[ScheduledTask]:
    async with bot.sessions() as session:
        return list(await session.scalars(select(ScheduledTask).where(ScheduledTask.kind == "poll.close")))


async def posted_with_the_agenda(bot: Harness) -> dict[str, Any]:
    """The series set up (Tuesdays 09.00–10.30 from 1 December) and its first agenda posted, two
    working days before; the attendance poll's card as posted right after it."""
    await forum(bot)
    await set_up(bot)
    await tick(bot, utc(11, 27, 8))
    (card,) = attendance_cards(bot)
    return card


async def test_the_first_reminder_takes_the_poll_along_and_members_answer_on_its_card(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)
    assert await polls(bot) == []  # made when it is first needed, not 26 weeks ahead
    await tick(bot, utc(11, 27, 8))
    posts = channel_posts(bot)
    agenda = next(i for i, p in enumerate(posts) if AGENDA in p)
    asked = next(i for i, p in enumerate(posts) if p.startswith(QUESTION))
    assert asked == agenda + 1  # the poll's card right after the agenda
    assert SV("poll.attendance.below") in posts[agenda]
    card = attendance_cards(bot)[0]
    text = card_text(card)
    for key in ("yes", "no", "maybe", "substitute"):
        assert SV(f"poll.attendance.answer.{key}") in text
    assert "tisdag 1 december 2026 kl. 09.00–10.30" in text
    assert SV("poll.attendance.until", when="tisdag 1 december 2026 kl. 09.00") in text
    assert SV("poll.attendance.nobody_yet") in text and SV.plural("poll.answered", 0, eligible=4) in text
    assert [b["verb"] for b in execute_buttons(card)] == ["poll.vote"] and actions_of(card) == []

    police = answer_card(await answer(bot, POLICE, card, YES))
    assert SV("poll.attendance.saved") in card_text(police)
    assert "✔ **Ja**" in card_text(police) and coming(1, 1) in card_text(police)
    sent = answer_card(await answer(bot, INSPECTOR, card, SUBSTITUTE, "  Greta  Gransson "))
    assert SV("poll.attendance.your_substitute", name="Greta Gransson") in card_text(sent)
    assert "✔ **Skickar ersättare**" in card_text(sent) and coming(2, 2) in card_text(sent)
    # a "Ja" carries no substitute, whatever was typed
    mine = answer_card(await answer(bot, COORDINATOR, card, YES, "Någon Annan"))
    assert coming(3, 2) in card_text(mine) and "Någon Annan" not in card_text(mine)
    # changed until the meeting starts: one answer per member
    changed = answer_card(await answer(bot, POLICE, card, NO))
    assert "✔ **Nej**" in card_text(changed) and coming(2, 1) in card_text(changed)
    rows = await ballots(bot)
    assert [(r.choices, r.note) for r in rows] == [(0b1, None), (0b1000, "Greta Gransson"), (0b10, None)]

    # the channel's copy: the counts, never who answered what nor whom they send
    assert await refresh(bot) == 1
    (update,) = channel_updates(bot)
    assert coming(2, 1) in update and SV.plural("poll.answered", 3, eligible=4) in update
    assert "✔" not in update and "Greta" not in update and "Per Polis" not in update

    # the meeting's card says who comes, and offers the member's own attendance card
    meeting = (await bot.say(INSPECTOR, "möte 2026-12-01")).cards[0]
    assert coming(2, 1) in card_text(meeting)
    (attend,) = [a for a in actions_of(meeting) if a["data"]["action"] == "poll.attend"]
    assert not [a for a in actions_of(meeting) if a["data"]["action"] == "poll.attendance"]
    own = (await bot.submit(INSPECTOR, attend["data"])).cards[0]
    assert "✔ **Skickar ersättare**" in card_text(own)
    assert {b.get("id"): b.get("value") for b in own["body"] if b.get("id")} == {
        "choices": SUBSTITUTE,
        "substitute": "Greta Gransson",
    }

    # later reminders do not post it again; the short one says who comes
    await tick(bot, utc(11, 30, 11))
    await tick(bot, utc(12, 1, 7))
    assert len(attendance_cards(bot)) == 1
    (short,) = [p for p in channel_posts(bot) if SHORT in p]
    assert coming(2, 1) in short


async def test_coordinators_see_who_comes_from_each_agency_never_in_the_channel(bot: Harness) -> None:
    card = await posted_with_the_agenda(bot)
    await answer(bot, POLICE, card, NO)
    await answer(bot, INSPECTOR, card, SUBSTITUTE, "Greta Gransson")
    await answer(bot, COORDINATOR, card, YES)

    (listed,) = (await bot.say(COORDINATOR, "närvaro 2026-12-01")).cards
    text = card_text(listed)
    assert SV("poll.attendance.list_title", title=TITLE) in text and coming(2, 1) in text
    facts = {f["title"]: f["value"] for b in listed["body"] if b["type"] == "FactSet" for f in b["facts"]}
    assert facts == {
        SV("poll.attendance.answer.yes"): "Carl Samordnare",
        SV("poll.attendance.answer.substitute"): SV(
            "poll.attendance.sends", member="Ingrid Inspektör", substitute="Greta Gransson"
        ),
        SV("poll.attendance.answer.no"): "Per Polis",
        SV("poll.attendance.unanswered"): "Anna Admin",
    }
    agencies = [b["text"] for b in listed["body"] if b["type"] == "TextBlock" and b["text"].startswith("**")]
    assert f"**{MHF}**" in agencies and f"**{POL}**" in agencies and f"**{SLK}**" in agencies
    # the next meeting by default; in English too
    assert card_text((await bot.say(COORDINATOR, "närvaro")).cards[0]) == text
    await bot.say(ADMIN, "language english")
    english = card_text((await bot.say(ADMIN, "attendance 2026-12-01")).cards[0])
    assert EN("poll.attendance.list_title", title=TITLE) in english
    assert (
        EN.plural("poll.attendance.coming", 2, agencies=EN.plural("poll.attendance.agencies", 1)) in english
    )

    # not for members; asked in the channel, it goes to the coordinator's personal chat
    assert (await bot.say(INSPECTOR, "närvaro")).texts == [SV("common.not_allowed")]
    asked = await bot.say(COORDINATOR, "närvaro 2026-12-01", where="channel")
    assert asked.texts == [SV("poll.attendance.sent_privately")] and asked.cards == []
    await bot.drain_outbox()
    assert "Greta" not in str(bot.connector.sent(CHANNEL_ID))
    assert any(
        "Greta Gransson" in card_text(c)
        for c in cards_of(bot.connector.sent(COORDINATOR.personal_conversation))
    )
    # a coordinator's own attendance card and meeting card lead to the list
    mine = answer_card(await answer(bot, COORDINATOR, card, YES, where="personal"))
    (button_on_card,) = [a for a in actions_of(mine) if a["data"]["action"] == "poll.attendance"]
    listed_again = (await bot.submit(COORDINATOR, button_on_card["data"])).cards[0]
    assert card_text(listed_again) == text
    refused = await bot.submit(INSPECTOR, button_on_card["data"])
    assert refused.texts == [SV("common.not_allowed")]
    # a date without a meeting, a date that is no date
    assert (await bot.say(COORDINATOR, "närvaro 2026-12-02")).texts == [
        SV("meeting.not_found", date="onsdag 2 december 2026")
    ]
    assert (await bot.say(COORDINATOR, "närvaro i morgon")).texts == [SV("meeting.bad_date")]


async def test_bad_answers_are_refused_on_the_card_and_save_nothing(bot: Harness) -> None:
    card = await posted_with_the_agenda(bot)
    for typed, key in (
        (None, "poll.attendance.name_required"),
        ("   ", "poll.attendance.name_required"),
        ("Greta 811218-9876", "form.personal_number"),
        ("x" * 101, "poll.attendance.name_too_long"),
    ):
        refused = answer_card(await answer(bot, POLICE, card, SUBSTITUTE, typed))
        assert SV(key) in card_text(refused), typed
        assert "811218" not in card_text(refused)
    for choice in ("0,1", "4", "", "ja"):
        refused = answer_card(await answer(bot, POLICE, card, choice))
        assert SV("poll.bad_choice") in card_text(refused), choice
    # a forged name longer than any card sends
    assert answer_text(await answer(bot, POLICE, card, SUBSTITUTE, "x" * 1001)) == plain(
        SV("common.bad_card")
    )
    # someone outside the forum: not registered, or not yet approved
    assert answer_text(await answer(bot, STRANGER, card, YES)) == plain(SV("common.not_allowed"))
    await bot.say(TAX, "registrera mig")
    assert answer_text(await answer(bot, TAX, card, YES)) == plain(SV("common.not_allowed"))
    # nor does a forged close touch it: it follows its meeting
    close = {"type": "Action.Execute", "verb": "poll.close", "data": {"action": "poll.close", "poll_id": 1}}
    assert SV("poll.not_keeper") in card_text(answer_card(await bot.execute(COORDINATOR, close)))
    assert await ballots(bot) == []
    (poll,) = await polls(bot)
    assert poll.status == "open"


async def test_it_closes_once_when_the_meeting_starts_and_answers_after_that_are_refused(
    bot: Harness,
) -> None:
    card = await posted_with_the_agenda(bot)
    await answer(bot, POLICE, card, YES)
    await bot.restart()
    second = TaskRunner(bot.sessions, task_handlers(bot.settings), clock=bot.clock)
    await tick(bot, utc(12, 1, 7, 59))  # the compiled picture, the short reminder
    # the start, before the schedule runs: refused all the same
    bot.clock.moment = utc(12, 1, 8)
    late = answer_card(await answer(bot, INSPECTOR, card, YES))
    assert SV("poll.attendance.closed") in card_text(late)
    changed = answer_card(await answer(bot, POLICE, card, NO))
    assert SV("poll.attendance.closed") in card_text(changed)
    # two processes' schedules: closed once, and nothing posted for it
    in_channel = len(bot.connector.sent(CHANNEL_ID))
    assert sum(await asyncio.gather(bot.app[TASKS].run_due(), second.run_due())) == 1
    assert await bot.app[TASKS].run_due() == 0 and await second.run_due() == 0
    await bot.drain_outbox()
    assert len(bot.connector.sent(CHANNEL_ID)) == in_channel
    (poll,) = await polls(bot)
    assert poll.status == "closed" and poll.eligible_count == 4
    (task,) = await close_tasks(bot)
    assert (task.status, task.outcome) == ("done", "on_time")
    # the channel's card says it is closed, and offers no answer
    await refresh(bot)
    update = channel_updates(bot)[-1]
    assert SV("poll.closed_at", when="tisdag 1 december 2026 kl. 09.00") in update
    assert SV("poll.attendance.send") not in update and SV("poll.attendance.change") not in update
    (ballot,) = await ballots(bot)
    assert ballot.choices == 0b1
    # the meeting's card: who came, without the button to answer
    meeting = (await bot.say(INSPECTOR, "möte 2026-12-01")).cards[0]
    assert coming(1, 1) in card_text(meeting)
    assert not [a for a in actions_of(meeting) if a["data"]["action"] == "poll.attend"]


async def test_a_moved_meeting_moves_its_poll_and_a_called_off_one_closes_it(bot: Harness) -> None:
    card = await posted_with_the_agenda(bot)
    await answer(bot, POLICE, card, YES)
    moved = await bot.say(COORDINATOR, "flytta möte 2026-12-01 2026-12-03 10:00 Lokalen är upptagen.")
    assert moved.texts == [
        SV("meeting.change.done.moved", title=TITLE, when="torsdag 3 december 2026 kl. 10.00–11.30")
    ]
    (poll,) = await polls(bot)
    assert poll.deadline == utc(12, 3, 9) and poll.status == "open"
    (task,) = await close_tasks(bot)
    assert (task.due_at, task.status) == (utc(12, 3, 9), "pending")
    await refresh(bot)
    assert SV("poll.attendance.until", when="torsdag 3 december 2026 kl. 10.00") in channel_updates(bot)[-1]

    # the old start passes: still open. The agenda goes out again for the new day, and the poll
    # with it (two working days before Thursday at 09.00 is Tuesday 1 December, 08.00 UTC)
    await tick(bot, utc(12, 1, 8))
    assert len([p for p in channel_posts(bot) if AGENDA in p]) == 2
    assert len(attendance_cards(bot)) == 2
    again = answer_card(await answer(bot, INSPECTOR, card, MAYBE))
    assert SV("poll.attendance.saved") in card_text(again)
    # and it closes at the new start
    await tick(bot, utc(12, 3, 8, 59))
    changed = answer_card(await answer(bot, INSPECTOR, card, YES))
    assert SV("poll.attendance.saved") in card_text(changed)
    await tick(bot, utc(12, 3, 9))
    (poll,) = await polls(bot)
    assert poll.status == "closed" and poll.closed_at == utc(12, 3, 9)
    late = answer_card(await answer(bot, COORDINATOR, card, YES))
    assert SV("poll.attendance.closed") in card_text(late)

    # the next meeting's poll, asked for from its card before any reminder, then called off
    meeting = (await bot.say(POLICE, "möte 2026-12-08")).cards[0]
    (attend,) = [a for a in actions_of(meeting) if a["data"]["action"] == "poll.attend"]
    own = await bot.submit(POLICE, attend["data"], where="channel", reply_to_id="meeting-card")
    assert own.sent == []  # the member's card goes to their personal chat
    await bot.drain_outbox()
    (mine,) = attendance_cards(bot, POLICE.personal_conversation)
    assert "tisdag 8 december 2026 kl. 09.00–10.30" in card_text(mine)
    answer_card(await answer(bot, POLICE, mine, YES, where="personal"))
    called_off = await bot.say(COORDINATOR, "ställ in möte 2026-12-08 Krockar med tillsynsdagen")
    assert called_off.texts[0].startswith(TITLE)
    polls_now = await polls(bot)
    assert [p.status for p in polls_now] == ["closed", "closed"]
    assert polls_now[1].closed_by is not None
    assert {t.due_at: t.status for t in await close_tasks(bot)}[utc(12, 8, 8)] == "cancelled"
    refused = answer_card(await answer(bot, POLICE, mine, NO, where="personal"))
    assert SV("poll.attendance.closed") in card_text(refused)
    await refresh(bot)
    updated = [
        card_text(c) for r in bot.connector.updated(POLICE.personal_conversation) for c in cards_of([r.body])
    ]
    assert SV("poll.attendance.called_off") in updated[-1]
    # its agenda time passes without a poll
    await tick(bot, utc(12, 4, 8))
    assert len(attendance_cards(bot)) == 2


async def test_when_the_agenda_is_off_the_compiled_picture_takes_the_poll_along(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot, reminder_agenda_on="false")
    await tick(bot, utc(11, 26, 8))  # the nudge to report, in personal chats: not with it
    assert attendance_cards(bot) == []
    await tick(bot, utc(11, 30, 11))  # the compiled picture, one working day before at 12.00
    posts = channel_posts(bot)[1:]  # after the new series' announcement
    assert len(posts) == 2 and posts[1].startswith(QUESTION)
    assert SV("poll.attendance.below") in posts[0]
    await tick(bot, utc(12, 1, 7))
    assert len(attendance_cards(bot)) == 1


async def test_english_readers_answer_in_english(bot: Harness) -> None:
    card = await posted_with_the_agenda(bot)
    await bot.say(POLICE, "language english")
    answered = card_text(answer_card(await answer(bot, POLICE, card, SUBSTITUTE, "Greta Gransson")))
    assert EN("poll.attendance.question") in answered and EN("poll.attendance.saved") in answered
    assert f"✔ **{EN('poll.attendance.answer.substitute')}**" in answered
    assert EN("poll.attendance.your_substitute", name="Greta Gransson") in answered
    assert EN.plural("poll.attendance.answers", 1) in answered


def test_the_day_typed_after_a_command() -> None:
    from bot.domain.meetings import parse_day

    assert parse_day(" 2026-12-01 ") == date(2026, 12, 1)
    for typed in ("2026-13-01", "1/12", "", "٢٠٢٦-١٢-٠١"):
        assert parse_day(typed) is None
