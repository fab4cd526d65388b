"""BENCHMARKS.md: every figure beside its baseline and the ratio, the machine, and the profiles of
the targets missed."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

from bench import scale
from bench.analysis import BOTTLENECKS
from bench.common import Figure, Results

ORDER = ["commands", "tape", "catch-up", "api", "history", "audit verify", "reports", "console"]
TITLES = {
    "commands": "1. Commands",
    "tape": "2. Loan-tape import",
    "catch-up": "3. Projection catch-up",
    "api": "4. API",
    "history": "5. Cost against history",
    "audit verify": "6. Audit verify",
    "reports": "7. Reports",
    "console": "8. Console pages",
}


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit.startswith("ms"):
        return f"{value:,.2f} ms"
    return f"{value:,.0f} {unit}".strip()


def met(figure: Figure) -> str:
    return "—" if figure.met is None else ("yes" if figure.met else "**no**")


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!BENCHMARKS.md"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head.stdout.strip() + (" with uncommitted changes" if status.stdout.strip() else "")


def render(results: Results, *, quick: bool, machine: dict[str, str], seconds: float) -> str:
    out = ["# Benchmarks", ""]
    mode = (
        "`python -m bench --quick` (smoke-test sizes: not the figures to judge by)"
        if quick
        else "`python -m bench`"
    )
    out += [
        f"Produced by {mode} from commit {commit()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, in {seconds / 60:.1f} minutes. Every figure stands "
        "beside a baseline measured in the same run, on the same machine and store; the ratio is the "
        "figure over the baseline (for latencies against history, large over small: lower is better).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    out += [f"| {name} | {value} |" for name, value in machine.items()]
    out += [f"| {name} | {value} |" for name, value in results.facts.items()]
    out += [
        "",
        "## Summary",
        "",
        "| Benchmark | Store | Figure | Value | Baseline | Ratio | Target | Met |",
        "|---|---|---|---:|---:|---:|---|---|",
    ]
    ordered = sorted(results.figures, key=lambda f: (ORDER.index(f.benchmark), f.store))
    for f in ordered:
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else "—"
        baseline = number(f.baseline, f.unit) if f.baseline is not None else "—"
        out.append(
            f"| {TITLES[f.benchmark]} | {f.store} | {f.what} | {number(f.value, f.unit)} | {baseline} | "
            f"{ratio} | {f.target} | {met(f)} |"
        )
    out += ["", "## Details", ""]
    for benchmark in ORDER:
        figures = [f for f in ordered if f.benchmark == benchmark]
        if not figures:
            continue
        out += [f"### {TITLES[benchmark]}", ""]
        for f in figures:
            line = f"- **{f.store}**, {f.what}: {number(f.value, f.unit)}"
            if f.baseline is not None:
                line += f"; baseline ({f.baseline_what}): {number(f.baseline, f.unit)}; ratio {f.ratio:.2f}×"
            if f.notes:
                line += f". {f.notes}"
            out.append(line + ".")
        if any(f.met is False for f in figures) and benchmark in BOTTLENECKS:
            out += ["", f"**Why the target is missed.** {BOTTLENECKS[benchmark]}"]
        out.append("")
    out += scale.render(results)
    if results.profiles:
        out += ["## Profiles of the targets missed", ""]
        for p in results.profiles:
            out += [f"### {TITLES[p.benchmark]} ({p.store}): {p.why}", "", "```text", p.text, "```", ""]
    return "\n".join(out).rstrip() + "\n"
