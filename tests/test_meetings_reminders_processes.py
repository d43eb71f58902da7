"""Meeting reminders run by two bot processes on one PostgreSQL, one of them killed with SIGKILL
mid-send: every scheduled task is done once, and every reminder reaches Teams once, but for the
message in flight when its process died, which is a dead letter 'unknown' and not sent again.

The forum and its meetings are made through the real flows; then two processes
(tests/support/outbox_process.py, each ticking the real schedule runner and the real outbox
worker) share the database and the fake Bot Connector, on a fake clock that the test moves on
once both are idle. A third process takes the killed one's place."""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, func, or_, select

from bot.domain.members import Role
from bot.domain.notices import CHANNEL, member_recipient
from bot.services.outbox import OutboxService
from bot.storage.db import unit_of_work
from bot.storage.membership import Members
from bot.storage.models import OutboxMessage, Poll, ScheduledTask
from tests.support.connector import Recorded
from tests.support.harness import Harness
from tests.support.outbox_connector import OutboxConnector
from tests.support.outbox_tools import (
    SharedClock,
    reports,
    start_worker_process,
    started,
    stop_process,
    wait_until,
)
from tests.test_meetings import NOW, forum, set_up

OPEN = ("queued", "claimed", "sending")
# what each task puts in the outbox: (purpose, to whom), "members" and "coordinators" one each;
# the first channel reminder of a meeting (here its agenda) also posts its attendance poll
EFFECTS = {
    "meeting.report_nudge": [("meeting.report_nudge", "members")],
    "meeting.agenda": [("meeting.agenda", CHANNEL), ("meeting.agenda.summary", "coordinators")],
    "meeting.compiled": [("meeting.compiled", CHANNEL)],
    "meeting.short": [("meeting.short", CHANNEL)],
}
# past both leases of a dead worker's message (the claim's 5 minutes, the send's 2 minutes)
LEASES = timedelta(minutes=6)


@pytest.fixture
def connector(outbox_connector: OutboxConnector) -> OutboxConnector:
    """The `bot` fixture takes this connector: it holds answers back on demand."""
    outbox_connector.reset()
    return outbox_connector


# what is left to do at a moment: tasks due and not done, messages due and not settled
# (statements built once: the test asks every few milliseconds)
DUE_TASKS = (
    select(func.count())
    .select_from(ScheduledTask)
    .where(ScheduledTask.status == "pending", ScheduledTask.due_at <= bindparam("moment"))
)
OPEN_MESSAGES = select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.claim_token).where(
    OutboxMessage.status.in_(OPEN),
    or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= bindparam("moment")),
)


async def open_work(bot: Harness, moment: datetime) -> tuple[int, list[tuple[int, str, str | None]]]:
    async with bot.sessions() as session:
        tasks = await session.scalar(DUE_TASKS, {"moment": moment})
        entries = await session.execute(OPEN_MESSAGES, {"moment": moment})
        return int(tasks or 0), [tuple(row) for row in entries.tuples()]


def shown(conversation_id: str, text: str | None, card: dict[str, Any] | None) -> str:
    """A message as its reader gets it: the conversation and the text or card."""
    return json.dumps([conversation_id, text, card], sort_keys=True, ensure_ascii=False)


def queued_message(entry: OutboxMessage) -> str:
    return shown(entry.conversation_id, entry.payload.get("text"), entry.payload.get("card"))


def arrived_message(request: Recorded) -> str:
    card = (request.body.get("attachments") or [{}])[0].get("content")
    return shown(request.conversation_id, request.body.get("text"), card)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite runs one process
async def test_two_processes_post_every_reminder_once_though_one_is_killed(
    bot: Harness, connector: OutboxConnector, database_url: str, tmp_path: Path
) -> None:
    # a forum of four approved members, and two weekly series: Tuesdays, and Thursdays with the
    # holidays skipped; what setting them up queued is sent before the run
    await forum(bot)
    await set_up(bot)
    await set_up(bot, weekday="3", first_date="2026-12-03", holidays_chosen=True)
    await bot.drain_outbox()
    connector.reset()
    async with unit_of_work(bot.sessions) as session:
        tasks = {t.id: t for t in await session.scalars(select(ScheduledTask))}
        first_of_run = (await session.scalar(select(func.max(OutboxMessage.id)))) or 0
        members = [m.id for m in await Members(session).approved()]
        coordinators = [m.id for m in await Members(session).approved_with_role(Role.COORDINATOR)]
    meetings = Counter(t.item_id for t in tasks.values())
    assert len(meetings) >= 40 and set(meetings.values()) == {4}
    assert {t.status for t in tasks.values()} == {"pending"}
    assert len(members) == 4 and coordinators
    # The clock moves to each meeting's short reminder, an hour before it begins: then its other
    # reminders are due too (late, as after downtime) and usually the next meeting's nudge, so
    # that both processes have several tasks and messages at once.
    steps = sorted(t.due_at for t in tasks.values() if t.kind == "meeting.short")
    # one process is killed a third of the way in, mid-send
    kill_at = len(steps) // 3
    assert steps[kill_at + 1] > steps[kill_at] + LEASES

    clock = SharedClock(tmp_path / "clock")
    await clock.set(NOW)
    children: list[asyncio.subprocess.Process] = []

    async def start() -> asyncio.subprocess.Process:
        # one task and two messages a claim, so that the processes share the work
        child = await start_worker_process(database_url, clock=clock, run=True, batch=2, task_batch=1)
        children.append(child)
        await started(child)
        return child

    async def step(moment: datetime) -> None:
        await clock.set(moment)

        async def idle() -> bool:
            return await open_work(bot, moment) == (0, [])

        await wait_until(idle, every=0.01)

    try:
        first, second = await asyncio.gather(start(), start())
        for moment in steps[:kill_at]:
            await step(moment)

        # Teams takes the step's first two messages and answers neither: since a process sends
        # one message at a time, one of them is the first process's when it is killed
        moment = steps[kill_at]
        connector.hold("", seconds=30)
        connector.hold("", seconds=30)
        await clock.set(moment)

        async def both_in_flight() -> bool:
            return connector.holding() == 2

        await wait_until(both_in_flight, every=0.01)
        first.kill()
        killed_out, _ = await first.communicate()
        assert first.returncode == -signal.SIGKILL
        connector.release()

        # the message the dead process was sending stays so (the survivor's is soon settled), and
        # so does any it had claimed with it; its conversations wait for the claim to lapse
        dead_claim: list[tuple[int, str, str | None]] = []

        async def only_the_dead_one_sending() -> bool:
            _, entries = await open_work(bot, moment)
            sending = [entry for entry in entries if entry[1] == "sending"]
            if len(sending) != 1:
                return False
            dead_claim[:] = [entry for entry in entries if entry[2] == sending[0][2]]
            return True

        await wait_until(only_the_dead_one_sending, every=0.01)
        (in_flight,) = [i for i, status, _ in dead_claim if status == "sending"]
        # once its leases have run out they are settled; a new process takes the killed one's place
        third = await start()
        await step(moment + LEASES)
        for moment in steps[kill_at + 1 :]:
            await step(moment)
        # the last meeting begins: its attendance poll closes
        closing = steps[-1] + timedelta(hours=1)
        await step(closing)
        said = {"first": reports(killed_out)}
        said["second"] = await stop_process(second)
        said["third"] = await stop_process(third)
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()

    # every task done once (as the processes report; each of them did some), at the first step
    # it was due by: the short reminder on time, the others late. The tasks besides the meetings'
    # reminders close their attendance polls, made with their agendas, one per meeting.
    done = Counter(i for lines in said.values() for line in lines for i in line.get("done", []))
    assert all(any(line.get("done") for line in lines) for lines in said.values())
    async with bot.sessions() as session:
        finished = list(await session.scalars(select(ScheduledTask)))
        entries = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.id > first_of_run)))
        polls = {poll.meeting_id: poll.id for poll in await session.scalars(select(Poll))}
    assert done == Counter(task.id for task in finished)
    closes = [task for task in finished if task.id not in tasks]
    assert {task.kind for task in closes} == {"poll.close"}
    assert sorted(task.item_id for task in closes) == sorted(polls.values())
    assert sorted(polls) == sorted(meetings)
    for task in finished:
        # (and the last meeting's poll, closed at its very start)
        on_time = task.kind == "meeting.short" or task.due_at == closing
        assert (task.status, task.outcome) == ("done", "on_time" if on_time else "late")
        assert task.done_at == min(step for step in [*steps, closing] if step >= task.due_at)

    # each task's messages queued once: the channel's post, a nudge to every member, the
    # coordinators' copy of the agenda
    expected = Counter()
    for task in tasks.values():
        for purpose, to in EFFECTS[task.kind]:
            readers = {"members": members, "coordinators": coordinators}.get(to)
            recipients = [member_recipient(m) for m in readers] if readers else [to]
            expected.update((task.item_id, purpose, recipient) for recipient in recipients)
    expected.update((poll, "poll.attendance", CHANNEL) for poll in polls.values())
    assert Counter((e.item_id, e.purpose, e.recipient) for e in entries) == expected

    # Every message reached Teams once (each channel post, each member's nudge), as one new
    # message: no two are alike, so what arrived tells which it was. The one in flight when its
    # process died arrived too, but that process never heard so: it is the one dead letter, as
    # 'unknown', and was not sent again. The rest were sent and recorded with the activity Teams
    # made, the dead process's claimed one too once its claim had lapsed.
    queued = Counter(queued_message(e) for e in entries)
    assert set(queued.values()) == {1}
    assert {r.method for r in connector.requests} == {"POST"}
    assert Counter(arrived_message(r) for r in connector.requests) == queued
    status = {e.id: (e.status, e.dead_reason) for e in entries}
    assert status.pop(in_flight) == ("dead", "unknown")
    assert set(status.values()) == {("sent", None)}
    async with unit_of_work(bot.sessions) as session:
        letters = await OutboxService(session).dead_letters()
    assert [(letter.id, letter.reason) for letter in letters] == [(in_flight, "unknown")]
    made = {r.assigned_id: arrived_message(r) for r in connector.requests}
    assert all(made[e.sent_activity_id] == queued_message(e) for e in entries if e.id != in_flight)
