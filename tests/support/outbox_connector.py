"""The fake Bot Connector, plus what the outbox tests need: the time of every activity request on
the test's clock, and answers held back after a message was accepted (Teams took it, but the
answer is slow or lost with the process that waited for it)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from tests.support.connector import FakeConnector


@dataclass
class Hold:
    text: str
    seconds: float


@dataclass
class Stamp:
    method: str
    conversation_id: str
    at: float


@dataclass
class OutboxConnector(FakeConnector):
    stamp: Callable[[], float] | None = None
    stamps: list[Stamp] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    _released: bool = False
    _holding: int = 0

    def hold(self, text: str, *, seconds: float) -> None:
        """Accept and record the next activity whose text contains `text` (with "", the next
        activity at all), then answer only after `seconds` (or when the test releases it)."""
        with self._lock:
            self.holds.append(Hold(text, seconds))
            self._released = False

    def holding(self) -> int:
        """How many accepted activities are waiting for their answer now."""
        with self._lock:
            return self._holding

    def release(self) -> None:
        """Answer every held request now."""
        with self._lock:
            self.holds.clear()
            self._released = True

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults.clear()
            self.stamps.clear()
            self.holds.clear()
            self._released = True
            self.stamp = None

    def texts(self, conversation_id: str | None = None) -> list[str]:
        return [activity.get("text") or "" for activity in self.sent(conversation_id)]

    def stamps_of(self, conversation_id: str | None = None) -> list[float]:
        with self._lock:
            return [
                s.at for s in self.stamps if conversation_id is None or s.conversation_id == conversation_id
            ]

    def _take_hold(self, text: str) -> Hold | None:
        with self._lock:
            for hold in self.holds:
                if hold.text in text:
                    self.holds.remove(hold)
                    return hold
        return None

    async def _activity(self, request: web.Request) -> web.Response:
        if self.stamp is not None:
            moment = self.stamp()
            with self._lock:
                self.stamps.append(Stamp(request.method, request.match_info["conversation_id"], moment))
        response = await super()._activity(request)
        if response.status < 300 and request.body_exists:
            body = await request.json()
            hold = self._take_hold(str(body.get("text") or ""))
            if hold is not None:
                with self._lock:
                    self._holding += 1
                try:
                    for _ in range(math.ceil(hold.seconds / 0.05)):
                        if self._released:
                            break
                        await asyncio.sleep(0.05)
                finally:
                    with self._lock:
                        self._holding -= 1
        return response
