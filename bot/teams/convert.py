"""Between botbuilder's Activity and Forumbot's plain Turn."""

from __future__ import annotations

import dataclasses
from typing import Any

from botbuilder.core import CardFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference

from bot.conversation import Reply, Turn, User


def tenant_of(activity: Activity) -> str | None:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") if isinstance(channel_data.get("tenant"), dict) else {}
    tenant_id = tenant.get("id") if tenant else None
    if not tenant_id and activity.conversation is not None:
        tenant_id = activity.conversation.tenant_id
    return str(tenant_id) if tenant_id else None


def team_of(activity: Activity) -> str | None:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = channel_data.get("team")
    return str(team["id"]) if isinstance(team, dict) and team.get("id") else None


def reference_of(activity: Activity) -> dict[str, Any]:
    reference = TurnContext.get_conversation_reference(activity)
    data: dict[str, Any] = reference.serialize()
    return data


def reference_from(data: dict[str, Any]) -> ConversationReference:
    return ConversationReference().deserialize(data)


def to_turn(activity: Activity) -> Turn:
    sender = activity.from_property
    conversation = activity.conversation
    value = activity.value if isinstance(activity.value, dict) else None
    return Turn(
        activity_id=activity.id,
        conversation_id=conversation.id if conversation else "",
        conversation_type=(conversation.conversation_type if conversation else None) or "personal",
        tenant_id=tenant_of(activity),
        team_id=team_of(activity),
        user=User(
            teams_id=sender.id if sender else "",
            aad_object_id=sender.aad_object_id if sender else None,
            name=(sender.name if sender else None) or "",
        ),
        locale=activity.locale,
        text=activity.text if isinstance(activity.text, str) else "",
        value=value,
        reply_to_id=activity.reply_to_id,
        service_url=activity.service_url or "",
        reference=reference_of(activity),
    )


def to_execute_turn(activity: Activity) -> Turn:
    """An `adaptiveCard/action` invoke as a card action: the verb names the action, its data rides
    along as a submit's would. A malformed invoke becomes an action nobody knows, which the engine
    refuses with its localised message."""
    invoke: Any = activity.value if isinstance(activity.value, dict) else {}
    action: Any = invoke.get("action") if isinstance(invoke.get("action"), dict) else {}
    data: Any = action.get("data") if isinstance(action.get("data"), dict) else {}
    verb = action.get("verb")
    value = {**data, "action": verb if isinstance(verb, str) else ""}
    return dataclasses.replace(to_turn(activity), text="", value=value, invoke=True)


def invoke_answer(text: str, card: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body of an `adaptiveCard/action` response: the card that takes the pressed one's place
    for the presser, or else a message shown to them (plain text there: the markdown emphasis our
    texts carry is dropped)."""
    if card is not None:
        return {"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": card}
    plain = text.replace("**", "")
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": plain}


def to_activity(reply: Reply) -> Activity:
    activity = Activity(type=ActivityTypes.message)
    if reply.text is not None:
        activity.text = reply.text
        activity.text_format = "markdown"
    if reply.card is not None:
        activity.attachments = [CardFactory.adaptive_card(reply.card)]
    if reply.update_activity_id:
        activity.id = reply.update_activity_id
    return activity
