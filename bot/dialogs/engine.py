"""Runs one turn: one unit of work, the dispatch table, and once-only effects per activity id."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import Outcome, Posted, Reply, Roster, RosterEntry, Turn
from bot.dialogs.help import welcome
from bot.dialogs.router import Ctx, Router, active_flow, permits, run_state
from bot.domain.members import MemberView
from bot.domain.text import command_words
from bot.i18n import Translator, effective_language
from bot.services.conversations import ConversationService
from bot.services.files import FileService
from bot.services.membership import MembershipService
from bot.services.work import unit_of_work
from bot.settings import Settings

log = logging.getLogger(__name__)

# Words that work inside any flow instead of being taken as the flow's answer.
_GLOBAL = ("hjälp", "help", "avbryt", "cancel")


class RosterNeeded(Exception):
    """A turn asked who someone is: answered outside the turn's transaction, then the turn reruns."""

    def __init__(self, teams_id: str) -> None:
        super().__init__(teams_id)
        self.teams_id = teams_id


@dataclass
class PrefetchedRoster:
    """The roster as far as it was fetched before this attempt of the turn."""

    entries: dict[str, RosterEntry | None] = field(default_factory=dict)

    async def member(self, teams_id: str) -> RosterEntry | None:
        if teams_id not in self.entries:
            raise RosterNeeded(teams_id)
        return self.entries[teams_id]


class Engine:
    """Turns in, outcomes out. Knows nothing of Teams' wire format."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        router: Router,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        files: FileService | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.router = router
        self.clock = clock
        self.files = files

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
        try:
            async with unit_of_work(self.sessions) as session:
                await ConversationService(session).remember_posted(posted)
        except Exception:  # the turn itself is saved; only later in-place updates of these cards suffer
            log.exception("could not keep where %d cards were posted", len(posted))

    async def _once(self, turn: Turn, state: dict[str, Any], handler: Any, roster: Roster) -> Outcome:
        """Run the turn in one short transaction. A turn that needs the roster is rolled back, the
        roster is asked with no transaction open, and the turn runs again with the answer."""
        known = PrefetchedRoster()
        raced = False
        for _ in range(4):
            try:
                return await self._attempt(turn, state, handler, known)
            except RosterNeeded as need:
                known.entries[need.teams_id] = await roster.member(need.teams_id)
            except IntegrityError:
                if raced:
                    raise
                # A concurrent turn committed first (the same activity delivered twice, or the same
                # form submitted twice): run once more, now seeing what it did.
                log.info("turn %s lost a race; running it again", turn.activity_id)
                raced = True
        raise RuntimeError("a turn asked for the roster too many times")

    async def _attempt(self, turn: Turn, state: dict[str, Any], handler: Any, roster: Roster) -> Outcome:
        working_state = copy.deepcopy(state)
        async with unit_of_work(self.sessions) as session:
            conversations = ConversationService(session)
            if await conversations.seen(turn):
                log.info("activity %s delivered again; effects skipped", turn.activity_id)
                # its effects were had once; nothing to say again, but a button must hear back
                return Outcome(answer=self.translator(turn)("common.done") if turn.invoke else None)
            membership = MembershipService(session, self.settings)
            member = await membership.identify(turn.user)
            ctx = Ctx(
                turn=turn,
                session=session,
                settings=self.settings,
                t=self.translator(turn, member),
                membership=membership,
                member=member,
                roster=roster,
                state=working_state,
                clock=self.clock,
                files=self.files,
            )
            if member is not None:
                await membership.remember_personal_chat(member, turn)
            await handler(ctx)
            notes = self._answer_notes(ctx) if turn.invoke else []
            sent = await self._keep_private(ctx, conversations) if ctx.shared_submit else 0
            if turn.invoke:
                ctx.outcome.answer = "\n\n".join(notes) or ctx.t(
                    "common.sent_privately" if sent else "common.done"
                )
            await conversations.mark(turn)
        state.clear()
        state.update(working_state)
        return ctx.outcome

    @staticmethod
    def _answer_notes(ctx: Ctx) -> list[str]:
        """An Action.Execute's texts (a refusal, a note) go back to the member who pressed it, on
        the card; its cards go where a submit's would."""
        notes = [
            r.text for r in ctx.outcome.replies if r.card is None and r.text and not r.update_activity_id
        ]
        ctx.outcome.replies = [r for r in ctx.outcome.replies if r.card is not None or r.update_activity_id]
        return notes

    @staticmethod
    async def _keep_private(ctx: Ctx, conversations: ConversationService) -> int:
        """A button pressed in a chat others read: only the card itself changes there; every other
        reply goes to the member's personal chat. Returns how many went there."""
        stays, private = [], []
        for reply in ctx.outcome.replies:
            if reply.update_activity_id and await conversations.may_replace(ctx.turn, reply):
                stays.append(reply)
            else:
                private.append(Reply(text=reply.text, card=reply.card, track=reply.track))
        ctx.outcome.replies = stays
        return await conversations.send_privately(ctx.member, ctx.turn, private)

    async def _card_action(self, ctx: Ctx, value: dict[str, Any]) -> None:
        """A card's button: its route, who may press it, then its data typed, then the handler."""
        action = value.get("action")
        route = self.router.actions.get(action) if isinstance(action, str) else None
        if route is None:
            ctx.say(ctx.t("common.bad_card"))
            return
        if not permits(route.access, ctx):
            ctx.say(ctx.t("common.not_allowed"))
            return
        try:
            data = route.data.model_validate(value)
        except ValidationError:
            # Never echoed: what a forged or stale card carried may be anything.
            ctx.say(ctx.t("common.bad_card"))
            return
        await route.handler(ctx, data)

    async def _dispatch(self, ctx: Ctx) -> None:
        value = ctx.turn.value
        if isinstance(value, dict) and value:
            await self._card_action(ctx, value)
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
