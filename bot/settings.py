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
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.domain.files import MIN_SECRET_BYTES
from bot.i18n import FORUM_TIMEZONE

DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:3978"

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(ValueError):
    """The settings cannot run the service; each problem names the setting to fix."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")


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
        description=(
            "MultiTenant, SingleTenant or UserAssignedMSI (the bot's identity is a user-assigned "
            "managed identity, MicrosoftAppId its client id: no password)."
        ),
    )
    app_tenant_id: str = Field(
        default="",
        validation_alias=AliasChoices("MicrosoftAppTenantId", "MICROSOFT_APP_TENANT_ID"),
        description="The tenant of a SingleTenant app registration or a UserAssignedMSI identity.",
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
    inspection_findings: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "brister i arbetsmiljö",
            "svartarbete misstänkt",
            "brandskyddsbrister",
            "livsmedelsbrister",
            "inga anmärkningar",
        ],
        validation_alias=AliasChoices("FORUMBOT_INSPECTION_FINDINGS"),
        description="Comma-separated findings an agency picks from for an inspection's outcome.",
    )
    inspection_measures: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["föreläggande", "sanktionsavgift", "anmälan", "uppföljande kontroll"],
        validation_alias=AliasChoices("FORUMBOT_INSPECTION_MEASURES"),
        description="Comma-separated measures an agency picks from for an inspection's outcome.",
    )
    inspection_recent_months: int = Field(
        default=6,
        ge=0,
        le=60,
        validation_alias=AliasChoices("FORUMBOT_INSPECTION_RECENT_MONTHS"),
        description=(
            "A joint inspection of the same business within this many months before a new "
            "booking is shown as a warning on the booking card (0: never)."
        ),
    )
    retention_months: int = Field(
        default=36,
        ge=0,
        le=600,
        validation_alias=AliasChoices("FORUMBOT_RETENTION_MONTHS"),
        description=(
            "Closed items (proposals, joint inspections, polls, status reports) older than this "
            "many months are listed by `gallring` for an administrator to remove (0: no rule). "
            "Nothing is removed without the administrator's confirmation."
        ),
    )
    turns_in_flight: int = Field(
        default=16,
        ge=1,
        le=1000,
        validation_alias=AliasChoices("FORUMBOT_TURNS_IN_FLIGHT"),
        description=(
            "Most activities one process works on at once; more wait their turn, first come first "
            "served. In a burst (300 votes in a second) most are answered sooner than when all "
            "share the processor and the database at once."
        ),
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
    appinsights_connection_string: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("APPLICATIONINSIGHTS_CONNECTION_STRING"),
        description=(
            "Application Insights' connection string: metrics (and traces of outgoing calls) are "
            "exported to Azure Monitor with OpenTelemetry; empty: telemetry off."
        ),
    )
    log_format: str = Field(
        default="",
        validation_alias=AliasChoices("FORUMBOT_LOG_FORMAT"),
        description=(
            "json (one JSON object a line, with the activity, conversation and outbox entry ids) or "
            "text; empty: json in production, text in development."
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

    @field_validator(
        "allowed_tenants", "admin_ids", "inspection_findings", "inspection_measures", mode="before"
    )
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
            raise ValueError(
                "must be a postgresql://user:password@host/database or sqlite:///path URL "
                f"(this one starts with {scheme + '://' if rest else 'no scheme'})"
            )
        url = f"{drivers[scheme]}://{rest}"
        try:  # the value itself is never shown: it may hold a password
            parsed = make_url(url)
            _ = parsed.port
        except (ArgumentError, ValueError):
            raise ValueError(
                "is not a URL that can be read (check the port and the special characters, "
                "which must be %-encoded in the password)"
            ) from None
        if parsed.get_backend_name() == "sqlite" and not parsed.database:
            raise ValueError(
                "names no SQLite file: sqlite:///relative/path.db or sqlite:////absolute/path.db"
            )
        return url

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("", "json", "text"):
            raise ValueError("must be json or text (empty: json in production, text in development)")
        return value

    @field_validator("app_type")
    @classmethod
    def _app_type(cls, value: str) -> str:
        """botbuilder reads the type case-insensitively, and anything unknown as MultiTenant."""
        for known in APP_TYPES:
            if value.strip().lower() == known.lower():
                return known
        raise ValueError("must be " + ", ".join(APP_TYPES[:-1]) + " or " + APP_TYPES[-1])

    @field_validator("agencies_file", "industries_file")
    @classmethod
    def _named_file(cls, value: Path) -> Path:
        """Read and checked at start, so that a missing or broken file stops the start, not a turn."""
        _read_named_entries(value)
        return value

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
    def _complete(self) -> Settings:
        """Every problem of the combination of settings at once, one line each."""
        problems = []
        needs_tenant = self.app_type in ("SingleTenant", "UserAssignedMSI")
        if self.env is Environment.PRODUCTION:
            needs_password = self.app_type != "UserAssignedMSI"
            missing = [
                name
                for name, value, needed in (
                    ("MicrosoftAppId", self.app_id, True),
                    ("MicrosoftAppPassword", self.app_password, needs_password),
                )
                if needed and not value
            ]
            if missing:
                problems.append(
                    "FORUMBOT_ENV=production needs "
                    + " and ".join(missing)
                    + ": without them Bot Framework authentication is off"
                )
            if not self.file_link_secret.get_secret_value():
                problems.append(
                    "FORUMBOT_ENV=production needs FORUMBOT_FILE_LINK_SECRET "
                    f"(at least {MIN_SECRET_BYTES} random bytes, e.g. the output of "
                    "`openssl rand -base64 48`): it signs the links to files the bot hands out"
                )
            if urlsplit(self.public_url).scheme != "https":
                problems.append(
                    "FORUMBOT_ENV=production needs FORUMBOT_PUBLIC_URL, the bot's public https:// "
                    "address: links to files start with it"
                )
        elif needs_tenant and not self.app_id:
            problems.append(f"MicrosoftAppType={self.app_type} needs MicrosoftAppId")
        if self.app_id and not GUID.match(self.app_id):
            problems.append("MicrosoftAppId must be a GUID")
        if needs_tenant and not self.app_tenant_id:
            problems.append(
                f"MicrosoftAppType={self.app_type} needs MicrosoftAppTenantId, the tenant of the "
                + ("managed identity" if self.app_type == "UserAssignedMSI" else "app registration")
            )
        if self.app_tenant_id and not GUID.match(self.app_tenant_id):
            problems.append("MicrosoftAppTenantId must be a GUID")
        if problems:
            raise ValueError("\n".join(problems))
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

    @property
    def logs_as_json(self) -> bool:
        return self.log_format == "json" or (not self.log_format and self.is_production)


def _read_named_entries(path: Path) -> list[NamedEntry]:
    """The file's entries; ValueError saying in one line what is wrong with it."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return _NAMED_LIST.validate_json(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        detail = f"{where}: {first['msg']}" if where else first["msg"]
        raise ValueError(f"{path} is not a JSON list of {{code, sv, en}}: {detail}{more}") from None


def _named_entries(setting: str, path: Path) -> list[NamedEntry]:
    try:
        return _read_named_entries(path)
    except ValueError as error:
        raise SettingsError(f"{setting}: {error}") from None


def _setting_name(field: str) -> str:
    """The environment variable that sets a field, as the operator knows it."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, AliasChoices) and alias.choices and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return field


def load_settings(**overrides: object) -> Settings:
    """Read settings; bad values raise SettingsError with one problem per setting, each naming it."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems: list[str] = []
        for item in error.errors():
            message = str(item["msg"]).removeprefix("Value error, ")
            if item["loc"]:
                problems.append(f"{_setting_name(str(item['loc'][0]))}: {message}")
            else:  # the combination of settings: its own lines name the settings
                problems.extend(line for line in message.splitlines() if line.strip())
        raise SettingsError(problems) from None
