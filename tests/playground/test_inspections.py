"""A joint inspection in the playground, from the participants' side: Anna (samordnare at MHF, an
administrator here) books one with the police, Per Holm of the police gets the request in his own
chat and confirms, Anna's card shows it at once; once the inspection has begun, Per records the
police's outcome, shared with the others, and Anna sees it on her card."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.playground.client import Playground
from tests.playground.test_as_administrator import POL_SV, join_forum
from tests.playground.test_polls import admit_per
from tests.support.texts import SV

pytestmark = [pytest.mark.playground, pytest.mark.asyncio(loop_scope="module")]

ZONE = ZoneInfo("Europe/Stockholm")
BUSINESS = "Däckverkstad Exempel AB"


async def as_per(
    playground: Playground, per: dict[str, Any], sent: Any, pressed: dict[str, Any], inputs: dict[str, Any]
) -> Any:
    """Per presses the button of a card the bot sent to his chat, with `inputs` typed on it."""
    button = sent.button(**pressed)
    value = {**button["data"], **inputs}
    return await playground.send(
        await playground.message_from(per["user"], per["chat"], value=value, reply_to_id=sent.id)
    )


async def test_booked_confirmed_by_the_police_and_its_outcome_recorded(playground: Playground) -> None:
    await join_forum(playground)
    per = await admit_per(playground)

    # a start about a minute ahead (at least ten seconds): the outcome is recorded once it has begun
    start = (datetime.now(ZONE) + timedelta(seconds=70)).replace(second=0, microsecond=0)
    if start.hour == 23 and start.minute >= 50:  # the end would fall on the next day
        await asyncio.sleep((60 - start.minute + 1) * 60)
        start = (datetime.now(ZONE) + timedelta(seconds=70)).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=30)
    form = (await playground.say("boka tillsyn")).only()
    assert SV("inspection.form.title") in form.content
    fields = {
        "name": BUSINESS,
        "org_number": "556016-0680",
        "address": "Hallsta gård 2, Västerås",
        "date": start.date().isoformat(),
        "start_time": start.strftime("%H:%M"),
        "end_time": end.strftime("%H:%M"),
        "meeting_point": "Infarten",
        "lead_agency": "MHF",
        "agencies": "POL",
        "visibility": "agencies",
    }
    booked = (await playground.submit(form, form.button(action="inspection.create"), **fields)).only()
    if SV("inspection.form.book_anyway") in booked.content:  # off hours, a weekend or a holiday
        booked = (await playground.submit(booked, booked.button(action="inspection.create"), **fields)).only()
    assert SV("inspection.booked") in booked.content and BUSINESS in booked.content

    # Per gets the request in his own chat and confirms, naming who comes
    request = await playground.sent_elsewhere(
        lambda s: s.conversation_id == per["chat"] and BUSINESS in s.content
    )
    assert SV("inspection.answer_intro", agency=POL_SV) in request.content
    confirmed = await as_per(
        playground,
        per,
        request,
        {"action": "inspection.answer", "answer": "confirm"},
        {"who": "Per Holm och Kim Ek"},
    )
    assert confirmed.status == 201
    mine = await playground.proactive(
        lambda m: m.id == booked.id and "Per Holm och Kim Ek" in m.content, action="updateMessage"
    )
    assert SV("inspection.part.confirmed") in mine.content

    # once it has begun, the police record their outcome, shared with the participants
    await asyncio.sleep(max(0.0, (start - datetime.now(ZONE)).total_seconds()) + 1)
    shown = await playground.send(
        await playground.message_from(
            per["user"], per["chat"], text="inspektion T-" + booked_number(booked.content)
        )
    )
    (card,) = shown.elsewhere
    assert SV("inspection.outcome_intro", agency=POL_SV) in card.content
    outcome = {
        "outcome": "done",
        "findings": "svartarbete misstänkt",
        "measures": "anmälan",
        "outcome_note": "Två utan personalliggare.",
        "share": "true",
    }
    recorded = await as_per(playground, per, card, {"action": "inspection.outcome"}, outcome)
    assert recorded.status == 201
    final = await playground.proactive(
        lambda m: m.id == booked.id and "Två utan personalliggare." in m.content, action="updateMessage"
    )
    assert SV("inspection.outcome.done") in final.content


def booked_number(content: str) -> str:
    import re

    found = re.search(r"T-(\d{4}-\d{4})", content)
    assert found
    return found.group(1)
