"""Conversation flows. Each module registers its commands, card actions and flows on one Router."""

from __future__ import annotations

from bot.dialogs import approvals, general, outbox, proposals, registration
from bot.dialogs.router import Router


def build_router() -> Router:
    router = Router()
    for module in (general, registration, approvals, proposals, outbox):
        module.register(router)
    return router
