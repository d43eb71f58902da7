"""Runs one turn: one unit of work, the dispatch table, and once-only effects per activity id."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import Outcome, Posted, Roster, Turn
from bot.dialogs.general import welcome
from bot.dialogs.router import Ctx, Router, active_flow, run_state
from bot.domain.members import MemberView
from bot.domain.text import command_words
from bot.i18n import Translator, effective_language
from bot.services.forum import ForumService
from bot.settings import Settings
from bot.storage.db import unit_of_work
from bot.storage.proposals import CardCopies
from bot.storage.repositories import ProcessedActivities

log = logging.getLogger(__name__)

# Words that work inside any flow instead of being taken as the flow's answer.
_GLOBAL = ("hjälp", "help", "avbryt", "cancel")


class Engine:
    """Turns in, outcomes out. Knows nothing of Teams' wire format."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        router: Router,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.router = router
        self.clock = clock

    def translator(self, turn: Turn, member: MemberView | None = None) -> Translator:
        """The member's chosen language, else the turn's Teams locale."""
        chosen = member.language if member is not None else None
        return Translator(effective_language(chosen, turn.locale, self.settings.default_language))

    async def on_message(self, turn: Turn, state: dict[str, Any], roster: Roster) -> Outcome:
        """Handle a message or card submit; `state` is updated only when the turn commits."""
        return await self._once(turn, state, lambda ctx: self._dispatch(ctx), roster)

    async def on_installed(self, turn: Turn, roster: Roster) -> Outcome:
        """The bot was added to a personal chat, a group chat or a team: say hello."""
        return await self._once(turn, {}, lambda ctx: welcome(ctx, self.router), roster)

    async def remember_posted(self, posted: list[Posted]) -> None:
        """Keep where tracked cards landed, so that they can be updated in place later."""
        async with unit_of_work(self.sessions) as session:
            copies = CardCopies(session)
            for item in posted:
                await copies.add_tracked(item.track, item.conversation_id, item.activity_id, item.reference)

    async def _once(self, turn: Turn, state: dict[str, Any], handler: Any, roster: Roster) -> Outcome:
        working_state = copy.deepcopy(state)
        try:
            async with unit_of_work(self.sessions) as session:
                processed = ProcessedActivities(session)
                if turn.activity_id and await processed.seen(turn.conversation_id, turn.activity_id):
                    log.info("activity %s delivered again; effects skipped", turn.activity_id)
                    return Outcome(duplicate=True)
                forum = ForumService(session, self.settings)
                member = await forum.identify(turn.user)
                ctx = Ctx(
                    turn=turn,
                    session=session,
                    settings=self.settings,
                    t=self.translator(turn, member),
                    forum=forum,
                    member=member,
                    roster=roster,
                    state=working_state,
                    clock=self.clock,
                )
                if member is not None:
                    await forum.remember_personal_chat(member, turn)
                await handler(ctx)
                if turn.activity_id:
                    await processed.mark(turn.conversation_id, turn.activity_id)
        except IntegrityError:
            # A concurrent delivery of the same activity committed first.
            if turn.activity_id:
                async with unit_of_work(self.sessions) as session:
                    if await ProcessedActivities(session).seen(turn.conversation_id, turn.activity_id):
                        return Outcome(duplicate=True)
            raise
        state.clear()
        state.update(working_state)
        return ctx.outcome

    async def _dispatch(self, ctx: Ctx) -> None:
        value = ctx.turn.value
        if isinstance(value, dict) and value:
            action = value.get("action")
            handler = self.router.actions.get(action) if isinstance(action, str) else None
            if handler is None:
                ctx.say(ctx.t("common.bad_card"))
                return
            await handler(ctx)
            return
        words = command_words(ctx.turn.text)
        flow = active_flow(ctx, self.router)
        if flow is not None and not any(words == w or words.startswith(w + " ") for w in _GLOBAL):
            await run_state(ctx, *flow)
            return
        matched = self.router.match(words)
        if matched is None:
            ctx.say(ctx.t("common.unknown", text=words[:40]) if words else ctx.t("common.empty"))
            return
        command, rest = matched
        if not self.router.allowed(command, ctx):
            ctx.say(ctx.t("common.not_allowed"))
            return
        ctx.args = rest
        await command.handler(ctx)
