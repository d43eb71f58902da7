"""Conversation flows. Each module registers its commands, card actions and flows on one Router."""

from __future__ import annotations

from bot.dialogs import (
    followup,
    help,
    inspections,
    meetings,
    membership,
    outbox,
    polls,
    proposals,
    reports,
    retention,
)
from bot.dialogs.router import Router


def build_router() -> Router:
    router = Router()
    for module in (
        help,
        membership,
        proposals,
        meetings,
        reports,
        polls,
        inspections,
        followup,
        outbox,
        retention,
    ):
        module.register(router)
    return router
