"""Files for members, handed out through short-lived signed links to the bot's own web server.

A capability registers a provider for each kind of file it offers and mints links with `link`;
`download` serves a link. A link is bound to the member it was minted for: the provider makes
the file as that member may see it, and only while they are an approved member. The link
itself is a bearer token for its lifetime (anyone holding it gets that member's file), which is
why it is short-lived, never cached, and every download is audited.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.files import (
    KIND,
    MIN_SECRET_BYTES,
    FileContent,
    InvalidLink,
    LinkClaims,
    new_nonce,
    safe_filename,
    sign_link,
    verify_link,
)
from bot.domain.members import MemberView
from bot.settings import Settings
from bot.storage.audit import Audit
from bot.storage.db import unit_of_work
from bot.storage.membership import Members

log = logging.getLogger(__name__)

Provider = Callable[[AsyncSession, MemberView, int], Awaitable[FileContent | None]]
"""`provider(session, member, item_id)`: the file as `member` may see it, or None when there is
no such item or the member may not see it. Runs in a read-only transaction (nothing it writes is
kept) and renders without network calls."""

Clock = Callable[[], datetime]

DOWNLOADED = "downloaded"


class DownloadResult(StrEnum):
    SERVED = "served"
    INVALID = "invalid"  # malformed, tampered, signed with another secret, or expired
    NOT_MEMBER = "not_member"  # the member it was minted for is no longer approved
    NOT_FOUND = "not_found"  # no such file, or not one this member may see


@dataclass(frozen=True)
class Download:
    result: DownloadResult
    file: FileContent | None = None


class FileService:
    """The registry of file providers by kind, the minting of links, and their serving."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        secret: bytes,
        lifetime: timedelta,
        public_url: str,
        clock: Clock,
    ) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"a file link secret needs at least {MIN_SECRET_BYTES} bytes")
        if lifetime <= timedelta(0):
            raise ValueError("a file link's lifetime must be positive")
        self._sessions = sessions
        self._secret = secret
        self._lifetime = int(lifetime.total_seconds())
        self._public_url = public_url.rstrip("/")
        self._clock = clock
        self._providers: dict[str, Provider] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, sessions: async_sessionmaker[AsyncSession], *, clock: Clock
    ) -> FileService:
        """The service as configured. Without a secret (development only: production refuses
        to start) links are signed with a random one, and stop working when the process ends."""
        secret = settings.file_link_secret.get_secret_value().encode("utf-8")
        if not secret:
            log.warning(
                "FORUMBOT_FILE_LINK_SECRET is not set: file links are signed with a random secret "
                "and stop working when this process ends"
            )
            secret = secrets.token_bytes(MIN_SECRET_BYTES)
        return cls(
            sessions,
            secret=secret,
            lifetime=timedelta(minutes=settings.file_link_minutes),
            public_url=settings.public_url,
            clock=clock,
        )

    def register(self, kind: str, provider: Provider) -> None:
        """Serve files of `kind` (e.g. "meeting.ics": lower-case letters, digits, `.`, `_`, `-`;
        at most 32 characters) with `provider`."""
        if not KIND.match(kind):
            raise ValueError(f"file kind {kind!r} must match {KIND.pattern}")
        if kind in self._providers:
            raise ValueError(f"file kind {kind!r} is registered already")
        self._providers[kind] = provider

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._providers)

    def _now(self) -> int:
        return int(self._clock().timestamp())

    def link(self, member: MemberView, kind: str, item_id: int, base_url: str | None = None) -> str:
        """A link to the file `kind` of item `item_id` as `member` may see it, valid for the
        configured lifetime. `base_url` defaults to the bot's public address (FORUMBOT_PUBLIC_URL)."""
        if kind not in self._providers:
            raise ValueError(f"no provider for file kind {kind!r}")
        claims = LinkClaims(kind, item_id, member.id, self._now() + self._lifetime, new_nonce())
        base = (base_url or self._public_url).rstrip("/")
        return f"{base}/files/{sign_link(self._secret, claims)}"

    def check(self, token: str) -> LinkClaims:
        """The claims of a token this service signed and that has not expired; else InvalidLink."""
        return verify_link(self._secret, token, self._now())

    async def download(self, token: str, *, record: bool = True) -> Download:
        """The file a link grants, made for the member it is bound to, and audited (unless
        `record` is False: the file was asked for but will not be sent, as for HEAD)."""
        try:
            claims = self.check(token)
        except InvalidLink as error:
            # never the token in the log: until it expires, it opens a file
            log.info("file link refused: %s", error)
            return Download(DownloadResult.INVALID)
        provider = self._providers.get(claims.kind)
        if provider is None:
            log.info("file link for kind %r, which nothing provides", claims.kind)
            return Download(DownloadResult.NOT_FOUND)
        # read in a transaction of its own, which on SQLite leaves the write lock to the turns
        # (a year's follow-up takes a while to count); then the download is audited
        async with self._sessions() as session:
            member = await Members(session).by_id(claims.member_id)
            if member is None or not member.approved:
                log.info("file link of member %s, who is not an approved member", claims.member_id)
                return Download(DownloadResult.NOT_MEMBER)
            file = await provider(session, member, claims.item_id)
            if file is None:
                return Download(DownloadResult.NOT_FOUND)
        if record:
            async with unit_of_work(self._sessions) as session:
                await Audit(session).record(
                    DOWNLOADED,
                    claims.kind,
                    claims.item_id,
                    actor_id=member.id,
                    actor_aad_id=member.aad_object_id,
                    details={"filename": safe_filename(file.filename)},
                )
        return Download(DownloadResult.SERVED, file)
