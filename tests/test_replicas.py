"""Two `forumbot run` processes on one fresh PostgreSQL database, as in production: migrated once
by `forumbot db upgrade`, then sent activities in turn, with the fake Bot Connector enforcing
Teams' rate limits. PostgreSQL is the only thing they share.

- A registration flow and a proposal form started on one replica are finished on the other.
- The same activity delivered to both replicas at once takes effect once.
- Every notice their outbox workers send arrives once, whichever replica sends it.
- One replica is killed with SIGKILL in the middle of a fan-out: once its claims' leases have run
  out (moved into the past here, rather than waiting the five minutes), the other delivers what it
  held. Every message arrives once, except what the killed one was sending at that instant: such
  an entry becomes an 'unknown' dead letter for an administrator (it may or may not have reached
  Teams, and is never sent twice). The test counts and reports them.

- A weekly meeting series is set up through one replica; its first meeting's four reminders (the
  nudge to report, the agenda with the attendance poll, the compiled picture, the short reminder)
  are then made due at once (moved to the present, rather than waiting for them): both replicas'
  schedulers race for them, each is done once, and everything it sends arrives once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

from bot.domain.meetings import is_working_day
from bot.storage import db
from bot.storage.db import unit_of_work
from bot.storage.models import Meeting, Member, OutboxMessage, Proposal, ScheduledTask
from bot.storage.outbox import Outbox
from tests.conftest import ADMIN, COORDINATOR, INSPECTOR, PG_URL, POLICE, TAX, _async_pg_url, _pg_admin
from tests.support import teams
from tests.support.connector import FakeConnector
from tests.support.harness import actions_of
from tests.support.outbox_tools import reference
from tests.support.texts import SV
from tests.test_meetings import SERIES
from tests.test_proposals import VALID

pytestmark = pytest.mark.skipif(not PG_URL, reason="two replicas need PostgreSQL (TEST_DATABASE_URL)")

FANOUT = 150


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Replica:
    name: str
    url: str
    process: asyncio.subprocess.Process


class Forum:
    """Both replicas, the database they share and the fake Teams they talk to."""

    def __init__(self, connector: FakeConnector, database_url: str, replicas: list[Replica]) -> None:
        self.connector = connector
        self.engine = db.create_engine(database_url)
        self.sessions = db.session_factory(self.engine)
        self.replicas = replicas
        self.http = aiohttp.ClientSession()
        self._last: dict[str, float] = {}

    async def post(self, replica: Replica, activity: dict[str, Any]) -> tuple[int, Any]:
        # a person types slower than Teams' 7 a second per conversation, which replies count in
        conversation = activity["conversation"]["id"]
        wait = self._last.get(conversation, 0.0) + 0.4 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last[conversation] = time.monotonic()
        async with self.http.post(replica.url + "/api/messages", json=activity) as response:
            return response.status, await response.json(
                content_type=None
            ) if response.content_length else None

    async def say(
        self, replica: Replica, person: teams.TeamsUser, said: str, where: str = "personal"
    ) -> None:
        builder = teams.channel if where == "channel" else teams.personal
        status, _ = await self.post(replica, teams.message(builder, self.connector.url, person, said))
        assert status in (200, 201), (replica.name, said, status)

    async def submit(self, replica: Replica, person: teams.TeamsUser, value: dict[str, Any]) -> None:
        activity = teams.submit(teams.personal, self.connector.url, person, value, "card-1")
        status, _ = await self.post(replica, activity)
        assert status in (200, 201), (replica.name, value.get("action"), status)

    async def member_id(self, person: teams.TeamsUser) -> int:
        async with self.sessions() as session:
            found = await session.scalar(
                select(Member.id).where(Member.aad_object_id == person.aad_object_id)
            )
        assert found is not None
        return found

    async def count(self, model: Any) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    async def outbox(self) -> Counter[str]:
        async with self.sessions() as session:
            return Counter(await session.scalars(select(OutboxMessage.status)))

    async def settled(self, seconds: float = 90) -> Counter[str]:
        """Wait until nothing is queued, claimed or being sent."""
        deadline = time.monotonic() + seconds
        while True:
            statuses = await self.outbox()
            if not statuses.keys() & {"queued", "claimed", "sending"}:
                return statuses
            assert time.monotonic() < deadline, f"the outbox did not settle: {statuses}"
            await asyncio.sleep(0.2)

    async def form(self, replica: Replica, person: teams.TeamsUser, command: str = "föreslå") -> str:
        """Open a form on `replica` (the proposal form, or the one `command` asks for); the token
        its card carries."""
        before = len(self.connector.sent(person.personal_conversation))
        await self.say(replica, person, command)
        for activity in reversed(self.connector.sent(person.personal_conversation)[before:]):
            for attachment in activity.get("attachments") or []:
                for action in actions_of(attachment["content"]):
                    if action.get("data", {}).get("form_token"):
                        return str(action["data"]["form_token"])
        raise AssertionError(f"no form came for {command!r}")

    def posts(self) -> list[Any]:
        """Every message the bot posted (replies to turns, and what its outbox sent)."""
        with self.connector._lock:
            return [r for r in self.connector.requests if r.method == "POST"]

    async def close(self) -> None:
        await self.http.close()
        await self.engine.dispose()


async def start(name: str, database_url: str, cwd: Path) -> Replica:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "FORUMBOT_"))}
    env.update(
        DATABASE_URL=database_url,
        FORUMBOT_ENV="development",  # authentication off: the fake Teams signs nothing
        FORUMBOT_ADMIN_IDS=ADMIN.aad_object_id,
        FORUMBOT_ALLOWED_TENANTS=teams.TENANT,
        FORUMBOT_FILE_LINK_SECRET="replicas-share-this-test-key-of-32-bytes-or-more",
        FORUMBOT_OUTBOX_GLOBAL_RATE="24",  # Teams' 50 a second per app, split between the two
        FORUMBOT_OUTBOX_INTERVAL_SECONDS="0.3",
        FORUMBOT_SCHEDULE_INTERVAL_SECONDS="1",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--port",
        str(port),
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return Replica(name, f"http://127.0.0.1:{port}", process)


async def ready(replica: Replica, http: aiohttp.ClientSession) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            async with http.get(replica.url + "/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        assert replica.process.returncode is None, f"replica {replica.name} stopped"
        assert time.monotonic() < deadline, f"replica {replica.name} never became ready"
        await asyncio.sleep(0.2)


@pytest.fixture
async def forum(connector: FakeConnector, tmp_path: Path) -> AsyncIterator[Forum]:
    name = f"forumbot_replicas_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    url = make_url(_async_pg_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "FORUMBOT_"))}
    migrated = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "db",
        "upgrade",
        cwd=tmp_path,
        env={**env, "DATABASE_URL": url},
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert await migrated.wait() == 0, "the one-shot migration"
    connector.limit_like_teams()
    replicas = [await start("A", url, tmp_path), await start("B", url, tmp_path)]
    forum = Forum(connector, url, replicas)
    try:
        for replica in replicas:
            await ready(replica, forum.http)
        yield forum
    finally:
        for replica in replicas:
            if replica.process.returncode is None:
                replica.process.send_signal(signal.SIGTERM)
        for replica in replicas:
            await asyncio.wait_for(replica.process.wait(), timeout=60)
        await forum.close()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_two_replicas_share_one_forum(forum: Forum, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = forum.replicas

    # Registration: asked on one replica, answered on the other; approvals likewise.
    people = [(ADMIN, "SLK"), (COORDINATOR, "MHF"), (INSPECTOR, "MHF"), (POLICE, "POL"), (TAX, "SKV")]
    for turn, (person, agency) in enumerate(people):
        first, second = (a, b) if turn % 2 == 0 else (b, a)
        await forum.say(first, person, "registrera mig")
        await forum.submit(second, person, {"action": "register.submit", "agency": agency})
    await forum.submit(
        a,
        ADMIN,
        {
            "action": "registration.approve",
            "member_id": await forum.member_id(COORDINATOR),
            "role": "coordinator",
        },
    )
    for turn, person in enumerate((INSPECTOR, POLICE, TAX)):
        value = {
            "action": "registration.approve",
            "member_id": await forum.member_id(person),
            "role": "inspector",
        }
        await forum.submit((b, a)[turn % 2], COORDINATOR, value)
    async with forum.sessions() as session:
        statuses = dict((await session.execute(select(Member.aad_object_id, Member.status))).tuples().all())
    assert set(statuses.values()) == {"approved"}, statuses
    assert len(statuses) == len(people)
    await forum.say(b, COORDINATOR, "koppla kanal", where="channel")

    # A meeting series set up across the replicas; its first meeting's reminders, all due at once,
    # are raced for by both replicas' schedulers.
    first = date.today() + timedelta(days=14)
    while first.weekday() != 1 or not is_working_day(first):
        first += timedelta(days=1)
    series = {
        **SERIES,
        "first_date": first.isoformat(),
        "form_token": await forum.form(a, COORDINATOR, "ny mötesserie"),
    }
    await forum.submit(b, COORDINATOR, series)
    async with unit_of_work(forum.sessions) as session:
        meeting = await session.scalar(select(Meeting).order_by(Meeting.starts_at).limit(1))
        assert meeting is not None and meeting.starts_at.date() == first
        due_now = await session.execute(
            update(ScheduledTask)
            .where(ScheduledTask.item_type == "meeting", ScheduledTask.item_id == meeting.id)
            .values(due_at=text("now() - interval '1 second'"))
            .returning(ScheduledTask.id)
        )
        reminders = {row.id for row in due_now}
    assert len(reminders) == 4
    deadline = time.monotonic() + 60
    while True:
        async with forum.sessions() as session:
            tasks = (
                (await session.execute(select(ScheduledTask).where(ScheduledTask.id.in_(reminders))))
                .scalars()
                .all()
            )
        if all(task.status == "done" for task in tasks):
            break
        assert time.monotonic() < deadline, [(t.kind, t.status) for t in tasks]
        await asyncio.sleep(0.2)
    assert {task.outcome for task in tasks} == {"on_time"}
    await forum.settled()
    async with forum.sessions() as session:
        reminded = (
            await session.execute(
                select(OutboxMessage.purpose, OutboxMessage.conversation_id, OutboxMessage.status).where(
                    # the meeting's, and its compiled picture's (the picture and the nudge to report)
                    OutboxMessage.item_id == meeting.id,
                    OutboxMessage.purpose.like("meeting.%"),
                )
            )
        ).all()
    purposes = Counter(row.purpose for row in reminded)
    assert {row.status for row in reminded} == {"sent"}
    assert purposes["meeting.agenda"] == purposes["meeting.compiled"] == purposes["meeting.short"] == 1
    assert purposes["meeting.report_nudge"] == len(people) and purposes["meeting.agenda.summary"] >= 1
    channel_posts = [r for r in forum.posts() if r.conversation_id.startswith(teams.CHANNEL_ID)]
    for kind in ("agenda", "compiled", "short"):
        (row,) = [r for r in reminded if r.purpose == f"meeting.{kind}"]
        assert row.conversation_id.startswith(teams.CHANNEL_ID)

    def title(request: Any) -> str | None:
        cards = [a["content"] for a in request.body.get("attachments") or []]
        return cards[0]["body"][0].get("text") if cards else None

    # the attendance poll, posted once with the agenda
    assert [title(r) for r in channel_posts].count(SV("poll.attendance.question")) == 1

    # A proposal form opened on one replica, submitted on the other.
    await forum.submit(a, INSPECTOR, {**VALID, "form_token": await forum.form(b, INSPECTOR)})
    assert await forum.count(Proposal) == 1

    # The same activity, delivered to both replicas at once, takes effect once.
    value = {**VALID, "name": "Bilverkstad Dubbel", "form_token": await forum.form(a, INSPECTOR)}
    twice = teams.submit(teams.personal, forum.connector.url, INSPECTOR, value, "card-2")
    answers = await asyncio.gather(forum.post(a, twice), forum.post(b, twice))
    assert {status for status, _ in answers} <= {200, 201}
    async with forum.sessions() as session:
        names = Counter(await session.scalars(select(Proposal.business_name)))
    assert names == Counter({VALID["name"]: 1, "Bilverkstad Dubbel": 1})

    # Every notice the two outbox workers sent arrived once.
    statuses_now = await forum.settled()
    assert statuses_now == Counter({"sent": statuses_now["sent"]}) and statuses_now["sent"] >= 8
    async with forum.sessions() as session:
        sent = (await session.execute(select(OutboxMessage.sent_activity_id, OutboxMessage.payload))).all()
    new_posts = {row.sent_activity_id for row in sent if not row.payload.get("update_activity_id")}
    posts = forum.posts()
    by_id = {r.assigned_id: r for r in posts}
    assert new_posts <= set(by_id), "every notice recorded as sent reached Teams"
    copies = Counter((r.conversation_id, json.dumps(r.body, sort_keys=True)) for r in posts)
    twice_sent = [
        i
        for i in new_posts
        if copies[by_id[i].conversation_id, json.dumps(by_id[i].body, sort_keys=True)] > 1
    ]
    assert twice_sent == [], "a notice reached Teams twice"
    in_channel = [r for r in posts if r.conversation_id.startswith(teams.CHANNEL_ID)]
    assert sum("Bilverkstad Dubbel" in json.dumps(r.body, ensure_ascii=False) for r in in_channel) == 1

    # A fan-out, and SIGKILL of one replica in the middle of it.
    async with unit_of_work(forum.sessions) as session:
        for i in range(FANOUT):
            where = reference(forum.connector.url, f"a:fanout-{i}")
            await Outbox(session).enqueue(f"fanout:{i}", where, {"text": f"fan-out {i}"})
    deadline = time.monotonic() + 60
    while sum(r.conversation_id.startswith("a:fanout-") for r in forum.posts()) < FANOUT // 4:
        assert time.monotonic() < deadline, "the fan-out did not start"
        await asyncio.sleep(0.02)
    a.process.send_signal(signal.SIGKILL)
    assert await asyncio.wait_for(a.process.wait(), timeout=30) == -signal.SIGKILL

    # B delivers all it can; what A held waits for its leases (B idle: nothing queued, and what is
    # claimed or being sent stays as it is), then B takes it over.
    deadline = time.monotonic() + 60
    held, still = await held_entries(forum), 0.0
    while True:
        await asyncio.sleep(0.25)
        left, now_held = await forum.outbox(), await held_entries(forum)
        still = still + 0.25 if now_held == held else 0.0
        held = now_held
        if left["queued"] == 0 and still >= 2.0:
            break
        assert time.monotonic() < deadline, f"B did not deliver the rest: {left}"
    async with unit_of_work(forum.sessions) as session:  # as if the five minutes had passed
        held = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status.in_(("claimed", "sending")))
            .values(lease_until=text("now() - interval '1 second'"))
        )
        held_by_a = int(getattr(held, "rowcount", 0) or 0)
    final = await forum.settled()

    async with forum.sessions() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.conversation_id, OutboxMessage.status, OutboxMessage.dead_reason).where(
                    OutboxMessage.conversation_id.like("a:fanout-%")
                )
            )
        ).all()
    arrived = Counter(r.conversation_id for r in forum.posts() if r.conversation_id.startswith("a:fanout-"))
    unknown = [row.conversation_id for row in rows if row.status == "dead"]
    assert all(row.dead_reason == "unknown" for row in rows if row.status == "dead")
    assert all(arrived[row.conversation_id] == 1 for row in rows if row.status == "sent"), "sent once"
    assert all(arrived[cid] <= 1 for cid in unknown), "an 'unknown' one is never sent twice"
    assert len(rows) == FANOUT and set(arrived.values()) <= {1}
    assert len(unknown) <= 1, "only the send in flight at the kill can be unknown"
    assert final["dead"] == len(unknown)
    with capsys.disabled():
        print(
            f"\ntwo replicas: {FANOUT} fanned out, SIGKILL of A with {held_by_a} of them held; "
            f"{len(unknown)} became 'unknown' dead letters "
            f"({sum(arrived[cid] for cid in unknown)} of which had reached Teams); "
            f"Teams answered 429 {forum.connector.throttled} times"
        )


async def held_entries(forum: Forum) -> set[tuple[int, str]]:
    """The entries claimed or being sent, with their status."""
    async with forum.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.id, OutboxMessage.status).where(
                OutboxMessage.status.in_(("claimed", "sending"))
            )
        )
        return set(rows.tuples().all())
