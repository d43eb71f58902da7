"""The one rule of who may see what, tested over every combination."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.visibility import Audience, Viewer, Visibility, can_see, fit_for_channel, widens

AGENCIES = (1, 2, 3, 4)


def expected(viewer: Viewer, item: Audience) -> bool:
    """The rule written out longhand, independently of the implementation."""
    if not viewer.approved:
        return False
    if item.visibility == "forum":
        return True
    if item.visibility == "agency":
        return viewer.agency_id == item.author_agency_id
    return viewer.agency_id == item.author_agency_id or viewer.agency_id in item.shared_agency_ids


def all_audiences() -> list[Audience]:
    audiences = []
    for visibility, author in itertools.product(Visibility, AGENCIES):
        for size in range(len(AGENCIES) + 1):
            for shared in itertools.combinations(AGENCIES, size):
                audiences.append(Audience.of(visibility, author, shared))
    return audiences


def test_every_viewer_against_every_audience() -> None:
    checked = 0
    for item in all_audiences():
        for agency, approved in itertools.product(AGENCIES, (True, False)):
            viewer = Viewer(member_id=agency * 10, agency_id=agency, approved=approved)
            assert can_see(viewer, item) is expected(viewer, item), (viewer, item)
            checked += 1
    assert checked > 1000


def test_nobody_unknown_sees_anything() -> None:
    assert not any(can_see(None, item) for item in all_audiences())


def test_default_is_the_narrowest() -> None:
    assert Visibility.narrowest() is Visibility.AGENCY
    item = Audience.of(Visibility.narrowest(), 1, [2, 3])
    assert item.shared_agency_ids == frozenset()
    assert not can_see(Viewer(2, 2, True), item)


def test_named_agencies_only_count_for_agencies_visibility() -> None:
    assert Audience.of("agency", 1, [2]).shared_agency_ids == frozenset()
    assert Audience.of("forum", 1, [2]).shared_agency_ids == frozenset()
    assert Audience.of("agencies", 1, [1, 2]).shared_agency_ids == frozenset({2})


def test_only_forum_items_fit_the_channel() -> None:
    assert [v for v in Visibility if fit_for_channel(Audience.of(v, 1, [2]))] == [Visibility.FORUM]


def test_widening() -> None:
    narrow, some, forum = Audience.of("agency", 1), Audience.of("agencies", 1, [2]), Audience.of("forum", 1)
    assert widens(narrow, some, AGENCIES) and widens(some, forum, AGENCIES)
    assert not widens(forum, narrow, AGENCIES) and not widens(some, narrow, AGENCIES)
    assert widens(some, Audience.of("agencies", 1, [3]), AGENCIES)  # another agency is still wider
    assert not widens(some, some, AGENCIES)


@given(
    st.sampled_from(list(Visibility)),
    st.sampled_from(AGENCIES),
    st.sets(st.sampled_from(AGENCIES)),
    st.sampled_from(list(Visibility)),
    st.sets(st.sampled_from(AGENCIES)),
)
def test_widening_means_someone_new_can_see(v1, author, s1, v2, s2) -> None:
    before, after = Audience.of(v1, author, s1), Audience.of(v2, author, s2)
    newly = [
        a for a in AGENCIES if can_see(Viewer(a, a, True), after) and not can_see(Viewer(a, a, True), before)
    ]
    assert widens(before, after, AGENCIES) is bool(newly)
