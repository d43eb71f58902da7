"""Shared pieces of the benchmarks: ports, child processes, a throwaway PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PG_ADMIN = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until `url` answers (any status); fail if `process` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def spawn(
    args: Sequence[str], log: IO[bytes], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        list(args), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd, stdin=subprocess.DEVNULL
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def start_connector(log: IO[bytes], *, teams_limits: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    """The fake Bot Connector in a process of its own (with Teams' limits, if asked); returns it
    and its base URL."""
    port = free_port()
    command = [sys.executable, str(BENCH / "connector.py"), "--port", str(port)]
    process = spawn(command + (["--teams-limits"] if teams_limits else []), log)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/bench/stats", process, 20)
    return process, url


def connector_stats(url: str, first: str | None = None) -> dict[str, Any]:
    """Request counts; with `first`, also when that conversation's first message arrived."""
    import json
    from urllib.parse import quote

    query = f"?first={quote(first)}" if first else ""
    with urllib.request.urlopen(f"{url}/bench/stats{query}", timeout=5) as response:
        stats: dict[str, Any] = json.loads(response.read())
        return stats


class PostgresDatabase:
    """A fresh database on the server of `admin_url`, created on entry and dropped on exit."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"forumbot_bench_{uuid.uuid4().hex[:10]}"

    @property
    def url(self) -> str:
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{self.name}"

    async def _admin(self, sql: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    def __enter__(self) -> PostgresDatabase:
        asyncio.run(self._admin(f'CREATE DATABASE "{self.name}"'))
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]
