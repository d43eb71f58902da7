"""Anna applies like any inspector: in this module FORUMBOT_ADMIN_IDS names nobody. The playground
sends en-US, so the registration is in English; waiting for approval, she chooses Swedish."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.playground.client import Playground
from tests.support.texts import EN, SV

pytestmark = [pytest.mark.playground, pytest.mark.asyncio(loop_scope="module")]

MHF_EN = "City of Västerås – Environment and Health Administration"
MHF_SV = "Västerås stad – miljö- och hälsoskyddsförvaltningen"


@pytest.fixture(scope="module")
def forum_admins() -> Callable[[dict[str, Any]], list[str]]:
    return lambda config: []


async def test_the_registration_card_is_replaced_by_the_pending_card(playground: Playground) -> None:
    offered = await playground.say("registrera mig")
    card = offered.posted[0]

    submitted = await playground.submit(card, card.button(action="register.submit"), agency="MHF")

    replaced = submitted.only()
    assert replaced.action == "updateMessage"
    assert replaced.id == card.id
    assert replaced.conversation_id == playground.personal_chat
    assert EN("registration.title") in replaced.content
    assert EN("registration.pending", agency=MHF_EN) in replaced.content
    assert not replaced.card.get("actions")  # nothing left to click
    whoami = await playground.say("vem är jag")
    assert whoami.texts == [EN("status.pending", agency=MHF_EN)]


async def test_a_pending_member_chooses_swedish(playground: Playground) -> None:
    chosen = await playground.say("språk svenska")

    assert chosen.activity["locale"] == "en-US"
    assert chosen.texts == [SV("language.chosen")]
    whoami = await playground.say("vem är jag")
    assert whoami.texts == [SV("status.pending", agency=MHF_SV)]
    welcome = (await playground.install()).only()
    assert SV("welcome.pending", agency=MHF_SV) in welcome.content
