"""Cards for meetings: the series form, its holidays, lists, one meeting with its agenda, and
the reminders posted into the forum channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.cards.common import (
    Card,
    bullets,
    cancel_button,
    card,
    choice_set,
    facts,
    field_error,
    heading,
    submit,
    text,
)
from bot.domain.meetings import DEFAULT_TITLE, SERIES_LIMITS, HolidayChoice, Recurrence
from bot.i18n import Translator


@dataclass(frozen=True)
class AgendaItem:
    proposal_id: int
    number: str
    business_name: str
    status: str
    version: int
    decidable: bool = False  # the reader may record the meeting's decision on it


@dataclass(frozen=True)
class MeetingCardView:
    """One meeting as one reader may see it; times already written in the reader's language."""

    id: int
    title: str
    when: str  # 'tisdag 1 december 2026 kl. 09.00–10.30'
    status: str
    place: str | None
    teams_link: str | None
    note: str | None
    agenda: list[AgendaItem] = field(default_factory=list)
    series_id: int | None = None
    calendar: bool = False  # offer the series' calendar file


@dataclass(frozen=True)
class MeetingRow:
    id: int
    when: str
    title: str
    status: str


def _input(
    input_id: str, label: str, value: str, *, required: bool = False, kind: str = "Text"
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": f"Input.{kind}", "id": input_id, "label": label, "value": value}
    if kind == "Text":
        block["maxLength"] = SERIES_LIMITS.get(input_id, 200)
    if required:
        block["isRequired"] = True
    return block


def series_form_card(
    t: Translator,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_token: str,
) -> Card:
    """A new meeting series: what, how often, when and where. Values come back with their errors."""
    values = values or {}
    errors = errors or {}
    body: list[dict[str, Any]] = [
        heading(t("meeting.form.title")),
        text(t("meeting.form.intro"), subtle=True),
    ]
    if errors:
        body.append(text(t("form.fix_errors"), color="Attention"))
    weekdays = [(str(day), t(f"meeting.weekday.{day}")) for day in range(7)]
    body += [
        _input("title", t("meeting.form.name"), values.get("title", DEFAULT_TITLE), required=True),
        *field_error(t, errors, "title"),
        choice_set(
            "recurrence",
            t("meeting.form.recurrence"),
            [(r.value, t(f"meeting.recurrence.{r.value}")) for r in Recurrence],
            value=values.get("recurrence") or Recurrence.WEEKLY.value,
            required=True,
        ),
        *field_error(t, errors, "recurrence"),
        choice_set(
            "weekday", t("meeting.form.weekday"), weekdays, value=values.get("weekday") or "1", required=True
        ),
        *field_error(t, errors, "weekday"),
        _input(
            "first_date",
            t("meeting.form.first_date"),
            values.get("first_date", ""),
            required=True,
            kind="Date",
        ),
        *field_error(t, errors, "first_date"),
        _input(
            "start_time",
            t("meeting.form.start_time"),
            values.get("start_time", "09:00"),
            required=True,
            kind="Time",
        ),
        *field_error(t, errors, "start_time"),
        _input(
            "end_time",
            t("meeting.form.end_time"),
            values.get("end_time", "10:30"),
            required=True,
            kind="Time",
        ),
        *field_error(t, errors, "end_time"),
        _input("place", t("meeting.form.place"), values.get("place", "")),
        *field_error(t, errors, "place"),
        _input("teams_link", t("meeting.form.teams_link"), values.get("teams_link", "")),
        *field_error(t, errors, "teams_link"),
    ]
    actions = [
        submit(t("meeting.form.send"), "meeting.series_submit", "positive", form_token=form_token),
        cancel_button(t("common.cancel"), form_token=form_token),
    ]
    return card(body, actions)


def holidays_card(
    t: Translator, *, values: dict[str, str], conflicts: list[tuple[date, str]], form_token: str
) -> Card:
    """The series' meetings that fall on holidays: skip or move each, then create the series."""
    body: list[dict[str, Any]] = [
        heading(t("meeting.holidays.title")),
        text(t("meeting.holidays.intro"), subtle=True),
    ]
    options = [(c.value, t(f"meeting.holidays.{c.value}")) for c in HolidayChoice]
    for day, name in conflicts:
        body.append(
            choice_set(
                f"holiday_{day.isoformat()}",
                f"{t.date_long(day)} ({name})",
                options,
                value=HolidayChoice.SKIP.value,
                required=True,
            )
        )
    # the form's values ride along on the button, and are checked again when it is pressed
    confirm = submit(t("meeting.holidays.confirm"), "meeting.series_submit", "positive")
    confirm["data"].update(values, form_token=form_token, holidays_chosen=True)
    actions = [confirm, cancel_button(t("common.cancel"), form_token=form_token)]
    return card(body, actions)


def list_card(t: Translator, title: str, rows: list[MeetingRow], *, coordinator: bool = False) -> Card:
    body: list[dict[str, Any]] = [heading(title)]
    if not rows:
        body.append(text(t("meeting.list.empty"), subtle=True))
    for row in rows:
        status = "" if row.status == "scheduled" else f" ({t(f'status.meeting.{row.status}')})"
        body.append(
            {
                "type": "ColumnSet",
                "columns": [
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [text(f"**{row.when}**{status}"), text(row.title, subtle=True)],
                    },
                    {
                        "type": "Column",
                        "width": "auto",
                        "items": [
                            {
                                "type": "ActionSet",
                                "actions": [
                                    submit(t("meeting.list.open"), "meeting.open", meeting_id=row.id)
                                ],
                            }
                        ],
                    },
                ],
            }
        )
    actions = [submit(t("meeting.new_series"), "meeting.new_series")] if coordinator else None
    return card(body, actions)


def meeting_card(
    t: Translator, view: MeetingCardView, *, headline: str | None = None, extra: list[str] | None = None
) -> Card:
    """One meeting: when, where, its agenda; `extra` lines under the headline."""
    body: list[dict[str, Any]] = []
    if headline:
        body.append(heading(headline))
    for line in extra or []:
        body.append(text(line, color="Warning" if line.startswith("⚠") else None))
    body.append(text(f"**{view.title}**"))
    pairs = [(t("meeting.when"), view.when)]
    if view.status != "scheduled":
        pairs.append((t("meeting.status"), t(f"status.meeting.{view.status}")))
    if view.place:
        pairs.append((t("meeting.place"), view.place))
    if view.teams_link:
        pairs.append((t("meeting.teams_link"), f"[{t('meeting.join')}]({view.teams_link})"))
    body.append(facts(pairs))
    if view.note:
        body.append(text(t("meeting.note", note=view.note)))
    body.append(text(t("meeting.agenda"), subtle=True))
    if not view.agenda:
        body.append(text(t("meeting.agenda_empty"), subtle=True))
    else:
        body.append(
            bullets(
                [
                    f"{item.number} {item.business_name} ({t(f'status.proposal.{item.status}')})"
                    for item in view.agenda
                ]
            )
        )
    if any(item.decidable for item in view.agenda):
        body.append(
            {
                "type": "Input.Text",
                "id": "note",
                "label": t("meeting.decision_note"),
                "isMultiline": True,
                "maxLength": SERIES_LIMITS["note"],
            }
        )
    for item in view.agenda:
        if item.decidable:
            body.append(
                {
                    "type": "ActionSet",
                    "actions": [
                        submit(
                            t("meeting.decide", number=item.number, decision=t(f"transition.{name}")),
                            "meeting.decide",
                            meeting_id=view.id,
                            proposal_id=item.proposal_id,
                            version=item.version,
                            transition=name,
                        )
                        for name in ("plan", "reject")
                    ],
                }
            )
    actions = []
    if view.calendar and view.series_id is not None:
        actions.append(submit(t("meeting.calendar"), "meeting.calendar", series_id=view.series_id))
    return card(body, actions or None)


def calendar_link_card(t: Translator, *, title: str, url: str, minutes: int) -> Card:
    """A link to a series' calendar file, for the one member it was made for."""
    body = [
        heading(t("meeting.calendar_file.title", title=title)),
        text(t.plural("meeting.calendar_file.intro", minutes), subtle=True),
    ]
    return card(body, [{"type": "Action.OpenUrl", "title": t("meeting.calendar_file.open"), "url": url}])


@dataclass(frozen=True)
class SeriesRow:
    id: int
    title: str
    when: str  # how often and when, in the reader's language


def end_series_card(t: Translator, rows: list[SeriesRow]) -> Card:
    """The running series, each with a button that ends it; a note for the forum may go along."""
    body: list[dict[str, Any]] = [heading(t("meeting.end.title"))]
    if not rows:
        body.append(text(t("meeting.end.none"), subtle=True))
        return card(body)
    body.append(text(t("meeting.end.intro"), subtle=True))
    body.append(
        {
            "type": "Input.Text",
            "id": "note",
            "label": t("meeting.end.note"),
            "isMultiline": True,
            "maxLength": SERIES_LIMITS["note"],
        }
    )
    for row in rows:
        body.append(text(f"**{row.title}**: {row.when}"))
        body.append(
            {
                "type": "ActionSet",
                "actions": [
                    submit(
                        t("meeting.end.button", title=row.title),
                        "meeting.end_series",
                        "destructive",
                        series_id=row.id,
                    )
                ],
            }
        )
    return card(body)


def series_ended_card(t: Translator, *, title: str, cancelled: int, note: str | None) -> Card:
    """What the forum reads when a series ends."""
    body = [heading(t("meeting.end.done", title=title)), text(t.plural("meeting.end.cancelled", cancelled))]
    if note:
        body.append(text(t("meeting.note", note=note)))
    return card(body)


def off_day_card(t: Translator, question: str, change: str, typed: str) -> Card:
    """A move or an extra meeting onto a weekend or a public holiday: do it all the same?"""
    return card(
        [text(question)],
        [
            submit(
                t(f"meeting.change.off_day.{change}"), "meeting.off_day_confirm", change=change, typed=typed
            ),
            cancel_button(t("common.cancel")),
        ],
    )


def change_done_card(message: str) -> Card:
    """The question's card once answered: what became of the change."""
    return card([text(message)])
