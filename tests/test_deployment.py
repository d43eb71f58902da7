"""The deployment files, checked offline: this machine has no Docker engine and no Azure.

- m365agents.yml against the Microsoft 365 Agents Toolkit's own schema (taken from its CLI's npm
  package by `./dev test` into .tools/npm; or $M365AGENTS_SCHEMAS), and docker-compose.yml with its
  Caddyfile for what scale-out needs (checkov reads neither).
- checkov (its own virtual environment in .tools/checkov, version pinned in `./dev`; or $CHECKOV)
  scans the Dockerfile, the Bicep and every file for secrets: no failed check, and every skipped
  one carries its reason beside it.
- deployment/Dockerfile's install steps run in a fresh virtual environment, as the image's build
  stage would, and what they install must be exactly deployment/constraints.txt, which must be
  what this test run itself imports: the image ships the versions the tests ran with. The result
  then migrates a database and serves /healthz, probed by the Dockerfile's own HEALTHCHECK.

Both fail rather than skip when a tool is missing: a deployment that was never checked must not
look green.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from tests.support import dockerfile

REPO = Path(__file__).resolve().parent.parent
DEPLOYMENT = REPO / "deployment"
DOCKERFILE = DEPLOYMENT / "Dockerfile"
CONSTRAINTS = DEPLOYMENT / "constraints.txt"
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    """deployment/constraints.txt as {canonical name: version}."""
    found: dict[str, str] = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, separator, version = line.partition("==")
        assert separator, f"deployment/constraints.txt: {line!r} is not NAME==VERSION"
        found[canonical(name)] = version.strip()
    return found


# --------------------------------------------------------------------------------------------
# The Agents Toolkit's project file, and the local scale-out


def test_m365agents_yml_follows_the_toolkits_schema() -> None:
    project = yaml.safe_load((DEPLOYMENT / "m365agents.yml").read_text(encoding="utf-8"))
    configured = os.environ.get("M365AGENTS_SCHEMAS")
    folder = (
        Path(configured)
        if configured
        else REPO / ".tools" / "npm" / "m365agentstoolkit-cli-1.1.17" / "yaml-schema"
    )
    path = folder / project["version"] / "yaml.schema.json"
    if not path.is_file():
        pytest.fail(f"the Agents Toolkit's schema is missing at {path}; `./dev test` fetches it")
    validator = Draft7Validator(json.loads(path.read_text(encoding="utf-8")))
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in validator.iter_errors(project)
    ]
    assert not problems, "\n".join(problems)
    # every lifecycle step the README promises, and the package built from manifest/
    assert {"provision", "deploy", "publish"} <= set(project)
    uses = [step["uses"] for step in project["publish"]]
    assert uses[-1] == "teamsApp/publishAppPackage"
    for step in (*project["provision"], *project["publish"]):
        if step["uses"] in ("teamsApp/zipAppPackage", "teamsApp/validateManifest"):
            assert (
                DEPLOYMENT / step["with"]["manifestPath"]
            ).resolve() == REPO / "manifest" / "manifest.json"
    for step in (*project["provision"], *project["deploy"]):
        for script in re.findall(r"azure/[\w.]+", step.get("with", {}).get("run", "")):
            assert (DEPLOYMENT / script).is_file(), script


def test_compose_runs_two_replicas_behind_the_proxy_after_one_migration() -> None:
    compose = yaml.safe_load((DEPLOYMENT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    bots = sorted(name for name in services if name.startswith("bot-"))
    assert bots == ["bot-1", "bot-2"]
    migrate = services["migrate"]
    assert migrate["command"] == ["forumbot", "db", "upgrade"]
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in bots:
        bot = services[name]
        assert "command" not in bot, "the replicas run the image's own command"
        assert bot["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert bot["environment"] == migrate["environment"]
        assert bot["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert bot["environment"]["FORUMBOT_FILE_LINK_SECRET"].startswith("${FORUMBOT_FILE_LINK_SECRET:?")
    # Teams' 50 a second per app and tenant, shared by the replicas
    assert sum(float(services[name]["environment"]["FORUMBOT_OUTBOX_GLOBAL_RATE"]) for name in bots) <= 48
    # the proxy reaches each replica on the image's port and checks its readiness
    port = dict(dockerfile.env_pairs(" ".join(i.arguments for i in Replay.runtime_env())))["PORT"]
    caddyfile = (DEPLOYMENT / "Caddyfile").read_text(encoding="utf-8")
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile)
    assert upstreams and upstreams.group(1).split() == [f"{name}:{port}" for name in bots]
    assert "health_uri /readyz" in caddyfile
    assert services["proxy"]["volumes"] == ["./Caddyfile:/etc/caddy/Caddyfile:ro"]


# --------------------------------------------------------------------------------------------
# checkov


def checkov_command() -> list[str]:
    configured = os.environ.get("CHECKOV")
    path = Path(configured) if configured else REPO / ".tools" / "checkov" / "bin" / "checkov"
    if not path.is_file():
        pytest.fail(
            f"checkov is missing at {path}; `./dev test` installs it into .tools/checkov "
            "(or point CHECKOV at a checkov executable)"
        )
    return [str(path)]


@pytest.fixture(scope="module")
def checkov_reports() -> dict[str, dict[str, Any]]:
    result = subprocess.run(
        [
            *checkov_command(),
            "--directory",
            str(DEPLOYMENT),
            "--framework",
            "dockerfile",
            "bicep",
            "secrets",
            "--skip-download",  # offline: no Prisma Cloud guidelines or policies
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    # 0: everything passed; 1: something failed (reported below); anything else: checkov broke
    assert result.returncode in (0, 1), result.stderr[-3000:]
    parsed = json.loads(result.stdout)
    reports = parsed if isinstance(parsed, list) else [parsed]
    return {report["check_type"]: report for report in reports}


def test_checkov_scans_every_deployment_file(checkov_reports: dict[str, dict[str, Any]]) -> None:
    assert set(checkov_reports) == {"dockerfile", "bicep", "secrets"}
    for kind in ("dockerfile", "bicep"):
        summary = checkov_reports[kind]["summary"]
        assert summary["parsing_errors"] == 0, f"checkov could not read a {kind} file"
        assert summary["passed"] > 0, f"checkov checked nothing in the {kind} files"
    scanned = {check["file_path"] for check in checkov_reports["bicep"]["results"]["passed_checks"]}
    assert "/azure/main.bicep" in scanned
    scanned = {check["file_path"] for check in checkov_reports["dockerfile"]["results"]["passed_checks"]}
    assert "/Dockerfile" in scanned


def test_checkov_finds_nothing_unexplained(checkov_reports: dict[str, dict[str, Any]]) -> None:
    failed = [
        f"{check['check_id']} {check['check_name']}: {check['resource']} in "
        f"deployment{check['file_path']}:{check['file_line_range'][0]}"
        for report in checkov_reports.values()
        for check in report["results"]["failed_checks"]
    ]
    assert not failed, "checkov failed checks:\n" + "\n".join(failed)
    unexplained = [
        f"{check['check_id']} in deployment{check['file_path']}"
        for report in checkov_reports.values()
        for check in report["results"]["skipped_checks"]
        if len((check.get("check_result") or {}).get("suppress_comment", "").strip()) < 20
    ]
    assert not unexplained, "skipped without a reason: " + ", ".join(unexplained)


# --------------------------------------------------------------------------------------------
# The Dockerfile's install steps, replayed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Replay:
    """deployment/Dockerfile's stages replayed under `root`, which stands for the image's /.

    The build stage runs as written (its RUN lines with the paths moved under `root`); the runtime
    stage's COPY, WORKDIR and ENV are applied and its RUN lines, which only add the user, are not
    run (they must install nothing)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.stages = dockerfile.parse(DOCKERFILE.read_text(encoding="utf-8"))
        self.env: dict[str, str] = {}
        self.workdir = root
        tops = {"opt"}
        for stage in self.stages:
            for instruction in stage.instructions:
                if instruction.keyword == "WORKDIR":
                    tops.add(instruction.arguments.strip("/").split("/")[0])
                elif instruction.keyword == "COPY":
                    tops.add(dockerfile.copy_arguments(instruction.arguments)[2].strip("/").split("/")[0])
        self._paths = re.compile(r"(?<![\w./$-])/(" + "|".join(sorted(map(re.escape, tops))) + r")(?=/|\b)")

    @staticmethod
    def runtime_env() -> list[dockerfile.Instruction]:
        """The runtime stage's ENV instructions."""
        return dockerfile.parse(DOCKERFILE.read_text(encoding="utf-8"))[-1].all("ENV")

    def move(self, text: str) -> str:
        """A path or command of the image with its absolute paths under `root`."""
        return self._paths.sub(lambda m: f"{self.root}/{m.group(1)}", text)

    def base_env(self) -> dict[str, str]:
        # the machine's pip settings (index, certificates) and nothing of this test run's own
        # Python: no PYTHONPATH, which would import the source tree instead of the installed wheel
        keep = {
            k: v for k, v in os.environ.items() if k.startswith("PIP_") or k in ("HOME", "LANG", "TMPDIR")
        }
        shim = self.root / ".python"
        shim.mkdir(exist_ok=True)
        python = shim / "python"
        if not python.exists():  # the base image's `python`: this interpreter
            python.symlink_to(sys.executable)
        # no bytecode compiled at install: it changes nothing this checks and takes half the time
        return {**keep, "PIP_NO_COMPILE": "1", "PATH": f"{shim}:/usr/local/bin:/usr/bin:/bin"}

    def apply_env(self, arguments: str) -> None:
        for key, value in dockerfile.env_pairs(arguments):
            value = value.replace("$PATH", self.env.get("PATH", ""))
            self.env[key] = self.move(value)

    def copy(self, arguments: str) -> None:
        stage, sources, destination = dockerfile.copy_arguments(arguments)
        target = Path(self.move(destination)) if destination.startswith("/") else self.workdir / destination
        if stage is not None:  # from the build stage: the same tree here
            assert [self.move(source) for source in sources] == [str(target)], (
                "COPY --from must keep the path (the virtual environment's scripts name it)"
            )
            return
        for source in sources:
            origin = REPO / source
            assert origin.exists(), f"COPY {source}: not in the repository"
            into = target / origin.name if destination.endswith("/") or len(sources) > 1 else target
            into.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                shutil.copytree(origin, into, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(origin, into)

    def run_stage(self, index: int, run_commands: bool) -> None:
        self.env = self.base_env()
        self.workdir = self.root
        for instruction in self.stages[index].instructions:
            if instruction.keyword == "ENV":
                self.apply_env(instruction.arguments)
            elif instruction.keyword == "WORKDIR":
                self.workdir = Path(self.move(instruction.arguments))
                self.workdir.mkdir(parents=True, exist_ok=True)
            elif instruction.keyword == "COPY":
                self.copy(instruction.arguments)
            elif instruction.keyword == "RUN":
                command = self.move(instruction.arguments)
                if not run_commands:
                    assert "pip" not in command, "the runtime stage must install nothing"
                    continue
                result = subprocess.run(
                    ["bash", "-c", "set -e; " + command],
                    cwd=self.workdir,
                    env=self.env,
                    capture_output=True,
                    text=True,
                    timeout=240,
                    check=False,
                )
                assert result.returncode == 0, (
                    f"RUN at line {instruction.line} failed:\n{result.stderr[-4000:]}"
                )

    def command(self, instruction: str) -> list[str]:
        (found,) = self.stages[-1].all(instruction)
        if instruction == "HEALTHCHECK":
            return dockerfile.healthcheck_command(found.arguments)
        return found.exec_form()


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    """The image, replayed: the build stage's install steps in a fresh virtual environment."""
    replay = Replay(tmp_path_factory.mktemp("image"))
    assert len(replay.stages) == 2, "a build stage and a runtime stage"
    replay.run_stage(0, run_commands=True)
    replay.run_stage(1, run_commands=False)
    return replay


def test_the_image_installs_exactly_the_pinned_versions(image: Replay) -> None:
    python = Path(image.env["PATH"].split(":")[0]) / "python"
    assert python.is_file(), "the runtime stage's PATH starts with the virtual environment"
    frozen = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--all", "--exclude", "pip", "--exclude", "forumbot"],
        env=image.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    installed = {
        canonical(name): version
        for name, _, version in (line.partition("==") for line in frozen.splitlines())
        if version and canonical(name) not in ("setuptools", "wheel")
    }
    pinned = pins()
    unpinned = sorted(f"{name}=={version}" for name, version in installed.items() if name not in pinned)
    assert not unpinned, (
        f"the image installs packages deployment/constraints.txt does not pin: {unpinned}; "
        "regenerate it with ./dev lock"
    )
    assert installed == pinned, "deployment/constraints.txt pins packages the image does not install"


def test_the_tests_run_with_the_versions_the_image_ships() -> None:
    differing = []
    for name, version in pins().items():
        try:
            here = metadata.version(name)
        except metadata.PackageNotFoundError:
            here = "nothing"
        if here != version:
            differing.append(f"{name}: the image {version}, these tests {here}")
    assert not differing, (
        "this environment differs from deployment/constraints.txt (./dev installs with it as "
        "constraints; reinstall, or regenerate the pins with ./dev lock):\n" + "\n".join(differing)
    )


def test_the_image_migrates_serves_and_passes_its_healthcheck(image: Replay, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **image.env,
        # what main.bicep gives the container in Azure, with a local SQLite database
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'forumbot.db'}",
        "MicrosoftAppType": "UserAssignedMSI",
        "MicrosoftAppId": APP_ID,
        "MicrosoftAppTenantId": TENANT_ID,
        "FORUMBOT_PUBLIC_URL": "https://forumbot.example.se",
        "FORUMBOT_FILE_LINK_SECRET": "x" * 48,
        "FORUMBOT_ALLOWED_TENANTS": TENANT_ID,
    }
    assert env["FORUMBOT_ENV"] == "production", "the image runs in production mode"
    assert Path(env["FORUMBOT_AGENCIES_FILE"]).is_file()
    # the one-shot migration step, then the image's command (on loopback here)
    migrated = subprocess.run(
        ["forumbot", "db", "upgrade"],
        cwd=image.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    command = [part.replace("0.0.0.0", "127.0.0.1") for part in image.command("CMD")]
    server = subprocess.Popen(
        command, cwd=image.workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        healthcheck = image.command("HEALTHCHECK")
        deadline = time.monotonic() + 60
        while True:
            probe = subprocess.run(
                healthcheck, env=env, capture_output=True, text=True, timeout=30, check=False
            )
            if probe.returncode == 0:
                break
            assert server.poll() is None, f"the server stopped:\n{server.communicate()[0][-3000:]}"
            assert time.monotonic() < deadline, f"the HEALTHCHECK never passed: {probe.stderr[-2000:]}"
            time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGTERM)  # what `docker stop` sends to process 1
        output = server.communicate(timeout=90)[0]
    assert server.returncode == 0, output[-3000:]
    # and nothing of the source tree was needed: the package came from the wheel
    assert "Traceback" not in output
