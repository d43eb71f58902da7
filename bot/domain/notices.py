"""What a notice is about, and to whom: the typed key of everything the bot sends on its own.

A notice is keyed by (item type, item id, purpose, recipient, version). The key is stored in
columns, so that the notices queued for one reader of one item can be withdrawn exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

CHANNEL = "channel"
COPY_PREFIX = "copy:"


@dataclass(frozen=True)
class ItemRef:
    """A stored item a card is about: ("proposal", 12)."""

    type: str
    id: int


def member_recipient(member_id: int) -> str:
    return f"member:{member_id}"


def copy_purpose(copy_id: int) -> str:
    """The update of one posted card copy."""
    return f"{COPY_PREFIX}{copy_id}"


@dataclass(frozen=True)
class NoticeKey:
    item: ItemRef
    purpose: str  # new | widened | channel | told | copy:<id> | …
    recipient: str  # member:<id> | channel
    version: int

    @property
    def idempotency_key(self) -> str:
        """Unique per notice: the same notice queued twice is queued once."""
        return f"{self.item.type}:{self.item.id}:{self.purpose}:{self.recipient}:v{self.version}"
