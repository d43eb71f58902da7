"""Services: each capability's rules applied inside the caller's unit of work."""

from __future__ import annotations

from bot.services.inspections import inspection_handlers
from bot.services.meetings import reminder_handlers
from bot.services.polls import poll_handlers
from bot.services.reports import report_handlers
from bot.services.schedule import TaskHandler
from bot.settings import Settings


def task_handlers(settings: Settings) -> dict[str, TaskHandler]:
    """The scheduled tasks this version knows, by kind; each capability adds its own."""
    return {
        **reminder_handlers(settings),
        **report_handlers(settings),
        **poll_handlers(settings),
        **inspection_handlers(settings),
    }
