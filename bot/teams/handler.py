"""The Teams activity handler: converts activities to turns and sends back what the engine says."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import InvokeResponse, PrivateConversationState, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import ChannelAccount

from bot.conversation import Outcome, Posted, Turn
from bot.dialogs.engine import Engine
from bot.teams.convert import invoke_answer, reference_of, to_activity, to_execute_turn, to_turn
from bot.teams.roster import TeamsRoster

log = logging.getLogger(__name__)

# turn_state key: the turn's effects are committed
SAVED = "forumbot.saved"


class ForumbotHandler(TeamsActivityHandler):
    def __init__(self, engine: Engine, state: PrivateConversationState) -> None:
        self.engine = engine
        self.state = state
        self.dialog_state = state.create_property("dialog")

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self.state.save_changes(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """A typed message or an Action.Submit from a card."""
        await self._run(turn_context, to_turn(turn_context.activity))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        """An Action.Execute from a card (Universal Actions) runs as a card action; the answer (a
        text, or a card in place of the pressed one) goes back in the invoke response, to the
        member who pressed the button."""
        if turn_context.activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        outcome = await self._run(turn_context, to_execute_turn(turn_context.activity), stateless=True)
        return InvokeResponse(status=200, body=invoke_answer(outcome.answer or "", outcome.answer_card))

    async def _run(self, turn_context: TurnContext, turn: Turn, *, stateless: bool = False) -> Outcome:
        """`stateless`: an Action.Execute acts on its card's data alone and starts no flow (a typed
        conversation such as registration), so no flow state is read or written for it."""
        if stateless:
            outcome = await self.engine.on_message(turn, {}, TeamsRoster(turn_context))
            turn_context.turn_state[SAVED] = True
            await self._send(turn_context, outcome)
            return outcome
        # No default on reading: botbuilder would store it at once and read the storage again.
        stored = await self.dialog_state.get(turn_context)
        dialog: dict[str, Any] = stored if isinstance(stored, dict) else {}
        outcome = await self.engine.on_message(turn, dialog, TeamsRoster(turn_context))
        turn_context.turn_state[SAVED] = True  # from here on, a failure must not say nothing was saved
        if dialog or stored is not None:  # a turn that started no flow leaves no state behind
            await self.dialog_state.set(turn_context, dialog)
        await self._send(turn_context, outcome)
        return outcome

    async def _send(self, turn_context: TurnContext, outcome: Outcome) -> None:
        posted = await send(turn_context, outcome)
        if posted:
            await self.engine.remember_posted(posted)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Welcome when the bot itself is added to a chat or a team; ignore other roster changes."""
        activity = turn_context.activity
        added: list[ChannelAccount] = activity.members_added or []
        if any(member.id == activity.recipient.id for member in added):
            turn = to_turn(activity)
            outcome = await self.engine.on_installed(turn, TeamsRoster(turn_context))
            await send(turn_context, outcome)


async def send(turn_context: TurnContext, outcome: Outcome) -> list[Posted]:
    """Send the replies; return where the tracked cards landed."""
    posted: list[Posted] = []
    for reply in outcome.replies:
        activity = to_activity(reply)
        activity_id: str | None = None
        if reply.update_activity_id:
            try:
                await turn_context.update_activity(activity)
                activity_id = reply.update_activity_id
            except Exception as error:  # the original may be gone: send the card anew
                log.warning("update of %s failed (%s); sending anew", reply.update_activity_id, error)
                activity.id = None
        if activity_id is None:
            response = await turn_context.send_activity(activity)
            activity_id = getattr(response, "id", None)
        if reply.track and activity_id:
            turn = turn_context.activity
            posted.append(Posted(reply.track, turn.conversation.id, activity_id, reference_of(turn)))
    return posted
