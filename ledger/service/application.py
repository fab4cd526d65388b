"""The ledger's store: the `eventsourcing` application that records events, caches aggregates and
takes snapshots. Commands come in through `handle` and the pipeline (ledger/service/pipeline.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from contextlib import suppress
from datetime import date
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import JSONTranscoder, Recording

from ledger.actors import Actor, ActorAsDict
from ledger.calendar import Clock, DateAsISO, today_in_china
from ledger.codec import CompiledTranscoder
from ledger.commands import Command
from ledger.domain import Claim, Loan, Scheme
from ledger.service.call import Call, Receipt
from ledger.service.pipeline import Pipeline
from ledger.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SNAPSHOT_INTERVAL_EVENTS = 100
DEFAULT_KEY_PEPPER = b"riskpool-ledger: set RISKPOOL_KEY_PEPPER in production"


class LedgerApplication(Application[UUID]):
    name = "Ledger"  # the eventsourcing application name (its environment prefix is LEDGER_)
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "5000"}
    snapshotting_intervals: ClassVar[dict[type[Aggregate], int]] = {
        Scheme: SNAPSHOT_INTERVAL_EVENTS,
        Loan: SNAPSHOT_INTERVAL_EVENTS,
        Claim: SNAPSHOT_INTERVAL_EVENTS,
    }

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Clock = today_in_china,
        key_pepper: bytes = DEFAULT_KEY_PEPPER,
    ) -> None:
        super().__init__(env=dict(env or {"PERSISTENCE_MODULE": "eventsourcing.popo"}))
        self.clock = clock
        self.key_pepper = key_pepper
        self.lock = threading.RLock()  # held while commands run: readers then take copies
        self.pipeline = Pipeline(self)

    def construct_transcoder(self) -> JSONTranscoder:
        """The library's JSON format, printed and parsed by orjson (ledger/codec.py)."""
        transcoder = CompiledTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(ActorAsDict())

    def handle(self, command: Command, call: Call) -> Receipt:
        """Run a command for the caller: record its facts, or refuse it with a rule-book code and
        record nothing."""
        return self.pipeline.handle(command, call)

    async def submit(self, command: Command, call: Call) -> Receipt:
        """`handle` for a caller on an event loop (the API): it waits without holding a thread."""
        return await self.pipeline.submit(command, call)

    def reading(self, actor: Actor | None = None) -> UnitOfWork:
        """A unit of work for a read by `actor` (none: a read of a scheme's own figures), with
        copies of the aggregates, as current as the store."""
        return UnitOfWork(self, Call(actor) if actor else None, trusting=False, copies=True)

    def today(self) -> date:
        return self.clock()

    # Recording.

    def record(
        self, events: list[DomainEvent], aggregates: Mapping[UUID, Aggregate]
    ) -> list[Recording[UUID]]:
        """Store events, in this order, in one transaction; then snapshot what is due.

        (Application.save collects the events aggregate by aggregate, asking of every object
        whether it is an event or an aggregate with `typing.Protocol` checks, about 10 µs each;
        here the pipeline hands over the events of a whole batch, in the order its commands ran.)
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        processing_event.events.extend(events)
        processing_event.aggregates.update(aggregates)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot each aggregate whose save reached a multiple of its snapshotting interval.

        The library rebuilds the aggregate from the store at that version to snapshot it (the
        last snapshot and up to an interval's events: a seventh of a command's time); the
        aggregate just saved is that state already, so it is snapshotted as it stands (at the
        save's last version, if the interval fell inside the save). Snapshots are taken after the
        events are committed: a failure here must not make a recorded command look refused, so it
        is logged and the ledger carries on (the next interval tries again)."""
        if self.snapshots is None:
            return
        due: dict[UUID, Aggregate] = {}
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate)) if aggregate is not None else None
            if interval and event.originator_version % interval == 0:
                due[event.originator_id] = aggregate
        for aggregate in due.values():
            try:
                snapshot_class = getattr(type(aggregate), "Snapshot", type(self).snapshot_class)
                self.snapshots.put([snapshot_class.take(aggregate)])
            except Exception:
                log.exception("taking a snapshot failed; the events themselves are stored")

    # The cache.

    def cache_created(self, aggregates: Iterable[Aggregate]) -> None:
        """Put the aggregates commands have just created into the cache, as they stand after the
        save. The library leaves them out when it fast-forwards cached aggregates (it could not
        otherwise tell a stale copy from a fresh one across threads; here commands run one at a
        time and readers get copies), so the next command on a new loan or claim would rebuild it
        from the store."""
        cache = self.repository.cache
        if cache is None:
            return
        for aggregate in aggregates:
            try:
                cache.get(aggregate.id)
            except KeyError:
                cache.put(aggregate.id, aggregate)

    def cached(self, aggregate_id: UUID) -> Any | None:
        """The cached aggregate as it is, without asking the store for newer events; or None."""
        if self.repository.cache is None:
            return None
        try:
            return self.repository.cache.get(aggregate_id)
        except KeyError:
            return None

    def evict(self, aggregate_id: UUID) -> None:
        if self.repository.cache is not None:
            with suppress(KeyError):
                self.repository.cache.get(aggregate_id, evict=True)

    def stored(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))
