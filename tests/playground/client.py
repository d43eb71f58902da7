"""A client for Microsoft 365 Agents Playground's own HTTP API and WebSockets: what its web page does
when the user types, clicks a card button or sends a custom activity, and what it then shows.

The API is the playground's internal one (the version is pinned in playground/start.sh):

- `POST /_conversation/v1/conversations/{id}/messages` types a message as the current user;
- `POST /_conversation/v1/submit` clicks an Action.Submit button of a message;
- `POST /_internal/v1/customActivities` delivers any activity to the bot as it is;
- `GET /_internal/v1/customActivities/template` builds one (install, bot added, ...);
- `POST /_connector/v3/conversations` is the Bot Connector call that opens a personal chat;
- the WebSocket `/_ws_conversation/v1/conversations/stream` carries what the bot posts and updates
  in the chats the current user is in, and `/_ws/log/stream` the playground's log: every activity
  it delivered to the bot with the bot's answer, and every request the bot made to it.

A turn ends when the log reports the bot's answer to the activity: by then the bot has made all its
requests of that turn. Each names the activity it answers (`replyToId`), except replies to a
conversationUpdate, which name none; messages the bot sends on its own name neither.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

PLAYGROUND = "Microsoft 365 Agents Playground"  # the playground's name for itself in its log
BOT_APP = "User Application"  # and for the bot
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
TIMEOUT = 15.0


def top_level(conversation_id: str | None) -> str:
    """A channel thread's id is the channel's id with `;messageid=...` appended."""
    return (conversation_id or "").split(";")[0]


def cards_of(attachments: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [a["content"] for a in attachments or [] if a.get("contentType") == ADAPTIVE_CARD]


def nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every object in a card, depth first."""
    if isinstance(tree, dict):
        yield tree
        tree = list(tree.values())
    if isinstance(tree, list):
        for item in tree:
            yield from nodes(item)


def card_text(card: dict[str, Any]) -> str:
    """Every string a user reads on a card, one per line."""
    return "\n".join(
        node[key]
        for node in nodes(card)
        for key in ("text", "title", "value", "label")
        if isinstance(node.get(key), str)
    )


def buttons_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in nodes(card) if node.get("type") in ("Action.Submit", "Action.Execute")]


def inputs_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in nodes(card) if str(node.get("type", "")).startswith("Input.")}


class Shown:
    """Text and Adaptive Cards of a message, for assertions on what a user reads."""

    text: str
    cards: list[dict[str, Any]]

    @property
    def card(self) -> dict[str, Any]:
        assert len(self.cards) == 1, f"expected one card, got {len(self.cards)}: {self.text!r}"
        return self.cards[0]

    @property
    def content(self) -> str:
        """The text and every card's text."""
        return "\n".join([self.text, *(card_text(c) for c in self.cards)])

    def button(self, **data: Any) -> dict[str, Any]:
        """The Action.Submit or Action.Execute button of the card whose data has these items."""
        matching = [
            b
            for b in buttons_of(self.card)
            if all((b.get("data") or {}).get(key) == value for key, value in data.items())
        ]
        assert len(matching) == 1, f"expected one button with {data}, found {len(matching)}"
        return matching[0]


@dataclass(frozen=True)
class Message(Shown):
    """A message the bot posted or updated in a chat of the current user, as the playground shows it."""

    action: str  # createMessage or updateMessage
    conversation_id: str  # the chat, or the channel thread
    id: str
    text: str
    cards: list[dict[str, Any]]

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Message:
        message = frame["message"]
        return cls(
            action=frame["action"],
            conversation_id=frame["actionConversationId"],
            id=str(message["messageId"]),
            text=message.get("text") or "",
            cards=cards_of(message.get("attachments")),
        )


@dataclass(frozen=True)
class Sent(Shown):
    """An activity the bot sent to a chat the current user is not in: only the playground's log
    shows it. `updated` when it replaced an earlier message."""

    conversation_id: str
    id: str
    updated: bool
    text: str
    cards: list[dict[str, Any]]
    reply_to_id: str | None

    @classmethod
    def from_log(cls, log: dict[str, Any]) -> Sent:
        activity = log["request"]["body"]
        return cls(
            conversation_id=activity["conversation"]["id"],
            id=str(log["response"]["body"]["id"]),
            updated=bool(activity.get("id")),  # an update names the message it replaces
            text=activity.get("text") or "",
            cards=cards_of(activity.get("attachments")),
            reply_to_id=activity.get("replyToId"),
        )


@dataclass
class Turn:
    """What the bot did with one activity."""

    status: int  # the bot's HTTP answer to the playground
    activity: dict[str, Any]  # the activity as the playground delivered it
    body: Any = None  # the bot's HTTP answer's body (an invoke's answer)
    messages: list[Message] = field(default_factory=list)  # in chats the current user is in
    elsewhere: list[Sent] = field(default_factory=list)  # in other users' chats

    @property
    def posted(self) -> list[Message]:
        return [m for m in self.messages if m.action == "createMessage"]

    @property
    def updated(self) -> list[Message]:
        return [m for m in self.messages if m.action == "updateMessage"]

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.messages if m.text]

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [card for m in self.messages for card in m.cards]

    def only(self) -> Message:
        assert len(self.messages) == 1, f"expected one message, got {self.messages}"
        return self.messages[0]


class _Feed:
    """Frames of one WebSocket in arrival order; a reader takes the first that matches."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.frames: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()

    async def pump(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        async for message in socket:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            async with self._changed:
                self.frames.append(json.loads(message.data))
                self._changed.notify_all()

    async def take(
        self, match: Callable[[dict[str, Any]], bool], within: float, what: str, diagnose: Callable[[], str]
    ) -> dict[str, Any]:
        frame, _ = await self.take_after(match, within, what, diagnose)
        return frame

    async def take_after(
        self, match: Callable[[dict[str, Any]], bool], within: float, what: str, diagnose: Callable[[], str]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The first frame that matches, and the frames that arrived before it and are still here."""
        found: list[dict[str, Any]] = []

        def ready() -> bool:
            found[:] = [f for f in self.frames if match(f)][:1]
            return bool(found)

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(ready), within)
            except TimeoutError:
                raise AssertionError(
                    f"{what}: nothing in {within:.0f} s on the playground's {self.name} stream.\n"
                    f"Unclaimed frames: {json.dumps(self.frames, ensure_ascii=False)[:3000]}\n{diagnose()}"
                ) from None
            index = next(i for i, f in enumerate(self.frames) if f is found[0])
            earlier = self.frames[:index]
            del self.frames[index]
            return found[0], earlier

    def clear(self) -> None:
        self.frames.clear()


class Playground:
    """One connection to a running playground, as its current user."""

    def __init__(self, url: str, config: dict[str, Any], diagnose: Callable[[], str] = lambda: "") -> None:
        self.url = url.rstrip("/")
        self.config = config
        self.diagnose = diagnose
        self.me: dict[str, Any] = config["currentUser"]
        self.users: list[dict[str, Any]] = config["users"]
        self.bot: dict[str, Any] = config["bot"]
        self.tenant_id: str = config["tenantId"]
        self.personal_chat: str = config["personalChat"]["id"]
        self.group_chat: str = config["groupChats"][0]["id"]
        team = config["teams"][0]
        self.team_id: str = team["id"]
        self.channels: dict[str, str] = {c["name"]: c["id"] for c in team["channels"]}
        self._http: aiohttp.ClientSession | None = None
        self._sockets: list[aiohttp.ClientWebSocketResponse] = []
        self._pumps: list[asyncio.Task[None]] = []
        self.conversation = _Feed("conversation")
        self.log = _Feed("log")

    # Connection -------------------------------------------------------------------------
    async def connect(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))
        ws_url = self.url.replace("http", "ws", 1)
        for feed, path in (
            (self.conversation, "/_ws_conversation/v1/conversations/stream"),
            (self.log, "/_ws/log/stream"),
        ):
            socket = await self._http.ws_connect(ws_url + path)
            self._sockets.append(socket)
            self._pumps.append(asyncio.create_task(feed.pump(socket)))

    async def close(self) -> None:
        for socket in self._sockets:
            await socket.close()
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        if self._http:
            await self._http.close()

    def forget(self) -> None:
        """Drop whatever the streams carried so far."""
        self.conversation.clear()
        self.log.clear()

    # The HTTP API -----------------------------------------------------------------------
    async def request(self, method: str, path: str, **kw: Any) -> Any:
        assert self._http is not None, "connect() first"
        async with self._http.request(method, self.url + path, **kw) as response:
            body = await response.text()
            assert response.status < 300, f"{method} {path}: {response.status} {body}"
            return json.loads(body) if body else None

    def user(self, name: str) -> dict[str, Any]:
        """A user of the playground's configuration, by display name."""
        for user in [self.me, *self.users]:
            if user["name"] == name:
                return user
        raise KeyError(name)

    async def say(self, text: str, conversation: str | None = None) -> Turn:
        """Type `text` as the current user; outside the personal chat it @mentions the bot."""
        conversation = conversation or self.personal_chat
        body: dict[str, Any] = {"from": {"id": self.me["id"]}, "text": text, "textFormat": "plain"}
        if conversation != self.personal_chat:
            mention = f"<at>{self.bot['name']}</at>"
            body["text"] = f"{mention} {text}"
            body["mentions"] = [{"mentioned": {"id": self.bot["id"]}, "text": mention}]
        sent = body["text"]
        await self.request("POST", f"/_conversation/v1/conversations/{conversation}/messages", json=body)
        return await self._turn(
            lambda a: top_level(a["conversation"]["id"]) == top_level(conversation) and a.get("text") == sent,
            f"the answer to {text!r}",
        )

    async def submit(self, message: Message, button: dict[str, Any], **inputs: Any) -> Turn:
        """Click `button` of `message`'s card with these input values, as the current user."""
        card = message.card
        assert button in buttons_of(card), "the button is not on the card"
        missing = set(inputs) - set(inputs_of(card))
        assert not missing, f"the card has no inputs {missing}"
        value = {**(button.get("data") or {}), **inputs}
        await self.request(
            "POST",
            "/_conversation/v1/submit",
            json={
                "conversation": {"id": message.conversation_id},
                "from": {"id": self.me["id"]},
                "replyToId": message.id,
                "value": value,
            },
        )
        return await self._turn(
            lambda a: a.get("replyToId") == message.id and a.get("value") == value,
            f"the answer to a click on {button.get('title')!r}",
        )

    async def execute(self, message: Message, button: dict[str, Any], **inputs: Any) -> dict[str, Any]:
        """Press the Action.Execute `button` of `message`'s card as the current user, with these
        input values: the playground sends the bot an `adaptiveCard/action` invoke and hands back
        the bot's answer (its type and value), which only this user sees."""
        assert button in buttons_of(message.card), "the button is not on the card"
        assert button["type"] == "Action.Execute", "not a Universal Actions button"
        missing = set(inputs) - set(inputs_of(message.card))
        assert not missing, f"the card has no inputs {missing}"
        data = {**(button.get("data") or {}), **inputs}
        action = {"type": "Action.Execute", "verb": button["verb"], "data": data}
        answer: dict[str, Any] = await self.request(
            "POST",
            "/_conversation/v1/invoke",
            json={
                "name": "adaptiveCard/action",
                "conversation": {"id": self.thread_of(message)},
                "from": {"id": self.me["id"]},
                "replyToId": message.id,
                "value": {"action": action, "trigger": "manual"},
            },
        )
        return answer

    def thread_of(self, message: Message) -> str:
        """Where a press on `message`'s card happens: a post that starts a thread in a channel is
        pressed in its thread (`<channel>;messageid=<post>`), as Teams names it."""
        conversation = message.conversation_id
        if conversation in self.channels.values() and ";messageid=" not in conversation:
            return f"{conversation};messageid={message.id}"
        return conversation

    async def template(self, conversation: str, kind: str | None = None) -> dict[str, Any]:
        """The playground's custom activity template: install, botAdded, userAdded, ... or, without
        a kind, the common fields of any activity in `conversation`."""
        params = {"conversationId": conversation, **({"type": kind} if kind else {})}
        template: dict[str, Any] = await self.request(
            "GET", "/_internal/v1/customActivities/template", params=params
        )
        return template

    async def send(self, activity: dict[str, Any]) -> Turn:
        """Deliver `activity` to the bot as it is (a custom activity)."""
        await self.request("POST", "/_internal/v1/customActivities", json=activity)
        return await self._turn(lambda a: a.get("id") == activity["id"], f"the answer to {activity['type']}")

    async def install(self, conversation: str | None = None) -> Turn:
        """Add the bot to a chat or a team channel: the conversationUpdate Teams sends."""
        return await self.send(await self.template(conversation or self.personal_chat, "botAdded"))

    async def open_personal_chat(self, user: dict[str, Any]) -> str:
        """A personal chat between the bot and another user, opened as the Bot Connector would.
        The playground shows its messages only in its log."""
        conversation = await self.request(
            "POST",
            "/_connector/v3/conversations",
            json={
                "bot": {"id": self.bot["id"]},
                "members": [{"id": user["id"]}],
                "isGroup": False,
                "tenantId": self.tenant_id,
                "channelData": {"tenant": {"id": self.tenant_id}},
            },
        )
        return str(conversation["id"])

    async def message_from(
        self,
        user: dict[str, Any],
        conversation: str,
        *,
        text: str | None = None,
        value: dict[str, Any] | None = None,
        reply_to_id: str | None = None,
        locale: str = "sv-SE",
    ) -> dict[str, Any]:
        """A message activity from `user`, as a Teams client with `locale` sends it. (The playground's
        own chat box always sends en-US and always as the current user.)"""
        activity = await self.template(conversation)
        activity.update(
            type="message",
            locale=locale,
            textFormat="plain",
            **({"text": text} if text is not None else {}),
            **({"value": value} if value is not None else {}),
            **({"replyToId": reply_to_id} if reply_to_id else {}),
        )
        activity["from"] = {"id": user["id"], "aadObjectId": user["aadObjectId"], "name": user["name"]}
        activity["channelData"] = {"tenant": {"id": self.tenant_id}}
        activity["entities"] = [{"type": "clientInfo", "locale": locale, "country": "SE", "platform": "Web"}]
        return activity

    # What the bot does on its own -------------------------------------------------------
    async def proactive(
        self, match: Callable[[Message], bool], within: float = TIMEOUT, *, action: str = "createMessage"
    ) -> Message:
        """The next message the bot posts outside any turn of the current user that matches; with
        action="updateMessage", the next card it replaces in place on its own."""
        frame = await self.conversation.take(
            lambda f: f.get("action") == action and match(Message.from_frame(f)),
            within,
            f"a message the bot {'posts' if action == 'createMessage' else 'updates'} on its own",
            self.diagnose,
        )
        return Message.from_frame(frame)

    async def sent_elsewhere(self, match: Callable[[Sent], bool], within: float = TIMEOUT) -> Sent:
        """The next activity the bot sends to another user's chat outside a turn that matches."""
        frame = await self.log.take(
            lambda f: self._is_bot_message(f) and not self._visible(f) and match(Sent.from_log(f["log"])),
            within,
            "an activity the bot sends on its own",
            self.diagnose,
        )
        return Sent.from_log(frame["log"])

    # Turns ------------------------------------------------------------------------------
    def _visible(self, frame: dict[str, Any]) -> bool:
        """Whether the current user is in the chat: only then the conversation stream shows it."""
        conversation = top_level(frame["log"]["request"]["body"]["conversation"]["id"])
        return conversation in {self.personal_chat, self.group_chat, *self.channels.values()}

    @staticmethod
    def _is_bot_message(frame: dict[str, Any]) -> bool:
        log = frame.get("log") or {}
        return (
            log.get("from") == BOT_APP
            and log.get("activityName") == "message"
            and 200 <= log.get("response", {}).get("statusCode", 0) < 300
            and bool((log["response"].get("body") or {}).get("id"))
        )

    async def _turn(self, delivered: Callable[[dict[str, Any]], bool], what: str) -> Turn:
        def answered(frame: dict[str, Any]) -> bool:
            log = frame.get("log") or {}
            return (
                log.get("from") == PLAYGROUND
                and log.get("to") == BOT_APP
                and delivered(log["request"]["body"])
            )

        answer_frame, earlier = await self.log.take_after(answered, TIMEOUT, what, self.diagnose)
        answer = answer_frame["log"]
        activity = answer["request"]["body"]
        turn = Turn(
            status=answer["response"]["statusCode"], activity=activity, body=answer["response"].get("body")
        )

        def ours(frame: dict[str, Any]) -> bool:
            if not self._is_bot_message(frame):
                return False
            sent = frame["log"]["request"]["body"]
            if "replyToId" in sent:
                return bool(sent["replyToId"] == activity["id"])
            # Replies to a conversationUpdate name no activity (botbuilder leaves replyToId out).
            return activity["type"] == "conversationUpdate" and top_level(
                sent["conversation"]["id"]
            ) == top_level(activity["conversation"]["id"])

        for frame in [f for f in earlier if ours(f)]:
            self.log.frames.remove(frame)
            if not self._visible(frame):
                turn.elsewhere.append(Sent.from_log(frame["log"]))
                continue
            message_id = str(frame["log"]["response"]["body"]["id"])
            shown = await self.conversation.take(
                lambda f, message_id=message_id: str(f.get("message", {}).get("messageId")) == message_id,
                TIMEOUT,
                f"message {message_id} of {what}",
                self.diagnose,
            )
            turn.messages.append(Message.from_frame(shown))
        return turn
