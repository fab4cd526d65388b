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
from urllib.parse import urlsplit

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


def postgres_env(schema: str) -> dict[str, str]:
    url = urlsplit(POSTGRES_URL)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/"),
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_LOCK_TIMEOUT": "10",
    }


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The event store settings of one real store: an SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "ledger.db")}
    return postgres_env(request.getfixturevalue("postgres_schema"))


@pytest.fixture
def read_models_url(store_env: dict[str, str], tmp_path: Path) -> str:
    """The projections' SQLAlchemy URL beside `store_env`: a sibling SQLite file, or the same
    PostgreSQL schema."""
    if store_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        return f"sqlite:///{tmp_path / 'ledger.projections.db'}"
    url = urlsplit(POSTGRES_URL)
    return (
        f"postgresql+psycopg://{url.netloc}{url.path}?options=-csearch_path%3D{store_env['POSTGRES_SCHEMA']}"
    )
