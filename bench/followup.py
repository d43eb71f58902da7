"""A year's follow-up report over a large forum: 100,000 proposals and 20,000 joint inspections
(with their parts, outcomes and events, and a year of meetings), against the baseline of the same
report over the demo's realistic year (about 140 proposals), measured in the same run.

Each report runs in a fresh process, as `forumbot report` does, which measures itself: the time to
count the figures (grouped SQL, at the forum's level and at one agency's), the time to write the
Excel file, the CSV and the chart, and the process's peak RSS. Targets: under 2 s and under
300 MB for the large forum.

    .venv/bin/python bench/followup.py --database sqlite
    .venv/bin/python bench/followup.py --database postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from _common import BENCH, DEFAULT_PG_ADMIN, ROOT, PostgresDatabase

if TYPE_CHECKING:
    from bot.settings import Settings

PROPOSALS = 100_000
INSPECTIONS = 20_000


def settings_for(url: str) -> Settings:
    from bot.settings import load_settings

    return load_settings(database_url=url, env="development", admin_ids=[], allowed_tenants=[])


async def seed(url: str, *, big: bool) -> str:
    from bot.demo import seed_demo
    from bot.demo_history import seed_history
    from bot.storage import db
    from bot.storage.membership import Agencies

    settings = settings_for(url)
    engine = db.create_engine(url)
    try:
        if not big:
            await db.upgrade(engine)
            async with db.unit_of_work(db.session_factory(engine)) as session:
                await Agencies(session).seed(settings.agency_entries())
                await seed_demo(session, settings)
        async with db.unit_of_work(db.session_factory(engine)) as session:
            if big:
                made = await seed_history(
                    session,
                    settings,
                    seed=99,
                    proposals=PROPOSALS,
                    inspections=INSPECTIONS,
                    polls=0,
                    with_meetings=False,
                )
            else:
                made = await seed_history(session, settings, seed=2026)
        return made.summary()
    finally:
        await engine.dispose()


async def report(url: str) -> dict[str, float]:
    """In the measuring child: the year's report, at both levels, with its files."""
    from bot.i18n import Translator
    from bot.services.followup import FollowUpService, chart_png, csv_bytes, xlsx
    from bot.storage import db

    settings = settings_for(url)
    t = Translator("sv", settings.zone)
    today = datetime.now(UTC).astimezone(settings.zone).date()
    from bot.domain.followup import check_range

    period = check_range(today - timedelta(days=365), today)
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            service = FollowUpService(session, settings)
            start = time.perf_counter()  # cold: the process's first report
            forum = await service.report(t, period, service.level_of_forum())
            figures_cold = time.perf_counter() - start
            start = time.perf_counter()
            forum = await service.report(t, period, service.level_of_forum())
            figures_forum = time.perf_counter() - start
            level = await service.level_for_agency("POL")
            assert level is not None
            start = time.perf_counter()
            await service.report(t, period, level)
            figures_agency = time.perf_counter() - start
        start = time.perf_counter()
        sizes = len(xlsx(forum)) + len(csv_bytes(t, forum)) + len(chart_png(t, forum))
        files = time.perf_counter() - start
    finally:
        await engine.dispose()
    made = forum.figures.proposals["made"]
    return {
        "figures_cold_s": figures_cold,
        "figures_forum_s": figures_forum,
        "figures_agency_s": figures_agency,
        "files_s": files,
        "bytes": sizes,
        "proposals_counted": made,
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """This process's peak RSS since it began (VmHWM). Not getrusage's ru_maxrss, which on Linux
    also counts the parent's memory when the child was forked from it before exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(BENCH / "followup.py"), "--child", url],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "FORUMBOT_ENV": "development"},
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(report(args.child))))
        return 0
    with ExitStack() as stack:
        if args.database == "sqlite":
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        else:
            database = stack.enter_context(PostgresDatabase(DEFAULT_PG_ADMIN.replace("+asyncpg", "")))
            url = database.url.replace("postgresql://", "postgresql+asyncpg://", 1)
        print(f"followup ({args.database}): {asyncio.run(seed(url, big=False))}", flush=True)
        baseline = measure(url)
        started = time.perf_counter()
        summary = asyncio.run(seed(url, big=True))
        print(
            f"followup ({args.database}): added {summary} in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        large = measure(url)
    for name, found in (("baseline (demo year)", baseline), ("large forum", large)):
        print(
            f"followup ({args.database}) {name}: {found['proposals_counted']:.0f} proposals in the year's "
            f"forum-wide figures; figures {found['figures_cold_s'] * 1000:.0f} ms (forum, first), "
            f"{found['figures_forum_s'] * 1000:.0f} ms (forum, again), "
            f"{found['figures_agency_s'] * 1000:.0f} ms (one agency); "
            f"files {found['files_s'] * 1000:.0f} ms; "
            f"peak RSS {found['peak_rss_mb']:.0f} MB; whole process {found['process_s']:.1f} s"
        )
    slowest = (
        max(large["figures_cold_s"], large["figures_forum_s"], large["figures_agency_s"]) + large["files_s"]
    )
    print(
        f"followup ({args.database}): large/baseline figures "
        f"{large['figures_forum_s'] / baseline['figures_forum_s']:.1f}x; "
        f"report with files {slowest:.2f} s (target < 2 s: {'met' if slowest < 2 else 'NOT met'}), "
        f"peak RSS {large['peak_rss_mb']:.0f} MB (target < 300 MB: "
        f"{'met' if large['peak_rss_mb'] < 300 else 'NOT met'})"
    )
    return 0 if slowest < 2 and large["peak_rss_mb"] < 300 else 1  # a missed target fails the run


if __name__ == "__main__":
    sys.exit(main())
