"""Help and welcome cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

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


class Welcome(StrEnum):
    """Where the bot was added, and what the forum already knows of it or of whoever added it."""

    NEWCOMER = "newcomer"  # personal chat of someone who is not (or no longer) a member
    PENDING = "pending"  # personal chat of a member waiting for approval
    MEMBER = "member"  # personal chat of an approved member
    FORUM_CHANNEL = "forum_channel"  # the team channel that is the forum's channel
    TEAM_CHANNEL = "team_channel"  # any other team channel
    GROUP_CHAT = "group_chat"


@dataclass(frozen=True)
class WelcomeView:
    kind: Welcome
    agency: str = ""  # the member's agency, for PENDING and MEMBER
    commands: list[tuple[str, str]] = field(default_factory=list)  # (phrasing, what it does), MEMBER
    forum_channel_elsewhere: bool = False  # TEAM_CHANNEL: the forum's channel is another one


def welcome_text(t: Translator, view: WelcomeView) -> str:
    if view.kind is Welcome.MEMBER:
        return t("welcome.member", agency=view.agency)
    if view.kind is Welcome.PENDING:
        return t("welcome.pending", agency=view.agency)
    if view.kind is Welcome.FORUM_CHANNEL:
        return t("welcome.forum_channel")
    if view.kind is Welcome.TEAM_CHANNEL:
        return t("welcome.team_forum_elsewhere" if view.forum_channel_elsewhere else "welcome.team")
    if view.kind is Welcome.GROUP_CHAT:
        return t("welcome.group")
    return t("welcome.personal")


def welcome_card(t: Translator, view: WelcomeView) -> Card:
    body = [heading(t("welcome.title")), text(welcome_text(t, view))]
    if view.commands:
        body.append(facts(view.commands))
    registered = view.kind in (Welcome.MEMBER, Welcome.PENDING)
    body.append(text(t("welcome.other_language" if registered else "welcome.english"), subtle=True))
    return card(body)
