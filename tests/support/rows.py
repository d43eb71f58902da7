"""Stored items written straight into the database, for tests whose figures are counted by hand
(follow-up, retention): a proposal and a joint inspection with what matters to them, the rest
plain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.storage.models import Inspection, Proposal


def proposal(
    number: str,
    author: int,
    agency_id: int,
    status: str,
    made: datetime,
    *,
    visibility: str = "forum",
    shared: Sequence[int] = (),
    industry: str = "bygg",
) -> Proposal:
    """`number` as F-YYYY-NNNN."""
    return Proposal(
        number=number,
        year=int(number[2:6]),
        sequence=int(number[7:]),
        author_id=author,
        author_agency_id=agency_id,
        business_name=f"Företag {number} AB",
        org_number=None,
        address="Storgatan 1",
        industry=industry,
        industry_other=None,
        reason="Skäl",
        agency_ids=[agency_id],
        urgency="normal",
        visibility=visibility,
        shared_agency_ids=list(shared),
        status=status,
        created_at=made,
        updated_at=made,
    )


def inspection(
    number: str,
    proposal_id: int | None,
    booker: int,
    agency_id: int,
    agencies: Sequence[int],
    status: str,
    starts: datetime,
    made: datetime,
    *,
    visibility: str = "forum",
) -> Inspection:
    """`number` as T-YYYY-NNNN; two hours long."""
    return Inspection(
        number=number,
        year=int(number[2:6]),
        sequence=int(number[7:]),
        proposal_id=proposal_id,
        booked_by=booker,
        booker_agency_id=agency_id,
        business_name=f"Företag {number} AB",
        address="Storgatan 1",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        lead_agency_id=agency_id,
        agency_ids=list(agencies),
        visibility=visibility,
        shared_agency_ids=list(agencies),
        status=status,
        created_at=made,
        updated_at=made,
    )
