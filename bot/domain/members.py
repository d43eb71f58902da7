"""Members of the forum, their roles, and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.visibility import Viewer


class Role(StrEnum):
    INSPECTOR = "inspector"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class MemberStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def parse_roles(text: str) -> frozenset[Role]:
    return frozenset(Role(part) for part in text.split(",") if part)


def format_roles(roles: frozenset[Role] | set[Role]) -> str:
    return ",".join(sorted(role.value for role in roles))


@dataclass(frozen=True)
class AgencyView:
    id: int
    code: str
    name_sv: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_sv if language == "sv" else self.name_en


@dataclass(frozen=True)
class MemberView:
    id: int
    aad_object_id: str
    teams_user_id: str
    name: str
    email: str | None
    agency: AgencyView
    status: MemberStatus
    roles: frozenset[Role]
    language: str | None = None  # chosen with `språk`/`language`; None follows the Teams locale

    @property
    def registered(self) -> bool:
        """Approved, or waiting for approval."""
        return self.status in (MemberStatus.APPROVED, MemberStatus.PENDING)

    @property
    def approved(self) -> bool:
        return self.status is MemberStatus.APPROVED

    def has(self, role: Role) -> bool:
        return self.approved and role in self.roles

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.id, self.agency.id, self.approved)


def may_decide_registration(actor: MemberView | None, is_admin: bool, granting: Role) -> bool:
    """Coordinators approve inspectors; only admins grant coordinator or admin."""
    if is_admin:
        return True
    if actor is None or not actor.has(Role.COORDINATOR):
        return False
    return granting is Role.INSPECTOR


def may_link_channel(actor: MemberView | None, is_admin: bool) -> bool:
    return is_admin or (actor is not None and actor.has(Role.COORDINATOR))
