"""The real server: `riskpool serve` in its own process on a free port, over an SQLite file or a
PostgreSQL schema, with API keys made by `riskpool keys create`."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

RISKPOOL = [sys.executable, "-c", "from riskpool.cli import main; main()"]
KEY_PEPPER = "e2e-test-pepper-not-a-secret"  # the server's and `riskpool keys create`'s, as in production


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    env: dict[str, str]
    process: subprocess.Popen

    def key(self, role: str, name: str, party: str | None = None, principal: str | None = None) -> str:
        args = ["keys", "create", "--role", role, "--name", name]
        args += ["--party", party] if party else []
        args += ["--principal", principal] if principal else []
        out = subprocess.run(
            [*RISKPOOL, *args], env=self.env, capture_output=True, text=True, check=True
        ).stdout
        return re.search(r"rpk_[A-Za-z0-9_-]+", out).group(0)  # type: ignore[union-attr]

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def start_server(database_url: str, tmp_path: Path, **extra_env: str) -> Server:
    """`riskpool serve` over a store, on a free port, once its health route answers."""
    port = free_port()
    env = (
        os.environ
        | {"RISKPOOL_KEY_PEPPER": KEY_PEPPER}  # `riskpool serve` refuses to start without one
        | extra_env
        | {
            "RISKPOOL_DATABASE_URL": database_url,
            "RISKPOOL_AUDIT_KEY_FILE": str(tmp_path / "riskpool.audit-key"),
            "PYTHONPATH": os.getcwd(),
            "COLUMNS": "250",
        }
    )
    log = tmp_path / "server.log"  # a file, not a pipe nobody reads: a chatty server never blocks
    with log.open("ab") as output:
        process = subprocess.Popen(
            [*RISKPOOL, "serve", "--port", str(port)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return Server(url, env, process)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"the server did not start: {log.read_text()}")
        time.sleep(0.1)


def stop(server: Server) -> None:
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The server over an SQLite file."""
    running = start_server(f"sqlite:///{tmp_path / 'riskpool.db'}", tmp_path)
    yield running
    stop(running)


@pytest.fixture
def server_on_each_store(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """The server over an SQLite file, and over a PostgreSQL schema."""
    running = start_server(database_url, tmp_path)
    yield running
    stop(running)
