"""Every malformed request is refused with its status, never a 500; foreign tenants get nothing."""

from __future__ import annotations

import json

import pytest

from tests.conftest import STRANGER
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
