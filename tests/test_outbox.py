"""The outbox delivers what the bot sends on its own initiative once: retries and Retry-After,
pacing under Teams' limits, dead letters and requeue, and workers that die mid-send. End to end
through the real app and the fake Bot Connector, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.pacing import (
    TEAMS_CONVERSATION_WINDOWS,
    Pacer,
    RetrySchedule,
    Window,
    parse_retry_after,
    rate_window,
    wait_for,
)
from bot.services.outbox import Delivered, OutboxService
from bot.storage.audit import Audit
from bot.storage.db import unit_of_work
from bot.storage.models import AuditEntry, OutboxMessage
from bot.storage.outbox import Outbox
from tests.conftest import ADMIN, COORDINATOR, EVERYONE
from tests.support.connector import ConnectorThread, RosterMember
from tests.support.harness import Harness, card_text
from tests.support.outbox_connector import OutboxConnector
from tests.support.outbox_tools import (
    FakeTime,
    enqueue,
    entry,
    install_worker,
    reference,
    start_worker_process,
    statuses,
    wait_until,
    window_counts,
)
from tests.test_conversation import register


@pytest.fixture(scope="module")
def outbox_connector() -> Iterator[OutboxConnector]:
    thread = ConnectorThread(OutboxConnector())
    connector = thread.start()
    assert isinstance(connector, OutboxConnector)
    for person in EVERYONE:
        connector.roster[person.teams_id] = RosterMember(
            person.teams_id, person.aad_object_id, person.name, person.email
        )
    yield connector
    connector.reset()
    thread.stop()


@pytest.fixture
def connector(outbox_connector: OutboxConnector) -> OutboxConnector:
    """This module's connector (the `bot` fixture takes it): stamps requests, holds answers."""
    outbox_connector.reset()
    return outbox_connector


def naive(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their (UTC) zone."""
    return moment.astimezone(UTC).replace(tzinfo=None)


async def dead_letters(bot: Harness) -> list[tuple[int, str]]:
    async with unit_of_work(bot.sessions) as session:
        return [(letter.id, letter.reason) for letter in await OutboxService(session).dead_letters()]


# Pacing and the retry schedule, as functions of time ------------------------------------------


def test_a_window_admits_a_send_once_the_oldest_has_left() -> None:
    second = Window(7, 1.0)
    assert wait_for([], [second], 0.0) == 0
    assert wait_for([0.0] * 6, [second], 0.0) == 0
    assert wait_for([0.0] * 7, [second], 0.25) == pytest.approx(0.75)
    assert wait_for([0.0] * 7, [second], 1.0) == 0
    assert wait_for([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], [second], 0.75) == pytest.approx(0.35)
    # the strictest window decides
    assert wait_for([0.0] * 7 + [1.0], TEAMS_CONVERSATION_WINDOWS, 1.5) == pytest.approx(0.5)


def test_a_rate_becomes_a_window() -> None:
    assert rate_window(30) == Window(30, 1.0)
    assert rate_window(0.5) == Window(1, 2.0)
    assert rate_window(2.5) == Window(2, 0.8)
    with pytest.raises(ValueError):
        rate_window(0)


def test_pacer_keeps_conversations_apart_and_the_global_rate_over_all() -> None:
    pacer = Pacer.for_teams(global_rate=10)
    for _ in range(7):
        assert pacer.wait("a", 0.0) == 0
        pacer.record("a", 0.0)
    assert pacer.wait("a", 0.0) == pytest.approx(1.0)  # 7 a second
    assert pacer.wait("b", 0.0) == 0  # another conversation is not held up
    pacer.record("a", 1.0)
    assert pacer.wait("a", 1.0) == pytest.approx(1.0)  # 8 in 2 seconds
    for _ in range(9):
        pacer.record(f"c{_}", 1.5)
    assert pacer.wait("d", 1.5) == pytest.approx(0.5)  # 10 a second in all
    pacer.hold("e", 30.0)
    assert pacer.wait("e", 10.0) == pytest.approx(20.0)  # Retry-After


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.floats(0, 120)), max_size=250),
    st.floats(0.5, 40),
)
def test_paced_sends_never_exceed_a_window(demands: list[tuple[str, float]], rate: float) -> None:
    pacer = Pacer.for_teams(global_rate=rate)
    now, sent = 0.0, []
    for conversation, arrival in sorted(demands, key=lambda demand: demand[1]):
        now = max(now, arrival)
        while (wait := pacer.wait(conversation, now)) > 0:
            now += max(wait, 1e-9)
        pacer.record(conversation, now)
        sent.append((conversation, now))
    for conversation in "abc":
        times = [at for c, at in sent if c == conversation]
        for window in TEAMS_CONVERSATION_WINDOWS:
            assert window_counts(times, window.seconds) <= window.limit
    for window in pacer.global_windows:
        assert window_counts([at for _, at in sent], window.seconds) <= window.limit


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7
    assert parse_retry_after("2.5", now) == 2.5
    assert parse_retry_after("-3", now) == 0
    assert parse_retry_after("Mon, 23 Nov 2026 09:00:30 GMT", now) == 30
    assert parse_retry_after("Mon, 23 Nov 2026 08:59:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("nan", now) is None
    assert parse_retry_after(None, now) is None


def test_backoff_grows_with_jitter_and_yields_to_retry_after() -> None:
    schedule = RetrySchedule(base=2.0, cap=900.0, max_retry_after=3600.0)
    assert schedule.delay(1, None, 0.0) == 1.0
    assert schedule.delay(1, None, 0.999) == pytest.approx(2.0, abs=0.01)
    assert schedule.delay(4, None, 0.5) == 12.0
    assert schedule.delay(30, None, 0.0) == 450.0  # capped
    assert schedule.delay(1, 30.0, 0.5) == 30.0  # never before Retry-After
    assert schedule.delay(1, 10.0**7, 0.5) == 3600.0  # nor parked for months by a wild header


# Delivery through the real app -------------------------------------------------------------


async def test_a_notice_from_a_real_flow_arrives_once_after_throttling(
    bot: Harness, connector: OutboxConnector
) -> None:
    install_worker(bot, FakeTime(bot.clock))
    await register(bot, ADMIN, "SLK")
    await bot.say(COORDINATOR, "registrera mig")
    await bot.submit(COORDINATOR, {"action": "register.submit", "agency": "MHF"})
    before = len(connector.sent(ADMIN.personal_conversation))

    connector.fail(429, retry_after=3)
    assert await bot.drain_outbox() == 0
    assert len(connector.sent(ADMIN.personal_conversation)) == before
    bot.clock.advance(seconds=3)
    assert await bot.drain_outbox() == 1
    assert await bot.drain_outbox() == 0
    notices = connector.sent(ADMIN.personal_conversation)[before:]
    assert len(notices) == 1
    assert "Carl Samordnare" in card_text(notices[0]["attachments"][0]["content"])


async def test_the_same_key_is_queued_and_sent_once(bot: Harness, connector: OutboxConnector) -> None:
    install_worker(bot, FakeTime(bot.clock))
    await enqueue(bot, "a:dup", "once", key="decision:1")
    async with unit_of_work(bot.sessions) as session:
        again = reference(connector.url, "a:dup")
        assert not await Outbox(session).enqueue("decision:1", again, {"text": "twice"})
    assert await bot.drain_outbox() == 1
    assert await bot.drain_outbox() == 0
    assert connector.texts("a:dup") == ["once"]


@pytest.mark.parametrize("status", [412, 429, 502, 504])
async def test_transient_refusals_are_retried_with_exponential_backoff(
    bot: Harness, connector: OutboxConnector, status: int
) -> None:
    install_worker(bot, FakeTime(bot.clock))
    entry_id = await enqueue(bot, "a:flaky", "hello")
    connector.fail(status, times=2)
    start = bot.clock()

    assert await bot.drain_outbox() == 0
    row = await entry(bot, entry_id)
    assert (row.status, row.attempts) == ("queued", 1)
    assert f"HTTP {status}" in (row.last_error or "")
    assert row.not_before is not None
    assert naive(row.not_before) == naive(start + timedelta(seconds=1.5))  # 2 s, jitter ×0.75

    bot.clock.advance(seconds=1.5)
    assert await bot.drain_outbox() == 0
    row = await entry(bot, entry_id)
    assert row.attempts == 2
    assert row.not_before is not None
    assert naive(row.not_before) == naive(bot.clock() + timedelta(seconds=3))  # doubled

    bot.clock.advance(seconds=3)
    assert await bot.drain_outbox() == 1
    assert connector.texts("a:flaky") == ["hello"]
    row = await entry(bot, entry_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert row.sent_activity_id


async def test_each_attempt_is_one_request(bot: Harness, connector: OutboxConnector) -> None:
    """botbuilder's connector client would retry 5xx and read errors by itself, PUT included."""
    fake = FakeTime(bot.clock)
    install_worker(bot, fake)
    connector.stamp = fake.monotonic
    await enqueue(bot, "a:card", "new text", update_activity_id="activity-5")
    await enqueue(bot, "a:chat", "hello")
    connector.fail(502, times=2)
    assert await bot.drain_outbox() == 0
    assert len(connector.stamps_of("a:card")) == len(connector.stamps_of("a:chat")) == 1
    bot.clock.advance(minutes=1)
    assert await bot.drain_outbox() == 2
    assert len(connector.stamps) == 4
    assert [u.activity_id for u in connector.updated("a:card")] == ["activity-5"]


@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_retry_after_is_honoured(bot: Harness, connector: OutboxConnector, form: str) -> None:
    install_worker(bot, FakeTime(bot.clock))
    entry_id = await enqueue(bot, "a:throttled", "hello")
    start = bot.clock()
    header = "30" if form == "seconds" else format_datetime(start + timedelta(seconds=30), usegmt=True)
    connector.fail(429, retry_after=header)  # type: ignore[arg-type]

    assert await bot.drain_outbox() == 0
    row = await entry(bot, entry_id)
    assert row.not_before is not None
    assert naive(row.not_before) == naive(start + timedelta(seconds=30))
    bot.clock.advance(seconds=29)
    assert await bot.drain_outbox() == 0
    assert connector.texts("a:throttled") == []
    bot.clock.advance(seconds=1)
    assert await bot.drain_outbox() == 1
    assert connector.texts("a:throttled") == ["hello"]


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_other_refusals_are_dead_at_once(
    bot: Harness, connector: OutboxConnector, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    install_worker(bot, FakeTime(bot.clock))
    entry_id = await enqueue(bot, "a:gone", "hello")
    connector.fail(status)
    with caplog.at_level(logging.ERROR):
        assert await bot.drain_outbox() == 0
    row = await entry(bot, entry_id)
    assert (row.status, row.dead_reason, row.attempts) == ("dead", "refused", 1)
    assert f"outbox entry {entry_id} dead (refused)" in caplog.text
    bot.clock.advance(hours=1)
    assert await bot.drain_outbox() == 0
    assert connector.texts("a:gone") == []
    assert await dead_letters(bot) == [(entry_id, "refused")]


async def test_a_send_without_an_answer_times_out_and_is_retried(
    bot: Harness, connector: OutboxConnector
) -> None:
    install_worker(bot, FakeTime(bot.clock), send_timeout=0.5)
    entry_id = await enqueue(bot, "a:slow", "patience")
    connector.fail(504, delay=3.0)  # answers only after 3 s, long after the worker gave up

    began = time.monotonic()
    assert await bot.drain_outbox() == 0
    assert time.monotonic() - began < 3.0  # it did not wait for the answer
    row = await entry(bot, entry_id)
    assert (row.status, row.attempts) == ("queued", 1)
    assert "no_answer" in (row.last_error or "") and "Timeout" in (row.last_error or "")

    bot.clock.advance(seconds=2)
    assert await bot.drain_outbox() == 1
    assert connector.texts("a:slow") == ["patience"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_connection_errors_are_retried_until_the_limit(
    bot: Harness, connector: OutboxConnector, caplog: pytest.LogCaptureFixture
) -> None:
    install_worker(bot, FakeTime(bot.clock), max_attempts=3)
    nowhere = f"http://127.0.0.1:{closed_port()}"
    entry_id = await enqueue(bot, "a:nowhere", "hello?", service_url=nowhere)
    for attempt in (1, 2):
        assert await bot.drain_outbox() == 0
        row = await entry(bot, entry_id)
        assert (row.status, row.attempts) == ("queued", attempt)
        assert "no_answer" in (row.last_error or "")
        bot.clock.advance(hours=1)
    with caplog.at_level(logging.ERROR):
        assert await bot.drain_outbox() == 0
    row = await entry(bot, entry_id)
    assert (row.status, row.dead_reason, row.attempts) == ("dead", "exhausted", 3)
    assert "dead (exhausted) after 3 attempt(s)" in caplog.text


async def test_dead_letters_after_the_limit_can_be_listed_and_requeued(
    bot: Harness, connector: OutboxConnector, caplog: pytest.LogCaptureFixture
) -> None:
    install_worker(bot, FakeTime(bot.clock), max_attempts=4)
    entry_id = await enqueue(bot, "a:outage", "after the outage")
    connector.fail(502, times=4)
    with caplog.at_level(logging.ERROR):
        for _ in range(4):
            assert await bot.drain_outbox() == 0
            bot.clock.advance(hours=1)
    assert f"outbox entry {entry_id} dead (exhausted) after 4 attempt(s)" in caplog.text
    assert await bot.drain_outbox() == 0

    async with unit_of_work(bot.sessions) as session:
        letters = await OutboxService(session).dead_letters()
    assert [(x.id, x.reason, x.attempts, x.preview) for x in letters] == [
        (entry_id, "exhausted", 4, "after the outage")
    ]
    assert "HTTP 502" in (letters[0].last_error or "")
    assert letters[0].conversation_id == "a:outage"

    async with unit_of_work(bot.sessions) as session:
        service = OutboxService(session)
        assert await service.requeue(entry_id, actor_aad_id=ADMIN.aad_object_id)
        assert not await service.requeue(entry_id)  # no longer dead
        assert not await service.requeue(10_000)
    assert await bot.drain_outbox() == 1
    assert connector.texts("a:outage") == ["after the outage"]
    assert await dead_letters(bot) == []
    async with unit_of_work(bot.sessions) as session:
        assert await OutboxService(session).counts() == {"sent": 1}
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "requeued"))
    assert audit is not None and audit.item_id == str(entry_id)
    assert audit.actor_aad_id == ADMIN.aad_object_id


async def test_a_retry_keeps_its_conversation_in_order(bot: Harness, connector: OutboxConnector) -> None:
    install_worker(bot, FakeTime(bot.clock))
    for text in ("one", "two", "three"):
        await enqueue(bot, "a:ordered", text)
    await enqueue(bot, "a:bystander", "meanwhile")
    connector.fail(429, retry_after=5)  # the first request: "one"

    assert await bot.drain_outbox() == 1
    assert connector.texts("a:bystander") == ["meanwhile"]
    assert connector.texts("a:ordered") == []
    bot.clock.advance(seconds=5)
    assert await bot.drain_outbox() == 3
    assert connector.texts("a:ordered") == ["one", "two", "three"]


async def test_what_is_kept_about_a_delivery_is_kept_with_it(
    bot: Harness, connector: OutboxConnector, caplog: pytest.LogCaptureFixture
) -> None:
    """The hook runs in the transaction that marks the entry sent; if it fails, the entry is
    still sent and never sent again."""

    async def keep(session: AsyncSession, delivered: Delivered) -> None:
        if delivered.payload.get("track") == "broken":
            raise RuntimeError("the hook broke")
        await Audit(session).record(
            "posted", "outbox", delivered.entry_id, details={"activity_id": delivered.activity_id}
        )

    install_worker(bot, FakeTime(bot.clock), on_delivered=keep)
    kept = await enqueue(bot, "a:tracked", "card one")
    async with unit_of_work(bot.sessions) as session:
        await Outbox(session).enqueue(
            "broken", reference(connector.url, "a:tracked"), {"text": "card two", "track": "broken"}
        )
    connector.fail(502)  # a failed attempt runs no hook; "card two" waits behind "card one"
    assert await bot.drain_outbox() == 0
    bot.clock.advance(minutes=1)
    with caplog.at_level(logging.ERROR):
        assert await bot.drain_outbox() == 2
    assert "what was to be kept about its delivery is lost" in caplog.text
    assert await bot.drain_outbox() == 0
    assert connector.texts("a:tracked") == ["card one", "card two"]
    assert set((await statuses(bot)).values()) == {"sent"}
    async with bot.sessions() as session:
        audit = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "posted")))
    assert [(a.item_id, a.details) for a in audit] == [
        (str(kept), {"activity_id": (await entry(bot, kept)).sent_activity_id})
    ]


# Pacing, counted from the connector's requests on the fake clock ---------------------------


async def test_pacing_keeps_teams_limits_per_conversation(bot: Harness, connector: OutboxConnector) -> None:
    fake = FakeTime(bot.clock)
    install_worker(bot, fake)
    connector.stamp = fake.monotonic
    for i in range(130):
        await enqueue(bot, "a:busy", f"busy {i}")
    for i in range(20):
        await enqueue(bot, "a:quiet", f"quiet {i}")

    # the scheduler's ticks, a second apart: a wait longer than a moment is left to a later tick
    delivered = await bot.drain_outbox()
    assert delivered < 130
    for _ in range(120):
        bot.clock.advance(seconds=1)
        delivered += await bot.drain_outbox()
    assert delivered == 150
    assert connector.texts("a:busy") == [f"busy {i}" for i in range(130)]
    assert connector.texts("a:quiet") == [f"quiet {i}" for i in range(20)]
    busy, quiet = connector.stamps_of("a:busy"), connector.stamps_of("a:quiet")
    for times in (busy, quiet):
        for window in TEAMS_CONVERSATION_WINDOWS:
            assert window_counts(times, window.seconds) <= window.limit
    assert window_counts(busy, 1.0) == 7 and window_counts(busy, 30.0) == 60  # used, not wasted
    assert 60.0 <= max(busy) < 66.0  # the 121st message has to wait a minute, hardly more
    assert max(quiet) < 10.0  # the quiet conversation did not queue behind the busy one


async def test_the_global_rate_holds_over_all_conversations(bot: Harness, connector: OutboxConnector) -> None:
    fake = FakeTime(bot.clock)
    install_worker(bot, fake, global_rate=5)
    connector.stamp = fake.monotonic
    for i in range(30):
        await enqueue(bot, f"a:member-{i}", "notice")

    assert await bot.drain_outbox() == 30
    times = connector.stamps_of()
    assert len(times) == 30
    assert window_counts(times, 1.0) == 5
    assert 5.0 <= max(times) < 6.0


def test_the_global_rate_is_a_setting(bot: Harness) -> None:
    from bot.app import GLUE
    from tests.conftest import make_settings

    assert bot.app is not None
    assert bot.app[GLUE].outbox.pacer.global_windows == (Window(48, 1.0),)  # under Teams' 50 a second
    assert make_settings(bot.settings.database_url, outbox_global_rate=12.5).outbox_global_rate == 12.5


# Workers that die mid-send -------------------------------------------------------------------


async def test_a_worker_killed_mid_send_loses_nothing_and_resends_nothing_blindly(
    bot: Harness, connector: OutboxConnector, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    install_worker(bot, FakeTime(bot.clock))
    first = await enqueue(bot, "a:kill", "first")
    second = await enqueue(bot, "a:kill", "second")
    third = await enqueue(bot, "a:kill", "third")
    other = await enqueue(bot, "a:kill-other", "other")
    # Teams takes "second" but its answer is slow: the worker dies waiting for it
    connector.hold("second", seconds=30)
    child = await start_worker_process(database_url, bot.clock())

    async def second_in_flight() -> bool:
        if child.returncode is not None:
            raise AssertionError(b"".join(await child.communicate()).decode())
        return "second" in connector.texts("a:kill") and (await entry(bot, second)).status == "sending"

    try:
        await wait_until(second_in_flight)
    finally:
        child.kill()
        await child.wait()
    assert child.returncode == -signal.SIGKILL
    assert await statuses(bot) == {first: "sent", other: "sent", second: "sending", third: "claimed"}

    # the dead worker's claims hold until their leases run out
    assert await bot.drain_outbox() == 0
    bot.clock.advance(minutes=6)
    with caplog.at_level(logging.ERROR):
        assert await bot.drain_outbox() == 1  # "third": claimed, never begun
    assert await statuses(bot) == {first: "sent", other: "sent", second: "dead", third: "sent"}
    assert "may have reached Teams" in caplog.text

    # every message reached Teams once; the one whose fate was unknown was not sent again
    assert connector.texts("a:kill") == ["first", "second", "third"]
    assert connector.texts("a:kill-other") == ["other"]
    assert await dead_letters(bot) == [(second, "unknown")]
    async with unit_of_work(bot.sessions) as session:
        assert await OutboxService(session).dismiss(second)  # an admin saw it arrive
    assert await dead_letters(bot) == []
    assert await bot.drain_outbox() == 0
    assert len(connector.sent()) == 4


async def test_an_update_in_flight_when_its_worker_stops_is_sent_again(
    bot: Harness, connector: OutboxConnector
) -> None:
    install_worker(bot, FakeTime(bot.clock))
    entry_id = await enqueue(bot, "a:card", "edited card", update_activity_id="activity-77")
    connector.hold("edited", seconds=30)
    drain = asyncio.create_task(bot.drain_outbox())

    async def update_in_flight() -> bool:
        return len(connector.updated("a:card")) == 1

    await wait_until(update_in_flight)
    drain.cancel()  # the process stops here: the outcome is never recorded
    with contextlib.suppress(asyncio.CancelledError):
        await drain
    connector.release()
    assert (await entry(bot, entry_id)).status == "sending"

    bot.clock.advance(minutes=10)
    assert await bot.drain_outbox() == 1
    # the same update twice leaves the card as it should be
    assert [u.activity_id for u in connector.updated("a:card")] == ["activity-77", "activity-77"]
    assert (await entry(bot, entry_id)).status == "sent"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite runs one worker
async def test_two_processes_deliver_200_messages_exactly_once(
    bot: Harness, connector: OutboxConnector, database_url: str
) -> None:
    worker = install_worker(bot)
    async with unit_of_work(bot.sessions) as session:
        outbox = Outbox(session)
        for i in range(200):
            conversation = reference(connector.url, f"a:many-{i % 40}")
            assert await outbox.enqueue(f"many:{i}", conversation, {"text": f"message {i}"})
    # The child, first to claim, is kept waiting on its first message, so both workers take part.
    connector.hold("message 0", seconds=1.5)
    child = await start_worker_process(database_url, bot.clock(), send_timeout=10, batch=2)

    async def child_started() -> bool:
        if child.returncode is not None:
            return True
        return any(status != "queued" for status in (await statuses(bot)).values())

    await wait_until(child_started)
    mine = await worker.drain(batch=2)
    out, err = await asyncio.wait_for(child.communicate(), 30)
    assert child.returncode == 0, err.decode()
    theirs = json.loads(out)["delivered"]

    assert mine + theirs == 200
    assert mine > 0 and theirs > 0
    texts = connector.texts()
    assert len(texts) == 200 and set(texts) == {f"message {i}" for i in range(200)}
    async with unit_of_work(bot.sessions) as session:
        assert await OutboxService(session).counts() == {"sent": 200}
        ids = list(await session.scalars(select(OutboxMessage.sent_activity_id)))
    assert len(set(ids)) == 200
