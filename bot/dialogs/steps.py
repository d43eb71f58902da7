"""A flow's steps as data: which state leads to which, and on what. The Mermaid diagram beside
each flow draws the same steps, and tests/test_state_diagrams.py holds the two together."""

from __future__ import annotations

from dataclasses import dataclass

START = "START"  # before the flow: a command or a card button starts it


@dataclass(frozen=True)
class Step:
    """From `source` (START: from outside the flow) to `target` (the router's END: the flow is
    over), on `name`."""

    source: str
    target: str
    name: str
