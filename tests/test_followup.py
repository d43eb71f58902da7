"""Follow-up over HTTP and from the command line, on a forum whose figures are counted by hand:
each figure counts only what the asker may see (the channel: what every member may see), the
files open (Excel with its sheets, headers and dates; CSV with its BOM; the chart a PNG of its
size), and `forumbot report` gives the same figures as the card."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select
from stdnum.se import orgnr

from bot.domain.followup import Level, parse_period
from bot.domain.inspections import inspection_audience
from bot.domain.visibility import Audience
from bot.i18n import Translator
from bot.services.followup import CHART_SIZE, FollowUpService
from bot.services.reports import ReportService
from bot.storage import db
from bot.storage.followup import FollowUp
from bot.storage.membership import Members
from bot.storage.models import (
    Agency,
    InspectionPart,
    Meeting,
    Member,
    Poll,
    PollBallot,
    Proposal,
    ProposalEvent,
    StatusReport,
)
from tests.conftest import COORDINATOR, INSPECTOR, POLICE, STRANGER, TAX
from tests.support import rows
from tests.support.harness import Harness, card_text
from tests.support.teams import TeamsUser
from tests.support.texts import EN, SV
from tests.test_files import fetch, files_of, path_of
from tests.test_proposals import forum as forum_with_tax

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday; this quarter is Q4 2026
REPO = Path(__file__).resolve().parents[1]


def at(month: int, day: int, hour: int = 8, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


async def seed(bot: Harness) -> None:
    """The hand-counted forum (see the expectations in each test):

    proposals P1 MHF forum restaurang (made 1 Oct, accepted 10 Oct), P2 MHF agency-only bygg
    (made 2 Oct, rejected 2 Nov), P3 POL shared with MHF bygg (made 15 Oct, withdrawn 3 Nov),
    P4 SKV agency-only bygg (made 20 Oct), P5 MHF forum restaurang (made 20 Sep, accepted 5 Oct);
    inspections I1 of P1, forum-wide, MHF and POL, done 10 Nov (MHF's outcome shared, POL's
    not), I2 of P3, POL's booking with SKV only, done 20 Nov (both outcomes shared), I3
    forum-wide without a proposal, cancelled (was to be 1 Dec); meetings 14 Oct and 11 Nov
    held, 28 Oct cancelled, 9 Dec still to come; status reports before 14 Oct from MHF and POL
    (SKV's a draft), before 11 Nov from MHF; the 11 Nov attendance poll: yes (MHF), a
    substitute (POL), no (SKV)."""
    async with bot.sessions() as session:
        agency = {a.code: a.id for a in await session.scalars(select(Agency))}
        member = {m.aad_object_id: m.id for m in await session.scalars(select(Member))}
        mhf, pol, skv = agency["MHF"], agency["POL"], agency["SKV"]
        inspector, police, tax = (member[p.aad_object_id] for p in (INSPECTOR, POLICE, TAX))

        proposals = [
            rows.proposal("F-2026-0001", inspector, mhf, "planned", at(10, 1), industry="restaurang"),
            rows.proposal("F-2026-0002", inspector, mhf, "rejected", at(10, 2), visibility="agency"),
            rows.proposal(
                "F-2026-0003", police, pol, "withdrawn", at(10, 15), visibility="agencies", shared=[mhf]
            ),
            rows.proposal("F-2026-0004", tax, skv, "proposed", at(10, 20), visibility="agency"),
            rows.proposal("F-2026-0005", inspector, mhf, "accepted", at(9, 20), industry="restaurang"),
        ]
        session.add_all(proposals)
        await session.flush()
        p1, p2, p3, _, p5 = proposals
        for row, actor, to_status, when in (
            (p1, inspector, "accepted", at(10, 10)),
            (p1, inspector, "planned", at(10, 12)),
            (p2, inspector, "rejected", at(11, 2)),
            (p3, police, "withdrawn", at(11, 3)),
            (p5, inspector, "accepted", at(10, 5)),
        ):
            session.add(
                ProposalEvent(
                    proposal_id=row.id,
                    at=when,
                    actor_id=actor,
                    kind="transition",
                    from_status="proposed",
                    to_status=to_status,
                )
            )

        i1 = rows.inspection(
            "T-2026-0001", p1.id, inspector, mhf, [mhf, pol], "done", at(11, 10, 9), at(10, 12)
        )
        i2 = rows.inspection(
            "T-2026-0002",
            p3.id,
            police,
            pol,
            [pol, skv],
            "done",
            at(11, 20, 9),
            at(11, 1),
            visibility="agencies",
        )
        i3 = rows.inspection(
            "T-2026-0003", None, inspector, mhf, [mhf, pol], "cancelled", at(12, 1, 9), at(11, 5)
        )
        session.add_all([i1, i2, i3])
        await session.flush()
        for row, agency_id, findings, measures, shared in (
            (i1, mhf, ["brandskyddsbrister"], [], True),
            (i1, pol, ["svartarbete misstänkt", "brandskyddsbrister"], ["anmälan"], False),
            (i2, pol, ["inga anmärkningar"], [], True),
            (i2, skv, ["svartarbete misstänkt"], ["föreläggande"], True),
        ):
            session.add(
                InspectionPart(
                    inspection_id=row.id,
                    agency_id=agency_id,
                    state="confirmed",
                    outcome="done",
                    findings=findings,
                    measures=measures,
                    outcome_shared=shared,
                )
            )
        for agency_id in (mhf, pol):
            session.add(InspectionPart(inspection_id=i3.id, agency_id=agency_id, state="asked"))

        def meeting(day: date, status: str = "scheduled") -> Meeting:
            starts = datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC)
            return Meeting(
                day=day,
                starts_at=starts,
                ends_at=starts.replace(hour=10),
                status=status,
                title="Operativt möte",
                agency_id=mhf,
                created_at=at(9, 1),
                updated_at=at(9, 1),
            )

        held = [
            meeting(date(2026, 10, 14)),
            meeting(date(2026, 10, 28), "cancelled"),
            meeting(date(2026, 11, 11)),
            meeting(date(2026, 12, 9)),
        ]
        session.add_all(held)
        await session.flush()
        for row, agency_id, status, author in (
            (held[0], mhf, "submitted", inspector),
            (held[0], pol, "submitted", police),
            (held[0], skv, "draft", tax),
            (held[2], mhf, "submitted", inspector),
        ):
            session.add(
                StatusReport(
                    meeting_id=row.id,
                    agency_id=agency_id,
                    status=status,
                    visibility="forum",
                    shared_agency_ids=[],
                    author_id=author,
                    created_at=at(10, 1),
                    updated_at=at(10, 1),
                )
            )
        poll = Poll(
            kind="attendance",
            meeting_id=held[2].id,
            question="Kommer du?",
            multiple=False,
            anonymous=False,
            live=True,
            agency_id=None,
            created_by=None,
            creator_agency_id=mhf,
            deadline=at(11, 11),
            status="closed",
            created_at=at(11, 4),
        )
        session.add(poll)
        await session.flush()
        for who, choices in ((inspector, 1), (police, 8), (tax, 2)):
            session.add(PollBallot(poll_id=poll.id, voter=f"member:{who}", choices=choices, member_id=who))
        await session.commit()


async def forum(bot: Harness) -> None:
    bot.clock.moment = NOW
    await forum_with_tax(bot)
    await seed(bot)


def figures(card: dict[str, Any]) -> dict[str, str]:
    """The card's key figures (its first fact set), by label."""
    (summary, *_) = [b for b in card["body"] if b["type"] == "FactSet"]
    return {fact["title"]: fact["value"] for fact in summary["facts"]}


def expected(**values: str) -> dict[str, str]:
    keys = {
        "made": "proposals_made",
        "accepted": "accepted",
        "rejected": "rejected",
        "withdrawn": "withdrawn",
        "booked": "booked",
        "done": "done",
        "cancelled": "cancelled",
        "median": "median_days",
        "meetings": "meetings",
        "reports": "reports",
        "coming": "coming",
    }
    return {SV(f"followup.fig.{keys[name]}"): value for name, value in values.items()}


async def ask(
    bot: Harness, who: TeamsUser, words: str = "uppföljning kvartal", where: str = "personal"
) -> dict:
    response = await bot.say(who, words, where=where)
    (card,) = response.cards
    return card


def links(card: dict[str, Any]) -> dict[str, str]:
    return {a["title"]: a["url"] for a in card.get("actions", []) if a["type"] == "Action.OpenUrl"}


FORUM_FIGURES = expected(
    made="1",
    accepted="2",
    rejected="0",
    withdrawn="0",
    booked="2",
    done="1",
    cancelled="1",
    median="40",
    meetings="2",
    reports="3",
    coming="1",
)


async def test_in_the_channel_only_what_every_member_may_see_is_counted(bot: Harness) -> None:
    await forum(bot)
    card = await ask(bot, COORDINATOR, where="channel")
    text = card_text(card)
    assert SV("followup.title", period=SV("followup.quarter", number=4, year=2026)) in text
    assert SV("followup.scope.forum") in text and SV("followup.card.channel_note") in text
    assert figures(card) == FORUM_FIGURES
    # the agency-only proposals (bygg), POL's booking with SKV and POL's unshared outcome: not here
    assert "Bygg" not in text and "svartarbete" not in text
    assert "brandskyddsbrister" in text and "Restaurang och café" in text
    # no buttons to other periods in the channel (they would answer one member, privately)
    assert not [a for a in card["actions"] if a["type"] == "Action.Submit"]


async def test_in_a_personal_chat_an_agency_counts_what_it_may_see(bot: Harness) -> None:
    await forum(bot)
    mhf = figures(await ask(bot, INSPECTOR))
    assert mhf == expected(
        made="3",
        accepted="2",
        rejected="1",
        withdrawn="1",
        booked="2",
        done="1",
        cancelled="1",
        median="40",
        meetings="2",
        reports="3",
        coming="1",
    )
    police = await ask(bot, POLICE)
    assert figures(police) == expected(
        made="2",
        accepted="2",
        rejected="0",
        withdrawn="1",
        booked="3",
        done="2",
        cancelled="1",
        median="38",
        meetings="2",
        reports="3",
        coming="1",
    )
    text = card_text(police)
    # its own unshared outcome and SKV's shared one (in POL's own booking) count for POL
    assert "svartarbete misstänkt" in text and "inga anmärkningar" in text
    tax = figures(await ask(bot, TAX, "follow-up Q4 2026"))
    # SKV: P1, P5 and its own P4; I1, I2 and I3
    assert tax[SV("followup.fig.proposals_made")] == "2"
    assert tax[SV("followup.fig.done")] == "2"


async def test_the_files_open_with_the_same_figures(bot: Harness) -> None:
    await forum(bot)
    card = await ask(bot, POLICE)
    urls = links(card)
    assert set(urls) == {SV("followup.excel"), SV("followup.csv"), SV("followup.png")}

    excel = await fetch(bot, path_of(urls[SV("followup.excel")]))
    assert excel.status == 200 and excel.filename == "uppfoljning-2026-10-01-2026-12-31.xlsx"
    book = load_workbook(io.BytesIO(excel.body))
    assert book.sheetnames[:3] == [
        SV("followup.table.summary"),
        SV("followup.table.by_industry"),
        SV("followup.table.by_agency"),
    ]
    summary = book[SV("followup.table.summary")]
    assert summary.freeze_panes == "A2"
    assert [c.value for c in summary[1]] == [SV("followup.col.figure"), SV("followup.col.value")]
    values = {row[0]: row[1] for row in summary.iter_rows(min_row=2, values_only=True)}
    assert values[SV("followup.fig.done")] == 2 and values[SV("followup.fig.median_days")] == 38
    months = book[SV("followup.table.per_month")]
    assert months.freeze_panes == "A2"
    rows = list(months.iter_rows(min_row=2, values_only=True))
    assert [r[0].date() for r in rows] == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    assert [(r[1], r[2]) for r in rows] == [(2, 0), (0, 2), (0, 0)]
    assert months["A2"].number_format == "yyyy-mm-dd"
    findings = {
        r[0]: r[1] for r in book[SV("followup.table.findings")].iter_rows(min_row=2, values_only=True)
    }
    assert findings == {"brandskyddsbrister": 2, "svartarbete misstänkt": 2, "inga anmärkningar": 1}
    meetings = list(book[SV("followup.table.meetings")].iter_rows(min_row=2, values_only=True))
    assert [(r[0].date(), r[2], r[3], r[4]) for r in meetings] == [
        (date(2026, 10, 14), 2, 0, 0),
        (date(2026, 11, 11), 1, 2, 2),
    ]

    comma = await fetch(bot, path_of(urls[SV("followup.csv")]))
    assert comma.status == 200 and comma.body.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(comma.body.decode("utf-8-sig")), delimiter=";"))
    assert [SV("followup.fig.median_days"), "38"] in lines

    chart = await fetch(bot, path_of(urls[SV("followup.png")]))
    assert chart.status == 200 and chart.headers["Content-Type"].startswith("image/png")
    image = Image.open(io.BytesIO(chart.body))
    assert image.format == "PNG" and image.size == CHART_SIZE
    # the card carries the same chart, embedded
    (picture,) = [b for b in card["body"] if b["type"] == "Image"]
    assert picture["url"].startswith("data:image/png;base64,")
    assert picture["altText"] == SV("followup.chart.alt")


async def report(bot: Harness, *args: str) -> tuple[int, str]:
    """`forumbot report --from 2026-10-01 --to 2026-12-31 ARGS` on the bot's database."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-12-31",
        *args,
        env={**os.environ, "DATABASE_URL": bot.settings.database_url, "FORUMBOT_ENV": "development"},
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, stderr.decode()


def sections(lines: list[list[str]]) -> dict[str, list[list[str]]]:
    """The CSV's tables by title: a title row, a header row, the rows, an empty row."""
    found: dict[str, list[list[str]]] = {}
    index = 3  # after the report's title, scope and an empty row
    while index < len(lines):
        title, index = lines[index][0], index + 2
        found[title] = []
        while index < len(lines) and lines[index]:
            found[title].append(lines[index])
            index += 1
        index += 1
    return found


def listed(card: dict[str, Any], key: str) -> dict[str, str]:
    """The facts under the card's heading `key` (none when the card has no such list)."""
    body = card["body"]
    heads = [i for i, b in enumerate(body) if b.get("text") == f"**{SV(key)}**"]
    return {fact["title"]: fact["value"] for fact in body[heads[0] + 1]["facts"]} if heads else {}


async def test_the_command_line_gives_the_figures_of_the_card(bot: Harness, tmp_path: Path) -> None:
    await forum(bot)
    cards = {"forum": await ask(bot, COORDINATOR, where="channel"), "POL": await ask(bot, POLICE)}
    for level, card in cards.items():
        out = tmp_path / f"{level}.csv"
        args = ["--level", "forum"] if level == "forum" else ["--level", "agency", level]
        code, stderr = await report(bot, "--format", "csv", "--out", str(out), *args)
        assert code == 0, stderr
        lines = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig")), delimiter=";"))
        start = lines.index([SV("followup.col.figure"), SV("followup.col.value")])
        from_cli = {row[0]: row[1] or "–" for row in lines[start + 1 :] if len(row) == 2}
        shown = figures(card)
        assert {k: v for k, v in from_cli.items() if k in shown} == shown, level
        assert set(shown) <= set(from_cli)
        # and the card's lists are the first rows of the file's tables
        tables = sections(lines)
        for heading, table in (
            ("followup.card.top_industries", "followup.table.by_industry"),
            ("followup.card.taking_part", "followup.table.taking_part"),
            ("followup.card.findings", "followup.table.findings"),
        ):
            rows_in_file = [(row[0], row[1]) for row in tables[SV(table)] if row[1] != "0"][:5]
            assert list(listed(card, heading).items()) == rows_in_file, (level, table)
    for fmt in ("xlsx", "png"):
        out = tmp_path / f"forum.{fmt}"
        code, stderr = await report(bot, "--format", fmt, "--out", str(out))
        assert code == 0, stderr
        assert out.stat().st_size > 1000
    code, stderr = await report(bot, "--out", str(tmp_path / "x.xlsx"), "--level", "agency", "XYZ")
    assert code == 2 and "XYZ" in stderr
    assert not (tmp_path / "x.xlsx").exists()


async def test_periods_by_name_and_buttons_to_the_next_and_previous(bot: Harness) -> None:
    await forum(bot)
    card = await ask(bot, INSPECTOR, "uppföljning förra månaden")
    assert SV("followup.title", period="oktober 2026") in card_text(card)
    assert figures(card)[SV("followup.fig.proposals_made")] == "3"
    (following,) = [a for a in card["actions"] if a.get("title") == SV("followup.next")]
    response = await bot.submit(INSPECTOR, following["data"], reply_to_id="followup-card")
    (november,) = response.updated_cards
    assert SV("followup.title", period="november 2026") in card_text(november)
    assert figures(november)[SV("followup.fig.done")] == "1"
    # November is this month: nothing after it to go to
    assert SV("followup.next") not in [a.get("title") for a in november["actions"]]
    year = await ask(bot, INSPECTOR, "uppföljning 2026-10-01 2026-10-31")
    assert figures(year) == figures(card)
    # the English words name the same period; the card is in the member's language
    english = await ask(bot, INSPECTOR, "follow-up last month")
    assert figures(english) == figures(card)
    assert (await bot.say(INSPECTOR, "language english")).texts
    in_english = await ask(bot, INSPECTOR, "follow-up last month")
    assert EN("followup.title", period="October 2026") in card_text(in_english)
    assert figures(in_english)[EN("followup.fig.proposals_made")] == "3"


async def test_a_bad_period_is_explained_and_strangers_are_refused(bot: Harness) -> None:
    await forum(bot)
    for words, key in (
        ("uppföljning 2026-13", "followup.period.bad_date"),
        ("uppföljning 2026-02-30 2026-03-31", "followup.period.bad_date"),
        ("uppföljning 2026-03-31 2026-01-01", "followup.period.backwards"),
        ("uppföljning 2020-01-01 2026-12-31", "followup.period.too_long"),
        ("uppföljning i förrgår", "followup.period.unknown"),
        ("uppföljning 0001", "followup.period.years"),
        ("uppföljning Q4 9999", "followup.period.bad_date"),
    ):
        response = await bot.say(INSPECTOR, words)
        assert response.texts == [SV(key)], (words, response.texts)
    forged = await bot.submit(INSPECTOR, {"action": "followup.show", "period": "Q4"}, reply_to_id="x")
    assert forged.status < 300 and len(forged.texts) == 1 and not forged.cards and not forged.updated_cards
    stranger = await bot.say(STRANGER, "uppföljning")
    assert not stranger.cards


async def run_cli(*args: str, database_url: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**os.environ, "DATABASE_URL": database_url, "FORUMBOT_ENV": "development"},
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 180)
    return process.returncode or 0, out.decode(), err.decode()


async def test_the_demo_history_is_a_reproducible_year_with_fictitious_businesses(tmp_path: Path) -> None:
    stored = []
    for name in ("one", "two"):
        url = f"sqlite+aiosqlite:///{tmp_path / name}.db"
        code, out, err = await run_cli(
            "demo", "--history", "--seed", "7", "--until", "2026-06-30", database_url=url
        )
        assert code == 0, err
        assert "Demo history: 140 proposals" in out
        engine = db.create_engine(url)
        async with db.session_factory(engine)() as session:
            rows = (
                await session.execute(
                    select(
                        Proposal.number,
                        Proposal.business_name,
                        Proposal.org_number,
                        Proposal.status,
                        Proposal.industry,
                    ).order_by(Proposal.id)
                )
            ).all()
            done = await session.scalar(
                select(func.count()).select_from(InspectionPart).where(InspectionPart.outcome == "done")
            )
            meetings = await session.scalar(select(func.count()).select_from(Meeting))
        await engine.dispose()
        stored.append(rows)
        assert done and meetings and meetings >= 20
    assert stored[0] == stored[1]  # the same seed, the same year
    statuses = {row.status for row in stored[0]}
    assert {
        "proposed",
        "accepted",
        "rejected",
        "withdrawn",
        "needs_info",
        "planned",
        "done",
        "followed_up",
    } <= statuses
    for row in stored[0]:
        assert row.business_name.startswith("Demo ") and row.org_number.startswith("40")
        assert orgnr.is_valid(row.org_number)
    # and the follow-up has something to show
    code, _, err = await run_cli(
        "report",
        "--from",
        "2025-01-01",
        "--to",
        "2027-12-31",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "year.csv"),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'one'}.db",
    )
    assert code == 0, err
    lines = (tmp_path / "year.csv").read_bytes().decode("utf-8-sig").splitlines()
    made = next(line for line in lines if line.startswith(SV("followup.fig.proposals_made") + ";"))
    assert int(made.split(";")[1]) > 50


async def test_the_status_picture_says_what_happened_since_the_meeting_before(bot: Harness) -> None:
    await forum(bot)
    async with bot.sessions() as session:
        mhf = await session.scalar(select(Agency.id).where(Agency.code == "MHF"))
        author = await session.scalar(
            select(Member.id).where(Member.aad_object_id == INSPECTOR.aad_object_id)
        )
        session.add(rows.proposal("F-2026-0006", author, mhf, "proposed", at(11, 15)))
        await session.commit()
    # the next meeting is 9 December; the one before it was held 11 November: since then a new
    # forum-wide proposal (15 Nov) and POL's booking with SKV done (20 Nov), which MHF may not see
    since = "Sedan förra mötet (11 nov. 2026): {}."
    police = card_text((await bot.say(POLICE, "lägesbild")).cards[0])
    assert since.format("1 nytt förslag och 1 genomförd samordnad tillsyn") in police
    mhf_text = card_text((await bot.say(INSPECTOR, "lägesbild")).cards[0])
    assert since.format("1 nytt förslag och 0 genomförda samordnade tillsyner") in mhf_text
    # the channel's copy, as the scheduled post draws it: forum-wide only
    async with bot.sessions() as session:
        reports = ReportService(session, bot.settings, bot.clock)
        meeting = await reports.picture_meeting()
        assert meeting is not None and meeting.day == date(2026, 12, 9)
        channel = card_text(await reports.compiled_card(Translator("sv"), meeting, None))
    assert since.format("1 nytt förslag och 0 genomförda samordnade tillsyner") in channel


async def test_a_files_link_gives_what_its_card_showed_and_a_forged_one_nothing(bot: Harness) -> None:
    await forum(bot)
    # the channel's card: its links (minted for the coordinator who asked) hold the forum's figures
    channel = await ask(bot, COORDINATOR, where="channel")
    comma = await fetch(bot, path_of(links(channel)[SV("followup.csv")]))
    lines = list(csv.reader(io.StringIO(comma.body.decode("utf-8-sig")), delimiter=";"))
    assert [SV("followup.fig.proposals_made"), "1"] in lines and SV("followup.scope.forum") in lines[1]
    # a link signed for an item that is no period: not found, nothing served
    async with bot.sessions() as session:
        member = await Members(session).by_aad_id(INSPECTOR.aad_object_id)
    assert member is not None
    for item in (0, 12345, 2**62):
        for kind in ("followup.xlsx", "followup.csv", "followup.png"):
            got = await fetch(bot, path_of(files_of(bot).link(member, kind, item)))
            assert got.status == 404, (kind, item)


def taking_part(card: dict[str, Any]) -> dict[str, str]:
    """The card's "agencies in inspections done" rows."""
    return listed(card, "followup.card.taking_part")


async def test_a_narrower_proposal_and_an_unshared_outcome_stay_hidden_behind_a_wider_inspection(
    bot: Harness,
) -> None:
    await forum(bot)
    async with bot.sessions() as session:
        agency = {a.code: a.id for a in await session.scalars(select(Agency))}
        inspector = await session.scalar(
            select(Member.id).where(Member.aad_object_id == INSPECTOR.aad_object_id)
        )
        assert inspector is not None
        mhf, pol = agency["MHF"], agency["POL"]
        # MHF's own proposal (only MHF may see it), booked as a forum-wide inspection with the police
        p7 = rows.proposal(
            "F-2026-0007", inspector, mhf, "planned", at(10, 1), visibility="agency", industry="spel"
        )
        session.add(p7)
        await session.flush()
        i4 = rows.inspection(
            "T-2026-0004", p7.id, inspector, mhf, [mhf, pol], "done", at(11, 12, 9), at(10, 20)
        )
        session.add(i4)
        await session.flush()
        session.add_all(
            [
                InspectionPart(inspection_id=i4.id, agency_id=mhf, state="confirmed", outcome="done",
                               findings=["livsmedelsbrister"], measures=[], outcome_shared=True),
                # the police could not carry out their part, and keep that to themselves
                InspectionPart(inspection_id=i4.id, agency_id=pol, state="confirmed", outcome="not_done",
                               findings=[], measures=[], outcome_shared=False),
            ]
        )  # fmt: skip
        await session.commit()
    police_name = "Polisen – lokalpolisområde Västerås"
    channel = await ask(bot, COORDINATOR, where="channel")
    shown = figures(channel)
    assert shown[SV("followup.fig.done")] == "2"
    # the proposal's industry and its date stay hidden: no "Spel", and the median is I1's alone
    assert shown[SV("followup.fig.median_days")] == "40"
    text = card_text(channel)
    assert "Spel" not in text
    assert taking_part(channel)[police_name] == "2"  # confirmed: not whether they carried it out
    chart_rows = await FollowUpReport.of(bot, Level())
    assert ("Utan känd bransch", 1) in chart_rows
    # MHF may see its own proposal: its industry and its 42 days count (median of 40 and 42)
    mhf_card = await ask(bot, INSPECTOR)
    assert figures(mhf_card)[SV("followup.fig.median_days")] == "41"
    assert taking_part(mhf_card)[police_name] == "2"
    # the police read their own outcome: they took part in I1 and I2, not in I4
    assert taking_part(await ask(bot, POLICE))[police_name] == "2"


class FollowUpReport:
    @staticmethod
    async def of(bot: Harness, level: Level) -> list[tuple[Any, ...]]:
        """The findings-by-industry table of the report at `level`, this quarter."""
        async with bot.sessions() as session:
            service = FollowUpService(session, bot.settings, bot.clock)
            report = await service.report(Translator("sv"), parse_period("kvartal", NOW.date()), level)
        return report.table("findings_by_industry").rows


async def test_the_databases_visibility_rule_is_can_see(bot: Harness) -> None:
    """Every kind of audience a proposal or an inspection can have, counted by SQL for each level,
    agrees with bot.domain.visibility.can_see (through Level.sees)."""
    bot.clock.moment = NOW
    await forum_with_tax(bot)
    audiences: list[tuple[str, int, list[int]]] = []
    async with bot.sessions() as session:
        agency = {a.code: a.id for a in await session.scalars(select(Agency))}
        author = await session.scalar(
            select(Member.id).where(Member.aad_object_id == INSPECTOR.aad_object_id)
        )
        assert author is not None
        mhf, pol, skv = agency["MHF"], agency["POL"], agency["SKV"]
        number = 0
        for visibility in ("agency", "agencies", "forum"):
            for owner in (mhf, pol, skv):
                for shared in ([], [pol], [mhf, skv], [pol, skv]):
                    number += 1
                    audiences.append((visibility, owner, shared))
                    session.add(
                        rows.proposal(f"F-2026-{number:04d}", author, owner, "proposed", at(10, 5),
                                      visibility=visibility, shared=shared)
                    )  # fmt: skip
                    if visibility != "agency":  # an inspection is forum-wide or its agencies'
                        parties = sorted({owner, *shared})
                        session.add(
                            rows.inspection(f"T-2026-{number:04d}", None, author, owner, parties, "done",
                                            at(10, 6), at(10, 1), visibility=visibility)
                        )  # fmt: skip
        await session.commit()
    levels = [Level(), *(Level(agency[code]) for code in ("MHF", "POL", "SKV", "AV"))]
    async with bot.sessions() as session:
        for level in levels:
            made, done = await FollowUp(session).since(level, at(10, 1), at(10, 31))
            expected_made = sum(level.sees(Audience.of(v, owner, shared)) for v, owner, shared in audiences)
            expected_done = sum(
                level.sees(inspection_audience(v, owner, {owner, *shared}))
                for v, owner, shared in audiences
                if v != "agency"
            )
            assert (made, done) == (expected_made, expected_done), level
    assert (expected_made, expected_done) == (12, 12)  # the last level, AV: only the forum-wide ones
