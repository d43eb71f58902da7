"""Cards for proposals: the form, the proposal itself (per viewer), lists and history."""

from __future__ import annotations

from dataclasses import dataclass
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
from bot.domain.proposals import LIMITS, OTHER_INDUSTRY, Transition
from bot.i18n import Translator

STATUS_COLOR = {
    "proposed": "Accent",
    "accepted": "Good",
    "rejected": "Attention",
    "needs_info": "Warning",
    "planned": "Good",
    "done": "Good",
    "followed_up": "Default",
    "withdrawn": "Default",
}


@dataclass(frozen=True)
class Named:
    code: str
    name: str


@dataclass(frozen=True)
class ProposalCardView:
    """What one viewer may see of a proposal, already masked and named."""

    id: int
    number: str
    version: int
    business_name: str
    org_number: str | None
    address: str
    industry: str
    reason: str
    agencies: list[str]
    urgency: str
    visibility: str
    period: str | None
    status: str
    status_note: str | None
    author: str
    author_agency: str
    question: str | None
    answer: str | None
    transitions: list[Transition]
    editable: bool
    # the coming meetings an accepted proposal may be put on, the next first: (id, when)
    meetings: tuple[tuple[int, str], ...] = ()
    # the joint inspections booked from it that the reader may see: "T-2026-0001 (bokad)"
    inspections: tuple[str, ...] = ()


def _input_text(
    input_id: str,
    label: str,
    value: str,
    *,
    multiline: bool = False,
    required: bool = False,
    placeholder: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "Input.Text",
        "id": input_id,
        "label": label,
        "value": value,
        "maxLength": LIMITS.get(input_id, 1000),
        "isMultiline": multiline,
    }
    if required:
        block["isRequired"] = True
    if placeholder:
        block["placeholder"] = placeholder
    return block


def form_card(
    t: Translator,
    *,
    agencies: list[Named],
    industries: list[Named],
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    edit: tuple[int, int] | None = None,
    number: str | None = None,
    form_token: str,
    audience_locked_by: str | None = None,
) -> Card:
    """The proposal form; with `edit` (id, version) it edits an existing proposal. `form_token`
    names this card: it is submitted once, or cancelled. `audience_locked_by`: the author's agency,
    when the editor is of another one and may not change who sees it, who takes part, or the
    organisation number."""
    values = values or {}
    errors = errors or {}
    industry_choices = [(i.code, i.name) for i in industries] + [
        (OTHER_INDUSTRY, t("proposal.industry_other"))
    ]
    body: list[dict[str, Any]] = [
        heading(t("proposal.edit_title", number=number) if edit else t("proposal.form_title")),
        text(t("proposal.edit_intro" if edit else "proposal.form_intro"), subtle=True),
    ]
    if errors:
        body.append(text(t("form.fix_errors"), color="Attention"))
    body += [
        _input_text("name", t("proposal.name"), values.get("name", ""), required=True),
        *field_error(t, errors, "name"),
        _input_text(
            "org_number", t("proposal.org_number"), values.get("org_number", ""), placeholder="556016-0680"
        ),
        *field_error(t, errors, "org_number"),
        _input_text("address", t("proposal.address"), values.get("address", ""), required=True),
        *field_error(t, errors, "address"),
        choice_set(
            "industry",
            t("proposal.industry"),
            industry_choices,
            value=values.get("industry") or None,
            required=True,
        ),
        *field_error(t, errors, "industry"),
        _input_text("industry_other", t("proposal.industry_other_label"), values.get("industry_other", "")),
        *field_error(t, errors, "industry_other"),
        _input_text("reason", t("proposal.reason"), values.get("reason", ""), multiline=True, required=True),
        *field_error(t, errors, "reason"),
        choice_set(
            "agencies",
            t("proposal.agencies"),
            [(a.code, a.name) for a in agencies],
            value=values.get("agencies") or None,
            multi=True,
            required=True,
        ),
        *field_error(t, errors, "agencies"),
        {
            **choice_set(
                "urgency",
                t("proposal.urgency"),
                [(u, t(f"urgency.{u}")) for u in ("low", "normal", "high")],
                value=values.get("urgency") or "normal",
            ),
            "style": "expanded",
        },
        *field_error(t, errors, "urgency"),
        {
            **choice_set(
                "visibility",
                t("proposal.visibility"),
                [(v, t(f"visibility.{v}")) for v in ("agency", "agencies", "forum")],
                value=values.get("visibility") or "agency",
            ),
            "style": "expanded",
        },
        text(t("proposal.visibility_hint"), subtle=True),
        *field_error(t, errors, "visibility"),
        {
            "type": "Input.Date",
            "id": "period_from",
            "label": t("proposal.period_from"),
            "value": values.get("period_from", ""),
        },
        *field_error(t, errors, "period_from"),
        {
            "type": "Input.Date",
            "id": "period_to",
            "label": t("proposal.period_to"),
            "value": values.get("period_to", ""),
        },
        *field_error(t, errors, "period_to"),
    ]
    if audience_locked_by:
        locked = {"org_number", "agencies", "visibility"}
        hint = t("proposal.visibility_hint")
        body = [b for b in body if b.get("id") not in locked and b.get("text") != hint]
        names = {a.code: a.name for a in agencies}
        chosen = [names.get(code, code) for code in values.get("agencies", "").split(",") if code]
        body.append(
            facts(
                [
                    (t("proposal.shown.org_number"), values.get("org_number") or "–"),
                    (t("proposal.shown.agencies"), ", ".join(chosen) or "–"),
                    (t("proposal.shown.visibility"), t(f"visibility.{values.get('visibility') or 'agency'}")),
                ]
            )
        )
        body.append(text(t("proposal.audience_locked", agency=audience_locked_by), subtle=True))
    if edit:
        action = submit(
            t("proposal.save"),
            "proposal.save",
            "positive",
            proposal_id=edit[0],
            version=edit[1],
            form_token=form_token,
        )
    else:
        action = submit(t("proposal.send"), "proposal.submit", "positive", form_token=form_token)
    return with_placeholders(
        t, card(body, [action, cancel_button(t("common.cancel"), form_token=form_token)])
    )


def widen_confirmation_card(
    t: Translator,
    number: str,
    values: dict[str, str],
    proposal_id: int,
    version: int,
    reach: list[str],
    form_token: str,
) -> Card:
    """Asks before a proposal is shown to more agencies; the values ride along to be checked again."""
    data = {key: value for key, value in values.items() if value}
    return card(
        [
            heading(t("proposal.widen_title", number=number)),
            text(t.plural("proposal.widen_body", len(reach))),
            bullets(reach),
            text(t("proposal.widen_secrecy"), subtle=True),
        ],
        [
            submit(
                t("proposal.widen_confirm"),
                "proposal.save",
                "positive",
                proposal_id=proposal_id,
                version=version,
                confirm_widen=True,
                **data,
                form_token=form_token,
            ),
            cancel_button(t("common.cancel"), form_token=form_token),
        ],
    )


def proposal_card(t: Translator, view: ProposalCardView, *, headline: str | None = None) -> Card:
    pairs = [
        (t("proposal.shown.status"), t(f"status.proposal.{view.status}")),
        (t("proposal.shown.org_number"), view.org_number or "–"),
        (t("proposal.shown.address"), view.address),
        (t("proposal.shown.industry"), view.industry),
        (t("proposal.shown.agencies"), ", ".join(view.agencies)),
        (t("proposal.shown.urgency"), t(f"urgency.{view.urgency}")),
        (t("proposal.shown.visibility"), t(f"visibility.{view.visibility}")),
        (t("proposal.shown.author"), f"{view.author}, {view.author_agency}"),
    ]
    if view.period:
        pairs.append((t("proposal.shown.period"), view.period))
    body: list[dict[str, Any]] = []
    if headline:
        body.append(text(headline, subtle=True))
    body += [
        heading(f"{view.number} · {view.business_name}"),
        facts(pairs),
        text(view.reason),
    ]
    if view.question:
        body.append(text(t("proposal.shown.question", note=view.question)))  # yellow is unreadable on white
    if view.answer:
        body.append(text(t("proposal.shown.answer", note=view.answer)))
    if view.status_note and view.status == "rejected":
        body.append(text(t("proposal.shown.reason_rejected", note=view.status_note), color="Attention"))
    elif view.status_note and view.status not in ("needs_info", "proposed"):
        # needs_info and proposed carry the question and the answer, shown above
        body.append(text(t("proposal.shown.note", note=view.status_note)))
    if view.inspections:
        body.append(text(t("proposal.shown.inspections", inspections=", ".join(view.inspections))))
    actions: list[dict[str, Any]] = []
    if any(tr.needs_note for tr in view.transitions):
        body.append(
            {
                "type": "Input.Text",
                "id": "note",
                "label": t("proposal.note_label"),
                "isMultiline": True,
                "maxLength": LIMITS["note"],
            }
        )
    if view.meetings and any(tr.name == "accept" for tr in view.transitions):
        body.append(
            choice_set(
                "meeting_id",
                t("proposal.meeting_label"),
                [(str(meeting_id), when) for meeting_id, when in view.meetings],
                value=str(view.meetings[0][0]),
            )
        )
    for transition in view.transitions:
        if transition.name == "plan":
            # planned by booking its joint inspection (or marked so, for one booked elsewhere)
            book = t("proposal.book_inspection")
            actions.append(submit(book, "inspection.from_proposal", "positive", proposal_id=view.id))
        style = (
            "destructive"
            if transition.name in ("reject", "withdraw")
            else ("positive" if transition.name in ("accept", "answer") else None)
        )
        actions.append(
            submit(
                t(f"transition.{transition.name}"),
                "proposal.transition",
                style,
                proposal_id=view.id,
                version=view.version,
                transition=transition.name,
            )
        )
    if view.editable:
        actions.append(submit(t("proposal.edit"), "proposal.edit", proposal_id=view.id))
    actions.append(submit(t("proposal.history"), "proposal.open", proposal_id=view.id))
    return card(body, actions)


def list_card(
    t: Translator,
    title: str,
    rows: list[tuple[int, str, str, str]],
    *,
    page: int,
    more: bool,
    filters: dict[str, str],
) -> Card:
    """rows: (id, number, business name, status)."""
    if not rows:
        return card([heading(title), text(t("proposal.list_empty"))])
    body: list[dict[str, Any]] = [
        heading(title),
        text(t.plural("proposal.list_page", len(rows), page=page), subtle=True),
    ]
    for proposal_id, number, name, status in rows:
        body.append(
            {
                "type": "ColumnSet",
                "separator": True,
                "selectAction": submit(number, "proposal.open", proposal_id=proposal_id),
                "columns": [
                    {"type": "Column", "width": "auto", "items": [text(f"**{number}**")]},
                    {"type": "Column", "width": "stretch", "items": [text(name)]},
                    {
                        "type": "Column",
                        "width": "auto",
                        "items": [text(t(f"status.proposal.{status}"), color=STATUS_COLOR.get(status))],
                    },
                ],
            }
        )
    actions = []
    if page > 1:
        actions.append(submit(t("list.previous"), "proposal.list", page=page - 1, **filters))
    if more:
        actions.append(submit(t("list.next"), "proposal.list", page=page + 1, **filters))
    return card(body, actions)


def history_card(t: Translator, view: ProposalCardView, events: list[tuple[str, str, str]]) -> Card:
    """events: (when, who, what)."""
    body = [
        heading(t("proposal.history_title", number=view.number)),
        facts([(when, f"{who}: {what}") for when, who, what in events]),
    ]
    return card(body)


def withdrawn_card(t: Translator, number: str) -> Card:
    """What a copy shows once its reader may no longer see the proposal."""
    return card([heading(number), text(t("proposal.no_longer_shared"), subtle=True)])
