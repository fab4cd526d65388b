"""The machine and the versions a report was measured with."""

from __future__ import annotations

import platform
import sqlite3
import sys
from importlib.metadata import version
from pathlib import Path

from bench.common import cpu_count

PACKAGES = ("eventsourcing", "SQLAlchemy", "fastapi", "pydantic", "uvicorn", "psycopg", "httpx")


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def postgres_version(url: str | None) -> str | None:
    if not url:
        return None
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return row[0] if row else None


def describe(postgres_url: str | None) -> dict[str, str]:
    facts = {
        "cores": f"{cpu_count()} ({cpu_model()})",
        "memory": f"{memory_gib():.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
    }
    for package in PACKAGES:
        facts[package] = version(package)
    if (pg := postgres_version(postgres_url)) is not None:
        facts["postgresql"] = pg
    return facts
