"""The application service's infrastructure: store, caching, snapshots, retries, look-ups."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording

from ledger import access
from ledger.actors import Actor, ActorAsDict
from ledger.calendar import Clock, DateAsISO, check_not_future, parse_date, today_in_china
from ledger.domain import Claim, Loan, Party, Scheme
from ledger.domain.request import Request
from ledger.errors import (
    IdempotencyConflict,
    InvalidAmount,
    InvalidRequest,
    UnknownClaim,
    UnknownLoan,
    UnknownParty,
    UnknownScheme,
    VersionConflict,
)
from ledger.ids import (
    NAMESPACE,
    check_reference,
    claim_uuid,
    loan_uuid,
    parse_claim_id,
    party_uuid,
    scheme_uuid,
)
from ledger.money import AMOUNT_FEN_MAX, Money, format_fen
from ledger.service.positions import position_of
from ledger.text import character_problem, shown

log = logging.getLogger(__name__)

COMMAND_ATTEMPTS_MAX = 8
CONFLICT_BACKOFF_SECONDS_MAX = 0.005
SNAPSHOT_INTERVAL_EVENTS = 100
CACHED_AFTER_SAVE_MAX = 4  # a save of more aggregates than this (a loan tape) leaves the cache as is
# After another process is seen writing, commands fast-forward every cached aggregate they read for
# this long, rather than trusting the cache and having their saves refused.
OTHER_WRITERS_SECONDS = 5.0
DEFAULT_KEY_PEPPER = b"riskpool-ledger: set RISKPOOL_KEY_PEPPER in production"


@dataclass(frozen=True)
class Receipt:
    """What a command returns: the log position it wrote and the ids of what it recorded.

    `replayed` is true when an idempotency key had already recorded this very request: the
    receipt is the original one and nothing new was recorded.
    """

    position: int = 0
    fact_id: str | None = None
    claim_id: str | None = None
    status: str | None = None
    tripped: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    replayed: bool = False

    def stored(self) -> dict[str, Any]:
        return {
            "fact_id": self.fact_id,
            "claim_id": self.claim_id,
            "status": self.status,
            "tripped": list(self.tripped),
            "details": dict(self.details),
        }

    @classmethod
    def from_stored(cls, data: Mapping[str, Any], position: int) -> Receipt:
        return cls(
            position=position,
            fact_id=data["fact_id"],
            claim_id=data["claim_id"],
            status=data["status"],
            tripped=tuple(data["tripped"]),
            details=data["details"],
            replayed=True,
        )


@dataclass(frozen=True)
class CallOptions:
    """How the caller wants one command run: idempotently, and/or only on an expected version."""

    actor: Actor | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    expected_version: int | None = None


_options: ContextVar[CallOptions | None] = ContextVar("ledger_call_options", default=None)


@dataclass
class _Attempt:
    """One attempt of a command: its number, whether it trusts the cache to be current, and the
    cached aggregates it took without copying, with the version each had when it was read."""

    number: int
    trusting: bool = False
    borrowed: dict[UUID, int] = field(default_factory=dict)


_attempt: ContextVar[_Attempt | None] = ContextVar("ledger_command_attempt", default=None)
IDEMPOTENCY_KEY_CHARS_MAX = 200


Command = Callable[[], tuple[list[Aggregate], Receipt]]


class LedgerBase(Application[UUID]):
    """Persistence and plumbing shared by every command and query."""

    name = "Ledger"
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
        self._lock = threading.RLock()
        self._others_writing_until = 0.0  # time.monotonic() until which commands fast-forward

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(ActorAsDict())

    # Writing.

    @contextmanager
    def options(self, **options: Any) -> Iterator[None]:
        """Run the commands inside with these `CallOptions` (set by the HTTP layer per request)."""
        call = CallOptions(**options)
        key = call.idempotency_key
        if key is not None:
            problem = character_problem(key) or (
                None if key.isprintable() else "holds a character that is not printable"
            )
            if problem is not None or not key or len(key) > IDEMPOTENCY_KEY_CHARS_MAX:
                raise InvalidRequest(
                    f"Idempotency-Key {shown(key)} "
                    + (problem or f"must be 1-{IDEMPOTENCY_KEY_CHARS_MAX} characters, not {len(key)}"),
                    field="Idempotency-Key",
                    limit=IDEMPOTENCY_KEY_CHARS_MAX,
                )
        token = _options.set(call)
        try:
            yield
        finally:
            _options.reset(token)

    def _check_version(self, aggregate: Aggregate, what: str) -> None:
        """Refuse with `version_conflict` when the caller expected another version (If-Match)."""
        expected = (_options.get() or CallOptions()).expected_version
        if expected is not None and aggregate.version != expected:
            raise VersionConflict(
                f"{what} is at version {aggregate.version}, not the expected {expected}",
                expected=expected,
                current=aggregate.version,
            )

    def _execute(self, command: Command) -> Receipt:
        """Run a command and save what it changed in one atomic save, retrying on conflicts.

        A command reads the aggregates it needs, validates, triggers events and returns the
        aggregates to save. A concurrent writer that saved first makes the save fail with an
        integrity error; the command then runs again on fresh state, a bounded number of times.

        Commands run one at a time in this process (the lock), so a command works on the cached
        aggregates themselves rather than on copies of them; whatever it took from the cache is
        evicted if it fails, so that a refused or conflicting command leaves no trace in memory.

        While no other process has been seen writing, the first attempt trusts the cache to be
        current instead of asking the store for newer events of every aggregate it reads (a query
        each). That costs nothing in safety: the save of an aggregate read stale is refused by the
        store (its next version exists already), and an aggregate read but not changed is checked
        for newer events just before the save. A refused trusting attempt runs again at once,
        fast-forwarding, and so do all commands for a while after (`OTHER_WRITERS_SECONDS`).
        """
        call = _options.get() or CallOptions()
        with self._lock:
            for number in range(COMMAND_ATTEMPTS_MAX):
                trusting = number == 0 and time.monotonic() >= self._others_writing_until
                attempt = _Attempt(number, trusting)
                token = _attempt.set(attempt)
                try:
                    if call.idempotency_key is not None and (replay := self._replay(call)) is not None:
                        return replay
                    aggregates, receipt = command()
                    if call.idempotency_key is not None:
                        aggregates = [*aggregates, self._request(call, receipt)]
                    tripped = tuple(
                        f"{event.breaker}:{event.party_id}"
                        for aggregate in aggregates
                        for event in aggregate.pending_events
                        if isinstance(event, Scheme.BreakerTripped)
                    )
                    try:
                        if trusting:
                            self._check_unchanged_are_current(attempt, aggregates)
                        recordings = self.save(*aggregates)
                    except IntegrityError:
                        self._forget(attempt)
                        if trusting:
                            log.info("another writer moved an aggregate read from the cache; again")
                            self._others_writing_until = time.monotonic() + OTHER_WRITERS_SECONDS
                            continue
                        log.info("optimistic concurrency conflict; running the command again")
                        time.sleep(random.uniform(0, CONFLICT_BACKOFF_SECONDS_MAX * (number + 1)))
                        continue
                except BaseException:
                    self._forget(attempt)
                    raise
                finally:
                    _attempt.reset(token)
                position = recordings[-1].notification.id if recordings else None
                return replace(receipt, position=position or 0, tripped=tripped)
        raise VersionConflict(
            f"the command conflicted with concurrent writers {COMMAND_ATTEMPTS_MAX} times",
            attempts=COMMAND_ATTEMPTS_MAX,
        )

    def save(self, *aggregates: Aggregate, **kwargs: Any) -> list[Recording[UUID]]:  # type: ignore[override]
        """`Application.save` for aggregates only (all a command saves). The library's version
        asks of every object whether it is an event or an aggregate with `typing.Protocol`
        isinstance checks, about 10 µs each: a seventh of the time of a loan-tape import."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in aggregates:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._cache_created(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _cache_created(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Put the aggregates a command has just created into the cache, as it stands after the
        save. The library leaves them out when it fast-forwards cached aggregates (it could not
        otherwise tell a stale copy from a fresh one across threads; here commands run one at a
        time and readers get copies), so the next command on a new loan or claim would rebuild it
        from the store. A loan tape's thousands of new loans stay out: they would only push the
        aggregates in use out of the cache."""
        cache = self.repository.cache
        if cache is None or len(processing_event.aggregates) > CACHED_AFTER_SAVE_MAX:
            return
        for aggregate_id, aggregate in processing_event.aggregates.items():
            try:
                cache.get(aggregate_id)
            except KeyError:
                cache.put(aggregate_id, aggregate)

    def _check_unchanged_are_current(self, attempt: _Attempt, aggregates: list[Aggregate]) -> None:
        """Refuse the save (as a conflict) if an aggregate the command read from the cache but is
        not changing has newer events in the store. (Those it changes, the store checks.)"""
        changing = {aggregate.id for aggregate in aggregates if aggregate.pending_events}
        for aggregate_id, version in attempt.borrowed.items():
            if aggregate_id not in changing and self.recorder.select_events(
                aggregate_id, gt=version, limit=1
            ):
                raise IntegrityError(f"aggregate {aggregate_id} has events newer than version {version}")

    def _forget(self, attempt: _Attempt) -> None:
        """Evict what a failed attempt took from the cache: it may hold unsaved changes."""
        if self.repository.cache is not None:
            for aggregate_id in attempt.borrowed:
                with suppress(KeyError):
                    self.repository.cache.get(aggregate_id, evict=True)

    @staticmethod
    def _retrying() -> bool:
        """Whether the running command is on its second or later attempt (after a failed save)."""
        attempt = _attempt.get()
        return attempt is not None and attempt.number > 0

    def _request_id(self, call: CallOptions) -> UUID:
        assert call.actor is not None, "an idempotent call names its actor"
        return uuid5(NAMESPACE, f"request:{call.actor.principal_id}:{call.idempotency_key}")

    def _replay(self, call: CallOptions) -> Receipt | None:
        """The original receipt if this idempotency key was used already; None if it was not."""
        try:
            request: Request = self.repository.get(self._request_id(call))
        except AggregateNotFoundError:
            return None
        if request.request_hash != call.request_hash:
            raise IdempotencyConflict(
                f"Idempotency-Key {call.idempotency_key!r} was used for a different request",
                idempotency_key=call.idempotency_key,
            )
        position = position_of(self.recorder, request.id, 1) or 0
        return Receipt.from_stored(request.receipt, position)

    def _request(self, call: CallOptions, receipt: Receipt) -> Request:
        assert call.actor is not None and call.idempotency_key is not None
        return Request._create(
            Request.Recorded,
            id=self._request_id(call),
            actor=call.actor,
            business_date=self._today(),
            principal_id=call.actor.principal_id,
            idempotency_key=call.idempotency_key,
            request_hash=call.request_hash or "",
            receipt=receipt.stored(),
        )

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

    # Checking input.

    def _today(self) -> date:
        return self.clock()

    def _day(self, on: date, field: str) -> date:
        on = parse_date(on, field=field)
        check_not_future(on, self._today(), field=field)
        return on

    @staticmethod
    def _fen(amount: Money, field: str, *, allow_zero: bool = False) -> int:
        if not isinstance(amount, Money):
            raise InvalidAmount(f"{field} must be an amount of money, not {amount!r}", field=field)
        if amount.fen < 0 or (amount.fen == 0 and not allow_zero) or amount.fen > AMOUNT_FEN_MAX:
            need = "zero or more" if allow_zero else "positive"
            raise InvalidAmount(
                f"{field} {amount} must be {need} and at most {format_fen(AMOUNT_FEN_MAX)}",
                field=field,
                value=str(amount),
            )
        return amount.fen

    # Reading aggregates.

    def _get(self, aggregate_id: UUID, missing: Exception) -> Any:
        found = self._find(aggregate_id)
        if found is None:
            raise missing
        return found

    def _find(self, aggregate_id: UUID) -> Any | None:
        """The aggregate, or None. A command gets the cached object itself (see `_execute`),
        fast-forwarded unless the command trusts the cache; any other caller gets a copy, current
        with the store, taken while no command runs."""
        attempt = _attempt.get()
        try:
            if attempt is None:
                with self._lock:
                    return self.repository.get(aggregate_id)
            aggregate = self._cached(aggregate_id) if attempt.trusting else None
            if aggregate is None:
                aggregate = self.repository.get(aggregate_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return None
        attempt.borrowed.setdefault(aggregate_id, aggregate.version)
        return aggregate

    def _cached(self, aggregate_id: UUID) -> Any | None:
        """The cached aggregate as it is, without asking the store for newer events; or None."""
        if self.repository.cache is None:
            return None
        try:
            return self.repository.cache.get(aggregate_id)
        except KeyError:
            return None

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _scheme(self, scheme_id: str) -> Scheme:
        check_reference(scheme_id, field="scheme id")
        return self._get(scheme_uuid(scheme_id), UnknownScheme(f"no scheme {scheme_id!r}"))

    def _party(self, party_id: str) -> Party:
        check_reference(party_id, field="party id")
        return self._get(party_uuid(party_id), UnknownParty(f"no party {party_id!r}"))

    def _loan(self, actor: Actor, scheme_id: str, bank_id: str, loan_ref: str) -> Loan:
        """A loan the actor may see (ledger/access.py); any other is refused as if it did not exist."""
        missing = UnknownLoan(f"no loan {bank_id}:{loan_ref} in scheme {scheme_id!r}")
        scope = access.loans(actor)
        if not access.may_see_bank(actor, bank_id):
            raise missing
        check_reference(bank_id, field="bank id")
        check_reference(loan_ref, field="loan reference")
        loan: Loan = self._get(loan_uuid(scheme_id, bank_id, loan_ref), missing)
        if not scope.admits(loan.bank_id, loan.cover_party_id):
            raise missing
        return loan

    def _claim(self, actor: Actor, scheme_id: str, claim_id: str) -> Claim:
        """A claim the actor may see (ledger/access.py); any other is refused as if it did not exist."""
        ref = parse_claim_id(claim_id)
        missing = UnknownClaim(f"no claim {claim_id!r} in scheme {scheme_id!r}")
        if not access.may_see_bank(actor, ref.bank_id):
            raise missing
        claim: Claim = self._get(claim_uuid(scheme_id, claim_id), missing)
        if not access.claims(actor).admits(claim.bank_id, claim.allocations):
            raise missing
        return claim
