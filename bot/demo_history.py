"""A demo forum's past (`forumbot demo --history`): a year of meetings with status reports and
attendance, proposals through every state, joint inspections with outcomes, and quick polls.

Everything is invented and reproducible from the seed and the last day: businesses are named
"Demo…", organisation numbers begin 40 (an organisation number's first digit says what kind of
organisation it is, and 4 is none; the check digit is valid), and the people are the demo's
members. The rows are written in bulk, as the benchmark needs them by the hundred thousand; their
numbers (F-…, T-…) follow on from what is there.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.identity import luhn_check_digit
from bot.domain.inspections import inspection_number
from bot.domain.proposals import proposal_number
from bot.settings import Settings
from bot.storage.models import (
    Agency,
    Inspection,
    InspectionPart,
    Meeting,
    Member,
    Poll,
    PollBallot,
    PollOption,
    Proposal,
    ProposalEvent,
    StatusReport,
)

CHUNK = 2000
WORDS = ("Norra", "Stor", "Mälar", "Öster", "Väster", "Kungs", "Bäcke", "Skultuna", "Hacksta", "Råby")
KINDS = {
    "restaurang": ("Grill", "Pizzeria", "Kök"),
    "skonhet": ("Naglar", "Skönhet", "Salong"),
    "biltvatt": ("Biltvätt", "Bilrekond"),
    "dack_verkstad": ("Däck", "Bilservice", "Verkstad"),
    "bygg": ("Bygg", "Entreprenad", "Fasad"),
    "stad": ("Städ", "Lokalvård"),
    "transport": ("Åkeri", "Transport", "Budbil"),
    "kiosk_tobak": ("Kiosk", "Tobak"),
    "spel": ("Spelhall", "Spelbutik"),
}
REASONS = (
    "Uppgifter om svartarbete och många anställda utan anställningsavtal.",
    "Klagomål från grannar om sena öppettider och hantering av avfall.",
    "Misstänkt penningtvätt via kontantförsäljning.",
    "Brister i brandskydd rapporterade vid tidigare besök.",
    "Tips om arbetskraft som bor i lokalen.",
    "Många ägarbyten på kort tid och skulder hos Kronofogden.",
)


@dataclass
class HistoryResult:
    proposals: int = 0
    inspections: int = 0
    meetings: int = 0
    reports: int = 0
    polls: int = 0

    def summary(self) -> str:
        return (
            f"Demo history: {self.proposals} proposals, {self.inspections} joint inspections, "
            f"{self.meetings} meetings, {self.reports} status reports, {self.polls} polls."
        )


def fictitious_org_number(rng: random.Random) -> str:
    """A clearly invented organisation number with a valid check digit: 40NNNN-NNNC. An
    organisation number's first digit says what kind of organisation it is, and 4 is none."""
    digits = f"40{rng.randrange(20, 100)}{rng.randrange(100_000):05d}"
    return f"{digits[:6]}-{digits[6:]}{luhn_check_digit(digits)}"


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, zone).astimezone(UTC)


async def _insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(model), rows[start : start + CHUNK])


async def _next(session: AsyncSession, model: Any, year: int) -> int:
    return int(await session.scalar(select(func.max(model.sequence)).where(model.year == year)) or 0)


async def has_history(session: AsyncSession) -> bool:
    """Whether the forum has a past already (any proposal)."""
    return await session.scalar(select(Proposal.id).limit(1)) is not None


async def seed_history(
    session: AsyncSession,
    settings: Settings,
    *,
    seed: int = 2026,
    until: date | None = None,
    proposals: int = 140,
    inspections: int = 45,
    polls: int = 6,
    with_meetings: bool = True,
) -> HistoryResult:
    """The year up to `until` (default: today in the forum's zone), inside the caller's unit of
    work. The demo's members must be there (seed_demo, or any approved members). Without
    `with_meetings`, only proposals, inspections and polls (to add volume to a forum's year)."""
    rng = random.Random(seed)
    zone = settings.zone
    until = until or datetime.now(UTC).astimezone(zone).date()
    first = until - timedelta(days=365)
    members = list(
        await session.scalars(select(Member).where(Member.status == "approved").order_by(Member.id))
    )
    if not members:
        raise ValueError("the demo's members must be seeded first")
    agencies = {a.code: a.id for a in await session.scalars(select(Agency))}
    taking_part = [agencies[c] for c in ("MHF", "POL", "SKV", "RTJ", "AV") if c in agencies]
    industries = [e.code for e in settings.industries] or list(KINDS)
    findings, measures = settings.inspection_findings, settings.inspection_measures
    red_days = holidays.country_holidays("SE", years=range(first.year, until.year + 1))
    result = HistoryResult()

    # Meetings every other Tuesday at 09.00, none in July and none on a holiday --------------
    meeting_rows: list[dict[str, Any]] = []
    day = first + timedelta(days=(1 - first.weekday()) % 7)
    while day <= until:
        if day.month != 7:
            starts = _utc(day, time(9), zone)
            meeting_rows.append(
                {
                    "day": day,
                    "starts_at": starts,
                    "ends_at": starts + timedelta(minutes=90),
                    "status": "cancelled" if day in red_days else "scheduled",
                    "title": "Operativt samverkansmöte",
                    "place": "Stadshuset, rum Mälaren",
                    "agency_id": members[0].agency_id,
                    "version": 1,
                    "created_at": _utc(first, time(8), zone),
                    "updated_at": _utc(first, time(8), zone),
                }
            )
        day += timedelta(days=14)
    if not with_meetings:
        meeting_rows = []
    await _insert(session, Meeting, meeting_rows)
    newest = (
        select(Meeting.id, Meeting.starts_at, Meeting.status)
        .order_by(Meeting.id.desc())
        .limit(len(meeting_rows))
    )
    held = sorted(
        (m, starts) for m, starts, status in (await session.execute(newest)).all() if status == "scheduled"
    )
    result.meetings = len(meeting_rows)
    reports, polls_rows = [], []
    by_agency: dict[int, list[Member]] = {}
    for member in members:
        by_agency.setdefault(member.agency_id, []).append(member)
    for meeting_id, starts in held:
        for agency_id, people in by_agency.items():
            if rng.random() < 0.75:
                reports.append(
                    {
                        "meeting_id": meeting_id,
                        "agency_id": agency_id,
                        "status": "submitted",
                        "visibility": rng.choice(("forum", "forum", "agency")),
                        "shared_agency_ids": [],
                        "seen": "Fortsatt många nyöppnade verksamheter i branschen.",
                        "planned": "Egna kontroller enligt plan.",
                        "needs": None,
                        "version": 1,
                        "author_id": people[0].id,
                        "created_at": starts - timedelta(days=2),
                        "updated_at": starts - timedelta(days=2),
                        "submitted_at": starts - timedelta(days=2),
                    }
                )
        polls_rows.append(
            _poll_row(
                "attendance", "Kommer du till mötet?", starts - timedelta(hours=1), members[0], meeting_id
            )
        )
    await _insert(session, StatusReport, reports)
    result.reports = len(reports)

    # Quick polls ----------------------------------------------------------------------------
    questions = (
        "Vilken bransch ska vi prioritera nästa kvartal?",
        "Passar en gemensam utbildningsdag i mars?",
    )
    for index in range(polls):
        deadline = _utc(first + timedelta(days=rng.randrange(20, 360)), time(16), zone)
        polls_rows.append(_poll_row("quick", questions[index % len(questions)], deadline, members[0], None))
    await _insert(session, Poll, polls_rows)
    newest_polls = select(Poll.id, Poll.kind).order_by(Poll.id.desc()).limit(len(polls_rows))
    poll_ids = sorted((await session.execute(newest_polls)).all()) if polls_rows else []
    options, ballots = [], []
    for poll_id, kind in poll_ids:
        texts = ("Ja", "Nej", "Kanske", "Skickar ersättare") if kind == "attendance" else ("Ja", "Nej")
        options += [{"poll_id": poll_id, "position": i, "text": text} for i, text in enumerate(texts)]
        for member in members:
            if rng.random() < 0.8:
                choice = rng.choices(range(len(texts)), weights=(7, 1, 1, 1)[: len(texts)])[0]
                ballots.append(
                    {
                        "poll_id": poll_id,
                        "voter": f"member:{member.id}",
                        "choices": 1 << choice,
                        "member_id": member.id,
                    }
                )
    await _insert(session, PollOption, options)
    await _insert(session, PollBallot, ballots)
    result.polls = len(polls_rows)

    # Proposals through every state, and joint inspections of the accepted ones ---------------
    sequences: dict[tuple[Any, int], int] = {}

    async def number(model: Any, year: int) -> int:
        key = (model, year)
        if key not in sequences:
            sequences[key] = await _next(session, model, year)
        sequences[key] += 1
        return sequences[key]

    proposal_rows, events, plans = [], [], []
    span = (until - first).days
    for _ in range(proposals):
        author = rng.choice(members)
        made = _utc(
            first + timedelta(days=rng.randrange(span)), time(rng.randrange(7, 16), rng.randrange(60)), zone
        )
        industry = rng.choice(industries)
        visibility = rng.choices(("forum", "agencies", "agency"), weights=(6, 3, 1))[0]
        shared = sorted(rng.sample(taking_part, 2)) if visibility == "agencies" else []
        fate = rng.choices(
            ("accepted", "rejected", "withdrawn", "proposed", "needs_info"), weights=(6, 2, 1, 1, 1)
        )[0]
        decided = made + timedelta(days=rng.randrange(3, 21))
        if decided.date() > until:
            fate = "proposed"
        status = fate
        sequence = await number(Proposal, made.year)
        place = rng.choice(WORDS)
        proposal_rows.append(
            {
                "number": proposal_number(made.year, sequence),
                "year": made.year,
                "sequence": sequence,
                "author_id": author.id,
                "author_agency_id": author.agency_id,
                "business_name": f"Demo {place}{rng.choice(KINDS.get(industry, ('Handel',))).lower()} AB",
                "org_number": fictitious_org_number(rng),
                "org_is_personal": False,
                "address": f"{place}gatan {rng.randrange(1, 60)}, Västerås",
                "industry": industry,
                "industry_other": None,
                "reason": rng.choice(REASONS),
                "agency_ids": sorted(rng.sample(taking_part, min(2, len(taking_part)))),
                "urgency": rng.choice(("low", "normal", "normal", "high")),
                "visibility": visibility,
                "shared_agency_ids": shared,
                "status": status,
                "version": 1,
                "created_at": made,
                "updated_at": decided if fate != "proposed" else made,
            }
        )
        plans.append((made, decided, fate, author, visibility, shared))
    await _insert(session, Proposal, proposal_rows)
    ids = list(
        await session.scalars(select(Proposal.id).order_by(Proposal.id.desc()).limit(len(proposal_rows)))
    )[::-1]
    result.proposals = len(ids)

    names = {pid: row["business_name"] for pid, row in zip(ids, proposal_rows, strict=True)}
    accepted = [(pid, plan) for pid, plan in zip(ids, plans, strict=True) if plan[2] == "accepted"]
    rng.shuffle(accepted)
    chosen = accepted[: min(inspections, len(accepted))]
    inspection_rows, part_plans = [], []
    now = _utc(until, time(12), zone)
    for pid, (_, decided, _, author, visibility, _) in chosen:
        starts = _utc(
            (decided + timedelta(days=rng.randrange(7, 45))).astimezone(zone).date(),
            time(rng.choice((8, 9, 13))),
            zone,
        )
        while starts.astimezone(zone).weekday() >= 5 or starts.astimezone(zone).date() in red_days:
            starts += timedelta(days=1)
        parties = sorted({author.agency_id, *rng.sample(taking_part, rng.randrange(1, 3))})
        status = "cancelled" if rng.random() < 0.1 else ("done" if starts < now else "confirmed")
        sequence = await number(Inspection, starts.year)
        inspection_rows.append(
            {
                "number": inspection_number(starts.year, sequence),
                "year": starts.year,
                "sequence": sequence,
                "proposal_id": pid,
                "booked_by": author.id,
                "booker_agency_id": author.agency_id,
                "business_name": names[pid],
                "org_number": None,
                "org_is_personal": False,
                "address": "Västerås",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "meeting_point": "Vid entrén",
                "lead_agency_id": author.agency_id,
                "agency_ids": parties,
                "visibility": "forum" if visibility == "forum" else "agencies",
                "shared_agency_ids": parties,
                "status": status,
                "version": 1,
                "ics_sequence": 0,
                "created_at": decided,
                "updated_at": starts if status == "done" else decided,
            }
        )
        part_plans.append((parties, status, starts))
    await _insert(session, Inspection, inspection_rows)
    inspection_ids = list(
        await session.scalars(
            select(Inspection.id).order_by(Inspection.id.desc()).limit(len(inspection_rows))
        )
    )[::-1]
    parts = []
    for inspection_id, (parties, status, starts) in zip(inspection_ids, part_plans, strict=True):
        for agency_id in parties:
            done = status == "done"
            parts.append(
                {
                    "inspection_id": inspection_id,
                    "agency_id": agency_id,
                    "state": "confirmed" if status != "cancelled" else "asked",
                    "who": "Två inspektörer",
                    "outcome": "done" if done else None,
                    "findings": _some(rng, findings) if done else None,
                    "measures": _some(rng, measures, none_likely=True) if done else None,
                    "outcome_note": None,
                    "outcome_shared": done and rng.random() < 0.7,
                    "outcome_at": starts + timedelta(days=1) if done else None,
                }
            )
    await _insert(session, InspectionPart, parts)
    result.inspections = len(inspection_ids)
    # a proposal with a joint inspection is planned; done once the inspection is, and followed up
    # once the forum has discussed the outcome (the older half)
    later_of: dict[str, list[int]] = {"planned": [], "done": [], "followed_up": []}
    for (pid, _), (_, status, starts) in zip(chosen, part_plans, strict=True):
        if status == "confirmed":
            later_of["planned"].append(pid)
        elif status == "done":
            later_of["followed_up" if starts < now - timedelta(days=60) else "done"].append(pid)
    for later, booked in later_of.items():
        for start in range(0, len(booked), CHUNK):
            await session.execute(
                update(Proposal).where(Proposal.id.in_(booked[start : start + CHUNK])).values(status=later)
            )

    status_of = {
        "accepted": "accepted",
        "rejected": "rejected",
        "withdrawn": "withdrawn",
        "needs_info": "needs_info",
    }
    for pid, (made, decided, fate, author, *_) in zip(ids, plans, strict=True):
        events.append(_event(pid, made, author.id, "created", None, "proposed"))
        if fate in status_of:
            events.append(_event(pid, decided, author.id, fate, "proposed", status_of[fate]))
    await _insert(session, ProposalEvent, events)
    return result


def _poll_row(
    kind: str, question: str, deadline: datetime, maker: Member, meeting_id: int | None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "meeting_id": meeting_id,
        "question": question,
        "multiple": False,
        "anonymous": False,
        "live": True,
        "agency_id": None,
        "created_by": None if kind == "attendance" else maker.id,
        "creator_agency_id": maker.agency_id,
        "deadline": deadline,
        "status": "closed",
        "version": 1,
        "shown_version": 1,
        "eligible_count": None,
        "created_at": deadline - timedelta(days=7),
        "closed_at": deadline,
    }


def _event(pid: int, at: datetime, actor: int, kind: str, before: str | None, after: str) -> dict[str, Any]:
    return {
        "proposal_id": pid,
        "at": at,
        "actor_id": actor,
        "kind": kind,
        "from_status": before,
        "to_status": after,
    }


def _some(rng: random.Random, kinds: Sequence[str], none_likely: bool = False) -> list[str]:
    if not kinds or (none_likely and rng.random() < 0.5):
        return []
    return sorted(rng.sample(list(kinds), rng.randrange(1, min(3, len(kinds)) + 1)))
