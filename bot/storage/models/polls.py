"""Quick polls, their options and their ballots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, PrimaryKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, BigId


class Poll(Base):
    """A question to the forum (`agency_id` None: every member, in the forum channel) or to one
    agency's members, open until its deadline or until it is closed. An attendance poll (`kind`)
    is the bot's own, one per meeting (`meeting_id`), with no member as its maker.

    `version` counts what changed on it (a ballot, closing, reopening); `shown_version` is what its
    posted cards show, brought up to date by the card refresher at most once a second.
    """

    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # quick | attendance (bot.domain.polls.PollKind)
    kind: Mapped[str] = mapped_column(String(16), default="quick", server_default="quick")
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    question: Mapped[str] = mapped_column(String(300))
    multiple: Mapped[bool]
    anonymous: Mapped[bool]
    live: Mapped[bool]  # results shown while open; else only once closed
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # None: the bot
    creator_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    deadline: Mapped[datetime]
    # open | closed (bot.domain.polls.PollStatus)
    status: Mapped[str] = mapped_column(String(16))
    # an anonymous poll's key to its ballots while it is open; NULL once closed (and for named polls)
    secret: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    version: Mapped[int] = mapped_column(default=1)
    shown_version: Mapped[int] = mapped_column(default=0)
    refreshed_at: Mapped[datetime | None]
    eligible_count: Mapped[int | None]  # how many could vote, as it stood at closing
    form_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # an attendance poll: the start of its meeting when its card was last posted in the channel
    # (with the meeting's first reminder; again once the meeting has moved)
    announced_for: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("form_token", name="uq_polls_form_token"),
        UniqueConstraint("meeting_id", name="uq_polls_meeting"),
    )


class PollOption(Base):
    __tablename__ = "poll_options"

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id"))
    position: Mapped[int]  # 0-based, as on the card
    text: Mapped[str] = mapped_column(String(120))

    __table_args__ = (PrimaryKeyConstraint("poll_id", "position", name="pk_poll_options"),)


class PollBallot(Base):
    """One member's answer to one poll: the primary key (poll, voter) is the rule "one ballot per
    member and poll". A named ballot's voter is `member:<id>` with `member_id` set; an anonymous
    one's is an HMAC of the member's id under the poll's secret, with no member, no time and no
    sequence number beside it, so that nothing in the table orders or dates it."""

    __tablename__ = "poll_ballots"

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id"))
    voter: Mapped[str] = mapped_column(String(64))
    choices: Mapped[int]  # bit i set: option i chosen
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # an attendance ballot's "Skickar ersättare": the substitute's name (never on an anonymous poll)
    note: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (PrimaryKeyConstraint("poll_id", "voter", name="pk_poll_ballots"),)
