"""Status reports (lägesbild), part of the meetings capability: each agency's situation picture
before a meeting, its form rules, and what of it each reader may see. Plain Python, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.domain.identity import find_personal_numbers
from bot.domain.meetings import ReminderKind
from bot.domain.text import clean_text
from bot.domain.visibility import Audience, Visibility, reaches_other_agencies


class ReportStatus(StrEnum):
    DRAFT = "draft"  # saved by a member of the agency, seen only by that agency
    SUBMITTED = "submitted"  # shared with whom the agency chose


# The scheduled kinds status reports add to each meeting's reminders.
REPORT_TASKS = (ReminderKind.REPORT_NUDGE, ReminderKind.COMPILED)

# the report's free texts: what the agency sees now, its own planned inspections, what it needs
TEXTS = ("seen", "planned", "needs")
LIMITS = {"seen": 4000, "planned": 4000, "needs": 4000}
FIELDS = (*TEXTS, "visibility", "shared")


@dataclass(frozen=True)
class ReportDraft:
    """A valid report form: its texts (empty ones None) and who may see it once submitted."""

    seen: str | None
    planned: str | None
    needs: str | None
    visibility: Visibility
    shared_agency_ids: tuple[int, ...]

    def audience(self, agency_id: int) -> Audience:
        return Audience.of(self.visibility, agency_id, self.shared_agency_ids)

    def texts(self) -> dict[str, str | None]:
        return {"seen": self.seen, "planned": self.planned, "needs": self.needs}


@dataclass
class ReportForm:
    draft: ReportDraft | None
    errors: dict[str, str] = field(default_factory=dict)  # field -> message key
    values: dict[str, str] = field(default_factory=dict)  # what was entered, cleaned, for redisplay


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return clean_text(value) if isinstance(value, str) else ""


def validate_report_form(
    raw: Mapping[str, Any],
    *,
    agency_id: int,
    agency_ids_by_code: Mapping[str, int],
    submit: bool,
) -> ReportForm:
    """Check the report form. A draft is kept for the agency alone, so only its lengths and
    choices are checked; a report submitted needs what the agency sees, and when it reaches other
    agencies, its texts must carry no personal identity number."""
    values = {key: _text(raw, key) for key in FIELDS}
    errors: dict[str, str] = {}
    for key, limit in LIMITS.items():
        if len(values[key]) > limit:
            errors[key] = "form.too_long"
            values[key] = values[key][:limit]
    if submit and not values["seen"]:
        errors["seen"] = "form.required"

    codes = [code.strip() for code in values["shared"].split(",") if code.strip()]
    unknown = [code for code in codes if code not in agency_ids_by_code]
    shared = tuple(dict.fromkeys(agency_ids_by_code[c] for c in codes if c in agency_ids_by_code and c))
    shared = tuple(i for i in shared if i != agency_id)
    if unknown:
        errors["shared"] = "form.agencies_unknown"

    visibility_value = values["visibility"] or Visibility.narrowest().value
    visibility = next((v for v in Visibility if v.value == visibility_value), None)
    if visibility is None:
        errors["visibility"] = "form.choice"
    elif visibility is Visibility.AGENCIES and not shared and "shared" not in errors:
        errors["shared"] = "report.form.shared_required"

    if (
        submit
        and visibility is not None
        and reaches_other_agencies(Audience.of(visibility, agency_id, shared))
    ):
        errors.update(personal_number_errors(values))

    if errors or visibility is None:
        return ReportForm(None, errors, values)
    draft = ReportDraft(
        seen=values["seen"] or None,
        planned=values["planned"] or None,
        needs=values["needs"] or None,
        visibility=visibility,
        shared_agency_ids=shared if visibility is Visibility.AGENCIES else (),
    )
    return ReportForm(draft, {}, values)


def personal_number_errors(values: Mapping[str, str | None]) -> dict[str, str]:
    """The report's texts that others will read must not carry a personal identity number."""
    return {
        key: "form.personal_number"
        for key in TEXTS
        if values.get(key) and find_personal_numbers(str(values[key]))
    }


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Which fields a save changed, for the report's history: names only, never a wording (a
    report's text may carry what only its agency may know); the visibility's earlier value."""
    changes: dict[str, Any] = {}
    for key in (*TEXTS, "visibility", "shared_agency_ids"):
        if before.get(key) != after.get(key):
            changes[key] = {"from": before.get(key)} if key == "visibility" else {}
    return changes
