"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.storage import db
from bot.storage.models import Base


async def test_migrations_match_the_models(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        await db.upgrade(engine)

        def diff(connection):  # type: ignore[no-untyped-def]
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)

        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
        assert differences == []
        assert await db.schema_is_current(engine)
    finally:
        await engine.dispose()


async def test_downgrade_to_base_and_up_again(tmp_path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await db.upgrade(engine)
        from alembic import command

        def down(connection):  # type: ignore[no-untyped-def]
            config = db._alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")

        async with engine.begin() as connection:
            await connection.run_sync(down)
        assert not await db.schema_is_current(engine)
        await db.upgrade(engine)
        assert await db.schema_is_current(engine)
    finally:
        await engine.dispose()
