"""Random requests and card submits: never a 500, never a stack trace, never a half-written record."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.storage.models import (
    AuditEntry,
    BotStateRow,
    Member,
    ProcessedActivity,
    Proposal,
    ProposalEvent,
)
from bot.teams.http import MAX_DEPTH
from tests.conftest import ADMIN, STRANGER, make_settings, truncate
from tests.support import teams
from tests.support.connector import FakeConnector
from tests.support.harness import FakeClock, Harness, HarnessThread, actions_of

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


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, connector_thread: FakeConnector
) -> Iterator[HarnessThread]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'forumbot.db'}"
    else:
        url = request.getfixturevalue("pg_database")
        asyncio.run(truncate(url))
    harness = Harness(make_settings(url), connector_thread, FakeClock())
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


def nested(depth: int, kinds: list[str]) -> str:
    """`depth` arrays and objects inside each other, in the order of `kinds` over and over."""
    openers = ["[" if kinds[i % len(kinds)] == "array" else '{"k": ' for i in range(depth)]
    closers = ["]" if opener == "[" else "}" for opener in reversed(openers)]
    return "".join(openers) + "1" + "".join(closers)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    depth=st.integers(min_value=MAX_DEPTH + 1, max_value=5000),
    kinds=st.lists(st.sampled_from(["array", "object"]), min_size=1, max_size=3),
    inside=st.sampled_from([None, "value", "channelData", "entities", "attachments", "from", "text"]),
)
def test_deeply_nested_bodies_are_400(
    server: HarnessThread, depth: int, kinds: list[str], inside: str | None
) -> None:
    """Nesting past Python's recursion limit made json.loads raise RecursionError (a 500)."""
    blob = nested(depth, kinds)
    if inside is None:
        body = blob
    else:
        activity = teams.message(teams.personal, server.harness.connector.url, STRANGER, "hjälp")
        activity[inside] = "MARK"
        body = json.dumps(activity).replace('"MARK"', blob)
    status, answer = post(server, body.encode())
    assert status == 400, (status, answer)
    assert "Traceback" not in json.dumps(answer, default=str)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    depth=st.integers(min_value=1, max_value=MAX_DEPTH - 2),
    kinds=st.lists(st.sampled_from(["array", "object"]), min_size=1, max_size=3),
)
def test_nesting_within_the_limit_is_an_activity(server: HarnessThread, depth: int, kinds: list[str]) -> None:
    activity = teams.message(teams.personal, server.harness.connector.url, STRANGER, "hjälp")
    activity["channelData"]["extra"] = "MARK"  # the activity itself is two levels deep there
    status, answer = post(server, json.dumps(activity).replace('"MARK"', nested(depth, kinds)).encode())
    assert status == 201, (status, answer)


# a string with one lone surrogate: text around it holds none, so it can never become a pair
lone_surrogates = st.builds(
    lambda before, code, after: before + chr(code) + after,
    st.text(max_size=6),
    st.integers(min_value=0xD800, max_value=0xDFFF),
    st.text(max_size=6),
)
SURROGATE_PLACES = [
    ("text",),
    ("id",),
    ("locale",),
    ("replyToId",),
    ("from", "name"),
    ("from", "id"),
    ("from", "aadObjectId"),
    ("conversation", "id"),
    ("channelData", "tenant", "id"),
    ("value", "agency"),
    ("value", None),  # a key
    ("entities", 0, "text"),
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    place=st.sampled_from(SURROGATE_PLACES),
    bad=lone_surrogates,
    escaped=st.booleans(),
)
def test_lone_surrogates_are_400_and_write_nothing(
    server: HarnessThread, place: tuple[str | int | None, ...], bad: str, escaped: bool
) -> None:
    harness = server.harness
    value = {"action": "register.submit", "agency": "MHF"}
    activity = teams.submit(teams.personal, harness.connector.url, STRANGER, value, None)
    activity["text"] = "registrera mig"
    activity["entities"] = [{"type": "clientInfo", "text": "x"}]
    *parents, last = place
    node: Any = activity
    for key in parents:
        node = node[key]
    if last is None:
        node[bad] = "v"
    else:
        node[last] = bad
    if escaped:  # as the JSON escape, backslash u and four hex digits
        body = json.dumps(activity).encode()
    else:  # as the three bytes UTF-8 would have for it, which Python's JSON decoder lets through
        body = json.dumps(activity, ensure_ascii=False).encode("utf-8", "surrogatepass")

    async def counts() -> tuple[int, ...]:
        found = []
        async with harness.sessions() as session:
            for model in (ProcessedActivity, Member, AuditEntry, BotStateRow):
                found.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
        return tuple(found)

    before = server.run(counts())
    sent = len(harness.connector.requests)
    status, answer = post(server, body)
    assert status == 400, (status, answer, place, bad)
    assert server.run(counts()) == before
    assert len(harness.connector.requests) == sent


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


proposal_fields = st.fixed_dictionaries(
    {
        "action": st.sampled_from(
            [
                "proposal.submit",
                "proposal.save",
                "proposal.transition",
                "proposal.open",
                "proposal.edit",
                "proposal.list",
            ]
        )
    },
    optional={
        "name": json_values | st.sampled_from(["Pizzeria Exempel", "", "x" * 300]),
        "org_number": json_values | st.sampled_from(["556016-0680", "556016-0681", "121212-1212", "16"]),
        "address": json_values | st.sampled_from(["Stora gatan 1", "19121212-1212"]),
        "industry": json_values | st.sampled_from(["restaurang", "bygg", "annat", "okänd"]),
        "industry_other": json_values,
        "reason": json_values | st.sampled_from(["Iakttagelse", "Ägare 121212-1212", "\x00\x1b"]),
        "agencies": json_values | st.sampled_from(["POL", "POL,SKV", "MHF", "NOPE", ",,,"]),
        "urgency": json_values | st.sampled_from(["low", "normal", "high", "akut"]),
        "visibility": json_values | st.sampled_from(["agency", "agencies", "forum", "world"]),
        "period_from": json_values | st.sampled_from(["2026-12-01", "2026-13-01", "igår"]),
        "period_to": json_values | st.sampled_from(["2026-11-30", "2027-01-01"]),
        "proposal_id": json_values | st.integers(min_value=-1, max_value=4),
        "version": json_values | st.integers(min_value=0, max_value=4),
        "transition": json_values | st.sampled_from(["accept", "reject", "ask", "withdraw", "plan", "drop"]),
        "note": json_values,
        "confirm_widen": st.booleans() | json_values,
        "page": json_values | st.integers(min_value=-2, max_value=3),
        "form_token": json_values | st.just("forged-token"),
    },
)


async def with_form_token(harness: Any, value: dict) -> dict:
    """A submit of the proposal form carries the token of a form handed out, unless it forges one."""
    if value.get("action") != "proposal.submit" or "form_token" in value:
        return value
    form = (await harness.say(ADMIN, "föreslå")).cards[0]
    send = next(a for a in actions_of(form) if a["data"]["action"] == "proposal.submit")
    token = send["data"]["form_token"]
    return {**value, "form_token": token}


VALID_PROPOSAL = {
    "action": "proposal.submit",
    "name": "Pizzeria Exempel",
    "address": "Stora gatan 1",
    "industry": "restaurang",
    "reason": "Iakttagelse",
    "agencies": "POL",
}
# Mostly valid forms with one or two fields made odd, so that stored proposals are exercised too.
nearly_valid = st.tuples(proposal_fields, st.integers(min_value=0, max_value=2)).map(
    lambda pair: {**VALID_PROPOSAL, **dict(list(pair[0].items())[1 : 1 + pair[1]])}
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=proposal_fields | nearly_valid)
def test_random_proposal_submits_never_fail_or_half_write(server: HarnessThread, value: dict) -> None:
    harness = server.harness

    async def member() -> None:
        async with harness.sessions() as session:
            known = await session.scalar(select(Member.id).where(Member.aad_object_id == ADMIN.aad_object_id))
        if known is None:  # an admin named in settings is approved when registering
            await harness.submit(ADMIN, {"action": "register.submit", "agency": "MHF"})

    server.run(member())
    value = server.run(with_form_token(harness, value))
    activity = teams.submit(teams.personal, harness.connector.url, ADMIN, value, "activity-1")
    response = server.run(harness.post(activity))
    assert response.status == 201
    assert response.sent or response.updated, value

    async def consistent() -> bool:
        async with harness.sessions() as session:
            proposals = await session.scalar(select(func.count()).select_from(Proposal))
            created = await session.scalar(
                select(func.count()).select_from(ProposalEvent).where(ProposalEvent.kind == "created")
            )
            audited = await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.item_type == "proposal", AuditEntry.action == "created")
            )
        return proposals == created == audited

    assert server.run(consistent())


def test_a_nearly_valid_submit_is_stored(server: HarnessThread) -> None:
    """Guards the strategy above: its base form must be one the bot stores."""
    harness = server.harness

    async def stored() -> int:
        async with harness.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Proposal)) or 0)

    before = server.run(stored())
    server.run(harness.submit(ADMIN, {"action": "register.submit", "agency": "MHF"}))
    value = server.run(with_form_token(harness, dict(VALID_PROPOSAL)))
    response = server.run(harness.submit(ADMIN, value, reply_to_id="form"))
    assert response.status == 201
    assert server.run(stored()) == before + 1
