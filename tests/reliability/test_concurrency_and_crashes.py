"""Nothing lost, nothing doubled, nobody past the rules: concurrent clients on two servers over
one PostgreSQL, then servers and the projection runner killed with -9 under load."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest

from tests.reliability.harness import Cluster, check_everything, prepare, run_load

pytestmark = pytest.mark.usefixtures("postgres_available")
FIGURES = Path(__file__).with_name("figures.jsonl")


@pytest.fixture
def cluster(postgres_schema: str, tmp_path: Path):
    from conftest import POSTGRES_URL

    cluster = Cluster(f"{POSTGRES_URL}?schema={postgres_schema}", tmp_path)
    prepare(cluster)
    yield cluster
    cluster.stop()


def record(test: str, figures: dict) -> None:
    """Append this run's figures (RELIABILITY.md quotes them)."""
    with FIGURES.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"test": test, **figures}) + "\n")


def test_sixteen_concurrent_clients_on_two_servers_lose_and_double_nothing(cluster: Cluster) -> None:
    cluster.add_server(runner=True).start()
    cluster.add_server(runner=False).start()
    started = time.monotonic()
    outcomes, retries = run_load(cluster, clients_per_bank=4, seconds=20)
    figures = check_everything(cluster, outcomes)
    assert figures["writes refused"] > 0  # leverage and claim races did refuse writes
    record(
        "concurrency",
        figures
        | {"clients": 18, "servers": 2, "retries": retries, "seconds": round(time.monotonic() - started, 1)},
    )


def chaos(nodes: list, stop: threading.Event, rng: random.Random, *, every: tuple[float, float]) -> None:
    """Kill -9 a node at random moments and start it again, until told to stop."""
    while not stop.wait(rng.uniform(*every)):
        node = rng.choice(nodes)
        node.kill()
        node.start()


def load_with_kills(cluster: Cluster, victims: list, *, seed: int, every: tuple[float, float]):
    """Two clients per bank for 20 s while `chaos` kills the victims; then every check."""
    stop, rng = threading.Event(), random.Random(seed)
    killer = threading.Thread(target=chaos, args=(victims, stop, rng), kwargs={"every": every})
    started = time.monotonic()
    killer.start()
    outcomes, retries = run_load(cluster, clients_per_bank=2, seconds=20)
    stop.set()
    killer.join()
    figures = check_everything(cluster, outcomes)
    return figures, retries, round(time.monotonic() - started, 1)


def test_servers_killed_mid_load_lose_no_acknowledged_write(cluster: Cluster) -> None:
    servers = [cluster.add_server(runner=True), cluster.add_server(runner=False)]
    for server in servers:
        server.start()
    figures, retries, seconds = load_with_kills(cluster, servers, seed=11, every=(1.5, 3.0))
    crashes = sum(s.kills for s in servers)
    assert crashes >= 3 and figures["approvals"] > 0
    record(
        "server crashes",
        figures
        | {
            "clients": 10,
            "crashes": crashes,
            "retries": retries,
            "seconds": seconds,
        },
    )


def test_a_projection_runner_killed_mid_load_resumes_exactly_once(cluster: Cluster) -> None:
    cluster.add_server(runner=False).start()
    runner = cluster.add_runner()
    runner.start()
    figures, retries, seconds = load_with_kills(cluster, [runner], seed=13, every=(2.0, 4.0))
    assert runner.kills >= 3 and figures["approvals"] > 0  # the claims queue kept moving between crashes
    record(
        "runner crashes",
        figures
        | {
            "clients": 10,
            "crashes": runner.kills,
            "retries": retries,
            "seconds": seconds,
        },
    )
