"""What every form card's rules share: a field's text as typed, length limits, and the
organisation number field. Plain Python, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from bot.domain.identity import IdentityNumberError, OrgNumber, parse_org_number
from bot.domain.text import clean_text


def form_text(raw: Mapping[str, Any], key: str) -> str:
    """A field's value as text, control characters stripped; "" for what a card cannot send (a
    list, an object, a boolean)."""
    value = raw.get(key)
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return clean_text(str(value))


def cut_to_limits(values: dict[str, str], errors: dict[str, str], limits: Mapping[str, int]) -> None:
    """A value longer than its limit is an error by its field, and is kept cut to the limit."""
    for key, limit in limits.items():
        if key in values and len(values[key]) > limit:
            errors[key] = "form.too_long"
            values[key] = values[key][:limit]


def org_number_field(values: Mapping[str, str], errors: dict[str, str], today: date) -> OrgNumber | None:
    """The organisation number typed, if any and valid; else None, and an error by its field for
    one that is not (wrong length, check digit, ...)."""
    if not values.get("org_number") or "org_number" in errors:
        return None
    try:
        return parse_org_number(values["org_number"], today=today)
    except IdentityNumberError as error:
        errors["org_number"] = f"form.org_number.{error.reason.value}"
        return None
