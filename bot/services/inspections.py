"""Joint inspections inside the caller's unit of work: booking (with the warnings a coordinator
confirms before booking), each participating agency's answer, the inspection's cards kept up to
date everywhere, and its calendar invitation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import inspections as cards
from bot.cards.common import Card, card, text
from bot.domain.calendar import event_ics
from bot.domain.files import FileContent
from bot.domain.forms import form_text
from bot.domain.identity import find_personal_numbers
from bot.domain.inspections import (
    ITEM,
    LIMITS,
    REMINDERS,
    Conflict,
    InspectionDraft,
    Outcome,
    PartState,
    Status,
    all_answered,
    check_times,
    conflicts,
    inspection_audience,
    overall_status,
    reminder_times,
    validate_booking,
)
from bot.domain.meetings import downtime_policy
from bot.domain.members import AgencyView, MemberView, Role
from bot.domain.notices import ItemRef
from bot.domain.proposals import Status as ProposalStatus
from bot.domain.visibility import Visibility, can_see, fit_for_channel
from bot.i18n import Translator
from bot.services.files import FileService, Provider
from bot.services.forms import FormService
from bot.services.notices import NoticeService, track
from bot.services.proposals import ProposalService
from bot.services.schedule import TaskHandler
from bot.settings import Settings
from bot.storage.audit import Audit
from bot.storage.inspections import Inspections, InspectionView
from bot.storage.membership import Agencies, Members
from bot.storage.proposals import ProposalView
from bot.storage.schedule import Schedule, TaskView

BOOKING_FORM = "inspection.book"
LIST_SIZE = 25
ICS_KIND = "inspection.ics"

__all__ = ["ICS_KIND", "Answered", "Booking", "InspectionService", "InspectionView", "calendar_provider"]


def item_of(inspection: InspectionView | int) -> ItemRef:
    return ItemRef(ITEM, inspection if isinstance(inspection, int) else inspection.id)


class Booking(StrEnum):
    STALE_FORM = "stale_form"
    INVALID = "invalid"
    CONFIRM = "confirm"  # warnings to confirm first
    DONE = "done"
    ALREADY = "already"
    PROPOSAL_GONE = "proposal_gone"  # the proposal it was booked from is no longer accepted


@dataclass
class BookResult:
    outcome: Booking
    inspection: InspectionView | None = None
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    stamp: str | None = None
    proposal_id: int | None = None  # the proposal the form books from, to keep on its next card


class Answered(StrEnum):
    NO_SUCH = "no_such"
    NOT_PART = "not_part"
    CANCELLED = "cancelled"
    INVALID = "invalid"
    DONE = "done"


@dataclass
class AnswerResult:
    outcome: Answered
    inspection: InspectionView | None = None
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class Change(StrEnum):
    NO_SUCH = "no_such"
    NOT_ALLOWED = "not_allowed"
    CANCELLED = "cancelled"
    INVALID = "invalid"
    CONFIRM = "confirm"
    STALE = "stale"
    DONE = "done"


@dataclass
class Changed:
    outcome: Change
    inspection: InspectionView | None = None
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    stamp: str | None = None


class InspectionService:
    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.session = session
        self.settings = settings
        self.clock = clock
        self.zone = settings.zone
        self.repo = Inspections(session)
        self.members = Members(session)
        self.agencies = Agencies(session)
        self.forms = FormService(session)
        self.notices = NoticeService(session, settings)
        self.audit = Audit(session)
        self.schedule = Schedule(session)

    # The booking form ------------------------------------------------------------------
    async def form(
        self,
        t: Translator,
        member: MemberView,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        warnings: list[str] | None = None,
        stamp: str | None = None,
        proposal_id: int | None = None,
    ) -> tuple[Card, dict[str, Any]]:
        """The booking form under a fresh token (for `proposal_id`, booked from that proposal)."""
        token = await self.forms.new(BOOKING_FORM, member.aad_object_id, proposal_id)
        defaults = {"lead_agency": member.agency.code, "visibility": "agencies"}
        proposal = await self._proposal(member, proposal_id) if proposal_id is not None else None
        view = cards.BookingFormView(
            form_token=token.token,
            agencies=[cards.Named(a.code, a.name(t.language)) for a in await self.agencies.active()],
            values={**defaults, **(values or {})},
            errors=errors or {},
            warnings=warnings or [],
            stamp=stamp,
            proposal=f"{proposal.number} {proposal.business_name}" if proposal else None,
        )
        return cards.booking_form_card(t, view), self.forms.track(token, member.id, t.language)

    async def _proposal(self, member: MemberView, proposal_id: int) -> ProposalView | None:
        """The proposal a booking is made from, if the member may see it and it is accepted."""
        proposal = await ProposalService(self.session, self.settings, self.clock).visible(member, proposal_id)
        return proposal if proposal is not None and proposal.status is ProposalStatus.ACCEPTED else None

    async def form_for_proposal(
        self, t: Translator, member: MemberView, proposal_id: int
    ) -> tuple[Card, dict[str, Any]] | None:
        """The form filled from an accepted proposal: the business, and its agencies as the ones
        taking part; whom it shows to follows the proposal (the whole forum if it is the
        forum's). None if the member may not see it or it is not accepted (any more)."""
        proposal = await self._proposal(member, proposal_id)
        if proposal is None:
            return None
        codes = {a.id: a.code for a in await self.agencies.active()}
        org = proposal.org_number or ""
        if proposal.org_is_personal and member.agency.id != proposal.author_agency_id:
            org = ""  # a sole trader's number is the author's agency's to give
        values = {
            "name": proposal.business_name,
            "org_number": org,
            "address": proposal.address,
            "agencies": ",".join(
                codes[a] for a in proposal.agency_ids if a in codes and a != member.agency.id
            ),
            "visibility": "forum" if proposal.visibility is Visibility.FORUM else "agencies",
        }
        return await self.form(t, member, values=values, proposal_id=proposal.id)

    async def create(self, t: Translator, member: MemberView, raw: dict[str, Any]) -> BookResult:
        """The form made into a booking; or back with its errors; or, the first time it is valid
        with something to warn of (an agency busy, the business inspected lately, a time outside
        working hours), back with the warnings and a button that books anyway, which books only
        when the warnings are still the same."""
        checked = await self.forms.check(raw.get("form_token"), member.aad_object_id, BOOKING_FORM)
        if checked.form is None:
            return BookResult(Booking.STALE_FORM)
        if not checked.open:
            return BookResult(Booking.ALREADY, await self.repo.by_form_token(checked.form.token))
        active = await self.agencies.active()
        by_code = {a.code: a.id for a in active}
        form = validate_booking(
            raw,
            booker_agency_id=member.agency.id,
            agency_ids_by_code=by_code,
            now=self.clock(),
            zone=self.zone,
        )
        if form.draft is None:
            return BookResult(
                Booking.INVALID, values=form.values, errors=form.errors, proposal_id=checked.form.item_id
            )
        draft = form.draft
        found = await self._conflicts(member, draft)
        names = {a.id: a.name(t.language) for a in active}
        warnings = [self._ask_text(t, key, value) for key, value in sorted(form.asks.items())]
        warnings += [self._conflict_text(t, c, names) for c in found]
        overridden: list[dict[str, Any]] = [{"kind": k, "detail": v} for k, v in sorted(form.asks.items())]
        overridden += [
            {"kind": c.kind, "number": c.other.number, "agencies": list(c.agency_ids)} for c in found
        ]
        stamp = _stamp(form.values, overridden) if overridden else None
        if overridden and raw.get("confirm") != stamp:
            return BookResult(
                Booking.CONFIRM,
                values=form.values,
                warnings=warnings,
                stamp=stamp,
                proposal_id=checked.form.item_id,
            )
        proposal = None
        if checked.form.item_id is not None:
            proposal = await self._proposal(member, checked.form.item_id)
            if proposal is None:
                return BookResult(Booking.PROPOSAL_GONE)
        if not await self.forms.use(checked.form):
            return BookResult(Booking.ALREADY, await self.repo.by_form_token(checked.form.token))
        local = self.clock().astimezone(self.zone)
        inspection = await self.repo.add(
            draft,
            year=local.year,
            booked_by=member.id,
            booker_agency_id=member.agency.id,
            proposal_id=proposal.id if proposal else None,
            form_token=checked.form.token,
            overridden=overridden,
        )
        await self.forms.set_result(checked.form, inspection.id)
        await self.repo.record(
            inspection.id,
            "booked",
            actor_id=member.id,
            details={"overridden": overridden} if overridden else None,
        )
        await self.audit.record(
            "booked",
            ITEM,
            inspection.id,
            actor_id=member.id,
            actor_aad_id=member.aad_object_id,
            details={
                "number": inspection.number,
                "agencies": list(draft.agency_ids),
                "warned": len(overridden),
            },
        )
        await self._ask_agencies(inspection, skip=member)
        await self.plan_reminders(inspection)
        if proposal is not None:
            # the proposal is planned now: its cards say so, with the inspection's number
            await ProposalService(self.session, self.settings, self.clock).transition(
                member, proposal.id, proposal.version, "plan", inspection.number, clicked_activity_id=None
            )
        return BookResult(Booking.DONE, inspection)

    async def _conflicts(self, member: MemberView, draft: InspectionDraft) -> list[Conflict]:
        """The warnings, from what the coordinator may see only."""
        months = self.settings.inspection_recent_months
        since = draft.starts_at - _months(months)
        org = draft.org_number.normalized if draft.org_number else None
        nearby = await self.repo.around(draft.starts_at, draft.ends_at, org, since)
        visible = [v.booked() for v in nearby if can_see(member.viewer, v.audience)]
        return conflicts(draft, visible, recent_months=months) if months or visible else []

    def _ask_text(self, t: Translator, key: str, value: str) -> str:
        if key == "holiday":
            return t("inspection.warn.holiday", name=value)
        return t(f"inspection.warn.{key}")

    def _conflict_text(self, t: Translator, found: Conflict, names: dict[int, str]) -> str:
        when = self.when(t, found.other.starts_at, found.other.ends_at)
        if found.kind == "overlap":
            agencies = ", ".join(names.get(a, "?") for a in found.agency_ids)
            return t("inspection.warn.overlap", agencies=agencies, number=found.other.number, when=when)
        return t(
            "inspection.warn.recent",
            business=found.other.name,
            number=found.other.number,
            when=when,
            months=self.settings.inspection_recent_months,
        )

    async def _ask_agencies(self, inspection: InspectionView, *, skip: MemberView) -> None:
        """The inspection's card, with the answer for their agency, to each approved member of a
        participating agency (its booker has it already)."""
        recipients: list[MemberView] = []
        for agency_id in inspection.agency_ids:
            recipients += [m for m in await self.members.approved_of(agency_id) if m.id != skip.id]
        await self.notices.to_members(
            item_of(inspection),
            inspection.audience,
            recipients,
            await self._renderer(inspection),
            purpose="inspection.request",
            version=inspection.version,
        )

    # Reading ------------------------------------------------------------------------------
    def when(self, t: Translator, starts_at: datetime, ends_at: datetime) -> str:
        return f"{t.datetime_long(starts_at, self.zone)}–{t.time(ends_at, self.zone)}"

    async def get(self, inspection_id: int) -> InspectionView | None:
        return await self.repo.get(inspection_id)

    async def by_number(self, number: str) -> InspectionView | None:
        return await self.repo.by_number(number)

    async def listing(
        self,
        t: Translator,
        member: MemberView,
        *,
        month: date | None = None,
        agency_id: int | None = None,
        channel: bool = False,
    ) -> list[cards.InspectionRow]:
        """The inspections `member` may see (in a channel, the forum's only): those of `month`
        (cancelled ones too), or else the coming ones; with `agency_id`, those it takes part in."""
        if month is not None:
            first = datetime.combine(month.replace(day=1), time(0, 0), tzinfo=self.zone)
            following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
            found = await self.repo.listing(
                since=first,
                until=datetime.combine(following, time(0, 0), tzinfo=self.zone),
                with_cancelled=True,
                limit=LIST_SIZE,
            )
        else:
            today = datetime.combine(self.clock().astimezone(self.zone).date(), time(0, 0), tzinfo=self.zone)
            found = await self.repo.listing(since=today, until=None, with_cancelled=False, limit=LIST_SIZE)
        rows = []
        for inspection in found:
            if not self.may_see(member, inspection) or (channel and not fit_for_channel(inspection.audience)):
                continue
            if agency_id is not None and agency_id not in inspection.agency_ids:
                continue
            when = self.when(t, inspection.starts_at, inspection.ends_at)
            rows.append(
                cards.InspectionRow(
                    inspection.id, inspection.number, inspection.business_name, when, inspection.status.value
                )
            )
        return rows

    async def history(self, t: Translator, inspection: InspectionView) -> list[str]:
        """What happened to it, oldest first: "2 dec. 2026 09.12 · Carl Samordnare · bokade"."""
        agencies = {a.id: a for a in await self.agencies.active()}
        lines = []
        for event in await self.repo.history(inspection.id):
            actor = await self.members.by_id(event.actor_id) if event.actor_id else None
            what = t(f"inspection.event.{event.kind}")
            if event.agency_id in agencies:
                what += f" ({agencies[event.agency_id].name(t.language)})"
            lines.append(
                f"{t.datetime_medium(event.at, self.zone)} · {actor.name if actor else '–'} · {what}"
            )
        return lines

    @staticmethod
    def may_see(member: MemberView, inspection: InspectionView) -> bool:
        return can_see(member.viewer, inspection.audience)

    async def card(
        self,
        t: Translator,
        inspection: InspectionView,
        viewer: MemberView | None,
        *,
        headline: str | None = None,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        with_history: bool = False,
    ) -> Card:
        render = await self._renderer(inspection)
        history = await self.history(t, inspection) if with_history else []
        return await render(t, viewer, headline=headline, values=values, errors=errors, history=history)

    def track(self, inspection: InspectionView, viewer: MemberView, t: Translator) -> dict[str, Any]:
        return track(item_of(inspection), viewer.id, t.language)

    async def _renderer(self, inspection: InspectionView) -> Any:
        """Draws the inspection's card for each reader, from one read of what it names."""
        agencies = {a.id: a for a in await self.agencies.active()}
        booker = await self.members.by_id(inspection.booked_by)

        async def render(
            t: Translator,
            viewer: MemberView | None,
            *,
            headline: str | None = None,
            values: dict[str, str] | None = None,
            errors: dict[str, str] | None = None,
            history: list[str] | None = None,
        ) -> Card:
            view = self._view(t, inspection, viewer, agencies, booker, headline, values or {}, errors or {})
            return cards.inspection_card(t, replace(view, history=history or []))

        return render

    def _view(
        self,
        t: Translator,
        inspection: InspectionView,
        viewer: MemberView | None,
        agencies: dict[int, AgencyView],
        booker: MemberView | None,
        headline: str | None,
        values: dict[str, str],
        errors: dict[str, str],
    ) -> cards.InspectionCardView:
        def name(agency_id: int) -> str:
            agency = agencies.get(agency_id)
            return agency.name(t.language) if agency else "?"

        parts = []
        for part in inspection.parts:
            detail = None
            if part.state is PartState.CONFIRMED:
                detail = part.who
            elif part.state is PartState.DECLINED:
                detail = part.reason
            elif part.state is PartState.OTHER_TIME and part.proposed_start is not None:
                detail = t("inspection.proposes", when=t.datetime_long(part.proposed_start, self.zone))
                if part.reason:
                    detail += f" ({part.reason})"
            outcome = None
            if part.outcome:
                readable = part.outcome_shared or (viewer is not None and viewer.agency.id == part.agency_id)
                outcome = self._outcome_text(t, part) if readable else t("inspection.outcome_recorded")
            parts.append(cards.PartRow(name(part.agency_id), part.state.value, detail, part.note, outcome))
        org = inspection.org_number
        if (
            org
            and inspection.org_is_personal
            and (viewer is None or viewer.agency.id != inspection.booker_agency_id)
        ):
            org = f"{org[:6]}-XXXX"
        mine = inspection.part(viewer.agency.id) if viewer is not None else None
        overridden = [self._overridden_text(t, entry, name) for entry in inspection.overridden]
        return cards.InspectionCardView(
            id=inspection.id,
            number=inspection.number,
            version=inspection.version,
            status=inspection.status.value,
            business_name=inspection.business_name,
            org_number=org,
            address=inspection.address,
            when=self.when(t, inspection.starts_at, inspection.ends_at),
            meeting_point=inspection.meeting_point,
            lead_agency=name(inspection.lead_agency_id),
            booked_by=booker.name if booker else "?",
            parts=parts,
            waiting=sum(1 for p in inspection.parts if p.state is PartState.ASKED),
            overridden=overridden,
            headline=headline,
            my_agency=name(viewer.agency.id) if mine is not None and viewer is not None else None,
            my_state=mine.state.value if mine is not None else None,
            values=values,
            errors=errors,
            calendar=mine is not None and mine.state is PartState.CONFIRMED,
            sequence=inspection.ics_sequence,
            manage=viewer is not None and self.may_manage(viewer, inspection),
            outcome_form=mine is not None
            and mine.state is not PartState.DECLINED
            and self.outcome_due(inspection),
            findings=tuple(self.settings.inspection_findings),
            measures=tuple(self.settings.inspection_measures),
            closable=viewer is not None
            and self.may_manage(viewer, inspection)
            and self.outcome_due(inspection),
            closed_reason=inspection.closed_reason,
            replaceable=tuple(
                (p.agency_id, name(p.agency_id)) for p in inspection.parts if p.state is PartState.DECLINED
            )
            if viewer is not None
            and self.may_manage(viewer, inspection)
            and inspection.status is not Status.CANCELLED
            else (),
            replacements=tuple(
                (a.code, a.name(t.language)) for a in agencies.values() if a.id not in inspection.agency_ids
            ),
        )

    @staticmethod
    def _outcome_text(t: Translator, part: Any) -> str:
        words = [t(f"inspection.outcome.{part.outcome}")]
        if part.findings:
            words.append(t("inspection.outcome.found", findings=", ".join(part.findings)))
        if part.measures:
            words.append(t("inspection.outcome.measures", measures=", ".join(part.measures)))
        if part.outcome_note:
            words.append(part.outcome_note)
        return t("inspection.outcome_line", outcome=" · ".join(words))

    def _overridden_text(self, t: Translator, entry: dict[str, Any], name: Callable[[int], str]) -> str:
        kind = str(entry.get("kind"))
        if kind == "overlap":
            agencies = ", ".join(name(a) for a in entry.get("agencies", []))
            return t("inspection.overridden.overlap", agencies=agencies, number=entry.get("number", ""))
        if kind == "recent":
            return t("inspection.overridden.recent", number=entry.get("number", ""))
        if kind == "holiday":
            return t("inspection.warn.holiday", name=entry.get("detail", ""))
        return t(f"inspection.warn.{kind}")

    # Answers --------------------------------------------------------------------------------
    async def answer(
        self, member: MemberView, inspection_id: int, answer: str, raw: dict[str, Any]
    ) -> AnswerResult:
        """The member's agency's answer for its part: confirm (naming who comes), decline (with a
        reason) or another time (a day and a time ahead, with a reason if they like)."""
        inspection = await self.repo.get(inspection_id)
        if inspection is None or not self.may_see(member, inspection):
            return AnswerResult(Answered.NO_SUCH)
        if inspection.part(member.agency.id) is None:
            return AnswerResult(Answered.NOT_PART, inspection)
        if inspection.status is Status.CANCELLED:
            return AnswerResult(Answered.CANCELLED, inspection)
        values = {key: form_text(raw, key) for key in ("who", "reason", "other_date", "other_time")}
        errors: dict[str, str] = {}
        for key in ("who", "reason"):
            if len(values[key]) > LIMITS[key]:
                errors[key] = "form.too_long"
                values[key] = values[key][: LIMITS[key]]
            elif values[key] and find_personal_numbers(values[key]):
                errors[key] = "form.personal_number"
        proposed = None
        if answer == "confirm":
            state = PartState.CONFIRMED
            if not values["who"]:
                errors["who"] = "inspection.answer.who_needed"
        elif answer == "decline":
            state = PartState.DECLINED
            if not values["reason"]:
                errors["reason"] = "inspection.answer.reason_needed"
        elif answer == "other_time":
            state = PartState.OTHER_TIME
            proposed = self._proposed(values, errors)
        else:
            return AnswerResult(Answered.NO_SUCH)
        if errors:
            return AnswerResult(Answered.INVALID, inspection, values, errors)
        version = await self.repo.lock(inspection.id)
        assert version is not None
        await self.repo.answer(
            inspection.id,
            member.agency.id,
            state,
            by=member.id,
            who=values["who"] or None if state is PartState.CONFIRMED else None,
            reason=values["reason"] or None if state is not PartState.CONFIRMED else None,
            proposed_start=proposed,
        )
        await self.repo.record(
            inspection.id,
            state.value,
            actor_id=member.id,
            agency_id=member.agency.id,
            details={"who": values["who"]} if state is PartState.CONFIRMED else None,
        )
        after = await self.repo.get(inspection.id)
        assert after is not None
        status = overall_status([p.state for p in after.parts])
        if status is not after.status:
            await self.repo.set_status(after.id, status)
            after = await self.repo.get(inspection.id)
            assert after is not None
        await self._tell_booker(after, member, state)
        return AnswerResult(Answered.DONE, after)

    def _proposed(self, values: dict[str, str], errors: dict[str, str]) -> datetime | None:
        try:
            day = date.fromisoformat(values["other_date"])
        except ValueError:
            errors["other_date"] = "inspection.answer.time_needed"
            return None
        try:
            at = time.fromisoformat(values["other_time"])
        except ValueError:
            errors["other_time"] = "inspection.answer.time_needed"
            return None
        moment = datetime.combine(day, at.replace(second=0, microsecond=0), tzinfo=self.zone)
        if moment <= self.clock():
            errors["other_date"] = "inspection.form.past"
            return None
        return moment

    async def _tell_booker(self, inspection: InspectionView, by: MemberView, state: PartState) -> None:
        """The booker hears at once when an agency declines or proposes another time, and once
        every agency has answered."""
        booker = await self.members.by_id(inspection.booked_by)
        if booker is None:
            return
        agency = by.agency
        if state in (PartState.DECLINED, PartState.OTHER_TIME) and booker.id != by.id:

            def declined(t: Translator) -> str:
                key = (
                    "inspection.told.declined"
                    if state is PartState.DECLINED
                    else "inspection.told.other_time"
                )
                return t(key, agency=agency.name(t.language), number=inspection.number, name=by.name)

            await self.notices.tell(
                booker,
                item_of(inspection),
                inspection.audience,
                declined,
                purpose=f"inspection.{state.value}.{agency.code}",
                version=inspection.version,
            )
        if all_answered([p.state for p in inspection.parts]):

            def answered(t: Translator) -> str:
                key = (
                    "inspection.told.all_confirmed"
                    if inspection.status is Status.CONFIRMED
                    else "inspection.told.all_answered"
                )
                return t(key, number=inspection.number)

            await self.notices.tell(
                booker,
                item_of(inspection),
                inspection.audience,
                answered,
                purpose="inspection.all_answered",
                version=inspection.version,
            )

    async def refresh(self, inspection: InspectionView, *, skip_activity_id: str | None = None) -> int:
        """Every posted copy of the inspection's card brought up to date."""
        render = await self._renderer(inspection)
        return await self.notices.refresh(
            item_of(inspection),
            inspection.audience,
            lambda t, viewer: render(t, viewer),
            lambda t: card([text(t("inspection.no_longer_visible"))]),
            version=inspection.version,
            skip_activity_id=skip_activity_id,
        )

    # Reminders ---------------------------------------------------------------------------------
    async def plan_reminders(self, inspection: InspectionView) -> None:
        """Its reminders in the schedule at their times (none already past); none once cancelled."""
        item = item_of(inspection)
        if inspection.status is Status.CANCELLED:
            await self.schedule.cancel(item, list(REMINDERS))
            return
        now = self.clock()
        for kind, due in reminder_times(inspection.starts_at, self.zone).items():
            if due > now:
                await self.schedule.plan(kind, item, due)
            else:
                await self.schedule.cancel(item, [kind])

    async def remind(self, task: TaskView, now: datetime) -> str:
        """The participants of every agency that has not declined are reminded in personal chat,
        each once for this time of the inspection (again if it moves); nothing once it has begun
        or is cancelled."""
        inspection = await self.repo.get(task.item.id)
        if inspection is None or inspection.status is Status.CANCELLED:
            return "skipped"
        timeliness = downtime_policy(task.due_at, inspection.starts_at, now)
        if timeliness == "missed":
            return timeliness
        agencies = {a.id: a for a in await self.agencies.active()}

        def text(t: Translator) -> str:
            lead = agencies.get(inspection.lead_agency_id)
            return t(
                "inspection.reminder",
                number=inspection.number,
                business=inspection.business_name,
                when=self.when(t, inspection.starts_at, inspection.ends_at),
                place=inspection.meeting_point or inspection.address,
                lead=lead.name(t.language) if lead else "?",
            )

        for part in inspection.parts:
            if part.state is PartState.DECLINED:
                continue
            for member in await self.members.approved_of(part.agency_id):
                await self.notices.tell(
                    member,
                    item_of(inspection),
                    inspection.audience,
                    text,
                    purpose=task.kind,
                    version=inspection.ics_sequence,
                )
        return timeliness

    # Moving and cancelling -------------------------------------------------------------------
    def may_manage(self, member: MemberView, inspection: InspectionView) -> bool:
        """Its booker, or a coordinator or administrator who may see it, moves or cancels it."""
        if not self.may_see(member, inspection):
            return False
        return member.id == inspection.booked_by or member.has(Role.COORDINATOR) or member.has(Role.ADMIN)

    async def move_form(self, t: Translator, inspection: InspectionView, **shown: Any) -> Card:
        local = inspection.starts_at.astimezone(self.zone)
        values = {
            "date": local.date().isoformat(),
            "start_time": local.strftime("%H:%M"),
            "end_time": inspection.ends_at.astimezone(self.zone).strftime("%H:%M"),
            **shown.get("values", {}),
        }
        return cards.move_form_card(
            t,
            cards.MoveFormView(
                inspection.id,
                inspection.number,
                inspection.ics_sequence,
                self.when(t, inspection.starts_at, inspection.ends_at),
                values,
                shown.get("errors", {}),
                shown.get("warnings", []),
                shown.get("stamp"),
            ),
        )

    async def move(
        self, t: Translator, member: MemberView, inspection_id: int, version: int, raw: dict[str, Any]
    ) -> Changed:
        """A new day and time: the agencies are asked to confirm again, everyone taking part is
        told, the reminders and the invitation follow (its SEQUENCE raised)."""
        inspection = await self.repo.get(inspection_id)
        if inspection is None or not self.may_see(member, inspection):
            return Changed(Change.NO_SUCH)
        if not self.may_manage(member, inspection):
            return Changed(Change.NOT_ALLOWED, inspection)
        if inspection.status is Status.CANCELLED:
            return Changed(Change.CANCELLED, inspection)
        values = {key: form_text(raw, key) for key in ("date", "start_time", "end_time", "note")}
        errors, starts_at, ends_at, asks = check_times(values, now=self.clock(), zone=self.zone)
        if len(values["note"]) > LIMITS["reason"]:
            errors["note"] = "form.too_long"
        elif values["note"] and find_personal_numbers(values["note"]):
            errors["note"] = "form.personal_number"
        if version != inspection.ics_sequence:  # moved or called off since the form was shown
            return Changed(Change.STALE, inspection)
        if errors or starts_at is None or ends_at is None:
            return Changed(Change.INVALID, inspection, values=values, errors=errors)
        warned = [{"kind": k, "detail": v} for k, v in sorted(asks.items())]
        if warned:
            stamp = _stamp(values, warned)
            if raw.get("confirm") != stamp:
                texts = [self._ask_text(t, k, v) for k, v in sorted(asks.items())]
                return Changed(Change.CONFIRM, inspection, values=values, warnings=texts, stamp=stamp)
        if await self.repo.lock(inspection.id, expected=inspection.version) is None:
            return Changed(Change.STALE, await self.repo.get(inspection.id))
        before = (inspection.starts_at, inspection.ends_at)  # as read under the version checked
        await self.repo.move(inspection.id, starts_at, ends_at)
        await self.repo.record(
            inspection.id,
            "moved",
            actor_id=member.id,
            details={
                "from": [m.isoformat() for m in before],
                "to": [starts_at.isoformat(), ends_at.isoformat()],
                "note": values["note"] or None,
                "warned": warned or None,
            },
        )
        moved = await self.repo.get(inspection.id)
        assert moved is not None
        await self.plan_reminders(moved)
        await self._tell_participants(
            moved,
            member,
            lambda tr: tr(
                "inspection.told.moved",
                number=moved.number,
                business=moved.business_name,
                when=self.when(tr, moved.starts_at, moved.ends_at),
                note=values["note"] or "–",
            ),
            purpose="inspection.moved",
        )
        return Changed(Change.DONE, moved)

    async def cancel(
        self, member: MemberView, inspection_id: int, sequence: int, raw: dict[str, Any]
    ) -> Changed:
        """Called off with a reason: everyone taking part is told, the reminders are dropped, and
        the invitation becomes a cancellation (METHOD:CANCEL, its SEQUENCE raised)."""
        inspection = await self.repo.get(inspection_id)
        if inspection is None or not self.may_see(member, inspection):
            return Changed(Change.NO_SUCH)
        if not self.may_manage(member, inspection):
            return Changed(Change.NOT_ALLOWED, inspection)
        if inspection.status is Status.CANCELLED:
            return Changed(Change.CANCELLED, inspection)
        if sequence != inspection.ics_sequence:  # moved since the card was shown
            return Changed(Change.STALE, inspection)
        reason, errors = _reason(raw, "cancel_reason", "inspection.cancel.reason_needed")
        if errors:
            return Changed(
                Change.INVALID,
                inspection,
                values={"cancel_reason": reason[: LIMITS["reason"]]},
                errors=errors,
            )
        if await self.repo.lock(inspection.id, expected=inspection.version) is None:
            return Changed(Change.STALE, await self.repo.get(inspection.id))
        await self.repo.cancel(inspection.id)
        await self.repo.record(inspection.id, "cancelled", actor_id=member.id, details={"reason": reason})
        cancelled = await self.repo.get(inspection.id)
        assert cancelled is not None
        await self.plan_reminders(cancelled)
        await self._tell_participants(
            cancelled,
            member,
            lambda tr: tr(
                "inspection.told.cancelled",
                number=cancelled.number,
                business=cancelled.business_name,
                reason=reason,
            ),
            purpose="inspection.cancelled",
        )
        return Changed(Change.DONE, cancelled)

    async def replace_agency(
        self, member: MemberView, inspection_id: int, declined_agency_id: int, raw: dict[str, Any]
    ) -> Changed:
        """An agency that declined is replaced by another, which is asked at once; the one that
        declined no longer takes part (nor sees it, unless the whole forum may)."""
        inspection = await self.repo.get(inspection_id)
        if inspection is None or not self.may_see(member, inspection):
            return Changed(Change.NO_SUCH)
        if not self.may_manage(member, inspection):
            return Changed(Change.NOT_ALLOWED, inspection)
        if inspection.status not in (Status.BOOKED, Status.CONFIRMED):
            return Changed(Change.CANCELLED, inspection)
        part = inspection.part(declined_agency_id)
        if part is None or part.state is not PartState.DECLINED:
            return Changed(Change.STALE, inspection)
        code = form_text(raw, "replacement")
        replacement = next((a for a in await self.agencies.active() if a.code == code), None)
        if replacement is None or replacement.id in inspection.agency_ids:
            return Changed(
                Change.INVALID,
                inspection,
                values={"replacement": code},
                errors={"replacement": "inspection.replace.choose"},
            )
        await self.repo.lock(inspection.id)
        agency_ids = [replacement.id if a == declined_agency_id else a for a in inspection.agency_ids]
        audience = inspection_audience(inspection.visibility, inspection.booker_agency_id, agency_ids)
        await self.repo.replace_agency(
            inspection.id, declined_agency_id, replacement.id, audience.shared_agency_ids
        )
        await self.repo.record(
            inspection.id,
            "replaced",
            actor_id=member.id,
            agency_id=replacement.id,
            details={"replaced": declined_agency_id},
        )
        after = await self.repo.get(inspection.id)
        assert after is not None
        await self.repo.set_status(after.id, overall_status([p.state for p in after.parts]))
        after = await self.repo.get(inspection.id)
        assert after is not None
        await self.notices.to_members(
            item_of(after),
            after.audience,
            [m for m in await self.members.approved_of(replacement.id) if m.id != member.id],
            await self._renderer(after),
            purpose="inspection.request",
            version=after.version,
        )
        return Changed(Change.DONE, after)

    async def _tell_participants(
        self, inspection: InspectionView, by: MemberView, text: Callable[[Translator], str], *, purpose: str
    ) -> None:
        recipients: dict[int, MemberView] = {}
        for agency_id in inspection.agency_ids:
            recipients.update({m.id: m for m in await self.members.approved_of(agency_id)})
        booker = await self.members.by_id(inspection.booked_by)
        if booker is not None:
            recipients[booker.id] = booker
        for member in recipients.values():
            if member.id == by.id:
                continue
            await self.notices.tell(
                member,
                item_of(inspection),
                inspection.audience,
                text,
                purpose=purpose,
                version=inspection.ics_sequence,
            )

    # Outcomes -----------------------------------------------------------------------------------
    def outcome_due(self, inspection: InspectionView) -> bool:
        """Outcomes are recorded once the inspection has begun, until it is done."""
        return inspection.status in (Status.BOOKED, Status.CONFIRMED) and self.clock() >= inspection.starts_at

    async def record_outcome(self, member: MemberView, inspection_id: int, raw: dict[str, Any]) -> Changed:
        """The member's agency's own outcome: done or not, its findings and measures from the
        configured lists, a note (no personal identity number), and whether the other
        participating agencies may read it. Once every agency taking part has one, the inspection
        is done, and so is the proposal it was booked from."""
        inspection = await self.repo.get(inspection_id)
        if inspection is None or not self.may_see(member, inspection):
            return Changed(Change.NO_SUCH)
        part = inspection.part(member.agency.id)
        if part is None or part.state is PartState.DECLINED:
            return Changed(Change.NOT_ALLOWED, inspection)
        if inspection.status is Status.CANCELLED:
            return Changed(Change.CANCELLED, inspection)
        if not self.outcome_due(inspection):
            return Changed(Change.STALE, inspection)
        values = {
            key: form_text(raw, key) for key in ("outcome", "findings", "measures", "outcome_note", "share")
        }
        errors: dict[str, str] = {}
        if values["outcome"] not in {o.value for o in Outcome}:
            errors["outcome"] = "inspection.outcome.choose"
        findings = [f for f in values["findings"].split(",") if f]
        measures = [m for m in values["measures"].split(",") if m]
        if not set(findings) <= set(self.settings.inspection_findings):
            errors["findings"] = "form.choice"
        if not set(measures) <= set(self.settings.inspection_measures):
            errors["measures"] = "form.choice"
        note = values["outcome_note"]
        if len(note) > LIMITS["note"]:
            errors["outcome_note"] = "form.too_long"
        elif note and find_personal_numbers(note):
            errors["outcome_note"] = "form.personal_number"
        if errors:
            return Changed(Change.INVALID, inspection, values=values, errors=errors)
        await self.repo.lock(inspection.id)
        shared = values["share"] == "true"
        await self.repo.record_outcome(
            inspection.id,
            member.agency.id,
            outcome=values["outcome"],
            findings=findings,
            measures=measures,
            note=note or None,
            shared=shared,
            by=member.id,
        )
        await self.repo.record(
            inspection.id,
            "outcome",
            actor_id=member.id,
            agency_id=member.agency.id,
            details={
                "outcome": values["outcome"],
                "findings": findings,
                "measures": measures,
                "shared": shared,
            },
        )
        after = await self.repo.get(inspection.id)
        assert after is not None
        taking_part = [p for p in after.parts if p.state is not PartState.DECLINED]
        if all(p.outcome for p in taking_part):
            after = await self._close(after, member, None)
        return Changed(Change.DONE, after)

    async def close(self, member: MemberView, inspection_id: int, raw: dict[str, Any]) -> Changed:
        """A coordinator closes it, with a reason, when an agency never records its outcome."""
        inspection = await self.repo.get(inspection_id)
        if inspection is None or not self.may_see(member, inspection):
            return Changed(Change.NO_SUCH)
        if not self.may_manage(member, inspection):
            return Changed(Change.NOT_ALLOWED, inspection)
        if inspection.status is Status.CANCELLED:
            return Changed(Change.CANCELLED, inspection)
        if not self.outcome_due(inspection):
            return Changed(Change.STALE, inspection)
        reason, errors = _reason(raw, "close_reason", "inspection.close.reason_needed")
        if errors:
            return Changed(
                Change.INVALID, inspection, values={"close_reason": reason[: LIMITS["reason"]]}, errors=errors
            )
        await self.repo.lock(inspection.id)
        return Changed(Change.DONE, await self._close(inspection, member, reason))

    async def _close(self, inspection: InspectionView, by: MemberView, reason: str | None) -> InspectionView:
        await self.repo.close(inspection.id, reason)
        await self.repo.record(
            inspection.id, "done", actor_id=by.id, details={"reason": reason} if reason else None
        )
        await self.schedule.cancel(item_of(inspection), list(REMINDERS))
        done = await self.repo.get(inspection.id)
        assert done is not None
        if done.proposal_id is not None:
            proposals = ProposalService(self.session, self.settings, self.clock)
            proposal = await proposals.visible(by, done.proposal_id)
            if proposal is not None and proposal.status is ProposalStatus.PLANNED:
                # the proposal is done: the card says so with the inspection's number
                await self._complete(proposals, proposal, done)
        booker = await self.members.by_id(done.booked_by)
        if booker is not None and booker.id != by.id:
            await self.notices.tell(
                booker,
                item_of(done),
                done.audience,
                lambda t: t("inspection.told.done", number=done.number, business=done.business_name),
                purpose="inspection.done",
                version=done.ics_sequence,
            )
        return done

    async def _complete(
        self, proposals: ProposalService, proposal: ProposalView, inspection: InspectionView
    ) -> None:
        booker = await self.members.by_id(inspection.booked_by)
        actor = booker if booker is not None and booker.approved else None
        if actor is None:
            return
        await proposals.transition(
            actor, proposal.id, proposal.version, "complete", inspection.number, clicked_activity_id=None
        )

    # The calendar file ------------------------------------------------------------------------
    async def calendar_file(self, member: MemberView, inspection_id: int) -> FileContent | None:
        """The invitation for a member of an agency that has confirmed its part (or of the
        booker's agency): METHOD:REQUEST while it stands, CANCEL once called off."""
        inspection = await self.repo.get(inspection_id)
        if inspection is None or not self.may_see(member, inspection):
            return None
        part = inspection.part(member.agency.id)
        if part is None or part.state is not PartState.CONFIRMED:
            return None
        agencies = {a.id: a for a in await self.agencies.active()}
        booker = await self.members.by_id(inspection.booked_by)
        attendees = [
            f"{agencies[p.agency_id].name('sv')}: {p.who}"
            for p in inspection.parts
            if p.state is PartState.CONFIRMED and p.agency_id in agencies
        ]
        description = "\n".join(
            [
                f"{agencies[p.agency_id].name('sv')}: {p.note}"
                for p in inspection.parts
                if p.note and p.agency_id in agencies
            ]
        )
        body = event_ics(
            uid=f"{inspection.number}@forumbot.vasteras-myndighetsforum",
            sequence=inspection.ics_sequence,
            method="CANCEL" if inspection.status is Status.CANCELLED else "REQUEST",
            title=f"Samordnad tillsyn {inspection.number}: {inspection.business_name}",
            start=inspection.starts_at,
            end=inspection.ends_at,
            organizer=booker.name if booker else "Forumbot",
            attendees=attendees,
            dtstamp=self.clock(),
            location=", ".join(filter(None, [inspection.address, inspection.meeting_point])),
            description=description or None,
            zone_name=self.settings.timezone,
        )
        return FileContent(f"{inspection.number}.ics", "text/calendar", body)


def _reason(raw: dict[str, Any], key: str, missing: str) -> tuple[str, dict[str, str]]:
    """A required reason typed on a card, and its error by the field if it is missing, too long
    or carries a personal identity number."""
    reason = form_text(raw, key)
    if not reason:
        return reason, {key: missing}
    if len(reason) > LIMITS["reason"]:
        return reason, {key: "form.too_long"}
    if find_personal_numbers(reason):
        return reason, {key: "form.personal_number"}
    return reason, {}


def _months(months: int) -> timedelta:
    return timedelta(days=round(30.44 * months))


def _stamp(values: dict[str, str], warned: list[dict[str, Any]]) -> str:
    """Names the booking as it was warned of: its fields and its warnings."""
    data = json.dumps([sorted(values.items()), warned], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def inspection_handlers(settings: Settings) -> dict[str, TaskHandler]:
    """The schedule's kinds for joint inspections: the participants' two reminders."""

    async def remind(session: AsyncSession, task: TaskView, now: datetime) -> str:
        return await InspectionService(session, settings, lambda: now).remind(task, now)

    return {kind: remind for kind in REMINDERS}


def calendar_provider(settings: Settings, clock: Callable[[], datetime]) -> Provider:
    async def provide(session: AsyncSession, member: MemberView, inspection_id: int) -> FileContent | None:
        return await InspectionService(session, settings, clock).calendar_file(member, inspection_id)

    return provide


def calendar_link(files: FileService, member: MemberView, inspection: InspectionView) -> str:
    return files.link(member, ICS_KIND, inspection.id)
