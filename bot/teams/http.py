"""POST /api/messages: the Bot Framework protocol, with every malformed request refused by status."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from botbuilder.core import Bot, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from bot import telemetry
from bot.logs import log_context
from bot.settings import Settings
from bot.teams.convert import tenant_of

log = logging.getLogger(__name__)


# Deeper than any activity Teams sends (a card submit's value is flat, a card a few levels deep),
# and shallow enough that no later recursive walk (msrest, copy, json) runs out of stack.
MAX_DEPTH = 64


def problem(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def _unfit(data: object) -> str | None:
    """Why parsed JSON may not go further: nested too deep, or a string (value or key) that is
    not Unicode text, i.e. holds a lone surrogate, which JSON's \\uD800 escapes can carry and
    which would fail only later, when encoded for the database or the connector."""
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            strings: Iterable[str] = (node,)
        elif isinstance(node, dict | list):
            if depth >= MAX_DEPTH:
                return "body is nested too deeply"
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
            strings = node.keys() if isinstance(node, dict) else ()
        else:
            continue
        for text in strings:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return "body holds a string that is not valid Unicode (a lone surrogate)"
    return None


def parse_activity(body: bytes) -> Activity | str:
    """The activity in `body`, or the reason it is not one."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "body is not JSON"
    except RecursionError:  # the decoder recurses once per level of nesting
        return "body is nested too deeply"
    unfit = _unfit(data)
    if unfit:
        return unfit
    if not isinstance(data, dict):
        return "body is not a JSON object"
    if not isinstance(data.get("type"), str) or not data["type"]:
        return "activity has no type"
    conversation = data.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
        return "activity has no conversation id"
    if not isinstance(data.get("serviceUrl"), str) or not data["serviceUrl"].startswith("http"):
        return "activity has no serviceUrl"
    for field in ("from", "recipient"):
        if field in data and not isinstance(data[field], dict | None):
            return f"activity field {field} is malformed"
    try:
        activity = Activity().deserialize(data)
    except Exception:  # msrest raises several kinds on wrong types
        return "activity does not match the Bot Framework schema"
    return activity


def messages_handler(
    settings: Settings, adapter: CloudAdapter, bot: Bot
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    # at most this many turns at once; the rest wait in line (asyncio's semaphore wakes them in
    # the order they came), so that a burst is served first come first served
    in_flight = asyncio.Semaphore(settings.turns_in_flight)

    async def messages(request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return problem(415, "Content-Type must be application/json")
        if request.content_length is not None and request.content_length > settings.max_body_bytes:
            return problem(413, "body too large")
        async with in_flight:  # reading and parsing too: the place in line is the arrival's
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                return problem(413, "body too large")
            parsed = parse_activity(body)
            if isinstance(parsed, str):
                return problem(400, parsed)
            started = time.perf_counter()
            with log_context(activity_id=parsed.id, conversation_id=parsed.conversation.id):
                response = await handle(parsed, request)
        telemetry.TURN_DURATION.record(
            (time.perf_counter() - started) * 1000,
            {"activity_type": str(parsed.type), "status": response.status},
        )
        return response

    async def handle(activity: Activity, request: web.Request) -> web.StreamResponse:
        auth_header = request.headers.get("Authorization", "")
        try:
            auth = await adapter.bot_framework_authentication.authenticate_request(activity, auth_header)
        except Exception as error:  # every failure to authenticate is the caller's problem
            log.warning("refused unauthenticated activity: %s", error)
            return problem(401, "unauthorized")
        tenant = tenant_of(activity)
        if settings.allowed_tenants and tenant not in settings.allowed_tenants:
            log.warning("refused activity %s from tenant %s (not on the allow-list)", activity.id, tenant)
            return problem(403, "tenant not allowed")
        invoke_response = await adapter.process_activity(auth, activity, bot.on_turn)
        if invoke_response:
            body = invoke_response.body
            # our own answers are plain JSON already; botbuilder's are its models
            data = body if isinstance(body, dict | None) else serializer_helper(body)
            return web.json_response(data=data, status=invoke_response.status)
        return web.Response(status=201)

    return messages
