"""Help and welcome cards."""

from __future__ import annotations

from bot.cards.common import Card, card, facts, heading, text
from bot.i18n import Translator


def help_card(t: Translator, commands: list[tuple[str, str]], status_line: str) -> Card:
    return card(
        [
            heading(t("help.title")),
            text(status_line, subtle=True),
            facts(commands),
            text(t("help.footer"), subtle=True),
        ]
    )


def welcome_card(t: Translator, *, in_team: bool) -> Card:
    body = [heading(t("welcome.title")), text(t("welcome.team" if in_team else "welcome.personal"))]
    body.append(text(t("welcome.english"), subtle=True))
    return card(body)
