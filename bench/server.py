"""Serving for the benchmarks: `riskpool serve` (or the bare baseline app) in its own process,
and py-spy on it when a target is missed."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from riskpool.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(args: list[str], settings: Settings | None = None) -> Iterator[tuple[int, int]]:
    """Start `python -m <args> --port N`, wait until it answers /v1/health; yields (port, pid)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", *args, "--port", str(port)],
        env=_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args} did not start (exit {process.poll()})")
            time.sleep(0.1)
        yield port, process.pid
    finally:
        _stop(process)


@contextmanager
def following(settings: Settings) -> Iterator[None]:
    """`riskpool projections run` as its own process for the body's duration."""
    process = subprocess.Popen(
        [sys.executable, "-m", "riskpool", "projections", "run"],
        env=_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """Interrupt (as Ctrl-C would), and kill what does not stop within 15 s."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _env(settings: Settings | None) -> dict[str, str]:
    env = dict(os.environ)
    if settings is not None:
        env["RISKPOOL_DATABASE_URL"] = settings.database_url
        if settings.audit_key_file is not None:
            env["RISKPOOL_AUDIT_KEY_FILE"] = str(settings.audit_key_file)
    return env


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


@contextmanager
def spying(pid: int, seconds: int) -> Iterator[Path | None]:
    """Sample every thread of a process with py-spy while the body runs; yields the raw file the
    collapsed stacks land in (None without py-spy)."""
    spy = py_spy()
    if spy is None:
        yield None
        return
    out = Path(f"/tmp/riskpool-bench-spy-{pid}.txt")
    process = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
            "--rate",
            "200",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield out
    finally:
        process.wait(timeout=seconds + 30)


def summarise_stacks(raw: Path, *, top: int = 25) -> str:
    """Collapsed stacks -> where the time went: the share of samples that each function is on the
    stack (inclusive) and on top of it (self), for the busiest functions. Idle threads (waiting in
    a selector, a lock or a condition) are left out."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    # The event loop's thread waiting in epoll shows as its last Python frame, `Runner.run`.
    idle = (
        "select (selectors",
        "wait (threading",
        "_worker (concurrent",
        "run_forever",
        "accept (",
        "Runner.run (",
    )
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not frames or any(i in frames[-1] for i in idle):
            continue
        if not count.isdigit():  # a line py-spy cut short
            continue
        n = int(count)
        total += n
        for frame in dict.fromkeys(_short(f) for f in frames):
            inclusive[frame] += n
        own[_short(frames[-1])] += n
    if not total:
        return "(no busy samples)"
    lines = [
        f"{total} busy samples; share of them with the function on the stack (incl.) and on top (self):",
        "",
    ]
    lines.append(f"{'incl.':>6} {'self':>6}  function")
    shown = [
        (f, n) for f, n in inclusive.most_common() if own[f] or not f.split(" (")[-1].startswith(PLUMBING)
    ]
    for frame, n in shown[:top]:
        lines.append(f"{100 * n / total:5.1f}% {100 * own[frame] / total:5.1f}%  {frame}")
    lines += ["", "Most self time:"]
    for frame, n in own.most_common(12):
        lines.append(f"{100 * n / total:5.1f}%  {frame}")
    return "\n".join(lines)


# Where a process starts and a thread begins: on every stack, saying nothing about the work.
PLUMBING = (
    "<frozen runpy>",
    "riskpool/__main__.py",
    "riskpool/cli",
    "typer/",
    "threading.py",
    "uvicorn/main.py",
    "uvicorn/_compat.py",
    "uvicorn/server.py",
    "asyncio/runners.py",
    "anyio/_backends/",
)


def _short(frame: str) -> str:
    """`f (/long/path/site-packages/pkg/mod.py:12)` -> `f (pkg/mod.py:12)`."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"
