"""The application service's infrastructure: store, caching, snapshots, retries, look-ups."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from ledger.actors import Actor, ActorAsDict, Role
from ledger.calendar import Clock, DateAsISO, check_not_future, parse_date, today_in_china
from ledger.domain import Claim, Loan, Party, Scheme
from ledger.errors import (
    InvalidAmount,
    UnknownClaim,
    UnknownLoan,
    UnknownParty,
    UnknownScheme,
    VersionConflict,
)
from ledger.ids import check_reference, claim_uuid, loan_uuid, parse_claim_id, party_uuid, scheme_uuid
from ledger.money import AMOUNT_FEN_MAX, Money, format_fen

log = logging.getLogger(__name__)

COMMAND_ATTEMPTS_MAX = 8
CONFLICT_BACKOFF_SECONDS_MAX = 0.005
SNAPSHOT_INTERVAL_EVENTS = 100


@dataclass(frozen=True)
class Receipt:
    """What a command returns: the log position it wrote and the ids of what it recorded."""

    position: int = 0
    fact_id: str | None = None
    claim_id: str | None = None
    status: str | None = None
    tripped: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)


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

    def __init__(self, env: Mapping[str, str] | None = None, *, clock: Clock = today_in_china) -> None:
        super().__init__(env=dict(env or {"PERSISTENCE_MODULE": "eventsourcing.popo"}))
        self.clock = clock
        self._lock = threading.RLock()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(ActorAsDict())

    # Writing.

    def _execute(self, command: Command) -> Receipt:
        """Run a command and save what it changed in one atomic save, retrying on conflicts.

        A command reads the aggregates it needs, validates, triggers events and returns the
        aggregates to save. A concurrent writer that saved first makes the save fail with an
        integrity error; the command then runs again on fresh state, a bounded number of times.
        """
        with self._lock:
            for attempt in range(COMMAND_ATTEMPTS_MAX):
                aggregates, receipt = command()
                tripped = tuple(
                    f"{event.breaker}:{event.party_id}"
                    for aggregate in aggregates
                    for event in aggregate.pending_events
                    if isinstance(event, Scheme.BreakerTripped)
                )
                try:
                    recordings = self.save(*aggregates)
                except IntegrityError:
                    log.info("optimistic concurrency conflict; running the command again")
                    time.sleep(random.uniform(0, CONFLICT_BACKOFF_SECONDS_MAX * (attempt + 1)))
                    continue
                position = recordings[-1].notification.id if recordings else None
                return replace(receipt, position=position or 0, tripped=tripped)
        raise VersionConflict(
            f"the command conflicted with concurrent writers {COMMAND_ATTEMPTS_MAX} times",
            attempts=COMMAND_ATTEMPTS_MAX,
        )

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # Snapshots are taken after the events are committed. A failure here must not make a
        # recorded command look refused: the events are stored; log it and carry on.
        try:
            super()._take_snapshots(processing_event)
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
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing from None

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _scheme(self, scheme_id: str) -> Scheme:
        check_reference(scheme_id, field="scheme id")
        return self._get(scheme_uuid(scheme_id), UnknownScheme(f"no scheme {scheme_id!r}"))

    def _party(self, party_id: str) -> Party:
        check_reference(party_id, field="party id")
        return self._get(party_uuid(party_id), UnknownParty(f"no party {party_id!r}"))

    def _loan(self, actor: Actor, scheme_id: str, bank_id: str, loan_ref: str) -> Loan:
        """A loan the actor may see; another bank's loan is refused as if it did not exist."""
        missing = UnknownLoan(f"no loan {bank_id}:{loan_ref} in scheme {scheme_id!r}")
        if not _may_see_bank(actor, bank_id):
            raise missing
        check_reference(bank_id, field="bank id")
        check_reference(loan_ref, field="loan reference")
        loan: Loan = self._get(loan_uuid(scheme_id, bank_id, loan_ref), missing)
        if actor.role in (Role.GUARANTOR, Role.INSURER) and loan.cover_party_id != actor.party_id:
            raise missing
        return loan

    def _claim(self, actor: Actor, scheme_id: str, claim_id: str) -> Claim:
        ref = parse_claim_id(claim_id)
        missing = UnknownClaim(f"no claim {claim_id!r} in scheme {scheme_id!r}")
        if not _may_see_bank(actor, ref.bank_id):
            raise missing
        claim: Claim = self._get(claim_uuid(scheme_id, claim_id), missing)
        # Guarantors, insurers and funds see the claims they share in, once allocated.
        if (
            actor.role in (Role.GUARANTOR, Role.INSURER, Role.GOVERNMENT)
            and actor.party_id not in claim.allocations
        ):
            raise missing
        return claim


def _may_see_bank(actor: Actor, bank_id: str) -> bool:
    return actor.role is not Role.BANK or actor.party_id == bank_id
