"""Every state machine's Mermaid diagram names the same states and steps as its code: the
registration flow, the proposal form and the proposal lifecycle (against `TRANSITIONS`)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest

from bot.dialogs import build_router, membership
from bot.dialogs import inspections as inspection_dialogs
from bot.dialogs import meetings as meeting_dialogs
from bot.dialogs import polls as poll_dialogs
from bot.dialogs import proposals as proposal_dialogs
from bot.dialogs import reports as report_dialogs
from bot.dialogs.router import END
from bot.dialogs.steps import START, Step
from bot.domain.proposals import OPEN, TRANSITIONS, Status

BOT = Path(__file__).resolve().parent.parent / "bot"
LIFECYCLE = BOT / "domain" / "proposals.mmd"
# diagram -> (the states' enum, the steps), for the flows in bot/dialogs
FLOWS: dict[Path, tuple[type[StrEnum], tuple[Step, ...]]] = {
    BOT / "dialogs" / "registration.mmd": (membership.RegistrationState, membership.STEPS),
    BOT / "dialogs" / "proposals.mmd": (proposal_dialogs.FormState, proposal_dialogs.FORM_STEPS),
    BOT / "dialogs" / "meetings.mmd": (meeting_dialogs.SeriesState, meeting_dialogs.SERIES_STEPS),
    BOT / "dialogs" / "reminders.mmd": (meeting_dialogs.PlanState, meeting_dialogs.PLAN_STEPS),
    BOT / "dialogs" / "reports.mmd": (report_dialogs.ReportState, report_dialogs.REPORT_STEPS),
    BOT / "dialogs" / "polls.mmd": (poll_dialogs.PollState, poll_dialogs.POLL_STEPS),
    BOT / "dialogs" / "inspections.mmd": (inspection_dialogs.BookingState, inspection_dialogs.BOOKING_STEPS),
}

# Mermaid ends a label at a colon or a semicolon: neither may appear in one.
_EDGE = re.compile(r"^(?P<source>\[\*\]|\w+) --> (?P<target>\[\*\]|\w+)(?:: (?P<label>[^:;]+))?$")


@dataclass(frozen=True)
class Edge:
    source: str  # START for the diagram's [*] as a source
    target: str  # END for [*] as a target
    name: str | None  # the label's first word


def edges(diagram: Path) -> list[Edge]:
    """The diagram's transitions. Anything else in it but its header and %% comments is refused,
    so that nothing drawn escapes the check."""
    lines = [line.strip() for line in diagram.read_text("utf-8").splitlines() if line.strip()]
    assert lines[0] == "stateDiagram-v2", diagram.name
    found = []
    for line in lines[1:]:
        if line.startswith("%%"):
            continue
        match = _EDGE.match(line)
        assert match, f"{diagram.name}: not understood: {line}"
        label = match["label"]
        name = re.match(r"\w+", label) if label else None
        found.append(
            Edge(
                START if match["source"] == "[*]" else match["source"],
                END if match["target"] == "[*]" else match["target"],
                name.group() if name else None,
            )
        )
    return found


def states(found: list[Edge] | tuple[Step, ...]) -> set[str]:
    return {s for edge in found for s in (edge.source, edge.target)} - {START, END}


def test_every_diagram_is_checked() -> None:
    assert set(BOT.rglob("*.mmd")) == {*FLOWS, LIFECYCLE}


def test_every_flow_of_the_router_has_its_diagram_and_states() -> None:
    flows = build_router().flows
    assert flows, "no flows routed"
    for name, flow in flows.items():
        diagram = BOT / "dialogs" / f"{name}.mmd"
        assert diagram in FLOWS, f"flow {name} has no checked diagram"
        enum, _ = FLOWS[diagram]
        assert set(flow.states) == {s.value for s in enum}, name


@pytest.mark.parametrize("diagram", list(FLOWS), ids=lambda path: path.name)
def test_a_flows_diagram_draws_its_states_and_steps(diagram: Path) -> None:
    enum, steps = FLOWS[diagram]
    drawn = edges(diagram)
    assert all(edge.name for edge in drawn), "every step is named"
    assert {(e.source, e.target, e.name) for e in drawn} == {(s.source, s.target, s.name) for s in steps}
    assert len(drawn) == len(steps), "each step drawn once"
    assert states(drawn) == states(steps) == {s.value for s in enum}


def test_the_lifecycle_diagram_draws_every_transition() -> None:
    drawn = [edge for edge in edges(LIFECYCLE) if edge.source != START and edge.target != END]
    by_name: dict[str | None, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for edge in drawn:
        by_name[edge.name][0].add(edge.source)
        by_name[edge.name][1].add(edge.target)
    assert dict(by_name) == {
        name: ({s.value for s in t.sources}, {t.target.value}) for name, t in TRANSITIONS.items()
    }
    assert len(drawn) == sum(len(t.sources) for t in TRANSITIONS.values()), "each edge drawn once"


def test_the_lifecycle_starts_proposed_and_ends_where_a_proposal_is_closed() -> None:
    found = edges(LIFECYCLE)
    assert [(e.target, e.name) for e in found if e.source == START] == [(Status.PROPOSED, "create")]
    ends = [e for e in found if e.target == END]
    assert all(e.name is None for e in ends)
    assert {e.source for e in ends} == {s.value for s in set(Status) - OPEN}
    assert states(found) == {s.value for s in Status}
