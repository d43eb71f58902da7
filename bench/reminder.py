"""A channel reminder behind a backlog: 1,000 members' personal nudges and the forum channel's
reminder all due in the same minute, delivered by the app's own outbox worker in real time against a
fake Bot Connector that enforces Teams' limits (per conversation 7 a second, 8 in 2 s, 60 in 30 s;
50 a second per app and tenant; 429 with Retry-After beyond them).

The nudges are queued first and the reminder last, as a scheduler would when a meeting's reminder
comes due while a poll's nudges are still going out. Reported: time from due to the channel post
(target under 5 s), time from due to the last nudge, the share of sends answered 429 (target under
1 %), and peak RSS.

    .venv/bin/python bench/reminder.py --database sqlite
    .venv/bin/python bench/reminder.py --database postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _common import DEFAULT_PG_ADMIN, PostgresDatabase, connector_stats, start_connector, stop
from aiohttp import web
from sqlalchemy import func, select

from bot.app import GLUE, SESSIONS, create_app
from bot.domain.notices import CHANNEL, ItemRef, NoticeKey, member_recipient
from bot.settings import load_settings
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage
from bot.storage.outbox import Outbox
from tests.support.outbox_tools import reference

CHANNEL_CONVERSATION = "19:bench-forum@thread.tacv2"


async def queued(app: web.Application) -> int:
    async with unit_of_work(app[SESSIONS]) as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "queued")
            )
            or 0
        )


async def run(args: argparse.Namespace, database_url: str, connector_url: str) -> dict[str, Any]:
    settings = load_settings(database_url=database_url, env="development", app_id="", app_password="")
    app = create_app(settings, run_scheduler=False)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        async with unit_of_work(app[SESSIONS]) as session:
            outbox = Outbox(session)
            for i in range(args.nudges):
                key = NoticeKey(ItemRef("poll", 1), "nudge", member_recipient(i), 1)
                where = reference(connector_url, f"a:member-{i}")
                await outbox.enqueue(key.idempotency_key, where, {"text": f"Påminnelse {i}"}, notice=key)
            key = NoticeKey(ItemRef("meeting", 1), "meeting.short", CHANNEL, 1)
            where = reference(connector_url, CHANNEL_CONVERSATION)
            await outbox.enqueue(key.idempotency_key, where, {"text": "Mötet börjar om en timme"}, notice=key)
        due = time.time()
        worker = app[GLUE].outbox
        deadline = time.perf_counter() + args.timeout
        while time.perf_counter() < deadline:
            await worker.drain()
            if await queued(app) == 0:
                break
            await asyncio.sleep(0.05)  # the app's worker runs every second; ticking faster only helps
    finally:
        await runner.cleanup()
    return {"due": due, "global_rate": settings.outbox_global_rate, "rss_peak": rss_mib()}


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_ADMIN)
    parser.add_argument("--nudges", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="forumbot-bench-")))
        os.chdir(workdir)
        if args.database == "postgresql":
            database_url = stack.enter_context(PostgresDatabase(args.postgres_url)).url
        else:
            database_url = f"sqlite:///{workdir / 'forumbot.db'}"
        connector, connector_url = start_connector(
            stack.enter_context((workdir / "connector.log").open("wb")), teams_limits=True
        )
        stack.callback(stop, connector)
        outcome = asyncio.run(run(args, database_url, connector_url))
        stats = connector_stats(connector_url, first=CHANNEL_CONVERSATION)

    sent, refused = stats.get("POST", 0), stats.get("429", 0)
    channel_at = stats.get("first_at")
    to_channel = channel_at - outcome["due"] if channel_at else float("nan")
    to_last = stats["last_at"] - outcome["due"]
    print(
        f"\nreminder behind a backlog, {args.database}: {args.nudges} nudges + 1 channel reminder, "
        f"Teams' limits enforced, global rate {outcome['global_rate']:g}/s, {os.cpu_count()} CPUs\n"
    )
    print(
        f"| {'database':<10} | due → channel post s | due → last nudge s | msg/s | 429 share | peak RSS MiB |"
    )
    print(f"|{'-' * 12}|{'-' * 22}|{'-' * 20}|{'-' * 7}|{'-' * 11}|{'-' * 14}|")
    share = refused / max(sent + refused, 1)
    print(
        f"| {args.database:<10} | {to_channel:20.2f} | {to_last:18.1f} | {sent / to_last:5.1f} | "
        f"{share:9.2%} | {outcome['rss_peak']:12.1f} |"
    )
    ok = sent == args.nudges + 1
    print(
        f"\nchannel post under 5 s: {'met' if to_channel < 5 else 'not met'}; "
        f"429 share under 1 %: {'met' if share < 0.01 else 'not met'}; all delivered: {ok}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
