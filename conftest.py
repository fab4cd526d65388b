"""Test-wide options and the stores every store-dependent test runs on: SQLite and PostgreSQL.

PostgreSQL tests run against RISKPOOL_TEST_POSTGRES_URL (default: the local server's `test`
database), each in a throw-away schema. Without a reachable server they are skipped with the
reason shown; with RISKPOOL_REQUIRE_POSTGRES=1 (as `.ci/run` sets) they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("RISKPOOL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run long soak and fuzz tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _postgres_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except Exception as error:
        return f"no PostgreSQL at {POSTGRES_URL}: {error}".splitlines()[0]


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    if os.environ.get("RISKPOOL_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here: {problem}")
    pytest.skip(problem)


@pytest.fixture
def postgres_schema(postgres_available: None) -> Iterator[str]:
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    yield schema
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store of each kind, as RISKPOOL_DATABASE_URL: an SQLite file (its signing key beside it),
    or a PostgreSQL schema (its signing key in the test's own folder, as RISKPOOL_AUDIT_KEY_FILE)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("RISKPOOL_AUDIT_KEY_FILE", str(tmp_path / "riskpool.audit-key"))
    return f"{POSTGRES_URL}?schema={request.getfixturevalue('postgres_schema')}"


@pytest.fixture
def store_env(database_url: str) -> dict[str, str]:
    """The `eventsourcing` settings of that store."""
    from riskpool.settings import Settings

    return Settings(database_url=database_url).event_store_env()


@pytest.fixture
def read_models_url(database_url: str) -> str:
    """The projections beside it: a sibling SQLite file, or the same PostgreSQL schema."""
    from riskpool.settings import Settings

    return Settings(database_url=database_url).read_models_url()
