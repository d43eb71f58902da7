"""Cards for status reports (lägesbild), part of the meetings capability: an agency's report
form, and the compiled picture of a meeting as one reader (or the forum channel) may see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.cards.common import (
    Card,
    cancel_button,
    card,
    choice_set,
    execute,
    field_error,
    heading,
    submit,
    text,
)
from bot.domain.reports import LIMITS
from bot.i18n import Translator


@dataclass(frozen=True)
class Named:
    code: str
    name: str


@dataclass(frozen=True)
class ReportFormView:
    """An agency's report form for one meeting; `version` 0 while the agency has none."""

    meeting_id: int
    meeting: str  # 'Operativt möte, tisdag 1 december 2026 kl. 09.00–10.30'
    agency: str
    version: int
    submitted: bool  # already submitted: saving again updates what was shared
    agencies: list[Named]
    form_token: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class EntryState(StrEnum):
    SHOWN = "shown"  # submitted, and this reader may read it
    REPORTED = "reported"  # submitted, for others than this reader: only that it was
    DRAFT = "draft"  # the reader's own agency's draft, not submitted yet
    MISSING = "missing"  # nothing submitted


@dataclass(frozen=True)
class CompiledEntry:
    agency: str
    state: EntryState
    seen: str | None = None
    planned: str | None = None
    needs: str | None = None
    visibility: str | None = None


@dataclass(frozen=True)
class CompiledView:
    meeting_id: int
    title: str
    when: str
    entries: list[CompiledEntry]
    personal: bool  # drawn for one member (offers their agency's form), else for the channel
    open: bool = True  # reports may still be submitted (the meeting has not begun)
    submitted: bool = False  # the reader's agency has submitted its report
    since: str | None = None  # "Sedan förra mötet (…): 2 nya förslag och 1 genomförd samordnad tillsyn."


def _input(t: Translator, key: str, value: str) -> dict[str, Any]:
    return {
        "type": "Input.Text",
        "id": key,
        "label": t(f"report.field.{key}"),
        "value": value,
        "maxLength": LIMITS[key],
        "isMultiline": True,
    }


def report_form_card(t: Translator, view: ReportFormView, *, headline: str | None = None) -> Card:
    """The agency's report, prefilled with what is saved; errors next to their fields, values kept."""
    values, errors = view.values, view.errors
    body: list[dict[str, Any]] = [heading(t("report.form.title", agency=view.agency))]
    if headline:
        body.append(text(headline, color="Good"))
    body += [text(view.meeting, subtle=True), text(t("report.form.intro"), subtle=True)]
    if view.submitted:
        body.append(text(t("report.form.submitted_hint"), subtle=True))
    if errors:
        body.append(text(t("form.fix_errors"), color="Attention"))
    for key in ("seen", "planned", "needs"):
        body += [_input(t, key, values.get(key, "")), *field_error(t, errors, key)]
    body += [
        {
            **choice_set(
                "visibility",
                t("report.field.visibility"),
                [(v, t(f"report.visibility.{v}")) for v in ("agency", "agencies", "forum")],
                value=values.get("visibility") or "agency",
            ),
            "style": "expanded",
        },
        *field_error(t, errors, "visibility"),
        choice_set(
            "shared",
            t("report.field.shared"),
            [(a.code, a.name) for a in view.agencies],
            value=values.get("shared") or None,
            multi=True,
        ),
        text(t("report.form.shared_hint"), subtle=True),
        *field_error(t, errors, "shared"),
    ]
    data: dict[str, Any] = {
        "meeting_id": view.meeting_id,
        "version": view.version,
        "form_token": view.form_token,
    }
    actions = []
    if not view.submitted:
        actions.append(submit(t("report.form.save_draft"), "meeting.report_draft", **data))
    actions += [
        submit(t("report.form.submit"), "meeting.report_submit", style="positive", **data),
        cancel_button(t("common.cancel"), form_token=view.form_token),
    ]
    return card(body, actions)


def compiled_card(t: Translator, view: CompiledView, *, headline: str | None = None) -> Card:
    """The compiled picture: per agency what the reader may read, else only whether it reported."""
    body: list[dict[str, Any]] = [heading(headline or t("report.compiled.title", title=view.title))]
    body.append(text(view.when, subtle=True))
    if view.since:
        body.append(text(view.since))
    if not view.entries:
        body.append(text(t("report.compiled.no_agencies")))
    for entry in view.entries:
        body.append({**text(entry.agency), "weight": "Bolder", "separator": True})
        if entry.state in (EntryState.SHOWN, EntryState.DRAFT):
            if entry.state is EntryState.DRAFT:
                body.append(text(t("report.compiled.draft"), color="Warning"))
            for key in ("seen", "planned", "needs"):
                value = getattr(entry, key)
                if value:
                    body.append(text(f"**{t(f'report.field.{key}')}**\n\n{value}"))
            if entry.visibility:
                body.append(text(t(f"report.visibility.{entry.visibility}"), subtle=True))
        else:
            body.append(text(t(f"report.compiled.{entry.state.value}"), subtle=True))
    actions = []
    if view.personal and view.open:
        label = t("report.compiled.change_form" if view.submitted else "report.compiled.open_form")
        actions.append(submit(label, "meeting.report_form", meeting_id=view.meeting_id))
    elif not view.personal:
        # in the channel: each member's own picture, answered to them alone (see the README)
        actions.append(
            execute(t("report.compiled.my_picture"), "meeting.my_picture", meeting_id=view.meeting_id)
        )
    return card(body, actions)


def picture_gone_card(t: Translator) -> Card:
    """A compiled picture its reader may no longer see."""
    return card([text(t("report.compiled.gone"), subtle=True)])
