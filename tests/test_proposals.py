"""Proposing actions end to end over HTTP: form, validation, notices, lifecycle, lists, editing,
visibility and confidentiality, forged and stale submits."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.domain.proposals import Status
from bot.storage.models import AuditEntry, OutboxMessage, Proposal, ProposalEvent
from tests.conftest import COORDINATOR, INSPECTOR, POLICE, TAX
from tests.support.harness import Harness, actions_of, card_text
from tests.support.texts import SV
from tests.test_conversation import approve, forum_with_members, register

VALID = {
    "action": "proposal.submit",
    "name": "Pizzeria Exempel",
    "org_number": "556016-0680",
    "address": "Stora gatan 1, Västerås",
    "industry": "restaurang",
    "reason": "Många anställda utan synlig bemanning i personalliggaren.",
    "agencies": "POL,SKV",
    "urgency": "high",
    "visibility": "forum",
}


async def forum(bot: Harness) -> None:
    await forum_with_members(bot)
    await register(bot, TAX, "SKV")
    await approve(bot, COORDINATOR, TAX)
    await bot.say(COORDINATOR, "koppla kanal", where="channel")
    await bot.drain_outbox()
    bot.connector.clear()


def form_token(card: dict) -> str:
    """The token a form card carries on its send button."""
    return next(a["data"]["form_token"] for a in actions_of(card) if a["data"].get("action") != "cancel")


async def new_form(bot: Harness, person=INSPECTOR) -> dict:
    """A fresh proposal form for `person`: the submit data it would send, token included."""
    card = (await bot.say(person, "föreslå")).cards[0]
    return {**VALID, "form_token": form_token(card)}


async def propose(bot: Harness, person=INSPECTOR, **fields: Any):
    data = await new_form(bot, person)
    return await bot.submit(person, {**data, **fields}, reply_to_id="form-card")


async def count(bot: Harness, model) -> int:
    async with bot.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def transition_data(card: dict, name: str) -> dict:
    return next(a["data"] for a in actions_of(card) if a["data"].get("transition") == name)


async def test_whole_lifecycle_with_every_role(bot: Harness) -> None:
    await forum(bot)
    form = (await bot.say(INSPECTOR, "föreslå")).cards[0]
    assert {i["id"] for i in _inputs(form)} >= {
        "name",
        "org_number",
        "address",
        "industry",
        "reason",
        "agencies",
        "urgency",
        "visibility",
        "period_from",
    }
    assert next(i for i in _inputs(form) if i["id"] == "visibility")["value"] == "agency"  # narrowest

    response = await bot.submit(INSPECTOR, {**VALID, "form_token": form_token(form)}, reply_to_id="form-card")
    created = response.updated_cards[0]
    assert response.updated[0]["id"] == "form-card"  # the form turns into the confirmation in place
    assert "F-2026-0001" in card_text(created)
    assert "Pizzeria Exempel" in card_text(created)

    # the police and the tax agency (named, may see it) are told; so is the channel (forum-wide)
    assert await bot.drain_outbox() == 3
    police_notice = bot.connector.sent(POLICE.personal_conversation)[-1]
    assert SV("proposal.notice_new") in card_text(police_notice["attachments"][0]["content"])
    channel_posts = [
        a
        for a in bot.connector.sent()
        if a.get("conversation", {}).get("id", "").startswith("19:forum")
        or "forumchannel" in str(a.get("conversation"))
    ]
    assert channel_posts and "F-2026-0001" in card_text(channel_posts[-1]["attachments"][0]["content"])

    # a coordinator accepts from the card in personal chat
    coordinator_card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    accept = transition_data(coordinator_card, "accept")
    response = await bot.submit(COORDINATOR, accept, reply_to_id="coord-card")
    assert SV("status.proposal.accepted") in card_text(response.updated_cards[0])
    # the copies posted earlier (police, channel, author's confirmation) are updated in place
    bot.connector.clear()
    await bot.drain_outbox()
    updated = bot.connector.updated()
    assert {u.conversation_id for u in updated} >= {
        POLICE.personal_conversation,
        INSPECTOR.personal_conversation,
    }
    assert any("forumchannel" in u.conversation_id for u in updated)
    accepted = SV("status.proposal.accepted")
    assert all(accepted in card_text(u.body["attachments"][0]["content"]) for u in updated)
    told = SV("proposal.told_author", number="F-2026-0001", status=accepted, by="Carl Samordnare")
    assert bot.connector.sent(INSPECTOR.personal_conversation)[-1]["text"] == told  # author told

    # the author can no longer accept, but coordinators move it on; illegal steps are refused
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    response = await bot.submit(COORDINATOR, {**transition_data(card, "plan"), "transition": "follow_up"})
    # follow_up is no step from accepted: the card is stale
    assert response.texts == [SV("proposal.stale", number="F-2026-0001")]
    for step, status in (("plan", "planned"), ("complete", "done"), ("follow_up", "followed_up")):
        card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
        response = await bot.submit(COORDINATOR, transition_data(card, step), reply_to_id="c")
        assert SV(f"status.proposal.{status}") in card_text(response.updated_cards[0]), step
    card = (await bot.say(INSPECTOR, "förslag F-2026-0001")).cards[0]
    assert not [a for a in actions_of(card) if a["data"].get("transition")]  # nothing left to do

    async with bot.sessions() as session:
        kinds = list(await session.scalars(select(ProposalEvent.kind).order_by(ProposalEvent.id)))
        audit = list(
            await session.scalars(select(AuditEntry.action).where(AuditEntry.item_type == "proposal"))
        )
    assert kinds == ["created", "accept", "plan", "complete", "follow_up"]
    assert audit.count("changed") == 4 and "opened" in audit and audit[0] == "created"


async def test_question_answered_and_withdrawn(bot: Harness) -> None:
    await forum(bot)
    await propose(bot)
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    response = await bot.submit(COORDINATOR, transition_data(card, "ask"))
    assert response.texts == [SV("proposal.note_required", number="F-2026-0001")]  # a question needs text
    response = await bot.submit(
        COORDINATOR, {**transition_data(card, "ask"), "note": "Vilka tider?"}, reply_to_id="c"
    )
    assert SV("status.proposal.needs_info") in card_text(response.updated_cards[0])
    card = (await bot.say(INSPECTOR, "förslag F-2026-0001")).cards[0]
    assert "Vilka tider?" in card_text(card)
    response = await bot.submit(
        INSPECTOR, {**transition_data(card, "answer"), "note": "Kvällar efter 22."}, reply_to_id="c"
    )
    assert SV("status.proposal.proposed") in card_text(response.updated_cards[0])
    card = (await bot.say(INSPECTOR, "förslag F-2026-0001")).cards[0]
    response = await bot.submit(INSPECTOR, transition_data(card, "withdraw"), reply_to_id="c")
    assert SV("status.proposal.withdrawn") in card_text(response.updated_cards[0])


async def test_police_cannot_act_as_coordinator(bot: Harness) -> None:
    await forum(bot)
    await propose(bot)
    coordinator_card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    response = await bot.submit(POLICE, transition_data(coordinator_card, "accept"))
    assert response.texts == [SV("proposal.forbidden", number="F-2026-0001")]
    response = await bot.submit(
        POLICE, transition_data(coordinator_card, "reject") | {"transition": "withdraw"}
    )
    assert response.texts == [SV("proposal.forbidden", number="F-2026-0001")]
    async with bot.sessions() as session:
        assert (await session.scalar(select(Proposal.status))) == "proposed"


async def test_invalid_form_is_shown_again_with_values_and_errors(bot: Harness) -> None:
    await forum(bot)
    response = await propose(
        bot, org_number="556016-0681", name="", agencies="", period_from="2026-12-10", period_to="2026-12-01"
    )
    card = response.updated_cards[0]
    text = card_text(card)
    assert SV("form.org_number.check_digit") in text
    assert SV("form.required") in text
    assert SV("form.agencies_required") in text
    assert SV("form.period_order") in text
    values = {i["id"]: i.get("value") for i in _inputs(card)}
    assert values["org_number"] == "556016-0681" and values["address"] == VALID["address"]
    assert await count(bot, Proposal) == 0


async def test_personal_number_in_shared_text_is_refused(bot: Harness) -> None:
    await forum(bot)
    reason = "Ägaren 19121212-1212 har tidigare drivit liknande bolag."
    response = await propose(bot, reason=reason)
    assert SV("form.personal_number") in card_text(response.updated_cards[0])
    assert await count(bot, Proposal) == 0
    # kept inside the author's own agency it may be recorded
    response = await propose(bot, reason=reason, visibility="agency")
    assert "F-2026-0001" in card_text(response.updated_cards[0])


async def test_sole_trader_number_is_masked_beyond_the_authors_agency(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, org_number="121212-1212", visibility="agencies")
    own = card_text((await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0])  # same agency (MHF)
    other = card_text((await bot.say(POLICE, "förslag F-2026-0001")).cards[0])
    assert "121212-1212" in own
    assert "121212-XXXX" in other and "121212-1212" not in other


async def test_narrow_proposal_is_invisible_to_other_agencies_and_the_channel(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, visibility="agency")
    assert await bot.drain_outbox() == 0  # nobody outside MHF is told, nothing to the channel
    assert bot.connector.sent(POLICE.personal_conversation) == []
    not_found = SV("proposal.not_found", number="F-2026-0001")
    assert (await bot.say(POLICE, "förslag F-2026-0001")).texts == [not_found]
    assert "Pizzeria" not in card_text((await bot.say(POLICE, "förslag")).cards[0])
    assert "Pizzeria" not in card_text((await bot.say(POLICE, "förslag", where="channel")).cards[0])
    async with bot.sessions() as session:
        proposal_id = await session.scalar(select(Proposal.id))
    for value in (
        {"action": "proposal.open", "proposal_id": proposal_id},
        {"action": "proposal.transition", "proposal_id": proposal_id, "version": 1, "transition": "withdraw"},
        {"action": "proposal.edit", "proposal_id": proposal_id},
        {**VALID, "action": "proposal.save", "proposal_id": proposal_id, "version": 1, "form_token": "x"},
    ):
        response = await bot.submit(POLICE, value)
        assert response.texts == [SV("proposal.not_found_card")], value
    # the coordinator of the author's agency sees it; in the channel it is not shown
    assert "Pizzeria" in card_text((await bot.say(COORDINATOR, "förslag")).cards[0])
    in_channel = await bot.say(COORDINATOR, "förslag F-2026-0001", where="channel")
    assert in_channel.texts == [SV("proposal.channel_forum_only", number="F-2026-0001")]
    async with bot.sessions() as session:
        to_channel = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.conversation_id.like("19:forum%"))
        )
    assert to_channel == 0


async def test_lists_filters_and_paging(bot: Harness) -> None:
    await forum(bot)
    for index in range(12):
        await propose(bot, name=f"Firma {index:02d}", industry="bygg" if index % 2 else "restaurang")
    first = card_text((await bot.say(POLICE, "förslag")).cards[0])
    assert "Firma 11" in first and "Firma 02" in first and "Firma 01" not in first  # newest first, 10
    response = await bot.say(POLICE, "förslag sida:2")
    assert "Firma 01" in card_text(response.cards[0])
    building = card_text((await bot.say(POLICE, "förslag bransch:bygg")).cards[0])
    assert "Firma 11" in building and "Firma 10" not in building
    assert SV("proposal.list_empty") in card_text((await bot.say(POLICE, "förslag status:done")).cards[0])
    statuses = ", ".join(SV(f"status.word.{s.value}") for s in Status)  # in the reader's words
    unknown = SV("proposal.bad_status", statuses=statuses)
    assert (await bot.say(POLICE, "förslag status:klar")).texts == [unknown]
    mine = card_text((await bot.say(INSPECTOR, "mina förslag")).cards[0])
    assert "Firma 11" in mine
    assert SV("proposal.list_empty") in card_text((await bot.say(POLICE, "mina förslag")).cards[0])
    next_page = next(
        a
        for a in actions_of((await bot.say(POLICE, "förslag")).cards[0])
        if a["data"]["action"] == "proposal.list"
    )
    response = await bot.submit(POLICE, next_page["data"], reply_to_id="list-card")
    assert "Firma 00" in card_text(response.updated_cards[0])


async def test_edit_keeps_history_and_widening_asks_first(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, visibility="agency", agencies="POL")
    form = (await bot.say(INSPECTOR, "ändra F-2026-0001")).cards[0]
    save = next(a for a in actions_of(form) if a["data"]["action"] == "proposal.save")["data"]
    values = {i["id"]: i.get("value", "") for i in _inputs(form)}
    assert values["name"] == "Pizzeria Exempel" and values["agencies"] == "POL"

    second = (await bot.say(INSPECTOR, "ändra F-2026-0001")).cards[0]
    response = await bot.submit(INSPECTOR, {**values, **save, "address": "Lilla gatan 2"}, reply_to_id="edit")
    assert SV("proposal.saved", number="F-2026-0001") in card_text(response.updated_cards[0])
    # the same form sent again (a double click) saves nothing more
    response = await bot.submit(INSPECTOR, {**values, **save, "address": "Gatan 3"}, reply_to_id="edit")
    assert SV("proposal.already_saved", number="F-2026-0001") in card_text(response.updated_cards[0])
    # a form opened before the save is stale now
    save2 = next(a for a in actions_of(second) if a["data"]["action"] == "proposal.save")["data"]
    response = await bot.submit(INSPECTOR, {**values, **save2, "visibility": "agencies"}, reply_to_id="edit2")
    assert response.texts == [SV("proposal.stale", number="F-2026-0001")]

    form = (await bot.say(INSPECTOR, "ändra F-2026-0001")).cards[0]
    save = next(a for a in actions_of(form) if a["data"]["action"] == "proposal.save")["data"]
    values = {i["id"]: i.get("value", "") for i in _inputs(form)}
    response = await bot.submit(INSPECTOR, {**values, **save, "visibility": "agencies"}, reply_to_id="edit3")
    confirm_card = response.updated_cards[0]
    assert "Polisen" in card_text(confirm_card)
    assert (await bot.say(POLICE, "förslag F-2026-0001")).texts == [
        SV("proposal.not_found", number="F-2026-0001")
    ]  # not yet
    confirm = next(a for a in actions_of(confirm_card) if a["data"].get("confirm_widen"))["data"]
    response = await bot.submit(INSPECTOR, confirm, reply_to_id="edit3")
    assert SV("proposal.saved", number="F-2026-0001") in card_text(response.updated_cards[0])
    assert "Pizzeria" in card_text((await bot.say(POLICE, "förslag F-2026-0001")).cards[0])
    bot.connector.clear()
    assert await bot.drain_outbox() >= 1  # the police are told now
    told = bot.connector.sent(POLICE.personal_conversation)
    assert told and "F-2026-0001" in card_text(told[-1]["attachments"][0]["content"])
    async with bot.sessions() as session:
        kinds = list(await session.scalars(select(ProposalEvent.kind).order_by(ProposalEvent.id)))
        audit = list(
            await session.scalars(select(AuditEntry.action).where(AuditEntry.item_type == "proposal"))
        )
    assert kinds == ["created", "edited", "widened"]
    assert "widened" in audit
    history = card_text((await bot.say(INSPECTOR, "förslag F-2026-0001")).cards[1])
    assert SV("history.widened") in history


async def test_forged_and_stale_submits_are_refused(bot: Harness) -> None:
    await forum(bot)
    await propose(bot)
    for value in (
        {"action": "proposal.transition", "proposal_id": "1", "version": 1, "transition": "accept"},
        {"action": "proposal.transition", "proposal_id": 1, "version": True, "transition": "accept"},
        {"action": "proposal.transition", "proposal_id": 1, "version": 1, "transition": ["accept"]},
        {"action": "proposal.save", "proposal_id": None},
    ):
        response = await bot.submit(COORDINATOR, value)
        assert response.texts == [SV("common.bad_card")], value
    response = await bot.submit(
        COORDINATOR,
        {"action": "proposal.transition", "proposal_id": 999, "version": 1, "transition": "accept"},
    )
    assert response.texts == [SV("proposal.not_found_card")]
    response = await bot.submit(
        COORDINATOR,
        {"action": "proposal.transition", "proposal_id": 1, "version": 1, "transition": "explode"},
    )
    assert response.texts == [SV("proposal.forbidden", number="F-2026-0001")]
    ok = await bot.submit(
        COORDINATOR,
        {"action": "proposal.transition", "proposal_id": 1, "version": 1, "transition": "accept"},
        reply_to_id="c",
    )
    assert SV("status.proposal.accepted") in card_text(ok.updated_cards[0])
    stale = await bot.submit(
        COORDINATOR,
        {
            "action": "proposal.transition",
            "proposal_id": 1,
            "version": 1,
            "transition": "reject",
            "note": "x",
        },
    )
    assert stale.texts == [SV("proposal.stale", number="F-2026-0001")]
    async with bot.sessions() as session:
        assert (await session.scalar(select(Proposal.status))) == "accepted"


async def test_propose_in_channel_sends_the_form_privately(bot: Harness) -> None:
    await forum(bot)
    response = await bot.say(INSPECTOR, "föreslå", where="channel")
    assert response.texts == [SV("proposal.form_sent_privately")]
    assert not response.cards
    await bot.drain_outbox()
    assert SV("proposal.form_title") in card_text(
        bot.connector.sent(INSPECTOR.personal_conversation)[-1]["attachments"][0]["content"]
    )


async def test_pending_members_cannot_propose(bot: Harness) -> None:
    await forum(bot)
    from tests.conftest import STRANGER

    await register(bot, STRANGER, "RTJ")
    assert (await bot.say(STRANGER, "föreslå")).texts == [SV("common.not_allowed")]
    response = await bot.submit(STRANGER, VALID)
    assert response.texts == [SV("common.not_allowed")]
    assert await count(bot, Proposal) == 0


def _inputs(card: dict) -> list[dict]:
    return [b for b in card["body"] if str(b.get("type", "")).startswith("Input.")]


@pytest.mark.parametrize(
    "number",
    [
        "19121212-1212",  # 12 digits with hyphen
        "191212121212",  # 12 digits
        "121212-1212",  # 10 digits
        "121212+1212",  # + : 100 years or older
        "701063-2391",  # samordningsnummer (day + 60)
    ],
)
async def test_every_form_of_personal_number_is_refused_in_shared_text(bot: Harness, number: str) -> None:
    await forum(bot)
    response = await propose(bot, address=f"Gatan 1 (ägare {number})")
    assert SV("form.personal_number") in card_text(response.updated_cards[0])
    assert await count(bot, Proposal) == 0


@pytest.mark.parametrize("number", ["121212-1213", "19121212-1213", "701063-2392", "1234567890"])
async def test_numbers_with_wrong_check_digit_are_not_mistaken_for_personal_numbers(
    bot: Harness, number: str
) -> None:
    await forum(bot)
    response = await propose(bot, reason=f"Ärendenummer {number} hos oss.")
    assert "F-2026-0001" in card_text(response.updated_cards[0])


@pytest.mark.parametrize(
    ("org_number", "accepted"),
    [
        ("556016-0680", True),  # Ericsson
        ("5560160680", True),
        ("16556016-0680", True),
        ("212000-2080", True),  # Västerås stad
        ("556016-0681", False),  # wrong check digit
        ("55601606", False),  # too short
        ("ABCDEF-GHIJ", False),
        ("121212-1212", True),  # a sole trader: a personal identity number
        ("121212-1213", False),
    ],
)
async def test_organisation_numbers(bot: Harness, org_number: str, accepted: bool) -> None:
    await forum(bot)
    response = await propose(bot, org_number=org_number, visibility="agency")
    text = card_text(response.updated_cards[0])
    assert ("F-2026-0001" in text) is accepted, text
    assert await count(bot, Proposal) == int(accepted)


async def test_oversize_text_and_control_characters(bot: Harness) -> None:
    await forum(bot)
    response = await propose(bot, name="x" * 500)
    assert SV("form.too_long") in card_text(response.updated_cards[0])
    assert await count(bot, Proposal) == 0
    response = await propose(bot, name="Pizzeria\x00 Exempel\x07", reason="Rad ett\nRad två\x1b[31m")
    assert "F-2026-0001" in card_text(response.updated_cards[0])
    async with bot.sessions() as session:
        proposal = await session.scalar(select(Proposal))
    assert proposal is not None
    assert proposal.business_name == "Pizzeria Exempel"
    assert proposal.reason == "Rad ett\nRad två[31m"


async def test_wrong_types_in_the_form_are_errors_not_crashes(bot: Harness) -> None:
    await forum(bot)
    response = await propose(bot, name=["a", "b"], agencies={"POL": True}, urgency=5, visibility=None)
    text = card_text(response.updated_cards[0])
    assert SV("form.required") in text and SV("form.agencies_required") in text
    assert await count(bot, Proposal) == 0


async def test_group_chat_is_treated_like_the_channel(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, visibility="agency", name="Hemlig Firma")
    await propose(bot, visibility="forum", name="Öppen Firma")
    listing = card_text((await bot.say(INSPECTOR, "förslag", where="group")).cards[0])
    assert "Öppen Firma" in listing and "Hemlig Firma" not in listing
    in_group = await bot.say(INSPECTOR, "förslag F-2026-0001", where="group")
    assert in_group.texts == [SV("proposal.channel_forum_only", number="F-2026-0001")]
    data = await new_form(bot)
    bot.connector.clear()
    response = await bot.submit(INSPECTOR, data, where="group")
    assert response.sent == [] and response.updated == []  # nothing in the group chat
    await bot.drain_outbox()
    assert [a["text"] for a in bot.connector.sent(INSPECTOR.personal_conversation)] == [
        SV("proposal.edit_personal_only")
    ]
    assert await count(bot, Proposal) == 2


async def test_narrowing_blanks_the_channel_copy_and_drops_queued_posts(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, visibility="forum")
    await bot.drain_outbox()  # posted to the channel and to the police and tax agency
    form = (await bot.say(INSPECTOR, "ändra F-2026-0001")).cards[0]
    save = next(a for a in actions_of(form) if a["data"]["action"] == "proposal.save")["data"]
    values = {i["id"]: i.get("value", "") for i in _inputs(form)}
    bot.connector.clear()
    response = await bot.submit(INSPECTOR, {**values, **save, "visibility": "agency"}, reply_to_id="e")
    assert SV("proposal.saved", number="F-2026-0001") in card_text(response.updated_cards[0])
    await bot.drain_outbox()
    channel = [u for u in bot.connector.updated() if "forumchannel" in u.conversation_id]
    police = [u for u in bot.connector.updated() if u.conversation_id == POLICE.personal_conversation]
    for copy in channel + police:
        text = card_text(copy.body["attachments"][0]["content"])
        assert SV("proposal.no_longer_shared") in text and "Pizzeria" not in text
    assert channel and police


async def test_other_agencies_cannot_change_who_may_see_it(bot: Harness) -> None:
    from tests.conftest import ADMIN

    await forum(bot)  # the admin is a coordinator of the city executive office (SLK)
    await propose(bot, visibility="forum")
    form = (await bot.say(ADMIN, "ändra F-2026-0001")).cards[0]
    save = next(a for a in actions_of(form) if a["data"]["action"] == "proposal.save")["data"]
    values = {i["id"]: i.get("value", "") for i in _inputs(form)}
    response = await bot.submit(
        ADMIN, {**values, **save, "visibility": "agency", "address": "Ny adress 3"}, reply_to_id="e"
    )
    text = card_text(response.updated_cards[0])
    assert "Ny adress 3" in text and SV("visibility.forum") in text
    async with bot.sessions() as session:
        assert (await session.scalar(select(Proposal.visibility))) == "forum"


async def test_notes_are_masked_in_the_channel(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, visibility="forum")
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    # a reject reason with a number is refused for a proposal others read...
    response = await bot.submit(COORDINATOR, {**transition_data(card, "reject"), "note": "Se 19121212-1212"})
    assert response.texts == [SV("proposal.note_personal_number", number="F-2026-0001")]
    # ...and history shown in the channel never carries one
    response = await bot.say(COORDINATOR, "förslag F-2026-0001", where="channel")
    assert "1212-1212" not in card_text(response.cards[0]) + card_text(response.cards[1])


@pytest.mark.parametrize(
    "text", ["förslag F-2026-¹²", "förslag sida:²", "förslag F-9999-99999999999", "ändra F-²"]
)
async def test_odd_digits_are_no_crash(bot: Harness, text: str) -> None:
    await forum(bot)
    response = await bot.say(INSPECTOR, text)
    assert response.status == 201 and (response.texts or response.cards)
    assert not {SV("common.error"), SV("common.error_after_save")} & set(response.texts)


async def test_narrowing_drops_notices_not_yet_sent(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, visibility="forum")  # notices to police, tax and the channel are queued
    form = (await bot.say(INSPECTOR, "ändra F-2026-0001")).cards[0]
    save = next(a for a in actions_of(form) if a["data"]["action"] == "proposal.save")["data"]
    values = {i["id"]: i.get("value", "") for i in _inputs(form)}
    await bot.submit(INSPECTOR, {**values, **save, "visibility": "agency"}, reply_to_id="e")
    bot.connector.clear()
    await bot.drain_outbox()
    assert bot.connector.sent(POLICE.personal_conversation) == []
    assert bot.connector.sent(TAX.personal_conversation) == []
    assert not [a for a in bot.connector.sent() if "forumchannel" in str(a.get("conversation"))]


async def test_reject_with_reason_and_no_withdrawal_once_planned(bot: Harness) -> None:
    from tests.conftest import ADMIN

    await forum(bot)
    await propose(bot)
    await propose(bot, name="Andra Firman")
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    response = await bot.submit(
        COORDINATOR, {**transition_data(card, "reject"), "note": "Ingen grund för tillsyn."}, reply_to_id="c"
    )
    rejected = card_text(response.updated_cards[0])
    rejected_status = SV("status.proposal.rejected")
    assert rejected_status in rejected and "Ingen grund för tillsyn." in rejected
    bot.connector.clear()
    await bot.drain_outbox()
    told = SV("proposal.told_author", number="F-2026-0001", status=rejected_status, by="Carl Samordnare")
    assert bot.connector.sent(INSPECTOR.personal_conversation)[-1]["text"] == told
    copies = [card_text(u.body["attachments"][0]["content"]) for u in bot.connector.updated()]
    assert any(rejected_status in copy for copy in copies)

    # the admin (a coordinator too) accepts and plans the second; then the author cannot withdraw
    card = (await bot.say(ADMIN, "förslag F-2026-0002")).cards[0]
    await bot.submit(ADMIN, transition_data(card, "accept"), reply_to_id="a")
    card = (await bot.say(ADMIN, "förslag F-2026-0002")).cards[0]
    await bot.submit(ADMIN, transition_data(card, "plan"), reply_to_id="a")
    author_card = (await bot.say(INSPECTOR, "förslag F-2026-0002")).cards[0]
    assert not [a for a in actions_of(author_card) if a["data"].get("transition") == "withdraw"]
    async with bot.sessions() as session:
        version = await session.scalar(select(Proposal.version).where(Proposal.number == "F-2026-0002"))
        proposal_id = await session.scalar(select(Proposal.id).where(Proposal.number == "F-2026-0002"))
    forged = {
        "action": "proposal.transition",
        "proposal_id": proposal_id,
        "version": version,
        "transition": "withdraw",
    }
    response = await bot.submit(INSPECTOR, forged)
    stale = SV("proposal.stale", number="F-2026-0002")
    assert response.texts == [stale]  # withdraw is not a step from planned
    async with bot.sessions() as session:
        statuses = dict((await session.execute(select(Proposal.number, Proposal.status))).tuples().all())
        audit = list(await session.scalars(select(AuditEntry.details).where(AuditEntry.action == "changed")))
    assert statuses == {"F-2026-0001": "rejected", "F-2026-0002": "planned"}
    assert {d["transition"] for d in audit} == {"reject", "accept", "plan"}
