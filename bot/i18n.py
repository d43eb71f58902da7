"""Message catalogues: Swedish first, English second. A member's chosen language picks, else the
Teams locale."""

from __future__ import annotations

import json
import string
from datetime import datetime
from functools import cache
from pathlib import Path

from babel.dates import format_datetime

LANGUAGES = ("sv", "en")
_CATALOGUES = Path(__file__).resolve().parent / "locales"


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
    """Texts of one language; a key missing there falls back to Swedish."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "sv"
        self._texts = catalogue(self.language)

    def __call__(self, key: str, **values: object) -> str:
        text = self._texts.get(key) or catalogue("sv")[key]
        return text.format(**values) if values else text

    def datetime(self, moment: datetime) -> str:
        locale = "sv_SE" if self.language == "sv" else "en_GB"
        return format_datetime(moment, "d MMM yyyy HH:mm", locale=locale)
