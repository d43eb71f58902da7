"""Cards for meetings: the series form, its holidays, lists, one meeting with its agenda, and
the reminders posted into the forum channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
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
    with_placeholders,
)
from bot.cards.polls import coming_line
from bot.domain.meetings import (
    BEFORE_START_KINDS,
    DEFAULT_TITLE,
    PLAN_DAYS,
    PLAN_MINUTES,
    SERIES_LIMITS,
    BeforeStart,
    HolidayChoice,
    Recurrence,
    ReminderKind,
    ReminderOffset,
    ReminderPlan,
    plan_field,
    plan_parts,
    plan_values,
)
from bot.domain.polls import Coming
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
    plan: ReminderPlan | None = None  # the reminders it gets, shown in words
    plan_series_id: int | None = None  # the series whose plan the reader may change from here
    coming: Coming | None = None  # who comes, as its attendance poll says; None: called off
    attend: bool = False  # offer "Kommer du?": the reader's own attendance card
    attendance_list: bool = False  # the reader (a coordinator) may see who comes from each agency
    # joint inspections done since the meeting before, as the reader may see them: "T-2026-0001 …"
    inspections_done: list[str] = field(default_factory=list)


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


def _clock(t: Translator, at: time) -> str:
    """A wall-clock time as the language writes it ('09.00' / '09:00')."""
    return t.time(datetime.combine(date(2000, 1, 3), at, tzinfo=UTC), UTC)


def timing_words(t: Translator, offset: ReminderOffset) -> str:
    """'2 arbetsdagar före kl. 09.00', 'samma dag kl. 08.00', '1 timme före', '1 tim. 30 min. före'."""
    if isinstance(offset, BeforeStart):
        hours, minutes = divmod(int(offset.delta.total_seconds() // 60), 60)
        if not hours:
            return t.plural("meeting.plan.minutes_before", minutes)
        if not minutes:
            return t.plural("meeting.plan.hours", hours)
        return t("meeting.plan.hours_minutes", hours=hours, minutes=minutes)
    if offset.days == 0:
        return t("meeting.plan.same_day", time=_clock(t, offset.at))
    return t.plural("meeting.plan.working_days", offset.days, time=_clock(t, offset.at))


def plan_words(t: Translator, plan: ReminderPlan) -> str:
    """'Påminnelser: dagordning 2 arbetsdagar före kl. 09.00 · kort påminnelse 1 timme före · …'."""
    parts = [
        f"{t(f'meeting.plan.word.{kind.value}')} {timing_words(t, offset)}"
        for kind in ReminderKind
        if (offset := plan.offset(kind)) is not None
    ]
    return t("meeting.plan.summary", plan=" · ".join(parts)) if parts else t("meeting.plan.none")


def _number(input_id: str, label: str, value: str, bounds: tuple[int, int]) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "Input.Number",
        "id": input_id,
        "label": label,
        "min": bounds[0],
        "max": bounds[1],
    }
    try:
        block["value"] = int(value)
    except ValueError:
        pass  # what is no number is not shown back; its error says what is wanted
    return block


def reminder_section(t: Translator, values: dict[str, str], errors: dict[str, str]) -> list[dict[str, Any]]:
    """The reminder plan as inputs, one row a kind: on or off, and when (working days before and a
    time of day, or minutes before the start). `values` override the default plan's."""
    shown = plan_values(ReminderPlan()) | values
    body: list[dict[str, Any]] = [
        text(f"**{t('meeting.plan.section')}**"),
        text(t("meeting.plan.section_intro"), subtle=True),
    ]
    for kind in ReminderKind:
        switch = plan_field(kind, "on")
        toggle = {
            "type": "Input.Toggle",
            "id": switch,
            "title": t(f"meeting.plan.kind.{kind.value}"),
            "value": "true" if shown[switch] == "true" else "false",
            "valueOn": "true",
            "valueOff": "false",
            "wrap": True,
        }
        if kind in BEFORE_START_KINDS:
            key = plan_field(kind, "minutes")
            timing = [_number(key, t("meeting.plan.minutes"), shown[key], PLAN_MINUTES)]
        else:
            days, at = plan_field(kind, "days"), plan_field(kind, "at")
            timing = [
                _number(days, t("meeting.plan.days"), shown[days], PLAN_DAYS),
                {"type": "Input.Time", "id": at, "label": t("meeting.plan.at"), "value": shown[at]},
            ]
        columns = [
            {"type": "Column", "width": "stretch", "verticalContentAlignment": "Bottom", "items": [toggle]},
            *({"type": "Column", "width": "stretch", "items": [block]} for block in timing),
        ]
        body.append({"type": "ColumnSet", "columns": columns})
        for part in plan_parts(kind):
            body += field_error(t, errors, plan_field(kind, part))
    return body


def series_form_card(
    t: Translator,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_token: str,
    first_meeting: date | None = None,
) -> Card:
    """A new meeting series: what, how often, when and where. Values come back with their errors;
    `first_meeting` is the day the first meeting would be, when the first date is another weekday."""
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
        *first_date_error(t, errors, first_meeting),
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
        *reminder_section(t, values, errors),
    ]
    actions = [
        submit(t("meeting.form.send"), "meeting.series_submit", "positive", form_token=form_token),
        cancel_button(t("common.cancel"), form_token=form_token),
    ]
    return with_placeholders(t, card(body, actions))


def first_date_error(
    t: Translator, errors: dict[str, str], first_meeting: date | None
) -> list[dict[str, Any]]:
    """The first date's error; one that is not the series' weekday says when the first meeting
    would be."""
    if first_meeting is None or "first_date" not in errors:
        return field_error(t, errors, "first_date")
    weekday = t(f"meeting.weekday.{first_meeting.weekday()}")
    message = t(errors["first_date"], date=t.date_long(first_meeting), weekday=weekday)
    return [text(message, color="Attention")]


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


def list_card(
    t: Translator,
    title: str,
    rows: list[MeetingRow],
    *,
    coordinator: bool = False,
    intro: str | None = None,
) -> Card:
    body: list[dict[str, Any]] = [heading(title)]
    if intro:
        body.append(text(intro, subtle=True))
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
    if view.plan is not None and view.status != "cancelled":
        body.append(text(plan_words(t, view.plan), subtle=True))
    if view.coming is not None:
        body.append(text(coming_line(t, view.coming.people, view.coming.agencies)))
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
    if view.inspections_done:
        body.append(text(t("meeting.inspections_done"), subtle=True))
        body.append(bullets(view.inspections_done))
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
    if view.attend:
        actions.append(submit(t("poll.attendance.open"), "poll.attend", meeting_id=view.id))
    if view.attendance_list:
        actions.append(submit(t("poll.attendance.list"), "poll.attendance", meeting_id=view.id))
    if view.calendar and view.series_id is not None:
        actions.append(submit(t("meeting.calendar"), "meeting.calendar", series_id=view.series_id))
    if view.plan_series_id is not None:
        actions.append(submit(t("meeting.plan.edit"), "meeting.plan_form", series_id=view.plan_series_id))
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
    reminders: str = ""  # its reminder plan in words


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
        if row.reminders:
            body.append(text(row.reminders, subtle=True))
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


@dataclass(frozen=True)
class SeriesAnnouncementView:
    """A new series as the forum channel reads of it; its first meeting written in the reader's
    language (None: none held within the stored weeks)."""

    series_id: int
    title: str
    recurrence: Recurrence
    weekday: int
    start: time
    end: time
    place: str | None
    teams_link: str | None
    first_meeting: str | None
    first_day: date | None
    plan: ReminderPlan


def recurrence_words(t: Translator, recurrence: Recurrence, weekday: int) -> str:
    """'Varje tisdag', 'Varannan tisdag', 'Första tisdagen i varje månad'."""
    return t(f"meeting.announce.every.{recurrence.value}", weekday=t(f"meeting.weekday.{weekday}"))


def series_announced_card(t: Translator, view: SeriesAnnouncementView) -> Card:
    """What the forum reads when a series is set up: how often, when, where, the first meeting,
    and how to find its meetings and put them in a calendar."""
    pairs = [
        (t("meeting.form.recurrence"), recurrence_words(t, view.recurrence, view.weekday)),
        (t("meeting.announce.time"), f"{_clock(t, view.start)}–{_clock(t, view.end)}"),
    ]
    if view.place:
        pairs.append((t("meeting.place"), view.place))
    if view.teams_link:
        pairs.append((t("meeting.teams_link"), f"[{t('meeting.join')}]({view.teams_link})"))
    if view.first_meeting:
        pairs.append((t("meeting.announce.first"), view.first_meeting))
    body: list[dict[str, Any]] = [
        heading(t("meeting.announce.title", title=view.title)),
        facts(pairs),
        text(plan_words(t, view.plan), subtle=True),
    ]
    if view.first_day is not None:
        body.append(text(t("meeting.announce.pointer", date=view.first_day.isoformat())))
    return card(body, [submit(t("meeting.calendar"), "meeting.calendar", series_id=view.series_id)])


def end_series_confirm_card(
    t: Translator, *, series_id: int, title: str, ahead: int, note: str | None
) -> Card:
    """Before a series ends: how many meetings ahead will be called off; end it all the same?"""
    body = [
        heading(t("meeting.end.confirm_title", title=title)),
        text(t.plural("meeting.end.confirm_body", ahead)),
    ]
    if note:
        body.append(text(t("meeting.note", note=note)))
    confirm = submit(
        t("meeting.end.confirm"),
        "meeting.end_series",
        "destructive",
        series_id=series_id,
        note=note or "",
        confirmed=True,
    )
    return card(body, [confirm, cancel_button(t("common.cancel"))])


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


@dataclass(frozen=True)
class PlanFormView:
    """A running series' reminder plan as a form; `values` as plan_values writes them."""

    series_id: int
    version: int
    title: str
    values: dict[str, str]
    form_token: str
    errors: dict[str, str] = field(default_factory=dict)


def plan_form_card(t: Translator, view: PlanFormView, *, headline: str | None = None) -> Card:
    """The reminders of a running series, to change: the same section as on the new series' form."""
    body: list[dict[str, Any]] = [heading(t("meeting.plan.form_title", title=view.title))]
    if headline:
        body.append(text(headline, color="Warning"))
    body.append(text(t("meeting.plan.form_intro"), subtle=True))
    if view.errors:
        body.append(text(t("form.fix_errors"), color="Attention"))
    body += reminder_section(t, view.values, view.errors)
    actions = [
        submit(
            t("meeting.plan.save"),
            "meeting.plan_submit",
            "positive",
            form_token=view.form_token,
            series_id=view.series_id,
            version=view.version,
        ),
        cancel_button(t("common.cancel"), form_token=view.form_token),
    ]
    return with_placeholders(t, card(body, actions))


def plan_form_replaced_card(t: Translator, title: str) -> Card:
    """What an older reminders' form says once a newer one for the same series was handed out."""
    return card([text(t("meeting.plan.replaced", title=title))])


def plan_series_card(t: Translator, rows: list[SeriesRow]) -> Card:
    """The running series, each with a button that opens its reminders' form."""
    body: list[dict[str, Any]] = [heading(t("meeting.plan.choose_title"))]
    for row in rows:
        body.append(text(f"**{row.title}**: {row.when}"))
        if row.reminders:
            body.append(text(row.reminders, subtle=True))
        body.append(
            {
                "type": "ActionSet",
                "actions": [submit(t("meeting.plan.edit"), "meeting.plan_form", series_id=row.id)],
            }
        )
    return card(body)


def plan_saved_card(t: Translator, *, title: str, plan: ReminderPlan, replanned: int | None) -> Card:
    """What the coordinator reads once a series' reminders are saved: how many meetings ahead were
    planned again, or (None) that the plan was saved as it was."""
    if replanned is None:
        return card([heading(t("meeting.plan.unchanged", title=title)), text(plan_words(t, plan))])
    body = [
        heading(t("meeting.plan.saved", title=title)),
        text(plan_words(t, plan)),
        text(t.plural("meeting.plan.replanned", replanned), subtle=True),
    ]
    return card(body)
