"""Database tables, one module per capability. Repositories read and write these; nothing above
storage imports them directly."""

from bot.storage.models.audit import AuditEntry
from bot.storage.models.base import Base, BigId, UtcDateTime
from bot.storage.models.bot_state import BotStateRow, ProcessedActivity
from bot.storage.models.card_copies import CardCopy
from bot.storage.models.forms import Form
from bot.storage.models.inspections import Inspection, InspectionEvent, InspectionPart
from bot.storage.models.meetings import Meeting, MeetingEvent, MeetingSeries, StatusReport, StatusReportEvent
from bot.storage.models.membership import Agency, ChannelLink, Member
from bot.storage.models.outbox import OutboxMessage
from bot.storage.models.polls import Poll, PollBallot, PollOption
from bot.storage.models.proposals import Proposal, ProposalEvent
from bot.storage.models.schedule import ScheduledTask

__all__ = [
    "Agency",
    "AuditEntry",
    "Base",
    "BigId",
    "BotStateRow",
    "CardCopy",
    "ChannelLink",
    "Form",
    "Inspection",
    "InspectionEvent",
    "InspectionPart",
    "Meeting",
    "MeetingEvent",
    "MeetingSeries",
    "Member",
    "OutboxMessage",
    "Poll",
    "PollBallot",
    "PollOption",
    "ProcessedActivity",
    "Proposal",
    "ProposalEvent",
    "ScheduledTask",
    "StatusReport",
    "StatusReportEvent",
    "UtcDateTime",
]
