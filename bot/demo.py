"""A demo forum for Microsoft 365 Agents Playground (`forumbot run --demo`).

The playground's users, team and channel (playground/.m365agentsplayground.yml) become an approved
forum: Anna Lindqvist, the playground's own user, is administrator and coordinator at MHF; the
others are inspectors (Per Holm also coordinator) at the agencies the file names them for; and the
team's Forum channel is the forum channel, reached through the playground's Bot Connector. Each
member has chosen Swedish (`språk svenska`): the playground sends en-US with every message, and the
forum's language is Swedish.

Seeding is idempotent: a member who exists already (by Entra object id) is left as they are, and an
existing forum channel link is kept. Agencies must be seeded first (the app does so at start).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.members import MemberStatus, MemberView, Role
from bot.storage.audit import Audit
from bot.storage.membership import Agencies, Channels, Members

FORUM_CHANNEL = "forum"  # the purpose of the forum channel's link (bot.services.forum)
DEFAULT_SERVICE_URL = "http://localhost:56150/_connector"  # the playground's Bot Connector
DEMO_LANGUAGE = "sv"  # every demo member's chosen language, whatever locale the playground sends

# From playground/.m365agentsplayground.yml (tests/test_demo.py checks that they agree).
TENANT_ID = "5b3c2f1e-7a4d-4e0b-9c61-0d2a8f4e6b17"
BOT = {"id": "28:4f6e2b1a-93c7-4d58-8e0f-1a2b3c4d5e6f", "name": "Forumbot"}
TEAM_ID = "19:myndighetsforum-general@thread.tacv2"  # the General channel's id is the team's
FORUM_CHANNEL_ID = "19:myndighetsforum-forum@thread.tacv2"
PERSONAL_CHAT_ID = "a:forumbot-personal-anna-lindqvist"  # the current user's chat with the bot


@dataclass(frozen=True)
class DemoUser:
    teams_id: str
    aad_object_id: str
    name: str
    email: str
    agency: str  # agency code
    roles: frozenset[Role]
    current: bool = False  # the playground's own user, who has a personal chat with the bot


INSPECTOR = frozenset({Role.INSPECTOR})
USERS = (
    DemoUser(
        "29:anna-lindqvist",
        "0a6f3c7e-1b2d-4c8a-9e5f-6d7b8a9c0d11",
        "Anna Lindqvist",
        "anna.lindqvist@vasteras.example",
        "MHF",
        frozenset({Role.ADMIN, Role.COORDINATOR, Role.INSPECTOR}),
        current=True,
    ),
    DemoUser(
        "29:ingrid-berg",
        "0a6f3c7e-1b2d-4c8a-9e5f-6d7b8a9c0d12",
        "Ingrid Berg",
        "ingrid.berg@vasteras.example",
        "MHF",
        INSPECTOR,
    ),
    DemoUser(
        "29:per-holm",
        "0a6f3c7e-1b2d-4c8a-9e5f-6d7b8a9c0d13",
        "Per Holm",
        "per.holm@polisen.example",
        "POL",
        frozenset({Role.COORDINATOR, Role.INSPECTOR}),
    ),
    DemoUser(
        "29:sara-ek",
        "0a6f3c7e-1b2d-4c8a-9e5f-6d7b8a9c0d14",
        "Sara Ek",
        "sara.ek@skatteverket.example",
        "SKV",
        INSPECTOR,
    ),
    DemoUser(
        "29:rasmus-nyberg",
        "0a6f3c7e-1b2d-4c8a-9e5f-6d7b8a9c0d15",
        "Rasmus Nyberg",
        "rasmus.nyberg@rtmd.example",
        "RTJ",
        INSPECTOR,
    ),
    DemoUser(
        "29:omar-haddad",
        "0a6f3c7e-1b2d-4c8a-9e5f-6d7b8a9c0d16",
        "Omar Haddad",
        "omar.haddad@av.example",
        "AV",
        INSPECTOR,
    ),
)


class DemoError(RuntimeError):
    """The demo cannot be seeded (e.g. its agencies are missing)."""


@dataclass
class DemoResult:
    added: list[str] = field(default_factory=list)  # names of members added
    kept: list[str] = field(default_factory=list)  # names of members who were there already
    linked: bool = False  # whether the forum channel was linked now

    def summary(self) -> str:
        channel = "forum channel linked" if self.linked else "forum channel link kept"
        return f"Demo forum: {len(self.added)} members added, {len(self.kept)} kept, {channel}."


def reference(conversation: dict[str, Any], service_url: str, user: DemoUser | None = None) -> dict[str, Any]:
    """A conversation reference as botbuilder serialises it, for the playground's connector."""
    data: dict[str, Any] = {
        "bot": dict(BOT),
        "conversation": {**conversation, "tenantId": TENANT_ID},
        "channelId": "msteams",
        "serviceUrl": service_url,
    }
    if user is not None:
        data["user"] = {"id": user.teams_id, "name": user.name, "aadObjectId": user.aad_object_id}
    return data


def channel_reference(service_url: str) -> dict[str, Any]:
    return reference({"id": FORUM_CHANNEL_ID, "isGroup": True, "conversationType": "channel"}, service_url)


def personal_reference(user: DemoUser, service_url: str) -> dict[str, Any]:
    return reference({"id": PERSONAL_CHAT_ID, "conversationType": "personal"}, service_url, user)


async def seed_demo(session: AsyncSession, service_url: str = DEFAULT_SERVICE_URL) -> DemoResult:
    """Add the playground's users as approved members and link the forum channel, inside the
    caller's unit of work. What exists already is left alone."""
    members, agencies, audit = Members(session), Agencies(session), Audit(session)
    result = DemoResult()
    seeded: dict[str, MemberView] = {}
    for user in USERS:
        existing = await members.by_aad_id(user.aad_object_id)
        if existing is not None:
            seeded[user.aad_object_id] = existing
            result.kept.append(user.name)
            continue
        agency = await agencies.by_code(user.agency)
        if agency is None:
            raise DemoError(f"agency {user.agency} is not seeded; the demo needs it for {user.name}")
        member = await members.add(
            aad_object_id=user.aad_object_id,
            teams_user_id=user.teams_id,
            name=user.name,
            email=user.email,
            agency_id=agency.id,
            status=MemberStatus.PENDING,
            roles=INSPECTOR,
            locale=None,
            personal_conversation=personal_reference(user, service_url) if user.current else None,
            language=DEMO_LANGUAGE,
        )
        await audit.record(
            "created",
            "member",
            member.id,
            actor_aad_id=user.aad_object_id,
            details={"agency": agency.code, "by": "demo"},
        )
        member = await members.decide(member.id, MemberStatus.APPROVED, user.roles, None)
        await audit.record(
            "approved",
            "member",
            member.id,
            details={"roles": sorted(member.roles), "by": "demo"},
        )
        seeded[user.aad_object_id] = member
        result.added.append(user.name)

    channels = Channels(session)
    if await channels.get(FORUM_CHANNEL) is None:
        admin = next(user for user in USERS if user.current)
        actor = seeded[admin.aad_object_id]
        await channels.link(
            FORUM_CHANNEL,
            conversation_id=FORUM_CHANNEL_ID,
            team_id=TEAM_ID,
            tenant_id=TENANT_ID,
            service_url=service_url,
            reference=channel_reference(service_url),
            linked_by=actor.id,
        )
        await audit.record(
            "linked",
            "channel",
            FORUM_CHANNEL,
            actor_id=actor.id,
            actor_aad_id=admin.aad_object_id,
            details={"conversation_id": FORUM_CHANNEL_ID, "team_id": TEAM_ID, "by": "demo"},
        )
        result.linked = True
    return result
