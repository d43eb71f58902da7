"""Quick polls end to end over HTTP: the form, votes on the card (Action.Execute) answered with
the voter's card, refusals on the card, the channel's copy brought up to date at most once a
second, closing at the deadline (also after a restart), early close and reopen, and anonymous
ballots that nobody can trace to a member once the poll has closed."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.app import TASKS
from bot.domain.members import Role
from bot.services.membership import Applicant, MembershipService
from bot.services.polls import refresh_polls
from bot.services.work import unit_of_work
from bot.storage.models import CardCopy, OutboxMessage, Poll, PollBallot, ScheduledTask
from tests.conftest import COORDINATOR, INSPECTOR, POLICE, STRANGER
from tests.support import teams
from tests.support.harness import Harness, card_text, cards_of, nodes
from tests.support.teams import CHANNEL_ID, TeamsUser
from tests.support.texts import EN, SV
from tests.test_meetings import forum, set_up

QUESTION = "Vilken dag passar för gemensam tillsyn?"
OPTIONS = ["Måndag", "Onsdag", "Fredag"]


def execute_buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The card's Action.Execute buttons, leaving out its refresh action."""
    shown = {k: v for k, v in card.items() if k != "refresh"}
    return [node for node in nodes(shown) if node.get("type") == "Action.Execute"]


def button(card: dict[str, Any], verb: str) -> dict[str, Any]:
    (found,) = [b for b in execute_buttons(card) if b["verb"] == verb]
    return found


def answer_card(response: Any) -> dict[str, Any]:
    assert response.body["type"] == "application/vnd.microsoft.card.adaptive", response.body
    card: dict[str, Any] = response.body["value"]
    return card


def answer_text(response: Any) -> str:
    assert response.body["type"] == "application/vnd.microsoft.activity.message", response.body
    text: str = response.body["value"]
    return text


def plain(text: str) -> str:
    return text.replace("**", "")


async def poll_form(bot: Harness, who: TeamsUser = COORDINATOR) -> dict[str, Any]:
    card = (await bot.say(who, "ny omröstning")).cards[0]
    (send,) = [a for a in card["actions"] if a["data"]["action"] == "poll.create"]
    return card | {"token": send["data"]["form_token"]}


def inputs(card: dict[str, Any]) -> dict[str, Any]:
    return {b["id"]: b.get("value") for b in card["body"] if "id" in b}


async def make_poll(
    bot: Harness, who: TeamsUser = COORDINATOR, token: str | None = None, **fields: Any
) -> Any:
    values = {
        "action": "poll.create",
        "form_token": token or (await poll_form(bot, who))["token"],
        "question": QUESTION,
        "options": "\n".join(OPTIONS),
        "multiple": "single",
        "anonymous": "named",
        "results": "live",
        "deadline_date": "2026-12-01",
        "deadline_time": "09:00",
        "audience": "forum",
    }
    return await bot.submit(who, {**values, **fields}, reply_to_id="poll-form")


async def channel_poll(bot: Harness, **fields: Any) -> dict[str, Any]:
    """A poll made for the forum; its card as posted into the channel (with the post's id)."""
    await make_poll(bot, **fields)
    await bot.drain_outbox()
    posted = [a for a in bot.connector.sent(CHANNEL_ID) if QUESTION in json.dumps(a, ensure_ascii=False)]
    assert len(posted) == 1
    return {"card": cards_of(posted)[0], "id": posted[0]["id"]}


def vote_press(card: dict[str, Any], choices: str) -> dict[str, Any]:
    press = button(card, "poll.vote")
    return {**press, "data": {**press["data"], "choices": choices}}


async def vote(
    bot: Harness, who: TeamsUser, card: dict[str, Any], choices: str, *, where: str = "channel"
) -> Any:
    return await bot.execute(who, vote_press(card, choices), reply_to_id="poll-card", where=where)


async def refresh(bot: Harness) -> int:
    refreshed = await refresh_polls(bot.sessions, bot.settings, bot.clock)
    await bot.drain_outbox()
    return refreshed


async def ballots(bot: Harness) -> list[PollBallot]:
    async with bot.sessions() as session:
        return list(await session.scalars(select(PollBallot)))


async def the_poll(bot: Harness) -> Poll:
    async with bot.sessions() as session:
        (poll,) = await session.scalars(select(Poll))
        return poll


def channel_updates(bot: Harness) -> list[str]:
    return [card_text(c) for r in bot.connector.updated(CHANNEL_ID) for c in cards_of([r.body])]


# Making a poll ---------------------------------------------------------------------------


async def test_the_form_defaults_to_the_next_meeting_and_the_poll_goes_to_the_channel(bot: Harness) -> None:
    await forum(bot)
    await set_up(bot)  # Tuesdays 09.00–10.30 from 1 December
    form = await poll_form(bot)
    assert inputs(form)["deadline_date"] == "2026-12-01" and inputs(form)["deadline_time"] == "09:00"
    assert inputs(form)["audience"] == "forum"

    response = await make_poll(bot, token=form["token"])
    (mine,) = response.updated_cards  # the form became the poll's card
    text = card_text(mine)
    assert SV("poll.created") in text and QUESTION in text
    assert SV("poll.closes", when="tisdag 1 december 2026 kl. 09.00") in text
    assert button(mine, "poll.close")  # its maker may close it
    await bot.drain_outbox()
    (posted,) = [c for c in cards_of(bot.connector.sent(CHANNEL_ID)) if QUESTION in card_text(c)]
    text = card_text(posted)
    assert all(option in text for option in OPTIONS)
    assert SV.plural("poll.answered", 0, eligible=4) in text
    assert [b["verb"] for b in execute_buttons(posted)] == ["poll.vote"]  # nobody keeps it there
    async with bot.sessions() as session:
        (task,) = await session.scalars(select(ScheduledTask).where(ScheduledTask.kind == "poll.close"))
    assert task.due_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    # the same form again: the poll it made, nothing new
    again = await make_poll(bot, token=form["token"])
    assert SV("poll.already_created") in card_text(again.updated_cards[0])
    async with bot.sessions() as session:
        assert len(list(await session.scalars(select(Poll)))) == 1


async def test_the_form_comes_back_with_its_errors(bot: Harness) -> None:
    await forum(bot)
    response = await make_poll(
        bot, question="", options="Bara ett", deadline_date="2026-11-01", audience="NOPE"
    )
    (card,) = response.updated_cards
    text = card_text(card)
    for key in ("form.required", "poll.form.options_count", "poll.form.deadline_past", "form.choice"):
        assert SV(key) in text, key
    assert inputs(card)["options"] == "Bara ett"
    assert await ballots(bot) == []
    async with bot.sessions() as session:
        assert list(await session.scalars(select(Poll))) == []


async def test_only_coordinators_make_polls_unless_the_setting_lets_every_member(bot: Harness) -> None:
    await forum(bot)
    assert (await bot.say(INSPECTOR, "ny omröstning")).texts == [SV("common.not_allowed")]
    bot.settings = bot.settings.model_copy(update={"polls_by_members": True})
    await bot.restart()
    response = await bot.say(INSPECTOR, "ny omröstning")
    assert SV("poll.form.title") in card_text(response.cards[0])


# Voting ----------------------------------------------------------------------------------


async def test_a_vote_is_answered_with_the_voters_card_and_can_be_changed(bot: Harness) -> None:
    await forum(bot)
    posted = await channel_poll(bot)
    response = await vote(bot, POLICE, posted["card"], "1")
    card = answer_card(response)
    text = card_text(card)
    assert SV("poll.voted") in text
    assert "✔ **Onsdag**" in text and SV.plural("poll.votes", 1) in text
    assert SV.plural("poll.answered", 1, eligible=4) in text
    assert "Per Polis" in text  # a named poll lists who answered what
    assert response.sent == [] and response.updated == []  # nothing else in the channel now

    changed = answer_card(await vote(bot, POLICE, posted["card"], "2"))
    assert "✔ **Fredag**" in card_text(changed) and "✔ **Onsdag**" not in card_text(changed)
    (ballot,) = await ballots(bot)
    assert (ballot.choices, ballot.voter) == (0b100, ballot.voter)

    # the channel's copy shows the tally, updated by the bot once for both votes
    assert await refresh(bot) == 1
    (update,) = channel_updates(bot)
    assert SV.plural("poll.answered", 1, eligible=4) in update and "✔" not in update
    assert await refresh(bot) == 0  # nothing new


async def test_refusals_come_on_the_card_and_save_nothing(bot: Harness) -> None:
    await forum(bot)
    posted = await channel_poll(bot)
    # an option the card cannot have offered
    bad = answer_card(await vote(bot, POLICE, posted["card"], "7"))
    assert SV("poll.bad_choice") in card_text(bad)
    bad = answer_card(await vote(bot, POLICE, posted["card"], "0,1"))  # two on a single-choice poll
    assert SV("poll.bad_choice") in card_text(bad)
    # not a member at all
    assert answer_text(await vote(bot, STRANGER, posted["card"], "0")) == plain(SV("common.not_allowed"))
    # another poll's id: one for the police alone, pressed by someone of another agency
    await make_poll(bot, audience="POL", question="Bara polisen?")
    async with bot.sessions() as session:
        police_poll = await session.scalar(select(Poll).where(Poll.agency_id.is_not(None)))
    forged = vote_press(posted["card"], "0")
    forged["data"]["poll_id"] = police_poll.id
    refused = await bot.execute(INSPECTOR, forged, where="channel")
    assert answer_text(refused) == plain(SV("poll.not_for_you"))
    forged["data"]["poll_id"] = 999999
    assert answer_text(await bot.execute(INSPECTOR, forged, where="channel")) == plain(SV("poll.not_for_you"))
    assert await ballots(bot) == []


async def test_a_vote_after_the_deadline_is_refused(bot: Harness) -> None:
    await forum(bot)
    posted = await channel_poll(bot)
    await vote(bot, POLICE, posted["card"], "0")
    bot.clock.moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # the deadline, before the schedule ran
    late = answer_card(await vote(bot, INSPECTOR, posted["card"], "1"))
    assert SV("poll.closed_refused") in card_text(late)
    changed = answer_card(await vote(bot, POLICE, posted["card"], "2"))
    assert SV("poll.closed_refused") in card_text(changed)
    (ballot,) = await ballots(bot)
    assert ballot.choices == 0b001


async def test_english_voters_read_english(bot: Harness) -> None:
    await forum(bot)
    posted = await channel_poll(bot)
    await bot.say(POLICE, "language english")
    card = answer_card(await vote(bot, POLICE, posted["card"], "0"))
    assert EN("poll.voted") in card_text(card) and EN.plural("poll.votes", 1) in card_text(card)


# Closing ---------------------------------------------------------------------------------


async def tick(bot: Harness, at: datetime) -> int:
    bot.clock.moment = at
    done = await bot.app[TASKS].run_due()
    await bot.drain_outbox()
    return done


async def test_the_poll_closes_at_its_deadline_after_a_restart_and_posts_its_result(bot: Harness) -> None:
    await forum(bot)
    posted = await channel_poll(bot, deadline_date="2026-11-25", deadline_time="12:00")
    await vote(bot, POLICE, posted["card"], "0")
    await vote(bot, INSPECTOR, posted["card"], "0")
    await vote(bot, COORDINATOR, posted["card"], "2")
    await bot.restart()
    # the reminder, a day before, to the one who has not answered (tested below), late here
    assert await tick(bot, datetime(2026, 11, 25, 10, 59, tzinfo=UTC)) == 1
    assert await tick(bot, datetime(2026, 11, 25, 11, 0, tzinfo=UTC)) == 1
    assert await tick(bot, datetime(2026, 11, 25, 11, 1, tzinfo=UTC)) == 0
    headline = SV("poll.result_headline")
    results = [card_text(c) for c in cards_of(bot.connector.sent(CHANNEL_ID)) if headline in card_text(c)]
    assert len(results) == 1
    assert (
        SV.plural("poll.votes", 2) in results[0] and SV.plural("poll.answered", 3, eligible=4) in results[0]
    )
    assert SV("poll.closed_at", when="onsdag 25 november 2026 kl. 12.00") in results[0]
    poll = await the_poll(bot)
    assert poll.status == "closed" and poll.eligible_count == 4
    # the channel's first card is brought up to date too: closed, without its vote
    await refresh(bot)
    (update,) = channel_updates(bot)
    assert SV("poll.closed_at", when="onsdag 25 november 2026 kl. 12.00") in update


async def test_its_keeper_closes_early_and_reopens_a_named_poll_but_not_an_anonymous_one(
    bot: Harness,
) -> None:
    await forum(bot)
    mine = (await make_poll(bot)).updated_cards[0]
    closed = answer_card(await bot.execute(COORDINATOR, button(mine, "poll.close"), reply_to_id="poll-card"))
    assert SV("poll.closed_now") in card_text(closed)
    refused = answer_card(await bot.execute(POLICE, button(closed, "poll.reopen"), where="channel"))
    assert SV("poll.not_keeper") in card_text(refused)
    reopened = answer_card(await bot.execute(COORDINATOR, button(closed, "poll.reopen")))
    assert SV("poll.reopened") in card_text(reopened) and button(reopened, "poll.vote")
    async with bot.sessions() as session:
        (task,) = await session.scalars(select(ScheduledTask).where(ScheduledTask.kind == "poll.close"))
    assert task.status == "pending"

    anonymous = (await make_poll(bot, anonymous="anonymous", question="Hemligt?")).updated_cards[0]
    press = button(anonymous, "poll.close")
    closed = answer_card(await bot.execute(COORDINATOR, press))
    assert [b["verb"] for b in execute_buttons(closed)] == []  # neither a vote nor a reopen
    reopen = {**press, "verb": "poll.reopen", "data": {**press["data"], "action": "poll.reopen"}}
    again = answer_card(await bot.execute(COORDINATOR, reopen))
    assert SV("poll.reopen_anonymous") in card_text(again)


# One agency --------------------------------------------------------------------------------


async def test_a_poll_for_one_agency_reaches_its_members_alone_and_its_maker_follows_it(
    bot: Harness,
) -> None:
    await forum(bot)
    response = await make_poll(bot, audience="POL", question="Bara polisen?")
    (mine,) = response.updated_cards
    assert SV("poll.created") in card_text(mine)
    assert [b["verb"] for b in execute_buttons(mine)] == ["poll.close"]  # the maker does not vote
    await bot.drain_outbox()
    assert bot.connector.sent(CHANNEL_ID) == []
    assert bot.connector.sent(INSPECTOR.personal_conversation) == []
    (police,) = cards_of(bot.connector.sent(POLICE.personal_conversation))
    assert SV.plural("poll.answered", 0, eligible=1) in card_text(police)

    voted = answer_card(await vote(bot, POLICE, police, "0", where="personal"))
    assert "✔ **Måndag**" in card_text(voted)
    not_asked = answer_card(await vote(bot, COORDINATOR, police, "1", where="personal"))
    assert SV("poll.not_asked") in card_text(not_asked)
    assert len(await ballots(bot)) == 1
    await refresh(bot)
    updated = {r.conversation_id for r in bot.connector.updated()}
    assert updated == {POLICE.personal_conversation, COORDINATOR.personal_conversation}

    closed = answer_card(await bot.execute(COORDINATOR, button(mine, "poll.close")))
    assert SV("poll.closed_now") in card_text(closed)
    await bot.drain_outbox()
    for person in (POLICE, COORDINATOR):
        assert any(
            SV("poll.result_headline") in card_text(c)
            for c in cards_of(bot.connector.sent(person.personal_conversation))
        )
    assert bot.connector.sent(INSPECTOR.personal_conversation) == []
    assert (await bot.say(INSPECTOR, "omröstningar")).cards[0] == (await bot.say(INSPECTOR, "polls")).cards[0]
    assert "Bara polisen?" not in card_text((await bot.say(INSPECTOR, "omröstningar")).cards[0])
    assert "Bara polisen?" in card_text((await bot.say(POLICE, "omröstningar")).cards[0])


# Anonymous means anonymous ------------------------------------------------------------------


async def test_after_an_anonymous_poll_closes_no_table_links_a_member_to_a_choice(bot: Harness) -> None:
    from bot.domain.polls import voter_key
    from bot.storage.models import AuditEntry, CardCopy, Member, OutboxMessage

    await forum(bot)
    posted = await channel_poll(bot, anonymous="anonymous", deadline_date="2026-11-25", deadline_time="12:00")
    for person, choice in ((POLICE, "0"), (INSPECTOR, "1"), (COORDINATOR, "1"), (POLICE, "2")):
        card = answer_card(await vote(bot, person, posted["card"], choice))
        # the voter alone sees their choice, in the invoke's answer
        assert f"✔ **{OPTIONS[int(choice)]}**" in card_text(card)
    await refresh(bot)

    async with bot.sessions() as session:
        members = {m.aad_object_id: m.id for m in await session.scalars(select(Member))}
        secret = (await the_poll(bot)).secret
    # while it is open, whoever holds the database and the secret can tell whose ballot is whose
    assert secret is not None
    keys = {b.voter: b.choices for b in await ballots(bot)}
    assert keys[voter_key(secret, members[POLICE.aad_object_id])] == 0b100

    await tick(bot, datetime(2026, 11, 25, 11, 0, tzinfo=UTC))
    await refresh(bot)
    poll = await the_poll(bot)
    assert poll.status == "closed" and poll.secret is None
    rows = await ballots(bot)
    assert len(rows) == 3 and sorted(r.choices for r in rows) == [0b010, 0b010, 0b100]
    assert all(r.member_id is None and r.note is None and len(r.voter) == 64 for r in rows)
    # the ballots' columns: the poll, the key, the choices, an empty member and an empty note (an
    # attendance answer's substitute); nothing that dates or orders a ballot
    assert set(PollBallot.__table__.columns.keys()) == {"poll_id", "voter", "choices", "member_id", "note"}
    async with bot.sessions() as session:
        audits = list(await session.scalars(select(AuditEntry).where(AuditEntry.item_type == "poll")))
        sent = list(await session.scalars(select(OutboxMessage)))
        copies = list(await session.scalars(select(CardCopy).where(CardCopy.item_type == "poll")))
    assert [a.action for a in audits] == ["created", "closed"]
    assert not any("choice" in json.dumps(a.details or {}) for a in audits)
    # no card the bot sent (and the outbox keeps) shows anyone's choice
    assert sent and not any("✔" in json.dumps(m.payload, ensure_ascii=False) for m in sent)
    assert copies and all(
        c.viewer_id is None or c.viewer_id == members[COORDINATOR.aad_object_id] for c in copies
    )


# A burst of votes ------------------------------------------------------------------------------


async def approved_voters(bot: Harness, count: int) -> list[TeamsUser]:
    """`count` approved members, spread over the agencies, added as the membership service adds
    them (each audited)."""
    people = [teams.user(f"voter.{i:03}", f"Röstare {i:03}") for i in range(count)]
    async with unit_of_work(bot.sessions) as session:
        forum_members = MembershipService(session, bot.settings)
        agencies = await forum_members.agencies.active()
        for i, person in enumerate(people):
            applicant = Applicant(person.aad_object_id, person.teams_id, person.name, person.email)
            member = await forum_members.apply(applicant, agencies[i % len(agencies)], by="test")
            await forum_members.admit(member, frozenset({Role.INSPECTOR}), by="test")
    return people


async def copy_updates_sent(bot: Harness) -> dict[str, list[datetime]]:
    """When each update of each card copy of the poll reached Teams (on the test's clock)."""
    async with bot.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.item_type == "poll",
                OutboxMessage.purpose.like("copy:%"),
                OutboxMessage.status == "sent",
            )
        )
        found: dict[str, list[datetime]] = {}
        for row in rows:
            found.setdefault(str(row.purpose), []).append(row.sent_at)
    return {purpose: sorted(times) for purpose, times in found.items()}


async def test_300_votes_at_once_are_each_counted_once_and_each_card_copy_updated_at_most_once_a_second(
    bot: Harness,
) -> None:
    await forum(bot)
    posted = await channel_poll(bot)
    people = await approved_voters(bot, 300)
    chosen = {person.key: i % 3 for i, person in enumerate(people)}
    started = bot.clock()
    voting = True

    async def refresher() -> None:
        # every process's refresher tick, on a clock that moves a quarter of a second a tick
        while voting:
            await refresh(bot)
            bot.clock.advance(seconds=0.25)
            await asyncio.sleep(0.02)

    ticking = asyncio.create_task(refresher())
    responses = await asyncio.gather(
        *(vote(bot, person, posted["card"], str(chosen[person.key])) for person in people)
    )
    voting = False
    await ticking
    # two processes' refreshers at once bring the cards up to date once
    bot.clock.advance(seconds=1)
    refreshed = await asyncio.gather(
        refresh_polls(bot.sessions, bot.settings, bot.clock),
        refresh_polls(bot.sessions, bot.settings, bot.clock),
    )
    assert sum(refreshed) <= 1
    bot.clock.advance(seconds=1)
    await bot.drain_outbox()
    await refresh(bot)
    assert await refresh_polls(bot.sessions, bot.settings, bot.clock) == 0

    for person, response in zip(people, responses, strict=True):
        text = card_text(answer_card(response))
        assert SV("poll.voted") in text, person.key
        assert f"✔ **{OPTIONS[chosen[person.key]]}**" in text
    rows = await ballots(bot)
    assert len(rows) == 300 and len({r.member_id for r in rows}) == 300
    assert sorted(r.choices for r in rows) == [0b001] * 100 + [0b010] * 100 + [0b100] * 100
    final = channel_updates(bot)[-1]
    assert SV.plural("poll.answered", 300, eligible=304) in final
    assert final.count(SV.plural("poll.votes", 100)) == 3

    # each copy (the channel's, and its maker's in personal chat): each update went out at least
    # a second after the one before
    updates = await copy_updates_sent(bot)
    assert len(updates) == 2
    async with bot.sessions() as session:
        channel = await session.scalar(
            select(CardCopy).where(CardCopy.item_type == "poll", CardCopy.viewer_id.is_(None))
        )
    assert len(bot.connector.updated(CHANNEL_ID)) == len(updates[f"copy:{channel.id}"])
    elapsed = (bot.clock() - started).total_seconds()
    for times in updates.values():
        assert 1 <= len(times) <= elapsed + 1
        for before, after in itertools.pairwise(times):
            assert after - before >= timedelta(seconds=1)


# The reminder before the deadline ------------------------------------------------------------


async def test_members_who_have_not_answered_are_reminded_once_before_the_deadline(bot: Harness) -> None:
    from bot.services import task_handlers
    from bot.services.schedule import TaskRunner
    from tests.conftest import ADMIN

    await forum(bot)
    posted = await channel_poll(bot, anonymous="anonymous", deadline_date="2026-11-25", deadline_time="12:00")
    await vote(bot, POLICE, posted["card"], "1")
    in_channel = len(bot.connector.sent(CHANNEL_ID))
    second = TaskRunner(bot.sessions, task_handlers(bot.settings), clock=bot.clock)
    # 24 hours before the deadline (FORUMBOT_POLL_NUDGE_HOURS)
    assert await tick(bot, datetime(2026, 11, 24, 10, 59, tzinfo=UTC)) == 0
    bot.clock.moment = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    assert sum(await asyncio.gather(bot.app[TASKS].run_due(), second.run_due())) == 1
    assert await bot.app[TASKS].run_due() == 0 and await second.run_due() == 0
    await bot.drain_outbox()
    expected = SV("poll.nudge.forum", question=QUESTION, when="onsdag 25 november 2026 kl. 12.00")
    for person in (INSPECTOR, COORDINATOR, ADMIN):
        texts = [a.get("text") for a in bot.connector.sent(person.personal_conversation)]
        assert texts.count(expected) == 1, person.key
    assert expected not in [a.get("text") for a in bot.connector.sent(POLICE.personal_conversation)]
    assert len(bot.connector.sent(CHANNEL_ID)) == in_channel


# The results as CSV ---------------------------------------------------------------------------


async def test_its_keeper_exports_the_results_as_csv_for_excel_through_a_link_of_their_own(
    bot: Harness,
) -> None:
    from tests.test_files import fetch, path_of
    from tests.test_meetings_calendar import open_url

    await forum(bot)
    posted = await channel_poll(bot, options="=HYPERLINK(1)\nOnsdag\nFredag")
    await vote(bot, POLICE, posted["card"], "0")
    await vote(bot, INSPECTOR, posted["card"], "1")
    mine = answer_card(await vote(bot, COORDINATOR, posted["card"], "1", where="personal"))
    export = next(a for a in mine["actions"] if a.get("data", {}).get("action") == "poll.export")
    response = await bot.submit(COORDINATOR, export["data"])
    (link_card,) = response.cards
    assert SV("poll.file.title", question=QUESTION) in card_text(link_card)
    fetched = await fetch(bot, path_of(open_url(link_card)))
    assert fetched.status == 200
    assert fetched.body.startswith(b"\xef\xbb\xbf")  # the BOM, so that Excel reads UTF-8
    rows = [line.split(";") for line in fetched.body.decode("utf-8-sig").split("\r\n")]
    assert rows[0] == [QUESTION]
    assert [SV("poll.csv.option"), SV("poll.csv.votes"), SV("poll.csv.share")] in rows
    assert ["'=HYPERLINK(1)", "1", "33 %"] in rows  # a formula stays text
    assert ["Onsdag", "2", "67 %"] in rows
    (police,) = [row for row in rows if row[0] == "Per Polis"]
    assert police[2] == "'=HYPERLINK(1)" and police[1].startswith("Polisen")

    # not for others: the button is not theirs, and a forged press gets nothing
    refused = await bot.submit(POLICE, export["data"])
    assert refused.texts == [SV("poll.not_for_you")] and refused.cards == []


# "Vilka förslag tar vi först?" ----------------------------------------------------------------


async def test_the_shortcut_fills_the_form_with_the_next_meetings_forum_wide_accepted_proposals(
    bot: Harness,
) -> None:
    from tests.test_meetings_agenda import accept, meeting_ids
    from tests.test_proposals import propose

    await forum(bot)
    await propose(bot, INSPECTOR, name="Pizzeria Forum", visibility="forum")
    await propose(bot, INSPECTOR, name="Salong Hemlig", visibility="agency")
    await propose(bot, INSPECTOR, name="Biltvätt Forum", visibility="forum")
    await set_up(bot)
    first = (await meeting_ids(bot))[0]
    for number in ("F-2026-0001", "F-2026-0002", "F-2026-0003"):
        await accept(bot, number, first)
    form = await poll_form(bot)
    shortcut = next(a for a in form["actions"] if a["data"]["action"] == "poll.shortcut")
    response = await bot.submit(COORDINATOR, shortcut["data"], reply_to_id="poll-form")
    (filled,) = response.updated_cards
    values = inputs(filled)
    assert values["question"] == SV("poll.form.shortcut")
    assert values["options"] == "F-2026-0001 Pizzeria Forum\nF-2026-0003 Biltvätt Forum"
    assert values["deadline_date"] == "2026-12-01" and values["audience"] == "forum"
    assert SV.plural("poll.form.shortcut_filled", 2) in card_text(filled)
    send = next(a for a in filled["actions"] if a["data"]["action"] == "poll.create")
    made = await bot.submit(COORDINATOR, {**send["data"], **values}, reply_to_id="poll-form")
    assert SV("poll.created") in card_text(made.updated_cards[0])
    await bot.drain_outbox()
    posted = card_text(cards_of(bot.connector.sent(CHANNEL_ID))[-1])
    assert "Biltvätt Forum" in posted and "Salong Hemlig" not in posted


async def test_the_maker_hears_whom_the_reminder_could_not_reach(bot: Harness) -> None:
    await forum(bot)
    await channel_poll(bot, deadline_date="2026-11-25", deadline_time="12:00")
    await approved_voters(bot, 2)  # members who never opened a chat with the bot
    bot.clock.moment = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    assert await bot.app[TASKS].run_due() == 1
    await bot.drain_outbox()
    told = [a.get("text") or "" for a in bot.connector.sent(COORDINATOR.personal_conversation)]
    (text,) = [t for t in told if SV.plural("poll.unreachable", 2, question=QUESTION) in t]
    assert "Röstare 000" in text and "Röstare 001" in text and SV("poll.unreachable.advice") in text
    assert await bot.app[TASKS].run_due() == 0
