"""Telemetry: the metrics the bot records (turn latency, outbox depth and age, dead letters, late or
missed reminders, Teams' 429s), read here with OpenTelemetry's in-memory reader; and `forumbot run`
with an Application Insights connection string exporting them, to a fake ingestion endpoint on
loopback. Without a connection string telemetry is off."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from sqlalchemy import update

from bot import telemetry
from bot.services.outbox import sample_depth
from bot.services.schedule import TaskRunner
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage
from tests.conftest import STRANGER
from tests.support import teams
from tests.support.connector import FakeConnector
from tests.support.harness import Harness
from tests.support.outbox_tools import enqueue, install_worker
from tests.test_schedule import Recorder, plan

_reader: InMemoryMetricReader | None = None


@pytest.fixture(scope="session")
def reader() -> InMemoryMetricReader:
    """OpenTelemetry's SDK with an in-memory reader, as the process's provider (settable once)."""
    global _reader
    if _reader is None:
        _reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[_reader]))
    return _reader


def points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    data = reader.get_metrics_data()
    found: list[Any] = []
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found.extend(metric.data.data_points)
    return found


def total(reader: InMemoryMetricReader, name: str, **attributes: object) -> float:
    """A counter's sum (or a histogram's count) over the points with these attributes."""
    result = 0.0
    for point in points(reader, name):
        if all(point.attributes.get(k) == v for k, v in attributes.items()):
            result += getattr(point, "value", None) if hasattr(point, "value") else point.count
    return result


async def test_turns_dead_letters_429s_and_depth_are_measured(
    bot: Harness, reader: InMemoryMetricReader, connector: FakeConnector
) -> None:
    turns = total(reader, "forumbot.turn.duration", activity_type="message")
    await bot.say(STRANGER, "hjälp")
    assert total(reader, "forumbot.turn.duration", activity_type="message") == turns + 1

    throttled = total(reader, "forumbot.teams.throttled")
    refused = total(reader, "forumbot.outbox.dead_letters", reason="refused")
    install_worker(bot)
    await enqueue(bot, "a:telemetry-1", "one")
    await enqueue(bot, "a:telemetry-2", "two")
    connector.fail(429, retry_after=30)
    connector.fail(403)
    await bot.drain_outbox()
    assert total(reader, "forumbot.teams.throttled") == throttled + 1
    assert total(reader, "forumbot.outbox.dead_letters", reason="refused") == refused + 1

    # the one put back for later is queued: its depth and age, sampled from the database
    async with unit_of_work(bot.sessions) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "queued")
            .values(created_at=datetime.now(UTC) - timedelta(seconds=90))
        )
    await sample_depth(bot.sessions)
    assert (telemetry.latest.queued, telemetry.latest.dead) == (1, 1)
    assert 90 <= telemetry.latest.oldest_age_seconds < 3600
    (depth,) = points(reader, "forumbot.outbox.depth")
    (age,) = points(reader, "forumbot.outbox.oldest_age")
    assert depth.value == 1 and age.value == telemetry.latest.oldest_age_seconds


async def test_late_and_missed_reminders_are_counted(bot: Harness, reader: InMemoryMetricReader) -> None:
    def counted() -> tuple[float, float]:
        return (
            total(reader, "forumbot.schedule.tasks", kind="meeting.agenda", outcome="late"),
            total(reader, "forumbot.schedule.tasks", kind="meeting.short", outcome="missed"),
        )

    late, missed = counted()
    handlers = {"meeting.agenda": Recorder("late"), "meeting.short": Recorder("missed")}
    runner = TaskRunner(bot.sessions, handlers, clock=bot.clock)
    due = bot.clock() - timedelta(minutes=5)
    await plan(bot.sessions, ("meeting.agenda", 1, due), ("meeting.short", 1, due))
    assert await runner.run_due() == 2
    assert counted() == (late + 1, missed + 1)


def test_without_a_connection_string_telemetry_is_off() -> None:
    assert telemetry.configure("") is False


class Ingestion:
    """A fake Application Insights ingestion endpoint on loopback, recording what it is sent."""

    def __init__(self) -> None:
        self.envelopes: list[dict[str, Any]] = []
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _track(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        text = body.decode()
        try:
            items = json.loads(text)
        except ValueError:
            items = [json.loads(line) for line in text.splitlines() if line]
        self.envelopes.extend(items if isinstance(items, list) else [items])
        return web.json_response({"itemsReceived": len(items), "itemsAccepted": len(items), "errors": []})

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/{path:.*}", self._track)  # /v2.1/track, and live metrics' pings
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> Ingestion:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def metric_names(self) -> set[str]:
        return {
            metric["name"]
            for envelope in list(self.envelopes)
            if envelope.get("data", {}).get("baseType") == "MetricData"
            for metric in envelope["data"]["baseData"]["metrics"]
        }


@pytest.fixture
def ingestion() -> Iterator[Ingestion]:
    fake = Ingestion().start()
    yield fake
    fake.stop()


def test_forumbot_run_exports_to_azure_monitor(
    tmp_path: Path, connector: FakeConnector, ingestion: Ingestion
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{ingestion.port}/"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "FORUMBOT_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'forumbot.db'}",
        FORUMBOT_ALLOWED_TENANTS=teams.TENANT,
        APPLICATIONINSIGHTS_CONNECTION_STRING=(
            f"InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint={endpoint};"
            f"LiveEndpoint={endpoint}"
        ),
        OTEL_METRIC_EXPORT_INTERVAL="500",  # milliseconds, rather than a minute
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL="true",  # no usage reports to Microsoft
    )
    server = subprocess_run(tmp_path, port, env)
    try:
        wait_until_serving(port, server)
        activity = teams.message(teams.personal, connector.url, STRANGER, "hjälp")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/messages",
            data=json.dumps(activity).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status in (200, 201)
        deadline = time.monotonic() + 30
        while "forumbot.turn.duration" not in ingestion.metric_names():
            assert server.poll() is None and time.monotonic() < deadline, ingestion.metric_names()
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    assert server.returncode == 0, output[-3000:]
    assert "hjälp" not in json.dumps(ingestion.envelopes, ensure_ascii=False)
    assert STRANGER.name not in json.dumps(ingestion.envelopes, ensure_ascii=False)


def subprocess_run(cwd: Path, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_serving(port: int, server: Any) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            assert server.poll() is None, server.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "never served"
            time.sleep(0.2)
