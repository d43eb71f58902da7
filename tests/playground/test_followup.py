"""The quarter's follow-up in the playground: the demo forum's past is seeded (`forumbot demo
--history`, while the bot runs), and Anna (samordnare at MHF) asks `uppföljning kvartal` in her
chat: she gets the card with its key figures and chart, and the Excel file, the CSV and the chart
behind its links open. Asked in the Forum channel, the card counts only what every member may see."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.services.followup import CHART_SIZE
from tests.playground.client import Playground, nodes
from tests.playground.test_as_administrator import join_forum
from tests.support.texts import SV

pytestmark = [pytest.mark.playground, pytest.mark.asyncio(loop_scope="module")]

REPO = Path(__file__).resolve().parents[2]


def summary(card: dict) -> dict[str, str]:
    (facts, *_) = [n for n in nodes(card) if n.get("type") == "FactSet"]
    return {fact["title"]: fact["value"] for fact in facts["facts"]}


async def test_a_coordinator_gets_the_quarters_follow_up_with_chart_excel_and_csv(
    playground: Playground, bot_database: Path
) -> None:
    await join_forum(playground)
    seeded = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--history", "--service-url", f"{playground.url}/_connector",
        env={**os.environ, "DATABASE_URL": f"sqlite:///{bot_database}", "FORUMBOT_ENV": "development"},
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(seeded.communicate(), 120)
    assert seeded.returncode == 0, err.decode()
    assert "Demo history" in out.decode()

    now = datetime.now(ZoneInfo("Europe/Stockholm"))
    quarter = SV("followup.quarter", number=(now.month - 1) // 3 + 1, year=now.year)
    card = (await playground.say("uppföljning kvartal")).only()
    assert SV("followup.title", period=quarter) in card.content
    figures = summary(card.card)
    assert int(figures[SV("followup.fig.proposals_made")]) > 0
    assert figures[SV("followup.fig.meetings")] != "0"

    # the chart travels in the card, and the card within Teams' limit of about 28 KB a message
    assert len(json.dumps(card.card, ensure_ascii=False).encode()) < 28_000
    (chart,) = [n for n in nodes(card.card) if n.get("type") == "Image"]
    assert chart["url"].startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(chart["url"].split(",", 1)[1]))).size == CHART_SIZE
    links = {a["title"]: a["url"] for a in card.card["actions"] if a["type"] == "Action.OpenUrl"}
    async with aiohttp.ClientSession() as http:
        bodies = {}
        for title in (SV("followup.excel"), SV("followup.csv"), SV("followup.png")):
            async with http.get(links[title]) as response:
                assert response.status == 200, title
                bodies[title] = await response.read()
    book = load_workbook(io.BytesIO(bodies[SV("followup.excel")]))
    sheet = book[SV("followup.table.summary")]
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert str(values[SV("followup.fig.proposals_made")]) == figures[SV("followup.fig.proposals_made")]
    rows = list(csv.reader(io.StringIO(bodies[SV("followup.csv")].decode("utf-8-sig")), delimiter=";"))
    assert [SV("followup.fig.proposals_made"), figures[SV("followup.fig.proposals_made")]] in rows
    assert bodies[SV("followup.csv")].startswith(b"\xef\xbb\xbf")
    assert Image.open(io.BytesIO(bodies[SV("followup.png")])).format == "PNG"

    # the card's buttons go to the quarter before, in place
    before = card.button(action="followup.show")
    previous = (await playground.submit(card, before)).only()
    assert SV("followup.title", period=quarter) not in previous.content
    assert SV("followup.fig.proposals_made") in previous.content

    # in the Forum channel: only what every member may see, so no more than Anna's own count
    channel = (await playground.say("uppföljning kvartal", playground.channels["Forum"])).only()
    assert SV("followup.card.channel_note") in channel.content
    forum_made = int(summary(channel.card)[SV("followup.fig.proposals_made")])
    assert 0 < forum_made <= int(figures[SV("followup.fig.proposals_made")])
