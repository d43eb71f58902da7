"""Counts follow each language's CLDR plural rules; dates and times are written by Babel in the
reader's language, on the forum's clock (Europe/Stockholm), whatever the season."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from sqlalchemy import select

from bot.cards.membership import pending_list_card
from bot.cards.outbox import outbox_card
from bot.i18n import LANGUAGES, Translator, catalogue
from bot.storage.models import ProposalEvent
from tests.conftest import INSPECTOR
from tests.support.harness import Harness, card_text
from tests.support.texts import EN, SV
from tests.test_cards_and_texts import MEMBER
from tests.test_proposals import forum, propose

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("count", "form"), [(0, "other"), (1, "one"), (2, "other"), (21, "other")])
def test_a_count_takes_the_plural_form_its_language_gives_it(language: str, count: int, form: str) -> None:
    t = Translator(language)
    for key in ("outbox.messages", "approval.waiting", "proposal.widen_body"):
        assert t.plural(key, count) == t(f"{key}.{form}", count=count)
    assert t.plural("proposal.list_page", count, page=3) == t(
        f"proposal.list_page.{form}", count=count, page=3
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_one_and_many_read_differently(language: str) -> None:
    t = Translator(language)
    assert t.plural("outbox.messages", 1) != t.plural("outbox.messages", 2)
    assert t.plural("approval.waiting", 1) != t.plural("approval.waiting", 2)


def test_a_count_is_written_as_its_language_writes_numbers() -> None:
    assert SV.plural("outbox.messages", 12345) == SV("outbox.messages.other", count="12\N{NO-BREAK SPACE}345")
    assert EN.plural("outbox.messages", 12345) == EN("outbox.messages.other", count="12,345")


def test_a_plural_form_the_catalogue_lacks_falls_back_to_other() -> None:
    t = Translator("sv")
    t.locale = Locale.parse("pl")  # Polish says "few" for 3, which neither catalogue has
    assert t.locale.plural_form(3) == "few"
    assert t.plural("outbox.messages", 3) == t("outbox.messages.other", count=3)


def test_every_plural_entry_has_its_one_and_other() -> None:
    for language in LANGUAGES:
        keys = catalogue(language).keys()
        stems = {key.rsplit(".", 1)[0] for key in keys if key.endswith((".one", ".other"))}
        assert stems
        for stem in stems:
            assert {f"{stem}.one", f"{stem}.other"} <= keys, (language, stem)
            assert "{count}" in catalogue(language)[f"{stem}.other"], (language, stem)


@pytest.mark.parametrize("t", [SV, EN], ids=LANGUAGES)
def test_cards_count_with_plural_rules(t: Translator) -> None:
    outbox = card_text(outbox_card(t, {"queued": 1, "sent": 3}, []))
    assert t("outbox.messages.one", count=1) in outbox
    assert t("outbox.messages.other", count=3) in outbox
    assert t("outbox.messages.other", count=0) in outbox  # nothing sending, nothing dead
    assert t("approval.waiting.one", count=1) in card_text(
        pending_list_card(t, [MEMBER], can_grant_coordinator=False)
    )
    two = pending_list_card(t, [MEMBER, MEMBER], can_grant_coordinator=False)
    assert t("approval.waiting.other", count=2) in card_text(two)


def test_the_long_forms() -> None:
    moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09.00 in Stockholm, in winter time
    assert SV.datetime_long(moment) == "tisdag 1 december 2026 kl. 09.00"
    assert EN.datetime_long(moment) == "Tuesday 1 December 2026 at 09:00"
    assert SV.date_long(date(2026, 12, 1)) == "tisdag 1 december 2026"
    assert EN.date_long(date(2026, 12, 1)) == "Tuesday 1 December 2026"


def test_the_medium_forms() -> None:
    moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert SV.datetime_medium(moment) == "1 dec. 2026 kl. 09.00"
    assert EN.datetime_medium(moment) == "1 Dec 2026 at 09:00"
    assert SV.date_medium(date(2026, 5, 1)) == "1 maj 2026"
    assert EN.date_medium(date(2026, 5, 1)) == "1 May 2026"


@pytest.mark.parametrize(
    ("utc", "wall_clock"),
    [
        # 29 March 2026: at 01:00 UTC Stockholm moves from UTC+1 to UTC+2 (02.00 becomes 03.00)
        (datetime(2026, 3, 29, 0, 30), "söndag 29 mars 2026 kl. 01.30"),
        (datetime(2026, 3, 29, 1, 30), "söndag 29 mars 2026 kl. 03.30"),
        (datetime(2026, 3, 29, 22, 30), "måndag 30 mars 2026 kl. 00.30"),
        # 25 October 2026: at 01:00 UTC it moves back to UTC+1, and 02.00-03.00 comes twice
        (datetime(2026, 10, 25, 0, 30), "söndag 25 oktober 2026 kl. 02.30"),
        (datetime(2026, 10, 25, 1, 30), "söndag 25 oktober 2026 kl. 02.30"),
        (datetime(2026, 10, 25, 2, 30), "söndag 25 oktober 2026 kl. 03.30"),
        (datetime(2026, 10, 25, 23, 30), "måndag 26 oktober 2026 kl. 00.30"),
    ],
)
def test_a_utc_moment_shows_stockholm_wall_clock_time_across_daylight_saving(
    utc: datetime, wall_clock: str
) -> None:
    moment = utc.replace(tzinfo=UTC)
    assert SV.datetime_long(moment) == wall_clock
    assert SV.datetime_long(utc) == wall_clock  # a naive time is taken as UTC, never as the server's own
    assert SV.datetime_long(moment.astimezone(ZoneInfo("America/New_York"))) == wall_clock


def test_english_readers_see_the_same_wall_clock_time() -> None:
    assert EN.datetime_long(datetime(2026, 3, 29, 1, 30, tzinfo=UTC)) == "Sunday 29 March 2026 at 03:30"
    assert EN.datetime_long(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == "Sunday 25 October 2026 at 02:30"
    assert EN.datetime_long(datetime(2026, 10, 25, 23, 30, tzinfo=UTC)) == "Monday 26 October 2026 at 00:30"


def test_another_zone_when_asked() -> None:
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert SV.datetime_medium(moment) == "1 juli 2026 kl. 14.00"
    assert SV.datetime_medium(moment, ZoneInfo("UTC")) == "1 juli 2026 kl. 12.00"
    assert Translator("en", ZoneInfo("Europe/London")).datetime_medium(moment) == "1 Jul 2026 at 13:00"


async def test_history_and_period_are_written_in_the_readers_language(bot: Harness) -> None:
    await forum(bot)
    await propose(bot, period_from="2026-12-01", period_to="2026-12-15")
    async with bot.sessions() as session:
        [created_at] = list(await session.scalars(select(ProposalEvent.at)))

    for t, choose in ((SV, "språk svenska"), (EN, "language english")):
        await bot.say(INSPECTOR, choose)
        proposal, history = (await bot.say(INSPECTOR, "förslag F-2026-0001")).cards
        period = f"{t.date_medium(date(2026, 12, 1))} – {t.date_medium(date(2026, 12, 15))}"
        assert period in card_text(proposal)
        assert t.datetime_medium(created_at, bot.settings.zone) in card_text(history)
