"""Who is in a conversation, from the Bot Connector's roster API."""

from __future__ import annotations

import asyncio
import logging

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from bot.conversation import RosterEntry

log = logging.getLogger(__name__)

# seconds a roster lookup may take: a registration goes on without it rather than wait
TIMEOUT = 5.0


class TeamsRoster:
    def __init__(self, context: TurnContext) -> None:
        self.context = context

    async def member(self, teams_id: str) -> RosterEntry | None:
        try:
            account = await asyncio.wait_for(TeamsInfo.get_member(self.context, teams_id), TIMEOUT)
        except Exception as error:  # the roster is a nicety: name and email from the activity suffice
            log.warning("roster lookup failed: %s", error)
            return None
        if account is None:
            return None
        return RosterEntry(
            teams_id=account.id or teams_id,
            aad_object_id=account.aad_object_id,
            name=account.name or "",
            email=account.email or account.user_principal_name,
        )
