"""Fan-out through the outbox: 1,000 queued messages to 1,000 conversations, drained by the app's
own outbox worker against an unthrottled fake Bot Connector.

The messages are queued with the app's repository (`Outbox.enqueue` in a unit of work), the app is
started with `create_app(settings, run_scheduler=False)` under an aiohttp AppRunner (so that its
startup and cleanup run, including the worker's pacing setup), and the worker's `drain()` is called
until nothing is left. The worker paces itself under Teams' limits: per conversation, and at most
FORUMBOT_OUTBOX_GLOBAL_RATE sends a second over all conversations (30 by default). With one message
per conversation only the global rate applies; `--global-rate 100000` takes it out of the way to
measure the worker itself.

    .venv/bin/python bench/fanout.py --database sqlite
    .venv/bin/python bench/fanout.py --database postgresql
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
import tracemalloc
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _common import DEFAULT_PG_ADMIN, PostgresDatabase, connector_stats, start_connector, stop
from aiohttp import web
from sqlalchemy import func, select

from bot.app import GLUE, SESSIONS, create_app
from bot.settings import load_settings
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage
from bot.storage.outbox import Outbox
from tests.support.outbox_tools import reference


def rss_mib() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def statuses(app: web.Application) -> dict[str, int]:
    async with unit_of_work(app[SESSIONS]) as session:
        rows = await session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return {status: count for status, count in rows}


async def run(args: argparse.Namespace, database_url: str, connector_url: str) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "database_url": database_url,
        "env": "development",
        "app_id": "",
        "app_password": "",
    }
    if args.global_rate:
        overrides["outbox_global_rate"] = args.global_rate
    settings = load_settings(**overrides)
    app = create_app(settings, run_scheduler=False)
    runner = web.AppRunner(app)
    await runner.setup()  # runs the cleanup contexts' startup: database, migrations, worker
    try:
        async with unit_of_work(app[SESSIONS]) as session:
            outbox = Outbox(session)
            for i in range(args.messages):
                conversation = f"a:fanout-{i}"
                payload = {"text": f"Fan-out message {i}"}
                assert await outbox.enqueue(
                    f"bench:fanout:{i}", reference(connector_url, conversation), payload
                )
        before = await statuses(app)
        worker = app[GLUE].outbox

        rss_before = rss_mib()
        if args.tracemalloc:
            tracemalloc.start()
        started = time.perf_counter()
        delivered = 0
        rounds = 0
        deadline = started + args.timeout
        while time.perf_counter() < deadline and rounds < args.messages + 10:
            rounds += 1
            done = await worker.drain()
            delivered += done
            if not done and (await statuses(app)).get("queued", 0) == 0:
                break
        seconds = time.perf_counter() - started
        traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
        if args.tracemalloc:
            tracemalloc.stop()
        after = await statuses(app)
    finally:
        await runner.cleanup()
    return {
        "before": before,
        "after": after,
        "delivered": delivered,
        "seconds": seconds,
        "rss_before": rss_before,
        "rss_peak": rss_mib(),
        "traced_peak": traced_peak,
        "global_rate": settings.outbox_global_rate,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_ADMIN, help="server to create the database on")
    parser.add_argument("--messages", type=int, default=1000, help="messages, each to its own conversation")
    parser.add_argument(
        "--global-rate", type=float, default=None, help="override FORUMBOT_OUTBOX_GLOBAL_RATE (sends/s)"
    )
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up draining after this (s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="forumbot-bench-")))
        os.chdir(workdir)  # no developer's .env in the settings
        if args.database == "postgresql":
            database_url = stack.enter_context(PostgresDatabase(args.postgres_url)).url
        else:
            database_url = f"sqlite:///{workdir / 'forumbot.db'}"
        connector, connector_url = start_connector(
            stack.enter_context((workdir / "connector.log").open("wb"))
        )
        stack.callback(stop, connector)
        outcome = asyncio.run(run(args, database_url, connector_url))
        received = connector_stats(connector_url).get("POST", 0)

    n = args.messages
    seconds = outcome["seconds"]
    print(
        f"\nfan-out, {args.database}: {n} messages to {n} conversations, global rate "
        f"{outcome['global_rate']:g}/s, {os.cpu_count()} CPUs\n"
    )
    print(f"queued before: {outcome['before']}; after: {outcome['after']}; connector received {received}")
    print(f"| {'database':<10} | {'drain s':>7} | {'msg/s':>7} | {'peak RSS MiB':>12} | {'traced MiB':>10} |")
    print(f"|{'-' * 12}|{'-' * 9}|{'-' * 9}|{'-' * 14}|{'-' * 12}|")
    traced = f"{outcome['traced_peak']:10.1f}" if outcome["traced_peak"] is not None else f"{'-':>10}"
    print(
        f"| {args.database:<10} | {seconds:7.1f} | {outcome['delivered'] / seconds:7.1f} | "
        f"{outcome['rss_peak']:12.1f} | {traced} |"
    )
    print(f"(RSS before the drain: {outcome['rss_before']:.1f} MiB)")
    if outcome["delivered"] != n or received != n or outcome["after"].get("sent") != n:
        print(f"warning: delivered {outcome['delivered']}, connector received {received}, expected {n}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
