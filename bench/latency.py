"""Latency of POST /api/messages: Forumbot (`forumbot run`) against a bare botbuilder echo bot.

Both bots run as processes of their own on loopback ports, with authentication off, and reply
through a fake Bot Connector (a third process) before they answer 201, so that each request's
latency includes the reply. This process is the load driver: N conversations (distinct Teams users
in personal chat) send M messages each, one after another, all conversations at once. Forumbot is
sent `hjälp` (the help card, to users who never registered); the echo bot the same text.

    .venv/bin/python bench/latency.py --database sqlite
    .venv/bin/python bench/latency.py --database postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import aiohttp
from _common import (
    BENCH,
    DEFAULT_PG_ADMIN,
    ROOT,
    PostgresDatabase,
    connector_stats,
    free_port,
    percentile,
    spawn,
    start_connector,
    stop,
    wait_http,
)

from tests.support import teams


@dataclass
class Result:
    bot: str
    latencies: list[float]
    seconds: float
    errors: int

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.50) * 1000

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99) * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds


async def drive(
    name: str, bot_url: str, connector_url: str, conversations: int, messages: int, warmup: int, text: str
) -> Result:
    users = [teams.user(f"bench-{name}-{i}", f"Bench User {i}") for i in range(conversations)]
    latencies: list[float] = []
    errors = 0
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=conversations, force_close=False)

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def post(user: teams.TeamsUser) -> float | None:
            activity = teams.message(teams.personal, connector_url, user, text)
            started = time.perf_counter()
            try:
                async with session.post(f"{bot_url}/api/messages", json=activity) as response:
                    await response.read()
                    ok = response.status in (200, 201)
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            elapsed = time.perf_counter() - started
            return elapsed if ok else None

        async def conversation(
            user: teams.TeamsUser, count: int, sink: Callable[[float | None], None]
        ) -> None:
            for _ in range(count):
                sink(await post(user))

        def discard(_: float | None) -> None:
            pass

        def keep(latency: float | None) -> None:
            nonlocal errors
            if latency is None:
                errors += 1
            else:
                latencies.append(latency)

        # warm-up: every conversation's first messages (connections, caches, first rows) are not measured
        await asyncio.gather(*(conversation(u, warmup, discard) for u in users))
        started = time.perf_counter()
        await asyncio.gather(*(conversation(u, messages, keep) for u in users))
        seconds = time.perf_counter() - started
    return Result(name, latencies, seconds, errors)


def start_forumbot(database_url: str, connector_log: IO[bytes], workdir: Path) -> tuple[Any, str]:
    port = free_port()
    env = dict(os.environ)
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url,
        FORUMBOT_ENV="development",
        MicrosoftAppId="",
        MicrosoftAppPassword="",
        FORUMBOT_ALLOWED_TENANTS=teams.TENANT,
        # this checkout's code, even when the interpreter's environment has Forumbot installed
        # from another one
        PYTHONPATH=os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH")))),
    )
    forumbot = Path(sys.executable).parent / "forumbot"
    command = [str(forumbot)] if forumbot.exists() else [sys.executable, "-m", "bot"]
    # run in an empty directory, so that no developer's .env leaks into the measurement
    process = spawn(
        [*command, "run", "--host", "127.0.0.1", "--port", str(port)], connector_log, env, workdir
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz", process, 90)
    return process, url


def start_echo(log: IO[bytes]) -> tuple[Any, str]:
    port = free_port()
    process = spawn([sys.executable, str(BENCH / "echo_bot.py"), "--port", str(port)], log)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz", process, 30)
    return process, url


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_ADMIN, help="server to create the database on")
    parser.add_argument("--conversations", type=int, default=20, help="concurrent conversations (20)")
    parser.add_argument("--messages", type=int, default=25, help="measured messages per conversation (25)")
    parser.add_argument(
        "--warmup", type=int, default=3, help="unmeasured messages per conversation first (3)"
    )
    parser.add_argument("--text", default="hjälp")
    args = parser.parse_args()

    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="forumbot-bench-")))
        logs = {
            name: stack.enter_context((workdir / f"{name}.log").open("wb"))
            for name in ("connector", "echo", "forumbot")
        }
        if args.database == "postgresql":
            database = stack.enter_context(PostgresDatabase(args.postgres_url))
            database_url = database.url
        else:
            database_url = f"sqlite:///{workdir / 'forumbot.db'}"

        connector, connector_url = start_connector(logs["connector"])
        stack.callback(stop, connector)
        echo, echo_url = start_echo(logs["echo"])
        stack.callback(stop, echo)
        forumbot, forumbot_url = start_forumbot(database_url, logs["forumbot"], workdir)
        stack.callback(stop, forumbot)

        results = []
        for name, url in (("echo", echo_url), ("forumbot", forumbot_url)):
            before = connector_stats(connector_url).get("POST", 0)
            result = asyncio.run(
                drive(name, url, connector_url, args.conversations, args.messages, args.warmup, args.text)
            )
            replies = connector_stats(connector_url).get("POST", 0) - before
            results.append(result)
            sent = args.conversations * (args.messages + args.warmup)
            if result.errors or replies < sent:
                print(
                    f"warning: {name}: {result.errors} failed requests, {replies} replies to {sent} messages"
                )

        logs["forumbot"].flush()
        forumbot_log = (workdir / "forumbot.log").read_text(errors="replace")
        if forumbot.poll() is not None:
            print(forumbot_log[-4000:], file=sys.stderr)
            return 1
        failures = forumbot_log.count("Traceback") + forumbot_log.count(" ERROR ")
        if failures:
            print(f"warning: Forumbot logged {failures} errors; the last lines:", file=sys.stderr)
            print(forumbot_log[-3000:], file=sys.stderr)

    echo_result, forumbot_result = results
    print(
        f"\nlatency of POST /api/messages, {args.database}: {args.conversations} conversations × "
        f"{args.messages} messages (+{args.warmup} warm-up each), {os.cpu_count()} CPUs\n"
    )
    print(f"| {'bot':<9} | {'p50 ms':>7} | {'p99 ms':>7} | {'req/s':>7} | {'errors':>6} |")
    print(f"|{'-' * 11}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 8}|")
    for r in results:
        print(f"| {r.bot:<9} | {r.p50:7.1f} | {r.p99:7.1f} | {r.throughput:7.1f} | {r.errors:6d} |")
    print()
    for label, ratio, target, within in (
        ("p50", forumbot_result.p50 / echo_result.p50, "at most 1.5", lambda r: r <= 1.5),
        ("p99", forumbot_result.p99 / echo_result.p99, "at most 2", lambda r: r <= 2.0),
        ("req/s", forumbot_result.throughput / echo_result.throughput, "at least 0.8", lambda r: r >= 0.8),
    ):
        verdict = "met" if within(ratio) else "MISSED"
        print(f"Forumbot {label} / echo {label} = {ratio:.2f} (target {target}: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
