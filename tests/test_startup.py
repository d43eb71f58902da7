"""Start-up checks, through the `forumbot` command as an operator meets them: every problem of the
settings on a line of its own naming the setting, exit code 2, no traceback and no secret echoed;
a database that cannot be reached, exit code 3."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import load_settings

APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SECRET = "x" * 48
PASSWORD = "hunter2-not-a-real-password"
PRODUCTION = {
    "FORUMBOT_ENV": "production",
    "MicrosoftAppId": APP_ID,
    "MicrosoftAppPassword": PASSWORD,
    "FORUMBOT_PUBLIC_URL": "https://forumbot.example.se",
    "FORUMBOT_FILE_LINK_SECRET": SECRET,
}


def forumbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "FORUMBOT_"))}
    clean.pop("DATABASE_URL", None)
    clean.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'forumbot.db'}")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def problems(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The problems listed, one per line, after checking the shape of the answer."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("forumbot: bad settings (")
    listed = [line.removeprefix("  - ") for line in lines[1:]]
    assert all(line.startswith("  - ") for line in lines[1:])
    assert lines[0] == f"forumbot: bad settings ({len(listed)} problem{'' if len(listed) == 1 else 's'}):"
    return listed


@pytest.mark.parametrize("command", [["run", "--port", "0"], ["db", "upgrade"]])
def test_a_bad_database_url_is_named_without_its_password(tmp_path: Path, command: list[str]) -> None:
    result = forumbot(tmp_path, *command, DATABASE_URL=f"mysql://forumbot:{PASSWORD}@db.example.se/forumbot")
    (problem,) = problems(result)
    assert problem.startswith("DATABASE_URL: must be a postgresql://")
    assert "mysql://" in problem
    assert PASSWORD not in result.stderr


def test_an_unreadable_database_url_is_named(tmp_path: Path) -> None:
    result = forumbot(tmp_path, "db", "upgrade", DATABASE_URL=f"postgresql://u:{PASSWORD}@host:port/db")
    (problem,) = problems(result)
    assert problem.startswith("DATABASE_URL: is not a URL that can be read")
    assert PASSWORD not in result.stderr


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://forumbot:{PASSWORD}@127.0.0.1:{port}/forumbot"
    for command in (["db", "upgrade"], ["run", "--port", "0"]):
        result = forumbot(tmp_path, *command, DATABASE_URL=url)
        assert result.returncode == 3, result.stderr
        assert result.stderr.startswith("forumbot: cannot use the database (DATABASE_URL): ")
        assert "Traceback" not in result.stderr
        assert PASSWORD not in result.stderr


def test_a_missing_agency_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "agencies.json"
    result = forumbot(tmp_path, "run", "--port", "0", FORUMBOT_AGENCIES_FILE=str(missing))
    assert problems(result) == [f"FORUMBOT_AGENCIES_FILE: cannot read {missing}: No such file or directory"]


def test_a_broken_agency_or_industry_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "agencies.json").write_text('[{"code": "SLK", "sv": "Stadsledningskontoret"}]')
    (tmp_path / "industries.json").write_text("{not json")
    result = forumbot(
        tmp_path,
        "db",
        "upgrade",
        FORUMBOT_AGENCIES_FILE=str(tmp_path / "agencies.json"),
        FORUMBOT_INDUSTRIES_FILE=str(tmp_path / "industries.json"),
    )
    agencies, industries = problems(result)
    assert agencies.startswith(f"FORUMBOT_AGENCIES_FILE: {tmp_path / 'agencies.json'} is not a JSON list")
    assert "0.en: Field required" in agencies
    assert industries.startswith(
        f"FORUMBOT_INDUSTRIES_FILE: {tmp_path / 'industries.json'} is not a JSON list"
    )
    assert not (tmp_path / "forumbot.db").exists(), "nothing was started"


def test_an_unknown_time_zone_is_named(tmp_path: Path) -> None:
    result = forumbot(tmp_path, "run", "--port", "0", FORUMBOT_TIMEZONE="Europe/Västerås")
    assert problems(result) == ["FORUMBOT_TIMEZONE: unknown time zone 'Europe/Västerås'"]


def test_every_problem_at_once_each_on_its_line(tmp_path: Path) -> None:
    result = forumbot(
        tmp_path,
        "run",
        "--port",
        "0",
        DATABASE_URL="oracle://x",
        FORUMBOT_TIMEZONE="Mars/Olympus",
        FORUMBOT_AGENCIES_FILE=str(tmp_path / "none.json"),
        FORUMBOT_DEFAULT_LANGUAGE="fi",
    )
    named = [problem.split(":", 1)[0] for problem in problems(result)]
    assert named == [
        "DATABASE_URL",
        "FORUMBOT_TIMEZONE",
        "FORUMBOT_DEFAULT_LANGUAGE",
        "FORUMBOT_AGENCIES_FILE",
    ]


def test_production_without_credentials_secret_or_https_lists_each(tmp_path: Path) -> None:
    result = forumbot(tmp_path, "run", "--port", "0", FORUMBOT_ENV="production")
    listed = problems(result)
    assert len(listed) == 3
    assert listed[0].startswith("FORUMBOT_ENV=production needs MicrosoftAppId and MicrosoftAppPassword")
    assert listed[1].startswith("FORUMBOT_ENV=production needs FORUMBOT_FILE_LINK_SECRET")
    assert listed[2].startswith(
        "FORUMBOT_ENV=production needs FORUMBOT_PUBLIC_URL, the bot's public https://"
    )


def test_production_over_plain_http_is_refused(tmp_path: Path) -> None:
    result = forumbot(
        tmp_path, "run", "--port", "0", **{**PRODUCTION, "FORUMBOT_PUBLIC_URL": "http://bot.se"}
    )
    (problem,) = problems(result)
    assert "FORUMBOT_PUBLIC_URL" in problem and "https://" in problem
    assert PASSWORD not in result.stderr and SECRET not in result.stderr


def test_a_managed_identity_needs_no_password_but_its_tenant(tmp_path: Path) -> None:
    identity = {**PRODUCTION, "MicrosoftAppType": "UserAssignedMSI", "MicrosoftAppPassword": ""}
    (problem,) = problems(forumbot(tmp_path, "db", "upgrade", **identity))
    assert problem == (
        "MicrosoftAppType=UserAssignedMSI needs MicrosoftAppTenantId, the tenant of the managed identity"
    )
    result = forumbot(tmp_path, "db", "upgrade", **identity, MicrosoftAppTenantId=TENANT_ID)
    assert result.returncode == 0, result.stderr
    settings = load_settings(
        env="production",
        app_type="userassignedmsi",
        app_id=APP_ID,
        app_password="",
        app_tenant_id=TENANT_ID,
        public_url="https://forumbot.example.se",
        file_link_secret=SECRET,
    )
    assert settings.app_type == "UserAssignedMSI"


def test_an_unknown_app_type_is_named(tmp_path: Path) -> None:
    (problem,) = problems(forumbot(tmp_path, "db", "upgrade", MicrosoftAppType="MultiTennant"))
    assert problem == "MicrosoftAppType: must be MultiTenant, SingleTenant or UserAssignedMSI"
