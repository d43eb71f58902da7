"""Proposed actions: create, find, open, edit and move through the lifecycle, with notices and
every card copy kept up to date."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import proposals as cards
from bot.cards.common import Card
from bot.domain.identity import mask_personal_numbers
from bot.domain.members import AgencyView, MemberView
from bot.domain.proposals import (
    OPEN,
    TRANSITIONS,
    FormResult,
    available_transitions,
    channel_transitions,
    may_change_audience,
    may_edit,
    may_transition,
    parse_proposal_number,
    personal_number_errors,
    validate_form,
)
from bot.domain.text import clean_text
from bot.domain.visibility import Audience, can_see, fit_for_channel, reaches_other_agencies, widens
from bot.i18n import Translator
from bot.settings import Settings
from bot.storage.proposals import CardCopies, ProposalView, StaleProposal, draft_fields, stored_fields
from bot.storage.proposals import Proposals as ProposalRepository
from bot.storage.repositories import Agencies, Audit, Channels, Members, Outbox

ITEM = "proposal"
PAGE_SIZE = 10


class Outcome(StrEnum):
    DONE = "done"
    INVALID = "invalid"
    NOT_FOUND = "not_found"  # also what a member who may not see it is told
    FORBIDDEN = "forbidden"
    STALE = "stale"
    NOTE_REQUIRED = "note_required"
    CONFIRM_WIDEN = "confirm_widen"
    UNCHANGED = "unchanged"


@dataclass
class Result:
    outcome: Outcome
    proposal: ProposalView | None = None
    form: FormResult | None = None
    reach: list[str] = field(default_factory=list)


class ProposalService:
    """Everything about proposals, inside the caller's unit of work."""

    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.session = session
        self.settings = settings
        self.clock = clock
        self.repo = ProposalRepository(session)
        self.copies = CardCopies(session)
        self.agencies = Agencies(session)
        self.members = Members(session)
        self.audit = Audit(session)
        self.outbox = Outbox(session)
        self.channels = Channels(session)

    # Reference data -------------------------------------------------------------------
    async def agency_list(self) -> list[AgencyView]:
        return await self.agencies.active()

    def industries(self, language: str) -> list[cards.Named]:
        return [cards.Named(e["code"], e[language]) for e in self.settings.industry_entries()]

    async def form(
        self,
        t: Translator,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        edit: ProposalView | None = None,
    ) -> Card:
        agencies = [cards.Named(a.code, a.name(t.language)) for a in await self.agency_list()]
        return cards.form_card(
            t,
            agencies=agencies,
            industries=self.industries(t.language),
            values=values,
            errors=errors,
            edit=(edit.id, edit.version) if edit else None,
            number=edit.number if edit else None,
        )

    async def _validate(self, author_agency_id: int, raw: dict[str, Any]) -> FormResult:
        agencies = await self.agency_list()
        return validate_form(
            raw,
            author_agency_id=author_agency_id,
            agency_ids_by_code={a.code: a.id for a in agencies},
            industries=[e["code"] for e in self.settings.industry_entries()],
            today=self.clock().astimezone(self.settings.zone).date(),
        )

    # Create ---------------------------------------------------------------------------
    async def create(self, author: MemberView, raw: dict[str, Any]) -> Result:
        form = await self._validate(author.agency.id, raw)
        if form.draft is None:
            return Result(Outcome.INVALID, form=form)
        year = self.clock().astimezone(self.settings.zone).year
        proposal = await self.repo.add(form.draft, author.id, author.agency.id, year)
        await self.audit.record(
            "created",
            ITEM,
            proposal.id,
            actor_id=author.id,
            actor_aad_id=author.aad_object_id,
            details={"number": proposal.number, "visibility": proposal.visibility.value},
        )
        await self._notify_new(proposal, author)
        return Result(Outcome.DONE, proposal)

    async def _notify_new(self, proposal: ProposalView, author: MemberView) -> None:
        """Members of the named agencies who may see it get the card in personal chat; a forum-wide
        proposal also goes to the forum channel. Nothing narrower reaches the channel."""
        for member in await self.members.approved():
            if member.id != author.id and member.agency.id in proposal.agency_ids:
                await self._send_card(proposal, member, f"proposal:{proposal.id}:new:{member.id}")
        if fit_for_channel(proposal.audience):
            await self._post_to_channel(proposal)

    async def _send_card(self, proposal: ProposalView, member: MemberView, key: str) -> None:
        """The proposal's card to `member`'s personal chat, if they may see it and chat with the bot."""
        if not can_see(member.viewer, proposal.audience):
            return
        reference = await self.members.personal_conversation(member.id)
        if not reference:
            return
        t = await self._translator(member)
        card = cards.proposal_card(
            t, await self.card_view(proposal, member, t), headline=t("proposal.notice_new")
        )
        await self.outbox.enqueue(
            key, reference, {"card": card, "track": self._track(proposal.id, member.id, t.language)}
        )

    async def _post_to_channel(self, proposal: ProposalView) -> None:
        link = await self.channels.get("forum")
        if link is None or not fit_for_channel(proposal.audience):
            return
        t = Translator(self.settings.default_language)
        card = cards.proposal_card(
            t, await self.card_view(proposal, None, t), headline=t("proposal.notice_channel")
        )
        await self.outbox.enqueue(
            f"proposal:{proposal.id}:channel:{proposal.version}",
            dict(link.reference),
            {"card": card, "track": self._track(proposal.id, None, t.language)},
        )

    @staticmethod
    def _track(proposal_id: int, viewer_id: int | None, language: str) -> dict[str, Any]:
        return {"item_type": ITEM, "item_id": proposal_id, "viewer_id": viewer_id, "language": language}

    def track(self, proposal: ProposalView, viewer: MemberView, t: Translator) -> dict[str, Any]:
        return self._track(proposal.id, viewer.id, t.language)

    async def _translator(self, member: MemberView) -> Translator:
        return Translator(await self.members.language(member.id, self.settings.default_language))

    # Views ----------------------------------------------------------------------------
    async def card_view(
        self, proposal: ProposalView, viewer: MemberView | None, t: Translator
    ) -> cards.ProposalCardView:
        """What `viewer` (None: the forum channel) may see, with personal data masked beyond
        the author's agency."""
        agencies = {a.id: a for a in await self.agency_list()}
        # The channel (viewer None) is read by every agency: personal data is masked there too.
        own_agency = viewer is not None and viewer.agency.id == proposal.author_agency_id
        org = proposal.org_number
        if org and proposal.org_is_personal and not own_agency:
            org = org[:6] + "-XXXX"
        industries = {i.code: i.name for i in self.industries(t.language)}
        industry = (
            proposal.industry_other or t("proposal.industry_other")
            if proposal.industry == "annat"
            else industries.get(proposal.industry, proposal.industry)
        )
        author = await self.members.by_id(proposal.author_id)
        period = None
        if proposal.period_from or proposal.period_to:
            period = f"{proposal.period_from or '…'} – {proposal.period_to or '…'}"
        transitions = (
            available_transitions(viewer, proposal.status, proposal.author_id, proposal.audience)
            if viewer is not None
            else channel_transitions(proposal.status)
        )
        return cards.ProposalCardView(
            id=proposal.id,
            number=proposal.number,
            version=proposal.version,
            business_name=proposal.business_name,
            org_number=org,
            address=proposal.address,
            industry=industry,
            reason=proposal.reason if own_agency else mask_personal_numbers(proposal.reason),
            agencies=[agencies[i].name(t.language) for i in proposal.agency_ids if i in agencies],
            urgency=proposal.urgency.value,
            visibility=proposal.visibility.value,
            period=period,
            status=proposal.status.value,
            status_note=proposal.status_note
            if own_agency or proposal.status_note is None
            else mask_personal_numbers(proposal.status_note),
            author=author.name if author else "?",
            author_agency=agencies[proposal.author_agency_id].name(t.language)
            if proposal.author_agency_id in agencies
            else "?",
            transitions=transitions,
            editable=viewer is not None
            and may_edit(viewer, proposal.status, proposal.author_id, proposal.audience),
        )

    async def visible(self, viewer: MemberView, proposal_id: int) -> ProposalView | None:
        proposal = await self.repo.get(proposal_id)
        if proposal is None or not can_see(viewer.viewer, proposal.audience):
            return None
        return proposal

    async def find(self, viewer: MemberView, number: str) -> ProposalView | None:
        parsed = parse_proposal_number(number)
        if parsed is None:
            return None
        proposal = await self.repo.by_number(f"F-{parsed[0]}-{parsed[1]:04d}")
        if proposal is None or not can_see(viewer.viewer, proposal.audience):
            return None
        return proposal

    async def opened(
        self, viewer: MemberView, proposal: ProposalView, *, shared_chat: bool
    ) -> list[tuple[str, str, str]]:
        """Record that `viewer` opened the proposal, and return its history for display; notes are
        masked beyond the author's agency and in any chat others read along."""
        await self.audit.record(
            "opened", ITEM, proposal.id, actor_id=viewer.id, actor_aad_id=viewer.aad_object_id
        )
        t = await self._translator(viewer)
        rows = []
        for event in await self.repo.history(proposal.id):
            actor = await self.members.by_id(event.actor_id)
            what = (
                t(f"history.{event.kind}")
                if event.kind in ("created", "edited", "widened")
                else t(f"transition.{event.kind}")
            )
            if event.note:
                own = viewer.agency.id == proposal.author_agency_id and not shared_chat
                what += f" – {event.note if own else mask_personal_numbers(event.note)}"
            rows.append(
                (t.datetime(event.at.astimezone(self.settings.zone)), actor.name if actor else "?", what)
            )
        return rows

    async def listing(
        self,
        viewer: MemberView,
        *,
        mine: bool,
        status: str | None,
        industry: str | None,
        agency_code: str | None,
        page: int,
        forum_only: bool = False,
    ) -> tuple[list[ProposalView], bool]:
        """One page of what `viewer` may see, newest first; `forum_only` for a chat others read."""
        statuses = [status] if status else ([] if mine else [s.value for s in OPEN])
        candidates = await self.repo.candidates(
            statuses=statuses or None, industry=industry, author_id=viewer.id if mine else None
        )
        agency_id = None
        if agency_code:
            agency = await self.agencies.by_code(agency_code)
            if agency is None:
                return [], False
            agency_id = agency.id
        rows = [
            p
            for p in candidates
            if can_see(viewer.viewer, p.audience)
            and (fit_for_channel(p.audience) or not forum_only)
            and (agency_id is None or agency_id in p.agency_ids or agency_id == p.author_agency_id)
        ]
        start = (max(page, 1) - 1) * PAGE_SIZE
        return rows[start : start + PAGE_SIZE], len(rows) > start + PAGE_SIZE

    # Lifecycle ------------------------------------------------------------------------
    async def transition(
        self,
        actor: MemberView,
        proposal_id: int,
        version: int,
        name: str,
        note: str,
        *,
        clicked_activity_id: str | None,
    ) -> Result:
        proposal = await self.visible(actor, proposal_id)
        transition = TRANSITIONS.get(name)
        if proposal is None:
            return Result(Outcome.NOT_FOUND)
        if transition is None or not may_transition(actor, transition, proposal.author_id, proposal.audience):
            return Result(Outcome.FORBIDDEN, proposal)
        if version != proposal.version or proposal.status not in transition.sources:
            return Result(Outcome.STALE, proposal)
        note = clean_text(note, 1000)
        if transition.needs_note and not note:
            return Result(Outcome.NOTE_REQUIRED, proposal)
        if note and reaches_other_agencies(proposal.audience) and personal_number_errors({"reason": note}):
            return Result(Outcome.INVALID, proposal, form=FormResult(None, {"note": "form.personal_number"}))
        try:
            updated = await self.repo.transition(
                proposal.id, version, transition.target, actor.id, name, note or None
            )
        except StaleProposal:
            return Result(Outcome.STALE, await self.repo.get(proposal.id))
        await self.audit.record(
            "changed",
            ITEM,
            proposal.id,
            actor_id=actor.id,
            actor_aad_id=actor.aad_object_id,
            details={"transition": name, "from": proposal.status.value, "to": transition.target.value},
        )
        await self.refresh_copies(updated, skip_activity_id=clicked_activity_id)
        await self._tell_author(updated, actor, name)
        return Result(Outcome.DONE, updated)

    async def _tell_author(self, proposal: ProposalView, actor: MemberView, name: str) -> None:
        if actor.id == proposal.author_id:
            return
        author = await self.members.by_id(proposal.author_id)
        reference = await self.members.personal_conversation(proposal.author_id)
        if author is None or not reference:
            return
        t = await self._translator(author)
        await self.outbox.enqueue(
            f"proposal:{proposal.id}:told:{proposal.version}",
            reference,
            {
                "text": t(
                    "proposal.told_author",
                    number=proposal.number,
                    status=t(f"status.proposal.{proposal.status.value}"),
                    by=actor.name,
                )
            },
        )

    async def refresh_copies(self, proposal: ProposalView, *, skip_activity_id: str | None) -> None:
        """Every card posted about the proposal is updated in place to its new state."""
        for copy in await self.copies.of(ITEM, proposal.id):
            if copy.activity_id == skip_activity_id:
                continue
            viewer = await self.members.by_id(copy.viewer_id) if copy.viewer_id else None
            t = Translator(copy.language)
            allowed = (
                can_see(viewer.viewer, proposal.audience)
                if viewer is not None
                else fit_for_channel(proposal.audience)
            )
            # A copy whose reader may no longer see the proposal is blanked, not left as it was.
            card = (
                cards.proposal_card(t, await self.card_view(proposal, viewer, t))
                if allowed
                else cards.withdrawn_card(t, proposal.number)
            )
            await self.outbox.enqueue(
                f"proposal:{proposal.id}:copy:{copy.id}:v{proposal.version}",
                dict(copy.reference),
                {"card": card, "update_activity_id": copy.activity_id},
            )

    # Editing --------------------------------------------------------------------------
    async def edit(
        self,
        actor: MemberView,
        proposal_id: int,
        version: int,
        raw: dict[str, Any],
        *,
        confirm_widen: bool,
        clicked_activity_id: str | None,
    ) -> Result:
        proposal = await self.visible(actor, proposal_id)
        if proposal is None:
            return Result(Outcome.NOT_FOUND)
        if not may_edit(actor, proposal.status, proposal.author_id, proposal.audience):
            return Result(Outcome.FORBIDDEN, proposal)
        if version != proposal.version:
            return Result(Outcome.STALE, proposal)
        if not may_change_audience(actor, proposal.author_agency_id):
            codes = {a.id: a.code for a in await self.agency_list()}
            stored = values_of(proposal, codes)
            raw = {**raw, **{key: stored[key] for key in AUDIENCE_FIELDS}}
        form = await self._validate(proposal.author_agency_id, raw)
        if form.draft is None:
            return Result(Outcome.INVALID, proposal, form=form)
        before, after = proposal.audience, form.draft.audience(proposal.author_agency_id)
        all_ids = [a.id for a in await self.agency_list()]
        widening = widens(before, after, all_ids)
        if widening and not confirm_widen:
            t = await self._translator(actor)
            names = {a.id: a.name(t.language) for a in await self.agency_list()}
            reach = sorted(names[i] for i in after.agencies(all_ids) - before.agencies(all_ids) if i in names)
            return Result(Outcome.CONFIRM_WIDEN, proposal, form=form, reach=reach)
        changes = _changes(proposal, form)
        if not changes:
            return Result(Outcome.UNCHANGED, proposal)
        try:
            updated = await self.repo.update(
                proposal.id, version, form.draft, actor.id, "widened" if widening else "edited", changes
            )
        except StaleProposal:
            return Result(Outcome.STALE, await self.repo.get(proposal.id))
        await self._drop_queued_notices(proposal, after)
        await self.audit.record(
            "widened" if widening else "changed",
            ITEM,
            proposal.id,
            actor_id=actor.id,
            actor_aad_id=actor.aad_object_id,
            details={"fields": sorted(changes)},
        )
        await self.refresh_copies(updated, skip_activity_id=clicked_activity_id)
        if widening:
            await self._notify_widened(updated, before, actor)
        return Result(Outcome.DONE, updated)

    async def _drop_queued_notices(self, proposal: ProposalView, after: Audience) -> None:
        """Notices still queued for readers who may no longer see the proposal are not sent."""
        if not fit_for_channel(after):
            await self.outbox.dismiss_queued(f"proposal:{proposal.id}:channel:")
        for member in await self.members.approved():
            if can_see(member.viewer, proposal.audience) and not can_see(member.viewer, after):
                await self.outbox.dismiss_queued(f"proposal:{proposal.id}:", f":{member.id}")

    async def _notify_widened(self, proposal: ProposalView, before: Audience, actor: MemberView) -> None:
        """Those who may see the proposal only now are told, as for a new one."""
        for member in await self.members.approved():
            if (
                member.id != actor.id
                and member.agency.id in proposal.agency_ids
                and not can_see(member.viewer, before)
            ):
                await self._send_card(
                    proposal, member, f"proposal:{proposal.id}:widened:{proposal.version}:{member.id}"
                )
        if not fit_for_channel(before):
            await self._post_to_channel(proposal)


def _changes(proposal: ProposalView, form: FormResult) -> dict[str, Any]:
    """Which fields an edit changes, with their earlier values, for the proposal's history."""
    assert form.draft is not None
    now = draft_fields(form.draft, proposal.author_agency_id)
    was = stored_fields(proposal)
    return {
        key: {"from": was[key].isoformat() if isinstance(was[key], date) else was[key]}
        for key in now
        if now[key] != was[key]
    }


AUDIENCE_FIELDS = ("visibility", "agencies", "org_number")


def values_of(proposal: ProposalView, agencies: dict[int, str]) -> dict[str, str]:
    """A stored proposal as form values, for the edit card."""
    return {
        "name": proposal.business_name,
        "org_number": proposal.org_number or "",
        "address": proposal.address,
        "industry": proposal.industry,
        "industry_other": proposal.industry_other or "",
        "reason": proposal.reason,
        "agencies": ",".join(agencies[i] for i in proposal.agency_ids if i in agencies),
        "urgency": proposal.urgency.value,
        "visibility": proposal.visibility.value,
        "period_from": proposal.period_from.isoformat() if proposal.period_from else "",
        "period_to": proposal.period_to.isoformat() if proposal.period_to else "",
    }
