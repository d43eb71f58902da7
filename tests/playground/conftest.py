"""The real bot (`forumbot run`) and Microsoft 365 Agents Playground as subprocesses, one pair per
test module, driven through the playground's HTTP API and WebSockets as its web page would be.

The playground is a Node.js tool installed into .tools/playground by `playground/start.sh --install`
at the version pinned there. Without it these tests fail; they do not skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.playground.client import Playground

REPO = Path(__file__).resolve().parents[2]
PLAYGROUND_FOLDER = REPO / "playground"
INSTALLED = REPO / ".tools" / "playground" / "node_modules"
PACKAGE = "@microsoft/m365agentsplayground"
STARTUP_TIMEOUT = 60.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "playground: end to end through Microsoft 365 Agents Playground "
        "(needs Node.js; install it with playground/start.sh --install)",
    )


def pinned_version() -> str:
    found = re.search(r"^PLAYGROUND_VERSION=(\S+)", (PLAYGROUND_FOLDER / "start.sh").read_text(), re.M)
    assert found, "playground/start.sh names no PLAYGROUND_VERSION"
    return found.group(1)


@pytest.fixture(scope="session")
def playground_binary() -> Path:
    """The installed playground at the pinned version, or a failure that says how to install it."""
    version = pinned_version()
    binary = INSTALLED / ".bin" / "agentsplayground"
    install = f"run `playground/start.sh --install` (it installs {PACKAGE}@{version} into .tools/playground)"
    if not binary.exists():
        pytest.fail(f"Microsoft 365 Agents Playground is not installed: {install}", pytrace=False)
    installed = json.loads((INSTALLED / PACKAGE / "package.json").read_text())["version"]
    if installed != version:
        pytest.fail(
            f"Microsoft 365 Agents Playground {installed} is installed, the tests need {version}: {install}",
            pytrace=False,
        )
    return binary


def environment(**values: str) -> dict[str, str]:
    """This process's environment without the settings that would change what is tested (a
    developer's FORUMBOT_*, or a playground config or log path elsewhere), plus `values`."""
    ours = ("FORUMBOT_", "DATABASE_URL", "MICROSOFT_APP", "MicrosoftApp", "M365_AGENTS_PLAYGROUND_")
    ours += ("TEAMSAPPTESTER_", "TEAMS_APP_TEST_TOOL_", "BOT_ENDPOINT", "SEND_INSTALLATION_ACTIVITY")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(ours)}, **values}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Service:
    """A subprocess in a process group of its own, with its output in a file."""

    name: str
    process: subprocess.Popen[bytes]
    output: Path

    @classmethod
    def start(cls, name: str, command: list[str], cwd: Path, env: dict[str, str]) -> Service:
        output = cwd / f"{name}.out"
        with output.open("wb") as sink:
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        return cls(name, process, output)

    def tail(self, lines: int = 40) -> str:
        """The last lines of its output, without the scheduler's line every run of a job."""
        try:
            text = self.output.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join([line for line in text.splitlines() if "apscheduler" not in line][-lines:])

    def check_running(self, extra: str = "") -> None:
        if self.process.poll() is not None:
            pytest.fail(
                f"{self.name} exited with status {self.process.returncode}:\n{self.tail()}{extra}",
                pytrace=False,
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
            except ProcessLookupError:
                pass


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def wait_until(condition: Callable[[], Any], service: Service, what: str, extra: Callable[[], str]) -> Any:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        service.check_running(extra())
        time.sleep(0.05)
    pytest.fail(
        f"{service.name}: {what} not within {STARTUP_TIMEOUT:.0f} s:\n{service.tail()}{extra()}",
        pytrace=False,
    )


@dataclass
class Stack:
    """A running bot and playground."""

    bot_url: str
    playground_url: str
    config: dict[str, Any]  # the playground's configuration, as it parsed it
    bot: Service
    playground: Service
    playground_log: Path  # the playground's own log, where config errors go

    def diagnose(self) -> str:
        return (
            f"\n--- forumbot ({self.bot.output}) ---\n{self.bot.tail(25)}"
            f"\n--- playground ({self.playground_log}) ---\n{tail_of(self.playground_log, 25)}"
        )


def tail_of(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="module")
def forum_admins() -> Callable[[dict[str, Any]], list[str]]:
    """Who FORUMBOT_ADMIN_IDS names, given the playground's config: its current user. A module
    overrides this fixture to play someone else."""
    return lambda config: [config["currentUser"]["aadObjectId"]]


@pytest.fixture(scope="module")
def stack(
    playground_binary: Path,
    forum_admins: Callable[[dict[str, Any]], list[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """`forumbot run` on a free port with a fresh SQLite database, and the playground in a copy of
    the playground folder, pointed at it. Both are stopped (their process groups) at the end."""
    workdir = tmp_path_factory.mktemp("playground-e2e")
    folder = workdir / "playground"
    shutil.copytree(PLAYGROUND_FOLDER, folder)
    bot_port, playground_port = free_port(), free_port()
    bot_url = f"http://127.0.0.1:{bot_port}"
    started: list[Service] = []
    try:
        playground_log = folder / "devTools" / "m365agentsplayground.log"
        command = [str(playground_binary), "-e", f"{bot_url}/api/messages", "-c", "msteams"]
        command += ["-p", str(playground_port), "--disable-telemetry"]
        playground = Service.start("playground", command, folder, environment(TEAMSAPPTESTER_BROWSER="none"))
        started.append(playground)
        log_tail = lambda: f"\n--- {playground_log} ---\n{tail_of(playground_log, 30)}"  # noqa: E731
        # It takes another port when the one asked for is taken, and says which.
        listening = wait_until(
            lambda: re.search(r"^Listening on (\d+)$", playground.tail(), re.M),
            playground,
            "listening",
            log_tail,
        )
        playground_url = f"http://127.0.0.1:{listening.group(1)}"
        wait_until(
            lambda: get(playground_url + "/_debug/ping") == (200, b"pong"), playground, "ping", log_tail
        )
        errors = re.findall(r"^error .*", tail_of(playground_log, 200), re.M)
        if errors:
            pytest.fail(f"the playground's log reports errors:\n{chr(10).join(errors)}", pytrace=False)
        # testConfig, unlike config, does not wait for the bot to answer first.
        config = json.loads(get(playground_url + "/_internal/v1/testConfig")[1])["config"]

        database = workdir / "forumbot.db"
        bot = Service.start(
            "forumbot",
            [str(Path(sys.executable).parent / "forumbot"), "run", "--port", str(bot_port)],
            workdir,  # no .env here
            environment(
                DATABASE_URL=f"sqlite:///{database}",
                FORUMBOT_ENV="development",
                FORUMBOT_ADMIN_IDS=",".join(forum_admins(config)),
                FORUMBOT_ALLOWED_TENANTS=config["tenantId"],
                FORUMBOT_OUTBOX_INTERVAL_SECONDS="0.2",
            ),
        )
        started.append(bot)
        wait_until(lambda: get(bot_url + "/readyz")[0] == 200, bot, "ready", lambda: "")
        yield Stack(bot_url, playground_url, config, bot, playground, playground_log)
    finally:
        for service in reversed(started):
            service.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def connected(stack: Stack) -> AsyncIterator[Playground]:
    client = Playground(stack.playground_url, stack.config, stack.diagnose)
    await client.connect()
    yield client
    await client.close()


@pytest_asyncio.fixture(loop_scope="module")
async def playground(connected: Playground) -> Playground:
    """The playground, with nothing left over from the previous test: no unread stream frames and
    no flow open in the personal chat."""
    connected.forget()
    await connected.say("avbryt")
    return connected


@pytest.fixture(scope="module")
def bot_database(stack: Stack) -> Path:
    """The SQLite file of the module's bot (it runs in the folder that holds its output)."""
    return stack.bot.output.parent / "forumbot.db"
