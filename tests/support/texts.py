"""The bot's texts as the catalogues render them, for assertions: tests compare with `SV(key, ...)`
or `EN(key, ...)`, never with sentences copied from bot/locales."""

from __future__ import annotations

from bot.i18n import Translator

SV = Translator("sv")
EN = Translator("en")
