"""Repository of quick polls, their options and ballots. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.polls import PollDraft, PollKind, PollStatus, poll_audience
from bot.domain.visibility import Audience
from bot.storage.common import dialect, insert_for, now
from bot.storage.models import Member, Poll, PollBallot, PollOption


@dataclass(frozen=True)
class PollView:
    """A poll as its cards and rules need it; its secret is never part of it."""

    id: int
    question: str
    options: tuple[str, ...]
    multiple: bool
    anonymous: bool
    live: bool
    agency_id: int | None  # None: every member
    created_by: int | None  # None: the bot (an attendance poll)
    creator_agency_id: int
    deadline: datetime
    status: PollStatus
    version: int
    eligible_count: int | None
    closed_at: datetime | None
    kind: PollKind = PollKind.QUICK
    meeting_id: int | None = None  # an attendance poll's meeting
    announced_for: datetime | None = None

    @property
    def audience(self) -> Audience:
        return poll_audience(self.agency_id, self.created_by, self.creator_agency_id)

    @property
    def open(self) -> bool:
        return self.status is PollStatus.OPEN

    @property
    def forum_wide(self) -> bool:
        return self.agency_id is None

    @property
    def attendance(self) -> bool:
        return self.kind is PollKind.ATTENDANCE


@dataclass(frozen=True)
class AnswerRow:
    """A named ballot with its member: who answered what (and, on an attendance poll, whom they
    send in their place)."""

    member_id: int
    name: str
    agency_id: int
    choices: int
    note: str | None


def _view(row: Poll, options: Sequence[str]) -> PollView:
    return PollView(
        row.id,
        row.question,
        tuple(options),
        row.multiple,
        row.anonymous,
        row.live,
        row.agency_id,
        row.created_by,
        row.creator_agency_id,
        row.deadline,
        PollStatus(row.status),
        row.version,
        row.eligible_count,
        row.closed_at,
        PollKind(row.kind),
        row.meeting_id,
        row.announced_for,
    )


NAME_SEPARATOR = "\x1f"  # ASCII unit separator


class Polls:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _options(self, poll_id: int) -> list[str]:
        rows = await self.session.scalars(
            select(PollOption.text).where(PollOption.poll_id == poll_id).order_by(PollOption.position)
        )
        return list(rows)

    async def _of(self, row: Poll | None) -> PollView | None:
        return _view(row, await self._options(row.id)) if row is not None else None

    async def add(
        self,
        draft: PollDraft,
        *,
        agency_id: int | None,
        created_by: int,
        creator_agency_id: int,
        secret: bytes | None,
        form_token: str | None,
    ) -> PollView:
        moment = now()
        row = Poll(
            question=draft.question,
            multiple=draft.multiple,
            anonymous=draft.anonymous,
            live=draft.live,
            agency_id=agency_id,
            created_by=created_by,
            creator_agency_id=creator_agency_id,
            deadline=draft.deadline,
            status=PollStatus.OPEN.value,
            secret=secret,
            version=1,
            shown_version=0,
            form_token=form_token,
            created_at=moment,
        )
        self.session.add(row)
        await self.session.flush()
        for position, text in enumerate(draft.options):
            self.session.add(PollOption(poll_id=row.id, position=position, text=text))
        await self.session.flush()
        return _view(row, draft.options)

    async def add_attendance(
        self,
        *,
        meeting_id: int,
        owner_agency_id: int,
        question: str,
        options: Sequence[str],
        deadline: datetime,
    ) -> PollView:
        """The meeting's attendance poll, made unless it exists: one per meeting, by a unique
        constraint, also when two processes make it at once."""
        moment = now()
        inserted = await self.session.execute(
            insert_for(self.session)(Poll)
            .values(
                kind=PollKind.ATTENDANCE.value,
                meeting_id=meeting_id,
                question=question,
                multiple=False,
                anonymous=False,
                live=True,
                agency_id=None,
                created_by=None,
                creator_agency_id=owner_agency_id,
                deadline=deadline,
                status=PollStatus.OPEN.value,
                version=1,
                shown_version=0,
                created_at=moment,
            )
            .on_conflict_do_nothing(index_elements=["meeting_id"])
            .returning(Poll.id)
        )
        made = inserted.scalar()
        if made is not None:
            for position, text in enumerate(options):
                self.session.add(PollOption(poll_id=made, position=position, text=text))
            await self.session.flush()
        found = await self.of_meeting(meeting_id)
        assert found is not None
        return found

    async def of_meeting(self, meeting_id: int) -> PollView | None:
        row = await self.session.scalar(
            select(Poll).where(Poll.meeting_id == meeting_id).execution_options(populate_existing=True)
        )
        return await self._of(row)

    async def move_deadline(self, poll_id: int, deadline: datetime) -> bool:
        """An open poll's deadline moved (its meeting did); its cards are brought up to date."""
        result = await self.session.execute(
            update(Poll)
            .where(Poll.id == poll_id, Poll.status == PollStatus.OPEN.value)
            .values(deadline=deadline, version=Poll.version + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def announced(self, poll_id: int, starts_at: datetime) -> None:
        await self.session.execute(
            update(Poll)
            .where(Poll.id == poll_id)
            .values(announced_for=starts_at)
            .execution_options(synchronize_session=False)
        )

    async def get(self, poll_id: int) -> PollView | None:
        return await self._of(await self.session.get(Poll, poll_id, populate_existing=True))

    async def by_form_token(self, token: str) -> PollView | None:
        return await self._of(await self.session.scalar(select(Poll).where(Poll.form_token == token)))

    async def secret(self, poll_id: int) -> bytes | None:
        value: bytes | None = await self.session.scalar(select(Poll.secret).where(Poll.id == poll_id))
        return value

    async def recent(self, since: datetime, limit: int) -> list[PollView]:
        """Open polls, and those closed since `since`, newest first."""
        rows = await self.session.scalars(
            select(Poll)
            .where(or_(Poll.status == PollStatus.OPEN.value, Poll.closed_at >= since))
            .order_by(Poll.id.desc())
            .limit(limit)
        )
        return [_view(row, await self._options(row.id)) for row in rows]

    # Ballots -----------------------------------------------------------------------------
    async def hold_open(self, poll_id: int, moment: datetime) -> int | None:
        """Lock the poll for a ballot, if it is open and its deadline ahead, and count the change
        for its cards; returns its new version, or None when it is closed. Taken before the ballot
        is written, so that a close waits for the ballot (or the ballot for the close, and then
        finds the poll closed)."""
        version: int | None = await self.session.scalar(
            update(Poll)
            .where(Poll.id == poll_id, Poll.status == PollStatus.OPEN.value, Poll.deadline > moment)
            .values(version=Poll.version + 1)
            .returning(Poll.version)
            .execution_options(synchronize_session=False)
        )
        return version

    async def cast(
        self, poll_id: int, voter: str, choices: int, member_id: int | None, note: str | None = None
    ) -> None:
        """The voter's ballot, new or changed: one per voter and poll, by the primary key."""
        statement = (
            insert_for(self.session)(PollBallot)
            .values(poll_id=poll_id, voter=voter, choices=choices, member_id=member_id, note=note)
            .on_conflict_do_update(
                index_elements=["poll_id", "voter"], set_={"choices": choices, "note": note}
            )
        )
        await self.session.execute(statement)

    async def ballot(self, poll_id: int, voter: str) -> int | None:
        choices: int | None = await self.session.scalar(
            select(PollBallot.choices).where(PollBallot.poll_id == poll_id, PollBallot.voter == voter)
        )
        return choices

    async def ballots(self, poll_id: int) -> dict[str, int]:
        """Every ballot's voter and choices."""
        rows = await self.session.execute(
            select(PollBallot.voter, PollBallot.choices).where(PollBallot.poll_id == poll_id)
        )
        return {voter: choices for voter, choices in rows}

    async def close(self, poll_id: int, *, by: int | None, eligible: int, moment: datetime) -> bool:
        """Close an open poll and destroy its secret; False when it was closed already."""
        result = await self.session.execute(
            update(Poll)
            .where(Poll.id == poll_id, Poll.status == PollStatus.OPEN.value)
            .values(
                status=PollStatus.CLOSED.value,
                secret=None,
                closed_at=moment,
                closed_by=by,
                eligible_count=eligible,
                version=Poll.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def reopen(self, poll_id: int, moment: datetime) -> bool:
        """Open a closed named poll again before its deadline; False otherwise. An anonymous poll's
        secret is gone with its closing, and with it any way to know whose ballot is whose."""
        result = await self.session.execute(
            update(Poll)
            .where(
                Poll.id == poll_id,
                Poll.status == PollStatus.CLOSED.value,
                Poll.anonymous.is_(False),
                Poll.deadline > moment,
            )
            .values(
                status=PollStatus.OPEN.value,
                closed_at=None,
                closed_by=None,
                eligible_count=None,
                version=Poll.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    # The card refresher ------------------------------------------------------------------
    async def take_changed(self, refreshed_before: datetime, limit: int) -> list[PollView]:
        """Polls whose cards show an older state and were last refreshed before
        `refreshed_before`, locked until this transaction ends: a second process waits, and then
        finds them refreshed."""
        statement = (
            select(Poll)
            .where(
                Poll.version > Poll.shown_version,
                or_(Poll.refreshed_at.is_(None), Poll.refreshed_at <= refreshed_before),
            )
            .order_by(Poll.id)
            .limit(limit)
        )
        if dialect(self.session) == "postgresql":
            statement = statement.with_for_update()
        rows = list(await self.session.scalars(statement.execution_options(populate_existing=True)))
        return [_view(row, await self._options(row.id)) for row in rows]

    async def any_changed(self) -> bool:
        """Whether any poll's cards show an older state (a cheap look before taking any lock)."""
        found = await self.session.scalar(select(Poll.id).where(Poll.version > Poll.shown_version).limit(1))
        return found is not None

    async def shown(self, poll_id: int, version: int, moment: datetime) -> None:
        await self.session.execute(
            update(Poll)
            .where(Poll.id == poll_id)
            .values(shown_version=version, refreshed_at=moment)
            .execution_options(synchronize_session=False)
        )

    async def tally(self, poll_id: int, count: int) -> tuple[int, list[int]]:
        """How many have answered, and the votes per option, counted in the database."""
        columns = [
            func.coalesce(func.sum(case((PollBallot.choices.op("&")(1 << i) != 0, 1), else_=0)), 0)
            for i in range(count)
        ]
        row = (
            await self.session.execute(
                select(func.count(), *columns).select_from(PollBallot).where(PollBallot.poll_id == poll_id)
            )
        ).one()
        return int(row[0]), [int(value) for value in row[1:]]

    async def named_groups(self, poll_id: int) -> list[tuple[int, int, list[str]]]:
        """A named poll's ballots grouped by what was chosen: the choices, how many chose them,
        and their names (in no order). One row per distinct choice, however many voted: the
        names are joined in the database under a control character as separator (a name holding
        one would show as two names; the counts do not depend on it)."""
        rows = await self.session.execute(
            select(
                PollBallot.choices,
                func.count(),
                func.aggregate_strings(Member.name, NAME_SEPARATOR),
            )
            .join(Member, Member.id == PollBallot.member_id)
            .where(PollBallot.poll_id == poll_id)
            .group_by(PollBallot.choices)
        )
        return [
            (int(choices), int(count), str(names).split(NAME_SEPARATOR) if names else [])
            for choices, count, names in rows
        ]

    async def named_ballots(self, poll_id: int) -> dict[int, int]:
        """A named poll's ballots by member id."""
        rows = await self.session.execute(
            select(PollBallot.member_id, PollBallot.choices).where(
                PollBallot.poll_id == poll_id, PollBallot.member_id.is_not(None)
            )
        )
        return {int(member_id): int(choices) for member_id, choices in rows if member_id is not None}

    async def named_rows(self, poll_id: int) -> list[tuple[str, int, int]]:
        """A named poll's voters by name, with their agency and choices."""
        rows = await self.session.execute(
            select(Member.name, Member.agency_id, PollBallot.choices)
            .join(Member, Member.id == PollBallot.member_id)
            .where(PollBallot.poll_id == poll_id)
            .order_by(Member.name)
        )
        return [(str(name), int(agency), int(choices)) for name, agency, choices in rows]

    async def answers(self, poll_id: int) -> list[AnswerRow]:
        """A named poll's ballots with their members, by name."""
        rows = await self.session.execute(
            select(Member.id, Member.name, Member.agency_id, PollBallot.choices, PollBallot.note)
            .join(Member, Member.id == PollBallot.member_id)
            .where(PollBallot.poll_id == poll_id)
            .order_by(Member.name, Member.id)
        )
        return [
            AnswerRow(int(member_id), str(name), int(agency), int(choices), note)
            for member_id, name, agency, choices, note in rows
        ]
