"""Cards for joint inspections: the booking form (with its warnings before booking), the
inspection as each reader sees it (with their agency's answer, when they have a part), and the
link to its calendar file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.cards.common import (
    Card,
    cancel_button,
    card,
    choice_set,
    facts,
    field_error,
    heading,
    submit,
    text,
    with_placeholders,
)
from bot.domain.inspections import LIMITS, note_field
from bot.i18n import Translator

STATE_COLOR = {"asked": "Default", "confirmed": "Good", "declined": "Attention", "other_time": "Warning"}
STATUS_COLOR = {"booked": "Accent", "confirmed": "Good", "cancelled": "Attention"}


@dataclass(frozen=True)
class Named:
    code: str
    name: str


def _input(
    input_id: str,
    label: str,
    value: str,
    *,
    required: bool = False,
    multiline: bool = False,
    limit: int = 200,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "Input.Text",
        "id": input_id,
        "label": label,
        "value": value,
        "maxLength": limit,
        "isMultiline": multiline,
    }
    if required:
        block["isRequired"] = True
    return block


def _time_inputs(t: Translator, values: dict[str, str], errors: dict[str, str]) -> list[dict[str, Any]]:
    """The day, the start and the end, each with its error."""
    found: list[dict[str, Any]] = []
    for kind, key, label in (
        ("Input.Date", "date", "inspection.date"),
        ("Input.Time", "start_time", "inspection.start_time"),
        ("Input.Time", "end_time", "inspection.end_time"),
    ):
        block = {"type": kind, "id": key, "label": t(label), "value": values.get(key, ""), "isRequired": True}
        found += [block, *field_error(t, errors, key)]
    return found


@dataclass(frozen=True)
class BookingFormView:
    form_token: str
    agencies: list[Named]
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # what must be confirmed before booking, already in the reader's language; and the stamp
    # that names exactly those warnings (booking anyway books only what was warned of)
    warnings: list[str] = field(default_factory=list)
    stamp: str | None = None
    proposal: str | None = None  # the proposal it is booked from, "F-2026-0003 Pizzeria Exempel"


def booking_form_card(t: Translator, view: BookingFormView) -> Card:
    values, errors = view.values, view.errors
    agency_choices = [(a.code, a.name) for a in view.agencies]
    body: list[dict[str, Any]] = [heading(t("inspection.form.title"))]
    if view.proposal:
        body.append(text(t("inspection.form.from_proposal", proposal=view.proposal)))
    body.append(text(t("inspection.form.intro"), subtle=True))
    if errors:
        body.append(text(t("form.fix_errors"), color="Attention"))
    if view.warnings:
        body.append(text(t("inspection.form.warnings"), color="Warning"))
        body += [text(f"⚠ {warning}", color="Warning") for warning in view.warnings]
    body += [
        _input("name", t("inspection.name"), values.get("name", ""), required=True, limit=LIMITS["name"]),
        *field_error(t, errors, "name"),
        _input("org_number", t("inspection.org_number"), values.get("org_number", ""), limit=20),
        *field_error(t, errors, "org_number"),
        _input(
            "address",
            t("inspection.address"),
            values.get("address", ""),
            required=True,
            limit=LIMITS["address"],
        ),
        *field_error(t, errors, "address"),
        *_time_inputs(t, values, errors),
        _input(
            "meeting_point",
            t("inspection.meeting_point"),
            values.get("meeting_point", ""),
            limit=LIMITS["meeting_point"],
        ),
        *field_error(t, errors, "meeting_point"),
        choice_set(
            "lead_agency",
            t("inspection.lead_agency"),
            agency_choices,
            value=values.get("lead_agency") or None,
            required=True,
        ),
        *field_error(t, errors, "lead_agency"),
        choice_set(
            "agencies",
            t("inspection.agencies"),
            agency_choices,
            value=values.get("agencies") or None,
            multi=True,
        ),
        *field_error(t, errors, "agencies"),
        {
            **choice_set(
                "visibility",
                t("inspection.visibility"),
                [(v, t(f"inspection.visibility.{v}")) for v in ("agencies", "forum")],
                value=values.get("visibility") or "agencies",
            ),
            "style": "expanded",
        },
        *field_error(t, errors, "visibility"),
        text(t("inspection.notes_intro"), subtle=True),
    ]
    for agency in view.agencies:
        key = note_field(agency.code)
        body += [
            _input(
                key,
                t("inspection.note_for", agency=agency.name),
                values.get(key, ""),
                multiline=True,
                limit=LIMITS["note"],
            ),
            *field_error(t, errors, key),
        ]
    data: dict[str, Any] = {"form_token": view.form_token}
    actions = []
    if view.stamp:
        actions.append(
            submit(
                t("inspection.form.book_anyway"), "inspection.create", "positive", confirm=view.stamp, **data
            )
        )
    else:
        actions.append(submit(t("inspection.form.book"), "inspection.create", "positive", **data))
    actions.append(cancel_button(t("common.cancel"), form_token=view.form_token))
    return with_placeholders(t, card(body, actions))


@dataclass(frozen=True)
class PartRow:
    agency: str
    state: str  # asked | confirmed | declined | other_time
    detail: str | None  # who comes, why not, or the time proposed
    note: str | None
    outcome: str | None = None  # its outcome, as far as the reader may read it


@dataclass(frozen=True)
class InspectionCardView:
    id: int
    number: str
    version: int
    status: str
    business_name: str
    org_number: str | None
    address: str
    when: str
    meeting_point: str
    lead_agency: str
    booked_by: str
    parts: list[PartRow]
    waiting: int  # agencies that have not answered
    overridden: list[str]  # warnings the booking went ahead despite
    proposal: str | None = None
    headline: str | None = None
    # the reader's own agency's part: its name and state, when the reader may answer for it
    my_agency: str | None = None
    my_state: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    calendar: bool = False  # the reader's agency has confirmed: the calendar file is theirs
    manage: bool = False  # the reader may move or cancel it
    history: list[str] = field(default_factory=list)  # shown when asked for by its number
    # the reader's agency records its outcome now: the lists to choose from
    outcome_form: bool = False
    findings: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()
    closable: bool = False  # the reader may close it with a reason
    closed_reason: str | None = None
    # agencies that declined, which the reader may replace: (id, name); and who could take over
    replaceable: tuple[tuple[int, str], ...] = ()
    replacements: tuple[tuple[str, str], ...] = ()
    sequence: int = 0  # how often it was moved or called off: a button for an older time is stale


def inspection_card(t: Translator, view: InspectionCardView) -> Card:
    body: list[dict[str, Any]] = []
    if view.headline:
        body.append(text(view.headline, color="Good"))
    body += [
        heading(t("inspection.title", number=view.number)),
        text(t(f"inspection.status.{view.status}"), color=STATUS_COLOR.get(view.status)),
        text(f"**{view.business_name}**"),
    ]
    pairs = [
        (t("inspection.org_number"), view.org_number or "–"),
        (t("inspection.address"), view.address),
        (t("inspection.when"), view.when),
        (t("inspection.meeting_point"), view.meeting_point or "–"),
        (t("inspection.lead_agency"), view.lead_agency),
        (t("inspection.booked_by"), view.booked_by),
    ]
    if view.proposal:
        pairs.append((t("inspection.proposal"), view.proposal))
    body.append(facts(pairs))
    if view.waiting and view.status == "booked":
        body.append(text(t.plural("inspection.waiting", view.waiting), subtle=True))
    for part in view.parts:
        line = f"**{part.agency}**: {t(f'inspection.part.{part.state}')}"
        if part.detail:
            line += f" – {part.detail}"
        body.append({**text(line, color=STATE_COLOR.get(part.state)), "spacing": "Small"})
        if part.note:
            body.append({**text(part.note, subtle=True), "spacing": "None"})
        if part.outcome:
            body.append({**text(part.outcome), "spacing": "None"})
    if view.closed_reason:
        body.append(text(t("inspection.closed_because", reason=view.closed_reason), subtle=True))
    for warning in view.overridden:
        body.append(text(t("inspection.booked_despite", warning=warning), subtle=True))
    if view.history:
        body.append({**text(t("inspection.history"), subtle=False), "separator": True, "weight": "Bolder"})
        body += [{**text(line, subtle=True), "spacing": "None"} for line in view.history]
    actions: list[dict[str, Any]] = []
    if view.calendar:
        actions.append(submit(t("inspection.calendar"), "inspection.calendar", inspection_id=view.id))
    # Each thing the reader may do is a section of its own, folded away behind a button
    # (Action.ShowCard) so that the card stays short; a section whose input came back with an
    # error is shown open, with the error by its field.
    for title, blocks, buttons in _sections(t, view):
        if any(block.get("color") == "Attention" for block in blocks):
            body += [{**text(title), "separator": True, "weight": "Bolder"}, *blocks]
            actions += buttons
        else:
            actions.append({"type": "Action.ShowCard", "title": title, "card": card(blocks, buttons)})
    return with_placeholders(t, card(body, actions))


Section = tuple[str, list[dict[str, Any]], list[dict[str, Any]]]


def _sections(t: Translator, view: InspectionCardView) -> list[Section]:
    """What the reader may do on the card: record their agency's outcome, answer for it, change
    the booking; each as (title, inputs, buttons)."""
    values, errors = view.values, view.errors
    found: list[Section] = []
    if view.outcome_form and view.my_agency:
        blocks = [
            {
                **choice_set(
                    "outcome",
                    t("inspection.outcome"),
                    [(o, t(f"inspection.outcome.{o}")) for o in ("done", "not_done")],
                    value=values.get("outcome") or None,
                ),
                "style": "expanded",
            },
            *field_error(t, errors, "outcome"),
            choice_set(
                "findings",
                t("inspection.findings"),
                [(f, f) for f in view.findings],
                value=values.get("findings") or None,
                multi=True,
            ),
            *field_error(t, errors, "findings"),
            choice_set(
                "measures",
                t("inspection.measures"),
                [(m, m) for m in view.measures],
                value=values.get("measures") or None,
                multi=True,
            ),
            *field_error(t, errors, "measures"),
            _input(
                "outcome_note",
                t("inspection.outcome_note"),
                values.get("outcome_note", ""),
                multiline=True,
                limit=LIMITS["note"],
            ),
            *field_error(t, errors, "outcome_note"),
            {
                "type": "Input.Toggle",
                "id": "share",
                "title": t("inspection.share_outcome"),
                "valueOn": "true",
                "valueOff": "false",
                "value": values.get("share", "false"),
            },
        ]
        save = submit(t("inspection.save_outcome"), "inspection.outcome", "positive", inspection_id=view.id)
        intro = text(t("inspection.outcome_intro", agency=view.my_agency), subtle=True)
        found.append((t("inspection.outcome_open"), [intro, *blocks], [save]))
    if view.my_agency and view.status in ("booked", "confirmed") and not view.outcome_form:
        blocks = [
            _input("who", t("inspection.who"), values.get("who", ""), limit=LIMITS["who"]),
            *field_error(t, errors, "who"),
            _input(
                "reason",
                t("inspection.reason"),
                values.get("reason", ""),
                multiline=True,
                limit=LIMITS["reason"],
            ),
            *field_error(t, errors, "reason"),
            {
                "type": "Input.Date",
                "id": "other_date",
                "label": t("inspection.other_date"),
                "value": values.get("other_date", ""),
            },
            *field_error(t, errors, "other_date"),
            {
                "type": "Input.Time",
                "id": "other_time",
                "label": t("inspection.other_time"),
                "value": values.get("other_time", ""),
            },
            *field_error(t, errors, "other_time"),
        ]
        buttons = [
            submit(
                t("inspection.confirm"),
                "inspection.answer",
                "positive",
                answer="confirm",
                inspection_id=view.id,
            ),
            submit(
                t("inspection.decline"),
                "inspection.answer",
                "destructive",
                answer="decline",
                inspection_id=view.id,
            ),
            submit(
                t("inspection.propose_time"), "inspection.answer", answer="other_time", inspection_id=view.id
            ),
        ]
        intro = text(t("inspection.answer_intro", agency=view.my_agency), subtle=True)
        found.append((t("inspection.answer_open"), [intro, *blocks], buttons))
    blocks, buttons = [], []
    if view.replaceable and view.replacements and view.status in ("booked", "confirmed"):
        blocks += [
            text(t("inspection.replace_intro"), subtle=True),
            choice_set(
                "replacement",
                t("inspection.replacement"),
                list(view.replacements),
                value=values.get("replacement") or None,
            ),
            *field_error(t, errors, "replacement"),
        ]
        buttons += [
            submit(
                t("inspection.replace", agency=agency),
                "inspection.replace",
                inspection_id=view.id,
                agency_id=agency_id,
            )
            for agency_id, agency in view.replaceable
        ]
    if view.closable:
        blocks += [
            _input(
                "close_reason",
                t("inspection.close_reason"),
                values.get("close_reason", ""),
                multiline=True,
                limit=LIMITS["reason"],
            ),
            *field_error(t, errors, "close_reason"),
        ]
        buttons.append(submit(t("inspection.close"), "inspection.close", inspection_id=view.id))
    if view.manage and view.status in ("booked", "confirmed"):
        blocks += [
            _input(
                "cancel_reason",
                t("inspection.cancel_reason"),
                values.get("cancel_reason", ""),
                multiline=True,
                limit=LIMITS["reason"],
            ),
            *field_error(t, errors, "cancel_reason"),
        ]
        buttons.append(submit(t("inspection.move"), "inspection.move_form", inspection_id=view.id))
        buttons.append(
            submit(
                t("inspection.cancel"),
                "inspection.cancel",
                "destructive",
                inspection_id=view.id,
                version=view.sequence,
            )
        )
    if buttons:
        found.append((t("inspection.manage_intro"), blocks, buttons))
    return found


@dataclass(frozen=True)
class MoveFormView:
    id: int
    number: str
    version: int
    when: str  # as booked now
    values: dict[str, str]
    errors: dict[str, str]
    warnings: list[str]
    stamp: str | None


def move_form_card(t: Translator, view: MoveFormView) -> Card:
    """A new day and time for an inspection; the agencies will be asked to confirm again."""
    values, errors = view.values, view.errors
    body: list[dict[str, Any]] = [
        heading(t("inspection.move_title", number=view.number)),
        text(t("inspection.move_intro", when=view.when), subtle=True),
    ]
    if errors:
        body.append(text(t("form.fix_errors"), color="Attention"))
    if view.warnings:
        body.append(text(t("inspection.form.warnings"), color="Warning"))
        body += [text(f"⚠ {warning}", color="Warning") for warning in view.warnings]
    body += [
        *_time_inputs(t, values, errors),
        _input(
            "note", t("inspection.move_note"), values.get("note", ""), multiline=True, limit=LIMITS["reason"]
        ),
        *field_error(t, errors, "note"),
    ]
    data: dict[str, Any] = {"inspection_id": view.id, "version": view.version}
    if view.stamp:
        data["confirm"] = view.stamp
    title = t("inspection.move_anyway") if view.stamp else t("inspection.move_send")
    return with_placeholders(t, card(body, [submit(title, "inspection.move", "positive", **data)]))


def inspection_calendar_card(t: Translator, *, number: str, url: str, minutes: int) -> Card:
    body = [
        heading(t("inspection.calendar_file.title", number=number)),
        text(t.plural("inspection.calendar_file.intro", minutes), subtle=True),
    ]
    return card(body, [{"type": "Action.OpenUrl", "title": t("inspection.calendar_file.open"), "url": url}])


@dataclass(frozen=True)
class InspectionRow:
    id: int
    number: str
    business_name: str
    when: str
    status: str


def inspection_list_card(
    t: Translator, title: str, rows: list[InspectionRow], *, note: str | None = None
) -> Card:
    body: list[dict[str, Any]] = [heading(title)]
    if note:
        body.append(text(note, subtle=True))
    if not rows:
        body.append(text(t("inspection.list_empty")))
    for row in rows:
        body.append(
            {
                "type": "ColumnSet",
                "separator": True,
                "selectAction": submit(row.number, "inspection.show", inspection_id=row.id),
                "columns": [
                    {"type": "Column", "width": "auto", "items": [text(f"**{row.number}**")]},
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [text(row.business_name), text(row.when, subtle=True)],
                    },
                    {
                        "type": "Column",
                        "width": "auto",
                        "items": [
                            text(
                                t(f"inspection.status.short.{row.status}"), color=STATUS_COLOR.get(row.status)
                            )
                        ],
                    },
                ],
            }
        )
    return card(body)
