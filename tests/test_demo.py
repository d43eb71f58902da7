"""`forumbot run --demo`: the playground's users as members and its Forum channel as the forum's."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot import cli, demo
from bot.demo import DemoError, DemoResult, seed_demo
from bot.domain.members import MemberStatus, Role
from bot.storage import db
from bot.storage.membership import Agencies, Members
from bot.storage.models import AuditEntry, ChannelLink
from tests.conftest import make_settings

REPO = Path(__file__).resolve().parents[1]
PLAYGROUND_CONFIG = REPO / "playground" / ".m365agentsplayground.yml"
ANNA = "0a6f3c7e-1b2d-4c8a-9e5f-6d7b8a9c0d11"
EXPECTED = {  # aadObjectId: (name, agency, roles)
    ANNA: ("Anna Lindqvist", "MHF", {Role.ADMIN, Role.COORDINATOR, Role.INSPECTOR}),
    "0a6f3c7e-1b2d-4c8a-9e5f-6d7b8a9c0d12": ("Ingrid Berg", "MHF", {Role.INSPECTOR}),
    "0a6f3c7e-1b2d-4c8a-9e5f-6d7b8a9c0d13": ("Per Holm", "POL", {Role.COORDINATOR, Role.INSPECTOR}),
    "0a6f3c7e-1b2d-4c8a-9e5f-6d7b8a9c0d14": ("Sara Ek", "SKV", {Role.INSPECTOR}),
    "0a6f3c7e-1b2d-4c8a-9e5f-6d7b8a9c0d15": ("Rasmus Nyberg", "RTJ", {Role.INSPECTOR}),
    "0a6f3c7e-1b2d-4c8a-9e5f-6d7b8a9c0d16": ("Omar Haddad", "AV", {Role.INSPECTOR}),
}
SERVICE_URL = "http://localhost:56150/_connector"


async def seed_twice(database_url: str, service_url: str) -> tuple[DemoResult, DemoResult, dict[str, Any]]:
    settings = make_settings(database_url)
    engine = db.create_engine(database_url)
    try:
        await db.upgrade(engine)
        sessions = db.session_factory(engine)
        async with db.unit_of_work(sessions) as session:
            await Agencies(session).seed(settings.agency_entries())
        async with db.unit_of_work(sessions) as session:
            first = await seed_demo(session, settings, service_url)
        async with db.unit_of_work(sessions) as session:
            audit_after_first = await session.scalar(select(func.count()).select_from(AuditEntry))
        async with db.unit_of_work(sessions) as session:
            second = await seed_demo(session, settings, "http://elsewhere.example/_connector")
        async with db.unit_of_work(sessions) as session:
            members = {m.aad_object_id: m for m in await Members(session).approved()}
            anna_reference = await Members(session).personal_conversation(members[ANNA].id)
            others = [
                await Members(session).personal_conversation(m.id) for a, m in members.items() if a != ANNA
            ]
            links = list(await session.scalars(select(ChannelLink)))
            audit = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        return (
            first,
            second,
            {
                "members": members,
                "anna_reference": anna_reference,
                "other_references": others,
                "links": links,
                "audit": audit,
                "audit_after_first": audit_after_first,
            },
        )
    finally:
        await engine.dispose()


async def test_seeding_twice_gives_one_approved_forum_and_one_channel_link(database_url: str) -> None:
    first, second, state = await seed_twice(database_url, SERVICE_URL)

    assert sorted(first.added) == sorted(name for name, _, _ in EXPECTED.values())
    assert first.linked
    assert second.added == [] and sorted(second.kept) == sorted(first.added) and not second.linked

    members = state["members"]
    assert set(members) == set(EXPECTED)
    for aad_id, (name, agency, roles) in EXPECTED.items():
        member = members[aad_id]
        assert (member.name, member.agency.code, set(member.roles)) == (name, agency, roles)
        assert member.status is MemberStatus.APPROVED
        assert member.language == "sv"  # the playground sends en-US; the demo forum speaks Swedish
    anna = members[ANNA]
    assert anna.teams_user_id == "29:anna-lindqvist"
    assert state["anna_reference"]["conversation"]["id"] == "a:forumbot-personal-anna-lindqvist"
    assert state["anna_reference"]["serviceUrl"] == SERVICE_URL
    # the playground has one personal chat, its own user's; the others' ids are made at run time
    assert state["other_references"] == [None] * (len(EXPECTED) - 1)

    [link] = state["links"]
    assert link.purpose == "forum"
    assert link.conversation_id == "19:myndighetsforum-forum@thread.tacv2"
    assert link.team_id == "19:myndighetsforum-general@thread.tacv2"
    assert link.tenant_id == "5b3c2f1e-7a4d-4e0b-9c61-0d2a8f4e6b17"
    assert link.service_url == SERVICE_URL  # the second seeding kept the first link
    assert link.linked_by == anna.id
    assert link.reference["serviceUrl"] == SERVICE_URL
    assert link.reference["conversation"] == {
        "id": "19:myndighetsforum-forum@thread.tacv2",
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": "5b3c2f1e-7a4d-4e0b-9c61-0d2a8f4e6b17",
    }
    assert link.reference["bot"]["id"] == "28:4f6e2b1a-93c7-4d58-8e0f-1a2b3c4d5e6f"

    audit = state["audit"]
    assert len(audit) == state["audit_after_first"] == 2 * len(EXPECTED) + 1  # nothing new the 2nd time
    assert [a.action for a in audit if a.item_type == "member"].count("approved") == len(EXPECTED)
    [linked] = [a for a in audit if a.item_type == "channel"]
    assert (linked.action, linked.actor_id, linked.details["by"]) == ("linked", anna.id, "demo")


async def test_seeding_without_agencies_says_which_is_missing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    engine = db.create_engine(url)
    try:
        await db.upgrade(engine)
        with pytest.raises(DemoError, match="agency MHF"):
            async with db.unit_of_work(db.session_factory(engine)) as session:
                await seed_demo(session, make_settings(url))
    finally:
        await engine.dispose()


def test_the_demo_matches_the_playground_configuration() -> None:
    config = PLAYGROUND_CONFIG.read_text()

    def block(teams_id: str) -> str:
        found = re.search(rf"^\s*-?\s*id: {re.escape(teams_id)}\n((?:\s+\w+: .*\n)*)", config, re.M)
        assert found, f"{teams_id} is not in {PLAYGROUND_CONFIG.name}"
        return found.group(1)

    assert len(demo.USERS) == 6
    for user in demo.USERS:
        lines = block(user.teams_id)
        assert f"aadObjectId: {user.aad_object_id}\n" in lines
        assert f"name: {user.name}\n" in lines
        assert f"email: {user.email}\n" in lines
    assert re.search(r"^currentUser:\n\s+id: 29:anna-lindqvist$", config, re.M)
    assert f"tenantId: {demo.TENANT_ID}\n" in config
    assert f"id: {demo.BOT['id']}\n  name: {demo.BOT['name']}\n" in config
    assert f"personalChat:\n  id: {demo.PERSONAL_CHAT_ID}\n" in config
    assert f"team:\n  id: {demo.TEAM_ID}\n" in config
    assert f"- id: {demo.FORUM_CHANNEL_ID}\n      name: Forum\n" in config


def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str, env: str = "development") -> int:
    """`forumbot run ARGS` on a SQLite file in tmp_path, without serving."""
    for name in ("FORUMBOT_ADMIN_IDS", "FORUMBOT_ALLOWED_TENANTS", "MicrosoftAppId", "MicrosoftAppPassword"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'forumbot.db'}")
    monkeypatch.setenv("FORUMBOT_ENV", env)
    if env == "production":  # which refuses to start without credentials and file links
        monkeypatch.setenv("MicrosoftAppId", "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b")
        monkeypatch.setenv("MicrosoftAppPassword", "not-a-real-secret")
        monkeypatch.setenv("FORUMBOT_FILE_LINK_SECRET", "not-a-real-secret-but-long-enough-for-one")
        monkeypatch.setenv("FORUMBOT_PUBLIC_URL", "https://forumbot.example.se")
    served: list[object] = []
    monkeypatch.setattr(web, "run_app", lambda app, **kw: served.append(app))
    result = cli.main(["run", "--port", "0", *args])
    assert len(served) == (1 if result == 0 else 0)
    return result


def members_and_links(database: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    with sqlite3.connect(database) as connection:
        members = connection.execute(
            "SELECT name, status, roles FROM members ORDER BY aad_object_id"
        ).fetchall()
        links = connection.execute("SELECT purpose, service_url FROM channel_links").fetchall()
    return members, links


def test_run_without_demo_seeds_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert run_cli(monkeypatch, tmp_path) == 0

    assert members_and_links(tmp_path / "forumbot.db") == ([], [])


def test_run_with_demo_seeds_the_forum_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "http://localhost:56999/_connector"
    assert run_cli(monkeypatch, tmp_path, "--demo", "--demo-service-url", url) == 0
    assert run_cli(monkeypatch, tmp_path, "--demo") == 0

    members, links = members_and_links(tmp_path / "forumbot.db")
    assert members[0] == ("Anna Lindqvist", "approved", "admin,coordinator,inspector")
    assert [status for _, status, _ in members] == ["approved"] * len(EXPECTED)
    assert links == [("forum", url)]
    out = capsys.readouterr().out
    assert "Demo forum: 6 members added, 0 kept, forum channel linked." in out
    assert "Demo forum: 0 members added, 6 kept, forum channel link kept." in out


def test_run_refuses_the_demo_in_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(monkeypatch, tmp_path, "--demo", env="production") == 2
    assert "refused in production" in capsys.readouterr().err


def test_run_with_demo_and_history_seeds_a_past_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(monkeypatch, tmp_path, "--demo", "--history") == 0
    assert run_cli(monkeypatch, tmp_path, "--demo", "--history") == 0  # a restart adds no second year
    with sqlite3.connect(tmp_path / "forumbot.db") as connection:
        (proposals,) = connection.execute("SELECT count(*) FROM proposals").fetchone()
    assert proposals == 140
    assert capsys.readouterr().out.count("Demo history: 140 proposals") == 1
    assert run_cli(monkeypatch, tmp_path, "--history") == 2  # only with --demo
