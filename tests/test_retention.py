"""Retention: `gallring` lists the closed items older than the rule for an administrator, and
removes exactly that list once they confirm it, each removal audited; nothing else is removed,
nothing without the confirmation, and nobody else may do it. Also from the command line."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.storage.models import (
    Agency,
    AuditEntry,
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
from tests.conftest import ADMIN, COORDINATOR, INSPECTOR
from tests.support import rows
from tests.support.harness import Harness, actions_of, card_text
from tests.support.texts import SV
from tests.test_proposals import forum as forum_with_tax

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the rule's 36 months reach back to 23 November 2023
OLD = datetime(2023, 5, 10, 9, 0, tzinfo=UTC)
RECENT = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]


async def seed(bot: Harness) -> dict[str, int]:
    """Old and closed: F-2023-0001 (rejected), F-2023-0002 (followed up) with T-2023-0001 (done), T-2023-0002
    (cancelled, from scratch), a closed poll with its ballots, a status report of a meeting in
    2023. Kept: F-2023-0003 (open), F-2023-0004 (withdrawn, old) whose T-2025-0001 is recent,
    F-2025-0001 (rejected, recent)."""
    async with bot.sessions() as session:
        mhf = await session.scalar(select(Agency.id).where(Agency.code == "MHF"))
        author = await session.scalar(
            select(Member.id).where(Member.aad_object_id == INSPECTOR.aad_object_id)
        )
        assert mhf is not None and author is not None

        def proposal(number: str, status: str, at: datetime) -> Proposal:
            return rows.proposal(number, author, mhf, status, at)

        made = {
            "rejected": proposal("F-2023-0001", "rejected", OLD),
            "done": proposal("F-2023-0002", "followed_up", OLD),
            "open": proposal("F-2023-0003", "proposed", OLD),
            "linked": proposal("F-2023-0004", "withdrawn", OLD),
            "recent": proposal("F-2025-0001", "rejected", RECENT),
        }
        session.add_all(made.values())
        await session.flush()
        for row in made.values():
            session.add(
                ProposalEvent(
                    proposal_id=row.id,
                    at=row.created_at,
                    actor_id=author,
                    kind="created",
                    to_status="proposed",
                )
            )

        def inspection(number: str, proposal_id: int | None, status: str, at: datetime) -> Inspection:
            return rows.inspection(number, proposal_id, author, mhf, [mhf], status, at, at)

        inspections = [
            inspection("T-2023-0001", made["done"].id, "done", OLD),
            inspection("T-2023-0002", None, "cancelled", OLD),
            inspection("T-2025-0001", made["linked"].id, "done", RECENT),
        ]
        session.add_all(inspections)
        await session.flush()
        for row in inspections:
            session.add(
                InspectionPart(inspection_id=row.id, agency_id=mhf, state="confirmed", outcome="done")
            )
        meeting = Meeting(
            day=date(2023, 5, 9),
            starts_at=OLD,
            ends_at=OLD.replace(hour=11),
            status="scheduled",
            title="Möte",
            agency_id=mhf,
            created_at=OLD,
            updated_at=OLD,
        )
        session.add(meeting)
        await session.flush()
        session.add(
            StatusReport(
                meeting_id=meeting.id,
                agency_id=mhf,
                status="submitted",
                visibility="forum",
                shared_agency_ids=[],
                author_id=author,
                created_at=OLD,
                updated_at=OLD,
            )
        )
        poll = Poll(
            kind="quick",
            question="Fråga?",
            multiple=False,
            anonymous=False,
            live=True,
            creator_agency_id=mhf,
            created_by=author,
            deadline=OLD,
            status="closed",
            created_at=OLD,
            closed_at=OLD,
        )
        session.add(poll)
        await session.flush()
        session.add_all(
            [
                PollOption(poll_id=poll.id, position=0, text="Ja"),
                PollBallot(poll_id=poll.id, voter=f"member:{author}", choices=1, member_id=author),
            ]
        )
        await session.commit()
        return {"mhf": mhf, "author": author}


async def forum(bot: Harness) -> dict[str, int]:
    bot.clock.moment = NOW
    await forum_with_tax(bot)
    return await seed(bot)


async def numbers(bot: Harness) -> tuple[list[str], list[str], int, int, int]:
    async with bot.sessions() as session:
        proposals = sorted(await session.scalars(select(Proposal.number)))
        inspections = sorted(await session.scalars(select(Inspection.number)))
        polls = int(await session.scalar(select(func.count()).select_from(Poll)) or 0)
        ballots = int(await session.scalar(select(func.count()).select_from(PollBallot)) or 0)
        reports = int(await session.scalar(select(func.count()).select_from(StatusReport)) or 0)
    return proposals, inspections, polls, ballots, reports


EVERYTHING = (
    ["F-2023-0001", "F-2023-0002", "F-2023-0003", "F-2023-0004", "F-2025-0001"],
    ["T-2023-0001", "T-2023-0002", "T-2025-0001"],
    1,
    1,
    1,
)
KEPT = (["F-2023-0003", "F-2023-0004", "F-2025-0001"], ["T-2025-0001"], 0, 0, 0)


def remove_button(card: dict[str, Any]) -> dict[str, Any]:
    (button,) = [a for a in actions_of(card) if a["data"].get("action") == "retention.remove"]
    return button


async def test_an_administrator_sees_the_list_and_nothing_is_removed_without_confirming(bot: Harness) -> None:
    await forum(bot)
    card = (await bot.say(ADMIN, "gallring")).cards[0]
    text = card_text(card)
    assert SV("retention.rule", months=36, cutoff="torsdag 23 november 2023") in text
    assert "F-2023-0001, F-2023-0002" in text and "T-2023-0001, T-2023-0002" in text
    for kept in ("F-2023-0003", "F-2023-0004", "F-2025-0001", "T-2025-0001"):
        assert kept not in text
    assert SV("retention.kind.poll", count=1) in text and SV("retention.kind.status_report", count=1) in text
    assert SV("retention.public_records") in text
    assert remove_button(card)["title"] == SV.plural("retention.confirm", 6)
    assert await numbers(bot) == EVERYTHING


async def test_confirming_removes_exactly_the_list_and_audits_each(bot: Harness) -> None:
    await forum(bot)
    card = (await bot.say(ADMIN, "gallring")).cards[0]
    response = await bot.submit(ADMIN, remove_button(card)["data"], reply_to_id="retention-card")
    assert SV.plural("retention.removed", 6) in response.texts
    (updated,) = response.updated_cards
    assert SV("retention.nothing") in card_text(updated)
    assert await numbers(bot) == KEPT
    async with bot.sessions() as session:
        audited = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.removed"))
        )
        events = int(await session.scalar(select(func.count()).select_from(ProposalEvent)) or 0)
    assert sorted((a.item_type, a.details["label"]) for a in audited if a.item_type != "poll") == [
        ("inspection", "T-2023-0001"),
        ("inspection", "T-2023-0002"),
        ("proposal", "F-2023-0001"),
        ("proposal", "F-2023-0002"),
        ("status_report", "2023-05-09 MHF"),
    ]
    assert [a.details["label"][:1] for a in audited if a.item_type == "poll"] == ["#"]
    assert all(a.details["rule_months"] == 36 and a.actor_aad_id == ADMIN.aad_object_id for a in audited)
    assert events == 3  # the kept proposals' history stays
    # pressing again: the list it named is gone, nothing more is removed
    again = await bot.submit(ADMIN, remove_button(card)["data"], reply_to_id="retention-card")
    assert SV("retention.changed") in card_text(again.updated_cards[0])
    assert await numbers(bot) == KEPT


async def test_a_list_that_changed_since_is_shown_again_and_nothing_is_removed(bot: Harness) -> None:
    await forum(bot)
    card = (await bot.say(ADMIN, "gallring")).cards[0]
    async with bot.sessions() as session:  # meanwhile F-2023-0003 is withdrawn (long ago, as it happens)
        row = await session.scalar(select(Proposal).where(Proposal.number == "F-2023-0003"))
        assert row is not None
        row.status = "withdrawn"
        await session.commit()
    response = await bot.submit(ADMIN, remove_button(card)["data"], reply_to_id="retention-card")
    (shown,) = response.updated_cards
    assert SV("retention.changed") in card_text(shown) and "F-2023-0003" in card_text(shown)
    assert remove_button(shown)["title"] == SV.plural("retention.confirm", 7)
    assert await numbers(bot) == EVERYTHING


async def test_only_an_administrator_and_only_in_a_personal_chat(bot: Harness) -> None:
    await forum(bot)
    card = (await bot.say(ADMIN, "gallring")).cards[0]
    refused = await bot.say(COORDINATOR, "gallring")
    assert not refused.cards
    forged = await bot.submit(COORDINATOR, remove_button(card)["data"], reply_to_id="retention-card")
    assert not forged.updated_cards and not forged.cards
    in_channel = await bot.say(ADMIN, "gallring", where="channel")
    assert in_channel.texts == [SV("retention.personal_only")]
    bad = await bot.submit(ADMIN, {"action": "retention.remove", "digest": "'; drop table"}, reply_to_id="x")
    assert not bad.updated_cards
    assert await numbers(bot) == EVERYTHING


async def cli(bot: Harness, *args: str, months: str = "36") -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "retention",
        *args,
        env={
            **os.environ,
            "DATABASE_URL": bot.settings.database_url,
            "FORUMBOT_ENV": "development",
            "FORUMBOT_RETENTION_MONTHS": months,
        },
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_from_the_command_line(bot: Harness) -> None:
    await forum(bot)
    # the command line's clock is the real one: the rule reaches back from today
    code, out, _ = await cli(bot, months="0")
    assert code == 0 and "No retention rule" in out
    code, out, _ = await cli(bot)
    assert code == 0 and "F-2023-0001" in out and "F-2025-0001" not in out
    digest = out.rsplit("--remove ", 1)[1].strip()
    code, _, err = await cli(bot, "--remove", "0123456789abcdef")
    assert code == 4 and "nothing removed" in err
    assert await numbers(bot) == EVERYTHING
    code, out, err = await cli(bot, "--remove", digest)
    assert code == 0, err
    assert "Removed 6 items" in out
    assert await numbers(bot) == KEPT
    async with bot.sessions() as session:
        audited = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.removed"))
        )
    assert len(audited) == 6 and all(a.details["by"].startswith("command line (") for a in audited)
