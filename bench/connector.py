"""A minimal, unthrottled fake Bot Connector for the benchmarks, run as a process of its own.

Answers what a bot sends (POST /v3/conversations/{id}/activities[/{id}], PUT of an activity) with
{"id": ...}, roster calls with a made-up member, and GET /bench/stats with request counts. It records
nothing else, so that it costs the same however long a benchmark runs.
"""

from __future__ import annotations

import argparse
import itertools
import uuid
from collections import Counter

from aiohttp import web

counts: Counter[str] = Counter()
ids = itertools.count(1)


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
    await request.read()
    counts[request.method] += 1
    if request.method == "PUT":
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


async def stats(_: web.Request) -> web.Response:
    return web.json_response(dict(counts))


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
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake Bot Connector for the benchmarks.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(app(), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
