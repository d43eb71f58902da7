"""What new users and hostile input found in proposals, each reproduced through HTTP on both databases:
masked edit forms, replies in the channel kept private, no personal data in the history, one
proposal per form, forged replyToId, huge ids, cancel that cancels, and wording."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from bot.storage.models import Member, OutboxMessage, Proposal, ProposalEvent
from tests.conftest import COORDINATOR, INSPECTOR, POLICE, STRANGER, TAX
from tests.support import teams
from tests.support.harness import Harness, actions_of, card_text
from tests.support.harness import input_blocks as inputs
from tests.support.teams import CHANNEL_ID
from tests.test_proposals import SV, VALID, count, form_token, forum, new_form, propose, transition_data

SOLE_TRADER = "811218-9876"  # a sole trader's organisation number is a personal identity number


def save_data(form: dict) -> dict:
    return next(a["data"] for a in actions_of(form) if a["data"]["action"] == "proposal.save")


async def channel_post(bot: Harness) -> dict:
    """The forum channel's card of the newest forum-wide proposal, as Teams holds it."""
    await bot.drain_outbox()
    return [a for a in bot.connector.sent(CHANNEL_ID) if a.get("attachments")][-1]


def in_channel(bot: Harness) -> tuple[list[dict], list[Any]]:
    """Everything sent to or updated in the forum channel (its threads included)."""
    sent = [a for a in bot.connector.sent() if a.get("conversation", {}).get("id", "").startswith(CHANNEL_ID)]
    updated = [u for u in bot.connector.updated() if u.conversation_id.startswith(CHANNEL_ID)]
    return sent, updated


async def press_in_channel(bot: Harness, person, post: dict, data: dict) -> Any:
    """A button pressed on the channel's card: Teams sends it from the post's thread."""
    thread = {
        "id": f"{CHANNEL_ID};messageid={post['id']}",
        "conversationType": "channel",
        "isGroup": True,
        "tenantId": teams.TENANT,
    }
    return await bot.submit(person, data, reply_to_id=post["id"], where="channel", conversation=thread)


# 1. The edit form masks what another agency may not see ------------------------------------


async def test_edit_form_masks_a_sole_traders_number_for_another_agency(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, org_number=SOLE_TRADER, reason="Många anställda.", visibility="forum")
    form = (await bot.say(COORDINATOR, "ändra F-2026-0001")).cards[0]
    assert inputs(form)["org_number"]["value"] == SOLE_TRADER  # same agency (MHF): whole
    async with bot.sessions() as session:
        police = await session.scalar(select(Member).where(Member.aad_object_id == POLICE.aad_object_id))
        assert police is not None
        police.roles = "inspector,coordinator"
        await session.commit()
    form = (await bot.say(POLICE, "ändra F-2026-0001")).cards[0]
    # another agency's editor may not change the number: it is shown, masked, not offered as input
    assert "org_number" not in inputs(form) and "811218-XXXX" in card_text(form)
    mhf = "Västerås stad – miljö- och hälsoskyddsförvaltningen"
    assert SV("proposal.audience_locked", agency=mhf) in card_text(form)
    assert "9876" not in card_text(form)
    values = {key: node.get("value", "") for key, node in inputs(form).items()}
    response = await bot.submit(
        POLICE, {**values, **save_data(form), "address": "Nya gatan 5"}, reply_to_id="e"
    )
    assert SV("proposal.saved", number="F-2026-0001") in card_text(response.updated_cards[0])
    async with bot.sessions() as session:
        stored = await session.scalar(select(Proposal))
        assert stored is not None
        assert stored.org_number == SOLE_TRADER and stored.address == "Nya gatan 5"
    # the history shown to the police names the change but no earlier values
    history = card_text((await bot.say(POLICE, "förslag F-2026-0001")).cards[1])
    assert SV("field.address") in history and "Stora gatan" not in history and "9876" not in history


# 2. Replies to a button pressed in the channel go to that member alone ------------------------


async def test_channel_buttons_answer_privately_and_only_the_card_changes(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, visibility="forum")
    post = await channel_post(bot)
    ask = transition_data(post["attachments"][0]["content"], "ask")

    for data, expected in (
        (ask, SV("proposal.note_required", number="F-2026-0001")),  # a prompt
        (
            {**ask, "note": f"Gäller ägaren {SOLE_TRADER}?"},
            SV("proposal.note_personal_number", number="F-2026-0001"),
        ),
    ):
        bot.connector.clear()
        response = await press_in_channel(bot, COORDINATOR, post, data)
        assert response.sent == [] and response.updated == []
        await bot.drain_outbox()
        sent, updated = in_channel(bot)
        assert sent == [] and updated == []  # nothing reached the channel
        private = bot.connector.sent(COORDINATOR.personal_conversation)
        assert [a.get("text") for a in private] == [expected]
        assert all("9876" not in str(a) for a in bot.connector.sent())  # the number is echoed nowhere

    # the history: a full copy goes to the member's personal chat, nothing to the channel
    bot.connector.clear()
    history = next(
        a["data"]
        for a in actions_of(post["attachments"][0]["content"])
        if a["data"]["action"] == "proposal.open"
    )
    response = await press_in_channel(bot, POLICE, post, history)
    assert response.sent == [] and response.updated == []
    await bot.drain_outbox()
    assert in_channel(bot) == ([], [])
    private = bot.connector.sent(POLICE.personal_conversation)
    assert len(private) == 2 and SV("proposal.history_title", number="F-2026-0001") in card_text(
        private[1]["attachments"][0]["content"]
    )

    # a real step: the channel's card is updated in place, and nothing else is said there
    bot.connector.clear()
    accept = transition_data(post["attachments"][0]["content"], "accept")
    response = await press_in_channel(bot, COORDINATOR, post, accept)
    assert response.sent == []
    assert [u["id"] for u in response.updated] == [post["id"]]
    assert SV("status.proposal.accepted") in card_text(response.updated_cards[0])


async def test_a_forged_reply_to_id_overwrites_no_post(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, visibility="forum")
    post = await channel_post(bot)
    async with bot.sessions() as session:
        proposal_id = await session.scalar(select(Proposal.id))
    for person, data in (
        (STRANGER, {"action": "cancel"}),
        (STRANGER, {"action": "register.submit", "agency": "POL"}),
        (POLICE, {"action": "cancel"}),
        (POLICE, {"action": "proposal.list", "page": 2}),
        # another item's id on this post's button
        (
            COORDINATOR,
            {
                "action": "proposal.transition",
                "proposal_id": proposal_id + 1,
                "version": 1,
                "transition": "accept",
            },
        ),
    ):
        bot.connector.clear()
        response = await press_in_channel(bot, person, post, data)
        await bot.drain_outbox()
        assert response.updated == [] and in_channel(bot) == ([], []), data
    async with bot.sessions() as session:
        assert (
            await session.scalar(select(Member).where(Member.aad_object_id == STRANGER.aad_object_id)) is None
        )


# 3. The history keeps no personal data ---------------------------------------------------


async def test_history_keeps_which_fields_changed_but_no_personal_number(bot: Harness) -> None:
    await forum(bot)
    await propose(
        bot, visibility="agency", reason=f"Ägaren {SOLE_TRADER} driver flera bolag.", address="Gamla 1"
    )
    form = (await bot.say(INSPECTOR, "ändra F-2026-0001")).cards[0]
    values = {key: node.get("value", "") for key, node in inputs(form).items()}
    await bot.submit(
        INSPECTOR, {**values, **save_data(form), "reason": "Ägaren driver flera bolag.", "address": "Nya 2"}
    )
    async with bot.sessions() as session:
        changes = (
            await session.scalars(select(ProposalEvent.changes).where(ProposalEvent.kind == "edited"))
        ).one()
    assert set(changes) == {"reason", "address"}
    assert changes["reason"] == {} and changes["address"] == {"from": "Gamla 1"}
    assert "9876" not in str(changes)
    history = card_text((await bot.say(INSPECTOR, "förslag F-2026-0001")).cards[1])
    assert SV("field.reason") in history and "Gamla 1" in history  # the author's agency sees earlier text


# Double submits ------------------------------------------------------------------------


async def test_one_form_gives_one_proposal_also_when_sent_twice(bot: Harness) -> None:
    await forum(bot)
    data = await new_form(bot)
    first = await bot.submit(INSPECTOR, data, reply_to_id="form-card")
    second = await bot.submit(INSPECTOR, data, reply_to_id="form-card")  # Teams' retry: a new activity id
    assert SV("proposal.created", number="F-2026-0001") in card_text(first.updated_cards[0])
    assert SV("proposal.already_created", number="F-2026-0001") in card_text(second.updated_cards[0])
    assert await count(bot, Proposal) == 1
    assert await bot.drain_outbox() == 3  # police, tax agency, channel: once each


async def test_concurrent_submits_of_one_form_make_one_proposal(bot: Harness) -> None:
    await forum(bot)
    data = await new_form(bot)
    bot.connector.clear()
    responses = await asyncio.gather(
        *(bot.submit(INSPECTOR, data, reply_to_id="form-card") for _ in range(5))
    )
    assert all(r.status in (200, 201) for r in responses)
    texts = [t for r in responses for t in r.texts]
    assert SV("common.error") not in texts and SV("common.error_after_save") not in texts
    puts = [u for u in bot.connector.updated(INSPECTOR.personal_conversation) if u.activity_id == "form-card"]
    assert len(puts) == 5
    assert all("F-2026-0001" in card_text(u.body["attachments"][0]["content"]) for u in puts)
    assert await count(bot, Proposal) == 1
    async with bot.sessions() as session:
        keys = list(await session.scalars(select(OutboxMessage.idempotency_key)))
    assert len([k for k in keys if ":channel:" in k]) == 1 and len([k for k in keys if ":new:" in k]) == 2


# Malformed ids -------------------------------------------------------------------------


async def test_ids_outside_64_bits_mean_an_out_of_date_card(bot: Harness) -> None:
    await forum(bot)
    await propose(bot)
    huge = 2**63
    for value in (
        {"action": "proposal.transition", "proposal_id": huge, "version": 1, "transition": "accept"},
        {"action": "proposal.transition", "proposal_id": 1, "version": huge * 4, "transition": "accept"},
        {"action": "proposal.open", "proposal_id": -huge},
        {"action": "registration.approve", "member_id": huge},
        {"action": "outbox.retry", "entry_id": huge},
    ):
        response = await bot.submit(COORDINATOR, value)
        assert response.status in (200, 201)
        assert len(response.texts) == 1 and SV("common.error") not in response.texts, value


# 4. Cancel cancels -----------------------------------------------------------------------


async def test_typed_cancel_closes_the_open_form(bot: Harness) -> None:
    await forum(bot)
    response = await bot.say(INSPECTOR, "föreslå")
    form = response.cards[0]
    cancel = next(a for a in actions_of(form) if a["data"]["action"] == "cancel")
    assert cancel["associatedInputs"] == "none"  # no client-side validation before cancelling
    form_id = bot.connector.sent(INSPECTOR.personal_conversation)[-1]["id"]
    response = await bot.say(INSPECTOR, "avbryt")
    assert response.texts == []  # the form card itself now says so
    assert [u["id"] for u in response.updated] == [form_id]
    assert SV("common.cancelled") in card_text(response.updated_cards[0])
    late = await bot.submit(INSPECTOR, {**VALID, "form_token": form_token(form)}, reply_to_id=form_id)
    assert late.texts == [SV("proposal.form_out_of_date")]
    assert await count(bot, Proposal) == 0
    assert (await bot.say(INSPECTOR, "avbryt")).texts == [SV("common.nothing_to_cancel")]


async def test_cancel_button_closes_its_form(bot: Harness) -> None:
    await forum(bot)
    form = (await bot.say(INSPECTOR, "föreslå")).cards[0]
    cancel = next(a for a in actions_of(form) if a["data"]["action"] == "cancel")["data"]
    response = await bot.submit(INSPECTOR, cancel, reply_to_id="form-card")  # an empty form: no inputs sent
    assert SV("common.cancelled") in card_text(response.updated_cards[0])
    late = await bot.submit(INSPECTOR, {**VALID, "form_token": form_token(form)})
    assert late.texts == [SV("proposal.form_out_of_date")]
    # someone else's token is not theirs to cancel
    other = (await bot.say(POLICE, "föreslå")).cards[0]
    forged = next(a for a in actions_of(other) if a["data"]["action"] == "cancel")["data"]
    assert (await bot.submit(INSPECTOR, forged)).texts == [SV("common.bad_card")]
    made = await bot.submit(POLICE, {**VALID, "form_token": form_token(other)})
    assert SV("proposal.created", number="F-2026-0001") in card_text(made.cards[0])


# 0. Widening re-checks the notes ------------------------------------------------------------


async def test_widening_is_refused_while_a_note_carries_a_personal_number(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, visibility="agency")
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    await bot.submit(COORDINATOR, {**transition_data(card, "ask"), "note": "Är ägaren 811218 9876?"})
    form = (await bot.say(INSPECTOR, "ändra F-2026-0001")).cards[0]
    values = {key: node.get("value", "") for key, node in inputs(form).items()}
    response = await bot.submit(INSPECTOR, {**values, **save_data(form), "visibility": "forum"})
    assert SV("form.widen_notes_personal_number") in card_text(
        response.updated_cards[0] if response.updated_cards else response.cards[0]
    )
    async with bot.sessions() as session:
        assert await session.scalar(select(Proposal.visibility)) == "agency"


# 7-11. Wording and cards -------------------------------------------------------------------


async def test_cards_read_as_display_and_history_as_events(bot: Harness) -> None:
    await forum(bot)
    form = (await bot.say(INSPECTOR, "föreslå")).cards[0]
    assert inputs(form)["agencies"].get("isRequired") is True
    assert SV("proposal.visibility_hint") in card_text(form)
    assert inputs(form)["urgency"]["label"] == SV("proposal.urgency")
    await propose(bot)
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    text = card_text(card)
    assert SV("proposal.shown.org_number") in text and SV("proposal.org_number") not in text
    await bot.submit(COORDINATOR, {**transition_data(card, "ask"), "note": "Vilka tider?"})
    card = (await bot.say(INSPECTOR, "förslag F-2026-0001")).cards[0]
    await bot.submit(INSPECTOR, {**transition_data(card, "answer"), "note": "Kvällar."})
    card, history = (await bot.say(POLICE, "förslag F-2026-0001")).cards
    assert SV("proposal.shown.question", note="Vilka tider?") in card_text(card)  # stays after the answer
    assert SV("proposal.shown.answer", note="Kvällar.") in card_text(card)
    history_text = card_text(history)
    for line in (
        SV("history.created"),
        SV("history.ask") + " – " + SV("history.note.ask", note="Vilka tider?"),
        SV("history.answer") + " – " + SV("history.note.answer", note="Kvällar."),
    ):
        assert line in history_text
    assert SV("transition.accept") not in history_text


async def test_help_pairs_swedish_and_english(bot: Harness) -> None:
    await forum(bot)
    help_text = card_text((await bot.say(INSPECTOR, "hjälp")).cards[0])
    for pair in ("föreslå / propose", "förslag / proposals", "ändra / edit", "avbryt / cancel"):
        assert pair in help_text
    assert "status:accepterad bransch:restaurang" in help_text
    assert SV("help.cmd.proposals") in help_text


async def test_a_tax_agency_member_reads_the_channel_card_but_not_agency_text(bot: Harness) -> None:
    """Agency-only content never reaches another agency through any of these paths."""
    await forum(bot)
    await propose(bot, visibility="agency", name="Hemlig Firma", reason=f"Ägaren {SOLE_TRADER}.")
    await bot.drain_outbox()
    everything = str(bot.connector.requests)
    assert "Hemlig Firma" not in everything or all(
        r.conversation_id == INSPECTOR.personal_conversation
        for r in bot.connector.requests
        if "Hemlig Firma" in str(r.body)
    )
    assert (await bot.say(TAX, "förslag F-2026-0001")).texts == [
        SV("proposal.not_found", number="F-2026-0001")
    ]


# 0. Personal numbers written in ordinary ways are refused in shared text, through HTTP --------

WRITINGS = (
    "811218 9876",  # a space, the commonest
    "811218\n9876",
    "811218\u00a09876",  # no-break space
    "811218\u20099876",  # thin space
    "811218\u20149876",  # em dash
    "811218\uff0d9876",
    "811218\ufe639876",
    "811218/9876",
    "811218.9876",
    "81 12 18-98 76",
    "\uff18\uff11\uff11\uff12\uff11\uff18-\uff19\uff18\uff17\uff16",  # fullwidth
    "\u0668\u0661\u0661\u0662\u0661\u0668-\u0669\u0668\u0667\u0666",  # Arabic-Indic
    "\u06f8\u06f1\u06f1\u06f2\u06f1\u06f8-\u06f9\u06f8\u06f7\u06f6",  # Persian
    "8\u034f11218-98\ufe0f76",  # combining grapheme joiner, variation selector
)


async def test_personal_numbers_in_any_writing_are_refused_in_shared_text(bot: Harness) -> None:
    await forum(bot)
    for index, writing in enumerate(WRITINGS):
        response = await propose(bot, reason=f"Ägaren ({writing}) driver flera bolag.", name=f"Firma {index}")
        assert SV("form.personal_number") in card_text(response.updated_cards[0]), ascii(writing)
    assert await count(bot, Proposal) == 0
    # a note on a forum-wide proposal is refused too, and not echoed
    await propose(bot)
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    for writing in WRITINGS[:3]:
        response = await bot.submit(
            COORDINATOR, {**transition_data(card, "ask"), "note": f"Är det {writing}?"}
        )
        assert response.texts == [SV("proposal.note_personal_number", number="F-2026-0001")]
    async with bot.sessions() as session:
        assert await session.scalar(select(Proposal.status)) == "proposed"


async def test_the_channel_answers_alike_for_a_restricted_and_a_missing_proposal(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, visibility="agencies", agencies="POL")
    restricted = await bot.say(COORDINATOR, "förslag F-2026-0001", where="channel")
    missing = await bot.say(COORDINATOR, "förslag F-2026-0099", where="channel")
    assert restricted.texts == [SV("proposal.channel_forum_only", number="F-2026-0001")]
    assert missing.texts == [SV("proposal.channel_forum_only", number="F-2026-0099")]
    assert "Pizzeria" not in str(restricted.sent)


async def test_the_coordinator_who_asked_hears_the_answer(bot: Harness) -> None:
    await forum(bot)
    await propose(bot)
    await bot.drain_outbox()
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    await bot.submit(COORDINATOR, {**transition_data(card, "ask"), "note": "Vilka tider?"})
    await bot.drain_outbox()
    told = [a.get("text") for a in bot.connector.sent(INSPECTOR.personal_conversation)]
    question = SV(
        "proposal.told_author_question", by="Carl Samordnare", number="F-2026-0001", note="Vilka tider?"
    )
    assert question in told
    card = (await bot.say(INSPECTOR, "förslag F-2026-0001")).cards[0]
    await bot.submit(INSPECTOR, {**transition_data(card, "answer"), "note": "Kvällar."})
    await bot.drain_outbox()
    heard = [a.get("text") for a in bot.connector.sent(COORDINATOR.personal_conversation)]
    assert SV("proposal.told_answered", by="Ingrid Inspektör", number="F-2026-0001", note="Kvällar.") in heard


async def test_filters_take_swedish_status_words_and_edit_asks_which(bot: Harness) -> None:
    await forum(bot)
    await propose(bot)
    card = (await bot.say(COORDINATOR, "förslag F-2026-0001")).cards[0]
    await bot.submit(COORDINATOR, transition_data(card, "accept"))
    for words in ("förslag status:accepterad bransch:restaurang", "proposals status:accepted"):
        assert "Pizzeria" in card_text((await bot.say(POLICE, words)).cards[0]), words
    assert "Pizzeria" not in card_text((await bot.say(POLICE, "förslag status:föreslagen")).cards[0])
    assert (await bot.say(INSPECTOR, "ändra")).texts == [SV("proposal.edit_which")]
