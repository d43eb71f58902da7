"""Telemetry: OpenTelemetry metrics, exported to Azure Monitor (Application Insights) when
APPLICATIONINSIGHTS_CONNECTION_STRING is set, and off otherwise. Azure Monitor's distribution also
sends the log lines (which name ids, never texts: bot.logs) and traces of outgoing HTTP calls.

The instruments are made once, here, through the OpenTelemetry API: until a provider is configured
they record nothing and cost next to nothing, and `configure` installs Azure Monitor's. They carry
ids of kinds and outcomes only, never what anyone wrote.

- `forumbot.turn.duration` (ms): a turn, from the activity's arrival to the answer; by activity type
  and HTTP status.
- `forumbot.outbox.depth`, `forumbot.outbox.oldest_age` (s), `forumbot.outbox.dead`: queued
  messages, how long the oldest has waited, dead letters waiting for an administrator; sampled
  from the database every `SAMPLE_SECONDS` by each process.
- `forumbot.outbox.dead_letters`: entries that became dead letters, by reason.
- `forumbot.teams.throttled`: 429 answers from Teams to the outbox.
- `forumbot.schedule.tasks`: scheduled tasks done, by kind and outcome (a meeting reminder's
  outcome is `on_time`, `late`, `missed` or `skipped`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

log = logging.getLogger(__name__)

SAMPLE_SECONDS = 30.0
SERVICE_NAME = "forumbot"

_meter = metrics.get_meter("forumbot")

TURN_DURATION = _meter.create_histogram(
    "forumbot.turn.duration", unit="ms", description="A turn, from the activity's arrival to the answer"
)
DEAD_LETTERS = _meter.create_counter(
    "forumbot.outbox.dead_letters", description="Outbox entries that became dead letters, by reason"
)
THROTTLED = _meter.create_counter(
    "forumbot.teams.throttled", description="429 (Too Many Requests) answers from Teams to the outbox"
)
TASKS = _meter.create_counter(
    "forumbot.schedule.tasks", description="Scheduled tasks done, by kind and outcome"
)


@dataclass
class OutboxSample:
    """The outbox as last sampled from the database."""

    queued: int = 0
    oldest_age_seconds: float = 0.0
    dead: int = 0
    at: datetime | None = None


latest = OutboxSample()


def _observe(value: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def callback(_: CallbackOptions) -> Iterable[Observation]:
        if latest.at is not None:
            yield Observation(getattr(latest, value))

    return callback


_meter.create_observable_gauge(
    "forumbot.outbox.depth", callbacks=[_observe("queued")], description="Messages queued to be sent"
)
_meter.create_observable_gauge(
    "forumbot.outbox.oldest_age",
    callbacks=[_observe("oldest_age_seconds")],
    unit="s",
    description="How long the oldest queued message has waited",
)
_meter.create_observable_gauge(
    "forumbot.outbox.dead",
    callbacks=[_observe("dead")],
    description="Dead letters waiting for an administrator",
)


def configure(connection_string: str) -> bool:
    """Export to Azure Monitor if there is a connection string (APPLICATIONINSIGHTS_CONNECTION_STRING);
    True if so. Once per process."""
    if not connection_string:
        return False
    from azure.monitor.opentelemetry import configure_azure_monitor
    from opentelemetry.sdk.resources import Resource

    configure_azure_monitor(
        connection_string=connection_string,
        resource=Resource.create({"service.name": SERVICE_NAME}),
        # what cannot be sent now is dropped, not kept in files inside the container
        disable_offline_storage=True,
    )
    log.info("telemetry exported to Azure Monitor")
    return True
