"""Pacing of proactive sends under Teams' rate limits, and the retry schedule.

Everything here is a pure function of the times it is given: no clock is read and nothing sleeps,
so that the rules are tested as functions of time and the worker injects its own clock and sleep.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class Window:
    """At most `limit` sends in any `seconds` long stretch of time (a sliding window)."""

    limit: int
    seconds: float


# Teams' limits per bot and conversation ("thread"): 7 a second, 8 in 2 s, 60 in 30 s, 1800 an hour.
TEAMS_CONVERSATION_WINDOWS: tuple[Window, ...] = (
    Window(7, 1.0),
    Window(8, 2.0),
    Window(60, 30.0),
    Window(1800, 3600.0),
)


def rate_window(per_second: float) -> Window:
    """The window that allows `per_second` sends a second on average, in bursts of at most
    max(1, per_second): 20 → 20 in 1 s, 0.5 → 1 in 2 s, 2.5 → 2 in 0.8 s."""
    if per_second <= 0:
        raise ValueError("a rate must be positive")
    limit = max(1, math.floor(per_second))
    return Window(limit, limit / per_second)


def wait_for(history: Sequence[float], windows: Iterable[Window], now: float) -> float:
    """Seconds from `now` until one more send fits every window, given the earlier send times
    `history` (ascending). A send at t counts in a window while now - seconds < t."""
    wait = 0.0
    for window in windows:
        first_inside = bisect_right(history, now - window.seconds)
        inside = len(history) - first_inside
        if inside >= window.limit:
            # the send that has to leave the window before one more fits
            leaving = history[first_inside + inside - window.limit]
            wait = max(wait, leaving + window.seconds - now)
    return wait


@dataclass
class Pacer:
    """Remembers when sends were made and says how long the next one to a conversation must wait.

    Times are seconds on any steady clock (the worker's monotonic clock, a fake one in tests).
    """

    conversation_windows: tuple[Window, ...] = TEAMS_CONVERSATION_WINDOWS
    global_windows: tuple[Window, ...] = ()
    _sent: dict[str, deque[float]] = field(default_factory=dict)
    _all: deque[float] = field(default_factory=deque)
    _held: dict[str, float] = field(default_factory=dict)

    @classmethod
    def for_teams(cls, global_rate: float | None = None) -> Pacer:
        """Teams' per-conversation limits, and at most `global_rate` sends a second in all."""
        return cls(global_windows=(rate_window(global_rate),) if global_rate else ())

    def wait(self, conversation_id: str, now: float) -> float:
        """Seconds to wait before sending to `conversation_id`; 0 when a send may go now."""
        wait = max(0.0, self._held.get(conversation_id, now) - now)
        wait = max(wait, wait_for(self._sent.get(conversation_id, ()), self.conversation_windows, now))
        return max(wait, wait_for(self._all, self.global_windows, now))

    def record(self, conversation_id: str, now: float) -> None:
        """A send (successful or not: every request counts against Teams' limits) began at `now`."""
        self._forget_before(now)
        self._sent.setdefault(conversation_id, deque()).append(now)
        self._all.append(now)

    def hold(self, conversation_id: str, until: float) -> None:
        """Nothing goes to `conversation_id` before `until` (Teams said so with a Retry-After)."""
        self._held[conversation_id] = max(until, self._held.get(conversation_id, until))

    def _forget_before(self, now: float) -> None:
        longest = max((w.seconds for w in self.conversation_windows), default=0.0)
        for conversation_id in list(self._sent):
            sent = self._sent[conversation_id]
            while sent and sent[0] <= now - longest:
                sent.popleft()
            if not sent:
                del self._sent[conversation_id]
        longest_global = max((w.seconds for w in self.global_windows), default=0.0)
        while self._all and self._all[0] <= now - longest_global:
            self._all.popleft()
        for conversation_id, until in list(self._held.items()):
            if until <= now:
                del self._held[conversation_id]


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """A Retry-After header in seconds from `now`: delay-seconds or an HTTP-date; None if absent
    or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # an HTTP-date is always GMT
            moment = moment.replace(tzinfo=now.tzinfo)
        return max(0.0, (moment - now).total_seconds())
    return max(0.0, seconds) if math.isfinite(seconds) else None


@dataclass(frozen=True)
class RetrySchedule:
    """Exponential backoff with jitter: attempt n waits between half and all of
    min(cap, base * 2**(n-1)) seconds, and never less than the server's Retry-After
    (itself capped at `max_retry_after`, so that a wild header cannot park an entry for days)."""

    base: float = 2.0
    cap: float = 900.0
    max_retry_after: float = 3600.0

    def delay(self, attempt: int, retry_after: float | None, jitter: float) -> float:
        """Seconds before attempt `attempt` + 1; `jitter` is a number in [0, 1)."""
        backoff = min(self.cap, self.base * 2.0 ** max(0, attempt - 1)) * (0.5 + jitter / 2)
        if retry_after is None:
            return backoff
        return max(backoff, min(retry_after, self.max_retry_after))
