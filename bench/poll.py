"""A burst of votes on one channel poll: 300 members each press the vote button within one second.

Forumbot (`forumbot run`, authentication off) and the baseline echo bot (`echo_bot.py`, which answers
the same `adaptiveCard/action` invoke with a card that echoes the button's data) each take the same
burst, one after the other, from this process: vote i is sent i/300 s after the burst starts, without
waiting for earlier ones. Before the bot starts, this process seeds its database as the forum's
services do: a coordinator, the voters (spread over the agencies), the forum channel and a named,
single-choice poll with live results, announced into the channel through the bot's own outbox. The
fake Bot Connector enforces Teams' limits.

Reported: each bot's vote latency p50/p99 (the invoke's answer is the voter's card) and Forumbot's
ratios to the echo bot against the targets (p50 at most 1.5x, p99 at most 2x), the number of updates
of the channel's card sent during and after the burst (Forumbot coalesces them: at most one a second
per copy), and whether the final tally is right, in the database and on the channel's card.

    .venv/bin/python bench/poll.py --database sqlite
    .venv/bin/python bench/poll.py --database postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from _common import (
    DEFAULT_PG_ADMIN,
    PostgresDatabase,
    connector_stats,
    percentile,
    start_connector,
    stop,
)
from latency import start_echo, start_forumbot
from sqlalchemy import select

from bot.domain.members import Role
from bot.services.forms import FormService
from bot.services.membership import Applicant, ChannelPlace, MembershipService
from bot.services.polls import POLL_FORM, PollService
from bot.settings import load_settings
from bot.storage import db
from bot.storage.models import CardCopy, PollBallot
from tests.support import teams

OPTIONS = ("Måndag", "Onsdag", "Fredag")
QUESTION = "Vilken dag passar för gemensam tillsyn?"


def channel_reference(service_url: str) -> dict[str, Any]:
    return {
        "bot": {"id": teams.BOT_ID, "name": "Forumbot"},
        "conversation": {
            "id": teams.CHANNEL_ID,
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": teams.TENANT,
        },
        "channelId": "msteams",
        "serviceUrl": service_url,
    }


async def seed(database_url: str, connector_url: str, voters: list[teams.TeamsUser]) -> int:
    """The forum, its channel and the poll; returns the poll's id."""
    from bot.app import prepare_database

    settings = load_settings(database_url=database_url, env="development", app_id="", app_password="")
    engine = db.create_engine(database_url)
    try:
        await prepare_database(settings, engine)
        async with db.unit_of_work(db.session_factory(engine)) as session:
            forum = MembershipService(session, settings)
            agencies = await forum.agencies.active()
            coordinator_user = teams.user("bench-coordinator", "Bench Samordnare")
            coordinator = await forum.apply(
                Applicant(
                    coordinator_user.aad_object_id,
                    coordinator_user.teams_id,
                    coordinator_user.name,
                    coordinator_user.email,
                ),
                agencies[0],
                by="bench",
            )
            coordinator = await forum.admit(coordinator, frozenset({Role.COORDINATOR}), by="bench")
            for i, voter in enumerate(voters):
                applicant = Applicant(voter.aad_object_id, voter.teams_id, voter.name, voter.email)
                member = await forum.apply(applicant, agencies[i % len(agencies)], by="bench")
                await forum.admit(member, frozenset({Role.INSPECTOR}), by="bench")
            place = ChannelPlace(
                teams.CHANNEL_ID, teams.TEAM_ID, teams.TENANT, connector_url, channel_reference(connector_url)
            )
            await forum.set_forum_channel(
                place, coordinator, actor_aad_id=coordinator.aad_object_id, by="bench"
            )

            token = await FormService(session).new(POLL_FORM, coordinator.aad_object_id)
            deadline = (datetime.now(UTC) + timedelta(days=2)).astimezone(settings.zone)
            made = await PollService(session, settings).create(
                coordinator,
                {
                    "form_token": token.token,
                    "question": QUESTION,
                    "options": "\n".join(OPTIONS),
                    "multiple": "single",
                    "anonymous": "named",
                    "results": "live",
                    "deadline_date": deadline.date().isoformat(),
                    "deadline_time": "12:00",
                    "audience": "forum",
                },
            )
            assert made.poll is not None, made
            return made.poll.id
    finally:
        await engine.dispose()


async def channel_post(database_url: str, poll_id: int) -> str:
    """The id of the poll's post in the channel, once the bot's outbox has sent it (within a
    minute)."""
    engine = db.create_engine(database_url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            async with db.session_factory(engine)() as session:
                posted = await session.scalar(
                    select(CardCopy.activity_id).where(
                        CardCopy.item_type == "poll",
                        CardCopy.item_id == poll_id,
                        CardCopy.viewer_id.is_(None),
                        CardCopy.activity_id.is_not(None),
                    )
                )
            if posted:
                return str(posted)
            await asyncio.sleep(0.2)
        raise RuntimeError("the poll was not posted into the channel")
    finally:
        await engine.dispose()


async def tally(database_url: str) -> Counter[int]:
    engine = db.create_engine(database_url)
    try:
        async with db.session_factory(engine)() as session:
            return Counter(int(b.choices) for b in await session.scalars(select(PollBallot)))
    finally:
        await engine.dispose()


def invoke(
    connector_url: str, voter: teams.TeamsUser, post_id: str, poll_id: int, choice: int
) -> dict[str, Any]:
    press = {
        "type": "Action.Execute",
        "verb": "poll.vote",
        "data": {"action": "poll.vote", "poll_id": poll_id, "choices": str(choice)},
    }
    conversation = {
        "id": f"{teams.CHANNEL_ID};messageid={post_id}",
        "conversationType": "channel",
        "tenantId": teams.TENANT,
        "isGroup": True,
    }
    return teams.execute(teams.channel, connector_url, voter, press, post_id, conversation=conversation)


async def burst(
    bot_url: str, activities: list[dict[str, Any]], seconds: float
) -> tuple[list[float], int, list[dict[str, Any]]]:
    """Each activity sent at its moment in `seconds`, none waiting for another; the latencies of
    the answered ones, the number that failed, and the answers' bodies (in the activities' order;
    empty for a failed one)."""
    latencies: list[float] = []
    bodies: list[dict[str, Any]] = [{} for _ in activities]
    failed = 0
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=len(activities))
    ) as session:
        # open the connections first, as Teams' long-lived ones are
        await asyncio.gather(*(session.get(f"{bot_url}/healthz") for _ in range(min(50, len(activities)))))
        started = time.perf_counter()

        async def one(i: int, activity: dict[str, Any]) -> None:
            nonlocal failed
            await asyncio.sleep(max(0.0, started + i * seconds / len(activities) - time.perf_counter()))
            sent = time.perf_counter()
            try:
                async with session.post(f"{bot_url}/api/messages", json=activity) as response:
                    body = await response.json(content_type=None) if response.status == 200 else None
                    latency = time.perf_counter() - sent
            except (aiohttp.ClientError, TimeoutError, ValueError):
                body = None
            if body is None:
                failed += 1
            else:
                latencies.append(latency)
                bodies[i] = body

        await asyncio.gather(*(one(i, a) for i, a in enumerate(activities)))
    return latencies, failed, bodies


def last_update(connector_url: str, post_id: str) -> str:
    with urllib.request.urlopen(f"{connector_url}/bench/last?activity={post_id}", timeout=5) as response:
        return response.read().decode()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_ADMIN)
    parser.add_argument("--votes", type=int, default=300, help="voters, one vote each (300)")
    parser.add_argument("--seconds", type=float, default=1.0, help="the burst's length (1 s)")
    parser.add_argument(
        "--warmup", type=int, default=30, help="unmeasured votes first, by other members (30)"
    )
    parser.add_argument(
        "--settle", type=float, default=4.0, help="seconds to wait for the last card update (4)"
    )
    args = parser.parse_args()

    voters = [teams.user(f"bench-voter-{i:04}", f"Röstare {i:04}") for i in range(args.warmup + args.votes)]
    warm, measured = voters[: args.warmup], voters[args.warmup :]
    choice = {voter.key: i % len(OPTIONS) for i, voter in enumerate(voters)}

    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="forumbot-bench-")))
        logs = {
            name: stack.enter_context((workdir / f"{name}.log").open("wb"))
            for name in ("connector", "echo", "forumbot")
        }
        if args.database == "postgresql":
            database_url = stack.enter_context(PostgresDatabase(args.postgres_url)).url
        else:
            database_url = f"sqlite:///{workdir / 'forumbot.db'}"
        # as the app's settings spell it (the async drivers')
        database_url = load_settings(database_url=database_url, env="development").database_url
        connector, connector_url = start_connector(logs["connector"], teams_limits=True)
        stack.callback(stop, connector)
        poll_id = asyncio.run(seed(database_url, connector_url, voters))
        echo, echo_url = start_echo(logs["echo"])
        stack.callback(stop, echo)
        forumbot, forumbot_url = start_forumbot(database_url, logs["forumbot"], workdir)
        stack.callback(stop, forumbot)
        post_id = asyncio.run(channel_post(database_url, poll_id))

        def votes(who: list[teams.TeamsUser]) -> list[dict[str, Any]]:
            return [invoke(connector_url, v, post_id, poll_id, choice[v.key]) for v in who]

        results: dict[str, tuple[list[float], int, list[dict[str, Any]]]] = {}
        for name, url in (("echo", echo_url), ("forumbot", forumbot_url)):
            asyncio.run(burst(url, votes(warm), args.seconds))
            before = connector_stats(connector_url).get("PUT", 0)
            results[name] = asyncio.run(burst(url, votes(measured), args.seconds))
        updates_during = connector_stats(connector_url).get("PUT", 0) - before
        time.sleep(args.settle)  # the refresher's last, coalesced update
        stats = connector_stats(connector_url)
        updates = stats.get("PUT", 0) - before
        final_card = last_update(connector_url, post_id)
        counted = asyncio.run(tally(database_url))

        logs["forumbot"].flush()
        forumbot_log = (workdir / "forumbot.log").read_text(errors="replace")
        failures = forumbot_log.count("Traceback") + forumbot_log.count(" ERROR ")
        if failures:
            print(f"warning: Forumbot logged {failures} errors; the last lines:", file=sys.stderr)
            print(forumbot_log[-3000:], file=sys.stderr)

    expected = Counter(1 << choice[v.key] for v in voters)
    right_in_db = counted == expected
    answered = f"{len(voters)} av {len(voters) + 1}"
    card_text = json.dumps(json.loads(final_card), ensure_ascii=False) if final_card else ""
    right_on_card = answered in card_text
    mine_marked = sum(
        1
        for body, voter in zip(results["forumbot"][2], measured, strict=True)
        if f"✔ **{OPTIONS[choice[voter.key]]}**" in json.dumps(body, ensure_ascii=False)
    )

    print(
        f"\n{args.votes} votes in {args.seconds:g} s on one channel poll, {args.database} "
        f"(+{args.warmup} warm-up votes), Teams' limits enforced, {os.cpu_count()} CPUs\n"
    )
    print(f"| {'bot':<9} | {'p50 ms':>7} | {'p99 ms':>7} | {'failed':>6} |")
    print(f"|{'-' * 11}|{'-' * 9}|{'-' * 9}|{'-' * 8}|")
    for name, (latencies, failed, _) in results.items():
        p50 = percentile(latencies, 0.5) * 1000 if latencies else float("nan")
        p99 = percentile(latencies, 0.99) * 1000 if latencies else float("nan")
        print(f"| {name:<9} | {p50:7.1f} | {p99:7.1f} | {failed:6d} |")
    echo_l, forumbot_l = results["echo"][0], results["forumbot"][0]
    print()
    for label, fraction, target in (("p50", 0.5, 1.5), ("p99", 0.99, 2.0)):
        ratio = percentile(forumbot_l, fraction) / percentile(echo_l, fraction)
        verdict = "met" if ratio <= target else "MISSED"
        print(f"Forumbot {label} / echo {label} = {ratio:.2f} (target at most {target:g}: {verdict})")
    print(
        f"channel card updates: {updates_during} during the burst, {updates} in all "
        f"(429 answers from the connector: {stats.get('429', 0)})"
    )
    print(f"voters who saw their own choice marked on the answer: {mine_marked} of {args.votes}")
    print(f"final tally right: in the database {right_in_db}, on the channel's card {right_on_card}")
    ok = right_in_db and right_on_card and not results["forumbot"][1] and mine_marked == args.votes
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
