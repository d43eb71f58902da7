"""A local HTTP server that plays the Bot Connector: the only stand-in for Microsoft's cloud.

It runs on its own thread and event loop, so that it answers even while the bot's loop is busy
(botbuilder fetches OpenID metadata with a blocking call). It records what the bot sends,
updates and deletes, answers roster calls, serves OpenID metadata and signing keys, and can be
told to fail the next requests with a status (and Retry-After) or to hang.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Fault:
    status: int
    retry_after: float | None = None
    times: int = 1
    delay: float = 0.0


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
    # seconds every successful post or update takes (a slow Teams, for shutdown tests)
    send_delay: float = 0.0

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
