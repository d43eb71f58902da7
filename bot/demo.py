"""A demo forum for Microsoft 365 Agents Playground (`forumbot run --demo`).

The playground's users, team and channel (playground/.m365agentsplayground.yml) become an approved
forum: Anna Lindqvist, the playground's own user, is administrator and coordinator at MHF; the
others are inspectors (Per Holm also coordinator) at the agencies the file names them for; and the
team's Forum channel is the forum channel, reached through the playground's Bot Connector. Each
member has chosen Swedish (`språk svenska`): the playground sends en-US with every message, and the
forum's language is Swedish. Only Anna has a personal chat with the bot: the playground's
configuration has one personal chat, its current user's, and the chats its connector makes for
the others get ids of its own at run time, which the demo cannot know when it seeds. Personal
notices to the others are not sent; the coordinators are told whom the nudge to report missed.

Seeding is idempotent: a member who exists already (by Entra object id) is left as they are, and an
existing forum channel link is kept. Agencies must be seeded first (the app does so at start).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import User
from bot.domain.members import MemberView, Role
from bot.services.membership import ALL_ROLES, Applicant, ChannelPlace, MembershipService
from bot.settings import Settings

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
        ALL_ROLES,
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


async def seed_demo(
    session: AsyncSession, settings: Settings, service_url: str = DEFAULT_SERVICE_URL
) -> DemoResult:
    """Add the playground's users as approved members and link the forum channel, inside the
    caller's unit of work, as the forum's services do it (audited as the demo's doing, and
    nobody notified). What exists already is left alone."""
    forum = MembershipService(session, settings)
    result = DemoResult()
    seeded: dict[str, MemberView] = {}
    for user in USERS:
        existing = await forum.identify(User(user.teams_id, user.aad_object_id, user.name))
        if existing is not None:
            seeded[user.aad_object_id] = existing
            result.kept.append(user.name)
            continue
        agency = await forum.agencies.by_code(user.agency)
        if agency is None:
            raise DemoError(f"agency {user.agency} is not seeded; the demo needs it for {user.name}")
        applicant = Applicant(
            aad_object_id=user.aad_object_id,
            teams_id=user.teams_id,
            name=user.name,
            email=user.email,
            personal_conversation=personal_reference(user, service_url) if user.current else None,
            language=DEMO_LANGUAGE,
        )
        member = await forum.apply(applicant, agency, by="demo")
        seeded[user.aad_object_id] = await forum.admit(member, user.roles, by="demo")
        result.added.append(user.name)

    if await forum.forum_channel_id() is None:
        admin = next(user for user in USERS if user.current)
        place = ChannelPlace(
            FORUM_CHANNEL_ID, TEAM_ID, TENANT_ID, service_url, channel_reference(service_url)
        )
        await forum.set_forum_channel(
            place, seeded[admin.aad_object_id], actor_aad_id=admin.aad_object_id, by="demo"
        )
        result.linked = True
    return result
