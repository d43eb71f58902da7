"""Membership of the forum and its channel: registration, approval, channel linking."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import membership as membership_cards
from bot.conversation import RosterEntry, Turn, User
from bot.domain.members import (
    AgencyView,
    MemberStatus,
    MemberView,
    Role,
    may_decide_registration,
    may_link_channel,
)
from bot.i18n import Translator
from bot.settings import Settings
from bot.storage.audit import Audit
from bot.storage.membership import Agencies, Channels, Members
from bot.storage.outbox import Outbox

FORUM_CHANNEL = "forum"
ALL_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.INSPECTOR})


def channel_of(turn: Turn) -> str:
    """The channel's own id: a turn in a channel thread has `;messageid=…` appended."""
    return turn.conversation_id.split(";messageid=")[0]


class RegistrationResult(StrEnum):
    REGISTERED = "registered"
    APPROVED_AS_ADMIN = "approved_as_admin"
    ALREADY_PENDING = "already_pending"
    ALREADY_MEMBER = "already_member"
    NO_AAD_ID = "no_aad_id"


class DecisionResult(StrEnum):
    DONE = "done"
    FORBIDDEN = "forbidden"
    STALE = "stale"


@dataclass(frozen=True)
class Decision:
    result: DecisionResult
    member: MemberView | None = None


@dataclass(frozen=True)
class Applicant:
    """Who asks to join, as Teams and its roster know them."""

    aad_object_id: str
    teams_id: str
    name: str
    email: str | None
    locale: str | None = None
    personal_conversation: dict[str, Any] | None = None  # their personal chat with the bot, if known
    language: str | None = None  # the language they chose already, if any


@dataclass(frozen=True)
class ChannelPlace:
    """Where a team channel is, for posts into it as new threads."""

    conversation_id: str
    team_id: str | None
    tenant_id: str | None
    service_url: str
    reference: dict[str, Any]


class MembershipService:
    """Who belongs to the forum, decided inside one unit of work (`session`)."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.members = Members(session)
        self.agencies = Agencies(session)
        self.audit = Audit(session)
        self.outbox = Outbox(session)
        self.channels = Channels(session)

    def is_admin(self, aad_object_id: str | None) -> bool:
        return bool(aad_object_id) and aad_object_id in self.settings.admin_ids

    async def identify(self, user: User) -> MemberView | None:
        if not user.aad_object_id:
            return None
        return await self.members.by_aad_id(user.aad_object_id)

    async def remember_personal_chat(self, member: MemberView, turn: Turn) -> None:
        """Keep the member's personal chat, so that notices can reach them later."""
        if turn.personal:
            await self.members.remember_conversation(member.id, turn.reference, turn.locale)

    async def send_personal(
        self, member: MemberView, key: str, card: dict[str, Any], track: dict[str, Any] | None = None
    ) -> bool:
        """A card to the member's personal chat through the outbox; False when there is none yet."""
        reference = await self.members.personal_conversation(member.id)
        if not reference:
            return False
        payload: dict[str, Any] = {"card": card}
        if track is not None:
            payload["track"] = track
        await self.outbox.enqueue(key, reference, payload)
        return True

    async def register(
        self, turn: Turn, agency: AgencyView, roster: RosterEntry | None
    ) -> tuple[RegistrationResult, MemberView | None]:
        """Register the turn's user with `agency`: pending, or approved at once for an admin."""
        user = turn.user
        if not user.aad_object_id:
            return RegistrationResult.NO_AAD_ID, None
        existing = await self.members.by_aad_id(user.aad_object_id)
        if existing and existing.status is MemberStatus.APPROVED:
            return RegistrationResult.ALREADY_MEMBER, existing
        if existing and existing.status is MemberStatus.PENDING:
            return RegistrationResult.ALREADY_PENDING, existing
        applicant = Applicant(
            aad_object_id=user.aad_object_id,
            teams_id=user.teams_id,
            name=(roster.name if roster and roster.name else user.name) or user.teams_id,
            email=roster.email if roster else None,
            locale=turn.locale,
            personal_conversation=turn.reference if turn.personal else None,
        )
        member = await self.apply(applicant, agency, rejected=existing)
        if self.is_admin(user.aad_object_id):
            member = await self.admit(member, ALL_ROLES, by="settings", actor_aad_id=user.aad_object_id)
            return RegistrationResult.APPROVED_AS_ADMIN, member
        await self._ask_approvers(member)
        return RegistrationResult.REGISTERED, member

    async def apply(
        self,
        applicant: Applicant,
        agency: AgencyView,
        *,
        rejected: MemberView | None = None,
        by: str | None = None,
    ) -> MemberView:
        """A pending membership for `agency`, audited; `rejected` is the applicant's earlier,
        rejected membership, which applies again. Nobody is asked yet: `register` does that."""
        if rejected is not None:
            member = await self.members.reapply(rejected.id, agency.id, applicant.name, applicant.email)
        else:
            member = await self.members.add(
                aad_object_id=applicant.aad_object_id,
                teams_user_id=applicant.teams_id,
                name=applicant.name,
                email=applicant.email,
                agency_id=agency.id,
                status=MemberStatus.PENDING,
                roles=frozenset({Role.INSPECTOR}),
                locale=applicant.locale,
                personal_conversation=applicant.personal_conversation,
                language=applicant.language,
            )
        await self.audit.record(
            "created",
            "member",
            member.id,
            actor_id=member.id,
            actor_aad_id=applicant.aad_object_id,
            details=_by({"agency": agency.code}, by),
        )
        return member

    async def admit(
        self, member: MemberView, roles: frozenset[Role], *, by: str, actor_aad_id: str | None = None
    ) -> MemberView:
        """Approve `member` with `roles` on the authority `by` names ("settings" for an
        administrator named there, "demo"), not on a coordinator's decision: nothing is checked
        and nobody is told."""
        return await self._settle(member.id, MemberStatus.APPROVED, roles, None, actor_aad_id, by)

    async def _settle(
        self,
        member_id: int,
        status: MemberStatus,
        roles: frozenset[Role],
        actor: MemberView | None,
        actor_aad_id: str | None,
        by: str | None = None,
    ) -> MemberView:
        """Record a decision on a pending membership, and audit it."""
        decided = await self.members.decide(member_id, status, roles, actor.id if actor else None)
        approved = status is MemberStatus.APPROVED
        await self.audit.record(
            status.value,
            "member",
            member_id,
            actor_id=actor.id if actor else None,
            actor_aad_id=actor_aad_id,
            details=_by({"roles": sorted(decided.roles)} if approved else {}, by) or None,
        )
        return decided

    async def approvers(self) -> list[MemberView]:
        """Approved coordinators and admins, and admins named in settings who are members."""
        found = {m.id: m for m in await self.members.approved_with_role(Role.COORDINATOR)}
        found.update({m.id: m for m in await self.members.approved_with_role(Role.ADMIN)})
        for admin in await self.members.with_aad_ids(self.settings.admin_ids):
            found.setdefault(admin.id, admin)
        return list(found.values())

    async def _ask_approvers(self, member: MemberView) -> None:
        for approver in await self.approvers():
            reference = await self.members.personal_conversation(approver.id)
            if not reference:
                continue
            t = await self._translator_for(approver)
            card = membership_cards.pending_registration_card(
                t,
                member,
                can_grant_coordinator=self.is_admin(approver.aad_object_id) or approver.has(Role.ADMIN),
            )
            await self.outbox.enqueue(
                f"registration:{member.id}:{member.status}:{approver.id}:"
                f"{await self._registration_round(member)}",
                reference,
                {"card": card},
            )

    async def _registration_round(self, member: MemberView) -> int:
        return len(await self.audit.for_item("member", member.id))

    async def _translator_for(self, member: MemberView) -> Translator:
        return Translator(await self.members.language(member.id, self.settings.default_language))

    async def pending(self) -> list[MemberView]:
        return await self.members.pending()

    async def decide(
        self,
        actor: MemberView | None,
        actor_aad_id: str | None,
        member_id: int,
        approve: bool,
        role: Role = Role.INSPECTOR,
    ) -> Decision:
        """Approve (with `role`) or reject a pending registration."""
        is_admin = self.is_admin(actor_aad_id) or (actor is not None and actor.has(Role.ADMIN))
        if not may_decide_registration(actor, is_admin, role if approve else Role.INSPECTOR):
            return Decision(DecisionResult.FORBIDDEN)
        member = await self.members.by_id(member_id)
        if member is None or member.status is not MemberStatus.PENDING:
            return Decision(DecisionResult.STALE, member)
        roles = {Role.INSPECTOR}
        if approve and role is not Role.INSPECTOR:
            roles.add(role)
            if role is Role.ADMIN:
                roles.add(Role.COORDINATOR)
        status = MemberStatus.APPROVED if approve else MemberStatus.REJECTED
        decided = await self._settle(member_id, status, frozenset(roles), actor, actor_aad_id)
        reference = await self.members.personal_conversation(member_id)
        if reference:
            t = await self._translator_for(decided)
            text = (
                t("registration.approved_notice", agency=decided.agency.name(t.language))
                if approve
                else t("registration.rejected_notice")
            )
            await self.outbox.enqueue(
                f"decision:{member_id}:{await self._registration_round(decided)}",
                reference,
                {"text": text},
            )
        return Decision(DecisionResult.DONE, decided)

    async def link_forum_channel(self, actor: MemberView | None, turn: Turn) -> str | None:
        """Make the turn's channel the forum channel: "linked", or "already" when it was (its
        address is kept up to date all the same); None when the actor may not."""
        if not may_link_channel(actor, self.is_admin(turn.user.aad_object_id)) or actor is None:
            return None
        # Posts go to the channel itself as new threads, not as replies to the linking message.
        channel_id = channel_of(turn)
        before = await self.channels.get(FORUM_CHANNEL)
        outcome = "already" if before is not None and before.conversation_id == channel_id else "linked"
        reference = dict(turn.reference)
        reference["conversation"] = {**reference.get("conversation", {}), "id": channel_id}
        reference.pop("activityId", None)
        place = ChannelPlace(channel_id, turn.team_id, turn.tenant_id, turn.service_url, reference)
        await self.set_forum_channel(place, actor, actor_aad_id=turn.user.aad_object_id)
        return outcome

    async def set_forum_channel(
        self, place: ChannelPlace, actor: MemberView, *, actor_aad_id: str | None, by: str | None = None
    ) -> None:
        """Make `place` the forum channel, audited. Who may is the caller's to check
        (`link_forum_channel` does)."""
        await self.channels.link(
            FORUM_CHANNEL,
            conversation_id=place.conversation_id,
            team_id=place.team_id,
            tenant_id=place.tenant_id,
            service_url=place.service_url,
            reference=place.reference,
            linked_by=actor.id,
        )
        await self.audit.record(
            "linked",
            "channel",
            FORUM_CHANNEL,
            actor_id=actor.id,
            actor_aad_id=actor_aad_id,
            details=_by({"conversation_id": place.conversation_id, "team_id": place.team_id}, by),
        )

    async def forum_channel_id(self) -> str | None:
        """The conversation id of the forum channel, if one is linked."""
        link = await self.channels.get(FORUM_CHANNEL)
        return link.conversation_id if link else None

    async def choose_language(self, member: MemberView, language: str) -> MemberView:
        """Answer `member` in `language` from now on, whatever their Teams locale."""
        return await self.members.choose_language(member.id, language)


def _by(details: dict[str, Any], by: str | None) -> dict[str, Any]:
    """Audit details, naming the authority when it is not the actor's own (settings, the demo)."""
    return {**details, "by": by} if by else details
