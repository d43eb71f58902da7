"""Forumbot's settings: one typed object, read from the environment and an optional `.env`."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    TypeAdapter,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.files import MIN_SECRET_BYTES
from bot.i18n import FORUM_TIMEZONE

DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:3978"

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(ValueError):
    """The settings cannot run the service; the message says which setting to fix."""


def _default_database_url() -> str:
    return f"sqlite+aiosqlite:///{Path.cwd() / 'var' / 'forumbot.db'}"


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class NamedEntry(BaseModel):
    """A configured agency or industry: a short code and its Swedish and English names."""

    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9ÅÄÖåäö_-]+$")
    sv: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)

    def name(self, language: str) -> str:
        return self.en if language == "en" else self.sv


_NAMED_LIST = TypeAdapter(list[NamedEntry])


class Settings(BaseSettings):
    """Every setting of the service. Environment variable names are given per field."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    app_id: str = Field(
        default="",
        validation_alias=AliasChoices("MicrosoftAppId", "MICROSOFT_APP_ID"),
        description="The bot's Microsoft Entra app id. Empty turns authentication off (development only).",
    )
    app_password: str = Field(
        default="",
        validation_alias=AliasChoices("MicrosoftAppPassword", "MICROSOFT_APP_PASSWORD"),
        description="The client secret of the bot's app registration.",
    )
    app_type: str = Field(
        default="MultiTenant",
        validation_alias=AliasChoices("MicrosoftAppType", "MICROSOFT_APP_TYPE"),
        description="MultiTenant, SingleTenant or UserAssignedMSI.",
    )
    app_tenant_id: str = Field(
        default="",
        validation_alias=AliasChoices("MicrosoftAppTenantId", "MICROSOFT_APP_TENANT_ID"),
        description="The tenant of a SingleTenant app registration.",
    )
    database_url: str = Field(
        default_factory=_default_database_url,
        validation_alias=AliasChoices("DATABASE_URL"),
        description="SQLAlchemy async URL; sqlite+aiosqlite:///... or postgresql+asyncpg://...",
    )
    env: Environment = Field(
        default=Environment.DEVELOPMENT,
        validation_alias=AliasChoices("FORUMBOT_ENV"),
        description="development applies migrations itself; production refuses to start without credentials.",
    )
    allowed_tenants: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=AliasChoices("FORUMBOT_ALLOWED_TENANTS"),
        description="Comma-separated tenant ids whose activities are served; empty serves every tenant.",
    )
    admin_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=AliasChoices("FORUMBOT_ADMIN_IDS"),
        description="Comma-separated Entra (AAD) object ids of the forum's administrators.",
    )
    timezone: str = Field(
        default=FORUM_TIMEZONE,
        validation_alias=AliasChoices("FORUMBOT_TIMEZONE"),
        description="IANA time zone for every time shown or scheduled.",
    )
    default_language: str = Field(
        default="sv",
        validation_alias=AliasChoices("FORUMBOT_DEFAULT_LANGUAGE"),
        description="Language of users whose Teams locale is neither Swedish nor English: sv or en.",
    )
    agencies_file: Path = Field(
        default=Path(__file__).resolve().parent.parent / "deployment" / "agencies.json",
        validation_alias=AliasChoices("FORUMBOT_AGENCIES_FILE"),
        description="JSON file with the forum's agencies, seeded at start.",
    )
    industries_file: Path = Field(
        default=Path(__file__).resolve().parent.parent / "deployment" / "industries.json",
        validation_alias=AliasChoices("FORUMBOT_INDUSTRIES_FILE"),
        description="JSON file with the risk industries offered on a proposal.",
    )
    max_body_bytes: int = Field(
        default=256 * 1024,
        validation_alias=AliasChoices("FORUMBOT_MAX_BODY_BYTES"),
        description="Largest accepted request body on /api/messages.",
    )
    dialog_timeout_minutes: int = Field(
        default=30,
        validation_alias=AliasChoices("FORUMBOT_DIALOG_TIMEOUT_MINUTES"),
        description="A flow left unanswered this long is forgotten.",
    )
    openid_metadata_url: str = Field(
        default="",
        validation_alias=AliasChoices("FORUMBOT_OPENID_METADATA_URL"),
        description="Override of the Bot Framework OpenID metadata URL (sovereign clouds, test rigs).",
    )
    token_issuer: str = Field(
        default="",
        validation_alias=AliasChoices("FORUMBOT_TOKEN_ISSUER"),
        description="Override of the expected issuer of inbound tokens; goes with the metadata URL.",
    )
    outbox_interval_seconds: float = Field(
        default=1.0,
        validation_alias=AliasChoices("FORUMBOT_OUTBOX_INTERVAL_SECONDS"),
        description="How often the delivery worker looks for queued proactive messages.",
    )
    schedule_interval_seconds: float = Field(
        default=15.0,
        gt=0,
        validation_alias=AliasChoices("FORUMBOT_SCHEDULE_INTERVAL_SECONDS"),
        description="How often each process looks for due scheduled tasks (meeting reminders).",
    )
    outbox_global_rate: float = Field(
        default=48.0,
        gt=0,
        validation_alias=AliasChoices("FORUMBOT_OUTBOX_GLOBAL_RATE"),
        description=(
            "Most proactive messages a second one bot process sends, over all conversations "
            "(Teams allows 50 a second per app and tenant; 48 stays safely under it; split it among "
            "processes)."
        ),
    )
    public_url: str = Field(
        default=DEVELOPMENT_PUBLIC_URL,
        validation_alias=AliasChoices("FORUMBOT_PUBLIC_URL"),
        description=(
            "The bot's public address, e.g. https://forumbot.example.se; links to files start "
            "with it. Production needs an https:// one."
        ),
    )
    file_link_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("FORUMBOT_FILE_LINK_SECRET"),
        description=(
            f"The key that signs links to files, at least {MIN_SECRET_BYTES} bytes. "
            "Empty: a random key per process (development only)."
        ),
    )
    file_link_minutes: int = Field(
        default=15,
        gt=0,
        le=24 * 60,
        validation_alias=AliasChoices("FORUMBOT_FILE_LINK_MINUTES"),
        description="How long a link to a file works after the bot gave it, in minutes.",
    )

    polls_by_members: bool = Field(
        default=False,
        validation_alias=AliasChoices("FORUMBOT_POLLS_BY_MEMBERS"),
        description="Every approved member may make a quick poll (`ny omröstning`), not only coordinators.",
    )

    poll_nudge_hours: float = Field(
        default=24.0,
        ge=0,
        validation_alias=AliasChoices("FORUMBOT_POLL_NUDGE_HOURS"),
        description=(
            "How many hours before a poll's deadline the members it asks who have not answered get "
            "one reminder in personal chat; 0 sends none."
        ),
    )

    @field_validator("allowed_tenants", "admin_ids", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        """Empty means the default SQLite file; plain postgresql:// and sqlite:// get async drivers."""
        if not value.strip():
            return _default_database_url()
        scheme, _, rest = value.partition("://")
        drivers = {
            "postgresql": "postgresql+asyncpg",
            "postgres": "postgresql+asyncpg",
            "postgresql+asyncpg": "postgresql+asyncpg",
            "sqlite": "sqlite+aiosqlite",
            "sqlite+aiosqlite": "sqlite+aiosqlite",
        }
        if not rest or scheme not in drivers:
            raise ValueError("DATABASE_URL must be a postgresql:// or sqlite:// URL")
        return f"{drivers[scheme]}://{rest}"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in ("sv", "en"):
            raise ValueError("FORUMBOT_DEFAULT_LANGUAGE must be sv or en")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        """Empty means the development address; the scheme and host only, maybe a path."""
        value = value.strip()
        if not value:
            return DEVELOPMENT_PUBLIC_URL
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.username is not None
            or parts.query
            or parts.fragment
        ):
            raise ValueError(
                "FORUMBOT_PUBLIC_URL must be an http(s):// address such as https://forumbot.example.se"
            )
        return value.rstrip("/")

    @field_validator("file_link_secret")
    @classmethod
    def _file_link_secret(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret and len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
            raise ValueError(
                f"FORUMBOT_FILE_LINK_SECRET must be at least {MIN_SECRET_BYTES} bytes "
                "(e.g. the output of `openssl rand -base64 48`)"
            )
        return value

    @model_validator(mode="after")
    def _production_needs_credentials(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            missing = [
                name
                for name, value in (
                    ("MicrosoftAppId", self.app_id),
                    ("MicrosoftAppPassword", self.app_password),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    "FORUMBOT_ENV=production needs "
                    + " and ".join(missing)
                    + ": without them Bot Framework authentication is off"
                )
        if self.app_id and not GUID.match(self.app_id):
            raise ValueError("MicrosoftAppId must be a GUID")
        return self

    @model_validator(mode="after")
    def _production_needs_file_links(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            if not self.file_link_secret.get_secret_value():
                raise ValueError(
                    "FORUMBOT_ENV=production needs FORUMBOT_FILE_LINK_SECRET "
                    f"(at least {MIN_SECRET_BYTES} random bytes, e.g. the output of "
                    "`openssl rand -base64 48`): it signs the links to files the bot hands out"
                )
            if urlsplit(self.public_url).scheme != "https":
                raise ValueError(
                    "FORUMBOT_ENV=production needs FORUMBOT_PUBLIC_URL, the bot's public https:// "
                    "address: links to files start with it"
                )
        return self

    def agency_entries(self) -> list[dict[str, str]]:
        """The agencies file, checked: a list of {code, sv, en}."""
        return [entry.model_dump() for entry in _named_entries("FORUMBOT_AGENCIES_FILE", self.agencies_file)]

    @cached_property
    def industries(self) -> tuple[NamedEntry, ...]:
        """The risk industries offered on a proposal: the file is read and checked once (the app
        does so at start), not for every card."""
        return tuple(_named_entries("FORUMBOT_INDUSTRIES_FILE", self.industries_file))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION


def _named_entries(setting: str, path: Path) -> list[NamedEntry]:
    try:
        return _NAMED_LIST.validate_json(path.read_bytes())
    except (OSError, ValueError) as error:
        raise SettingsError(f"{setting} {path}: {error}") from None


def load_settings(**overrides: object) -> Settings:
    """Read settings; a bad value raises SettingsError with a message for the operator."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in error.errors()
        )
        raise SettingsError(problems) from None
