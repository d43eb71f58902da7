"""Proposed actions: their form rules and their lifecycle. Plain Python, no I/O.

Lifecycle (drawn in proposals.mmd beside this module):
    proposed|needs_info --accept--> accepted --plan--> planned --complete--> done --follow_up--> followed_up
    proposed|needs_info|accepted --reject (reason)--> rejected
    proposed --ask (question)--> needs_info --answer--> proposed
    proposed|needs_info|accepted --withdraw (author)--> withdrawn
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from bot.domain.forms import cut_to_limits, form_text, org_number_field
from bot.domain.identity import OrgNumber, find_personal_numbers
from bot.domain.members import MemberView, Role
from bot.domain.visibility import Audience, Visibility, can_see, reaches_other_agencies


class Status(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    NEEDS_INFO = "needs_info"
    PLANNED = "planned"
    DONE = "done"
    FOLLOWED_UP = "followed_up"
    WITHDRAWN = "withdrawn"


OPEN = frozenset({Status.PROPOSED, Status.NEEDS_INFO, Status.ACCEPTED, Status.PLANNED, Status.DONE})
EDITABLE = frozenset({Status.PROPOSED, Status.NEEDS_INFO, Status.ACCEPTED})


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class Actor(StrEnum):
    AUTHOR = "author"
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[Status]
    target: Status
    actor: Actor
    needs_note: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "accept", frozenset({Status.PROPOSED, Status.NEEDS_INFO}), Status.ACCEPTED, Actor.COORDINATOR
        ),
        Transition(
            "reject",
            frozenset({Status.PROPOSED, Status.NEEDS_INFO, Status.ACCEPTED}),
            Status.REJECTED,
            Actor.COORDINATOR,
            needs_note=True,
        ),
        Transition(
            "ask", frozenset({Status.PROPOSED}), Status.NEEDS_INFO, Actor.COORDINATOR, needs_note=True
        ),
        Transition("answer", frozenset({Status.NEEDS_INFO}), Status.PROPOSED, Actor.AUTHOR, needs_note=True),
        Transition("plan", frozenset({Status.ACCEPTED}), Status.PLANNED, Actor.COORDINATOR),
        Transition("complete", frozenset({Status.PLANNED}), Status.DONE, Actor.COORDINATOR),
        Transition("follow_up", frozenset({Status.DONE}), Status.FOLLOWED_UP, Actor.COORDINATOR),
        Transition(
            "withdraw",
            frozenset({Status.PROPOSED, Status.NEEDS_INFO, Status.ACCEPTED}),
            Status.WITHDRAWN,
            Actor.AUTHOR,
        ),
    )
}


def is_coordinator(member: MemberView | None) -> bool:
    return member is not None and member.has(Role.COORDINATOR)


def may_transition(
    member: MemberView | None, transition: Transition, author_id: int, audience: Audience
) -> bool:
    """The right role, and the item visible to them: a coordinator cannot act on what they may not see."""
    if member is None or not can_see(member.viewer, audience):
        return False
    if transition.actor is Actor.AUTHOR:
        return member.id == author_id
    return is_coordinator(member)


def available_transitions(
    member: MemberView | None, status: Status, author_id: int, audience: Audience
) -> list[Transition]:
    return [
        t
        for t in TRANSITIONS.values()
        if status in t.sources and may_transition(member, t, author_id, audience)
    ]


def channel_transitions(status: Status) -> list[Transition]:
    """The buttons on the forum channel's copy: the coordinators' steps (each click is checked)."""
    return [t for t in TRANSITIONS.values() if status in t.sources and t.actor is Actor.COORDINATOR]


def may_change_audience(member: MemberView, author_agency_id: int) -> bool:
    """Who may see a proposal, and its organisation number (possibly a sole trader's personal
    number), are the sharing agency's to decide: other agencies' coordinators edit the rest."""
    return member.agency.id == author_agency_id


def may_edit(member: MemberView | None, status: Status, author_id: int, audience: Audience) -> bool:
    if member is None or status not in EDITABLE or not can_see(member.viewer, audience):
        return False
    return member.id == author_id or is_coordinator(member)


# Form ---------------------------------------------------------------------------------------

LIMITS = {
    "name": 200,
    "org_number": 20,
    "address": 300,
    "industry_other": 100,
    "reason": 4000,
    "note": 1000,
}
OTHER_INDUSTRY = "annat"
FREE_TEXT = ("name", "address", "industry_other", "reason")


@dataclass(frozen=True)
class ProposalDraft:
    """A valid proposal form."""

    name: str
    org_number: OrgNumber | None
    address: str
    industry: str
    industry_other: str | None
    reason: str
    agency_ids: tuple[int, ...]
    urgency: Urgency
    visibility: Visibility
    period_from: date | None
    period_to: date | None

    def audience(self, author_agency_id: int) -> Audience:
        return Audience.of(self.visibility, author_agency_id, self.agency_ids)


@dataclass
class FormResult:
    draft: ProposalDraft | None
    errors: dict[str, str] = field(default_factory=dict)  # field -> message key
    values: dict[str, str] = field(default_factory=dict)  # what the user entered, cleaned, for redisplay


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def validate_form(
    raw: Mapping[str, Any],
    *,
    author_agency_id: int,
    agency_ids_by_code: Mapping[str, int],
    industries: Sequence[str],
    today: date,
) -> FormResult:
    """Check every field; on any error, no draft, and each problem keyed to its field."""
    values = {
        key: form_text(raw, key)
        for key in (
            "name",
            "org_number",
            "address",
            "industry",
            "industry_other",
            "reason",
            "agencies",
            "urgency",
            "visibility",
            "period_from",
            "period_to",
        )
    }
    errors: dict[str, str] = {}
    for key in ("name", "address", "reason"):
        if not values[key]:
            errors[key] = "form.required"
    cut_to_limits(values, errors, LIMITS)
    org = org_number_field(values, errors, today)

    industry = values["industry"]
    if industry not in industries and industry != OTHER_INDUSTRY:
        errors["industry"] = "form.industry"
    elif industry == OTHER_INDUSTRY and not values["industry_other"]:
        errors["industry_other"] = "form.required"

    codes = [code.strip() for code in values["agencies"].split(",") if code.strip()]
    unknown = [code for code in codes if code not in agency_ids_by_code]
    agency_ids = tuple(dict.fromkeys(agency_ids_by_code[c] for c in codes if c in agency_ids_by_code))
    if unknown:
        errors["agencies"] = "form.agencies_unknown"
    elif not agency_ids:
        errors["agencies"] = "form.agencies_required"

    urgency_value = values["urgency"] or Urgency.NORMAL.value
    if urgency_value not in {u.value for u in Urgency}:
        errors["urgency"] = "form.choice"
    visibility_value = values["visibility"] or Visibility.narrowest().value
    if visibility_value not in {v.value for v in Visibility}:
        errors["visibility"] = "form.choice"
    elif visibility_value == Visibility.AGENCIES.value and not set(agency_ids) - {author_agency_id}:
        errors["visibility"] = "form.visibility_no_others"

    period_from = _date(values["period_from"]) if values["period_from"] else None
    period_to = _date(values["period_to"]) if values["period_to"] else None
    if values["period_from"] and period_from is None:
        errors["period_from"] = "form.date"
    if values["period_to"] and period_to is None:
        errors["period_to"] = "form.date"
    if period_from and period_to and period_to < period_from:
        errors["period_to"] = "form.period_order"

    if visibility_value in {v.value for v in Visibility} and reaches_other_agencies(
        Audience.of(visibility_value, author_agency_id)
    ):
        errors.update(personal_number_errors(values))

    if errors:
        return FormResult(None, errors, values)
    draft = ProposalDraft(
        name=values["name"],
        org_number=org,
        address=values["address"],
        industry=industry,
        industry_other=values["industry_other"] or None if industry == OTHER_INDUSTRY else None,
        reason=values["reason"],
        agency_ids=agency_ids,
        urgency=Urgency(urgency_value),
        visibility=Visibility(visibility_value),
        period_from=period_from,
        period_to=period_to,
    )
    return FormResult(draft, {}, values)


def personal_number_errors(values: Mapping[str, str | None]) -> dict[str, str]:
    """Free text that others will read must not carry a personal identity number."""
    return {
        key: "form.personal_number"
        for key in FREE_TEXT
        if values.get(key) and find_personal_numbers(str(values[key]))
    }


def proposal_number(year: int, sequence: int) -> str:
    return f"F-{year}-{sequence:04d}"


_NUMBER = re.compile(r"F-([0-9]{4})-([0-9]{1,6})")


def parse_proposal_number(text: str) -> tuple[int, int] | None:
    match = _NUMBER.fullmatch(text.strip().upper())
    return (int(match.group(1)), int(match.group(2))) if match else None
