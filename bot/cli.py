"""The `forumbot` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import date
from typing import Any

from bot import logs, telemetry
from bot.settings import DEVELOPMENT_PUBLIC_URL, Settings, SettingsError, load_settings

log = logging.getLogger("bot.cli")


def _settings() -> Settings:
    """The settings, or exit 2 with one line per problem, each naming the setting to fix."""
    try:
        return load_settings()
    except SettingsError as error:
        count = len(error.problems)
        print(f"forumbot: bad settings ({count} problem{'' if count == 1 else 's'}):", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def _unreachable(error: BaseException) -> str:
    """What a failed first connection says, on one line, without the URL (it may hold a password)."""
    cause = getattr(error, "orig", None) or error
    detail = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return f"forumbot: cannot use the database (DATABASE_URL): {type(cause).__name__}: {detail}"


def run(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import SchemaOutdated, create_app, prepare_database
    from bot.demo import DemoError
    from bot.storage import db

    settings = _settings()
    logs.configure(settings.logs_as_json)
    telemetry.configure(settings.appinsights_connection_string.get_secret_value())
    if not os.environ.get("FORUMBOT_PUBLIC_URL") and settings.public_url == DEVELOPMENT_PUBLIC_URL:
        # in development, links to files point at the port this process serves
        settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{args.port}"})
    if args.history and not args.demo:
        print("forumbot: --history goes with --demo", file=sys.stderr)
        return 2
    if args.demo and settings.is_production:
        print("forumbot: --demo seeds invented members and is refused in production", file=sys.stderr)
        return 2

    async def check() -> None:
        engine = db.create_engine(settings.database_url)
        try:
            await prepare_database(settings, engine)
            if args.demo:  # the playground's users as members, its Forum channel as the forum's
                await seed_demo_forum(
                    engine, settings, args.demo_service_url, history=args.history, once=True
                )
        finally:
            await engine.dispose()

    from sqlalchemy.exc import SQLAlchemyError

    try:
        asyncio.run(check())
    except (SchemaOutdated, DemoError) as error:
        print(f"forumbot: {error}", file=sys.stderr)
        return 3
    except (OSError, TimeoutError, SQLAlchemyError) as error:  # unreachable, refused, unreadable
        print(_unreachable(error), file=sys.stderr)
        return 3
    address = f"http://{args.host}:{args.port}/api/messages"
    if settings.logs_as_json:
        # every line a JSON object; no access log, whose lines would carry the callers' addresses
        # and the paths of file links (each a key to a file while it lasts)
        log.info("Forumbot listening on %s", address)
        web.run_app(create_app(settings), host=args.host, port=args.port, print=None, access_log=None)
    else:
        print(f"Forumbot listening on {address}", flush=True)
        web.run_app(create_app(settings), host=args.host, port=args.port, print=None)
    return 0


def db_upgrade(_: argparse.Namespace) -> int:
    from bot.storage import db
    from bot.storage.membership import Agencies

    settings = _settings()
    logs.configure(settings.logs_as_json)

    async def upgrade() -> str | None:
        engine = db.create_engine(settings.database_url)
        try:
            await db.upgrade(engine)
            async with db.unit_of_work(db.session_factory(engine)) as session:
                await Agencies(session).seed(settings.agency_entries())
            return (await db.schema_state(engine))[0]
        finally:
            await engine.dispose()

    from sqlalchemy.exc import SQLAlchemyError

    try:
        revision = asyncio.run(upgrade())
    except (OSError, TimeoutError, SQLAlchemyError) as error:  # unreachable, refused, unreadable
        print(_unreachable(error), file=sys.stderr)
        return 3
    print(f"Database schema at revision {revision}.")
    return 0


def db_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.storage.backup import BackupError, backup_sqlite, sqlite_path

    settings = _settings()
    try:
        made = backup_sqlite(sqlite_path(settings.database_url), Path(args.out))
    except BackupError as error:
        print(f"forumbot: {error}", file=sys.stderr)
        return 2
    print(
        f"Backup written to {made.path}: {made.size} bytes, {made.tables} tables, "
        f"schema at revision {made.revision or 'none'}."
    )
    return 0


def manifest_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.manifest import AppPackageSettings, ManifestError, build_package, default_version

    package = AppPackageSettings(
        app_id=args.app_id if args.app_id is not None else _settings().app_id,
        domain=args.domain or "",
        version=args.app_version or default_version(),
        developer_name=args.developer_name or "",
        website_url=args.website_url or "",
        privacy_url=args.privacy_url or "",
        terms_url=args.terms_url or "",
    )
    try:
        build_package(package, Path(args.output))
    except ManifestError as error:
        print(f"forumbot: {error}", file=sys.stderr)
        return 2
    print(f"Teams app package written to {args.output}.")
    return 0


def report(args: argparse.Namespace) -> int:
    """The follow-up report of a period, as a file: the same figures as the card in Teams."""
    from datetime import UTC, date, datetime
    from pathlib import Path

    from bot.domain.followup import PeriodError, check_range
    from bot.i18n import Translator
    from bot.services.followup import FollowUpService, chart_png, csv_bytes, xlsx
    from bot.storage import db

    settings = _settings()
    t = Translator(args.language, settings.zone)
    try:
        period = check_range(date.fromisoformat(args.start), date.fromisoformat(args.end))
    except ValueError as error:
        key = str(error) if isinstance(error, PeriodError) else "followup.period.bad_date"
        print(f"forumbot: {t(key)}", file=sys.stderr)
        return 2
    if args.level != ["forum"] and not (len(args.level) == 2 and args.level[0] == "agency"):
        print("forumbot: --level is `forum` or `agency CODE`", file=sys.stderr)
        return 2

    async def make() -> bytes | str:
        engine = db.create_engine(settings.database_url)
        try:
            async with db.session_factory(engine)() as session:
                service = FollowUpService(session, settings, lambda: datetime.now(UTC))
                if args.level[0] == "agency":
                    level = await service.level_for_agency(args.level[1])
                    if level is None:
                        return f"no agency with the code {args.level[1]!r}"
                else:
                    level = service.level_of_forum()
                made = await service.report(t, period, level)
        finally:
            await engine.dispose()
        if args.format == "xlsx":
            return xlsx(made)
        if args.format == "csv":
            return csv_bytes(t, made)
        return chart_png(t, made)

    from sqlalchemy.exc import SQLAlchemyError

    try:
        body = asyncio.run(make())
    except (OSError, TimeoutError, SQLAlchemyError) as error:
        print(_unreachable(error), file=sys.stderr)
        return 3
    if isinstance(body, str):
        print(f"forumbot: {body}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    print(f"Follow-up {period.start}–{period.end} written to {out} ({len(body)} bytes).")
    return 0


async def seed_demo_forum(
    engine: Any,
    settings: Settings,
    service_url: str,
    *,
    history: bool,
    seed: int = 2026,
    until: date | None = None,
    once: bool = False,
) -> None:
    """The demo forum (bot.demo) in one unit of work, and with `history` a year of its past
    (unless `once` and it has one already), each saying what it did."""
    from bot.demo import seed_demo
    from bot.demo_history import has_history, seed_history
    from bot.storage import db

    async with db.unit_of_work(db.session_factory(engine)) as session:
        print((await seed_demo(session, settings, service_url)).summary(), flush=True)
        if history and not (once and await has_history(session)):
            print((await seed_history(session, settings, seed=seed, until=until)).summary(), flush=True)


def demo(args: argparse.Namespace) -> int:
    """The demo forum (as `run --demo` seeds it) and, with --history, a year of its past."""
    from bot.app import SchemaOutdated, prepare_database
    from bot.demo import DemoError
    from bot.storage import db

    settings = _settings()
    if settings.is_production:
        print("forumbot: the demo seeds invented members and is refused in production", file=sys.stderr)
        return 2

    async def seed() -> None:
        engine = db.create_engine(settings.database_url)
        try:
            await prepare_database(settings, engine)
            await seed_demo_forum(
                engine, settings, args.service_url, history=args.history, seed=args.seed, until=args.until
            )
        finally:
            await engine.dispose()

    from sqlalchemy.exc import SQLAlchemyError

    try:
        asyncio.run(seed())
    except (SchemaOutdated, DemoError) as error:
        print(f"forumbot: {error}", file=sys.stderr)
        return 3
    except (OSError, TimeoutError, SQLAlchemyError) as error:
        print(_unreachable(error), file=sys.stderr)
        return 3
    return 0


def retention(args: argparse.Namespace) -> int:
    """What the retention rule would remove; with --remove DIGEST (the list's, as printed), remove
    exactly that list, audited as the command line's doing."""
    from bot.services.retention import Outcome, RetentionService
    from bot.storage import db

    settings = _settings()

    async def work() -> int:
        engine = db.create_engine(settings.database_url)
        try:
            async with db.unit_of_work(db.session_factory(engine)) as session:
                service = RetentionService(session, settings)
                if args.remove:
                    result = await service.remove(
                        args.remove, actor_id=None, actor_aad_id=None, by=f"command line ({_os_user()})"
                    )
                    if result.outcome is Outcome.REMOVED:
                        print(f"Removed {result.removed} items; each removal is in the audit log.")
                        return 0
                    if result.outcome is Outcome.CHANGED:
                        print(
                            "forumbot: the list has changed since; nothing removed. List it again.",
                            file=sys.stderr,
                        )
                        return 4
                found = await service.candidates()
                if found is None:
                    print("No retention rule is set (FORUMBOT_RETENTION_MONTHS is 0).")
                    return 0 if not args.remove else 2
                print(
                    f"Closed items older than {service.months} months (before {found.cutoff:%Y-%m-%d}): "
                    f"{len(found.items)}."
                )
                for item in found.items:
                    print(f"  {item.kind:<14} {item.label:<14} {item.at:%Y-%m-%d}")
                if found.items:
                    print(f"To remove exactly these: forumbot retention --remove {found.digest}")
                return 0
        finally:
            await engine.dispose()

    from sqlalchemy.exc import SQLAlchemyError

    try:
        return asyncio.run(work())
    except (OSError, TimeoutError, SQLAlchemyError) as error:
        print(_unreachable(error), file=sys.stderr)
        return 3


def date_argument(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {value!r}") from None


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="forumbot", description="Forumbot, the Teams bot of Västerås myndighetsforum."
    )
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("run", help="serve the bot", description="Serve the bot over HTTP.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=3978, help="port to listen on (3978)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="seed a demo forum for Microsoft 365 Agents Playground: its users as members, "
        "its Forum channel as the forum channel (seeding again changes nothing)",
    )
    serve.add_argument(
        "--history",
        action="store_true",
        help="with --demo: also a year of the demo forum's past, unless it has proposals already",
    )
    serve.add_argument(
        "--demo-service-url",
        default="http://localhost:56150/_connector",
        help="the playground's Bot Connector address, for the forum channel "
        "(http://localhost:56150/_connector)",
    )
    serve.set_defaults(func=run)

    database = commands.add_parser("db", help="database tasks", description="Database tasks.")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    upgrade = database_commands.add_parser(
        "upgrade", help="apply migrations", description="Apply the schema migrations and seed agencies."
    )
    upgrade.set_defaults(func=db_upgrade)
    backup = database_commands.add_parser(
        "backup",
        help="copy the SQLite database while the bot runs",
        description="Copy the SQLite database to FILE with SQLite's online backup API: safe while "
        "the bot runs, which goes on answering. Restore by stopping the bot and putting the copy "
        "in the database's place. For PostgreSQL use the server's backups or pg_dump.",
    )
    backup.add_argument("--out", required=True, metavar="FILE", help="where to write the copy (replaced)")
    backup.set_defaults(func=db_backup)

    demo_forum = commands.add_parser(
        "demo",
        help="seed the demo forum (and its past)",
        description="Seed the demo forum for Microsoft 365 Agents Playground, as `run --demo` does; "
        "with --history also a year of invented meetings, status reports, proposals, joint "
        "inspections with outcomes and polls (run it once: each run adds another year's worth).",
    )
    demo_forum.add_argument("--history", action="store_true", help="add a year of the forum's past")
    demo_forum.add_argument("--seed", type=int, default=2026, help="random seed of the history (2026)")
    demo_forum.add_argument(
        "--until",
        type=date_argument,
        help="the history's last day, YYYY-MM-DD (default: today); with the seed, it fixes the history",
    )
    demo_forum.add_argument(
        "--service-url", default="http://localhost:56150/_connector", help="the playground's Bot Connector"
    )
    demo_forum.set_defaults(func=demo)

    keep = commands.add_parser(
        "retention",
        help="list, and remove once confirmed, what the retention rule covers",
        description="List the closed items older than FORUMBOT_RETENTION_MONTHS. Nothing is removed "
        "unless --remove is given the list's digest, as printed: then exactly that list is removed, "
        "each removal audited. Public records may have to be kept: see the README.",
    )
    keep.add_argument("--remove", metavar="DIGEST", help="remove the list with this digest")
    keep.set_defaults(func=retention)

    follow_up = commands.add_parser(
        "report",
        help="the follow-up report of a period, as a file",
        description="The follow-up report (the figures of `uppföljning` in Teams) of a period, as "
        "Excel, CSV or the chart. --level forum counts what every member may see; --level agency "
        "CODE what that agency's members may see.",
    )
    follow_up.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first day")
    follow_up.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last day")
    follow_up.add_argument(
        "--format", choices=("xlsx", "csv", "png"), default="xlsx", help="xlsx (default), csv or png"
    )
    follow_up.add_argument("--out", required=True, metavar="FILE", help="where to write it (replaced)")
    follow_up.add_argument(
        "--level", nargs="+", default=["forum"], metavar="forum|agency CODE", help="whose figures (forum)"
    )
    follow_up.add_argument("--language", choices=("sv", "en"), default="sv", help="headers' language (sv)")
    follow_up.set_defaults(func=report)

    app_package = commands.add_parser("manifest", help="Teams app package", description="Teams app package.")
    app_package_commands = app_package.add_subparsers(dest="manifest_command", required=True)
    build = app_package_commands.add_parser(
        "build",
        help="build the Teams app package",
        description="Fill manifest/manifest.json and zip it with the icons, ready to upload to Teams.",
    )
    build.add_argument("--app-id", help="the bot's Microsoft app id, a GUID (default: MicrosoftAppId)")
    build.add_argument("--domain", help="host name the bot is served from, e.g. forumbot.vasteras.se")
    build.add_argument(
        "--version", dest="app_version", help="app version MAJOR.MINOR.PATCH (default: forumbot's version)"
    )
    build.add_argument("--developer-name", default="Västerås stad", help="publisher (Västerås stad)")
    build.add_argument("--website-url", help="publisher's https:// web page")
    build.add_argument("--privacy-url", help="https:// URL of the privacy statement")
    build.add_argument("--terms-url", help="https:// URL of the terms of use")
    build.add_argument(
        "--output",
        default="var/forumbot-teams-app.zip",
        help="where to write the zip (var/forumbot-teams-app.zip)",
    )
    build.set_defaults(func=manifest_build)
    return root


def main(argv: list[str] | None = None) -> int:
    logs.configure(json_lines=False)  # until the settings say which (run, db upgrade)
    args = parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
