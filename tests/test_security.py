"""Authentication with real signed tokens, production guards, and schema checks at start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select

from bot.settings import SettingsError, load_settings
from bot.storage.models import ProcessedActivity
from tests.conftest import STRANGER, make_settings
from tests.support import teams
from tests.support.connector import FakeConnector
from tests.support.harness import FakeClock, Harness

APP_ID = "3f0c5bde-8a41-4c1e-9a56-0d1f6a2b7c11"
ISSUER = "https://api.botframework.com"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def secured_bot(
    database_url: str, connector: FakeConnector, clock: FakeClock, signing_key: rsa.RSAPrivateKey
) -> AsyncIterator[Harness]:
    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update(kid="test-key", use="sig", endorsements=["msteams"])
    connector.jwks[:] = [jwk]
    settings = make_settings(
        database_url,
        app_id=APP_ID,
        app_password="not-a-real-secret",
        openid_metadata_url=f"{connector.url}/openid",
        token_issuer=ISSUER,
    )
    harness = Harness(settings, connector, clock)
    await harness.start()
    yield harness
    await harness.stop()


def token(key: rsa.RSAPrivateKey, service_url: str, **overrides: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": APP_ID,
        "nbf": now - 60,
        "exp": now + 3600,
        "serviceurl": service_url,
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "test-key"})


async def test_valid_token_is_accepted(secured_bot: Harness, signing_key: rsa.RSAPrivateKey) -> None:
    activity = teams.message(teams.personal, secured_bot.connector.url, STRANGER, "hjälp")
    header = {"Authorization": "Bearer " + token(signing_key, secured_bot.connector.url)}
    response = await secured_bot.post(activity, header)
    assert response.status == 201
    async with secured_bot.sessions() as session:
        handled = await session.scalar(
            select(ProcessedActivity).where(ProcessedActivity.activity_id == activity["id"])
        )
    assert handled is not None


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Bearer " + "x" * 5000],
)
async def test_missing_or_garbage_token_is_401(secured_bot: Harness, authorization: str) -> None:
    activity = teams.message(teams.personal, secured_bot.connector.url, STRANGER, "hjälp")
    headers = {"Authorization": authorization} if authorization else {}
    response = await secured_bot.post(activity, headers)
    assert response.status == 401
    assert response.sent == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 3600, "nbf": int(time.time()) - 7200},
        {"aud": "00000000-0000-0000-0000-000000000000"},
        {"iss": "https://evil.example"},
        {"serviceurl": "http://127.0.0.1:1/elsewhere"},
    ],
)
async def test_wrong_claims_are_401(
    secured_bot: Harness, signing_key: rsa.RSAPrivateKey, overrides: dict[str, object]
) -> None:
    activity = teams.message(teams.personal, secured_bot.connector.url, STRANGER, "hjälp")
    header = {"Authorization": "Bearer " + token(signing_key, secured_bot.connector.url, **overrides)}
    assert (await secured_bot.post(activity, header)).status == 401


async def test_token_signed_by_another_key_is_401(secured_bot: Harness) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    activity = teams.message(teams.personal, secured_bot.connector.url, STRANGER, "hjälp")
    header = {"Authorization": "Bearer " + token(other, secured_bot.connector.url)}
    assert (await secured_bot.post(activity, header)).status == 401


def test_production_without_credentials_is_refused() -> None:
    with pytest.raises(SettingsError, match="MicrosoftAppId and MicrosoftAppPassword"):
        load_settings(env="production", app_id="", app_password="")
    with pytest.raises(SettingsError, match="MicrosoftAppPassword"):
        load_settings(env="production", app_id=APP_ID, app_password="")


def test_app_id_must_be_a_guid() -> None:
    with pytest.raises(SettingsError, match="GUID"):
        load_settings(app_id="forumbot")


def _forumbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "FORUMBOT_"))}
    clean.pop("DATABASE_URL", None)
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_start_without_credentials_exits_with_a_message(tmp_path: Path) -> None:
    result = _forumbot(tmp_path, "run", "--port", "0", FORUMBOT_ENV="production")
    assert result.returncode == 2
    assert "MicrosoftAppId" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_start_on_outdated_schema_names_the_command(tmp_path: Path) -> None:
    result = _forumbot(
        tmp_path,
        "run",
        "--port",
        "0",
        FORUMBOT_ENV="production",
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="not-a-real-secret",
        FORUMBOT_FILE_LINK_SECRET="not-a-real-secret-but-long-enough-for-one",
        FORUMBOT_PUBLIC_URL="https://forumbot.example.se",
        DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}",
    )
    assert result.returncode == 3
    assert "forumbot db upgrade" in result.stderr


def test_db_upgrade_then_schema_is_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = _forumbot(tmp_path, "db", "upgrade", DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert "revision" in result.stdout


@pytest.mark.parametrize(
    "args", [["--help"], ["run", "--help"], ["db", "--help"], ["db", "upgrade", "--help"]]
)
def test_every_subcommand_has_help(tmp_path: Path, args: list[str]) -> None:
    result = _forumbot(tmp_path, *args)
    assert result.returncode == 0
    assert "usage: forumbot" in result.stdout


def test_unknown_settings_value_is_a_clear_error(tmp_path: Path) -> None:
    result = _forumbot(tmp_path, "db", "upgrade", FORUMBOT_TIMEZONE="Mars/Olympus")
    assert result.returncode == 2
    assert "unknown time zone" in result.stderr


def test_database_url_forms() -> None:
    assert load_settings(database_url="postgresql://u@h/db").database_url == "postgresql+asyncpg://u@h/db"
    assert load_settings(database_url="").database_url.startswith("sqlite+aiosqlite:///")
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        load_settings(database_url="mysql://u@h/db")
