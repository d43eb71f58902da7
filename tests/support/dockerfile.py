"""Just enough of a Dockerfile reader to replay deployment/Dockerfile's install steps without Docker.

It reads the instructions the file uses (FROM, ENV, WORKDIR, COPY, RUN, USER, EXPOSE, HEALTHCHECK,
CMD, LABEL, ARG) and refuses others, so that a new instruction in the Dockerfile is noticed here
rather than silently skipped by the replay.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

KNOWN = {"FROM", "ENV", "WORKDIR", "COPY", "RUN", "USER", "EXPOSE", "HEALTHCHECK", "CMD", "LABEL", "ARG"}


@dataclass
class Instruction:
    keyword: str
    arguments: str
    line: int

    def exec_form(self) -> list[str]:
        """The arguments as a command: JSON (exec) form as it is, shell form through sh -c."""
        text = self.arguments.strip()
        if text.startswith("["):
            command = json.loads(text)
            assert isinstance(command, list) and all(isinstance(part, str) for part in command)
            return command
        return ["sh", "-c", text]


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse(text: str) -> list[Stage]:
    """The file's stages in order, each with its instructions (continuation lines joined)."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        keyword, _, arguments = " ".join(part.strip() for part in pending).partition(" ")
        pending = []
        keyword = keyword.upper()
        if keyword not in KNOWN:
            raise ValueError(f"line {start}: {keyword} is not replayed by tests/support/dockerfile.py")
        instructions.append(Instruction(keyword, arguments.strip(), start))
    stages: list[Stage] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", instruction.arguments, re.IGNORECASE)
            if not match:
                raise ValueError(f"line {instruction.line}: cannot read FROM {instruction.arguments}")
            stages.append(Stage(match.group(1), match.group(2) or str(len(stages))))
        elif instruction.keyword == "ARG" and not stages:
            continue
        elif not stages:
            raise ValueError(f"line {instruction.line}: {instruction.keyword} before FROM")
        else:
            stages[-1].instructions.append(instruction)
    return stages


def env_pairs(arguments: str) -> list[tuple[str, str]]:
    """ENV KEY=VALUE KEY2="VALUE 2" ... as pairs (the legacy `ENV KEY VALUE` form too)."""
    words = shlex.split(arguments)
    if words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]
    return [tuple(word.split("=", 1)) for word in words]  # type: ignore[misc]


def copy_arguments(arguments: str) -> tuple[str | None, list[str], str]:
    """COPY [--from=STAGE] SRC... DEST as (stage or None, sources, destination)."""
    words = shlex.split(arguments)
    stage = None
    while words and words[0].startswith("--"):
        option = words.pop(0)
        if option.startswith("--from="):
            stage = option.removeprefix("--from=")
        else:
            raise ValueError(f"COPY option {option} is not replayed")
    return stage, words[:-1], words[-1]


def healthcheck_command(arguments: str) -> list[str]:
    """The command of `HEALTHCHECK [OPTIONS] CMD ...`."""
    _, _, command = arguments.partition("CMD ")
    if not command:
        raise ValueError("HEALTHCHECK without CMD")
    return Instruction("CMD", command, 0).exec_form()
