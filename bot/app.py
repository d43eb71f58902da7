"""The application factory: everything is built from one Settings object, nothing is global."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import telemetry
from bot.dialogs import build_router
from bot.dialogs.engine import Engine
from bot.services import task_handlers
from bot.services.files import FileService
from bot.services.followup import CSV_KIND as FOLLOWUP_CSV
from bot.services.followup import PNG_KIND as FOLLOWUP_PNG
from bot.services.followup import XLSX_KIND as FOLLOWUP_XLSX
from bot.services.followup import file_provider as followup_file
from bot.services.inspections import ICS_KIND as INSPECTION_ICS
from bot.services.inspections import calendar_provider as inspection_calendar
from bot.services.maintenance import prune_processed_activities
from bot.services.meetings import ICS_KIND, calendar_provider, extend_horizons
from bot.services.outbox import sample_depth
from bot.services.polls import CSV_KIND, csv_provider, refresh_polls
from bot.services.schedule import TaskHandler, TaskRunner
from bot.settings import Settings
from bot.storage import db
from bot.storage.membership import Agencies
from bot.teams.glue import TeamsGlue, create_glue
from bot.web.files import FILES, add_file_routes

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
DB_ENGINE = web.AppKey("db_engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
GLUE = web.AppKey("glue", TeamsGlue)
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
TASKS = web.AppKey("tasks", TaskRunner)

Clock = Callable[[], datetime]


class SchemaOutdated(RuntimeError):
    """The database schema is older than the code; the message says which command to run."""


async def prepare_database(settings: Settings, engine: AsyncEngine) -> None:
    """Apply migrations in development; in production refuse an outdated schema. Seed agencies.

    A schema newer than this code (a rollout migrated the database for the next version while this
    one still runs or restarts) is served on, as the previous version's is kept working."""
    if not await db.schema_is_current(engine):
        if await db.schema_is_newer(engine):
            current, head = await db.schema_state(engine)
            log.warning(
                "The database is at schema %s, newer than this version's %s: serving on "
                "(a rollout is under way, or this version was rolled back)",
                current,
                head,
            )
        elif settings.is_production:
            current, head = await db.schema_state(engine)
            raise SchemaOutdated(
                f"The database is at schema {current or 'none'}, the code needs {head}. "
                "Run `forumbot db upgrade` first."
            )
        else:
            await db.upgrade(engine)
    async with db.unit_of_work(db.session_factory(engine)) as session:
        await Agencies(session).seed(settings.agency_entries())


def create_app(
    settings: Settings,
    *,
    clock: Clock = lambda: datetime.now(UTC),
    run_scheduler: bool = True,
    extra_tasks: Mapping[str, TaskHandler] | None = None,
) -> web.Application:
    """Build the aiohttp application. With `run_scheduler` False, background jobs are left to
    the caller (tests drive them with a fake clock)."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    # read and checked here, once: a broken file stops the start rather than the first proposal form
    log.info("%d risk industries offered on proposals", len(settings.industries))

    async def database(app: web.Application) -> AsyncIterator[None]:
        engine = db.create_engine(settings.database_url)
        try:
            await prepare_database(settings, engine)
        except Exception:
            await engine.dispose()
            raise
        sessions = db.session_factory(engine)
        app[DB_ENGINE], app[SESSIONS] = engine, sessions
        # capabilities register their file providers on it: app[FILES].register(kind, provider)
        files = FileService.from_settings(settings, sessions, clock=clock)
        files.register(ICS_KIND, calendar_provider(settings, clock))
        files.register(CSV_KIND, csv_provider(settings, clock))
        files.register(INSPECTION_ICS, inspection_calendar(settings, clock))
        for kind in (FOLLOWUP_XLSX, FOLLOWUP_CSV, FOLLOWUP_PNG):
            files.register(kind, followup_file(settings, clock, kind))
        app[FILES] = files
        engine_ = Engine(settings, sessions, build_router(), clock=clock, files=files)
        app[GLUE] = create_glue(settings, engine_, sessions, clock=clock)
        app[TASKS] = TaskRunner(sessions, {**task_handlers(settings), **(extra_tasks or {})}, clock=clock)
        try:
            await app[TASKS].check()
        except Exception:
            await engine.dispose()
            raise
        yield
        await engine.dispose()

    async def scheduler(app: web.Application) -> AsyncIterator[None]:
        jobs = AsyncIOScheduler(timezone=settings.zone)
        outbox = app[GLUE].outbox
        jobs.add_job(
            outbox.drain,
            "interval",
            seconds=settings.outbox_interval_seconds,
            id="outbox",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )
        jobs.add_job(
            app[TASKS].run_due,
            "interval",
            seconds=settings.schedule_interval_seconds,
            id="schedule",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )
        jobs.add_job(
            refresh_polls,
            "interval",
            seconds=1,
            args=[app[SESSIONS], settings, clock],
            id="polls-refresh",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )
        jobs.add_job(
            extend_horizons,
            "cron",
            hour=4,
            minute=7,
            args=[app[SESSIONS], settings, clock],
            id="meetings-horizon",
            replace_existing=True,
            coalesce=True,
        )
        jobs.add_job(
            prune_processed_activities,
            "cron",
            hour=3,
            minute=17,
            args=[app[SESSIONS], clock],
            id="prune-processed-activities",
            replace_existing=True,
            coalesce=True,
        )
        if settings.appinsights_connection_string.get_secret_value():
            jobs.add_job(
                sample_depth,
                "interval",
                seconds=telemetry.SAMPLE_SECONDS,
                args=[app[SESSIONS]],
                id="outbox-depth",
                replace_existing=True,
                max_instances=1,
                coalesce=True,
            )
        app[SCHEDULER] = jobs
        if run_scheduler:
            jobs.start()
        yield
        # Shutdown (SIGTERM): no job starts any more; the outbox's send in flight finishes and is
        # recorded, rather than lapse into an 'unknown' dead letter, and the rest of its claims go
        # back; only then does the scheduler stop, which cancels whatever job still runs (a
        # schedule run is one transaction, rolled back, its tasks left due for the next process).
        if jobs.running:
            jobs.pause()
        await outbox.stop(grace=60)
        if jobs.running:
            jobs.shutdown(wait=False)

    app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(scheduler)

    async def messages(request: web.Request) -> web.StreamResponse:
        return await request.app[GLUE].handle(request)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "up"})

    async def readyz(request: web.Request) -> web.Response:
        engine = request.app[DB_ENGINE]
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            current = await db.schema_is_current(engine) or await db.schema_is_newer(engine)
        except Exception as error:
            log.warning("readiness check failed: %s", error)
            return web.json_response({"status": "database unreachable"}, status=503)
        if not current:
            return web.json_response({"status": "migrations pending"}, status=503)
        return web.json_response({"status": "ready"})

    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    add_file_routes(app)
    return app
