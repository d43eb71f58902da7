"""Welcome, help, registration and approval, channel linking, unknown input: end to end over HTTP."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.models import AuditEntry, ChannelLink, Member
from tests.conftest import ADMIN, COORDINATOR, INSPECTOR, POLICE, STRANGER
from tests.support.harness import Harness, actions_of, card_text
from tests.support.texts import EN, SV

MHF = "Västerås stad – miljö- och hälsoskyddsförvaltningen"
POL = "Polisen – lokalpolisområde Västerås"


async def register(bot: Harness, person, agency: str) -> None:
    await bot.say(person, "registrera mig")
    response = await bot.submit(person, {"action": "register.submit", "agency": agency})
    assert response.status in (200, 201)


async def approve(bot: Harness, approver, person, role: str = "inspector") -> None:
    async with bot.sessions() as session:
        member_id = await session.scalar(
            select(Member.id).where(Member.aad_object_id == person.aad_object_id)
        )
    response = await bot.submit(
        approver, {"action": "registration.approve", "member_id": member_id, "role": role}
    )
    assert response.status in (200, 201)


async def forum_with_members(bot: Harness) -> None:
    """An admin, a coordinator (MHF) and an inspector (MHF) and a police officer, approved."""
    await register(bot, ADMIN, "SLK")
    await register(bot, COORDINATOR, "MHF")
    await approve(bot, ADMIN, COORDINATOR, "coordinator")
    await register(bot, INSPECTOR, "MHF")
    await approve(bot, COORDINATOR, INSPECTOR)
    await register(bot, POLICE, "POL")
    await approve(bot, COORDINATOR, POLICE)


async def test_welcome_on_install_in_personal_chat(bot: Harness) -> None:
    response = await bot.install(STRANGER)
    assert response.status == 201
    assert len(response.cards) == 1
    text = card_text(response.cards[0])
    assert SV("welcome.title") in text
    assert SV("welcome.personal") in text
    assert SV("welcome.english") in text


async def test_welcome_in_team_explains_linking(bot: Harness) -> None:
    response = await bot.install(COORDINATOR, where="channel")
    assert SV("welcome.team") in card_text(response.cards[0])


async def test_other_members_joining_get_no_welcome(bot: Harness) -> None:
    activity = bot.builder("personal")(bot.connector.url, STRANGER)
    activity.update(type="conversationUpdate", membersAdded=[{"id": "29:someone-else"}])
    response = await bot.post(activity)
    assert response.status == 201
    assert response.sent == []


async def test_help_depends_on_role(bot: Harness) -> None:
    stranger_help = card_text((await bot.say(STRANGER, "hjälp")).cards[0])
    assert SV("help.cmd.register") in stranger_help
    assert SV("help.cmd.pending") not in stranger_help
    assert SV("status.unregistered") in stranger_help

    await forum_with_members(bot)
    coordinator_help = card_text((await bot.say(COORDINATOR, "hjälp")).cards[0])
    assert SV("help.cmd.pending") in coordinator_help
    assert SV("help.cmd.link") in coordinator_help
    inspector_help = card_text((await bot.say(INSPECTOR, "help")).cards[0])
    assert SV("help.cmd.pending") not in inspector_help
    assert SV("help.cmd.link") not in inspector_help


async def test_help_in_english_for_english_locale(bot: Harness) -> None:
    response = await bot.say(STRANGER, "help", locale="en-US")
    text = card_text(response.cards[0])
    assert EN("help.cmd.help") in text
    assert EN("status.unregistered") in text


async def test_registration_approved_by_admin(bot: Harness) -> None:
    await register(bot, ADMIN, "SLK")  # an admin named in settings is approved at once
    response = await bot.say(COORDINATOR, "registrera mig")
    card = response.cards[0]
    assert card_text(card).count("Polisen") == 1
    response = await bot.submit(
        COORDINATOR, {"action": "register.submit", "agency": "MHF"}, reply_to_id="activity-x"
    )
    # the registration card is replaced in place with the pending notice
    assert response.updated and response.updated[0]["id"] == "activity-x"
    assert SV("registration.pending", agency=MHF) in card_text(response.updated_cards[0])

    # the pending member sees nothing of the forum yet
    assert (await bot.say(COORDINATOR, "vem är jag")).texts == [SV("status.pending", agency=MHF)]
    assert (await bot.say(COORDINATOR, "väntande")).texts == [SV("common.not_allowed")]

    # the admin is told in personal chat, through the outbox
    assert await bot.drain_outbox() == 1
    notice = bot.connector.sent(ADMIN.personal_conversation)[-1]
    notice_card = notice["attachments"][0]["content"]
    assert "Carl Samordnare" in card_text(notice_card)
    assert "carl.samordnare@example.se" in card_text(notice_card)  # from the roster
    approve_action = next(a for a in actions_of(notice_card) if a["data"].get("role") == "coordinator")
    response = await bot.submit(ADMIN, approve_action["data"], reply_to_id=notice["id"])
    assert SV("approval.done_approved", by="Anna Admin") in card_text(response.updated_cards[0])

    assert await bot.drain_outbox() == 1
    approved = SV("registration.approved_notice", agency=MHF)
    assert bot.connector.sent(COORDINATOR.personal_conversation)[-1]["text"] == approved
    status = (await bot.say(COORDINATOR, "vem är jag")).texts[0]
    assert SV("role.coordinator") in status

    async with bot.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.count("approved") == 2  # the admin by settings, the coordinator by the admin


async def test_registration_by_typing_agency_code(bot: Harness) -> None:
    response = await bot.say(STRANGER, "registrera mig")
    assert "POL" in response.texts[0]
    response = await bot.say(STRANGER, "nåt konstigt")
    assert response.texts == [SV("registration.unknown_agency", answer="nåt konstigt")]
    response = await bot.say(STRANGER, "pol")
    assert SV("registration.pending", agency=POL) in card_text(response.cards[0])


async def test_registration_cancelled(bot: Harness) -> None:
    await bot.say(STRANGER, "registrera mig")
    assert (await bot.say(STRANGER, "avbryt")).texts == [SV("common.cancelled")]
    assert (await bot.say(STRANGER, "pol")).texts == [SV("common.unknown", text="pol")]


async def test_dialog_state_survives_restart(bot: Harness) -> None:
    await bot.say(STRANGER, "registrera mig")
    await bot.restart()
    response = await bot.say(STRANGER, "SKV")
    assert "Skatteverket" in card_text(response.cards[0])


async def test_abandoned_flow_times_out(bot: Harness) -> None:
    await bot.say(STRANGER, "registrera mig")
    bot.clock.advance(minutes=bot.settings.dialog_timeout_minutes + 1)
    assert (await bot.say(STRANGER, "SKV")).texts == [SV("common.unknown", text="skv")]  # echoed as read


async def test_coordinator_may_not_appoint_coordinators(bot: Harness) -> None:
    await forum_with_members(bot)
    await register(bot, STRANGER, "SKV")
    async with bot.sessions() as session:
        member_id = await session.scalar(
            select(Member.id).where(Member.aad_object_id == STRANGER.aad_object_id)
        )
    response = await bot.submit(
        COORDINATOR, {"action": "registration.approve", "member_id": member_id, "role": "coordinator"}
    )
    assert response.texts == [SV("approval.not_allowed")]
    response = await bot.submit(
        INSPECTOR, {"action": "registration.approve", "member_id": member_id, "role": "inspector"}
    )
    assert response.texts == [SV("common.not_allowed")]  # refused before the handler
    async with bot.sessions() as session:
        assert (await session.get(Member, member_id)).status == "pending"
    pending = await bot.say(COORDINATOR, "väntande")
    assert "Okänd Person" in card_text(pending.cards[0])


async def test_decision_on_handled_registration_is_stale(bot: Harness) -> None:
    await forum_with_members(bot)
    async with bot.sessions() as session:
        member_id = await session.scalar(
            select(Member.id).where(Member.aad_object_id == POLICE.aad_object_id)
        )
    response = await bot.submit(COORDINATOR, {"action": "registration.reject", "member_id": member_id})
    assert response.texts == [SV("approval.stale")]


async def test_forum_channel_linked_by_coordinator(bot: Harness) -> None:
    await forum_with_members(bot)
    response = await bot.say(INSPECTOR, "koppla kanal", where="channel")
    assert response.texts == [SV("common.not_allowed")]
    response = await bot.say(COORDINATOR, "koppla kanal", where="channel")
    assert response.texts == [SV("channel.linked")]
    async with bot.sessions() as session:
        link = await session.scalar(select(ChannelLink))
    assert link is not None and link.team_id == "19:forumteam@thread.tacv2"
    assert link.reference["conversation"]["id"].startswith("19:forumchannel")
    assert (await bot.say(COORDINATOR, "koppla kanal")).texts == [SV("channel.only_in_channel")]
    # linked again in the same channel: it says so, and the link stays one
    assert (await bot.say(COORDINATOR, "koppla kanal", where="channel")).texts == [
        SV("channel.already_linked")
    ]
    async with bot.sessions() as session:
        assert len(list(await session.scalars(select(ChannelLink)))) == 1


async def test_unknown_command_gets_a_hint(bot: Harness) -> None:
    response = await bot.say(STRANGER, "blablabla")
    assert response.status == 201
    assert response.texts == [SV("common.unknown", text="blablabla")]
    response = await bot.say(STRANGER, "what now", where="channel")
    assert response.texts == [SV("common.unknown", text="what now")]


async def test_unknown_card_action_is_refused_with_a_message(bot: Harness) -> None:
    response = await bot.submit(STRANGER, {"action": "drop.tables"})
    assert response.status == 201
    assert response.texts == [SV("common.bad_card")]
    # who may press a button is checked before its data: a stranger is refused either way
    response = await bot.submit(STRANGER, {"action": "registration.approve", "member_id": "1; --"})
    assert response.texts == [SV("common.not_allowed")]
    await bot.say(ADMIN, "registrera mig")
    await bot.submit(ADMIN, {"action": "register.submit", "agency": "SLK"})
    response = await bot.submit(ADMIN, {"action": "registration.approve", "member_id": "1; --"})
    assert response.texts == [SV("common.bad_card")]


async def test_duplicate_activity_has_effects_once(bot: Harness) -> None:
    await bot.say(STRANGER, "registrera mig")
    from tests.support import teams

    activity = teams.submit(
        teams.personal, bot.connector.url, STRANGER, {"action": "register.submit", "agency": "POL"}, None
    )
    first = await bot.post(activity)
    second = await bot.post(activity)
    assert first.status == second.status == 201
    assert first.sent and not second.sent
    async with bot.sessions() as session:
        audit = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "created")))
    assert len(audit) == 1


async def test_concurrent_duplicate_deliveries_have_effects_once(bot: Harness) -> None:
    import asyncio

    from tests.support import teams

    await bot.say(STRANGER, "registrera mig")
    activity = teams.submit(
        teams.personal, bot.connector.url, STRANGER, {"action": "register.submit", "agency": "POL"}, None
    )
    first, second = await asyncio.gather(bot.post(activity), bot.post(activity))
    assert first.status == second.status == 201
    async with bot.sessions() as session:
        created = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "created")))
        members = list(await session.scalars(select(Member)))
    assert len(created) == 1 and len(members) == 1
    pending = SV("registration.pending", agency=POL)
    replies = [a for a in bot.connector.sent(STRANGER.personal_conversation) if pending in str(a)]
    assert len(replies) == 1


async def test_a_slow_roster_lookup_holds_no_transaction(bot: Harness) -> None:
    """Registering asks Teams' roster who the user is; no other turn waits for that answer."""
    import asyncio

    await forum_with_members(bot)
    gate = bot.connector.hold_roster()
    await bot.say(STRANGER, "registrera mig")
    registering = asyncio.create_task(bot.submit(STRANGER, {"action": "register.submit", "agency": "POL"}))
    try:
        assert await asyncio.to_thread(bot.connector.roster_asked.wait, 10)
        other = await bot.say(INSPECTOR, "hjälp")  # answered while the lookup is still held
        assert other.cards and not registering.done()
    finally:
        gate.set()
    await registering
    async with bot.sessions() as session:
        member = await session.scalar(select(Member).where(Member.aad_object_id == STRANGER.aad_object_id))
    assert member is not None and member.status == "pending"


async def test_turns_beyond_the_cap_wait_their_turn_and_are_then_answered(bot: Harness) -> None:
    """FORUMBOT_TURNS_IN_FLIGHT: with two turns held up (each waiting for Teams' roster), a third
    waits in line; when they finish, it is answered."""
    import asyncio

    from tests.conftest import TAX, make_settings

    await forum_with_members(bot)
    await bot.stop()
    capped = Harness(make_settings(bot.settings.database_url, turns_in_flight=2), bot.connector, bot.clock)
    await capped.start()
    try:
        gate = capped.connector.hold_roster()
        for who in (STRANGER, TAX):
            await capped.say(who, "registrera mig")
        before = capped.connector.roster_lookups
        registering = [
            asyncio.create_task(capped.submit(who, {"action": "register.submit", "agency": "POL"}))
            for who in (STRANGER, TAX)
        ]
        try:
            for _ in range(200):  # both turns reach the roster (each a lookup, held)
                if capped.connector.roster_lookups - before >= 2:
                    break
                await asyncio.sleep(0.05)
            assert capped.connector.roster_lookups - before == 2
            waiting = asyncio.create_task(capped.say(INSPECTOR, "hjälp"))
            done, _ = await asyncio.wait({waiting}, timeout=1.0)
            assert not done  # the third turn waits for a free place
        finally:
            gate.set()
        answered = await asyncio.wait_for(waiting, 30)
        assert any(SV("help.title") in card_text(card) for card in answered.cards)
        await asyncio.gather(*registering)
        async with capped.sessions() as session:
            pending = await session.scalars(select(Member).where(Member.status == "pending"))
            assert {m.aad_object_id for m in pending} >= {STRANGER.aad_object_id, TAX.aad_object_id}
    finally:
        await capped.stop()
