"""SQLite's transactions: a unit of work holds the write lock from its first statement, reads
outside one never wait for it, and units of work of one process queue in order of arrival."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import db


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "forumbot.db"


@pytest.fixture
async def engine(database: Path) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(f"sqlite+aiosqlite:///{database}")
    async with engine.connect() as connection:
        await connection.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        await connection.execute(text("INSERT INTO counter VALUES (1, 0)"))
        await connection.commit()
    yield engine
    await engine.dispose()


def writer_can_begin(database: Path) -> bool:
    """Whether another process could take the write lock right now (without waiting)."""
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()


async def test_connections_use_wal_normal_sync_a_busy_timeout_and_foreign_keys(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        pragmas = {
            name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "busy_timeout": db.SQLITE_BUSY_SECONDS * 1000,
        "foreign_keys": 1,
    }


async def test_a_unit_of_work_holds_the_write_lock_from_its_first_read(
    engine: AsyncEngine, database: Path
) -> None:
    sessions = db.session_factory(engine)
    assert writer_can_begin(database)
    async with db.unit_of_work(sessions) as session:
        assert await session.scalar(text("SELECT n FROM counter")) == 0
        assert not writer_can_begin(database)  # nobody can change what was just read
        await session.execute(text("UPDATE counter SET n = n + 1"))
    assert writer_can_begin(database)
    async with db.unit_of_work(sessions) as session:
        assert await session.scalar(text("SELECT n FROM counter")) == 1


async def test_a_failed_unit_of_work_is_rolled_back_and_lets_go_of_the_lock(
    engine: AsyncEngine, database: Path
) -> None:
    sessions = db.session_factory(engine)
    with pytest.raises(RuntimeError):
        async with db.unit_of_work(sessions) as session:
            await session.execute(text("UPDATE counter SET n = 99"))
            raise RuntimeError("boom")
    assert writer_can_begin(database)
    async with db.unit_of_work(sessions) as session:
        assert await session.scalar(text("SELECT n FROM counter")) == 0


async def test_reads_outside_a_unit_of_work_take_no_write_lock(engine: AsyncEngine, database: Path) -> None:
    async with engine.connect() as connection:  # e.g. the readiness probe
        await connection.execute(text("SELECT n FROM counter"))
        assert writer_can_begin(database)


async def test_a_connection_left_in_a_transaction_is_rolled_back_on_its_way_to_the_pool(
    engine: AsyncEngine, database: Path
) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        # a transaction SQLAlchemy does not know of, as after a failure halfway
        await raw.driver_connection.execute("BEGIN IMMEDIATE")
        assert not writer_can_begin(database)
    assert writer_can_begin(database)


async def test_concurrent_read_modify_writes_from_two_processes_lose_nothing(database: Path) -> None:
    """Two engines stand for two processes (each has its own write gate); every unit of work
    reads the counter and writes it back plus one. SELECTs outside the transaction would lose
    updates; deferred transactions would fail with 'database is locked' on the upgrade."""
    engines = [db.create_engine(f"sqlite+aiosqlite:///{database}") for _ in range(2)]
    try:
        async with engines[0].connect() as connection:
            await connection.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
            await connection.execute(text("INSERT INTO counter VALUES (1, 0)"))
            await connection.commit()

        async def increment(engine: AsyncEngine) -> None:
            async with db.unit_of_work(db.session_factory(engine)) as session:
                n = await session.scalar(text("SELECT n FROM counter WHERE id = 1"))
                await asyncio.sleep(0)  # let the others run in between
                await session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})

        await asyncio.gather(*(increment(engines[i % 2]) for i in range(60)))
        async with db.unit_of_work(db.session_factory(engines[0])) as session:
            assert await session.scalar(text("SELECT n FROM counter")) == 60
    finally:
        for engine in engines:
            await engine.dispose()


async def test_units_of_work_of_one_process_take_turns_in_order_of_arrival(engine: AsyncEngine) -> None:
    sessions = db.session_factory(engine)
    order: list[int] = []

    async def work(i: int) -> None:
        async with db.unit_of_work(sessions) as session:
            order.append(i)
            await session.execute(text("UPDATE counter SET n = n + 1"))
            await asyncio.sleep(0.001)

    tasks = []
    for i in range(20):
        tasks.append(asyncio.create_task(work(i)))
        await asyncio.sleep(0)  # each task reaches the gate before the next is created
    await asyncio.gather(*tasks)
    assert order == list(range(20))


async def test_a_unit_of_work_inside_another_fails_rather_than_hangs(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 0.2)
    sessions = db.session_factory(engine)
    with pytest.raises(TimeoutError, match="no turn at the SQLite database"):
        async with db.unit_of_work(sessions):
            async with db.unit_of_work(sessions):
                pass


async def test_when_another_process_keeps_the_lock_a_unit_of_work_fails_and_the_next_one_works(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 0.2)
    engine = db.create_engine(f"sqlite+aiosqlite:///{database}")
    sessions = db.session_factory(engine)
    try:
        async with db.unit_of_work(sessions) as session:
            await session.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
            await session.execute(text("INSERT INTO counter VALUES (1, 0)"))
        other = sqlite3.connect(database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(OperationalError, match="database is locked"):
                async with db.unit_of_work(sessions) as session:
                    await session.execute(text("UPDATE counter SET n = n + 1"))
        finally:
            other.execute("ROLLBACK")
            other.close()
        async with db.unit_of_work(sessions) as session:
            await session.execute(text("UPDATE counter SET n = n + 1"))
        async with db.unit_of_work(sessions) as session:
            assert await session.scalar(text("SELECT n FROM counter")) == 1
    finally:
        await engine.dispose()
