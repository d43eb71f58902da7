"""Every malformed request is refused with its status, never a 500; foreign tenants get nothing."""

from __future__ import annotations

import json

import pytest

from bot.settings import Settings
from tests.conftest import ADMIN, STRANGER
from tests.support import teams
from tests.support.harness import Harness

JSON = {"Content-Type": "application/json"}


async def test_health_and_readiness(bot: Harness) -> None:
    assert await bot.get("/healthz") == (200, {"status": "up"})
    assert await bot.get("/readyz") == (200, {"status": "ready"})


async def test_readiness_fails_while_migrations_are_pending(bot: Harness) -> None:
    from alembic import command

    from bot.app import DB_ENGINE
    from bot.storage import db

    assert bot.app is not None

    def downgrade(connection):  # type: ignore[no-untyped-def]
        config = db._alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")

    engine = bot.app[DB_ENGINE]
    async with engine.begin() as connection:
        await connection.run_sync(downgrade)
    try:
        assert await bot.get("/readyz") == (503, {"status": "migrations pending"})
        assert (await bot.get("/healthz"))[0] == 200  # the process is still up
    finally:
        await db.upgrade(engine)  # the PostgreSQL database is shared by the session's tests
    assert await bot.get("/readyz") == (200, {"status": "ready"})


async def test_a_schema_newer_than_the_code_is_served_during_a_rollout(bot: Harness) -> None:
    """A rollout migrates the database for the next version before the replicas move: the running
    version stays ready on the schema it does not know, and a restart of it starts."""
    from sqlalchemy import text

    from bot.app import DB_ENGINE, prepare_database
    from bot.settings import Environment
    from bot.storage import db

    assert bot.app is not None
    engine = bot.app[DB_ENGINE]
    _, head = await db.schema_state(engine)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999_next_version'"))
    try:
        assert await db.schema_is_newer(engine)
        assert not await db.schema_is_current(engine)
        assert await bot.get("/readyz") == (200, {"status": "ready"})
        production = bot.settings.model_copy(update={"env": Environment.PRODUCTION})
        assert production.is_production
        await prepare_database(production, engine)  # no SchemaOutdated, no attempt to migrate
        assert (await db.schema_state(engine))[0] == "9999_next_version"
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert not await db.schema_is_newer(engine)


async def test_missing_or_wrong_content_type_is_415(bot: Harness) -> None:
    body = json.dumps(teams.message(teams.personal, bot.connector.url, STRANGER, "hjälp"))
    assert (await bot.post_raw(body))[0] == 415
    assert (await bot.post_raw(body, {"Content-Type": "text/plain"}))[0] == 415
    assert (await bot.post_raw(body, {"Content-Type": "application/xml"}))[0] == 415
    assert bot.connector.sent() == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b"[]",
        b"42",
        b'"message"',
        b"{}",
        b'{"type": 7}',
        b'{"type": "message"}',
        b'{"type": "message", "conversation": {"id": 5}, "serviceUrl": "http://x"}',
        b'{"type": "message", "conversation": {"id": "a"}}',
        b'{"type": "message", "conversation": {"id": "a"}, "serviceUrl": "ftp://x"}',
        b'{"type": "message", "conversation": {"id": "a"}, "serviceUrl": "http://x", "from": "me"}',
        b'{"type": "message", "conversation": "a", "serviceUrl": "http://x"}',
        b'{"type": "message", "conversation": {"id": "a"}, "serviceUrl": "http://x", "timestamp": "now"}',
    ],
)
async def test_body_that_is_not_an_activity_is_400(bot: Harness, body: bytes) -> None:
    status, answer = await bot.post_raw(body, JSON)
    assert status == 400, answer
    assert "error" in answer and "Traceback" not in json.dumps(answer)


async def test_oversize_body_is_413(bot: Harness) -> None:
    activity = teams.message(teams.personal, bot.connector.url, STRANGER, "x" * (300 * 1024))
    status, _ = await bot.post_raw(json.dumps(activity), JSON)
    assert status == 413
    assert bot.connector.sent() == []


async def test_oversize_body_without_content_length_is_413(bot: Harness) -> None:
    activity = teams.message(teams.personal, bot.connector.url, STRANGER, "x" * (300 * 1024))
    payload = json.dumps(activity).encode()

    async def chunks():  # chunked transfer: no Content-Length to trust
        for start in range(0, len(payload), 65536):
            yield payload[start : start + 65536]

    assert bot.http is not None
    async with bot.http.post(bot.url + "/api/messages", data=chunks(), headers=JSON) as response:
        assert response.status == 413


async def test_wrong_types_inside_activity_never_500(bot: Harness) -> None:
    activity = teams.message(teams.personal, bot.connector.url, STRANGER, "hjälp")
    activity["text"] = {"not": "text"}
    activity["value"] = ["not", "a", "dict"]
    activity["locale"] = 12
    status, _ = await bot.post_raw(json.dumps(activity), JSON)
    assert status in (201, 400)


async def test_foreign_tenant_is_refused_and_nothing_happens(bot: Harness, caplog) -> None:
    response = await bot.say(STRANGER, "registrera mig", tenant=teams.OTHER_TENANT)
    assert response.status == 403
    assert response.sent == []
    assert "not on the allow-list" in caplog.text
    response = await bot.install(STRANGER, tenant=teams.OTHER_TENANT)
    assert response.status == 403 and response.sent == []


async def test_get_on_messages_is_405(bot: Harness) -> None:
    assert bot.http is not None
    async with bot.http.get(bot.url + "/api/messages") as response:
        assert response.status == 405


async def test_group_chat_mention_is_answered(bot: Harness) -> None:
    response = await bot.say(STRANGER, "hjälp", where="group")
    assert response.status == 201
    assert response.cards


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1000 + b"]" * 1000,  # 2 KB that makes json.loads recurse past Python's limit
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["arrays", "objects", "arrays-200k"],
)
async def test_deeply_nested_body_is_400(bot: Harness, body: bytes) -> None:
    status, answer = await bot.post_raw(body, JSON)
    assert status == 400, answer
    assert "Traceback" not in json.dumps(answer)
    assert bot.connector.sent() == []


@pytest.mark.parametrize("field", ["value", "channelData", "entities"])
async def test_deep_nesting_inside_an_activity_is_400(bot: Harness, field: str) -> None:
    activity = teams.message(teams.personal, bot.connector.url, STRANGER, "hjälp")
    activity[field] = "MARK"
    body = json.dumps(activity).replace('"MARK"', '{"a": [' * 200 + "1" + "]}" * 200)
    status, answer = await bot.post_raw(body, JSON)
    assert status == 400, answer
    assert bot.connector.sent() == []


async def test_moderate_nesting_in_a_card_submit_is_accepted(bot: Harness) -> None:
    value: dict = {"action": "cancel"}
    node = value
    for _ in range(20):  # deeper than any Teams activity, well within the limit
        node["inner"] = {}
        node = node["inner"]
    response = await bot.submit(STRANGER, value)
    assert response.status == 201


async def _rows(bot: Harness, model: type) -> int:
    from sqlalchemy import func, select

    async with bot.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


LONE = "\\ud800"  # a lone surrogate, as the JSON escape that carries it


@pytest.mark.parametrize(
    "path",
    [
        ("conversation", "id"),
        ("from", "name"),
        ("from", "id"),
        ("text",),
        ("locale",),
        ("id",),
        ("value", "agency"),
        ("value", None),  # a key, not a value
        ("channelData", "tenant", "id"),
    ],
    ids=lambda path: ".".join(part or "<key>" for part in path),
)
async def test_lone_surrogate_in_any_string_is_400_and_nothing_is_written(
    bot: Harness, path: tuple[str | None, ...]
) -> None:
    from bot.storage.models import AuditEntry, BotStateRow, Member, ProcessedActivity

    # an administrator's registration: accepted, it would write a member at once
    value = {"action": "register.submit", "agency": "MHF"}
    activity = teams.submit(teams.personal, bot.connector.url, ADMIN, value, None)
    *parents, last = path
    node = activity
    for key in parents:
        node = node[key]
    if last is None:
        node["MARK"] = "v"
    else:
        node[last] = "MARK"
    body = json.dumps(activity).replace("MARK", f"x{LONE}y")
    status, answer = await bot.post_raw(body, JSON)
    assert status == 400, answer
    assert "error" in answer
    assert bot.connector.sent() == []
    for model in (ProcessedActivity, Member, AuditEntry, BotStateRow):
        assert await _rows(bot, model) == 0, model
    # without the surrogate the same body is an activity (a foreign tenant's, for the tenant id)
    assert (await bot.post_raw(body.replace(LONE, ""), JSON))[0] in (201, 403)


async def test_lone_surrogate_as_raw_bytes_is_400(bot: Harness) -> None:
    activity = teams.message(teams.personal, bot.connector.url, STRANGER, "MARK")
    body = json.dumps(activity).encode().replace(b"MARK", "\ud800".encode("utf-8", "surrogatepass"))
    status, answer = await bot.post_raw(body, JSON)
    assert status == 400, answer
    assert bot.connector.sent() == []


async def test_a_surrogate_pair_is_a_character_and_accepted(bot: Harness) -> None:
    activity = teams.message(teams.personal, bot.connector.url, STRANGER, "hjälp 😀")
    body = json.dumps(activity)  # the emoji written as the escape pair \ud83d\ude00
    assert "\\ud83d\\ude00" in body
    status, _ = await bot.post_raw(body, JSON)
    assert status == 201


async def test_one_connector_client_is_kept_per_service_url_for_turns_and_proactive_sends(
    settings: Settings,
) -> None:
    """CloudAdapter would make a connector client (credentials, TLS context) for every turn and
    every proactive send; the adapter keeps one per service URL and audience, bounded."""
    from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

    from bot.teams.adapter import KEPT_CONNECTORS, create_adapter

    adapter = create_adapter(settings)
    authentication = adapter.bot_framework_authentication

    def activity(service_url: str) -> Activity:
        return Activity(
            type="message",
            service_url=service_url,
            channel_id="msteams",
            from_property=ChannelAccount(id="29:someone"),
            conversation=ConversationAccount(id="a:chat"),
            recipient=ChannelAccount(id="28:bot"),
        )

    async def client_for(service_url: str) -> object:
        result = await authentication.authenticate_request(activity(service_url), "")
        return await result.connector_factory.create(service_url, result.audience)

    first = await client_for("https://smba.trafficmanager.net/emea/")
    assert await client_for("https://smba.trafficmanager.net/emea/") is first
    other = await client_for("https://smba.trafficmanager.net/amer/")
    assert other is not first
    # a proactive send (continue_conversation) gets the same client as the turns
    claims = adapter.create_claims_identity(settings.app_id)
    proactive = authentication.create_connector_factory(claims)
    result = await authentication.authenticate_request(activity("https://smba.trafficmanager.net/emea/"), "")
    assert await proactive.create("https://smba.trafficmanager.net/emea/", result.audience) is first
    # bounded: the least recently used go first
    for i in range(KEPT_CONNECTORS):
        await client_for(f"https://example.invalid/{i}/")
    assert await client_for("https://smba.trafficmanager.net/emea/") is not first
