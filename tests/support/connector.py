"""A local HTTP server that plays the Bot Connector: the only stand-in for Microsoft's cloud.

It runs on its own thread and event loop, so that it answers even while the bot's loop is busy
(botbuilder fetches OpenID metadata with a blocking call). It records what the bot sends,
updates and deletes, answers roster calls, serves OpenID metadata and signing keys, and can be
told to fail the next requests with a status (and Retry-After) or to hang. With `teams_limits` it
enforces Teams' documented limits for bots (per conversation 7 messages a second, 8 in 2 s and 60
in 30 s; 50 a second per app and tenant) and answers 429 with Retry-After beyond them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Fault:
    status: int
    retry_after: float | None = None
    times: int = 1
    delay: float = 0.0


CONVERSATION_WINDOWS = ((7, 1.0), (8, 2.0), (60, 30.0))
APP_WINDOWS = ((50, 1.0),)


def _over(times: deque[float], windows: tuple[tuple[int, float], ...], now: float) -> float:
    """Seconds until one more message fits every window; 0 when it fits now."""
    wait = 0.0
    for limit, seconds in windows:
        recent = [t for t in times if t > now - seconds]
        if len(recent) >= limit:
            wait = max(wait, recent[-limit] + seconds - now)
    return wait


@dataclass
class Recorded:
    method: str
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]
    authorization: str | None
    assigned_id: str | None = None


@dataclass
class RosterMember:
    id: str
    aad_object_id: str
    name: str
    email: str

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "aadObjectId": self.aad_object_id,
            "name": self.name,
            "email": self.email,
            "userPrincipalName": self.email,
            "givenName": self.name.split()[0],
        }


@dataclass
class FakeConnector:
    requests: list[Recorded] = field(default_factory=list)
    roster: dict[str, RosterMember] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    jwks: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # set when a roster lookup arrives; while `roster_gate` is set, lookups wait until it opens
    roster_asked: threading.Event = field(default_factory=threading.Event)
    roster_gate: threading.Event | None = None
    roster_lookups: int = 0  # lookups of one member that arrived
    # seconds every successful post or update takes (a slow Teams, for shutdown tests)
    send_delay: float = 0.0
    # Teams' rate limits enforced (429 with Retry-After beyond them), and how often they were
    teams_limits: bool = False
    throttled: int = 0
    _sent_to: dict[str, deque[float]] = field(default_factory=dict)
    _sent_all: deque[float] = field(default_factory=lambda: deque(maxlen=50))

    def limit_like_teams(self, on: bool = True) -> None:
        """Enforce Teams' limits (or stop), from a clean slate."""
        with self._lock:
            self.teams_limits = on
            self.throttled = 0
            self._sent_to.clear()
            self._sent_all.clear()

    def _throttle(self, conversation_id: str) -> float:
        """With `teams_limits`: seconds the sender must wait (and the request is refused), or 0
        (and the message counts towards the limits)."""
        if not self.teams_limits:
            return 0.0
        now = time.monotonic()
        with self._lock:
            mine = self._sent_to.setdefault(conversation_id, deque(maxlen=60))
            wait = max(_over(mine, CONVERSATION_WINDOWS, now), _over(self._sent_all, APP_WINDOWS, now))
            if wait > 0:
                self.throttled += 1
                return wait
            mine.append(now)
            self._sent_all.append(now)
            return 0.0

    def hold_roster(self) -> threading.Event:
        """Roster lookups wait until the returned event is set (or 30 s pass)."""
        self.roster_asked.clear()
        self.roster_gate = threading.Event()
        return self.roster_gate

    # What the bot did ---------------------------------------------------------------
    def sent(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Activities posted (new messages and replies), optionally to one conversation."""
        with self._lock:
            return [
                dict(r.body, id=r.assigned_id)
                for r in self.requests
                if r.method == "POST" and (conversation_id is None or r.conversation_id == conversation_id)
            ]

    def updated(self, conversation_id: str | None = None) -> list[Recorded]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.method == "PUT" and (conversation_id is None or r.conversation_id == conversation_id)
            ]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def fail(
        self, status: int, *, times: int = 1, retry_after: float | None = None, delay: float = 0.0
    ) -> None:
        with self._lock:
            self.faults.append(Fault(status, retry_after, times, delay))

    # Server -------------------------------------------------------------------------
    def _next_fault(self) -> Fault | None:
        with self._lock:
            if not self.faults:
                return None
            fault = self.faults[0]
            fault.times -= 1
            if fault.times <= 0:
                self.faults.pop(0)
            return fault

    async def _activity(self, request: web.Request) -> web.Response:
        if request.method in ("POST", "PUT"):
            wait = self._throttle(request.match_info["conversation_id"])
            if wait:
                return web.json_response(
                    {"error": {"code": "TooManyRequests", "message": "Teams' rate limit"}},
                    status=429,
                    headers={"Retry-After": str(math.ceil(wait))},
                )
        fault = self._next_fault()
        if fault:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return web.json_response(
                {"error": {"code": "Injected", "message": f"injected {fault.status}"}},
                status=fault.status,
                headers=headers,
            )
        body = await request.json() if request.can_read_body else {}
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        activity_id = request.match_info.get("activity_id")
        with self._lock:
            new_id = activity_id if request.method == "PUT" else f"activity-{next(self._ids)}"
            self.requests.append(
                Recorded(
                    request.method,
                    request.match_info["conversation_id"],
                    activity_id,
                    body,
                    request.headers.get("Authorization"),
                    new_id,
                )
            )
        if request.method == "DELETE":
            return web.Response(status=200)
        return web.json_response({"id": new_id})

    async def _member(self, request: web.Request) -> web.Response:
        with self._lock:
            self.roster_lookups += 1
        self.roster_asked.set()
        gate = self.roster_gate
        if gate is not None:
            await asyncio.to_thread(gate.wait, 30)
        member = self.roster.get(request.match_info["member_id"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)
        return web.json_response(member.json())

    async def _members(self, request: web.Request) -> web.Response:
        return web.json_response([m.json() for m in self.roster.values()])

    async def _paged(self, request: web.Request) -> web.Response:
        return web.json_response({"members": [m.json() for m in self.roster.values()]})

    async def _create_conversation(self, request: web.Request) -> web.Response:
        body = await request.json()
        member = (body.get("members") or [{}])[0].get("id", "someone")
        return web.json_response({"id": f"a:personal-{member}", "activityId": None})

    async def _openid(self, request: web.Request) -> web.Response:
        return web.json_response({"issuer": "https://api.botframework.com", "jwks_uri": f"{self.url}/keys"})

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": self.jwks})

    def app(self) -> web.Application:
        app = web.Application()
        activities = "/v3/conversations/{conversation_id}/activities"
        app.router.add_post(activities, self._activity)
        app.router.add_post(activities + "/{activity_id}", self._activity)
        app.router.add_put(activities + "/{activity_id}", self._activity)
        app.router.add_delete(activities + "/{activity_id}", self._activity)
        app.router.add_get("/v3/conversations/{conversation_id}/members", self._members)
        app.router.add_get("/v3/conversations/{conversation_id}/pagedmembers", self._paged)
        app.router.add_get("/v3/conversations/{conversation_id}/members/{member_id}", self._member)
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_get("/openid", self._openid)
        app.router.add_get("/keys", self._keys)
        return app


class ConnectorThread:
    """Runs a FakeConnector on 127.0.0.1 on a thread of its own."""

    def __init__(self, connector: FakeConnector) -> None:
        self.connector = connector
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.connector.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.connector.url = f"http://127.0.0.1:{port}"

    def start(self) -> FakeConnector:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake connector did not start")
        return self.connector

    def stop(self) -> None:
        async def _stop() -> None:
            if self._runner:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
