"""Logging: one JSON object a line in production, readable lines in development.

Each line carries what it concerns as ids (the activity, the conversation, the outbox entry, the
scheduled task), set with `log_context` where the work starts and inherited by everything logged
inside it, in the same task or the tasks it starts. Nothing anyone wrote belongs in a log: the log
calls name ids and outcomes, never texts or cards, and the JSON lines leave out the message of a
logged exception (which may quote an input) and keep its type and where it was raised.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The fields a line may carry besides time, level, logger and message.
CONTEXT_FIELDS = ("activity_id", "conversation_id", "outbox_entry_id", "task_id", "task_kind")

_context: ContextVar[dict[str, str] | None] = ContextVar("forumbot_log_context", default=None)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Everything logged inside carries these fields (None leaves a field out)."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"unknown log context fields: {', '.join(sorted(unknown))}")
    added = {key: str(value) for key, value in fields.items() if value is not None}
    token = _context.set({**(_context.get() or {}), **added})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, str]:
    return dict(_context.get() or {})


class _WithContext(logging.Filter):
    """Copies the context onto the record where it is made (a handler may format it elsewhere)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "forumbot"):
            record.forumbot = current_context()
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the context's ids, and for an
    exception its type and stack without its message."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "forumbot", None) or {})
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, trace = record.exc_info
            line["exception"] = kind.__name__
            line["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(trace)
            ]
        return json.dumps(line, ensure_ascii=False)


class Text(logging.Formatter):
    """Development: the usual line, with the context's ids after it."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = getattr(record, "forumbot", None) or {}
        if not context:
            return text
        ids = " ".join(f"{key}={value}" for key, value in context.items())
        first, newline, rest = text.partition("\n")
        return f"{first} [{ids}]{newline}{rest}"


def handler(json_lines: bool, stream: Any = None) -> logging.Handler:
    """A handler writing JSON lines or text, with the context's ids, to `stream` (standard error)."""
    made = logging.StreamHandler(stream if stream is not None else sys.stderr)
    made.setFormatter(JsonLines() if json_lines else Text())
    made.addFilter(_WithContext())
    return made


def configure(json_lines: bool, level: int = logging.INFO) -> None:
    """Every log line to standard error, as JSON lines or text; replaces what an earlier call set
    up. Like logging.basicConfig it leaves alone a process whose logging someone else configured
    (a test runner, an embedding program)."""
    # Every second's outbox run, migration plugins and botbuilder's unknown-field notes are noise,
    # and the Azure SDK (telemetry's exporter) logs every request it makes at INFO.
    for name in ("apscheduler", "alembic", "azure"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("msrest.serialization").setLevel(logging.ERROR)
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "forumbot", False)]
    if len(ours) < len(root.handlers):
        return
    for old in ours:
        root.removeHandler(old)
    made = handler(json_lines)
    made.forumbot = True  # type: ignore[attr-defined]
    root.addHandler(made)
    root.setLevel(level)
