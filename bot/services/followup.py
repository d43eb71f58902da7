"""Follow-up: the report's figures as tables (for the card, the Excel file, the CSV and the command
line alike), its chart, and its files through signed links.

The same `Report` is drawn everywhere: the card shows its tables' first rows, the files hold them
all, `forumbot report` writes them. A report's level is an agency's (what its members may see,
asked in a personal chat or from the command line with --level agency CODE) or the forum's (what
every member may see: asked in the forum channel, or --level forum).
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.files import FileContent
from bot.domain.followup import NO_INDUSTRY, Figures, Level, Period, PeriodKind
from bot.domain.members import MemberView
from bot.domain.proposals import OTHER_INDUSTRY
from bot.domain.text import spreadsheet_text
from bot.i18n import Translator, effective_language
from bot.services.files import FileService, Provider
from bot.settings import Settings
from bot.storage.followup import FollowUp
from bot.storage.membership import Agencies

XLSX_KIND = "followup.xlsx"
CSV_KIND = "followup.csv"
PNG_KIND = "followup.png"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHART_SIZE = (800, 320)  # pixels: two charts side by side, as wide as a card is in Teams
CHART_DPI = 100
# A chart is embedded in the card when it is at most this large (base64 characters); Teams takes
# about 28 KB per message, card included. A larger one is shown through its signed link.
EMBED_LIMIT = 20_000
DECISION_COLUMNS = ("made", "accepted", "rejected", "withdrawn")
Value = int | float | str | date | None


@dataclass(frozen=True)
class Table:
    key: str  # its name in the catalogues: followup.table.<key>
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Value, ...]]


@dataclass(frozen=True)
class Report:
    period: Period
    level: Level
    title: str  # "Uppföljning kvartal 4 2026"
    scope: str  # whose figures: the forum's, or an agency's
    figures: Figures
    tables: list[Table]

    def table(self, key: str) -> Table:
        return next(table for table in self.tables if table.key == key)

    def summary(self) -> list[tuple[str, Value]]:
        return [(str(row[0]), row[1]) for row in self.table("summary").rows]


def period_label(t: Translator, period: Period) -> str:
    if period.kind is PeriodKind.MONTH:
        return t.month_year(period.start)
    if period.kind is PeriodKind.QUARTER:
        return t("followup.quarter", number=(period.start.month - 1) // 3 + 1, year=period.start.year)
    if period.kind is PeriodKind.YEAR:
        return str(period.start.year)
    return t("followup.range", start=t.date_medium(period.start), end=t.date_medium(period.end))


def number(t: Translator, value: float | None) -> str:
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0.#", locale=t.locale)


class FollowUpService:
    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.session = session
        self.settings = settings
        self.clock = clock
        self.agencies = Agencies(session)

    def today(self) -> date:
        return self.clock().astimezone(self.settings.zone).date()

    @staticmethod
    def level_of(member: MemberView, *, forum: bool) -> Level:
        return Level() if forum else Level(member.agency.id)

    @staticmethod
    def level_of_forum() -> Level:
        return Level()

    async def level_for_agency(self, code: str) -> Level | None:
        agency = await self.agencies.by_code(code)
        return None if agency is None else Level(agency.id)

    async def report(self, t: Translator, period: Period, level: Level) -> Report:
        figures = await FollowUp(self.session).figures(period, level, self.settings.zone, self.clock())
        agencies = {a.id: a for a in await self.agencies.every()}
        industries = {e.code: e.name(t.language) for e in self.settings.industries}

        def agency(agency_id: int) -> str:
            found = agencies.get(agency_id)
            return found.name(t.language) if found else "?"

        def industry(code: str) -> str:
            if code == NO_INDUSTRY:
                return t("followup.no_industry")
            return industries.get(code) or (t("proposal.industry_other") if code == OTHER_INDUSTRY else code)

        if level.forum:
            scope = t("followup.scope.forum")
        else:
            scope = t("followup.scope.agency", agency=agency(level.agency_id or 0))
        return Report(
            period,
            level,
            t("followup.title", period=period_label(t, period)),
            scope,
            figures,
            tables(t, figures, agency, industry),
        )

    # Files -----------------------------------------------------------------------------------
    async def file(self, member: MemberView, kind: str, item_id: int) -> FileContent | None:
        try:
            period, forum = Period.from_id(item_id >> 1), bool(item_id & 1)
        except (ValueError, OverflowError):
            return None
        t = Translator(effective_language(member.language, None, self.settings.default_language))
        report = await self.report(t, period, self.level_of(member, forum=forum))
        name = t("followup.filename", start=period.start.isoformat(), end=period.end.isoformat())
        if kind == XLSX_KIND:
            return FileContent(f"{name}.xlsx", XLSX_TYPE, await asyncio.to_thread(xlsx, report))
        if kind == CSV_KIND:
            return FileContent(f"{name}.csv", "text/csv; charset=utf-8", csv_bytes(t, report))
        return FileContent(f"{name}.png", "image/png", await asyncio.to_thread(chart_png, t, report))


def item_id(period: Period, *, forum: bool) -> int:
    return period.as_id() << 1 | int(forum)


def links(files: FileService, member: MemberView, period: Period, *, forum: bool) -> dict[str, str]:
    """Short-lived links to the report's files, as `member` may see them (or as every member may,
    for a report asked for in the channel)."""
    item = item_id(period, forum=forum)
    return {kind: files.link(member, kind, item) for kind in (XLSX_KIND, CSV_KIND, PNG_KIND)}


def file_provider(settings: Settings, clock: Callable[[], datetime], kind: str) -> Provider:
    async def provide(session: AsyncSession, member: MemberView, item: int) -> FileContent | None:
        return await FollowUpService(session, settings, clock).file(member, kind, item)

    return provide


# Tables ------------------------------------------------------------------------------------------


def tables(
    t: Translator, figures: Figures, agency: Callable[[int], str], industry: Callable[[str], str]
) -> list[Table]:
    decisions = tuple(t(f"followup.col.{column}") for column in DECISION_COLUMNS)
    meetings = figures.meetings
    reports = sum(len(m.reported) for m in meetings)
    coming = [m.coming for m in meetings]
    summary: list[tuple[Value, ...]] = [
        (t("followup.fig.proposals_made"), figures.proposals["made"]),
        (t("followup.fig.accepted"), figures.proposals["accepted"]),
        (t("followup.fig.rejected"), figures.proposals["rejected"]),
        (t("followup.fig.withdrawn"), figures.proposals["withdrawn"]),
        (t("followup.fig.booked"), figures.inspections["booked"]),
        (t("followup.fig.done"), figures.inspections["done"]),
        (t("followup.fig.cancelled"), figures.inspections["cancelled"]),
        (t("followup.fig.median_days"), figures.median_days),
        (t("followup.fig.meetings"), figures.meetings_held),
        (t("followup.fig.reports"), reports),
        (t("followup.fig.coming"), round(sum(coming) / len(coming), 1) if coming else None),
    ]

    def largest_first(rows: list[tuple[Value, ...]]) -> list[tuple[Value, ...]]:
        return sorted(rows, key=lambda row: (-_count(row[1]), str(row[0])))

    def decided(table: dict[Any, Any], name: Callable[[Any], str]) -> list[tuple[Value, ...]]:
        return largest_first(
            [(name(key), *(counts[c] for c in DECISION_COLUMNS)) for key, counts in table.items()]
        )

    def counted(counts: dict[Any, int], name: Callable[[Any], str]) -> list[tuple[Value, ...]]:
        return largest_first([(name(key), n) for key, n in counts.items() if n])

    months: list[tuple[Value, ...]] = [
        (month, figures.proposals_per_month[month], figures.inspections_per_month[month])
        for month in figures.period.months()
    ]
    attendance: list[tuple[Value, ...]] = [
        (
            m.day,
            ", ".join(sorted(agency(a) for a in m.reported)),
            len(m.reported),
            m.coming,
            m.coming_agencies,
        )
        for m in meetings
    ]

    return [
        Table(
            "summary",
            t("followup.table.summary"),
            (t("followup.col.figure"), t("followup.col.value")),
            summary,
        ),
        Table(
            "by_industry",
            t("followup.table.by_industry"),
            (t("followup.col.industry"), *decisions),
            decided(figures.by_industry, industry),
        ),
        Table(
            "by_agency",
            t("followup.table.by_agency"),
            (t("followup.col.agency"), *decisions),
            decided(figures.by_agency, agency),
        ),
        Table(
            "per_month",
            t("followup.table.per_month"),
            (t("followup.col.month"), t("followup.col.proposals"), t("followup.col.inspections_done")),
            months,
        ),
        Table(
            "taking_part",
            t("followup.table.taking_part"),
            (t("followup.col.agency"), t("followup.col.inspections")),
            counted(dict(figures.taking_part), agency),
        ),
        Table(
            "findings",
            t("followup.table.findings"),
            (t("followup.col.kind"), t("followup.col.count")),
            counted(dict(figures.findings), str),
        ),
        Table(
            "measures",
            t("followup.table.measures"),
            (t("followup.col.kind"), t("followup.col.count")),
            counted(dict(figures.measures), str),
        ),
        Table(
            "findings_by_industry",
            t("followup.table.findings_by_industry"),
            (t("followup.col.industry"), t("followup.col.count")),
            counted(dict(figures.findings_by_industry), industry),
        ),
        Table(
            "meetings",
            t("followup.table.meetings"),
            (
                t("followup.col.date"),
                t("followup.col.reported_by"),
                t("followup.col.reports"),
                t("followup.col.coming"),
                t("followup.col.coming_agencies"),
            ),
            attendance,
        ),
    ]


# Files -------------------------------------------------------------------------------------------


def xlsx(report: Report) -> bytes:
    """One sheet per table: Swedish (or English) headers in bold, the header row frozen, dates as
    dates, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for table in report.tables:
        sheet = book.create_sheet(table.title[:31])
        sheet.append(list(table.headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([spreadsheet_text(v) if isinstance(v, str) else v for v in row])
        sheet.freeze_panes = "A2"
        for index, header in enumerate(table.headers, start=1):
            values = [header, *(str(row[index - 1]) for row in table.rows)]
            sheet.column_dimensions[get_column_letter(index)].width = min(60, max(10, *map(len, values)) + 2)
            if table.rows and isinstance(table.rows[0][index - 1], date):
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = "yyyy-mm-dd"
    book.properties.title = report.title
    book.properties.subject = report.scope
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(t: Translator, report: Report) -> bytes:
    """Every table after another (its title, its headers, its rows, an empty line), as Excel in
    Sweden reads CSV: UTF-8 with a BOM, `;` between cells, decimal commas, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([spreadsheet_text(report.title)])
    writer.writerow([spreadsheet_text(report.scope)])
    writer.writerow([])
    for table in report.tables:
        writer.writerow([spreadsheet_text(table.title)])
        writer.writerow(table.headers)
        for row in table.rows:
            writer.writerow([csv_value(t, v) for v in row])
        writer.writerow([])
    return buffer.getvalue().encode("utf-8-sig")


def csv_value(t: Translator, value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return format_decimal(value, format="0.#", locale=t.locale)
    if isinstance(value, int):
        return str(value)
    return spreadsheet_text(value)


def chart_png(t: Translator, report: Report, size: tuple[int, int] = CHART_SIZE) -> bytes:
    """Proposals and inspections done per month, beside findings by industry: no names of
    people, only counts. A PNG of `size` pixels, with a palette of few colours (small enough
    to travel in the card). Drawn on a figure of its own, without pyplot's global state, so that
    it may run in a worker thread."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    figures = report.figures
    months = figures.period.months()
    figure = Figure(figsize=(size[0] / CHART_DPI, size[1] / CHART_DPI), dpi=CHART_DPI)
    canvas = FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, width_ratios=(3, 2))
    for axes in (left, right):
        axes.spines[["top", "right"]].set_visible(False)
        axes.tick_params(labelsize=8)
    positions = range(len(months))
    width = 0.4
    left.bar(
        [p - width / 2 for p in positions],
        [figures.proposals_per_month[m] for m in months],
        width,
        label=t("followup.chart.proposals"),
        color="#4f6bed",
    )
    left.bar(
        [p + width / 2 for p in positions],
        [figures.inspections_per_month[m] for m in months],
        width,
        label=t("followup.chart.inspections"),
        color="#e3008c",
    )
    # every month up to a year; beyond, at most six labels with the year, so that none overlap
    step = 1 if len(months) <= 12 else -(-len(months) // 6)
    left.set_xticks(list(positions)[::step])
    left.set_xticklabels([_month_tick(t, m, len(months)) for m in months][::step])
    left.set_title(t("followup.chart.per_month"), fontsize=9)
    # room above the tallest bar for the legend, in one row
    tallest = max([*figures.proposals_per_month.values(), *figures.inspections_per_month.values(), 1])
    left.set_ylim(0, tallest * 1.3 + 0.5)
    left.legend(frameon=False, loc="upper left", ncols=2, fontsize=8)
    left.yaxis.get_major_locator().set_params(integer=True)

    rows = report.table("findings_by_industry").rows[:6]
    names = [_short(str(row[0])) for row in rows][::-1]
    counts = [_count(row[1]) for row in rows][::-1]
    right.set_title(t("followup.chart.findings"), fontsize=9)
    if counts:
        right.barh(names, counts, color="#13a10e")
        right.xaxis.get_major_locator().set_params(integer=True)
    else:  # nothing found (or nothing this reader may see): say so, without an empty scale
        right.set_axis_off()
        right.text(0.5, 0.5, t("followup.chart.none"), ha="center", va="center", fontsize=9, color="#605e5c")
    figure.tight_layout()
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    if image.size != size:
        image = image.resize(size)
    small = io.BytesIO()
    image.quantize(colors=32).save(small, format="PNG", optimize=True)
    return small.getvalue()


def _month_tick(t: Translator, month: date, count: int) -> str:
    from babel.dates import format_date

    # up to six months by their short names, a year by their first letters, longer with the year
    if count <= 6:
        return format_date(month, "MMM", locale=t.locale).rstrip(".")
    if count <= 12:
        return format_date(month, "MMMMM", locale=t.locale)
    return format_date(month, "MMM yy", locale=t.locale).replace(".", "")


def _count(value: Value) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _short(name: str, limit: int = 22) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def data_uri(png: bytes) -> str | None:
    """The chart as a data URI for the card, or None when it is too large to travel in it."""
    encoded = base64.b64encode(png).decode("ascii")
    return f"data:image/png;base64,{encoded}" if len(encoded) <= EMBED_LIMIT else None
