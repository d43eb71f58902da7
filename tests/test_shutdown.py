"""A real SIGTERM to `forumbot run` in the middle of a fan-out (what `docker stop` and a Container
Apps revision change send): it stops taking turns, finishes the send in flight, gives the rest of
its claims back and exits 0; the next process delivers the rest, and every message arrives once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from bot.storage import db
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage
from bot.storage.outbox import Outbox
from tests.support.connector import FakeConnector
from tests.support.outbox_tools import reference, wait_until

COUNT = 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def start(database_url: str, port: int, cwd: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "FORUMBOT_"))}
    env.update(
        DATABASE_URL=database_url,
        FORUMBOT_ENV="development",
        FORUMBOT_OUTBOX_INTERVAL_SECONDS="0.2",
        FORUMBOT_OUTBOX_GLOBAL_RATE="1000",
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--port",
        str(port),
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def statuses(sessions) -> Counter[str]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return Counter(await session.scalars(select(OutboxMessage.status)))


async def refuses_connections(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    return False


async def test_sigterm_mid_fan_out_loses_and_repeats_nothing(
    database_url: str, connector: FakeConnector, tmp_path: Path
) -> None:
    engine = db.create_engine(database_url)
    sessions = db.session_factory(engine)
    try:
        await db.upgrade(engine)
        async with unit_of_work(sessions) as session:
            for i in range(COUNT):  # one conversation each: only the send itself paces them
                reference_ = reference(connector.url, f"a:shutdown-{i}")
                await Outbox(session).enqueue(f"shutdown:{i}", reference_, {"text": f"message {i}"})
        connector.send_delay = 0.5  # a slow Teams: each send takes half a second

        port = free_port()
        first = await start(database_url, port, tmp_path)
        await wait_until(lambda: asyncio.sleep(0, len(connector.sent()) >= 2), seconds=30)
        first.send_signal(signal.SIGTERM)
        refused = False
        while not refused:
            refused = await refuses_connections(port)
            if first.returncode is not None:
                break
            await asyncio.sleep(0.02)
        output, _ = await asyncio.wait_for(first.communicate(), timeout=30)
        assert first.returncode == 0, output.decode()[-3000:]
        assert refused, "it went on taking connections after SIGTERM"
        assert b"a send was still in flight" not in output, "the send in flight was cut off"

        delivered = len(connector.sent())
        assert 2 <= delivered < COUNT, "stopped in the middle of the fan-out"
        assert await statuses(sessions) == Counter({"sent": delivered, "queued": COUNT - delivered}), (
            "the send in flight was recorded and the rest given back (nothing left claimed or sending)"
        )

        second = await start(database_url, port, tmp_path)
        await wait_until(lambda: asyncio.sleep(0, len(connector.sent()) >= COUNT), seconds=60)
        second.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(second.communicate(), timeout=30)
        assert second.returncode == 0, output.decode()[-3000:]
        texts = Counter(activity["text"] for activity in connector.sent())
        assert texts == Counter(f"message {i}" for i in range(COUNT)), "every message once"
        assert await statuses(sessions) == Counter({"sent": COUNT})
    finally:
        await engine.dispose()
