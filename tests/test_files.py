"""Files for members through short-lived signed links: minting, serving over HTTP, refusals as
readable pages (never a 500), binding to one member, auditing, and the settings behind it."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import FILES
from bot.domain.files import (
    ExpiredLink,
    FileContent,
    InvalidLink,
    LinkClaims,
    content_disposition,
    safe_filename,
    sign_link,
    verify_link,
)
from bot.domain.members import MemberStatus, MemberView, Role
from bot.services.files import FileService
from bot.settings import Settings, SettingsError, load_settings
from bot.storage import db
from bot.storage.audit import Audit
from bot.storage.membership import Agencies, Members
from bot.storage.models import AuditEntry
from bot.web import files as pages
from tests.conftest import INSPECTOR, POLICE, TAX, make_settings, truncate
from tests.support.connector import FakeConnector
from tests.support.harness import FakeClock, Harness, HarnessThread
from tests.support.teams import TeamsUser

SECRET = "a file link secret for tests only, long enough"
OTHER_SECRET = "another file link secret, also long enough!!"
APP_ID = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Forumbot//SV\r\nEND:VCALENDAR\r\n"
NAME = "Mötesserie Västerås myndighetsforum 2027.ics"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, file_link_secret=SECRET)


@dataclass
class Provider:
    """Files of items 1..99 for everyone, item 404 for nobody; remembers who asked for what."""

    filename: str = NAME
    media_type: str = "text/calendar; charset=utf-8"
    calls: list[tuple[int, int]] = field(default_factory=list)

    async def __call__(self, session: AsyncSession, member: MemberView, item_id: int) -> FileContent | None:
        self.calls.append((member.id, item_id))
        if not 1 <= item_id <= 99:
            return None
        return FileContent(self.filename, self.media_type, ICS + f"X-MEMBER:{member.id}\r\n".encode())


def files_of(bot: Harness) -> FileService:
    assert bot.app is not None
    return bot.app[FILES]


def provided(bot: Harness, kind: str = "test.txt", **kw: Any) -> Provider:
    provider = Provider(**kw)
    files_of(bot).register(kind, provider)
    return provider


async def add_member(
    sessions: Any, person: TeamsUser, agency: str = "MHF", status: MemberStatus = MemberStatus.APPROVED
) -> MemberView:
    async with db.unit_of_work(sessions) as session:
        found = await Agencies(session).by_code(agency)
        assert found is not None
        return await Members(session).add(
            aad_object_id=person.aad_object_id,
            teams_user_id=person.teams_id,
            name=person.name,
            email=person.email,
            agency_id=found.id,
            status=status,
            roles=frozenset({Role.INSPECTOR}),
            locale="sv-SE",
            personal_conversation=None,
        )


@dataclass
class Fetched:
    status: int
    headers: Any
    body: bytes
    filename: str | None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


async def fetch(bot: Harness, url: str, method: str = "GET") -> Fetched:
    assert bot.http is not None
    if url.startswith("/"):
        url = bot.url + url
    async with bot.http.request(method, url) as response:
        body = await response.read()
        disposition = response.content_disposition
        return Fetched(response.status, response.headers, body, disposition.filename if disposition else None)


def path_of(link: str) -> str:
    return link[link.index("/files/") :]


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


async def downloads(bot: Harness) -> list[AuditEntry]:
    async with bot.sessions() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.action == "downloaded"))
        return list(rows)


def assert_refused(fetched: Fetched, status: int, texts: tuple[str, str], why: str = "") -> None:
    assert fetched.status == status, why
    assert fetched.headers["Content-Type"] == "text/html; charset=utf-8"
    assert fetched.headers["Cache-Control"] == "no-store"
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in fetched.headers
    swedish, english = texts
    assert fetched.text.index(swedish) < fetched.text.index(english)
    assert "Traceback" not in fetched.text


def encode(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def decode(payload: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# Over HTTP -------------------------------------------------------------------------------------


async def test_a_valid_link_downloads_the_members_file_and_is_audited(bot: Harness) -> None:
    provider = provided(bot)
    anna = await add_member(bot.sessions, INSPECTOR)
    link = files_of(bot).link(anna, "test.txt", 42, base_url=bot.url)
    assert link.startswith(f"{bot.url}/files/")

    got = await fetch(bot, link)

    assert got.status == 200
    assert got.body == ICS + f"X-MEMBER:{anna.id}\r\n".encode()
    assert got.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert got.headers["Content-Disposition"].startswith("attachment; ")
    assert got.headers["Cache-Control"] == "no-store"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.filename == NAME
    assert provider.calls == [(anna.id, 42)]
    [entry] = await downloads(bot)
    assert (entry.item_type, entry.item_id) == ("test.txt", "42")
    assert (entry.actor_id, entry.actor_aad_id) == (anna.id, INSPECTOR.aad_object_id)
    assert entry.details == {"filename": NAME}

    # a link works until it expires, and each download is audited
    assert (await fetch(bot, link)).status == 200
    async with bot.sessions() as session:
        assert len(await Audit(session).for_item("test.txt", 42)) == 2


async def test_links_start_with_the_public_address(bot: Harness, database_url: str) -> None:
    provided(bot)
    anna = await add_member(bot.sessions, INSPECTOR)
    assert files_of(bot).link(anna, "test.txt", 1).startswith("http://127.0.0.1:3978/files/")

    public = make_settings(database_url, file_link_secret=SECRET, public_url="https://forumbot.example.se/")
    service = FileService.from_settings(public, bot.sessions, clock=bot.clock)
    service.register("test.txt", Provider())
    link = service.link(anna, "test.txt", 1)
    assert link.startswith("https://forumbot.example.se/files/")
    # the same secret: the running bot serves it
    assert (await fetch(bot, path_of(link))).status == 200


async def test_a_link_expires_after_its_lifetime(bot: Harness) -> None:
    provider = provided(bot)
    anna = await add_member(bot.sessions, INSPECTOR)
    link = files_of(bot).link(anna, "test.txt", 7, base_url=bot.url)

    bot.clock.advance(minutes=14, seconds=59)
    assert (await fetch(bot, link)).status == 200
    bot.clock.advance(seconds=1)
    assert_refused(await fetch(bot, link), 403, pages.INVALID)
    assert provider.calls == [(anna.id, 7)]
    assert len(await downloads(bot)) == 1


async def test_the_lifetime_is_a_setting(
    database_url: str, connector: FakeConnector, clock: FakeClock
) -> None:
    harness = Harness(
        make_settings(database_url, file_link_secret=SECRET, file_link_minutes=60), connector, clock
    )
    await harness.start()
    try:
        provided(harness)
        anna = await add_member(harness.sessions, INSPECTOR)
        link = files_of(harness).link(anna, "test.txt", 7, base_url=harness.url)
        clock.advance(minutes=59)
        assert (await fetch(harness, link)).status == 200
        clock.advance(minutes=1)
        assert (await fetch(harness, link)).status == 403
    finally:
        await harness.stop()


def flip(text: str, index: int) -> str:
    """`text` with the character at `index` changed by one step of the base64url alphabet, so
    that even a change in the spare bits of the signature's last character is tried."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    ch = text[index]
    replaced = alphabet[(alphabet.index(ch) + 1) % 64] if ch in alphabet else "A"
    return text[:index] + replaced + text[index + 1 :]


def forgeries(token: str, claims: LinkClaims) -> dict[str, str]:
    payload, signature = token.split(".")
    return {
        "payload flipped": f"{flip(payload, 5)}.{signature}",
        "payload's last character flipped": f"{flip(payload, len(payload) - 1)}.{signature}",
        "signature flipped": f"{payload}.{flip(signature, 0)}",
        "signature's last character flipped": f"{payload}.{flip(signature, len(signature) - 1)}",
        "truncated": token[:-3],
        "signature cut off": payload,
        "payload only with a dot": payload + ".",
        "padded": f"{payload}.{signature}=",
        "another dot": f"{payload}.{signature}.{signature}",
        "other secret": sign_link(OTHER_SECRET.encode(), claims),
        "garbage": "hello-world",
        "dot alone": ".",
        "empty": "",
        "not base64": f"{payload}!.{signature}",
        "long": "A" * 5000 + "." + signature,
        "unicode": "länk.ä",
        "traversal": quote("../../healthz", safe=""),
        "nul": "%00",
        "unsigned": f"{encode([1, 'test.txt', 42, claims.member_id, claims.expires, claims.nonce])}.",
    }


async def test_tampered_truncated_garbage_and_foreign_links_get_the_403_page(bot: Harness) -> None:
    provider = provided(bot)
    anna = await add_member(bot.sessions, INSPECTOR)
    link = files_of(bot).link(anna, "test.txt", 42, base_url=bot.url)
    token = token_of(link)
    claims = files_of(bot).check(token)

    for name, forged in forgeries(token, claims).items():
        got = await fetch(bot, f"/files/{forged}")
        assert_refused(got, 403, pages.INVALID, name)

    assert provider.calls == []
    assert await downloads(bot) == []
    assert (await fetch(bot, link)).status == 200  # the genuine one still works


async def test_a_link_bound_to_one_member_cannot_be_moved_to_another(bot: Harness) -> None:
    provider = provided(bot)
    anna = await add_member(bot.sessions, INSPECTOR)
    per = await add_member(bot.sessions, POLICE, "POL")
    token = token_of(files_of(bot).link(anna, "test.txt", 42))
    payload, signature = token.split(".")
    data = decode(payload)
    assert data[3] == anna.id

    for changed in (
        [*data[:3], per.id, *data[4:]],
        [*data[:2], 43, *data[3:]],
        [*data[:4], data[4] + 3600, data[5]],
    ):
        assert_refused(await fetch(bot, f"/files/{encode(changed)}.{signature}"), 403, pages.INVALID)
    assert provider.calls == []

    # whoever opens Anna's link gets Anna's file, as Anna may see it
    got = await fetch(bot, f"/files/{token}")
    assert got.status == 200
    assert f"X-MEMBER:{anna.id}".encode() in got.body
    assert provider.calls == [(anna.id, 42)]
    [entry] = await downloads(bot)
    assert entry.actor_id == anna.id


async def test_a_member_no_longer_approved_gets_403(bot: Harness) -> None:
    provider = provided(bot)
    anna = await add_member(bot.sessions, INSPECTOR)
    per = await add_member(bot.sessions, POLICE, "POL")
    sara = await add_member(bot.sessions, TAX, "SKV", status=MemberStatus.PENDING)
    anna_link = files_of(bot).link(anna, "test.txt", 1, base_url=bot.url)
    per_link = files_of(bot).link(per, "test.txt", 1, base_url=bot.url)
    sara_link = files_of(bot).link(sara, "test.txt", 1, base_url=bot.url)
    nobody_link = files_of(bot).link(replace(anna, id=987654), "test.txt", 1, base_url=bot.url)
    assert (await fetch(bot, anna_link)).status == 200

    async with db.unit_of_work(bot.sessions) as session:
        await Members(session).decide(anna.id, MemberStatus.REJECTED, frozenset(), None)

    for link in (anna_link, sara_link, nobody_link):
        assert_refused(await fetch(bot, link), 403, pages.NOT_MEMBER)
    assert (await fetch(bot, per_link)).status == 200
    assert provider.calls == [(anna.id, 1), (per.id, 1)]
    assert [entry.actor_id for entry in await downloads(bot)] == [anna.id, per.id]


async def test_a_file_the_member_may_not_see_gets_404(bot: Harness) -> None:
    provider = provided(bot)
    anna = await add_member(bot.sessions, INSPECTOR)
    link = files_of(bot).link(anna, "test.txt", 404, base_url=bot.url)

    assert_refused(await fetch(bot, link), 404, pages.NOT_FOUND)
    assert provider.calls == [(anna.id, 404)]
    assert await downloads(bot) == []


async def test_a_kind_nothing_provides_gets_404(bot: Harness) -> None:
    provided(bot)
    anna = await add_member(bot.sessions, INSPECTOR)
    expires = int(bot.clock().timestamp()) + 60
    token = sign_link(SECRET.encode(), LinkClaims("inspection.csv", 1, anna.id, expires, "n" * 22))
    assert_refused(await fetch(bot, f"/files/{token}"), 404, pages.NOT_FOUND)
    with pytest.raises(ValueError, match="no provider"):
        files_of(bot).link(anna, "inspection.csv", 1)


async def test_a_failing_provider_gets_a_500_page_and_nothing_is_audited(bot: Harness) -> None:
    async def broken(session: AsyncSession, member: MemberView, item_id: int) -> FileContent | None:
        raise RuntimeError("the renderer fell over")

    files_of(bot).register("report.png", broken)
    anna = await add_member(bot.sessions, INSPECTOR)
    got = await fetch(bot, files_of(bot).link(anna, "report.png", 1, base_url=bot.url))
    assert_refused(got, 500, pages.FAILED)
    assert "fell over" not in got.text
    assert await downloads(bot) == []


async def test_head_answers_like_get_without_a_download_and_other_methods_get_405(bot: Harness) -> None:
    provided(bot)
    anna = await add_member(bot.sessions, INSPECTOR)
    link = files_of(bot).link(anna, "test.txt", 3, base_url=bot.url)

    head = await fetch(bot, link, "HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert head.headers["Cache-Control"] == "no-store"
    assert head.filename == NAME
    assert (await fetch(bot, flip(link, len(link) - 1), "HEAD")).status == 403
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        got = await fetch(bot, link, method)
        assert got.status == 405, method
        assert "GET" in got.headers["Allow"]
    assert await downloads(bot) == []
    assert (await fetch(bot, link)).status == 200


async def test_unicode_and_hostile_file_names_in_the_header(bot: Harness) -> None:
    anna = await add_member(bot.sessions, INSPECTOR)
    provided(
        bot,
        "sample.xlsx",
        filename="Uppföljning kvartal 3 – Västerås.xlsx",
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    provided(
        bot,
        "inspection.csv",
        filename='..\\..\\"enkät"\r\nSet-Cookie: x=1;.csv',
        media_type="text/csv; charset=utf-8",
    )

    got = await fetch(bot, files_of(bot).link(anna, "sample.xlsx", 5, base_url=bot.url))
    assert got.status == 200
    assert got.headers["Content-Disposition"] == (
        'attachment; filename="Uppfoljning kvartal 3  Vasteras.xlsx"; '
        "filename*=UTF-8''Uppf%C3%B6ljning%20kvartal%203%20%E2%80%93%20V%C3%A4ster%C3%A5s.xlsx"
    )
    assert got.filename == "Uppföljning kvartal 3 – Västerås.xlsx"

    got = await fetch(bot, files_of(bot).link(anna, "inspection.csv", 5, base_url=bot.url))
    assert got.status == 200
    assert "Set-Cookie" not in got.headers
    assert got.filename == ".._..__enkät___Set-Cookie_ x=1;.csv"
    assert "\r" not in got.headers["Content-Disposition"] and "\n" not in got.headers["Content-Disposition"]


# Random tokens over HTTP: never a 500 -----------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, connector_thread: FakeConnector
) -> Iterator[tuple[HarnessThread, str]]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('files') / 'forumbot.db'}"
    else:
        url = request.getfixturevalue("pg_database")
        asyncio.run(truncate(url))
    harness = Harness(make_settings(url, file_link_secret=SECRET), connector_thread, FakeClock())
    thread = HarnessThread(harness)
    thread.start()
    files_of(harness).register("test.txt", Provider())
    anna = thread.run(add_member(harness.sessions, INSPECTOR))
    token = token_of(files_of(harness).link(anna, "test.txt", 42))
    assert thread.run(fetch(harness, f"/files/{token}")).status == 200
    yield thread, token
    thread.stop()


token_characters = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=")
random_tokens = (
    st.text(max_size=300)
    | st.text(token_characters, max_size=300)
    | st.builds(
        lambda payload, signature: f"{payload}.{signature}",
        st.text(token_characters, min_size=1, max_size=200),
        st.text(token_characters, min_size=43, max_size=43),
    )
    | st.builds(
        lambda data: encode(data) + "." + "A" * 43, st.lists(st.integers() | st.text(max_size=20), max_size=8)
    )
)


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(token=random_tokens)
def test_random_tokens_never_get_a_500(server: tuple[HarnessThread, str], token: str) -> None:
    thread, _ = server
    got = thread.run(fetch(thread.harness, "/files/" + quote(token, safe="")))
    # 404 only where the address no longer names a file: an encoded "/" in the token, or ".."
    assert got.status in (403, 404), got
    if got.status == 403:
        assert pages.INVALID[0] in got.text
    assert "Traceback" not in got.body.decode("utf-8", "replace")


@hypothesis_settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_change_to_a_genuine_token_is_refused(
    server: tuple[HarnessThread, str], data: st.DataObject
) -> None:
    thread, token = server
    index = data.draw(st.integers(0, len(token) - 1))
    changed = data.draw(
        st.sampled_from(["flip", "delete", "insert", "swap"]).map(
            lambda how: {
                "flip": flip(token, index),
                "delete": token[:index] + token[index + 1 :],
                "insert": token[:index] + "A" + token[index:],
                "swap": token[:index] + token[index + 1 : index + 2] + token[index] + token[index + 2 :],
            }[how]
        )
    )
    if changed == token:
        return
    got = thread.run(fetch(thread.harness, f"/files/{changed}"))
    assert got.status == 403, (changed, got)


# The token as a pure function ------------------------------------------------------------------


KEY = SECRET.encode()
CLAIMS = LinkClaims("test.txt", 42, 7, 1_800_000_000, "x" * 22)


def test_sign_and_verify_round_trip() -> None:
    token = sign_link(KEY, CLAIMS)
    assert verify_link(KEY, token, CLAIMS.expires - 1) == CLAIMS
    assert len(token) < 160
    with pytest.raises(ExpiredLink):
        verify_link(KEY, token, CLAIMS.expires)
    with pytest.raises(InvalidLink, match="bad signature"):
        verify_link(OTHER_SECRET.encode(), token, 0)


def test_every_single_character_change_is_refused() -> None:
    token = sign_link(KEY, CLAIMS)
    for index in range(len(token)):
        with pytest.raises(InvalidLink):
            verify_link(KEY, flip(token, index), 0)


def test_nonces_differ_and_claims_are_checked() -> None:
    service = FileService(
        None,  # type: ignore[arg-type]  # minting needs no database
        secret=KEY,
        lifetime=timedelta(minutes=15),
        public_url="https://forumbot.example.se",
        clock=FakeClock(),
    )
    service.register("test.txt", Provider())
    member = MemberView(7, "aad", "29:x", "X", None, None, MemberStatus.APPROVED, frozenset())  # type: ignore[arg-type]
    first, second = (token_of(service.link(member, "test.txt", 1)) for _ in range(2))
    assert first != second
    assert service.check(first).nonce != service.check(second).nonce
    assert service.check(first).expires == int(FakeClock()().timestamp()) + 15 * 60
    for bad_kind in ("", "Meeting.ics", "../x", "x" * 33, "möte.ics"):
        with pytest.raises(ValueError):
            service.register(bad_kind, Provider())
    with pytest.raises(ValueError, match="already"):
        service.register("test.txt", Provider())
    with pytest.raises(ValueError):
        service.link(member, "test.txt", True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        service.link(member, "test.txt", -1)
    with pytest.raises(ValueError, match="32 bytes"):
        FileService(None, secret=b"short", lifetime=timedelta(minutes=1), public_url="", clock=FakeClock())  # type: ignore[arg-type]


@hypothesis_settings(max_examples=2000, deadline=None)
@given(token=random_tokens | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_verify_raises_only_invalid_link(token: str) -> None:
    with pytest.raises(InvalidLink):
        verify_link(KEY, token, 0)


def test_a_signed_but_unreadable_payload_is_invalid_not_an_error() -> None:
    from bot.domain.files import _signature

    for data in (
        [],
        [1],
        [2, "test.txt", 1, 1, 9, "x" * 22],
        [True, "test.txt", 1, 1, 9, "x" * 22],
        [1, "test.txt", 1.5, 1, 9, "x" * 22],
        [1, "test.txt", 1, -1, 9, "x" * 22],
        [1, "../etc", 1, 1, 9, "x" * 22],
        [1, "test.txt", 1, 1, 9, ""],
        {"k": 1},
        "text",
        None,
    ):
        payload = encode(data)
        with pytest.raises(InvalidLink):
            verify_link(KEY, f"{payload}.{_signature(KEY, payload)}", 0)
    payload = base64.urlsafe_b64encode(b"\xff\xfe not json").rstrip(b"=").decode()
    with pytest.raises(InvalidLink):
        verify_link(KEY, f"{payload}.{_signature(KEY, payload)}", 0)


def test_file_names_and_contents() -> None:
    assert safe_filename('a/b\\c:d*e?f"g<h>i|j\x00k\u202el.csv') == "a_b_c_d_e_f_g_h_i_j_k_l.csv"
    assert (
        content_disposition("möte.ics") == "attachment; filename=\"mote.ics\"; filename*=UTF-8''m%C3%B6te.ics"
    )
    assert content_disposition("åäö.ics").startswith('attachment; filename="aao.ics"')
    assert content_disposition("100%.csv") == "attachment; filename=\"100_.csv\"; filename*=UTF-8''100%25.csv"
    assert 'filename="file"' in content_disposition("€€€")
    for bad in (
        dict(filename="", media_type="text/csv", body=b""),
        dict(filename="../", media_type="text/csv", body=b""),
        dict(filename="a.csv", media_type="text/csv\r\nX-Evil: 1", body=b""),
        dict(filename="a.csv", media_type="csv", body=b""),
    ):
        with pytest.raises(ValueError):
            FileContent(**bad)
    with pytest.raises(TypeError):
        FileContent("a.csv", "text/csv", "not bytes")  # type: ignore[arg-type]


# Settings ---------------------------------------------------------------------------------------


PRODUCTION: dict[str, object] = {
    "env": "production",
    "app_id": APP_ID,
    "app_password": "not-a-real-secret",
    "public_url": "https://forumbot.example.se",
    "file_link_secret": SECRET,
}


def test_production_needs_a_file_link_secret() -> None:
    assert load_settings(**PRODUCTION).file_link_secret.get_secret_value() == SECRET
    with pytest.raises(SettingsError, match="FORUMBOT_ENV=production needs FORUMBOT_FILE_LINK_SECRET"):
        load_settings(**{**PRODUCTION, "file_link_secret": ""})
    with pytest.raises(SettingsError, match="FORUMBOT_FILE_LINK_SECRET must be at least 32 bytes"):
        load_settings(**{**PRODUCTION, "file_link_secret": "x" * 31})
    with pytest.raises(SettingsError, match="FORUMBOT_PUBLIC_URL"):
        load_settings(**{**PRODUCTION, "public_url": ""})
    with pytest.raises(SettingsError, match="FORUMBOT_PUBLIC_URL"):
        load_settings(**{**PRODUCTION, "public_url": "http://forumbot.example.se"})


def test_the_secret_is_never_shown() -> None:
    settings = load_settings(**PRODUCTION)
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())


def test_development_settings_for_file_links() -> None:
    settings = load_settings(env="development", file_link_secret="", public_url="")
    assert settings.public_url == "http://127.0.0.1:3978"
    assert settings.file_link_minutes == 15
    assert (
        load_settings(public_url="https://bot.example.se/forumbot/").public_url
        == "https://bot.example.se/forumbot"
    )
    with pytest.raises(SettingsError, match="at least 32 bytes"):
        load_settings(file_link_secret="short")
    for bad in ("ftp://x.se", "forumbot.example.se", "https://", "https://u:p@x.se", "https://x.se/?a=1"):
        with pytest.raises(SettingsError, match="FORUMBOT_PUBLIC_URL"):
            load_settings(public_url=bad)
    for minutes in (0, -1, 24 * 60 + 1):
        with pytest.raises(SettingsError, match=r"FORUMBOT_FILE_LINK_MINUTES|file_link_minutes"):
            load_settings(file_link_minutes=minutes)


def test_without_a_secret_development_makes_one_up_per_process(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(env="development", file_link_secret="")
    with caplog.at_level(logging.WARNING, logger="bot.services.files"):
        one = FileService.from_settings(settings, None, clock=FakeClock())  # type: ignore[arg-type]
    assert "FORUMBOT_FILE_LINK_SECRET is not set" in caplog.text
    other = FileService.from_settings(settings, None, clock=FakeClock())  # type: ignore[arg-type]
    for service in (one, other):
        service.register("test.txt", Provider())
    member = MemberView(7, "aad", "29:x", "X", None, None, MemberStatus.APPROVED, frozenset())  # type: ignore[arg-type]
    token = token_of(one.link(member, "test.txt", 1))
    assert one.check(token).member_id == 7
    with pytest.raises(InvalidLink):
        other.check(token)
