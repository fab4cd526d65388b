"""The ledger's store: the `eventsourcing` application that records events, caches aggregates and
takes snapshots. Commands come in through `handle` and the pipeline (ledger/service/pipeline.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from datetime import date
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import JSONTranscoder, Notification, Recording, StoredEvent
from eventsourcing.utils import get_topic

from ledger.actors import Actor, ActorAsDict
from ledger.bulk import collector_paused
from ledger.calendar import Clock, DateAsISO, today_in_china
from ledger.codec import CompiledTranscoder
from ledger.commands import Command
from ledger.domain import Claim, Loan, Scheme
from ledger.service.call import Call, Receipt
from ledger.service.pipeline import Pipeline
from ledger.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SNAPSHOT_INTERVAL_EVENTS = 100
BULK_SAVE_EVENTS_MIN = 1_000  # a save of this many events (a loan tape) is stored as a bulk save
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
    ) -> Sequence[Recording[UUID]]:
        """Store events, in this order, in one transaction; then snapshot what is due.

        (Application.save collects the events aggregate by aggregate, asking of every object
        whether it is an event or an aggregate with `typing.Protocol` checks, about 10 µs each;
        here the pipeline hands over the events of a whole batch, in the order its commands ran.)
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        processing_event.events.extend(events)
        processing_event.aggregates.update(aggregates)
        if len(events) < BULK_SAVE_EVENTS_MIN:
            recordings = self._record(processing_event)
        else:
            with collector_paused():  # its stored events are no garbage until it ends (ledger/bulk.py)
                recordings = self._record_bulk(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _record_bulk(self, processing_event: ProcessingEvent[UUID]) -> Sequence[Recording[UUID]]:
        """`_record` for a save of many events (a loan tape's 100,000), in the same transaction
        with the same stored events, made by `_stored_events` rather than one by one."""
        events = processing_event.events
        stored = self._stored_events(events)
        ids = self.recorder.insert_events(
            stored, tracking=processing_event.tracking, **processing_event.saved_kwargs
        )
        recordings: Sequence[Recording[UUID]] = []
        if ids:
            assert len(ids) == len(stored)
            recordings = _Recordings(events, stored, ids)
        if self.repository.cache and not self.repository.fastforward:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        return recordings

    def _stored_events(self, events: list[DomainEvent]) -> list[StoredEvent]:
        """The events as the mapper stores them, byte for byte, at a third of the cost.

        The mapper encodes each event's state, and the codec hands every value of a registered
        type (the actor, the business date, the timestamp) to Python, three calls an event. A
        tape's events share their actor and their business dates, so each such value is given to
        the codec already in its typed form (the transcoder's own `{"_type_", "_data_"}`), made
        once for the save. That is only done for a type whose typed form the codec encodes to
        the very bytes of the value itself (checked with the codec on the first value of each
        type): anything else goes to the codec as it is. Events the mapper would compress or
        encrypt are left to the mapper."""
        mapper = self.mapper
        if mapper.compressor is not None or mapper.cipher is not None:
            return list(map(mapper.to_stored_event, events))
        transcoder = mapper.transcoder
        encode, typed = transcoder.encode, transcoder._encode_obj
        pretyped: dict[type, bool] = {}  # whether a value of the type may be given in its typed form
        shared: dict[int, tuple[Any, Any]] = {}  # id(value) -> (value, its typed form)
        topics: dict[type, tuple[str, int, list[str]]] = {}  # class -> topic, version, typed fields
        stored: list[StoredEvent] = []
        for event in events:
            state = dict(vars(event))
            originator_id, version = state.pop("originator_id"), state.pop("originator_version")
            kind = topics.get(type(event))
            if kind is None:
                fields = [k for k, v in state.items() if self._pretyped(pretyped, v)]
                kind = topics[type(event)] = (
                    get_topic(type(event)),
                    getattr(type(event), "class_version", 1),
                    fields,
                )
            topic, class_version, fields = kind
            for name in fields:
                value = state[name]
                if pretyped.get(type(value)):
                    hit = shared.get(id(value))
                    if hit is None or hit[0] is not value:
                        hit = shared[id(value)] = (value, typed(value))
                    state[name] = hit[1]
            if class_version > 1:
                state["class_version"] = class_version
            # A copy of exactly its size: the encoder's own buffers, kept alive by the thousand, cost
            # several times the encoding (see `_kept`).
            stored.append(
                _frozen(
                    StoredEvent,
                    {
                        "originator_id": originator_id,
                        "originator_version": version,
                        "topic": topic,
                        "state": _kept(encode(state)),
                    },
                )
            )
        return stored

    def _pretyped(self, pretyped: dict[type, bool], value: object) -> bool:
        """Whether the codec encodes `value` as its registered typed form (asked of the codec itself
        once for each type)."""
        kind = type(value)
        if kind not in pretyped:
            transcoder = self.mapper.transcoder
            registered = kind in getattr(transcoder, "types", {})
            pretyped[kind] = registered and transcoder.encode([value]) == transcoder.encode(
                [transcoder._encode_obj(value)]
            )
        return pretyped[kind]

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


def _kept(encoded: bytes) -> bytes:
    """`encoded` copied into a bytes object of its own size, the encoder's buffer freed at once.

    orjson writes into a buffer of at least a kilobyte and then shrinks it; a save that keeps
    100,000 of those alive until the insert pays 4-7 µs an event for them (the allocator's growth,
    measured with a loan's 605-byte state), where keeping an exact copy and letting the buffer go
    (the next encoding reuses it) pays 0.5-0.8 µs."""
    return bytes(memoryview(encoded))


def _frozen(cls: type[Any], fields: dict[str, Any]) -> Any:
    """An instance of the frozen dataclass `cls` with these fields (all of them, in their order),
    made as the library rebuilds its events: a frozen dataclass's `__init__` sets each field
    through `object.__setattr__`, and a loan tape's save makes 100,000 stored events."""
    made = object.__new__(cls)
    object.__setattr__(made, "__dict__", fields)
    return made


class _Recordings(Sequence[Recording[UUID]]):
    """The recordings of a bulk save, each made when it is asked for. The pipeline asks for the
    last one (the save's position) and for how many there are; a loan tape's 100,000, made all at
    once, would be 400,000 objects (8% of its import), all freed together when the command ends: a
    stall of every other request of the process."""

    def __init__(self, events: list[DomainEvent], stored: list[StoredEvent], ids: Sequence[int]) -> None:
        self._events, self._stored, self._ids = events, stored, ids

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        stored = self._stored[index]
        notification = _frozen(Notification, {**vars(stored), "id": self._ids[index]})
        return _frozen(Recording, {"domain_event": self._events[index], "notification": notification})
