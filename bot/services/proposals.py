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
from bot.domain.identity import find_personal_numbers, mask_personal_numbers
from bot.domain.members import AgencyView, MemberView
from bot.domain.notices import ItemRef
from bot.domain.proposals import (
    FREE_TEXT,
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
from bot.services.forms import FormService
from bot.services.notices import NoticeService, Render, track
from bot.settings import Settings
from bot.storage.audit import Audit
from bot.storage.forms import FormView
from bot.storage.inspections import Inspections
from bot.storage.meetings import Meetings
from bot.storage.membership import Agencies, Members
from bot.storage.proposals import Proposals as ProposalRepository
from bot.storage.proposals import ProposalView, StaleProposal, draft_fields, stored_fields

ITEM = "proposal"
PAGE_SIZE = 10
# how many coming meetings the accept button offers to put a proposal on
MEETING_CHOICES = 8


def item_of(proposal: ProposalView) -> ItemRef:
    return ItemRef(ITEM, proposal.id)


NEW_FORM, EDIT_FORM = "proposal.new", "proposal.edit"


class Outcome(StrEnum):
    DONE = "done"
    ALREADY = "already"  # the form was submitted before: here is what it made
    STALE_FORM = "stale_form"  # a forged, cancelled or someone else's form
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
        self.agencies = Agencies(session)
        self.members = Members(session)
        self.audit = Audit(session)
        self.forms = FormService(session)
        self.notices = NoticeService(session, settings)
        self.meetings = Meetings(session)

    # Reference data -------------------------------------------------------------------
    async def agency_list(self) -> list[AgencyView]:
        return await self.agencies.active()

    def industries(self, language: str) -> list[cards.Named]:
        return [cards.Named(e.code, e.name(language)) for e in self.settings.industries]

    async def form(
        self,
        t: Translator,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        edit: ProposalView | None = None,
        *,
        form_token: str,
        audience_locked_by: str | None = None,
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
            form_token=form_token,
            audience_locked_by=audience_locked_by,
        )

    async def locked_by(self, editor: MemberView, proposal: ProposalView, t: Translator) -> str | None:
        """The author's agency, when `editor` may not change who sees the proposal."""
        if may_change_audience(editor, proposal.author_agency_id):
            return None
        agencies = {a.id: a for a in await self.agency_list()}
        author_agency = agencies.get(proposal.author_agency_id)
        return author_agency.name(t.language) if author_agency else "?"

    async def new_form(self, t: Translator, author: MemberView) -> tuple[Card, dict[str, Any]]:
        """A fresh proposal form for `author`, and the track that keeps where it lands."""
        form = await self.forms.new(NEW_FORM, author.aad_object_id)
        return await self.form(t, form_token=form.token), self.forms.track(form, author.id, t.language)

    async def edit_form(
        self, t: Translator, editor: MemberView, proposal: ProposalView
    ) -> tuple[Card, dict[str, Any]]:
        """The edit form, prefilled with what `editor` may see: masked beyond the author's agency."""
        form = await self.forms.new(EDIT_FORM, editor.aad_object_id, proposal.id)
        codes = {a.id: a.code for a in await self.agency_list()}
        own = editor.agency.id == proposal.author_agency_id
        values = values_of(proposal, codes, masked=not own)
        card = await self.form(
            t,
            values,
            edit=proposal,
            form_token=form.token,
            audience_locked_by=await self.locked_by(editor, proposal, t),
        )
        return card, self.forms.track(form, editor.id, t.language)

    async def _validate(self, author_agency_id: int, raw: dict[str, Any]) -> FormResult:
        agencies = await self.agency_list()
        return validate_form(
            raw,
            author_agency_id=author_agency_id,
            agency_ids_by_code={a.code: a.id for a in agencies},
            industries=[e.code for e in self.settings.industries],
            today=self.clock().astimezone(self.settings.zone).date(),
        )

    # Create ---------------------------------------------------------------------------
    async def create(self, author: MemberView, raw: dict[str, Any]) -> Result:
        """One form card gives at most one proposal: a second submit answers with the first's."""
        checked = await self.forms.check(raw.get("form_token"), author.aad_object_id, NEW_FORM)
        if checked.form is None:
            return Result(Outcome.STALE_FORM)
        if not checked.open:
            return await self._made_by(checked.form)
        form = await self._validate(author.agency.id, raw)
        if form.draft is None:
            return Result(Outcome.INVALID, form=form)
        if not await self.forms.use(checked.form):
            again = await self.forms.reread(checked.form)
            return await self._made_by(again) if again else Result(Outcome.STALE_FORM)
        year = self.clock().astimezone(self.settings.zone).year
        proposal = await self.repo.add(
            form.draft, author.id, author.agency.id, year, form_token=checked.form.token
        )
        await self.forms.set_result(checked.form, proposal.id)
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

    async def _made_by(self, form: FormView) -> Result:
        proposal = await self.repo.get(form.result_id) if form.result_id is not None else None
        return Result(Outcome.ALREADY, proposal) if proposal else Result(Outcome.STALE_FORM)

    async def form_token_open(self, token: Any, editor: MemberView, proposal_id: int) -> FormView | None:
        """The open edit form of this proposal that `editor` was handed, if `token` names one."""
        checked = await self.forms.check(token, editor.aad_object_id, EDIT_FORM)
        if not checked.open or checked.form is None or checked.form.item_id != proposal_id:
            return None
        return checked.form

    async def _notify_new(self, proposal: ProposalView, author: MemberView) -> None:
        """Members of the named agencies get the card in personal chat (the notice path lets through
        only those who may see it); a forum-wide proposal also goes to the forum channel."""
        named = [
            m
            for m in await self.members.approved()
            if m.id != author.id and m.agency.id in proposal.agency_ids
        ]
        await self._announce(proposal, named, purpose="new", to_channel=True)

    async def _announce(
        self, proposal: ProposalView, recipients: list[MemberView], *, purpose: str, to_channel: bool
    ) -> None:
        await self.notices.to_members(
            item_of(proposal),
            proposal.audience,
            recipients,
            self._render(proposal, "proposal.notice_new"),
            purpose=purpose,
            version=proposal.version,
        )
        if to_channel:
            await self.notices.to_channel(
                item_of(proposal),
                proposal.audience,
                self._render(proposal, "proposal.notice_channel"),
                purpose="channel",
                version=proposal.version,
            )

    def _render(self, proposal: ProposalView, headline: str | None = None) -> Render:
        """Draws the proposal's card for one reader (None: the forum channel)."""

        async def render(t: Translator, viewer: MemberView | None) -> Card:
            view = await self.card_view(proposal, viewer, t)
            return cards.proposal_card(t, view, headline=t(headline) if headline else None)

        return render

    @staticmethod
    def item(proposal: ProposalView) -> tuple[str, int]:
        return ITEM, proposal.id

    @staticmethod
    def track(proposal: ProposalView, viewer: MemberView, t: Translator) -> dict[str, Any]:
        return track(item_of(proposal), viewer.id, t.language)

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
        org = proposal.org_number if own_agency else masked_org_number(proposal)
        industries = {i.code: i.name for i in self.industries(t.language)}
        industry = (
            proposal.industry_other or t("proposal.industry_other")
            if proposal.industry == "annat"
            else industries.get(proposal.industry, proposal.industry)
        )
        author = await self.members.by_id(proposal.author_id)
        period = None
        if proposal.period_from or proposal.period_to:
            ends = (proposal.period_from, proposal.period_to)
            period = " – ".join(t.date_medium(end) if end else "…" for end in ends)
        question, answer = await self._dialogue(proposal)
        if not own_agency:
            question = mask_personal_numbers(question) if question else None
            answer = mask_personal_numbers(answer) if answer else None
        transitions = (
            available_transitions(viewer, proposal.status, proposal.author_id, proposal.audience)
            if viewer is not None
            else channel_transitions(proposal.status)
        )
        meetings: tuple[tuple[int, str], ...] = ()
        if any(tr.name == "accept" for tr in transitions):
            coming = await self.meetings.coming(self.clock(), MEETING_CHOICES, held_only=True)
            meetings = tuple(
                (m.id, f"{t.datetime_medium(m.starts_at, self.settings.zone)} – {m.title}")
                for m in coming
                if m.starts_at > self.clock()
            )
        booked = []
        for inspection in await Inspections(self.session).of_proposal(proposal.id):
            seen = (
                fit_for_channel(inspection.audience)
                if viewer is None
                else can_see(viewer.viewer, inspection.audience)
            )
            if seen:
                booked.append(
                    f"{inspection.number} ({t(f'inspection.status.short.{inspection.status.value}')})"
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
            question=question,
            answer=answer,
            transitions=transitions,
            editable=viewer is not None
            and may_edit(viewer, proposal.status, proposal.author_id, proposal.audience),
            meetings=meetings,
            inspections=tuple(booked),
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

    async def _dialogue(self, proposal: ProposalView) -> tuple[str | None, str | None]:
        """The coordinators' latest question and the author's answer to it, so that a question
        stays on the card after it has been answered."""
        question = answer = None
        for event in await self.repo.history(proposal.id):
            if event.kind == "ask":
                question, answer = event.note, None
            elif event.kind == "answer" and question is not None:
                answer = event.note
        return question, answer

    async def opened(
        self, viewer: MemberView, proposal: ProposalView, *, shared_chat: bool
    ) -> list[tuple[str, str, str]]:
        """Record that `viewer` opened the proposal, and return its history for display as events
        in the past tense; notes and earlier values are shown in full only inside the author's
        agency and in a personal chat, masked or left out elsewhere."""
        await self.audit.record(
            "opened", ITEM, proposal.id, actor_id=viewer.id, actor_aad_id=viewer.aad_object_id
        )
        t = await self._translator(viewer)
        own = viewer.agency.id == proposal.author_agency_id and not shared_chat
        rows = []
        for event in await self.repo.history(proposal.id):
            actor = await self.members.by_id(event.actor_id)
            what = t(f"history.{event.kind}")
            if event.changes:
                fields = ", ".join(t(f"field.{key}") for key in event.changes if key in CHANGE_FIELDS)
                if fields:
                    what += f": {fields}"
                if own:
                    earlier = [
                        t("history.was", field=t(f"field.{key}"), value=change["from"])
                        for key, change in event.changes.items()
                        if key in EARLIER_SHOWN and isinstance(change, dict) and change.get("from")
                    ]
                    if earlier:
                        what += " (" + "; ".join(earlier) + ")"
            if event.note:
                note = event.note if own else mask_personal_numbers(event.note)
                what += " – " + t(f"history.note.{event.kind}", note=note)
            rows.append((t.datetime_medium(event.at, self.settings.zone), actor.name if actor else "?", what))
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
        meeting_id: int | None = None,
    ) -> Result:
        """`meeting_id`: accepting puts the proposal on that meeting's agenda (a coming one)."""
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
        if name != "accept":
            meeting_id = None
        elif meeting_id is not None:
            meeting = await self.meetings.get(meeting_id)
            if meeting is None or not meeting.held or meeting.starts_at <= self.clock():
                return Result(Outcome.STALE, proposal)
        try:
            updated = await self.repo.transition(
                proposal.id, version, transition.target, actor.id, name, note or None, meeting_id=meeting_id
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
        """The author hears of a step someone else took (a question with its text); the coordinator
        who asked hears the author's answer. Notes are masked for readers outside the author's
        agency."""
        if name == "answer":
            await self._tell_asker(proposal, actor)
            return
        if actor.id == proposal.author_id:
            return
        author = await self.members.by_id(proposal.author_id)
        if author is None:
            return

        def text(t: Translator) -> str:
            if name == "ask" and proposal.status_note:
                return t(
                    "proposal.told_author_question",
                    by=actor.name,
                    number=proposal.number,
                    note=proposal.status_note,
                )
            return t(
                "proposal.told_author",
                number=proposal.number,
                status=t(f"status.proposal.{proposal.status.value}"),
                by=actor.name,
            )

        await self.notices.tell(
            author, item_of(proposal), proposal.audience, text, purpose="told", version=proposal.version
        )

    async def _tell_asker(self, proposal: ProposalView, actor: MemberView) -> None:
        asker_id = next(
            (e.actor_id for e in reversed(await self.repo.history(proposal.id)) if e.kind == "ask"), None
        )
        asker = await self.members.by_id(asker_id) if asker_id is not None else None
        if asker is None or asker.id == actor.id:
            return
        note = proposal.status_note or ""
        if asker.agency.id != proposal.author_agency_id:
            note = mask_personal_numbers(note)

        def text(t: Translator) -> str:
            return t("proposal.told_answered", by=actor.name, number=proposal.number, note=note)

        await self.notices.tell(
            asker, item_of(proposal), proposal.audience, text, purpose="answered", version=proposal.version
        )

    async def refresh_copies(self, proposal: ProposalView, *, skip_activity_id: str | None) -> None:
        """Every card posted about the proposal is updated in place to its new state."""
        await self.notices.refresh(
            item_of(proposal),
            proposal.audience,
            self._render(proposal),
            lambda t: cards.withdrawn_card(t, proposal.number),
            version=proposal.version,
            skip_activity_id=skip_activity_id,
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
        checked = await self.forms.check(raw.get("form_token"), actor.aad_object_id, EDIT_FORM)
        if checked.form is None or checked.form.item_id != proposal.id:
            return Result(Outcome.STALE_FORM, proposal)
        if not checked.open:
            # submitted before (a double click) or cancelled: show where the proposal stands
            return Result(Outcome.ALREADY if checked.used else Outcome.STALE_FORM, proposal)
        if not may_edit(actor, proposal.status, proposal.author_id, proposal.audience):
            return Result(Outcome.FORBIDDEN, proposal)
        if version != proposal.version:
            return Result(Outcome.STALE, proposal)
        codes = {a.id: a.code for a in await self.agency_list()}
        stored = values_of(proposal, codes)
        if actor.agency.id != proposal.author_agency_id:
            # the form showed masked values: a value sent back as it was shown keeps what is stored
            shown = values_of(proposal, codes, masked=True)
            raw = {**raw, **{k: stored[k] for k in shown if k in raw and raw[k] == shown[k] != stored[k]}}
        if not may_change_audience(actor, proposal.author_agency_id):
            raw = {**raw, **{key: stored[key] for key in AUDIENCE_FIELDS}}
        form = await self._validate(proposal.author_agency_id, raw)
        if form.draft is None:
            if actor.agency.id != proposal.author_agency_id:
                # shown again to another agency's editor: what they were shown, masked
                form.values.update(masked_values(form.values, proposal))
            return Result(Outcome.INVALID, proposal, form=form)
        before, after = proposal.audience, form.draft.audience(proposal.author_agency_id)
        all_ids = [a.id for a in await self.agency_list()]
        widening = widens(before, after, all_ids)
        if widening and reaches_other_agencies(after) and await self._notes_with_personal_numbers(proposal):
            form.errors["visibility"] = "form.widen_notes_personal_number"
            return Result(Outcome.INVALID, proposal, form=form)
        if widening and not confirm_widen:
            t = await self._translator(actor)
            names = {a.id: a.name(t.language) for a in await self.agency_list()}
            reach = sorted(names[i] for i in after.agencies(all_ids) - before.agencies(all_ids) if i in names)
            return Result(Outcome.CONFIRM_WIDEN, proposal, form=form, reach=reach)
        changes = _changes(proposal, form)
        if not await self.forms.use(checked.form):
            return Result(Outcome.ALREADY, await self.repo.get(proposal.id))
        if not changes:
            return Result(Outcome.UNCHANGED, proposal)
        try:
            updated = await self.repo.update(
                proposal.id, version, form.draft, actor.id, "widened" if widening else "edited", changes
            )
        except StaleProposal:
            return Result(Outcome.STALE, await self.repo.get(proposal.id))
        await self.notices.withdraw(item_of(proposal), proposal.audience, after)
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

    async def _notes_with_personal_numbers(self, proposal: ProposalView) -> bool:
        """Notes in the history (questions, answers, reasons) that a wider audience would now read
        and that carry a personal identity number: such a proposal is not widened."""
        notes = [proposal.status_note] + [e.note for e in await self.repo.history(proposal.id)]
        return any(note and find_personal_numbers(note) for note in notes)

    async def _notify_widened(self, proposal: ProposalView, before: Audience, actor: MemberView) -> None:
        """Those who may see the proposal only now are told, as for a new one."""
        newly = [
            m
            for m in await self.members.approved()
            if m.id != actor.id and m.agency.id in proposal.agency_ids and not can_see(m.viewer, before)
        ]
        await self._announce(proposal, newly, purpose="widened", to_channel=not fit_for_channel(before))


def _changes(proposal: ProposalView, form: FormResult) -> dict[str, Any]:
    """Which fields an edit changes, for the proposal's history. An earlier value is kept only when
    it is no personal data: never a sole trader's number, nor text with a personal identity number."""
    assert form.draft is not None
    now = draft_fields(form.draft, proposal.author_agency_id)
    was = stored_fields(proposal)
    changes: dict[str, Any] = {}
    for key in now:
        if now[key] == was[key]:
            continue
        old = was[key].isoformat() if isinstance(was[key], date) else was[key]
        personal = (key == "org_number" and proposal.org_is_personal) or (
            isinstance(old, str) and bool(find_personal_numbers(old))
        )
        changes[key] = {} if personal or key in ("org_is_personal", "shared_agency_ids") else {"from": old}
    return changes


AUDIENCE_FIELDS = ("visibility", "agencies", "org_number")
# the columns an edit can change that the history names, in form order
CHANGE_FIELDS = (
    "business_name",
    "org_number",
    "address",
    "industry",
    "industry_other",
    "reason",
    "agency_ids",
    "urgency",
    "visibility",
    "period_from",
    "period_to",
)
# the free texts whose earlier wording the author's agency sees in the history
EARLIER_SHOWN = ("business_name", "address", "industry_other", "reason")
TEXT_FIELDS = ("name", "address", "industry_other", "reason")
assert set(TEXT_FIELDS) == set(FREE_TEXT)


def masked_org_number(proposal: ProposalView) -> str | None:
    org = proposal.org_number
    return org[:6] + "-XXXX" if org and proposal.org_is_personal else org


def masked_values(values: dict[str, str], proposal: ProposalView) -> dict[str, str]:
    """Form values as an editor outside the author's agency may see them."""
    masked = {key: mask_personal_numbers(values.get(key, "")) for key in TEXT_FIELDS}
    if proposal.org_is_personal and values.get("org_number"):
        masked["org_number"] = values["org_number"][:6] + "-XXXX"
    return masked


def values_of(proposal: ProposalView, agencies: dict[int, str], *, masked: bool = False) -> dict[str, str]:
    """A stored proposal as form values, for the edit card; `masked` for an editor outside the
    author's agency, who sees no personal data."""
    values = {
        "name": proposal.business_name,
        "org_number": (masked_org_number(proposal) if masked else proposal.org_number) or "",
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
    if masked:
        for key in TEXT_FIELDS:
            values[key] = mask_personal_numbers(values[key])
    return values
