"""The dispatch table, without HTTP: every card action declares who may press it and the shape of
its data, an unknown access level fails at start-up, and malformed data never reaches a handler."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.dialogs import build_router
from bot.dialogs.membership import DecisionSubmit
from bot.dialogs.proposals import ListSubmit, SaveSubmit, TransitionSubmit
from bot.dialogs.router import Access, Router, SubmitData
from bot.i18n import Translator
from tests.conftest import COORDINATOR
from tests.support.harness import Harness
from tests.test_proposals import forum, propose

GOOD = {"action": "proposal.transition", "proposal_id": 1, "version": 2, "transition": "accept"}


def test_every_action_declares_access_and_a_data_model() -> None:
    router = build_router()
    assert router.actions
    for action_id, route in router.actions.items():
        assert isinstance(route.access, Access), action_id
        assert issubclass(route.data, SubmitData), action_id
        assert "." in action_id or action_id == "cancel", action_id


def test_an_unknown_access_level_fails_at_start_up() -> None:
    router = Router()
    with pytest.raises(ValueError):
        router.action("x.y", access="nobody")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        router.command("help.cmd.help", "x", access="coordinators")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"proposal_id": "1"},  # a string
        {"proposal_id": True},  # a bool is no id
        {"proposal_id": 1.0},
        {"proposal_id": 0},
        {"proposal_id": 2**63},  # outside 64 bits
        {"version": None},
        {"transition": ["accept"]},
        {"transition": "x" * 65},  # oversize
        {"note": "x" * 5000},
        {"note": 5},
    ],
)
def test_malformed_transition_data_is_refused(change: dict) -> None:
    with pytest.raises(ValidationError):
        TransitionSubmit.model_validate({**GOOD, **change})


def test_missing_fields_are_refused_and_good_data_is_typed() -> None:
    for missing in ("proposal_id", "version", "transition"):
        with pytest.raises(ValidationError):
            TransitionSubmit.model_validate({k: v for k, v in GOOD.items() if k != missing})
    data = TransitionSubmit.model_validate(GOOD)
    assert (data.proposal_id, data.version, data.transition, data.note) == (1, 2, "accept", "")
    with pytest.raises(ValidationError):
        SaveSubmit.model_validate({"action": "proposal.save", "proposal_id": 1, "version": 1})
    with pytest.raises(ValidationError):
        DecisionSubmit.model_validate({"action": "registration.approve", "member_id": 3, "role": "admin"})
    assert ListSubmit.model_validate({"action": "proposal.list"}).page == 1
    with pytest.raises(ValidationError):
        ListSubmit.model_validate({"action": "proposal.list", "page": 10_000})


async def test_malformed_data_gets_the_out_of_date_reply_through_http(bot: Harness) -> None:
    await forum(bot)
    await propose(bot)
    out_of_date = Translator("sv")("common.bad_card")
    for change in ({"note": "x" * 5000}, {"version": "2"}, {"proposal_id": 2**64}):
        response = await bot.submit(COORDINATOR, {**GOOD, "version": 1, **change})
        assert response.status == 201
        assert response.texts == [out_of_date], change
    response = await bot.submit(COORDINATOR, {**GOOD, "version": 1}, reply_to_id="card")
    assert response.updated_cards  # the same data, well-formed, is carried out
