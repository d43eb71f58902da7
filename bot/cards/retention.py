"""The retention card: what the rule would remove, for an administrator to confirm."""

from __future__ import annotations

from dataclasses import dataclass

from bot.cards.common import Card, cancel_button, card, facts, heading, submit, text
from bot.i18n import Translator

SHOWN = 10  # labels listed per kind; the rest are counted


@dataclass(frozen=True)
class RetentionGroup:
    kind: str  # proposal | inspection | poll | status_report
    count: int
    labels: list[str]


@dataclass(frozen=True)
class RetentionView:
    months: int
    cutoff: str
    groups: list[RetentionGroup]
    digest: str

    @property
    def total(self) -> int:
        return sum(group.count for group in self.groups)


def retention_card(t: Translator, view: RetentionView, *, headline: str | None = None) -> Card:
    body = [heading(t("retention.title"))]
    if headline:
        body.append(text(headline, color="Warning"))
    body.append(text(t("retention.rule", months=view.months, cutoff=view.cutoff)))
    if not view.total:
        body.append(text(t("retention.nothing")))
        return card(body)
    pairs = []
    for group in view.groups:
        if not group.count:
            continue
        shown = ", ".join(group.labels[:SHOWN])
        if group.count > SHOWN:
            shown += " " + t("retention.more", count=group.count - SHOWN)
        pairs.append((t(f"retention.kind.{group.kind}", count=group.count), shown))
    body.append(facts(pairs))
    body.append(text(t("retention.public_records"), subtle=True))
    actions = [
        submit(
            t.plural("retention.confirm", view.total), "retention.remove", "destructive", digest=view.digest
        ),
        cancel_button(t("common.cancel")),
    ]
    return card(body, actions)
