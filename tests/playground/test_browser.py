"""The playground's own web page in headless Chromium: Anna types in the compose box, the bot's
registration card appears, she chooses her agency and clicks 'Send application', and the card is
replaced in place. browser_click.mjs does the clicking (playwright-core); this test checks that the
click reached the bot, through the playground's log stream and the bot's database.

Chromium (/usr/bin/chromium) and playwright-core (.tools/browser, pinned in setup_browser.sh) are
installed by tests/playground/setup_browser.sh. Without them this test fails; it does not skip.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.playground.client import BOT_APP, PLAYGROUND, Playground, card_text, cards_of
from tests.playground.conftest import REPO, Stack
from tests.support.texts import EN

pytestmark = [pytest.mark.playground, pytest.mark.asyncio(loop_scope="module")]

HERE = Path(__file__).resolve().parent
SETUP = HERE / "setup_browser.sh"
SCRIPT = HERE / "browser_click.mjs"
MODULES = REPO / ".tools" / "browser" / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")
BROWSER_TIMEOUT = 120.0  # the whole script: start Chromium, open the page, type, click, wait
PNG = b"\x89PNG\r\n\x1a\n"

MHF_EN = "City of Västerås – Environment and Health Administration"


@dataclass(frozen=True)
class Browser:
    node: str
    chromium: Path
    modules: Path


@pytest.fixture(scope="module")
def forum_admins() -> Callable[[dict[str, Any]], list[str]]:
    """Nobody: Anna applies like any inspector, so that the bot replaces the card she clicked."""
    return lambda config: []


@pytest.fixture(scope="session")
def browser() -> Browser:
    """Node.js, Chromium and playwright-core at the pinned version, or a failure that says how to
    install them."""
    install = f"run `{SETUP.relative_to(REPO)}`"
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is missing: install Node.js 20 or later", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is missing ({CHROMIUM}): {install} (Debian's chromium package)", pytrace=False)
    found = re.search(r"^PLAYWRIGHT_CORE_VERSION=(\S+)", SETUP.read_text(), re.M)
    assert found, f"{SETUP.name} names no PLAYWRIGHT_CORE_VERSION"
    package = MODULES / "playwright-core" / "package.json"
    if not package.exists():
        pytest.fail(f"playwright-core is not installed in .tools/browser: {install}", pytrace=False)
    installed = json.loads(package.read_text())["version"]
    if installed != found.group(1):
        pytest.fail(
            f"playwright-core {installed} is installed, the test needs {found.group(1)}: {install}",
            pytrace=False,
        )
    return Browser(node, CHROMIUM, MODULES)


def member_row(database: Path, aad_object_id: str) -> dict[str, Any] | None:
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute(
            "SELECT m.status, m.roles, a.code AS agency FROM members m JOIN agencies a ON a.id = m.agency_id"
            " WHERE m.aad_object_id = ?",
            (aad_object_id,),
        ).fetchone()
    return dict(row) if row else None


async def test_clicking_the_registration_card_in_the_browser_reaches_the_bot(
    browser: Browser,
    stack: Stack,
    playground: Playground,
    bot_database: Path,
    tmp_path: Path,
) -> None:
    screenshot = tmp_path / "registration.png"
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        browser.node,
        str(SCRIPT),
        stack.playground_url,
        str(screenshot),
        env={
            **os.environ,
            "BROWSER_MODULES": str(browser.modules),
            "CHROMIUM": str(browser.chromium),
            "BROWSER_PROFILE": str(tmp_path / "profile"),  # fresh: Chromium creates it
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), BROWSER_TIMEOUT)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
    took = time.monotonic() - started
    report = f"\n--- browser ({took:.1f} s) ---\n{err.decode(errors='replace')}{stack.diagnose()}"
    assert process.returncode == 0, f"browser_click.mjs exited with {process.returncode}{report}"
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["clicked"] == EN("registration.submit"), report  # the chat box sends en-US
    assert result["agency"] == MHF_EN, report
    assert EN("registration.pending", agency=MHF_EN) in result["replaced"], report

    # A picture of the chat with the card, not an empty page.
    assert screenshot.read_bytes()[:8] == PNG, f"not a PNG: {screenshot}"
    assert screenshot.stat().st_size > 20_000, f"suspiciously small screenshot: {screenshot}"

    # The playground delivered the click to the bot, as a submit of the card with the agency...
    delivered = await playground.log.take(
        lambda f: (
            (f.get("log") or {}).get("from") == PLAYGROUND
            and f["log"].get("to") == BOT_APP
            and (f["log"]["request"]["body"].get("value") or {}).get("action") == "register.submit"
        ),
        10,
        "the card's submit delivered to the bot",
        stack.diagnose,
    )
    activity = delivered["log"]["request"]["body"]
    assert activity["value"]["agency"] == "MHF"
    assert activity["from"]["aadObjectId"] == playground.me["aadObjectId"]
    assert 200 <= delivered["log"]["response"]["statusCode"] < 300
    # ...the bot replaced that very card in the personal chat...
    updated = await playground.conversation.take(
        lambda f: (
            f.get("action") == "updateMessage"
            and str(f["message"]["messageId"]) == str(activity["replyToId"])
        ),
        10,
        "the card replaced",
        stack.diagnose,
    )
    assert any(
        EN("registration.pending", agency=MHF_EN) in card_text(c)
        for c in cards_of(updated["message"].get("attachments"))
    )
    # ...and stored Anna's application.
    assert member_row(bot_database, playground.me["aadObjectId"]) == {
        "status": "pending",
        "roles": "inspector",
        "agency": "MHF",
    }
