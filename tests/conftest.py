"""Fixtures: a database per test (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
the fake Bot Connector, and the real app on a loopback port."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.settings import Settings, load_settings
from bot.storage import db
from bot.storage.models import Base
from tests.support import teams
from tests.support.connector import ConnectorThread, FakeConnector, RosterMember
from tests.support.harness import FakeClock, Harness
from tests.support.outbox_connector import OutboxConnector

PG_URL = os.environ.get("TEST_DATABASE_URL", "")

ADMIN = teams.user("anna.admin", "Anna Admin")
COORDINATOR = teams.user("carl.samordnare", "Carl Samordnare")
INSPECTOR = teams.user("ingrid.inspektor", "Ingrid Inspektör")
POLICE = teams.user("per.polis", "Per Polis")
TAX = teams.user("sara.skatt", "Sara Skatt")
STRANGER = teams.user("okand.person", "Okänd Person")
EVERYONE = (ADMIN, COORDINATOR, INSPECTOR, POLICE, TAX, STRANGER)


def _async_pg_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    engine = db.create_engine(_async_pg_url(PG_URL))
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests run when TEST_DATABASE_URL is set (.ci/run sets it)")
    name = f"forumbot_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {error}", returncode=3)
    url = make_url(_async_pg_url(PG_URL)).set(database=name).render_as_string(hide_password=False)

    async def migrate() -> None:
        engine = db.create_engine(url)
        await db.upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def truncate(url: str) -> None:
    engine = db.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'forumbot.db'}"
    url: str = request.getfixturevalue("pg_database")
    asyncio.run(truncate(url))
    return url


@pytest.fixture(scope="session")
def connector_thread() -> Iterator[FakeConnector]:
    thread = ConnectorThread(FakeConnector())
    connector = thread.start()
    for person in EVERYONE:
        connector.roster[person.teams_id] = RosterMember(
            person.teams_id, person.aad_object_id, person.name, person.email
        )
    yield connector
    thread.stop()


@pytest.fixture(scope="session")
def outbox_connector() -> Iterator[OutboxConnector]:
    """The connector of the outbox tests (a module takes it by overriding `connector`): it also
    stamps requests on the test's clock and holds answers back."""
    thread = ConnectorThread(OutboxConnector())
    connector = thread.start()
    assert isinstance(connector, OutboxConnector)
    for person in EVERYONE:
        connector.roster[person.teams_id] = RosterMember(
            person.teams_id, person.aad_object_id, person.name, person.email
        )
    yield connector
    connector.reset()
    thread.stop()


@pytest.fixture
def connector(connector_thread: FakeConnector) -> FakeConnector:
    connector_thread.clear()
    connector_thread.faults.clear()
    connector_thread.roster_gate = None
    connector_thread.send_delay = 0.0
    connector_thread.limit_like_teams(False)
    return connector_thread


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "admin_ids": [ADMIN.aad_object_id],
        "allowed_tenants": [teams.TENANT],
        "env": "development",
        "app_id": "",
        "app_password": "",
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def bot(settings: Settings, connector: FakeConnector, clock: FakeClock) -> AsyncIterator[Harness]:
    harness = Harness(settings, connector, clock)
    await harness.start()
    yield harness
    await harness.stop()
