"""A copy of a SQLite database while the bot runs, with SQLite's online backup API.

The copy is taken in one read transaction: in WAL mode (which the bot's connections set) readers do
not block the writer nor the writer them, so the bot goes on answering and the copy is the database
as it was at one moment, every committed transaction in it or none. The copy is written beside its
destination and renamed over it only when complete and checked, so a failed backup leaves nothing
half-written under the destination's name. PostgreSQL is backed up by the server (see
deployment/README.md), not here.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.storage.db import SQLITE_BUSY_SECONDS


class BackupError(RuntimeError):
    """The backup cannot be made; the message says why, for the operator."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    tables: int
    revision: str | None


def sqlite_path(database_url: str) -> Path:
    """The database file of a SQLite URL; BackupError for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"`forumbot db backup` copies a SQLite database; this one is {url.get_backend_name()}: "
            "use the server's own backups or pg_dump (deployment/README.md, Backups)"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("DATABASE_URL names no SQLite file")
    return Path(url.database)


def backup_sqlite(database: Path, out: Path) -> Backup:
    """Copy `database` to `out` (replacing it), readable only by its owner, as one file."""
    if not database.is_file():
        raise BackupError(f"there is no database at {database}")
    if out.exists() and out.resolve() == database.resolve():
        raise BackupError("the backup cannot overwrite the database itself")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        os.close(handle)  # 0600 from mkstemp: the copy holds what the database holds
    except OSError as error:
        raise BackupError(f"cannot write {out}: {error.strerror}") from None
    try:
        source = sqlite3.connect(database, timeout=SQLITE_BUSY_SECONDS)  # it only reads
        with closing(source), closing(sqlite3.connect(temporary)) as copy:
            source.backup(copy)  # all pages in one step: one consistent snapshot
            # a standalone file: the copy keeps no -wal beside it
            copy.execute("PRAGMA journal_mode=DELETE")
            check = copy.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"the copy failed SQLite's check: {check}")
            tables = copy.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            try:
                row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.DatabaseError:
                row = None
        os.replace(temporary, out)
    except sqlite3.Error as error:
        Path(temporary).unlink(missing_ok=True)
        raise BackupError(f"the backup of {database} failed: {error}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Backup(out, out.stat().st_size, tables, row[0] if row else None)
