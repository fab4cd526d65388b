"""How every command runs: group commit, idempotency, retries.

`Pipeline.handle(command, call)` is the one way in (`await Pipeline.submit(command, call)` from an
event loop: the same queue, awaited without holding a thread). Commands that arrive together are
run by one thread at a time, in order, on the cached aggregates, and saved in one transaction (one
fsync for the lot): TigerBeetle's batching, PostgreSQL's group commit. The first caller to find
nobody leading leads (an async caller hands the leading to a thread of its loop's executor): it
runs what is queued, its own command included, batch after batch, until the queue is empty; the
others wait for their answers. Alone, a command is simply run in its caller's thread. Each caller
gets its own receipt or its own refusal, and a refused command never fails the others of its
batch; a fault that fails a whole batch (the store unreachable) answers each of its callers with
that fault, and the leader goes on with the next batch.

Around the handler, each small enough to read alone:
- `UnitOfWork.confirm_credential`: the API key the caller was recognised by from memory still
  stands (checked with the batch's other reads, not one query per request).
- `_idempotently`: a repeated idempotency key replays the first answer and records nothing.
- `_alone`: a command that must be run by itself (a batch that could not be saved together, a
  command that failed midway) is retried when a concurrent writer got there first, on fresh
  state, a bounded number of times.
- Snapshots are taken by the application's save (ledger/service/application.py).

Trusting the cache. While no other process has been seen writing, commands take cached
aggregates as current instead of asking the store for newer events of each (a query each). That
costs nothing in safety: the store refuses the save of an aggregate read stale (its next version
exists), and an aggregate read but not changed is checked for newer events just before the save.
A refused trusting save runs again at once, fast-forwarding, and so do all commands for a while.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import IntegrityError, Recording

from ledger.actors import require_role
from ledger.commands import Command
from ledger.domain import Scheme
from ledger.domain.request import Request
from ledger.errors import IdempotencyConflict, LedgerError, VersionConflict
from ledger.service.call import Call, Receipt
from ledger.service.handlers import HANDLERS
from ledger.service.positions import position_of
from ledger.service.preload import latest_versions, preload
from ledger.service.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from ledger.service.application import LedgerApplication

log = logging.getLogger(__name__)

BATCH_COMMANDS_MAX = 256
COMMAND_ATTEMPTS_MAX = 8
CONFLICT_BACKOFF_SECONDS_MAX = 0.005
# After another process is seen writing, commands fast-forward every cached aggregate they read for
# this long, rather than trusting the cache and having their saves refused.
OTHER_WRITERS_SECONDS = 5.0
CACHED_AFTER_SAVE_MAX = 4  # a command that creates more aggregates than this (a tape) leaves the cache as is


def _held() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass
class _Queued:
    command: Command
    call: Call
    # The caller on an event loop (`submit`) awaits `answered`; any other waits on `wake`, held
    # until the command is answered or its caller is asked to lead.
    answered: asyncio.Future[None] | None = None
    wake: threading.Lock = field(default_factory=_held)
    done: bool = False
    receipt: Receipt | None = None
    error: BaseException | None = None

    def succeed(self, receipt: Receipt) -> None:
        self.receipt, self.done = receipt, True
        if self.answered is None:
            self.wake.release()

    def fail(self, error: BaseException) -> None:
        self.error, self.done = error, True
        if self.answered is None:
            self.wake.release()

    def lead(self, pipeline: Pipeline) -> None:
        """Ask this command's caller to lead (the leader stepped down with it still queued)."""
        if self.answered is None:
            self.wake.release()
        else:
            loop = self.answered.get_loop()
            loop.call_soon_threadsafe(loop.run_in_executor, None, pipeline._lead)

    def outcome(self) -> Receipt:
        if self.error is not None:
            raise self.error
        assert self.receipt is not None
        return self.receipt


@dataclass
class _Ran:
    """A command of a batch that ran and awaits the batch's save."""

    item: _Queued
    uow: UnitOfWork
    receipt: Receipt
    events: list[DomainEvent]


class Pipeline:
    def __init__(self, app: LedgerApplication) -> None:
        # A weak reference: the application owns its pipeline, and without a cycle between them a
        # ledger let go of is closed at once (its connections back to the server), not at the next
        # garbage collection.
        self.app = weakref.proxy(app)
        self._lock = threading.Lock()  # guards the queue and who leads
        self._queue: list[_Queued] = []
        self._leading = False
        self._others_writing_until = 0.0  # time.monotonic() until which commands fast-forward

    def handle(self, command: Command, call: Call) -> Receipt:
        item = _Queued(command, call)
        with self._lock:
            self._queue.append(item)
            lead = not self._leading
            self._leading = True
        if not lead:
            item.wake.acquire()  # until answered, or asked to lead (see _lead)
            lead = not item.done
        if lead:
            self._lead()
        return item.outcome()

    async def submit(self, command: Command, call: Call) -> Receipt:
        """`handle` for a caller on an event loop, which waits without holding a thread: when
        nobody leads, a thread of the loop's executor leads for every caller."""
        loop = asyncio.get_running_loop()
        item = _Queued(command, call, answered=loop.create_future())
        with self._lock:
            self._queue.append(item)
            lead = not self._leading
            self._leading = True
        if lead:
            loop.run_in_executor(None, self._lead)
        await item.answered
        return item.outcome()

    def _lead(self) -> None:
        """Run what is queued, batch after batch, until nothing is left; then step down."""
        try:
            while True:
                with self._lock:
                    batch = self._queue[:BATCH_COMMANDS_MAX]
                    del self._queue[: len(batch)]
                    if not batch:
                        return
                try:
                    with self.app.lock:  # readers take copies while no command runs
                        self._run(batch)
                except BaseException as error:  # a fault (the store unreachable …): every caller of the
                    # batch is answered with it, and the leader goes on with the next batch
                    for item in batch:
                        if not item.done:
                            item.fail(error)
                    if not isinstance(error, Exception):  # an interrupt
                        raise
                    log.exception(
                        "a batch of commands failed; each of its callers was answered with the fault"
                    )
                finally:
                    _answer_on_loops(batch)
        finally:
            with self._lock:
                self._leading = bool(self._queue)
                if self._queue:  # stepping down on a fault, commands still queued: the first leads
                    self._queue[0].lead(self)

    def _run(self, batch: list[_Queued]) -> None:
        if len(batch) == 1:
            self._alone(batch[0])
            return
        trusting = time.monotonic() >= self._others_writing_until
        # The loans and claims the batch names, read in one query rather than one each.
        shared: dict[UUID, Aggregate] = preload(
            self.app, (s for item in batch for s in item.command.subjects())
        )
        ran: list[_Ran] = []
        keys: set[tuple[str, str]] = set()
        for position, item in enumerate(batch):
            key = (item.call.actor.principal_id, item.call.idempotency_key or "")
            if item.call.idempotency_key is not None and key in keys:
                self._requeue(batch[position:])  # a repeat waits for the first to be saved
                del batch[position:]  # no longer this batch's: a fault of its save is not theirs
                break
            keys.add(key)
            uow = UnitOfWork(self.app, item.call, trusting=trusting, batch=shared)
            try:
                receipt = self._handle(uow, item)
            except LedgerError as refusal:
                if not uow.dirty():
                    item.fail(refusal)
                    continue
                self._evict(shared.values(), uow.touched.values())
                self._one_by_one([r.item for r in ran] + batch[position:])
                return
            except Exception:
                self._evict(shared.values(), uow.touched.values())
                self._one_by_one([r.item for r in ran] + batch[position:])
                return
            ran.append(_Ran(item, uow, receipt, uow.events()))
            shared.update(uow.touched)
        if not ran:
            return
        try:
            if trusting:
                self._require_current(read for r in ran for read in r.uow.unchanged_reads())
            recordings = self.app.record([e for r in ran for e in r.events], shared)
        except IntegrityError:
            self._evict(shared.values())
            if trusting:
                self._others_writing_until = time.monotonic() + OTHER_WRITERS_SECONDS
            self._one_by_one([r.item for r in ran])
            return
        except BaseException:
            # The store failed (unreachable, locked, full): the cached aggregates hold changes it
            # may not have. Dropped, they are read again as the store has them.
            self._evict(shared.values())
            raise
        self.app.cache_created(c for r in ran for c in _created(r.uow))
        done = 0
        for r in ran:
            mine, done = recordings[done : done + len(r.events)], done + len(r.events)
            r.item.succeed(_answer(r.receipt, r.events, mine))

    def _one_by_one(self, items: list[_Queued]) -> None:
        for item in items:
            if not item.done:
                self._alone(item)

    def _requeue(self, items: list[_Queued]) -> None:
        with self._lock:
            self._queue[:0] = items

    def _alone(self, item: _Queued) -> None:
        """Run one command and save it by itself, again on fresh state after a concurrent write."""
        for number in range(COMMAND_ATTEMPTS_MAX):
            trusting = number == 0 and time.monotonic() >= self._others_writing_until
            uow = UnitOfWork(self.app, item.call, trusting=trusting, retrying=number > 0)
            try:
                receipt = self._handle(uow, item)
                events = uow.events()
                if trusting:
                    self._require_current(uow.unchanged_reads())
                recordings = self.app.record(events, uow.touched)
            except IntegrityError:
                self._evict(uow.touched.values())
                if trusting:
                    log.info("another writer moved an aggregate read from the cache; again")
                    self._others_writing_until = time.monotonic() + OTHER_WRITERS_SECONDS
                    continue
                log.info("optimistic concurrency conflict; running the command again")
                time.sleep(random.uniform(0, CONFLICT_BACKOFF_SECONDS_MAX * (number + 1)))
                continue
            except BaseException as error:
                # A refusal by the rules comes before the events are handed over, and leaves the
                # aggregates as they were unless `dirty()`. Any other failure (the store's) may
                # come after: what the command touched may hold changes the store does not have.
                if not isinstance(error, LedgerError) or uow.dirty():
                    self._evict(uow.touched.values())
                item.fail(error)
                return
            self.app.cache_created(_created(uow))
            item.succeed(_answer(receipt, events, recordings))
            return
        item.fail(
            VersionConflict(
                f"the command conflicted with concurrent writers {COMMAND_ATTEMPTS_MAX} times",
                attempts=COMMAND_ATTEMPTS_MAX,
            )
        )

    def _handle(self, uow: UnitOfWork, item: _Queued) -> Receipt:
        """The caller's key first (a revoked key learns nothing, not even what its role may do),
        then its role, then the command, once per idempotency key."""
        uow.confirm_credential()
        command = item.command
        require_role(item.call.actor, *command.ALLOWED, action=command.ACTION)
        return self._idempotently(uow, item)

    def _idempotently(self, uow: UnitOfWork, item: _Queued) -> Receipt:
        """Run the handler; with an idempotency key, replay a first answer or record this one."""
        call = item.call
        if call.idempotency_key is None:
            return HANDLERS[type(item.command)](uow, item.command)
        request_id = Request.id_for(call.actor.principal_id, call.idempotency_key)
        request: Request | None = uow.find(request_id)
        if request is not None:
            if request.request_hash != call.fingerprint:
                raise IdempotencyConflict(
                    f"Idempotency-Key {call.idempotency_key!r} was used for a different request",
                    idempotency_key=call.idempotency_key,
                )
            return Receipt.from_stored(request.receipt, position_of(self.app.recorder, request.id, 1) or 0)
        receipt = HANDLERS[type(item.command)](uow, item.command)
        uow.add(
            Request.record(call.actor, call.idempotency_key, call.fingerprint, receipt.stored(), uow.today())
        )
        return receipt

    def _require_current(self, reads: Iterable[tuple[UUID, int]]) -> None:
        """Refuse the save (as a conflict) if an aggregate read from the cache but not changed has
        newer events in the store. (Those that change, the store checks.) A batch's reads are
        checked in one query (on PostgreSQL a round trip each was a third of the writer's time)."""
        versions = dict(reads)
        latest = latest_versions(self.app.recorder, list(versions)) if len(versions) > 1 else None
        for aggregate_id, version in versions.items():
            newer = (
                latest.get(aggregate_id, 0) > version
                if latest is not None
                else self.app.recorder.select_events(aggregate_id, gt=version, limit=1)
            )
            if newer:
                raise IntegrityError(f"aggregate {aggregate_id} has events newer than version {version}")

    def _evict(self, *groups: Iterable[Aggregate]) -> None:
        """Drop what a failed attempt touched from the cache: it may hold unsaved changes."""
        for group in groups:
            for aggregate in group:
                self.app.evict(aggregate.id)


def _answer_on_loops(batch: list[_Queued]) -> None:
    """Wake the callers waiting on an event loop for the answered commands of a batch: one
    call into each loop for the lot."""
    waiting: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for item in batch:
        if item.answered is not None and item.done:
            waiting.setdefault(item.answered.get_loop(), []).append(item.answered)
    for loop, futures in waiting.items():
        loop.call_soon_threadsafe(_set_all, futures)


def _set_all(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a caller that went away cancelled its own
            future.set_result(None)


def _created(uow: UnitOfWork) -> list[Aggregate]:
    created = [a for i, a in uow.touched.items() if i not in uow.read]
    return created if len(created) <= CACHED_AFTER_SAVE_MAX else []


def _answer(receipt: Receipt, events: list[DomainEvent], recordings: list[Recording[Any]]) -> Receipt:
    if receipt.replayed:
        return receipt
    tripped = tuple(f"{e.breaker}:{e.party_id}" for e in events if isinstance(e, Scheme.BreakerTripped))
    position = recordings[-1].notification.id if recordings else 0
    return replace(receipt, position=position or 0, tripped=tripped)
