"""What every repository uses: the time, and inserts that skip or update on conflict."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def now() -> datetime:
    return datetime.now(UTC)


def dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_for(session: AsyncSession) -> Any:
    return pg_insert if dialect(session) == "postgresql" else sqlite_insert
