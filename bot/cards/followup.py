"""The follow-up card: a period's key figures, the largest rows of its tables, its chart, and
links to the Excel and CSV files; with buttons to the period before and after (updating in place)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.cards.common import Card, card, facts, heading, submit, text
from bot.i18n import Translator

TOP_ROWS = 5


@dataclass(frozen=True)
class FollowUpCardView:
    title: str
    scope: str
    summary: list[tuple[str, str]]  # label, value as shown
    top_industries: list[tuple[str, str]] = field(default_factory=list)
    taking_part: list[tuple[str, str]] = field(default_factory=list)
    findings: list[tuple[str, str]] = field(default_factory=list)
    chart_url: str | None = None
    files: list[tuple[str, str]] = field(default_factory=list)  # (catalogue key of its name, link)
    minutes: int = 0
    previous: dict[str, Any] | None = None  # the button's data, for the period before
    next: dict[str, Any] | None = None
    channel: bool = False
    empty: bool = False


def followup_card(t: Translator, view: FollowUpCardView) -> Card:
    body: list[dict[str, Any]] = [heading(view.title), text(view.scope, subtle=True)]
    if view.empty:
        body.append(text(t("followup.card.nothing")))
    body.append(facts(view.summary))
    if view.chart_url:
        body.append(
            {"type": "Image", "url": view.chart_url, "altText": t("followup.chart.alt"), "size": "Stretch"}
        )
    for key, rows in (
        ("followup.card.top_industries", view.top_industries),
        ("followup.card.taking_part", view.taking_part),
        ("followup.card.findings", view.findings),
    ):
        if rows:
            body.append(text(f"**{t(key)}**"))
            body.append(facts(rows[:TOP_ROWS]))
    if view.channel:
        body.append(text(t("followup.card.channel_note"), subtle=True))
    actions: list[dict[str, Any]] = []
    for label, url in view.files:
        actions.append({"type": "Action.OpenUrl", "title": t(label), "url": url})
    if view.files:
        body.append(text(t("followup.card.files", minutes=view.minutes), subtle=True))
    if view.previous is not None:
        actions.append(submit(t("followup.previous"), "followup.show", **view.previous))
    if view.next is not None:
        actions.append(submit(t("followup.next"), "followup.show", **view.next))
    return card(body, actions)
