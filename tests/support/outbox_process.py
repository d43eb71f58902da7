"""A second bot process for the outbox tests: drains the outbox of a database once, then prints
{"delivered": n}. The tests run it beside their own worker, and SIGKILL it mid-send.

    python -m tests.support.outbox_process DATABASE_URL --now ISO-TIME [--send-timeout S]
        [--batch N] [--global-rate R]

Its wall clock stands still at --now, the test's fake time, so that leases agree.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from datetime import datetime

from bot.settings import load_settings
from bot.storage import db
from bot.teams.adapter import create_adapter
from bot.teams.delivery import OutboxWorker


async def drain(args: argparse.Namespace) -> int:
    settings = load_settings(database_url=args.database_url, app_id="", app_password="", env="development")
    moment = datetime.fromisoformat(args.now)
    engine = db.create_engine(settings.database_url)
    try:
        worker = OutboxWorker(
            create_adapter(settings),
            db.session_factory(engine),
            "",
            clock=lambda: moment,
            send_timeout=args.send_timeout,
            global_rate=args.global_rate,
        )
        return await worker.drain(batch=args.batch)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("--now", required=True)
    parser.add_argument("--send-timeout", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--global-rate", type=float, default=1000.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps({"delivered": asyncio.run(drain(args))}), flush=True)


if __name__ == "__main__":
    main()
