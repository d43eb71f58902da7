"""Everything that speaks Bot Framework, assembled in one object the app holds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from botbuilder.core import PrivateConversationState
from botbuilder.integration.aiohttp import CloudAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialogs.engine import Engine
from bot.services.notices import keep_card_copy
from bot.settings import Settings
from bot.teams.adapter import create_adapter
from bot.teams.delivery import OutboxWorker
from bot.teams.handler import ForumbotHandler
from bot.teams.http import messages_handler
from bot.teams.state_storage import DatabaseStorage


@dataclass
class TeamsGlue:
    adapter: CloudAdapter
    handler: ForumbotHandler
    outbox: OutboxWorker
    handle: Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_glue(
    settings: Settings,
    engine: Engine,
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Callable[[], datetime],
) -> TeamsGlue:
    adapter = create_adapter(settings)
    handler = ForumbotHandler(engine, PrivateConversationState(DatabaseStorage(sessions)))
    outbox = OutboxWorker(
        adapter,
        sessions,
        settings.app_id,
        clock=clock,
        global_rate=settings.outbox_global_rate,
        on_delivered=keep_card_copy,
    )
    return TeamsGlue(adapter, handler, outbox, messages_handler(settings, adapter, handler))
