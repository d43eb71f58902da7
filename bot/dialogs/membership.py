"""Membership: a Teams user asks to join the forum for one agency, and coordinators and admins
decide pending registrations.

Registration

States and steps (drawn in registration.mmd):
    START --register ("registrera mig")--> CHOOSING_AGENCY --agency_chosen (typed or picked)--> END
    CHOOSING_AGENCY --unknown_agency--> CHOOSING_AGENCY
    CHOOSING_AGENCY --cancel ("avbryt") | timeout--> END
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from bot.cards.common import card, heading, text
from bot.cards.membership import decided_card, pending_list_card, registration_card, registration_sent_card
from bot.dialogs.router import END, Access, CardId, Code, Ctx, Flow, Router, SubmitData, start_flow
from bot.dialogs.steps import START, Step
from bot.domain.members import Role
from bot.domain.text import command_words
from bot.services.membership import DecisionResult, RegistrationResult


class RegistrationState(StrEnum):
    CHOOSING_AGENCY = "choosing_agency"  # the agencies are offered; the user picks or types one


STEPS = (
    Step(START, RegistrationState.CHOOSING_AGENCY, "register"),
    Step(RegistrationState.CHOOSING_AGENCY, RegistrationState.CHOOSING_AGENCY, "unknown_agency"),
    Step(RegistrationState.CHOOSING_AGENCY, END, "agency_chosen"),
    # the router ends any flow on `avbryt`/`cancel`, and one left unanswered too long
    Step(RegistrationState.CHOOSING_AGENCY, END, "cancel"),
    Step(RegistrationState.CHOOSING_AGENCY, END, "timeout"),
)


class RegistrationSubmit(SubmitData):
    agency: Code | None = None


def register(router: Router) -> None:
    async def choosing_agency(ctx: Ctx) -> str:
        """A typed answer: an agency's short code or name."""
        wanted = command_words(ctx.turn.text)
        agencies = await ctx.membership.agencies.active()
        match = next(
            (a for a in agencies if wanted in (a.code.lower(), a.name_sv.lower(), a.name_en.lower())),
            None,
        )
        if match is None:
            ctx.say(ctx.t("registration.unknown_agency", answer=ctx.turn.text[:60]))
            return RegistrationState.CHOOSING_AGENCY
        await finish(ctx, match.code, replace=False)
        return END

    flow = router.flow(Flow("registration", {RegistrationState.CHOOSING_AGENCY: choosing_agency}))

    @router.command("help.cmd.register", "registrera mig", "register", "registrera")
    async def start(ctx: Ctx) -> None:
        """Offer the agencies; the user picks one on the card or types its code."""
        if ctx.member is not None and ctx.member.status.value in ("approved", "pending"):
            ctx.say(ctx.t("registration.already_" + ctx.member.status.value))
            return
        if not ctx.turn.personal:
            ctx.say(ctx.t("registration.personal_only"))
            return
        agencies = await ctx.membership.agencies.active()
        ctx.send_card(registration_card(ctx.t, agencies))
        ctx.say(ctx.t("registration.or_type", codes=", ".join(a.code for a in agencies)))
        start_flow(ctx, flow, RegistrationState.CHOOSING_AGENCY)

    @router.action("register.submit", access=Access.EVERYONE, data=RegistrationSubmit)
    async def submitted(ctx: Ctx, data: RegistrationSubmit) -> None:
        """The registration card was submitted (only ever shown in personal chat)."""
        if not ctx.turn.personal:
            ctx.say(ctx.t("registration.personal_only"))
            return
        code = data.agency
        if not code:
            agencies = await ctx.membership.agencies.active()
            ctx.replace_card(registration_card(ctx.t, agencies, error=ctx.t("registration.agency_required")))
            return
        await finish(ctx, code, replace=True)
        ctx.state.pop("flow", None)

    async def finish(ctx: Ctx, code: str, *, replace: bool) -> None:
        agency = await ctx.membership.agencies.by_code(code)
        if agency is None:
            agencies = await ctx.membership.agencies.active()
            ctx.replace_card(
                registration_card(
                    ctx.t, agencies, error=ctx.t("registration.unknown_agency", answer=code[:60])
                )
            )
            return
        roster = await ctx.roster.member(ctx.turn.user.teams_id)
        result, member = await ctx.membership.register(ctx.turn, agency, roster)
        if result is RegistrationResult.REGISTERED and member is not None:
            ctx.member = member
            sent = registration_sent_card(ctx.t, member)
            if replace:
                ctx.replace_card(sent)
            else:
                ctx.send_card(sent)
            return
        if result is RegistrationResult.APPROVED_AS_ADMIN:
            ctx.member = member
            message = ctx.t("registration.approved_as_admin")
        elif result is RegistrationResult.NO_AAD_ID:
            message = ctx.t("registration.no_aad_id")
        else:
            already = "approved" if result is RegistrationResult.ALREADY_MEMBER else "pending"
            message = ctx.t("registration.already_" + already)
        if replace:  # the card's buttons must not stay live
            ctx.replace_card(card([heading(ctx.t("registration.title")), text(message)]))
        else:
            ctx.say(message)

    register_approvals(router)


class DecisionSubmit(SubmitData):
    member_id: CardId
    role: Literal["inspector", "coordinator"] = "inspector"


def register_approvals(router: Router) -> None:
    @router.command("help.cmd.pending", "väntande", "pending", "ansökningar", access=Access.COORDINATOR)
    async def list_pending(ctx: Ctx) -> None:
        """Pending registrations, each with its buttons."""
        members = await ctx.membership.pending()
        ctx.send_card(pending_list_card(ctx.t, members, can_grant_coordinator=ctx.is_admin))

    async def decide(ctx: Ctx, data: DecisionSubmit, approve: bool) -> None:
        decision = await ctx.membership.decide(
            ctx.member, ctx.turn.user.aad_object_id, data.member_id, approve, Role(data.role)
        )
        if decision.result is DecisionResult.FORBIDDEN:
            ctx.say(ctx.t("approval.not_allowed"))
        elif decision.result is DecisionResult.STALE:
            ctx.say(ctx.t("approval.stale"))
        elif decision.member is not None:
            by = ctx.member.name if ctx.member else ctx.turn.user.name
            ctx.replace_card(decided_card(ctx.t, decision.member, approve, by))

    @router.action("registration.approve", access=Access.COORDINATOR, data=DecisionSubmit)
    async def approve(ctx: Ctx, data: DecisionSubmit) -> None:
        """Approve a pending registration with the role on the button."""
        await decide(ctx, data, True)

    @router.action("registration.reject", access=Access.COORDINATOR, data=DecisionSubmit)
    async def reject(ctx: Ctx, data: DecisionSubmit) -> None:
        """Reject a pending registration."""
        await decide(ctx, data, False)
