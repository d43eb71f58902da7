"""The administrators' view of the outbox: what is waiting and what the bot gave up on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.cards.common import Card, card, facts, heading, submit, text
from bot.i18n import Translator


@dataclass(frozen=True)
class DeadLetter:
    """An entry the bot gave up on. reason: refused (Teams said no), error (it could not be sent),
    exhausted (every attempt failed), unknown (its worker stopped mid-send: it may have arrived)."""

    id: int
    idempotency_key: str
    conversation_id: str
    reason: str
    attempts: int
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    preview: str


def outbox_card(t: Translator, counts: dict[str, int], dead: list[DeadLetter]) -> Card:
    body: list[dict[str, Any]] = [
        heading(t("outbox.title")),
        facts(
            [
                (t(f"outbox.state.{state}"), t.plural("outbox.messages", counts.get(state, 0)))
                for state in ("queued", "sending", "sent", "dead")
            ]
        ),
    ]
    if not dead:
        body.append(text(t("outbox.no_dead")))
        return card(body)
    for letter in dead:
        body.append(
            {
                "type": "Container",
                "separator": True,
                "items": [
                    text(f"**#{letter.id}** · {t(f'outbox.reason.{letter.reason}')}"),
                    facts(
                        [
                            (t("outbox.to"), letter.conversation_id[:60]),
                            (t("outbox.attempts"), str(letter.attempts)),
                            (t("outbox.error"), (letter.last_error or "–")[:200]),
                            (t("outbox.preview"), letter.preview[:200] or "–"),
                        ]
                    ),
                ],
            }
        )
        body.append(
            {
                "type": "ActionSet",
                "actions": [
                    submit(t("outbox.retry"), "outbox.retry", "positive", entry_id=letter.id),
                    submit(t("outbox.dismiss"), "outbox.dismiss", entry_id=letter.id),
                ],
            }
        )
    return card(body)
