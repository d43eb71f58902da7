"""Retention: the closed items a rule of N months would remove, and their removal.

Closed means: a proposal rejected, withdrawn or followed up, last changed before the cut-off,
and with no joint inspection that is not itself to be removed; a joint inspection done or cancelled,
that took place (and last changed) before it; a poll closed before it; a status report of a meeting
held before it. Removing an item removes what belongs to it alone (its history, parts, options,
ballots, and the bot's records of where its cards were posted). Meetings and members are kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.inspections import ITEM as INSPECTION_ITEM
from bot.domain.inspections import Status as InspectionStatus
from bot.domain.polls import ITEM as POLL_ITEM
from bot.domain.proposals import Status as ProposalStatus
from bot.storage.models import (
    Agency,
    CardCopy,
    Inspection,
    InspectionEvent,
    InspectionPart,
    Meeting,
    Poll,
    PollBallot,
    PollOption,
    Proposal,
    ProposalEvent,
    StatusReport,
    StatusReportEvent,
)

PROPOSAL_ITEM = "proposal"
REPORT_ITEM = "status_report"
KINDS = (PROPOSAL_ITEM, INSPECTION_ITEM, POLL_ITEM, REPORT_ITEM)  # in the order they are listed
CLOSED_PROPOSALS = (
    ProposalStatus.REJECTED.value,
    ProposalStatus.WITHDRAWN.value,
    ProposalStatus.FOLLOWED_UP.value,
)
CLOSED_INSPECTIONS = (InspectionStatus.DONE.value, InspectionStatus.CANCELLED.value)
CHUNK = 500


@dataclass(frozen=True)
class Candidate:
    kind: str  # proposal | inspection | poll | status_report
    id: int
    label: str  # its number, or what names it without its content
    at: datetime  # when it was closed (or took place)


@dataclass
class Candidates:
    cutoff: datetime
    items: list[Candidate] = field(default_factory=list)

    def of(self, kind: str) -> list[Candidate]:
        return [item for item in self.items if item.kind == kind]

    @property
    def digest(self) -> str:
        """Names exactly this list: a confirmation carries it, so that what is removed is what
        was listed (a list that changed since must be looked at again)."""
        text = "\n".join(f"{c.kind}:{c.id}" for c in sorted(self.items, key=lambda c: (c.kind, c.id)))
        return hashlib.sha256(f"{self.cutoff.date().isoformat()}\n{text}".encode()).hexdigest()[:16]


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


class Retention:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def candidates(self, cutoff: datetime) -> Candidates:
        found = Candidates(cutoff)
        inspections = (
            await self.session.execute(
                select(Inspection.id, Inspection.number, Inspection.starts_at, Inspection.updated_at).where(
                    Inspection.status.in_(CLOSED_INSPECTIONS),
                    Inspection.starts_at < cutoff,
                    Inspection.updated_at < cutoff,
                )
            )
        ).all()
        going = {row.id for row in inspections}
        found.items += [
            Candidate(INSPECTION_ITEM, r.id, r.number, max(r.starts_at, r.updated_at)) for r in inspections
        ]
        kept_links = set(
            await self.session.scalars(
                select(Inspection.proposal_id).where(
                    Inspection.proposal_id.is_not(None), Inspection.id.not_in(going)
                )
                if going
                else select(Inspection.proposal_id).where(Inspection.proposal_id.is_not(None))
            )
        )
        for row in (
            await self.session.execute(
                select(Proposal.id, Proposal.number, Proposal.updated_at).where(
                    Proposal.status.in_(CLOSED_PROPOSALS), Proposal.updated_at < cutoff
                )
            )
        ).all():
            if row.id not in kept_links:
                found.items.append(Candidate(PROPOSAL_ITEM, row.id, row.number, row.updated_at))
        for poll in (
            await self.session.execute(
                select(Poll.id, Poll.question, Poll.closed_at).where(
                    Poll.status == "closed", Poll.closed_at.is_not(None), Poll.closed_at < cutoff
                )
            )
        ).all():
            found.items.append(Candidate(POLL_ITEM, poll.id, f"#{poll.id}", poll.closed_at or cutoff))
        for report in (
            await self.session.execute(
                select(StatusReport.id, Meeting.day, Meeting.starts_at, Agency.code)
                .join(Meeting, Meeting.id == StatusReport.meeting_id)
                .join(Agency, Agency.id == StatusReport.agency_id)
                .where(Meeting.starts_at < cutoff)
            )
        ).all():
            label = f"{report.day.isoformat()} {report.code}"
            found.items.append(Candidate(REPORT_ITEM, report.id, label, report.starts_at))
        found.items.sort(key=lambda c: (c.kind, c.at, c.id))
        return found

    async def remove(self, candidates: Candidates) -> None:
        """Removes the listed items and what belongs to them alone, inside the caller's unit of
        work (the caller audits each)."""
        proposals = [c.id for c in candidates.of(PROPOSAL_ITEM)]
        inspections = [c.id for c in candidates.of(INSPECTION_ITEM)]
        polls = [c.id for c in candidates.of(POLL_ITEM)]
        reports = [c.id for c in candidates.of(REPORT_ITEM)]
        for ids in _chunks(inspections):
            await self.session.execute(delete(InspectionPart).where(InspectionPart.inspection_id.in_(ids)))
            await self.session.execute(delete(InspectionEvent).where(InspectionEvent.inspection_id.in_(ids)))
            await self.session.execute(delete(Inspection).where(Inspection.id.in_(ids)))
        for ids in _chunks(proposals):
            # an inspection removed above may have pointed at it; any other is not closed yet
            await self.session.execute(
                update(Inspection).where(Inspection.proposal_id.in_(ids)).values(proposal_id=None)
            )
            await self.session.execute(delete(ProposalEvent).where(ProposalEvent.proposal_id.in_(ids)))
            await self.session.execute(delete(Proposal).where(Proposal.id.in_(ids)))
        for ids in _chunks(polls):
            await self.session.execute(delete(PollBallot).where(PollBallot.poll_id.in_(ids)))
            await self.session.execute(delete(PollOption).where(PollOption.poll_id.in_(ids)))
            await self.session.execute(delete(Poll).where(Poll.id.in_(ids)))
        for ids in _chunks(reports):
            await self.session.execute(delete(StatusReportEvent).where(StatusReportEvent.report_id.in_(ids)))
            await self.session.execute(delete(StatusReport).where(StatusReport.id.in_(ids)))
        for kind, ids_of_kind in (
            (PROPOSAL_ITEM, proposals),
            (INSPECTION_ITEM, inspections),
            (POLL_ITEM, polls),
            ("poll_result", polls),
        ):
            for ids in _chunks(ids_of_kind):
                await self.session.execute(
                    delete(CardCopy).where(CardCopy.item_type == kind, CardCopy.item_id.in_(ids))
                )
