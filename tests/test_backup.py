"""`forumbot db backup`: a copy of the SQLite database taken while the real app serves and writes,
restored in the database's place and served again with its data."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
from pathlib import Path

from bot.settings import Settings
from tests.conftest import ADMIN, POLICE, STRANGER, make_settings
from tests.support.connector import FakeConnector
from tests.support.harness import FakeClock, Harness, card_text
from tests.support.texts import SV


def cli_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "FORUMBOT_"))}
    env.pop("DATABASE_URL", None)
    env.update(values)
    return env


async def forumbot(*args: str, cwd: Path, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=cli_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def register(bot: Harness, person, agency: str) -> None:
    await bot.say(person, "registrera mig")
    response = await bot.submit(person, {"action": "register.submit", "agency": agency})
    assert response.status in (200, 201)


def members(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT aad_object_id FROM members")}


async def test_backup_of_a_live_database_restores_with_its_data(
    tmp_path: Path, connector: FakeConnector, clock: FakeClock
) -> None:
    database = tmp_path / "forumbot.db"
    url = f"sqlite:///{database}"
    settings: Settings = make_settings(f"sqlite+aiosqlite:///{database}")
    bot = Harness(settings, connector, clock)
    await bot.start()
    try:
        await register(bot, ADMIN, "SLK")  # an administrator: approved at once
        await register(bot, POLICE, "POL")  # an application, waiting

        # Writes go on while the backup runs: every turn records its activity id, and the
        # stranger keeps asking for help from another task.
        turns = 0
        stop, writing = asyncio.Event(), asyncio.Event()

        async def keep_writing() -> None:
            nonlocal turns
            while not stop.is_set():
                response = await bot.say(STRANGER, "hjälp")
                assert response.status in (200, 201)
                turns += 1
                writing.set()

        writer = asyncio.create_task(keep_writing())
        await writing.wait()
        before = turns
        code, stdout, stderr = await forumbot(
            "db", "backup", "--out", str(tmp_path / "backups" / "forumbot.db"), cwd=tmp_path, DATABASE_URL=url
        )
        during = turns - before
        stop.set()
        await writer
        assert code == 0, stderr
        assert "Backup written to" in stdout
        assert during > 0, "the bot went on answering while the backup ran"

        backup = tmp_path / "backups" / "forumbot.db"
        assert backup.stat().st_mode & 0o077 == 0, "the copy is readable by its owner only"
        assert not (tmp_path / "backups" / "forumbot.db-wal").exists()
        with sqlite3.connect(backup) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert members(backup) == {ADMIN.aad_object_id, POLICE.aad_object_id}

        # Something after the backup, which the restore takes away.
        await register(bot, STRANGER, "SKV")
        assert STRANGER.aad_object_id in members(database)
    finally:
        await bot.stop()

    # Restore: the bot stopped, the copy in the database's place (its old WAL files removed).
    for leftover in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(backup, database)
    restored = Harness(settings, connector, clock)
    await restored.start()
    try:
        status = (await restored.say(ADMIN, "vem är jag")).texts[0]
        assert status.startswith("Anna Admin, ") and SV("role.admin") in status
        assert (await restored.say(STRANGER, "vem är jag")).texts == [SV("status.unregistered")]
        assert members(database) == {ADMIN.aad_object_id, POLICE.aad_object_id}
        pending = await restored.say(ADMIN, "väntande")
        assert any(POLICE.name in card_text(card) for card in pending.cards)
    finally:
        await restored.stop()


async def test_backup_refuses_postgresql_and_names_the_alternatives(tmp_path: Path) -> None:
    code, _, stderr = await forumbot(
        "db", "backup", "--out", str(tmp_path / "x.db"), cwd=tmp_path, DATABASE_URL="postgresql://u@h/db"
    )
    assert code == 2
    assert "pg_dump" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "x.db").exists()


async def test_backup_of_a_missing_database_says_so(tmp_path: Path) -> None:
    code, _, stderr = await forumbot(
        "db",
        "backup",
        "--out",
        str(tmp_path / "x.db"),
        cwd=tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'nothing.db'}",
    )
    assert code == 2
    assert "there is no database" in stderr
    assert not (tmp_path / "x.db").exists()
