"""Findings 6 and 14 of issue 11, for the projection runner: one runner per store (two servers on
one store once both applied every batch, 298 failed batches in 20 s); a runner that cannot apply
an event backs off instead of looping, logs a line a minute, and /v1/health says it is degraded,
with the lag and the failing position. On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from features.world import SCHEME, TODAY, fund_manager, yuan
from projections import runner as runner_module
from projections.runner import Runner
from riskpool.bootstrap import System, build_system
from riskpool.settings import Settings
from tests.integration.test_projections import busy_world


@pytest.fixture
def system(database_url: str) -> System:
    built = build_system(Settings(database_url=database_url), clock=lambda: TODAY)
    busy_world(built.ledger)
    yield built
    built.close()


def contribute(system: System, n: int) -> None:
    for _ in range(n):
        system.ledger.record_contribution(
            fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2020, 1, 1)
        )


def until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_second_runner_on_the_same_store_waits_quietly_and_takes_over_when_the_first_stops(
    system: System, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "LEASE_RETRY_SECONDS", 0.1)
    first = system.runner
    second = Runner(system.ledger, system.store, signer=None)
    applied_by_second: list[int] = []
    original = second.run_once
    second.run_once = lambda: applied_by_second.append(1) or original()  # type: ignore[method-assign]
    caplog.set_level(logging.INFO, logger="projections.runner")
    first.start()
    assert until(lambda: first.lease.held)
    second.start()
    contribute(system, 50)
    end = system.ledger.recorder.max_notification_id()
    second.wait_for(end, timeout=10)  # the second follows the tables the first writes
    assert first.position == end and second.position == end
    assert applied_by_second == [] and not second.lease.held
    waiting = [r for r in caplog.records if "holds this store's lease" in r.getMessage()]
    assert len(waiting) == 1 and not [r for r in caplog.records if r.levelno >= logging.ERROR]
    first.stop()
    contribute(system, 10)
    end = system.ledger.recorder.max_notification_id()
    assert until(lambda: second.lease.held and second.position == end)
    second.stop()


def test_a_runner_that_cannot_apply_an_event_backs_off_and_health_names_the_position(
    system: System, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = system.runner
    runner.catch_up()
    stuck_at = runner.position + 1
    attempts: list[float] = []

    def refuse() -> None:
        attempts.append(time.monotonic())
        raise RuntimeError("the read models refused the row")

    runner.before_tracking = refuse
    contribute(system, 20)
    caplog.set_level(logging.INFO, logger="projections.runner")
    with TestClient(create_app(system)) as client:
        assert until(lambda: runner.failing is not None)
        time.sleep(1.5)
        health = client.get("/v1/health").json()
        assert health["status"] == "degraded" and health["failing_position"] == stuck_at
        assert health["lag"] == system.ledger.recorder.max_notification_id() - runner.position > 0
        assert "RuntimeError: the read models refused the row" in health["problems"][0]
        # A backoff, not a tight loop: 0.1 s, 0.2 s, 0.4 s, 0.8 s … a handful of tries in 1.5 s.
        assert 2 <= len(attempts) <= 6, len(attempts)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1  # the first failure, with its traceback; then a line a minute at most
        runner.before_tracking = None
        end = system.ledger.recorder.max_notification_id()
        assert until(lambda: runner.position == end, seconds=70)
        assert client.get("/v1/health").json() | {"log_position": 0, "projections_position": 0} == {
            "status": "ok",
            "log_position": 0,
            "projections_position": 0,
            "lag": 0,
            "failing_position": None,
            "problems": [],
        }
