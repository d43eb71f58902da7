"""Cards validate against the Adaptive Card 1.5 schema; the catalogues agree with each other."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from bot.cards import help as help_cards
from bot.cards import membership
from bot.cards import outbox as outbox_cards
from bot.cards import polls as poll_cards
from bot.cards import proposals as proposal_cards
from bot.cards import reports as report_cards
from bot.cards.outbox import DeadLetter
from bot.domain.members import AgencyView, MemberStatus, MemberView, Role
from bot.domain.proposals import TRANSITIONS
from bot.i18n import Translator, catalogue, language_for, placeholders
from tests.support.harness import nodes
from tests.test_meetings_cards import every_card as meeting_cards

ROOT = Path(__file__).resolve().parent.parent
AGENCIES = [
    AgencyView(1, "MHF", "Miljö- och hälsoskydd", "Environment and health"),
    AgencyView(2, "POL", "Polisen", "Police"),
]
MEMBER = MemberView(
    7,
    "aad-7",
    "29:x",
    "Ingrid Inspektör",
    "ingrid@example.se",
    AGENCIES[0],
    MemberStatus.PENDING,
    frozenset({Role.INSPECTOR}),
)


NAMED = [proposal_cards.Named("POL", "Polisen"), proposal_cards.Named("SKV", "Skatteverket")]
PROPOSAL = proposal_cards.ProposalCardView(
    id=1,
    number="F-2026-0001",
    version=2,
    business_name="Pizzeria Exempel",
    org_number="556016-0680",
    address="Stora gatan 1",
    industry="Restaurang",
    reason="Iakttagelse",
    agencies=["Polisen"],
    urgency="high",
    visibility="forum",
    period="2026-12-01 – 2026-12-31",
    status="needs_info",
    status_note="Vilka tider?",
    author="Ingrid",
    author_agency="MHF",
    question="Vilka tider?",
    answer=None,
    transitions=list(TRANSITIONS.values()),
    editable=True,
)
POLL = poll_cards.PollCardView(
    id=1,
    question="Kommer du?",
    options=[
        poll_cards.OptionRow("Ja", 2, chosen=True, voters=("Anna", "Per")),
        poll_cards.OptionRow("Nej", 0),
    ],
    multiple=False,
    anonymous=False,
    live=True,
    open=True,
    audience="Hela forumet",
    deadline="Öppen till tisdag",
    answered=2,
    eligible=5,
    votable=True,
    answered_by_reader=True,
    manage="close",
    notice="Sparat",
)
ATTENDANCE = poll_cards.AttendanceCardView(
    poll_id=1,
    meeting_id=2,
    title="Operativt möte",
    when="tisdag 1 december 2026 kl. 09.00–10.30",
    state="Svara senast när mötet börjar",
    open=True,
    options=[
        poll_cards.OptionRow("Ja", 1),
        poll_cards.OptionRow("Nej", 0),
        poll_cards.OptionRow("Kanske", 0),
        poll_cards.OptionRow("Skickar ersättare", 1, chosen=True),
    ],
    coming=2,
    agencies=2,
    answered=2,
    eligible=5,
    substitute="Greta Gransson",
    coordinator=True,
    notice="Sparat",
)
DEAD = DeadLetter(
    id=3,
    idempotency_key="k",
    conversation_id="a:1",
    reason="exhausted",
    attempts=10,
    last_error="503",
    created_at=datetime(2026, 11, 1, tzinfo=UTC),
    last_attempt_at=None,
    preview="Hej",
)


@pytest.fixture(scope="module")
def schema() -> dict:
    text = resources.files("adaptive_cards").joinpath("schemas/schema-1.5.json").read_text("utf-8")
    return json.loads(text)


def every_card(t: Translator) -> dict[str, dict]:
    return {
        "help": help_cards.help_card(t, [("hjälp / help", t("help.cmd.help"))], t("status.unregistered")),
        **{
            f"welcome_{kind}": help_cards.welcome_card(
                t,
                help_cards.WelcomeView(
                    kind,
                    agency="Polisen",
                    commands=[("föreslå / propose", "x")] if kind is help_cards.Welcome.MEMBER else [],
                    forum_channel_elsewhere=True,
                ),
            )
            for kind in help_cards.Welcome
        },
        "registration": membership.registration_card(t, AGENCIES),
        "registration_error": membership.registration_card(t, AGENCIES, selected="POL", error="x"),
        "registration_sent": membership.registration_sent_card(t, MEMBER),
        "pending": membership.pending_registration_card(t, MEMBER, can_grant_coordinator=True),
        "pending_list": membership.pending_list_card(t, [MEMBER, MEMBER], can_grant_coordinator=False),
        "pending_list_empty": membership.pending_list_card(t, [], can_grant_coordinator=False),
        "decided": membership.decided_card(t, MEMBER, True, "Carl"),
        "proposal_form": proposal_cards.form_card(t, agencies=NAMED, industries=NAMED, form_token="tok"),
        "proposal_form_errors": proposal_cards.form_card(
            t,
            agencies=NAMED,
            industries=NAMED,
            values={"name": "X", "agencies": "POL"},
            errors={"name": "form.required", "period_to": "form.period_order"},
            edit=(1, 2),
            number="F-2026-0001",
            form_token="tok",
        ),
        "proposal": proposal_cards.proposal_card(t, PROPOSAL, headline="Nytt"),
        "proposal_no_actions": proposal_cards.proposal_card(
            t, dataclasses.replace(PROPOSAL, transitions=[], editable=False, status_note=None)
        ),
        "proposal_list": proposal_cards.list_card(
            t,
            "Öppna",
            [(1, "F-2026-0001", "Firma", "proposed")],
            page=2,
            more=True,
            filters={"status": "proposed"},
        ),
        "proposal_list_empty": proposal_cards.list_card(t, "Öppna", [], page=1, more=False, filters={}),
        "proposal_history": proposal_cards.history_card(
            t, PROPOSAL, [("1 jan 2026 10:00", "Anna", "skapade")]
        ),
        "proposal_widen": proposal_cards.widen_confirmation_card(
            t, "F-2026-0001", {"name": "X"}, 1, 2, ["Polisen", "Skatteverket"], "tok"
        ),
        "proposal_withdrawn": proposal_cards.withdrawn_card(t, "F-2026-0001"),
        "outbox": outbox_cards.outbox_card(t, {"queued": 1, "dead": 1}, [DEAD]),
        "outbox_empty": outbox_cards.outbox_card(t, {}, []),
        "report_form": report_cards.report_form_card(
            t,
            report_cards.ReportFormView(
                1, "Operativt möte", "Polisen", 0, False, [report_cards.Named("MHF", "MHF")], "tok"
            ),
        ),
        "report_form_errors": report_cards.report_form_card(
            t,
            report_cards.ReportFormView(
                1, "Operativt möte", "Polisen", 2, True, [], "tok", {"seen": "x"}, {"seen": "form.required"}
            ),
            headline="Sparat",
        ),
        "report_compiled": report_cards.compiled_card(
            t,
            report_cards.CompiledView(
                1,
                "Operativt möte",
                "tisdag",
                [
                    report_cards.CompiledEntry("MHF", report_cards.EntryState.SHOWN, "a", "b", "c", "forum"),
                    report_cards.CompiledEntry("POL", report_cards.EntryState.REPORTED),
                    report_cards.CompiledEntry("SKV", report_cards.EntryState.DRAFT, "d"),
                    report_cards.CompiledEntry("TULL", report_cards.EntryState.MISSING),
                ],
                personal=True,
            ),
        ),
        "report_compiled_empty": report_cards.compiled_card(
            t, report_cards.CompiledView(1, "Operativt möte", "tisdag", [], personal=False)
        ),
        "poll_form": poll_cards.poll_form_card(
            t, poll_cards.PollFormView("tok", [poll_cards.Named("POL", "Polisen")], shortcut=True)
        ),
        "poll_form_errors": poll_cards.poll_form_card(
            t,
            poll_cards.PollFormView(
                "tok", [], {"question": "Kommer du?"}, {"options": "poll.form.options_count"}
            ),
        ),
        "poll_open_named": poll_cards.poll_card(t, POLL),
        "poll_hidden_anonymous": poll_cards.poll_card(
            t,
            dataclasses.replace(
                POLL,
                anonymous=True,
                multiple=True,
                options=[poll_cards.OptionRow("Ja", None), poll_cards.OptionRow("Nej", None)],
                manage=None,
                refresh_user="29:x",
                answered_by_reader=True,
            ),
        ),
        "poll_closed": poll_cards.poll_card(
            t, dataclasses.replace(POLL, open=False, manage="reopen", headline="Resultat", exportable=True)
        ),
        "poll_list": poll_cards.poll_list_card(t, [poll_cards.PollRow(1, "Kommer du?", "Öppen")]),
        "poll_list_empty": poll_cards.poll_list_card(t, []),
        "poll_file": poll_cards.poll_file_card(
            t, question="Kommer du?", url="https://x.se/files/t", minutes=15
        ),
        "attendance_open": poll_cards.attendance_card(t, ATTENDANCE),
        "attendance_closed": poll_cards.attendance_card(
            t, dataclasses.replace(ATTENDANCE, open=False, coordinator=False, notice=None, coming=0)
        ),
        "attendance_list": poll_cards.attendance_list_card(
            t,
            poll_cards.AttendanceListView(
                1,
                "Operativt möte",
                "tisdag",
                "Öppen",
                2,
                1,
                3,
                5,
                [poll_cards.AgencyAttendance("Polisen", ["Per"], [("Pia", "Pål")], [], ["Anna"], ["Olle"])],
            ),
        ),
        "attendance_list_empty": poll_cards.attendance_list_card(
            t, poll_cards.AttendanceListView(1, "Möte", "tisdag", "Stängd", 0, 0, 0, 0, [])
        ),
    }


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_card_is_valid_adaptive_card_1_5(schema: dict, language: str) -> None:
    for name, card in every_card(Translator(language)).items():
        assert card["version"] == "1.5", name
        # `msteams` (full width) is Teams' documented host extension, outside the common schema.
        portable = {key: value for key, value in card.items() if key != "msteams"}
        jsonschema.validate(portable, schema)


def test_date_and_time_inputs_have_a_placeholder_in_the_readers_language() -> None:
    """Without one, Teams shows its own in English ("Select a date...") on a Swedish form."""

    for language, date_hint in (("sv", "ÅÅÅÅ-MM-DD"), ("en", "YYYY-MM-DD")):
        t = Translator(language)
        every = [*every_card(t).values(), *meeting_cards(t).values()]
        found = [n for card in every for n in nodes(card) if n.get("type") in ("Input.Date", "Input.Time")]
        assert {"first_date", "start_time", "deadline_date", "period_from"} <= {i["id"] for i in found}
        for block in found:
            assert block["placeholder"] == (
                date_hint if block["type"] == "Input.Date" else Translator(language)("form.time_placeholder")
            )


def test_pending_card_buttons_carry_the_member_and_action() -> None:
    card = membership.pending_registration_card(Translator("sv"), MEMBER, can_grant_coordinator=False)
    data = [a["data"] for a in card["actions"]]
    assert data == [
        {"action": "registration.approve", "member_id": 7, "role": "inspector"},
        {"action": "registration.reject", "member_id": 7},
    ]


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    sv, en = catalogue("sv"), catalogue("en")
    assert sv.keys() == en.keys()
    for key in sv:
        assert placeholders(sv[key]) == placeholders(en[key]), key
        assert sv[key].strip() and en[key].strip(), key


def test_every_text_key_used_in_code_exists() -> None:
    used: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name == "t" and isinstance(node.args[0].value, str):
                    used.add(node.args[0].value)
                if name == "plural" and isinstance(node.args[0].value, str):  # key.one, key.other
                    used |= {f"{node.args[0].value}.one", f"{node.args[0].value}.other"}
    used |= {f"role.{role.value}" for role in Role}
    pattern = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
    missing = {key for key in used if pattern.match(key) and key not in catalogue("sv")}
    assert not missing
    assert len(used) > 20


def test_language_follows_teams_locale() -> None:
    assert language_for("sv-SE") == "sv"
    assert language_for("en-US") == "en"
    assert language_for("en_GB") == "en"
    assert language_for("fi-FI") == "sv"
    assert language_for("fi-FI", "en") == "en"
    assert language_for(None) == "sv"


def test_help_rows_pair_the_swedish_phrasing_with_the_english_one() -> None:
    from bot.dialogs import build_router

    rows = {command.key: command.label for command in build_router().commands if command.in_help}
    assert rows == {
        "help.cmd.help": "hjälp / help",
        "help.cmd.cancel": "avbryt / cancel",
        "help.cmd.whoami": "vem är jag / whoami",
        "help.cmd.language": "språk svenska / language english",
        "help.cmd.link": "koppla kanal / link channel",
        "help.cmd.register": "registrera mig / register",
        "help.cmd.pending": "väntande / pending",
        "help.cmd.propose": "föreslå / propose",
        "help.cmd.my_proposals": "mina förslag / my proposals",
        "help.cmd.proposals": "förslag / proposals",
        "help.cmd.edit": "ändra / edit",
        "help.cmd.outbox": "utkorg / outbox",
        "help.cmd.new_series": "ny mötesserie / new meeting series",
        "help.cmd.meetings": "möten / meetings",
        "help.cmd.meeting": "möte 2026-12-01 / meeting …",
        "help.cmd.status_report": "lägesbild [datum] / status report [date]",
        "help.cmd.move_meeting": "flytta möte 2026-12-01 2026-12-03 10:00 … / move meeting …",
        "help.cmd.cancel_meeting": "ställ in möte 2026-12-01 … / call off meeting …",
        "help.cmd.extra_meeting": "extra möte 2026-12-10 13:00-14:00 … / extra meeting …",
        "help.cmd.end_series": "avsluta mötesserie / end meeting series",
        "help.cmd.reminders": "påminnelser / reminders",
        "help.cmd.new_poll": "ny omröstning / new poll",
        "help.cmd.polls": "omröstningar / polls",
        "help.cmd.attendance": "närvaro [datum] / attendance [date]",
        "help.cmd.book_inspection": "boka tillsyn / book inspection",
        "help.cmd.inspection": "inspektion T-2026-0001 / inspection …",
        "help.cmd.inspections": (
            "inspektioner [månad:2026-12] [myndighet:POL] / inspections [month:…] [agency:…]"
        ),
        "help.cmd.our_inspections": "vår myndighets inspektioner / our inspections",
        "help.cmd.retention": "gallring / retention",
        "help.cmd.followup": (
            "uppföljning [kvartal | förra månaden | Q3 2026 | …] / follow-up [quarter | last month | …]"
        ),
    }
