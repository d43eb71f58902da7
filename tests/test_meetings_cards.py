"""Meeting cards are valid Adaptive Cards 1.5 in both languages, and show what they are given."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources

import jsonschema
import pytest

from bot.cards import meetings as cards
from bot.i18n import Translator
from tests.support.harness import card_text

VIEW = cards.MeetingCardView(
    id=1,
    title="Operativt möte",
    when="tisdag 1 december 2026 kl. 09.00–10.30",
    status="moved",
    place="Stadshuset",
    teams_link="https://teams.example/meet/1",
    note="Flyttat en dag",
    agenda=[cards.AgendaItem(3, "F-2026-0003", "Pizzeria Exempel", "accepted", 2, decidable=True)],
    series_id=4,
    calendar=True,
)


def every_card(t: Translator) -> dict[str, dict]:
    return {
        "form": cards.series_form_card(t, form_token="tok"),
        "form_errors": cards.series_form_card(
            t,
            values={"title": "", "first_date": "2026-01-01"},
            errors={"title": "form.required"},
            form_token="t",
        ),
        "holidays": cards.holidays_card(
            t, values={"title": "Möte"}, conflicts=[(date(2026, 12, 24), "Julafton")], form_token="tok"
        ),
        "list": cards.list_card(
            t, "Möten", [cards.MeetingRow(1, "i morgon", "Möte", "cancelled")], coordinator=True
        ),
        "list_empty": cards.list_card(t, "Möten", []),
        "meeting": cards.meeting_card(t, VIEW, headline="Dagordning", extra=["⚠ sent", "enkäter"]),
        "meeting_bare": cards.meeting_card(
            t, cards.MeetingCardView(2, "Möte", "när", "scheduled", None, None, None)
        ),
        "calendar_link": cards.calendar_link_card(
            t, title="Möte", url="https://forumbot.example/files/x.y", minutes=15
        ),
        "end_series": cards.end_series_card(
            t, [cards.SeriesRow(1, "Möte", "Varje vecka, tisdag 09.00–10.30")]
        ),
        "end_series_none": cards.end_series_card(t, []),
        "series_ended": cards.series_ended_card(t, title="Möte", cancelled=1, note="Ersätts"),
    }


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_meeting_card_is_valid_adaptive_card_1_5(language: str) -> None:
    text = resources.files("adaptive_cards").joinpath("schemas/schema-1.5.json").read_text("utf-8")
    schema = json.loads(text)
    for name, card in every_card(Translator(language)).items():
        portable = {key: value for key, value in card.items() if key != "msteams"}
        jsonschema.validate(portable, schema), name


def test_the_meeting_card_shows_its_agenda_status_and_note() -> None:
    t = Translator("sv")
    text = card_text(cards.meeting_card(t, VIEW))
    assert "F-2026-0003 Pizzeria Exempel (" + t("status.proposal.accepted") + ")" in text
    assert t("status.meeting.moved") in text and "Flyttat en dag" in text
    assert t("meeting.calendar") in text
