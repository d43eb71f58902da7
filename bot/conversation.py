"""What the Teams glue hands to the dialogs, and what the dialogs hand back. No botbuilder here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class User:
    teams_id: str
    aad_object_id: str | None
    name: str


@dataclass(frozen=True)
class Turn:
    """One inbound message or card submit, in plain data."""

    activity_id: str | None
    conversation_id: str
    conversation_type: str  # personal | groupChat | channel
    tenant_id: str | None
    team_id: str | None
    user: User
    locale: str | None
    text: str
    value: dict[str, Any] | None
    reply_to_id: str | None
    service_url: str
    # A conversation reference as plain JSON, for messages sent later to this conversation.
    reference: dict[str, Any]
    # A card's Action.Execute (Universal Actions): the member who pressed it gets an answer of
    # their own (`Outcome.answer`), which nobody else in the chat sees.
    invoke: bool = False

    @property
    def personal(self) -> bool:
        return self.conversation_type == "personal"

    @property
    def in_channel(self) -> bool:
        return self.conversation_type == "channel"


@dataclass
class Reply:
    """A text or an Adaptive Card; with `update_activity_id`, it replaces that message in place."""

    text: str | None = None
    card: dict[str, Any] | None = None
    update_activity_id: str | None = None
    # Set on cards about a stored item, so that the copy can be updated in place later.
    track: dict[str, Any] | None = None
    # (item type, id) an in-place update shows: in a chat others read, only a copy of that item
    # that everyone there sees may be replaced
    item: tuple[str, int] | None = None


@dataclass(frozen=True)
class Posted:
    """A tracked card the glue posted: where it landed."""

    track: dict[str, Any]
    conversation_id: str
    activity_id: str
    reference: dict[str, Any]


@dataclass(frozen=True)
class RosterEntry:
    teams_id: str
    aad_object_id: str | None
    name: str
    email: str | None


class Roster(Protocol):
    """Who is in a conversation, as Teams tells it."""

    async def member(self, teams_id: str) -> RosterEntry | None: ...


@dataclass
class Outcome:
    """What a turn produced: replies to send now, and for an Action.Execute the answer shown to
    the member who pressed it: a text, or a card in place of the one pressed (`answer_card`,
    which wins over the text)."""

    replies: list[Reply] = field(default_factory=list)
    answer: str | None = None
    answer_card: dict[str, Any] | None = None
