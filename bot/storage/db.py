"""Engine, sessions and schema migrations. A unit of work is one transaction, opened by the caller."""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import Pool, PoolResetState

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# How long a transaction on SQLite waits for the database's single writer before it fails.
SQLITE_BUSY_SECONDS = 30
# Execution option: this connection's transactions on SQLite begin with BEGIN IMMEDIATE.
_SQLITE_WRITE = "forumbot_sqlite_write"


class _WriteGate:
    """One unit of work at a time on a SQLite database from this process, in order of arrival.

    SQLite has a single writer. Concurrent transactions that all want it would otherwise meet
    in SQLite's busy handler, which polls with sleeps of up to 100 ms and serves whoever polls
    at the right moment: most wait a little, some wait seconds. Waiting here is a queue (an
    asyncio lock is first come, first served) and costs no polling; SQLite's busy timeout is
    left for other processes sharing the file. Per event loop, since an asyncio lock belongs
    to one.
    """

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        try:
            async with asyncio.timeout(SQLITE_BUSY_SECONDS):
                await lock.acquire()
        except TimeoutError:
            raise TimeoutError(
                f"no turn at the SQLite database within {SQLITE_BUSY_SECONDS} s "
                "(is a unit of work waiting for another one it encloses?)"
            ) from None
        try:
            yield
        finally:
            lock.release()


_gates: weakref.WeakKeyDictionary[Pool, _WriteGate] = weakref.WeakKeyDictionary()


def create_engine(url: str) -> AsyncEngine:
    """An async engine for SQLite (aiosqlite) or PostgreSQL (asyncpg)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_SECONDS}
        kwargs["pool_reset_on_return"] = None  # see _sqlite_reset below
    else:
        # No pre-ping: it costs a round trip per transaction; recycled connections stay fresh.
        kwargs.update(pool_size=10, max_overflow=10, pool_recycle=1800)
    engine = create_async_engine(url, **kwargs)
    if sqlite:
        _use_sqlite_transactions(engine)
    return engine


def _use_sqlite_transactions(engine: AsyncEngine) -> None:
    """Real transactions on SQLite, and in a unit of work one that holds the write lock from
    its start.

    The sqlite3 driver (under aiosqlite) by default begins a transaction only before the first
    INSERT, UPDATE or DELETE, so the SELECTs before it are not part of the transaction, and DDL
    is not transactional. As SQLAlchemy's SQLite dialect documentation recommends, the driver
    is put in autocommit mode and BEGIN is emitted here when SQLAlchemy begins a transaction.
    A unit of work (and a migration) begins with BEGIN IMMEDIATE: it takes the write lock at
    once, so that what it reads is consistent with what it writes, and it never fails halfway
    for want of the lock, as a deferred transaction can when it upgrades from reading to
    writing. Any other transaction (a readiness probe, a test's look at the tables) is a
    deferred one, which in WAL mode reads without waiting for the writer.

    Every call into aiosqlite is a round trip to the connection's thread and back through the
    event loop, slow when the loop is busy, and inside a unit of work all of it happens while
    the write lock is held. So BEGIN is one call on the driver connection rather than a
    cursor's three, and a connection returned to the pool is rolled back only if it is still
    in a transaction.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN of its own
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit survives a
        # crash of the process, though the last ones may be lost if the machine loses power.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(connection: Connection) -> None:
        statement = "BEGIN IMMEDIATE" if connection.get_execution_options().get(_SQLITE_WRITE) else "BEGIN"
        adapted: Any = connection.connection.dbapi_connection
        try:
            adapted.run_async(lambda driver: driver.execute(statement))
        except sqlite3.OperationalError as error:  # e.g. locked by another process past the timeout
            raise OperationalError(statement, None, error) from error

    @event.listens_for(engine.sync_engine, "reset")
    def _sqlite_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        # In autocommit mode a connection whose transaction ended needs no ROLLBACK; one still
        # in a transaction (SQLAlchemy ends its own, so only after a failure) must not go back
        # to the pool holding the write lock.
        if state.terminate_only or not state.asyncio_safe:
            return
        if dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()

    _gates[engine.sync_engine.pool] = _WriteGate()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends normally, rolled back on any error.

    Keep it short, and make no network call inside it: on SQLite it holds the database's only
    write lock, and this process's write gate, until it ends."""
    bind = sessions.kw.get("bind")
    gate = _gates.get(bind.sync_engine.pool) if isinstance(bind, AsyncEngine) else None
    if gate is None:
        async with sessions() as session, session.begin():
            yield session
        return
    async with gate.held(), sessions() as session, session.begin():
        await session.connection(execution_options={_SQLITE_WRITE: True})  # BEGIN IMMEDIATE
        yield session


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _current_and_head(connection: Connection) -> tuple[str | None, str | None]:
    context = MigrationContext.configure(connection)
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    return context.get_current_revision(), head


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply the migrations up to `revision`, in one transaction (on SQLite with the write lock
    from the start)."""
    async with engine.connect() as connection:
        await connection.execution_options(**{_SQLITE_WRITE: True})
        async with connection.begin():
            await connection.run_sync(_upgrade, revision)


async def schema_state(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """(revision the database is at, newest revision shipped)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current_and_head)


async def schema_is_current(engine: AsyncEngine) -> bool:
    current, head = await schema_state(engine)
    return current == head


async def schema_is_newer(engine: AsyncEngine) -> bool:
    """The database is at a revision this code does not ship: a later version's migration, applied
    by a rollout while this version still serves (deployment/README.md: each migration keeps the
    previous version working until the replicas have moved)."""
    current, head = await schema_state(engine)
    if current is None or current == head:
        return False
    try:
        ScriptDirectory.from_config(_alembic_config()).get_revision(current)
    except (CommandError, RevisionError):
        return True
    return False
