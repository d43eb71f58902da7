"""A minimal fake Bot Connector for the benchmarks, run as a process of its own.

Answers what a bot sends (POST /v3/conversations/{id}/activities[/{id}], PUT of an activity) with
{"id": ...}, roster calls with a made-up member, and GET /bench/stats with request counts. It records
nothing else but the latest body PUT to each activity (GET /bench/last?activity=ID), so that it
costs the same however long a benchmark runs. Unthrottled by default; with
--teams-limits it enforces Teams' documented limits for bots (per conversation 7 a second, 8 in
2 s and 60 in 30 s; 50 a second per app per tenant) and answers 429 with Retry-After beyond them,
and the stats say when each conversation's first message arrived.
"""

from __future__ import annotations

import argparse
import itertools
import time
import uuid
from collections import Counter, deque

from aiohttp import web

counts: Counter[str] = Counter()
ids = itertools.count(1)
LIMITS = {"on": False}
CONVERSATION_WINDOWS = ((7, 1.0), (8, 2.0), (60, 30.0))
APP_WINDOWS = ((50, 1.0),)
sent_to: dict[str, deque[float]] = {}
sent_all: deque[float] = deque()
first_at: dict[str, float] = {}
last_at = {"any": 0.0}
last_put: dict[str, bytes] = {}


def over(times: deque[float], windows: tuple[tuple[int, float], ...], now: float) -> float:
    """Seconds until one more request fits every window; 0 when it fits now."""
    wait = 0.0
    for limit, seconds in windows:
        recent = [t for t in times if t > now - seconds]
        if len(recent) >= limit:
            wait = max(wait, recent[-limit] + seconds - now)
    return wait


def member(member_id: str) -> dict[str, str]:
    key = member_id.removeprefix("29:")
    return {
        "id": member_id,
        "aadObjectId": str(uuid.uuid5(uuid.NAMESPACE_DNS, key)),
        "name": f"Bench {key}",
        "givenName": "Bench",
        "email": f"{key}@example.se",
        "userPrincipalName": f"{key}@example.se",
    }


async def activity(request: web.Request) -> web.Response:
    body = await request.read()
    conversation = request.match_info["conversation_id"]
    now = time.time()
    if LIMITS["on"]:
        mine = sent_to.setdefault(conversation, deque(maxlen=60))
        wait = max(over(mine, CONVERSATION_WINDOWS, now), over(sent_all, APP_WINDOWS, now))
        if wait > 0:
            counts["429"] += 1
            return web.json_response(
                {"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": f"{max(wait, 0.1):.2f}"}
            )
        mine.append(now)
        sent_all.append(now)
        while len(sent_all) > 100:
            sent_all.popleft()
    first_at.setdefault(conversation, now)
    last_at["any"] = now
    counts[request.method] += 1
    if request.method == "PUT":
        last_put[request.match_info["activity_id"]] = body
        return web.json_response({"id": request.match_info["activity_id"]})
    return web.json_response({"id": f"activity-{next(ids)}"})


async def one_member(request: web.Request) -> web.Response:
    counts["member"] += 1
    return web.json_response(member(request.match_info["member_id"]))


async def members(request: web.Request) -> web.Response:
    counts["members"] += 1
    return web.json_response([member("29:bench-roster")])


async def paged(request: web.Request) -> web.Response:
    counts["members"] += 1
    return web.json_response({"members": [member("29:bench-roster")]})


async def stats(request: web.Request) -> web.Response:
    data: dict[str, object] = dict(counts)
    wanted = request.query.get("first")
    if wanted:
        data["first_at"] = first_at.get(wanted)
    data["last_at"] = last_at["any"]
    return web.json_response(data)


async def last(request: web.Request) -> web.Response:
    body = last_put.get(request.query.get("activity", ""))
    if body is None:
        return web.json_response({}, status=404)
    return web.Response(body=body, content_type="application/json")


def app() -> web.Application:
    application = web.Application()
    activities = "/v3/conversations/{conversation_id}/activities"
    application.router.add_post(activities, activity)
    application.router.add_post(activities + "/{activity_id}", activity)
    application.router.add_put(activities + "/{activity_id}", activity)
    application.router.add_get("/v3/conversations/{conversation_id}/members", members)
    application.router.add_get("/v3/conversations/{conversation_id}/pagedmembers", paged)
    application.router.add_get("/v3/conversations/{conversation_id}/members/{member_id}", one_member)
    application.router.add_get("/bench/stats", stats)
    application.router.add_get("/bench/last", last)
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake Bot Connector for the benchmarks.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--teams-limits", action="store_true", help="answer 429 beyond Teams' limits")
    args = parser.parse_args()
    LIMITS["on"] = args.teams_limits
    web.run_app(app(), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
