"""A quick poll in the playground: Anna (samordnare at MHF, an administrator here) makes a poll for
the forum, it is posted into the Forum channel, she votes on the channel's card by pressing its
Action.Execute button (the playground sends the bot its own `adaptiveCard/action` invoke), Per of
the police votes too (an invoke from his Teams client), the channel's card shows the tally, and
Anna closes the poll: the result is posted and a late vote is refused on the card."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.playground.client import Message, Playground, card_text
from tests.playground.test_as_administrator import POL_SV, join_forum
from tests.support.texts import SV

pytestmark = [pytest.mark.playground, pytest.mark.asyncio(loop_scope="module")]

QUESTION = "Vilken dag passar för gemensam tillsyn på Hälla?"
OPTIONS = ["Måndag", "Onsdag", "Fredag"]


async def admit_per(playground: Playground) -> dict[str, Any]:
    """Per Holm applies for the police in his own chat and Anna approves him; his chat's id."""
    per = playground.user("Per Holm")
    per_chat = await playground.open_personal_chat(per)
    offered = await playground.send(await playground.message_from(per, per_chat, text="registrera mig"))
    card = offered.elsewhere[0]
    await playground.send(
        await playground.message_from(
            per,
            per_chat,
            value={**card.button(action="register.submit")["data"], "agency": "POL"},
            reply_to_id=card.id,
        )
    )
    application = await playground.proactive(lambda m: "Per Holm" in m.content)
    assert POL_SV in application.content
    await playground.submit(application, application.button(action="registration.approve", role="inspector"))
    return {"user": per, "chat": per_chat}


async def vote_as(playground: Playground, user: dict[str, Any], post: Message, choices: str) -> Any:
    """`user` presses "Rösta" on the channel's card with `choices` ticked, from their own Teams
    client: an `adaptiveCard/action` invoke in the post's thread. Returns the bot's answer."""
    activity = await playground.template(playground.thread_of(post))
    vote = post.button(action="poll.vote")
    activity.update(
        type="invoke",
        name="adaptiveCard/action",
        locale="sv-SE",
        replyToId=post.id,
        value={
            "action": {
                "type": "Action.Execute",
                "verb": vote["verb"],
                "data": {**vote["data"], "choices": choices},
            },
            "trigger": "manual",
        },
    )
    activity["from"] = {"id": user["id"], "aadObjectId": user["aadObjectId"], "name": user["name"]}
    activity.setdefault("channelData", {})["tenant"] = {"id": playground.tenant_id}
    turn = await playground.send(activity)
    assert turn.status == 200
    return turn.body


async def test_a_poll_in_the_channel_voted_on_its_card_tallied_and_closed(playground: Playground) -> None:
    await join_forum(playground)
    forum = playground.channels["Forum"]
    await playground.say("koppla kanal", forum)
    per = await admit_per(playground)

    form = (await playground.say("ny omröstning")).only()
    assert SV("poll.form.title") in form.content
    deadline = date.today() + timedelta(days=2)
    made = await playground.submit(
        form,
        form.button(action="poll.create"),
        question=QUESTION,
        options="\n".join(OPTIONS),
        multiple="single",
        anonymous="named",
        results="live",
        deadline_date=deadline.isoformat(),
        deadline_time="12:00",
        audience="forum",
    )
    hers = made.only()
    assert QUESTION in hers.content  # the form became the poll's card, for Anna
    post = await playground.proactive(lambda m: QUESTION in m.content and m.conversation_id.startswith(forum))
    assert SV.plural("poll.answered", 0, eligible=2) in post.content

    # Anna votes on the channel's card through the playground's own invoke; the answer is her
    # card, with her choice ticked, which only she sees
    answer = await playground.execute(post, post.button(action="poll.vote"), choices="1")
    assert answer["type"] == "application/vnd.microsoft.card.adaptive", answer
    mine = card_text(answer["value"])
    assert SV("poll.voted") in mine and f"✔ **{OPTIONS[1]}**" in mine
    assert SV.plural("poll.answered", 1, eligible=2) in mine

    # Per, from his own Teams client, picks another day
    his = await vote_as(playground, per["user"], post, "2")
    assert his["type"] == "application/vnd.microsoft.card.adaptive", his
    assert f"✔ **{OPTIONS[2]}**" in card_text(his["value"]) and f"✔ **{OPTIONS[1]}**" not in card_text(
        his["value"]
    )

    # the channel's card is brought up to date by the bot: both have answered, by name
    tallied = await playground.proactive(
        lambda m: m.id == post.id and SV.plural("poll.answered", 2, eligible=2) in m.content,
        action="updateMessage",
    )
    assert "Anna Lindqvist" in tallied.content and "Per Holm" in tallied.content
    assert "✔" not in tallied.content  # nobody's own choice is marked on the shared card

    # Anna closes it from her own card (the channel's has no such button): the result is posted
    # in the channel, and a late vote is refused on the card
    assert not [b for b in tallied.card.get("actions", []) if b.get("verb") == "poll.close"]
    closed = await playground.execute(hers, hers.button(action="poll.close"))
    assert closed["type"] == "application/vnd.microsoft.card.adaptive", closed
    assert SV("poll.closed_now") in card_text(closed["value"])
    result = await playground.proactive(
        lambda m: SV("poll.result_headline") in m.content and m.conversation_id.startswith(forum)
    )
    assert QUESTION in result.content and result.content.count(SV.plural("poll.votes", 1)) == 2
    late = await vote_as(playground, per["user"], post, "0")
    assert SV("poll.closed_refused") in card_text(late["value"])
