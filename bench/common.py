"""What every benchmark shares: where it runs, how it times, and what it reports."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from riskpool.settings import Settings


@dataclass(frozen=True)
class Sizes:
    """How much work each benchmark does: the full run, or the quick smoke test."""

    command_loans: int
    tape_loans: int
    report_loans: int
    report_samples: int
    api_claims: int
    api_connections: int
    history_small: int
    history_large: int
    history_samples: int

    @classmethod
    def full(cls) -> Sizes:
        return cls(3_000, 100_000, 100_000, 300, 3_000, 32, 1_000, 1_000_000, 300)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(150, 5_000, 3_000, 40, 200, 32, 1_000, 8_000, 40)


@dataclass
class Figure:
    """One measured figure beside its baseline from the same run, and the target for their ratio
    (or, for latencies, the bound)."""

    benchmark: str
    store: str
    what: str
    value: float
    unit: str
    baseline_what: str = ""
    baseline: float | None = None
    target: str = ""
    met: bool | None = None
    notes: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline


@dataclass
class Profile:
    benchmark: str
    store: str
    why: str
    text: str


@dataclass
class Results:
    figures: list[Figure] = field(default_factory=list)
    profiles: list[Profile] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    # Per store, the bytes each event takes on disk: in the event store, and in the read models
    # (Merkle tree and audit index included), measured after a catch-up (BENCHMARKS.md, Scale).
    storage: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure


class Store:
    """A fresh, empty database for one benchmark: an SQLite file in a temporary directory, or a
    new schema in the configured PostgreSQL database (dropped afterwards)."""

    def __init__(self, name: str, postgres_url: str | None = None) -> None:
        assert name in ("sqlite", "postgres")
        assert name == "sqlite" or postgres_url
        self.name, self.postgres_url = name, postgres_url

    @contextmanager
    def fresh(self) -> Iterator[Settings]:
        if self.name == "sqlite":
            directory = Path(tempfile.mkdtemp(prefix="riskpool-bench-"))
            try:
                yield Settings(database_url=f"sqlite:///{directory / 'ledger.db'}")
            finally:
                shutil.rmtree(directory, ignore_errors=True)
            return
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.plain_url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        directory = Path(tempfile.mkdtemp(prefix="riskpool-bench-"))
        try:
            yield Settings(
                database_url=f"{self.plain_url()}?schema={schema}",
                audit_key_file=directory / "audit-key",
            )
        finally:
            with psycopg.connect(self.plain_url(), autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
            shutil.rmtree(directory, ignore_errors=True)

    def plain_url(self) -> str:
        assert self.postgres_url is not None
        url = urlsplit(self.postgres_url)
        return url._replace(query="").geturl()


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def latencies_ms(operations: list[Callable[[], Any]]) -> list[float]:
    out = []
    for operation in operations:
        started = time.perf_counter()
        operation()
        out.append((time.perf_counter() - started) * 1000)
    return out


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))
