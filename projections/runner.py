"""Catch up with the event log and follow it, in bounded batches, exactly once.

Works on SQLite and PostgreSQL alike by polling the notification log (the library's own
`ProjectionRunner` does not support SQLite). Each batch's rows and its position are written in one
transaction; a crash anywhere leaves the tables at the end of the last whole batch, and the next
run starts from there.

A follower holds the store's lease (projections/lease.py): one runner per store; another waits
quietly and follows the tables' position. A batch that fails is retried one event at a time, so
the failing position is known, with a backoff that grows to a minute and one log line a minute:
no tight loop, and `/v1/health` reports it. A tree head the signer refuses to sign (the tree does
not extend its last head) is reported the same way, and the runner goes on projecting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ledger.service import Ledger
from projections import projector, tables as t
from projections.audit.heads import SealRefused, Signer, TreeHead, seal
from projections.lease import Lease
from projections.rows import Rows
from projections.store import ProjectionStore

log = logging.getLogger(__name__)

BATCH_EVENTS_MAX = 2_000
POLL_SECONDS = 0.05
WAIT_SECONDS_MAX = 30.0
SEAL_EVERY_EVENTS = 1_000
SEAL_EVERY_SECONDS = 60.0
BACKOFF_SECONDS_MAX = 60.0
LOG_EVERY_SECONDS = 60.0
LEASE_RETRY_SECONDS = 2.0


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
        head = signer.last() if signer is not None else None
        self._sealed_size, self._sealed_when = (head.size if head else 0), time.monotonic()
        self.lease = Lease(store.engine)
        self.failing: tuple[int, str] | None = None  # (position, what went wrong) while a batch fails
        self.seal_refused: str | None = None
        self._failures, self._logged_at = 0, float("-inf")
        self.before_tracking: Callable[[], None] | None = None  # a fault-injection point for tests
        self._moved = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resume()

    def reset(self) -> None:
        """Start again from the tables as they are now (after a rebuild emptied them)."""
        self._resume()

    def _resume(self) -> None:
        """Start from the position the tables hold; an empty store needs no reads at all."""
        self.position = self.store.position()
        self.rows = Rows(loader=self.store.load if self.position else None)

    def run_once(self) -> int:
        """Apply one batch of new events; returns how many were applied. After a failure, one
        event at a time, until the failing one goes through."""
        limit = 1 if self.failing else self.batch
        notifications = self.ledger.recorder.select_notifications(start=self.position + 1, limit=limit)
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
        waited = time.monotonic() - self._sealed_when >= SEAL_EVERY_SECONDS
        grown = size - self._sealed_size >= SEAL_EVERY_EVENTS and self.seal_refused is None
        if size > self._sealed_size and (grown or waited):
            self._sealed_when = time.monotonic()  # a refused seal is tried again after the interval
            try:
                self.seal()
            except SealRefused as refused:
                self.seal_refused = str(refused)
                self._log_now(f"refused to seal a tree head: {refused}")

    def seal(self, *, new_chain_reason: str | None = None) -> TreeHead | None:
        """Sign a tree head of everything projected so far (on demand, or when due)."""
        assert self.signer is not None, "this runner has no signing key"
        head = seal(self.store.engine, self.signer, new_chain_reason=new_chain_reason)
        if head is not None:
            self._sealed_size, self._sealed_when = head.size, time.monotonic()
            self.seal_refused = None
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
        self.lease.release()

    def _follow(self) -> None:
        waiting_said = False
        while not self._stop.is_set():
            if not self.lease.still_held() and not self.lease.acquire():
                if not waiting_said:
                    log.info("another projection runner holds this store's lease; following its tables")
                    waiting_said = True
                self._follow_tables()
                self._stop.wait(LEASE_RETRY_SECONDS)
                continue
            if waiting_said:
                log.info("took this store's projection lease at position %s", self.position)
                self._resume()
                waiting_said = False
            try:
                if self.run_once():
                    self._recovered()
                    continue
            except Exception as error:
                self._failed(error)
                continue
            self._stop.wait(POLL_SECONDS)

    def _follow_tables(self) -> None:
        """Without the lease, the position is whatever the lease holder's runner wrote."""
        position = self.store.position()
        with self._moved:
            if position != self.position:
                self.position = position
                self._moved.notify_all()

    def _failed(self, error: Exception) -> None:
        self._failures += 1
        first = self.failing is None
        self.failing = (self.position + 1, f"{type(error).__name__}: {str(error).splitlines()[0][:300]}")
        if first:
            log.exception(
                "projection batch failed after position %s; retrying one event at a time", self.position
            )
            self._logged_at = time.monotonic()
        else:
            self._log_now(f"projection still failing at position {self.failing[0]}: {self.failing[1]}")
        self._stop.wait(min(POLL_SECONDS * 2**self._failures, BACKOFF_SECONDS_MAX))

    def _recovered(self) -> None:
        if self.failing is not None:
            log.warning("projection moved past position %s again", self.failing[0])
        self.failing, self._failures = None, 0

    def _log_now(self, message: str) -> None:
        """At most one line a minute for a problem that persists."""
        if time.monotonic() - self._logged_at >= LOG_EVERY_SECONDS:
            log.error(message)
            self._logged_at = time.monotonic()

    def problems(self) -> list[str]:
        """What keeps the read models or the tree heads from being current, for /v1/health."""
        found = []
        if self.failing is not None:
            found.append(f"projection stuck at position {self.failing[0]}: {self.failing[1]}")
        if self.seal_refused is not None:
            found.append(f"sealing refused: {self.seal_refused}")
        return found
