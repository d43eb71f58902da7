"""Who may see an item. Every stored item carries an Audience; `can_see` is the only judge."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Visibility(StrEnum):
    AGENCY = "agency"  # the author's agency only
    AGENCIES = "agencies"  # the author's agency and named others
    FORUM = "forum"  # every approved member

    @classmethod
    def narrowest(cls) -> Visibility:
        return cls.AGENCY


@dataclass(frozen=True)
class Viewer:
    """The member asking to see something; `approved` is False for pending or removed members."""

    member_id: int
    agency_id: int
    approved: bool


@dataclass(frozen=True)
class Audience:
    visibility: Visibility
    author_agency_id: int
    shared_agency_ids: frozenset[int] = field(default_factory=frozenset)
    # members who may see the item whatever their agency (a poll's maker, to follow it)
    readers: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls,
        visibility: Visibility | str,
        author_agency_id: int,
        shared: Iterable[int] = (),
        *,
        readers: Iterable[int] = (),
    ) -> Audience:
        visibility = Visibility(visibility)
        shared_ids = frozenset(shared) - {author_agency_id}
        if visibility is not Visibility.AGENCIES:
            shared_ids = frozenset()
        return cls(visibility, author_agency_id, shared_ids, frozenset(readers))

    def agencies(self, all_agency_ids: Iterable[int]) -> frozenset[int]:
        """The agencies whose approved members may see the item."""
        if self.visibility is Visibility.FORUM:
            return frozenset(all_agency_ids)
        return frozenset({self.author_agency_id}) | self.shared_agency_ids


def can_see(viewer: Viewer | None, item: Audience) -> bool:
    """True when `viewer` may see `item`. Roles never widen this: the sharer's choice rules."""
    if viewer is None or not viewer.approved:
        return False
    if item.visibility is Visibility.FORUM or viewer.member_id in item.readers:
        return True
    if viewer.agency_id == item.author_agency_id:
        return True
    return item.visibility is Visibility.AGENCIES and viewer.agency_id in item.shared_agency_ids


def widens(before: Audience, after: Audience, all_agency_ids: Iterable[int]) -> bool:
    """True when `after` reaches an agency that `before` did not."""
    ids = frozenset(all_agency_ids)
    return not after.agencies(ids) <= before.agencies(ids)


def reaches_other_agencies(item: Audience) -> bool:
    """True when members outside the author's agency may read the item: then personal identity
    numbers must stay out of its text."""
    return item.visibility is not Visibility.AGENCY


def fit_for_channel(item: Audience) -> bool:
    """The forum channel is seen by every agency: only forum-wide items may be posted there."""
    return item.visibility is Visibility.FORUM
