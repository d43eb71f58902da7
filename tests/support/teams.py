"""Teams-shaped activities, as Microsoft Teams posts them to /api/messages."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TENANT = "8a1c1d2e-0000-4000-8000-00000000beef"
OTHER_TENANT = "99999999-0000-4000-8000-000000000bad"
BOT_ID = "28:forumbot"
TEAM_ID = "19:forumteam@thread.tacv2"
CHANNEL_ID = "19:forumchannel@thread.tacv2"

_seq = itertools.count(1)


@dataclass(frozen=True)
class TeamsUser:
    key: str
    name: str
    aad_object_id: str
    email: str

    @property
    def teams_id(self) -> str:
        return f"29:{self.key}"

    @property
    def personal_conversation(self) -> str:
        return f"a:personal-{self.key}"

    def account(self) -> dict[str, Any]:
        return {"id": self.teams_id, "name": self.name, "aadObjectId": self.aad_object_id}


def user(key: str, name: str) -> TeamsUser:
    return TeamsUser(key, name, str(uuid.uuid5(uuid.NAMESPACE_DNS, key)), f"{key}@example.se")


def _base(
    service_url: str,
    sender: TeamsUser,
    conversation: dict[str, Any],
    channel_data: dict[str, Any],
    locale: str,
) -> dict[str, Any]:
    return {
        "id": f"activity-in-{next(_seq)}-{uuid.uuid4().hex[:8]}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": datetime.now(UTC).isoformat(),
        "from": sender.account(),
        "recipient": {"id": BOT_ID, "name": "Forumbot"},
        "conversation": conversation,
        "channelData": channel_data,
        "locale": locale,
    }


def personal(
    service_url: str, sender: TeamsUser, *, tenant: str = TENANT, locale: str = "sv-SE", **fields: Any
) -> dict[str, Any]:
    activity = _base(
        service_url,
        sender,
        {"id": sender.personal_conversation, "conversationType": "personal", "tenantId": tenant},
        {"tenant": {"id": tenant}},
        locale,
    )
    activity.update(fields)
    return activity


def channel(
    service_url: str, sender: TeamsUser, *, tenant: str = TENANT, locale: str = "sv-SE", **fields: Any
) -> dict[str, Any]:
    activity = _base(
        service_url,
        sender,
        {
            "id": f"{CHANNEL_ID};messageid=1",
            "conversationType": "channel",
            "tenantId": tenant,
            "isGroup": True,
        },
        {
            "tenant": {"id": tenant},
            "team": {"id": TEAM_ID, "name": "Myndighetsforum"},
            "channel": {"id": CHANNEL_ID, "name": "Forum"},
        },
        locale,
    )
    activity.update(fields)
    return activity


def group_chat(
    service_url: str, sender: TeamsUser, *, tenant: str = TENANT, locale: str = "sv-SE", **fields: Any
) -> dict[str, Any]:
    activity = _base(
        service_url,
        sender,
        {
            "id": "19:groupchat@thread.v2",
            "conversationType": "groupChat",
            "tenantId": tenant,
            "isGroup": True,
        },
        {"tenant": {"id": tenant}},
        locale,
    )
    activity.update(fields)
    return activity


def message(builder: Any, service_url: str, sender: TeamsUser, text: str, **kw: Any) -> dict[str, Any]:
    activity = builder(service_url, sender, **kw)
    activity.update(type="message", text=text)
    if activity["conversation"]["conversationType"] != "personal":
        activity["text"] = f"<at>Forumbot</at> {text}"
        activity["entities"] = [
            {
                "type": "mention",
                "text": "<at>Forumbot</at>",
                "mentioned": {"id": BOT_ID, "name": "Forumbot"},
            }
        ]
    return activity


def submit(
    builder: Any,
    service_url: str,
    sender: TeamsUser,
    value: dict[str, Any],
    reply_to_id: str | None,
    **kw: Any,
) -> dict[str, Any]:
    activity = builder(service_url, sender, **kw)
    activity.update(type="message", value=value)
    if reply_to_id:
        activity["replyToId"] = reply_to_id
    return activity


def execute(
    builder: Any,
    service_url: str,
    sender: TeamsUser,
    action: dict[str, Any],
    reply_to_id: str | None,
    **kw: Any,
) -> dict[str, Any]:
    """A press of an Action.Execute button, as Teams sends it: an `adaptiveCard/action` invoke."""
    activity = builder(service_url, sender, **kw)
    activity.update(type="invoke", name="adaptiveCard/action", value={"action": action, "trigger": "manual"})
    if reply_to_id:
        activity["replyToId"] = reply_to_id
    return activity


def installed(builder: Any, service_url: str, sender: TeamsUser, **kw: Any) -> dict[str, Any]:
    activity = builder(service_url, sender, **kw)
    activity.update(type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    if activity["conversation"]["conversationType"] == "channel":
        activity["channelData"]["eventType"] = "teamMemberAdded"
    return activity
