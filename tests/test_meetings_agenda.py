"""The agenda: accepting a proposal puts it on a coming meeting (the next by default), the agenda
shows each reader only what they may see (the channel only forum-wide proposals), and after the
meeting a coordinator records the decision per proposal from the agenda card."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.storage.models import Meeting, Proposal
from tests.conftest import COORDINATOR, INSPECTOR
from tests.support.harness import Harness, actions_of, card_text
from tests.test_meetings import SV, forum, set_up
from tests.test_meetings_reminders import AGENDA, channel_posts, tick
from tests.test_proposals import propose, transition_data


def meeting_choices(card: dict) -> tuple[list[str], str | None]:
    def walk(node):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            if node.get("id") == "meeting_id":
                yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    (choice,) = list(walk(card))
    return [c["value"] for c in choice["choices"]], choice.get("value")


async def meeting_ids(bot: Harness) -> list[int]:
    async with bot.sessions() as session:
        return list(await session.scalars(select(Meeting.id).order_by(Meeting.starts_at)))


async def accept(bot: Harness, number: str, meeting_id: int | None) -> dict:
    card = (await bot.say(COORDINATOR, f"förslag {number}")).cards[0]
    data = transition_data(card, "accept")
    if meeting_id is not None:
        data = {**data, "meeting_id": str(meeting_id)}
    return (await bot.submit(COORDINATOR, data, reply_to_id="proposal-card")).updated_cards[0]


async def test_an_accepted_proposal_goes_on_the_chosen_meeting_and_the_channel_sees_forum_wide_only(
    bot: Harness,
) -> None:
    await forum(bot)
    await propose(bot, INSPECTOR, name="Pizzeria Forum", visibility="forum")
    await propose(bot, INSPECTOR, name="Salong Hemlig", visibility="agency", agencies="POL")
    await set_up(bot)  # Tuesdays from 1 December
    first, second = (await meeting_ids(bot))[:2]
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    choices, default = meeting_choices(card)
    assert default == str(first) and choices[:2] == [str(first), str(second)]
    await accept(bot, "F-2026-0001", second)
    await accept(bot, "F-2026-0002", second)
    async with bot.sessions() as session:
        assert set(await session.scalars(select(Proposal.meeting_id))) == {second}

    mine = card_text((await bot.say(COORDINATOR, "möte 2026-12-08")).cards[0])
    assert "F-2026-0001 Pizzeria Forum" in mine and "F-2026-0002 Salong Hemlig" in mine
    in_channel = await bot.say(COORDINATOR, "möte 2026-12-08", where="channel")
    text = card_text(in_channel.cards[0])
    assert "Pizzeria Forum" in text and "Salong Hemlig" not in text

    # the agenda reminder in the channel: the same
    await bot.drain_outbox()
    bot.connector.clear()
    await tick(bot, datetime(2026, 12, 4, 8, 0, tzinfo=UTC))
    (agenda,) = [p for p in channel_posts(bot) if AGENDA in p and "8 december" in p]
    assert "Pizzeria Forum" in agenda and "Salong Hemlig" not in agenda


async def test_accepting_without_a_choice_still_accepts(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, INSPECTOR, visibility="forum")
    card = await accept(bot, "F-2026-0001", None)
    assert SV("status.proposal.accepted") in card_text(card)


async def test_after_the_meeting_the_coordinator_records_each_decision_on_the_agenda(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, INSPECTOR, name="Pizzeria Forum", visibility="forum")
    await propose(bot, INSPECTOR, name="Bilverkstad Två", visibility="forum")
    await set_up(bot)
    first = (await meeting_ids(bot))[0]
    await accept(bot, "F-2026-0001", first)
    await accept(bot, "F-2026-0002", first)
    before = (await bot.say(COORDINATOR, "möte 2026-12-01")).cards[0]
    assert not [a for a in actions_of(before) if a["data"]["action"] == "meeting.decide"]

    bot.clock.moment = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    card = (await bot.say(COORDINATOR, "möte 2026-12-01")).cards[0]
    decide = [a["data"] for a in actions_of(card) if a["data"]["action"] == "meeting.decide"]
    assert {(d["proposal_id"], d["transition"]) for d in decide} == {
        (1, "plan"),
        (1, "reject"),
        (2, "plan"),
        (2, "reject"),
    }
    plan = next(d for d in decide if d["proposal_id"] == 1 and d["transition"] == "plan")
    updated = (await bot.submit(COORDINATOR, plan, reply_to_id="agenda-card")).updated_cards[0]
    assert SV("status.proposal.planned") in card_text(updated)
    reject = next(d for d in decide if d["proposal_id"] == 2 and d["transition"] == "reject")
    refused = await bot.submit(COORDINATOR, reject, reply_to_id="agenda-card")
    assert refused.texts == [SV("proposal.note_required", number="F-2026-0002")]
    await bot.submit(COORDINATOR, {**reject, "note": "Utanför forumets uppdrag."}, reply_to_id="agenda-card")
    async with bot.sessions() as session:
        statuses = dict((await session.execute(select(Proposal.number, Proposal.status))).all())
    assert statuses == {"F-2026-0001": "planned", "F-2026-0002": "rejected"}


async def test_only_coordinators_record_decisions(bot: Harness) -> None:
    await forum(bot)
    forged = {
        "action": "meeting.decide",
        "meeting_id": 1,
        "proposal_id": 1,
        "version": 2,
        "transition": "plan",
    }
    assert (await bot.submit(INSPECTOR, forged)).texts == [SV("common.not_allowed")]
