"""Repository of status reports (lägesbild), part of the meetings capability: one report per
meeting and agency, and its history. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.reports import ReportDraft, ReportStatus
from bot.domain.visibility import Audience, Visibility
from bot.storage.common import now
from bot.storage.models import StatusReport, StatusReportEvent


@dataclass(frozen=True)
class ReportView:
    id: int
    meeting_id: int
    agency_id: int
    status: ReportStatus
    visibility: Visibility
    shared_agency_ids: tuple[int, ...]
    seen: str | None
    planned: str | None
    needs: str | None
    version: int
    author_id: int
    updated_at: datetime
    submitted_at: datetime | None

    @property
    def audience(self) -> Audience:
        """Who may see the report: a draft only its own agency, whatever it is meant for."""
        if self.status is ReportStatus.DRAFT:
            return Audience.of(Visibility.AGENCY, self.agency_id)
        return Audience.of(self.visibility, self.agency_id, self.shared_agency_ids)

    @property
    def submitted(self) -> bool:
        return self.status is ReportStatus.SUBMITTED

    def fields(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "planned": self.planned,
            "needs": self.needs,
            "visibility": self.visibility.value,
            "shared_agency_ids": list(self.shared_agency_ids),
        }


@dataclass(frozen=True)
class ReportEventView:
    at: datetime
    actor_id: int
    kind: str
    changes: dict[str, Any] | None


def _view(row: StatusReport) -> ReportView:
    return ReportView(
        row.id,
        row.meeting_id,
        row.agency_id,
        ReportStatus(row.status),
        Visibility(row.visibility),
        tuple(row.shared_agency_ids or ()),
        row.seen,
        row.planned,
        row.needs,
        row.version,
        row.author_id,
        row.updated_at,
        row.submitted_at,
    )


def draft_fields(draft: ReportDraft) -> dict[str, Any]:
    return {
        **draft.texts(),
        "visibility": draft.visibility.value,
        "shared_agency_ids": list(draft.shared_agency_ids),
    }


class StaleReport(Exception):
    """Saved by someone else of the agency since the form was handed out."""


class StatusReports:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, meeting_id: int, agency_id: int) -> ReportView | None:
        row = await self.session.scalar(
            select(StatusReport).where(
                StatusReport.meeting_id == meeting_id, StatusReport.agency_id == agency_id
            )
        )
        return _view(row) if row else None

    async def of_meeting(self, meeting_id: int) -> list[ReportView]:
        rows = await self.session.scalars(
            select(StatusReport).where(StatusReport.meeting_id == meeting_id).order_by(StatusReport.agency_id)
        )
        return [_view(r) for r in rows]

    async def save(
        self,
        *,
        meeting_id: int,
        agency_id: int,
        version: int,
        draft: ReportDraft,
        status: ReportStatus,
        author_id: int,
        kind: str,
        changes: dict[str, Any],
    ) -> ReportView:
        """The agency's report as the form says, if nobody saved it since `version` (0: none was
        there). A first save that races another of the same agency fails on the unique key."""
        moment = now()
        values = {**draft_fields(draft), "status": status.value, "author_id": author_id, "updated_at": moment}
        if status is ReportStatus.SUBMITTED:
            values["submitted_at"] = moment
        if version == 0:
            if await self.get(meeting_id, agency_id) is not None:
                raise StaleReport(meeting_id)
            row = StatusReport(
                meeting_id=meeting_id, agency_id=agency_id, version=1, created_at=moment, **values
            )
            self.session.add(row)
            await self.session.flush()
        else:
            result = await self.session.execute(
                update(StatusReport)
                .where(
                    StatusReport.meeting_id == meeting_id,
                    StatusReport.agency_id == agency_id,
                    StatusReport.version == version,
                )
                .values(version=version + 1, **values)
                .execution_options(synchronize_session=False)
            )
            if not getattr(result, "rowcount", 0):
                raise StaleReport(meeting_id)
            found = await self.session.scalar(
                select(StatusReport)
                .where(StatusReport.meeting_id == meeting_id, StatusReport.agency_id == agency_id)
                .execution_options(populate_existing=True)
            )
            assert found is not None
            row = found
        self.session.add(
            StatusReportEvent(report_id=row.id, at=moment, actor_id=author_id, kind=kind, changes=changes)
        )
        await self.session.flush()
        return _view(row)

    async def history(self, report_id: int) -> list[ReportEventView]:
        rows = await self.session.scalars(
            select(StatusReportEvent)
            .where(StatusReportEvent.report_id == report_id)
            .order_by(StatusReportEvent.id)
        )
        return [ReportEventView(r.at, r.actor_id, r.kind, r.changes) for r in rows]
