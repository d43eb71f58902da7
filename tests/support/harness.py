"""The real Forumbot app on a loopback port, driven over HTTP as Teams would drive it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import GLUE, SESSIONS, create_app
from bot.settings import Settings
from tests.support import teams
from tests.support.connector import FakeConnector
from tests.support.teams import TeamsUser


class FakeClock:
    """Time that moves only when a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class Response:
    status: int
    body: Any
    sent: list[dict[str, Any]]
    updated: list[dict[str, Any]]

    @property
    def texts(self) -> list[str]:
        return [a.get("text", "") for a in self.sent if a.get("text")]

    @property
    def cards(self) -> list[dict[str, Any]]:
        return cards_of(self.sent)

    @property
    def updated_cards(self) -> list[dict[str, Any]]:
        return cards_of(self.updated)


def cards_of(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        attachment["content"]
        for activity in activities
        for attachment in activity.get("attachments") or []
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def card_text(card: dict[str, Any]) -> str:
    """Every visible string of a card, for assertions on what a user reads."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "value", "label"):
                if isinstance(node.get(key), str):
                    parts.append(node[key])
            for value in node.values():
                if isinstance(value, list | dict):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(parts)


def nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every element of a card, depth first."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from nodes(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from nodes(item)


def actions_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in nodes(card) if node.get("type") == "Action.Submit"]


def input_blocks(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every input of a card by its id."""
    return {n["id"]: n for n in nodes(card) if str(n.get("type", "")).startswith("Input.") and "id" in n}


def inputs_of(card: dict[str, Any]) -> dict[str, Any]:
    """Every input of a card by its id, with the value it shows."""
    return {key: block.get("value") for key, block in input_blocks(card).items()}


class Harness:
    def __init__(self, settings: Settings, connector: FakeConnector, clock: FakeClock) -> None:
        self.settings = settings
        self.connector = connector
        self.clock = clock
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.http: aiohttp.ClientSession | None = None
        self.app: web.Application | None = None
        # scheduled-task handlers the app gets besides its own (tests of the schedule)
        self.extra_tasks: dict[str, Any] = {}

    async def start(self) -> None:
        self.app = create_app(
            self.settings, clock=self.clock, run_scheduler=False, extra_tasks=self.extra_tasks
        )
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        self.http = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self.http:
            await self.http.close()
        if self.runner:
            await self.runner.cleanup()
        self.runner = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def sessions(self) -> Any:
        assert self.app is not None
        return self.app[SESSIONS]

    async def drain_outbox(self) -> int:
        assert self.app is not None
        return await self.app[GLUE].outbox.drain()

    # Raw HTTP ---------------------------------------------------------------------
    async def post_raw(
        self, data: bytes | str, headers: dict[str, str] | None = None, path: str = "/api/messages"
    ) -> tuple[int, Any]:
        assert self.http is not None
        async with self.http.post(self.url + path, data=data, headers=headers or {}) as response:
            try:
                body: Any = await response.json(content_type=None)
            except Exception:
                body = await response.text()
            return response.status, body

    async def get(self, path: str) -> tuple[int, Any]:
        assert self.http is not None
        async with self.http.get(self.url + path) as response:
            return response.status, await response.json(content_type=None)

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
        assert self.http is not None
        before = len(self.connector.requests)
        async with self.http.post(
            self.url + "/api/messages", json=activity, headers=headers or {}
        ) as response:
            try:
                body: Any = await response.json(content_type=None)
            except Exception:
                body = None
            status = response.status
        new = self.connector.requests[before:]
        return Response(
            status,
            body,
            [dict(r.body, id=r.assigned_id) for r in new if r.method == "POST"],
            [dict(r.body, id=r.activity_id) for r in new if r.method == "PUT"],
        )

    # As a Teams user --------------------------------------------------------------
    def builder(self, where: str) -> Callable[..., dict[str, Any]]:
        return {"personal": teams.personal, "channel": teams.channel, "group": teams.group_chat}[where]

    async def say(self, sender: TeamsUser, text: str, *, where: str = "personal", **kw: Any) -> Response:
        return await self.post(teams.message(self.builder(where), self.connector.url, sender, text, **kw))

    async def submit(
        self,
        sender: TeamsUser,
        value: dict[str, Any],
        *,
        reply_to_id: str | None = None,
        where: str = "personal",
        **kw: Any,
    ) -> Response:
        return await self.post(
            teams.submit(self.builder(where), self.connector.url, sender, value, reply_to_id, **kw)
        )

    async def execute(
        self,
        sender: TeamsUser,
        action: dict[str, Any],
        *,
        reply_to_id: str | None = None,
        where: str = "personal",
        **kw: Any,
    ) -> Response:
        """Press an Action.Execute button (`action` as the card has it); the invoke's answer is
        the response's body."""
        return await self.post(
            teams.execute(self.builder(where), self.connector.url, sender, action, reply_to_id, **kw)
        )

    async def install(self, sender: TeamsUser, *, where: str = "personal", **kw: Any) -> Response:
        return await self.post(teams.installed(self.builder(where), self.connector.url, sender, **kw))


class HarnessThread:
    """A Harness on a thread of its own, for synchronous drivers such as hypothesis."""

    def __init__(self, harness: Harness) -> None:
        import asyncio
        import threading

        self.harness = harness
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> Harness:
        import asyncio

        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.harness.start(), self._loop).result(60)
        return self.harness

    def run(self, coroutine: Any, timeout: float = 60) -> Any:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self) -> None:
        self.run(self.harness.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
