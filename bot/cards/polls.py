"""Cards for quick polls: the form, the poll as one reader (or the forum channel) sees it, with
its vote on the card (Action.Execute, Universal Actions), and the list of polls; a meeting's
attendance poll, and who comes from each agency, for the coordinators."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.cards.common import (
    Card,
    cancel_button,
    card,
    choice_set,
    execute,
    facts,
    field_error,
    heading,
    submit,
    text,
    with_placeholders,
)
from bot.domain.polls import FORUM, LIMITS, MAX_OPTIONS, SUBSTITUTE_LIMIT
from bot.i18n import Translator


@dataclass(frozen=True)
class Named:
    code: str
    name: str


@dataclass(frozen=True)
class PollFormView:
    form_token: str
    agencies: list[Named]
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    shortcut: bool = True  # offer "Vilka förslag tar vi först?"
    note: str | None = None  # what the shortcut did, or why it could not


@dataclass(frozen=True)
class OptionRow:
    text: str
    votes: int | None  # None while the results are hidden
    chosen: bool = False  # the reader's own choice, when the card may show it
    voters: tuple[str, ...] = ()  # a named poll's voters for it, when the results are shown


@dataclass(frozen=True)
class PollCardView:
    """One poll as one reader may see it; texts already written in the reader's language."""

    id: int
    question: str
    options: list[OptionRow]
    multiple: bool
    anonymous: bool
    live: bool
    open: bool
    audience: str  # 'hela forumet' / the agency's name
    deadline: str  # when it closes, or closed
    answered: int
    eligible: int
    votable: bool  # the vote controls are drawn (a press outside the audience is refused)
    answered_by_reader: bool = False  # the reader has answered, also where their choice is not shown
    manage: str | None = None  # "close" | "reopen": what the reader may do as its keeper
    exportable: bool = False  # its keeper may have the results as a file
    refresh_user: str | None = None  # a Teams user id: their client asks for their own view
    notice: str | None = None
    notice_color: str = "Good"
    headline: str | None = None


@dataclass(frozen=True)
class PollRow:
    id: int
    question: str
    state: str  # already written: 'öppen till …' / 'stängd …'


def poll_form_card(t: Translator, view: PollFormView) -> Card:
    """A new poll: the question, its options one a line, how it is answered, until when, and
    whom it asks. Values come back with their errors."""
    values, errors = view.values, view.errors
    body: list[dict[str, Any]] = [heading(t("poll.form.title")), text(t("poll.form.intro"), subtle=True)]
    if view.note:
        body.append(text(view.note, color="Accent"))
    if errors:
        body.append(text(t("form.fix_errors"), color="Attention"))
    body += [
        {
            "type": "Input.Text",
            "id": "question",
            "label": t("poll.form.question"),
            "value": values.get("question", ""),
            "maxLength": LIMITS["question"],
            "isRequired": True,
        },
        *field_error(t, errors, "question"),
        {
            "type": "Input.Text",
            "id": "options",
            "label": t("poll.form.options", most=MAX_OPTIONS),
            "value": values.get("options", ""),
            "isMultiline": True,
            "maxLength": (LIMITS["option"] + 1) * MAX_OPTIONS,
            "isRequired": True,
        },
        *field_error(t, errors, "options"),
        choice_set(
            "multiple",
            t("poll.form.kind"),
            [("single", t("poll.kind.single")), ("multiple", t("poll.kind.multiple"))],
            value=values.get("multiple") or "single",
            required=True,
        ),
        *field_error(t, errors, "multiple"),
        choice_set(
            "anonymous",
            t("poll.form.secrecy"),
            [("named", t("poll.secrecy.named")), ("anonymous", t("poll.secrecy.anonymous"))],
            value=values.get("anonymous") or "named",
            required=True,
        ),
        *field_error(t, errors, "anonymous"),
        choice_set(
            "results",
            t("poll.form.results"),
            [("live", t("poll.results.live")), ("at_close", t("poll.results.at_close"))],
            value=values.get("results") or "live",
            required=True,
        ),
        *field_error(t, errors, "results"),
        {
            "type": "Input.Date",
            "id": "deadline_date",
            "label": t("poll.form.deadline_date"),
            "value": values.get("deadline_date", ""),
            "isRequired": True,
        },
        *field_error(t, errors, "deadline_date"),
        {
            "type": "Input.Time",
            "id": "deadline_time",
            "label": t("poll.form.deadline_time"),
            "value": values.get("deadline_time", ""),
            "isRequired": True,
        },
        *field_error(t, errors, "deadline_time"),
        text(t("poll.form.deadline_hint"), subtle=True),
        choice_set(
            "audience",
            t("poll.form.audience"),
            [(FORUM, t("poll.audience.forum")), *((a.code, a.name) for a in view.agencies)],
            value=values.get("audience") or FORUM,
            required=True,
        ),
        *field_error(t, errors, "audience"),
    ]
    actions = [submit(t("poll.form.send"), "poll.create", "positive", form_token=view.form_token)]
    if view.shortcut:
        actions.append(
            {
                **submit(t("poll.form.shortcut"), "poll.shortcut", form_token=view.form_token),
                "associatedInputs": "none",
            }
        )
    actions.append(cancel_button(t("common.cancel"), form_token=view.form_token))
    return with_placeholders(t, card(body, actions))


def _option_block(t: Translator, view: PollCardView, option: OptionRow) -> list[dict[str, Any]]:
    mark = "✔ " if option.chosen else ""
    line = f"{mark}**{option.text}**" if option.chosen else option.text
    if option.votes is not None:
        line += f" · {t.plural('poll.votes', option.votes)}"
        if view.answered:
            line += f" ({round(100 * option.votes / view.answered)} %)"
    blocks = [{**text(line), "spacing": "Small"}]
    if option.voters:
        blocks.append({**text(", ".join(option.voters), subtle=True), "spacing": "None"})
    return blocks


def poll_card(t: Translator, view: PollCardView) -> Card:
    """The poll: its options with their tallies (when shown), how many have answered of how many
    may, and for the reader the vote (their choice ticked when the card may show it)."""
    body: list[dict[str, Any]] = []
    if view.headline:
        body.append(heading(view.headline))
    body.append(heading(view.question))
    traits = [
        view.audience,
        t("poll.kind.multiple") if view.multiple else t("poll.kind.single"),
        t("poll.secrecy.anonymous") if view.anonymous else t("poll.secrecy.named"),
    ]
    body.append(text(" · ".join(traits), subtle=True))
    body.append(text(view.deadline, subtle=True))
    if view.notice:
        body.append(text(view.notice, color=view.notice_color))
    for option in view.options:
        body += _option_block(t, view, option)
    if view.options and view.options[0].votes is None:
        body.append(text(t("poll.results_hidden"), subtle=True))
    body.append(
        {
            **text(t.plural("poll.answered", view.answered, eligible=view.eligible), subtle=True),
            "separator": True,
        }
    )
    if view.answered_by_reader and not any(option.chosen for option in view.options):
        body.append(text(t("poll.you_answered"), subtle=True))
    actions: list[dict[str, Any]] = []
    if view.open and view.votable:
        chosen = ",".join(str(i) for i, option in enumerate(view.options) if option.chosen)
        body.append(
            {
                **choice_set(
                    "choices",
                    t("poll.your_choices") if view.multiple else t("poll.your_choice"),
                    [(str(i), option.text) for i, option in enumerate(view.options)],
                    value=chosen or None,
                    required=True,
                    error=t("poll.choose_first"),
                    multi=view.multiple,
                ),
                "style": "expanded",
            }
        )
        title = t("poll.change_vote") if view.answered_by_reader else t("poll.vote")
        actions.append({**execute(title, "poll.vote", poll_id=view.id), "style": "positive"})
    if view.manage == "close":
        actions.append(execute(t("poll.close"), "poll.close", poll_id=view.id))
    elif view.manage == "reopen":
        actions.append(execute(t("poll.reopen"), "poll.reopen", poll_id=view.id))
    if view.exportable:
        actions.append(submit(t("poll.export"), "poll.export", poll_id=view.id))
    result = card(body, actions)
    if view.refresh_user:
        # Universal Actions: the reader's client asks for their own view of the card when it shows
        # it, so that what only they may see (their choice) is never stored in a sent card
        result["refresh"] = {
            "action": {
                "type": "Action.Execute",
                "verb": "poll.view",
                "data": {"action": "poll.view", "poll_id": view.id},
            },
            "userIds": [view.refresh_user],
        }
    return result


def poll_file_card(t: Translator, *, question: str, url: str, minutes: int) -> Card:
    """A link to a poll's results file, for the one member it was made for."""
    body = [
        heading(t("poll.file.title", question=question)),
        text(t.plural("poll.file.intro", minutes), subtle=True),
    ]
    return card(body, [{"type": "Action.OpenUrl", "title": t("poll.file.open"), "url": url}])


def poll_list_card(t: Translator, rows: list[PollRow]) -> Card:
    """The polls the reader may see, open ones and those closed lately, each with its card."""
    body: list[dict[str, Any]] = [heading(t("poll.list.title"))]
    if not rows:
        body.append(text(t("poll.list.empty")))
    for row in rows:
        body.append(
            {
                "type": "ColumnSet",
                "separator": True,
                "columns": [
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [text(row.question), text(row.state, subtle=True)],
                    },
                    {
                        "type": "Column",
                        "width": "auto",
                        "items": [
                            {
                                "type": "ActionSet",
                                "actions": [submit(t("poll.list.show"), "poll.show", poll_id=row.id)],
                            }
                        ],
                    },
                ],
            }
        )
    return card(body)


# Attendance -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceCardView:
    """A meeting's attendance poll as one reader (None: the forum channel) may see it: how many
    gave each answer, never who (that is for the coordinators' list)."""

    poll_id: int
    meeting_id: int
    title: str  # the meeting's
    when: str  # already written: 'tisdag 1 december 2026 kl. 09.00–10.30'
    state: str  # already written: open until the meeting starts, closed, or the meeting called off
    open: bool
    options: list[OptionRow]  # the answers, written, with their counts; the reader's own ticked
    coming: int
    agencies: int
    answered: int
    eligible: int
    votable: bool = True
    substitute: str | None = None  # the reader's own substitute, on their own view
    coordinator: bool = False  # offer the list of who comes from each agency
    notice: str | None = None
    notice_color: str = "Good"


@dataclass(frozen=True)
class AgencyAttendance:
    name: str
    coming: list[str]
    substitutes: list[tuple[str, str]]  # the member, and whom they send
    maybe: list[str]
    not_coming: list[str]
    unanswered: list[str]


@dataclass(frozen=True)
class AttendanceListView:
    meeting_id: int
    title: str
    when: str
    state: str
    coming: int
    agencies: int
    answered: int
    eligible: int
    rows: list[AgencyAttendance]


def coming_line(t: Translator, people: int, agencies: int) -> str:
    """'12 kommer från 3 myndigheter', counted by the plural rules; nobody yet said so."""
    if people == 0:
        return t("poll.attendance.nobody_yet")
    return t.plural("poll.attendance.coming", people, agencies=t.plural("poll.attendance.agencies", agencies))


def attendance_card(t: Translator, view: AttendanceCardView) -> Card:
    """ "Kommer du?" for one meeting: how many gave each answer, who comes from how many agencies,
    and for the reader the answer (a substitute's name with "Skickar ersättare")."""
    body: list[dict[str, Any]] = [
        heading(t("poll.attendance.question")),
        text(f"**{view.title}** · {view.when}"),
        text(view.state, subtle=True),
    ]
    if view.notice:
        body.append(text(view.notice, color=view.notice_color))
    for option in view.options:
        line = f"✔ **{option.text}**" if option.chosen else option.text
        if option.votes is not None:
            line += f" · {t.plural('poll.attendance.answers', option.votes)}"
        body.append({**text(line), "spacing": "Small"})
    body.append({**text(f"**{coming_line(t, view.coming, view.agencies)}**"), "separator": True})
    body.append(text(t.plural("poll.answered", view.answered, eligible=view.eligible), subtle=True))
    if view.substitute:
        body.append(text(t("poll.attendance.your_substitute", name=view.substitute), subtle=True))
    actions: list[dict[str, Any]] = []
    if view.open and view.votable:
        chosen = next((str(i) for i, option in enumerate(view.options) if option.chosen), None)
        body.append(
            {
                **choice_set(
                    "choices",
                    t("poll.your_choice"),
                    [(str(i), option.text) for i, option in enumerate(view.options)],
                    value=chosen,
                    required=True,
                    error=t("poll.choose_first"),
                ),
                "style": "expanded",
            }
        )
        body.append(
            {
                "type": "Input.Text",
                "id": "substitute",
                "label": t("poll.attendance.substitute_label"),
                "value": view.substitute or "",
                "maxLength": SUBSTITUTE_LIMIT,
            }
        )
        title = t("poll.attendance.change") if chosen is not None else t("poll.attendance.send")
        actions.append({**execute(title, "poll.vote", poll_id=view.poll_id), "style": "positive"})
    if view.coordinator:
        actions.append(submit(t("poll.attendance.list"), "poll.attendance", meeting_id=view.meeting_id))
    return card(body, actions)


def attendance_list_card(t: Translator, view: AttendanceListView) -> Card:
    """Who comes to a meeting from each agency, and who sends whom in their place: for the
    coordinators, never for the channel."""
    body: list[dict[str, Any]] = [
        heading(t("poll.attendance.list_title", title=view.title)),
        text(view.when),
        text(view.state, subtle=True),
        text(f"**{coming_line(t, view.coming, view.agencies)}**"),
        text(t.plural("poll.answered", view.answered, eligible=view.eligible), subtle=True),
    ]
    if not view.rows:
        body.append(text(t("poll.attendance.list_empty"), subtle=True))
    for row in view.rows:
        pairs = []
        if row.coming:
            pairs.append((t("poll.attendance.answer.yes"), ", ".join(row.coming)))
        if row.substitutes:
            sent = [t("poll.attendance.sends", member=m, substitute=s) for m, s in row.substitutes]
            pairs.append((t("poll.attendance.answer.substitute"), ", ".join(sent)))
        if row.maybe:
            pairs.append((t("poll.attendance.answer.maybe"), ", ".join(row.maybe)))
        if row.not_coming:
            pairs.append((t("poll.attendance.answer.no"), ", ".join(row.not_coming)))
        if row.unanswered:
            pairs.append((t("poll.attendance.unanswered"), ", ".join(row.unanswered)))
        body.append({**text(f"**{row.name}**"), "separator": True})
        body.append(facts(pairs))
    return card(body)
