"""Random requests and card submits: never a 500, never a stack trace, never a half-written record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.storage.models import AuditEntry, Member
from tests.conftest import STRANGER, make_settings
from tests.support import teams
from tests.support.connector import FakeConnector
from tests.support.harness import FakeClock, Harness, HarnessThread

ALLOWED = {201, 400, 401, 403, 413, 415}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
actions = st.sampled_from(
    ["register.submit", "registration.approve", "registration.reject", "cancel", "nope", "", None, 5]
)
card_values = st.fixed_dictionaries(
    {"action": actions},
    optional={
        "agency": json_values | st.sampled_from(["POL", "SKV", "MHF", "pol", "X" * 500]),
        "member_id": json_values | st.integers(min_value=-5, max_value=5),
        "role": json_values | st.sampled_from(["inspector", "coordinator", "admin"]),
    },
)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, connector_thread: FakeConnector
) -> Iterator[HarnessThread]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "forumbot.db"
    harness = Harness(make_settings(f"sqlite+aiosqlite:///{path}"), connector_thread, FakeClock())
    thread = HarnessThread(harness)
    thread.start()
    yield thread
    thread.stop()


def post(server: HarnessThread, body: bytes, content_type: str = "application/json") -> tuple[int, object]:
    return server.run(server.harness.post_raw(body, {"Content-Type": content_type}))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values)
def test_random_json_bodies(server: HarnessThread, body: object) -> None:
    status, answer = post(server, json.dumps(body).encode())
    assert status in ALLOWED, (status, answer)
    assert "Traceback" not in json.dumps(answer, default=str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "text",
                "value",
                "from",
                "locale",
                "replyToId",
                "entities",
                "channelData",
                "attachments",
                "membersAdded",
                "type",
            ]
        ),
        json_values,
        max_size=4,
    )
)
def test_activity_with_random_fields(server: HarnessThread, fields: dict) -> None:
    activity = teams.message(teams.personal, server.harness.connector.url, STRANGER, "hjälp")
    activity.update(fields)
    status, answer = post(server, json.dumps(activity).encode())
    assert status in ALLOWED, (status, answer, fields)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=card_values, locale=st.sampled_from(["sv-SE", "en-US"]))
def test_random_card_submits_never_fail_or_half_write(
    server: HarnessThread, value: dict, locale: str
) -> None:
    harness = server.harness
    activity = teams.submit(
        teams.personal, harness.connector.url, STRANGER, value, "activity-1", locale=locale
    )
    response = server.run(harness.post(activity))
    assert response.status == 201
    assert response.sent or response.updated, value  # always an answer, never silence

    async def consistent() -> bool:
        async with harness.sessions() as session:
            members = await session.scalar(select(func.count()).select_from(Member))
            created = await session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "created")
            )
        return members == created  # a member row never exists without its audit entry, nor vice versa

    assert server.run(consistent())
