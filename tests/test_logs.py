"""Logs: one JSON object a line in production, each with the ids of what it concerns, and nothing
that anyone wrote or any card showed, even when a turn fails on such a text."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import logs
from bot.dialogs.engine import Engine
from bot.settings import load_settings
from tests.conftest import COORDINATOR, INSPECTOR, POLICE, TAX
from tests.support.harness import Harness
from tests.test_proposals import VALID, forum, propose

APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above during the test, as production writes it."""
    stream = io.StringIO()
    handler = logs.handler(json_lines=True, stream=stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
    for line in parsed:
        assert {"time", "level", "logger", "message"} <= set(line)
    return parsed


def test_a_line_carries_the_context_and_an_exception_without_its_message() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.logs")
    handler = logs.handler(json_lines=True, stream=stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with logs.log_context(activity_id="act-1", conversation_id="a:conv"):
            with logs.log_context(outbox_entry_id=7, task_id=None):
                try:
                    raise ValueError("Pizzeria Exempel, 19121212-1212")
                except ValueError:
                    logger.exception("turn failed")
            logger.warning("after")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    failed, after, outside = lines(stream)
    assert failed["message"] == "turn failed" and failed["level"] == "ERROR"
    assert failed["activity_id"] == "act-1" and failed["conversation_id"] == "a:conv"
    assert failed["outbox_entry_id"] == "7" and "task_id" not in failed
    assert failed["exception"] == "ValueError"
    assert any("test_logs.py" in frame for frame in failed["stack"])
    assert "Pizzeria" not in stream.getvalue() and "1212" not in stream.getvalue()
    assert "outbox_entry_id" not in after and after["activity_id"] == "act-1"
    assert set(outside) == {"time", "level", "logger", "message"}
    with pytest.raises(ValueError, match="unknown log context"):
        with logs.log_context(user_name="x"):
            pass


def test_the_format_follows_the_environment() -> None:
    assert not load_settings().logs_as_json
    assert load_settings(log_format="json").logs_as_json
    production = load_settings(
        env="production",
        app_type="UserAssignedMSI",
        app_id=APP_ID,
        app_tenant_id=TENANT_ID,
        public_url="https://forumbot.example.se",
        file_link_secret="x" * 48,
    )
    assert production.logs_as_json
    assert not load_settings(**{**production.model_dump(), "log_format": "TEXT"}).logs_as_json


async def test_no_text_or_card_reaches_the_log_and_ids_do(
    bot: Harness, captured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    await forum(bot)  # registrations, approvals, the forum channel: names and e-mail addresses
    await propose(bot)  # a forum-wide proposal: its texts go to every agency and the channel
    await propose(bot, reason="Ägaren 19121212-1212 har tidigare drivit liknande bolag.")  # refused
    bot.connector.fail(500, times=2)  # two notices fail once and are logged for their retry
    await bot.drain_outbox()
    await bot.say(POLICE, "förslag")

    # a turn that fails on a member's text: the exception quotes it
    real = Engine.on_message

    async def failing(self: Engine, turn: Any, state: Any, roster: Any) -> Any:
        if "Hemlig" in (turn.text or ""):
            raise RuntimeError(f"could not read {turn.text!r}")
        return await real(self, turn, state, roster)

    monkeypatch.setattr(Engine, "on_message", failing)
    failed = await bot.say(TAX, "Hemlig uppgift om Pizzeria Exempel")
    assert failed.status in (200, 201, 500)

    text = captured.getvalue()
    written = [
        VALID["name"],
        VALID["org_number"],
        VALID["address"],
        VALID["reason"],
        "19121212-1212",
        "Hemlig",
        *(person.name for person in (COORDINATOR, INSPECTOR, POLICE, TAX)),
        *(person.email for person in (COORDINATOR, INSPECTOR, POLICE, TAX)),
    ]
    leaked = [value for value in written if value in text]
    assert not leaked, f"in the log: {leaked}"
    logged = lines(captured)
    turn_failed = [line for line in logged if line["message"] == "turn failed"]
    assert len(turn_failed) == 1
    assert turn_failed[0]["exception"] == "RuntimeError"
    assert turn_failed[0]["activity_id"] and turn_failed[0]["conversation_id"] == TAX.personal_conversation
    retried = [
        line for line in logged if line["logger"] == "bot.services.outbox" and "retry" in line["message"]
    ]
    assert len(retried) == 2
    assert all(line["outbox_entry_id"] and line["conversation_id"] for line in retried)


def test_a_production_start_logs_json_lines_only(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "FORUMBOT_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'forumbot.db'}",
        FORUMBOT_ENV="production",
        MicrosoftAppType="UserAssignedMSI",
        MicrosoftAppId=APP_ID,
        MicrosoftAppTenantId=TENANT_ID,
        FORUMBOT_PUBLIC_URL="https://forumbot.example.se",
        FORUMBOT_FILE_LINK_SECRET="x" * 48,
    )
    upgrade = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/files/not-a-token", timeout=2):
                    pass
            except urllib.error.HTTPError:
                break  # served (and refused): the server is up
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=90)[0]
    assert server.returncode == 0, output
    logged = [json.loads(line) for line in output.splitlines()]  # every line is JSON
    assert any(line["message"].startswith("Forumbot listening on") for line in logged)
    assert "not-a-token" not in output, "no access log: a file link's path is a key"
