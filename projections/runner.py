"""Catch up with the event log and follow it, in bounded batches, exactly once, per read model.

Works on SQLite and PostgreSQL alike by polling the notification log (the library's own
`ProjectionRunner` does not support SQLite). Each read model has its own position. The models that
stand at the furthest position take each new batch together: their rows and their positions are
written in one transaction, so a crash anywhere leaves every model at the end of its last whole
batch, and the next run starts from there. A model that is behind (one just added, or rebuilt)
catches up on its own, a batch at a time beside the others' batches, until it reaches them and
moves with them again.

A follower holds the store's lease (projections/lease.py): one runner per store; another waits
quietly and follows the tables' position. A batch that fails is retried one event at a time, so
the failing position is known, with a backoff that grows to a minute and one log line a minute:
no tight loop, and `/v1/health` reports it. A tree head the signer refuses to sign (the tree does
not extend its last head) is reported the same way, and the runner goes on projecting.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ledger.service import Ledger
from projections.audit.heads import SealRefused, Signer, TreeHead, seal
from projections.audit.merkle import LOG
from projections.audit.tables import merkle_size, model as audit_model
from projections.lease import Lease
from projections.model import ReadModel
from projections.projector import Projector, decode
from projections.rows import Rows
from projections.store import ProjectionStore
from projections.subjects import Subjects

log = logging.getLogger(__name__)

BATCH_EVENTS_MAX = 2_000
# Catching up, a batch is larger. A batch's transaction writes every index page its rows touch, and
# rows keyed by uuid touch pages all over their indexes, so ten times the events cost little more
# to commit than one time; and a tree head is signed once a batch rather than every 2,000 events.
# Bounded all the same: about 60 MB more at the peak than batches of 2,000 (the bench's pool).
CATCH_UP_EVENTS_MAX = 20_000
POLL_SECONDS = 0.05
WAIT_SECONDS_MAX = 30.0
SEAL_EVERY_EVENTS = 1_000
SEAL_EVERY_SECONDS = 60.0
BACKOFF_SECONDS_MAX = 60.0
LOG_EVERY_SECONDS = 60.0
LEASE_RETRY_SECONDS = 2.0


@contextmanager
def collections_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch is applied. A batch makes tens of thousands of
    objects that live until its end; collections during it would move them to the oldest
    generation and set off full collections over every cached row, a third of catch-up's time.
    Freed by reference counting at the batch's end, they never reach a collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class ProjectionTimeout(Exception):
    """The projections did not reach the asked position within the timeout."""


class Runner:
    def __init__(
        self,
        ledger: Ledger,
        store: ProjectionStore,
        *,
        batch: int = BATCH_EVENTS_MAX,
        catch_up_batch: int | None = None,
        signer: Signer | None = None,
    ) -> None:
        assert 0 < batch <= 100_000
        self.ledger, self.store, self.batch, self.signer = ledger, store, batch, signer
        # A runner given a batch of its own (the tests' small ones) keeps it for catching up too.
        if catch_up_batch is None:
            catch_up_batch = CATCH_UP_EVENTS_MAX if batch == BATCH_EVENTS_MAX else batch
        assert 0 < catch_up_batch <= 100_000
        self.catch_up_batch = catch_up_batch
        self.subjects = Subjects(ledger.recorder, ledger.mapper)
        self.position = self._attempted = 0
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
        """Start again from the tables as they are now (after a rebuild emptied some)."""
        self._resume()

    def _resume(self) -> None:
        """Start from the positions the tables hold, with no rows cached: a model at position zero
        has empty tables, so it needs no reads at all."""
        self.positions = self.store.positions()
        self.rows = {
            model.name: Rows(
                model, self.subjects, complete=self.positions[model.name] == 0, loader=self.store.load
            )
            for model in self.store.models
        }
        self._projectors: dict[tuple[str, ...], Projector] = {}
        self._moved_to(max(self.positions.values()))

    def _moved_to(self, position: int) -> None:
        with self._moved:
            self.position = position
            self._moved.notify_all()

    def behind(self) -> dict[str, int]:
        """The models catching up, and where each stands."""
        return {name: at for name, at in self.positions.items() if at < self.position}

    def require_current(self) -> None:
        """Refuse a live read (ProjectionTimeout: 503 `projections_behind`) while a read model
        catches up (one just added, replaying the log beside the others): its figures are those of
        an earlier position than the others', and a report that mixes them is the ledger's at no
        position. What this process knows is confirmed from the store's positions (a runner in
        another process may have moved them); they are read, never kept, so that the following
        thread alone writes this runner's positions."""
        if not self.behind():
            return
        positions = self.store.positions()
        front = max(positions.values())
        behind = {name: at for name, at in positions.items() if at < front}
        if behind:
            raise ProjectionTimeout(
                "the read models are catching up: "
                + ", ".join(f"{name} at position {at} of {front}" for name, at in sorted(behind.items()))
            )

    def run_once(self, batch: int | None = None) -> int:
        """Apply one batch of new events to the models at the front, and one batch of older events
        to the models furthest behind, if any; returns how many were applied. After a failure, one
        event at a time, until the failing one goes through."""
        limit = 1 if self.failing else batch or self.batch
        front = self.position
        models = self.store.models
        applied = self._advance([m for m in models if self.positions[m.name] == front], front, None, limit)
        behind = {m.name: self.positions[m.name] for m in models if self.positions[m.name] < front}
        if behind:
            last = min(behind.values())
            catching_up = [m for m in models if m.name in behind and behind[m.name] == last]
            next_stop = min(at for at in self.positions.values() if at > last)
            applied += self._advance(catching_up, last, next_stop, limit)
        if applied:
            self._seal_when_due()
        return applied

    def _advance(self, models: list[ReadModel], start: int, stop: int | None, limit: int) -> int:
        """Apply the events after `start` (up to `stop`) to these models, which all stand there,
        and write their rows and positions in one transaction."""
        with collections_paused():
            notifications = self.ledger.recorder.select_notifications(start=start + 1, limit=limit, stop=stop)
            if not notifications:
                return 0
            end = notifications[-1].id
            self._attempted = notifications[0].id
            applied = len(notifications)
            try:
                recorded = decode(self.ledger.mapper, self.subjects, notifications)
                self._projector(models).apply(recorded)
                pending = [(model, self.rows[model.name], start) for model in models]
                self.store.write(pending, end, self.before_tracking)
            except BaseException:
                # What was applied in memory did not reach the tables: forget it, resume from them.
                self._resume()
                raise
            del notifications, recorded, pending  # freed while collections are paused (see there)
        for model in models:
            self.rows[model.name].written()
            self.positions[model.name] = end
        if end > self.position:
            self._moved_to(end)
        return applied

    def _projector(self, models: list[ReadModel]) -> Projector:
        names = tuple(model.name for model in models)
        found = self._projectors.get(names)
        if found is None:
            found = self._projectors[names] = Projector(models, self.rows)
        return found

    def _seal_when_due(self) -> None:
        """Sign a tree head every SEAL_EVERY_EVENTS events, or after SEAL_EVERY_SECONDS with new ones."""
        if self.signer is None or audit_model.name not in self.rows:
            return
        tree = self.rows[audit_model.name].get(merkle_size, LOG)
        size = tree["size"] if tree is not None else 0
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
        while n := self.run_once(self.catch_up_batch):
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
            full = 1 if self.failing else self.batch
            try:
                applied = self.run_once()
            except Exception as error:
                self._failed(error)
                continue
            if applied:
                self._recovered()
            if applied < full:
                # Caught up: wait for the next events to gather rather than chase each commit.
                # A batch costs about as much for a few events as for a hundred (the select, the
                # transaction, the tree's peaks), and under load chasing each commit took a third
                # of the server's CPU; a reader waiting for its own write (wait_for) waits one
                # poll interval at most.
                self._stop.wait(POLL_SECONDS)

    def _follow_tables(self) -> None:
        """Without the lease, the positions are whatever the lease holder's runner wrote."""
        self.positions = self.store.positions()
        position = max(self.positions.values())
        if position != self.position:
            self._moved_to(position)

    def _failed(self, error: Exception) -> None:
        self._failures += 1
        first = self.failing is None
        self.failing = (self._attempted, f"{type(error).__name__}: {str(error).splitlines()[0][:300]}")
        if first:
            log.exception(
                "projection batch failed after position %s; retrying one event at a time", self._attempted - 1
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
        for name, at in self.behind().items():
            found.append(f"the {name} read model is catching up: at position {at} of {self.position}")
        return found
