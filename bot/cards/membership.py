"""Cards for registration and its approval."""

from __future__ import annotations

from bot.cards.common import Card, card, choice_set, facts, heading, submit, text
from bot.domain.members import AgencyView, MemberView
from bot.i18n import Translator


def registration_card(
    t: Translator,
    agencies: list[AgencyView],
    *,
    selected: str | None = None,
    error: str | None = None,
) -> Card:
    body = [
        heading(t("registration.title")),
        text(t("registration.intro")),
        choice_set(
            "agency",
            t("registration.agency_label"),
            [(a.code, a.name(t.language)) for a in agencies],
            value=selected,
            required=True,
            error=t("registration.agency_required"),
        ),
    ]
    if error:
        body.append(text(error, color="Attention"))
    return card(
        body,
        [
            submit(t("registration.submit"), "register.submit", "positive"),
            submit(t("common.cancel"), "cancel"),
        ],
    )


def registration_sent_card(t: Translator, member: MemberView) -> Card:
    return card(
        [
            heading(t("registration.title")),
            text(t("registration.pending", agency=member.agency.name(t.language))),
        ]
    )


def _approval_buttons(t: Translator, member: MemberView, *, can_grant_coordinator: bool) -> list[dict]:
    """Approve (as inspector, or as coordinator when the approver may grant it) or reject."""
    buttons = [
        submit(
            t("approval.approve_inspector"),
            "registration.approve",
            "positive",
            member_id=member.id,
            role="inspector",
        )
    ]
    if can_grant_coordinator:
        buttons.append(
            submit(
                t("approval.approve_coordinator"),
                "registration.approve",
                member_id=member.id,
                role="coordinator",
            )
        )
    buttons.append(submit(t("approval.reject"), "registration.reject", "destructive", member_id=member.id))
    return buttons


def _applicant(t: Translator, member: MemberView) -> dict:
    return facts(
        [
            (t("approval.name"), member.name),
            (t("approval.email"), member.email or "–"),
            (t("approval.agency"), member.agency.name(t.language)),
        ]
    )


def pending_registration_card(t: Translator, member: MemberView, *, can_grant_coordinator: bool) -> Card:
    return card(
        [heading(t("approval.title")), _applicant(t, member)],
        _approval_buttons(t, member, can_grant_coordinator=can_grant_coordinator),
    )


def pending_list_card(t: Translator, members: list[MemberView], *, can_grant_coordinator: bool) -> Card:
    if not members:
        return card([heading(t("approval.list_title")), text(t("approval.none"))])
    body: list[dict] = [
        heading(t("approval.list_title")),
        text(t.plural("approval.waiting", len(members)), subtle=True),
    ]
    for member in members:
        body.append({"type": "Container", "separator": True, "items": [_applicant(t, member)]})
        body.append(
            {
                "type": "ActionSet",
                "actions": _approval_buttons(t, member, can_grant_coordinator=can_grant_coordinator),
            }
        )
    return card(body)


def decided_card(t: Translator, member: MemberView, approved: bool, by: str) -> Card:
    key = "approval.done_approved" if approved else "approval.done_rejected"
    return card(
        [
            heading(t("approval.title")),
            facts(
                [
                    (t("approval.name"), member.name),
                    (t("approval.agency"), member.agency.name(t.language)),
                ]
            ),
            text(t(key, by=by), color="Good" if approved else "Attention"),
        ]
    )
