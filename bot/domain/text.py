"""Normalising what users type."""

from __future__ import annotations

import re
import unicodedata

_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


def spreadsheet_text(value: str) -> str:
    """A text as a spreadsheet cell (Excel, or a CSV Excel opens): one that begins like a formula
    is kept as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def clean_text(text: str, max_length: int | None = None) -> str:
    """Strip control characters (keeping line breaks and tabs) and surrounding space."""
    kept = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )
    kept = kept.strip()
    return kept[:max_length] if max_length is not None else kept


def command_words(text: str) -> str:
    """Lower-case words of a typed command, @mentions and punctuation at the ends removed."""
    text = _MENTION.sub(" ", text)
    text = clean_text(text).lower()
    return _SPACE.sub(" ", text).strip(" .!?")


def typed_after(text: str, words: int) -> str:
    """What follows the first `words` words of a typed command, as typed (case and punctuation
    kept, @mentions removed): the free text of a command whose phrase `command_words` matched."""
    kept = clean_text(_MENTION.sub(" ", text)).split()
    return " ".join(kept[words:])
