"""The benchmark suite's smoke test: `python -m bench --quick` on both stores writes a report
with every figure, its baseline and its ratio (the sizes are too small for the figures to mean
anything; the full run is by hand, and its report is BENCHMARKS.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import TITLES

ROOT = Path(__file__).resolve().parents[2]
WITH_BASELINE = [
    "1. Commands",
    "2. Loan-tape import",
    "3. Projection catch-up",
    "4. API",
    "5. Cost against history",
    "6. Audit verify",
]


@pytest.mark.usefixtures("postgres_available")
def test_the_quick_run_reports_every_figure_with_its_baseline_on_both_stores(tmp_path: Path) -> None:
    from conftest import POSTGRES_URL

    report = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--postgres", POSTGRES_URL, "--out", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = report.read_text(encoding="utf-8")
    assert "smoke-test sizes" in text and "| cores |" in text and "| postgresql |" in text
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| ") and (" | sqlite | " in line or " | postgres | " in line)
    ]
    for store in ("sqlite", "postgres"):
        for title in TITLES.values():
            assert any(f"| {title} | {store} |" in row for row in rows), (title, store)
        for title in WITH_BASELINE:
            ratios = [
                row
                for row in rows
                if row.startswith(f"| {title} | {store} |") and re.search(r"\| \d+\.\d\d× \|", row)
            ]
            assert ratios, f"{title} on {store} has no ratio"
    # Every missed target is followed by its profile.
    missed = text.count("| **no** |")
    assert missed == 0 or "## Profiles of the targets missed" in text
