"""One dispatch table: typed commands by their words, card submits by their action id, and flows.

A flow is a small state machine kept in the conversation state: `{"flow", "state", "since"}`.
Each state handler returns the next state, or END. `avbryt`/`cancel` ends any flow, and a flow
left unanswered longer than the timeout is forgotten.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards.common import Card
from bot.conversation import Outcome, Reply, Roster, Turn
from bot.domain.members import MemberView, Role
from bot.i18n import Translator
from bot.services.files import FileService
from bot.services.membership import MembershipService
from bot.settings import Settings

END = "END"


@dataclass
class Ctx:
    """Everything a handler needs for one turn."""

    turn: Turn
    session: AsyncSession
    settings: Settings
    t: Translator
    membership: MembershipService
    member: MemberView | None
    roster: Roster
    state: dict[str, Any]
    outcome: Outcome = field(default_factory=Outcome)
    args: str = ""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # links to files for members; None where no web server serves them (tests of routing alone)
    files: FileService | None = None

    @property
    def is_admin(self) -> bool:
        return self.membership.is_admin(self.turn.user.aad_object_id) or (
            self.member is not None and self.member.has(Role.ADMIN)
        )

    @property
    def approved(self) -> bool:
        return self.member is not None and self.member.approved

    @property
    def me(self) -> MemberView:
        """The approved member acting: what a route for members guarantees before its handler."""
        if self.member is None or not self.member.approved:
            raise PermissionError("a members' route ran for someone who is not an approved member")
        return self.member

    @property
    def shared_submit(self) -> bool:
        """A button pressed on a card in a channel or group chat, where others read along."""
        return not self.turn.personal and isinstance(self.turn.value, dict) and bool(self.turn.value)

    @property
    def private(self) -> bool:
        """The replies reach this member alone: a personal chat, or a button pressed in a shared
        chat (whose replies go to the member's personal chat)."""
        return self.turn.personal or self.shared_submit

    def say(self, text: str) -> None:
        self.outcome.replies.append(Reply(text=text))

    def send_card(self, card: Card) -> None:
        self.outcome.replies.append(Reply(card=card))

    def answer_with(self, card: Card) -> None:
        """An Action.Execute answered with a card: it takes the pressed card's place for the member
        who pressed it (Universal Actions), and carries whatever the turn has to tell them."""
        self.outcome.answer_card = card

    def replace_card(
        self, card: Card, *, item: tuple[str, int] | None = None, track: dict[str, Any] | None = None
    ) -> None:
        """Update the card the user clicked in place, or send it anew when that is unknown. In a
        chat others read, only a card showing `item` may be replaced there."""
        self.outcome.replies.append(
            Reply(card=card, update_activity_id=self.turn.reply_to_id, item=item, track=track)
        )


async def form_in_personal_chat(ctx: Ctx, card: Card, track: dict[str, Any], kind: str) -> None:
    """A form for the member alone: in their personal chat, here if that is where they asked,
    else sent there (asked in a channel or group chat, the chat hears only that it was sent)."""
    if ctx.turn.personal:
        ctx.outcome.replies.append(Reply(card=card, track=track))
        return
    member = ctx.me
    key = f"{kind}:{ctx.turn.conversation_id}:{ctx.turn.activity_id}"
    if not await ctx.membership.send_personal(member, key, card, track):
        ctx.say(ctx.t("meeting.open_personal_chat"))
        return
    ctx.say(ctx.t("meeting.form_sent_privately"))


Handler = Callable[[Ctx], Awaitable[None]]
StateHandler = Callable[[Ctx], Awaitable[str]]
# A card action's handler gets the submit's data, parsed and typed.
ActionHandler = Callable[[Ctx, Any], Awaitable[None]]


class Access(StrEnum):
    """Who may use a command or press a card's button: it is listed in their help and refused to
    others before any handler runs. (Who may *see* an item is visibility's business.)"""

    EVERYONE = "everyone"
    # Approved or pending members. Others may type it (the command tells them to register) but do
    # not see it in their help.
    REGISTERED = "registered"
    MEMBER = "member"  # approved members
    COORDINATOR = "coordinator"
    # coordinators, or every approved member when FORUMBOT_POLLS_BY_MEMBERS says so
    POLL_MAKER = "poll_maker"
    ADMIN = "admin"


def permits(access: Access, ctx: Ctx) -> bool:
    match access:
        case Access.EVERYONE | Access.REGISTERED:
            return True
        case Access.MEMBER:
            return ctx.approved
        case Access.COORDINATOR:
            return ctx.is_admin or (
                ctx.approved and ctx.member is not None and ctx.member.has(Role.COORDINATOR)
            )
        case Access.POLL_MAKER:
            return permits(Access.COORDINATOR, ctx) or (ctx.approved and ctx.settings.polls_by_members)
        case Access.ADMIN:
            return ctx.is_admin
    raise ValueError(f"unknown access {access!r}")


class SubmitData(BaseModel):
    """The data of a card's button, as the bot drew it. Anything else (wrong types, missing fields,
    oversize values) means a forged or out-of-date card. Extra fields are the card's inputs."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    action: str


# Ids in card data are positive 64-bit integers, as stored.
CardId = Annotated[int, Field(strict=True, gt=0, le=2**63 - 1)]
# A short text from a button's data (a code, a name of a transition), never free text.
Code = Annotated[str, Field(max_length=64)]


@dataclass(frozen=True)
class Action:
    handler: ActionHandler
    access: Access
    data: type[SubmitData]


@dataclass(frozen=True)
class Command:
    key: str  # message catalogue key of its help line
    words: tuple[str, ...]  # Swedish and English phrasings, lower case
    handler: Handler
    access: Access = Access.EVERYONE
    in_help: bool = True
    shown: tuple[str, str] | None = None  # its help row's Swedish and English phrasing, if not words[:2]

    @property
    def label(self) -> str:
        """The help row's title: the Swedish phrasing, then the English one."""
        return " / ".join(self.shown or self.words[:2])


@dataclass(frozen=True)
class Flow:
    name: str
    states: dict[str, StateHandler]


class Router:
    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.actions: dict[str, Action] = {}
        self.flows: dict[str, Flow] = {}

    def command(
        self,
        key: str,
        *words: str,
        access: Access = Access.EVERYONE,
        in_help: bool = True,
        shown: tuple[str, str] | None = None,
    ) -> Callable[[Handler], Handler]:
        access = Access(access)  # an unknown value fails here, at start-up

        def register(handler: Handler) -> Handler:
            self.commands.append(Command(key, tuple(words), handler, access, in_help, shown))
            return handler

        return register

    def action(
        self, action_id: str, *, access: Access, data: type[SubmitData] = SubmitData
    ) -> Callable[[ActionHandler], ActionHandler]:
        """Route a card button by its action id; `access` is checked and `data` parsed before the
        handler runs."""
        access = Access(access)

        def register(handler: ActionHandler) -> ActionHandler:
            if action_id in self.actions:
                raise ValueError(f"action {action_id} routed twice")
            self.actions[action_id] = Action(handler, access, data)
            return handler

        return register

    def flow(self, flow: Flow) -> Flow:
        self.flows[flow.name] = flow
        return flow

    def match(self, words: str) -> tuple[Command, str] | None:
        """The command whose phrasing starts `words` (longest phrasing wins), and the rest."""
        best: tuple[Command, str, int] | None = None
        for command in self.commands:
            for phrase in command.words:
                if (words == phrase or words.startswith(phrase + " ")) and (
                    best is None or len(phrase) > best[2]
                ):
                    best = (command, words[len(phrase) :].strip(), len(phrase))
        return (best[0], best[1]) if best else None

    def allowed(self, command: Command, ctx: Ctx) -> bool:
        return permits(command.access, ctx)

    def help_lines(self, ctx: Ctx) -> list[Command]:
        registered = ctx.member is not None and ctx.member.registered
        return [
            c
            for c in self.commands
            if c.in_help and self.allowed(c, ctx) and (c.access is not Access.REGISTERED or registered)
        ]


def start_flow(ctx: Ctx, flow: Flow, state: str) -> None:
    ctx.state["flow"] = {"name": flow.name, "state": state, "since": ctx.clock().isoformat()}


def end_flow(ctx: Ctx) -> None:
    ctx.state.pop("flow", None)


def active_flow(ctx: Ctx, router: Router) -> tuple[Flow, str] | None:
    """The flow this conversation is in, unless it has timed out or is unknown."""
    current = ctx.state.get("flow")
    if not isinstance(current, dict):
        return None
    flow = router.flows.get(str(current.get("name")))
    try:
        since = datetime.fromisoformat(str(current.get("since")))
    except ValueError:
        flow = None
    if flow is None or str(current.get("state")) not in flow.states:
        end_flow(ctx)
        return None
    if ctx.clock() - since > timedelta(minutes=ctx.settings.dialog_timeout_minutes):
        end_flow(ctx)
        return None
    return flow, str(current["state"])


async def run_state(ctx: Ctx, flow: Flow, state: str) -> None:
    next_state = await flow.states[state](ctx)
    if next_state == END:
        end_flow(ctx)
    else:
        start_flow(ctx, flow, next_state)
