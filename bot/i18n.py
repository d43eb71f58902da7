"""Message catalogues: Swedish first, English second. A member's chosen language picks, else the
Teams locale. Counts follow the language's CLDR plural rules, and dates and times are written the
way the language writes them, on the forum's clock."""

from __future__ import annotations

import json
import string
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

LANGUAGES = ("sv", "en")
# The forum's time zone (the default of FORUMBOT_TIMEZONE).
FORUM_TIMEZONE = "Europe/Stockholm"
_CATALOGUES = Path(__file__).resolve().parent / "locales"
# Swedish as written in Sweden; English as in Europe (day before month, 24-hour clock).
_LOCALES = {"sv": "sv_SE", "en": "en_GB"}


@cache
def catalogue(language: str) -> dict[str, str]:
    with (_CATALOGUES / f"{language}.json").open(encoding="utf-8") as handle:
        data: dict[str, str] = json.load(handle)
    return data


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def language_for(locale: str | None, default: str = "sv") -> str:
    """'sv-SE' -> sv, 'en-US' -> en, anything else -> the default language."""
    if locale:
        prefix = locale.replace("_", "-").split("-")[0].lower()
        if prefix in LANGUAGES:
            return prefix
    return default


def effective_language(chosen: str | None, locale: str | None, default: str = "sv") -> str:
    """The language a member chose (`språk`/`language`), else the one their Teams locale names."""
    return chosen if chosen in LANGUAGES else language_for(locale, default)


class Translator:
    """Texts of one language; a key missing there falls back to Swedish. Times are shown in
    `zone` unless a call names another (callers with settings pass `settings.zone`)."""

    def __init__(self, language: str, zone: tzinfo | None = None) -> None:
        self.language = language if language in LANGUAGES else "sv"
        self.locale = Locale.parse(_LOCALES[self.language])
        self.zone = zone or ZoneInfo(FORUM_TIMEZONE)
        self._texts = catalogue(self.language)

    def __call__(self, key: str, **values: object) -> str:
        text = self._texts.get(key) or catalogue("sv")[key]
        return text.format(**values) if values else text

    def plural(self, key: str, count: int, **values: object) -> str:
        """The catalogue's `key.one`, `key.other`, ... as the language's plural rules choose for
        `count`, with `{count}` written as the language writes numbers."""
        form = f"{key}.{self.locale.plural_form(count)}"
        chosen = form if form in self._texts else f"{key}.other"
        return self(chosen, count=format_decimal(count, locale=self.locale), **values)

    def datetime_long(self, moment: datetime, zone: tzinfo | None = None) -> str:
        """'tisdag 1 december 2026 kl. 09.00' / 'Tuesday 1 December 2026 at 09:00'."""
        return self._moment(moment, "format.datetime_long", zone)

    def datetime_medium(self, moment: datetime, zone: tzinfo | None = None) -> str:
        """'1 dec. 2026 kl. 09.00' / '1 Dec 2026 at 09:00': for rows where many stand together."""
        return self._moment(moment, "format.datetime_medium", zone)

    def time(self, moment: datetime, zone: tzinfo | None = None) -> str:
        """'09.00' / '09:00': a time of day on its own, beside a date already written."""
        return self._moment(moment, "format.time", zone)

    def date_long(self, day: date) -> str:
        """'tisdag 1 december 2026' / 'Tuesday 1 December 2026'."""
        return format_date(day, self("format.date_long"), locale=self.locale)

    def month_year(self, day: date) -> str:
        """'december 2026' / 'December 2026'."""
        return format_date(day, "LLLL yyyy", locale=self.locale)

    def date_medium(self, day: date) -> str:
        """'1 dec. 2026' / '1 Dec 2026'."""
        return format_date(day, self("format.date_medium"), locale=self.locale)

    def _moment(self, moment: datetime, pattern_key: str, zone: tzinfo | None) -> str:
        # stored times are UTC; a naive one is taken as UTC, never as the server's local time
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return format_datetime(aware, self(pattern_key), tzinfo=zone or self.zone, locale=self.locale)
