"""Follow-up: `uppföljning [period]` answers with the period's figures, a chart and the files.

Asked in a personal chat, the figures count what the member's agency may see (and their own
items); asked in the forum channel, only what every member may see. The card's buttons go to the
period before and after, in place.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from pydantic import Field

from bot.cards.followup import FollowUpCardView, followup_card
from bot.dialogs.router import Access, Ctx, Router, SubmitData
from bot.domain.followup import FIRST_YEAR, Period, PeriodError, parse_period
from bot.services.followup import (
    CSV_KIND,
    PNG_KIND,
    XLSX_KIND,
    FollowUpService,
    Report,
    chart_png,
    data_uri,
    links,
    number,
)

# each file's button on the card, by its catalogue key
FILE_BUTTONS = ((XLSX_KIND, "followup.excel"), (CSV_KIND, "followup.csv"), (PNG_KIND, "followup.png"))


class PeriodRef(SubmitData):
    period: Annotated[int, Field(strict=True, ge=0, le=2**62)]


def register(router: Router) -> None:
    @router.command(
        "help.cmd.followup",
        "uppföljning",
        "follow-up",
        "followup",
        access=Access.MEMBER,
        shown=("uppföljning [kvartal | förra månaden | Q3 2026 | …]", "follow-up [quarter | last month | …]"),
    )
    async def followup(ctx: Ctx) -> None:
        service = FollowUpService(ctx.session, ctx.settings, ctx.clock)
        try:
            period = parse_period(ctx.args, service.today())
        except PeriodError as error:
            ctx.say(ctx.t(str(error)))
            return
        forum = not ctx.turn.personal
        ctx.send_card(await followup_view(ctx, service, period, forum=forum))

    @router.action("followup.show", access=Access.MEMBER, data=PeriodRef)
    async def show(ctx: Ctx, data: PeriodRef) -> None:
        try:
            period = Period.from_id(data.period)
        except (ValueError, OverflowError):
            ctx.say(ctx.t("followup.period.unknown"))
            return
        service = FollowUpService(ctx.session, ctx.settings, ctx.clock)
        ctx.replace_card(await followup_view(ctx, service, period, forum=False))


async def followup_view(ctx: Ctx, service: FollowUpService, period: Period, *, forum: bool) -> dict:
    report = await service.report(ctx.t, period, service.level_of(ctx.me, forum=forum))
    before = period.previous()
    files = links(ctx.files, ctx.me, period, forum=forum) if ctx.files is not None else {}
    # drawn in a worker thread: the event loop goes on serving others meanwhile
    chart = data_uri(await asyncio.to_thread(chart_png, ctx.t, report)) or files.get(PNG_KIND)
    view = FollowUpCardView(
        title=report.title,
        scope=report.scope,
        summary=[(label, _shown(ctx, value)) for label, value in report.summary()],
        top_industries=_rows(ctx, report, "by_industry"),
        taking_part=_rows(ctx, report, "taking_part"),
        findings=_rows(ctx, report, "findings"),
        chart_url=chart,
        files=[(label, files[kind]) for kind, label in FILE_BUTTONS if kind in files],
        minutes=ctx.settings.file_link_minutes,
        previous=None if forum or before.start.year < FIRST_YEAR else {"period": before.as_id()},
        next=None
        if forum or period.following().start > service.today()
        else {"period": period.following().as_id()},
        channel=forum,
        empty=not any(value for _, value in report.summary()),
    )
    return followup_card(ctx.t, view)


def _shown(ctx: Ctx, value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, int | float):
        return number(ctx.t, value)
    return str(value)


def _rows(ctx: Ctx, report: Report, key: str) -> list[tuple[str, str]]:
    return [(str(row[0]), _shown(ctx, row[1])) for row in report.table(key).rows if row[1]]
