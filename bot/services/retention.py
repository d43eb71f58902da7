"""Retention: what the rule (FORUMBOT_RETENTION_MONTHS) would remove, listed for an administrator,
and removed only once they confirm that very list. Every removal is audited (its kind, number and
the rule; never its content).

Public records (allmänna handlingar) may have to be kept whatever the rule says (see the README):
that is why retention is an administrator's decision, not a job that runs by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from dateutil.relativedelta import relativedelta
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from bot.storage.audit import Audit
from bot.storage.retention import KINDS, Candidates, Retention

REMOVED = "retention.removed"
__all__ = ["KINDS", "REMOVED", "Candidates", "Outcome", "Removal", "RetentionService"]


class Outcome(StrEnum):
    REMOVED = "removed"
    CHANGED = "changed"  # the list is no longer what was confirmed
    NO_RULE = "no_rule"


@dataclass(frozen=True)
class Removal:
    outcome: Outcome
    removed: int
    candidates: Candidates | None


class RetentionService:
    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.session = session
        self.settings = settings
        self.clock = clock
        self.repo = Retention(session)

    @property
    def months(self) -> int:
        return self.settings.retention_months

    def cutoff(self) -> datetime:
        return self.clock() - relativedelta(months=self.months)

    async def candidates(self) -> Candidates | None:
        """What the rule would remove now; None when there is no rule."""
        if self.months <= 0:
            return None
        return await self.repo.candidates(self.cutoff())

    async def remove(
        self, digest: str, *, actor_id: int | None, actor_aad_id: str | None, by: str = "chat"
    ) -> Removal:
        """Removes what the rule lists, if it is still exactly the list `digest` names."""
        found = await self.candidates()
        if found is None:
            return Removal(Outcome.NO_RULE, 0, None)
        if found.digest != digest:
            return Removal(Outcome.CHANGED, 0, found)
        await self.repo.remove(found)
        audit = Audit(self.session)
        for item in found.items:
            await audit.record(
                REMOVED,
                item.kind,
                item.id,
                actor_id=actor_id,
                actor_aad_id=actor_aad_id,
                details={
                    "label": item.label,
                    "rule_months": self.months,
                    "cutoff": found.cutoff.isoformat(),
                    "by": by,
                },
            )
        return Removal(Outcome.REMOVED, len(found.items), found)
