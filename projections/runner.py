"""Catch up with the event log and follow it, in bounded batches, exactly once.

Works on SQLite and PostgreSQL alike by polling the notification log (the library's own
`ProjectionRunner` does not support SQLite). Each batch's rows and its position are written in one
transaction; a crash anywhere leaves the tables at the end of the last whole batch, and the next
run starts from there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ledger.service import Ledger
from projections import projector, tables as t
from projections.audit.heads import Signer, TreeHead, latest, seal
from projections.rows import Rows
from projections.store import ProjectionStore

log = logging.getLogger(__name__)

BATCH_EVENTS_MAX = 2_000
POLL_SECONDS = 0.05
WAIT_SECONDS_MAX = 30.0
SEAL_EVERY_EVENTS = 1_000
SEAL_EVERY_SECONDS = 60.0


class ProjectionTimeout(Exception):
    """The projections did not reach the asked position within the timeout."""


class Runner:
    def __init__(
        self,
        ledger: Ledger,
        store: ProjectionStore,
        *,
        batch: int = BATCH_EVENTS_MAX,
        signer: Signer | None = None,
    ) -> None:
        assert 0 < batch <= 100_000
        self.ledger, self.store, self.batch, self.signer = ledger, store, batch, signer
        head = latest(store.engine)
        self._sealed_size, self._sealed_when = (head.size if head else 0), time.monotonic()
        self.before_tracking: Callable[[], None] | None = None  # a fault-injection point for tests
        self._moved = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resume()

    def _resume(self) -> None:
        """Start from the position the tables hold; an empty store needs no reads at all."""
        self.position = self.store.position()
        self.rows = Rows(loader=self.store.load if self.position else None)

    def run_once(self) -> int:
        """Apply one batch of new events; returns how many were applied."""
        notifications = self.ledger.recorder.select_notifications(start=self.position + 1, limit=self.batch)
        if not notifications:
            return 0
        start = self.position
        try:
            for notification in notifications:
                projector.apply_notification(self.rows, self.ledger.mapper, notification)
            self.store.write(self.rows, start, notifications[-1].id, self.before_tracking)
        except BaseException:
            # Whatever was applied in memory did not reach the tables: forget it, resume from them.
            self._resume()
            raise
        self.rows.clear_dirty()
        with self._moved:
            self.position = notifications[-1].id
            self._moved.notify_all()
        self._seal_when_due()
        return len(notifications)

    def _seal_when_due(self) -> None:
        """Sign a tree head every SEAL_EVERY_EVENTS events, or after SEAL_EVERY_SECONDS with new ones."""
        if self.signer is None:
            return
        size = self.rows.get_or_new(t.merkle_size, "log")["size"]
        due = size - self._sealed_size >= SEAL_EVERY_EVENTS or (
            size > self._sealed_size and time.monotonic() - self._sealed_when >= SEAL_EVERY_SECONDS
        )
        if due:
            self.seal()

    def seal(self) -> TreeHead | None:
        """Sign a tree head of everything projected so far (on demand, or when due)."""
        assert self.signer is not None, "this runner has no signing key"
        head = seal(self.store.engine, self.signer)
        if head is not None:
            self._sealed_size, self._sealed_when = head.size, time.monotonic()
        return head

    def catch_up(self, advance: Callable[[int], None] | None = None) -> int:
        applied = 0
        while n := self.run_once():
            applied += n
            if advance:
                advance(n)
        return applied

    def wait_for(self, position: int, timeout: float = 5.0) -> None:
        """Read-your-writes: block until the projections have applied `position`."""
        deadline = time.monotonic() + min(timeout, WAIT_SECONDS_MAX)
        with self._moved:
            while self.position < position:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProjectionTimeout(
                        f"projections are at position {self.position}, not yet {position}"
                    )
                if self._thread is None:
                    self._moved.release()
                    try:
                        self.run_once()
                    finally:
                        self._moved.acquire()
                else:
                    self._moved.wait(min(left, POLL_SECONDS))

    def start(self) -> None:
        """Follow the log in a background thread until `stop()`."""
        assert self._thread is None, "already following"
        self._thread = threading.Thread(target=self._follow, name="projection-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                if self.run_once():
                    continue
            except Exception:
                log.exception("projection batch failed; retrying from position %s", self.position)
            self._stop.wait(POLL_SECONDS)
